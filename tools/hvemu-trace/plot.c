/* plot: an SVG (written by hand, no library) with one row per VP: TLB misses
 * per time bin as a blue line, invalidations and flush-hypercall actions per
 * bin as red bars. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

#define W 1000
#define LEFT 80
#define RIGHT 20
#define TOP 50
#define ROW 110
#define BOTTOM 50

struct plot {
    uint64_t lo, hi;
    uint32_t n_vps;
    unsigned bins;
    uint64_t *miss, *flush;         /* [n_vps][bins] */
};

static bool is_flush(const struct trace_record *r)
{
    switch (r->type) {
    case TRACE_EV_INV_INVLPG: case TRACE_EV_INV_INVPCID0: case TRACE_EV_INV_INVPCID1:
    case TRACE_EV_INV_INVPCID2: case TRACE_EV_INV_INVPCID3: case TRACE_EV_INV_CR3:
    case TRACE_EV_INV_CR4: case TRACE_EV_INV_PF:
        return true;
    case TRACE_EV_HV_FLUSH_SPACE: case TRACE_EV_HV_FLUSH_SPACE_EX:
    case TRACE_EV_HV_FLUSH_LIST: case TRACE_EV_HV_FLUSH_LIST_EX:
        return r->info & TRACE_HV_TARGET_ACTION;    /* counted where the flush happens */
    default:
        return false;
    }
}

static bool range(void *ctx, const struct trace_record *r)
{
    struct plot *p = ctx;
    if (r->cycle < p->lo)
        p->lo = r->cycle;
    if (r->cycle > p->hi)
        p->hi = r->cycle;
    if ((uint32_t)r->vp + 1 > p->n_vps)
        p->n_vps = (uint32_t)r->vp + 1;
    return true;
}

static bool bin(void *ctx, const struct trace_record *r)
{
    struct plot *p = ctx;
    uint64_t span = p->hi - p->lo + 1;
    size_t b = (size_t)((unsigned __int128)(r->cycle - p->lo) * p->bins / span);
    size_t i = (size_t)r->vp * p->bins + b;
    if (r->type == TRACE_EV_MISS)
        p->miss[i]++;
    else if (is_flush(r))
        p->flush[i]++;
    return true;
}

static uint64_t row_max(const uint64_t *v, unsigned n)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

static void draw(FILE *out, const struct plot *p, const char *title)
{
    const double pw = W - LEFT - RIGHT, bw = pw / p->bins;
    const unsigned h = TOP + p->n_vps * ROW + BOTTOM;
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" font-family=\"sans-serif\" "
            "font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, h);
    fprintf(out, "<text x=\"%d\" y=\"20\" font-size=\"14\">TLB misses (blue) and flushes (red) over time: ", LEFT);
    for (const char *c = title; *c; c++) {     /* escape the file name */
        if (*c == '<') fputs("&lt;", out);
        else if (*c == '&') fputs("&amp;", out);
        else if (*c == '>') fputs("&gt;", out);
        else fputc(*c, out);
    }
    fputs("</text>\n", out);
    for (uint32_t vp = 0; vp < p->n_vps; vp++) {
        const uint64_t *m = p->miss + (size_t)vp * p->bins, *f = p->flush + (size_t)vp * p->bins;
        uint64_t mm = row_max(m, p->bins), fm = row_max(f, p->bins);
        double y0 = TOP + vp * ROW, base = y0 + ROW - 15;
        fprintf(out, "<text x=\"5\" y=\"%.1f\">VP %u</text>\n", y0 + ROW / 2.0, vp);
        fprintf(out, "<text x=\"5\" y=\"%.1f\" fill=\"#1f5fbf\">max %" PRIu64 "</text>\n", y0 + ROW / 2.0 + 14, mm);
        fprintf(out, "<text x=\"5\" y=\"%.1f\" fill=\"#c0392b\">max %" PRIu64 "</text>\n", y0 + ROW / 2.0 + 28, fm);
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#999\"/>\n", LEFT, base, W - RIGHT,
                base);
        for (unsigned b = 0; b < p->bins && fm; b++) {
            if (!f[b])
                continue;
            double hgt = (ROW - 25) * (double)f[b] / (double)fm;
            fprintf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#c0392b\" "
                    "fill-opacity=\"0.6\"/>\n", LEFT + b * bw, base - hgt, bw > 1.5 ? bw - 0.5 : bw, hgt);
        }
        fputs("<polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"1.2\" points=\"", out);
        for (unsigned b = 0; b < p->bins; b++) {
            double y = mm ? base - (ROW - 25) * (double)m[b] / (double)mm : base;
            fprintf(out, "%.2f,%.2f ", LEFT + (b + 0.5) * bw, y);
        }
        fputs("\"/>\n", out);
    }
    double ya = TOP + p->n_vps * ROW;
    for (int t = 0; t <= 4; t++) {
        double x = LEFT + pw * t / 4;
        uint64_t c = p->lo + (uint64_t)((double)(p->hi - p->lo) * t / 4);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n", x, ya - 10, x, ya - 5);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%" PRIu64 "</text>\n", x, ya + 8, c);
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">cycle (%u bins)</text>\n</svg>\n",
            LEFT + pw / 2, ya + 28, p->bins);
}

int cmd_plot(struct trace_reader *rd, const struct tool_opts *o)
{
    struct plot p = { .lo = UINT64_MAX, .bins = o->bins };
    if (!o->out) {
        tool_error("plot needs -o OUT.svg");
        return EXIT_BAD;
    }
    if (!tool_for_each(rd, o, range, &p))
        return EXIT_BAD;
    if (p.n_vps == 0) {     /* an empty trace still gives a valid picture */
        p.lo = p.hi = 0;
        p.n_vps = 1;
    }
    p.miss = calloc((size_t)p.n_vps * p.bins, sizeof *p.miss);
    p.flush = calloc((size_t)p.n_vps * p.bins, sizeof *p.flush);
    int rc = EXIT_BAD;
    if (!p.miss || !p.flush) {
        tool_error("out of memory");
    } else if (tool_for_each(rd, o, bin, &p)) {
        FILE *out = tool_open_out(o);
        if (out) {
            draw(out, &p, o->file);
            rc = tool_close_out(o, out) ? EXIT_OK : EXIT_BAD;
        }
    }
    free(p.miss);
    free(p.flush);
    return rc;
}
