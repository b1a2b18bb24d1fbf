/* The trace writer: count, filter, buffer, compress a chunk when full. */
#include "trace/trace_writer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* zlib level 6: the default; deterministic output for a given zlib build. */
#define TRACE_ZLIB_LEVEL 6

struct vp_state {
    uint64_t seen[TRACE_EV_COUNT];
    uint64_t logged[TRACE_EV_COUNT];
    uint64_t cr3_root;                  /* for cr3= filters, from CTX_MARKER / INV_CR3 */
    uint64_t hits_passed;               /* L1 hits that passed the filter, for 1-in-N */
};

struct trace_writer {
    FILE *f;
    char *path, *tmp_path;
    struct trace_filter filter;
    uint32_t chunk_records;

    uint8_t *buf;                       /* chunk_records * 32 raw bytes */
    uint32_t n_buf;
    uint64_t first_cycle;
    uint16_t chunk_vp;                  /* vp of all buffered records, or mixed */
    uint8_t *zbuf;
    uLong zcap;

    struct vp_state *vps;
    uint32_t n_vps;
    uint64_t total_logged;

    bool failed;
    char err[256];

    struct trace_writer *next_open;     /* list walked by trace_flush_on_exit */
};

static struct trace_writer *open_writers;
static bool atexit_registered;

static void set_err(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static void writer_fail(struct trace_writer *w, const char *what)
{
    if (!w->failed)
        snprintf(w->err, sizeof w->err, "trace %s: %s: %s", w->path, what, strerror(errno));
    w->failed = true;
}

static void write_all(struct trace_writer *w, const void *p, size_t n)
{
    if (!w->failed && fwrite(p, 1, n, w->f) != n)
        writer_fail(w, "write failed");
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void free_writer(struct trace_writer *w)
{
    if (w->f)
        fclose(w->f);
    free(w->path);
    free(w->tmp_path);
    free(w->buf);
    free(w->zbuf);
    free(w->vps);
    free(w);
}

static void write_header(struct trace_writer *w, const struct trace_header_info *info)
{
    char filter_text[1024];
    trace_filter_format(&w->filter, filter_text, sizeof filter_text);

    const char *preset = info->preset_name ? info->preset_name : trace_preset_name(info->preset_id);
    char text[2048];
    int tlen = snprintf(text, sizeof text, "preset=%s\nfilter=%s\nbuild=%s\n", preset, filter_text,
                        info->build_text ? info->build_text : "");
    if (tlen < 0 || (size_t)tlen >= sizeof text)
        tlen = (int)strlen(text);

    struct trace_header h = {
        .version = TRACE_VERSION,
        .header_size = TRACE_HEADER_SIZE,
        .ext_len = (uint32_t)(TRACE_GEOMETRY_SIZE + tlen),
        .event_mask = w->filter.events,
        .seed = info->seed,
        .filter_hash = filter_text[0] ? trace_fnv1a64(filter_text, strlen(filter_text)) : 0,
        .build_id = info->build_id,
        .core_khz = info->core_khz,
        .vp_count = info->vp_count,
        .preset_id = info->preset_id,
        .flags = (uint8_t)((info->exact_model ? TRACE_HF_EXACT_MODEL : 0) |
                           (info->inv_counts ? TRACE_HF_INV_COUNTS : 0) |
                           (trace_filter_restricts(&w->filter) ? TRACE_HF_FILTERED : 0)),
        .l1d_entries = info->geom[TRACE_ST_L1D_4K].entries,
        .l1d_ways = (uint8_t)(info->geom[TRACE_ST_L1D_4K].ways > 255 ? 255 : info->geom[TRACE_ST_L1D_4K].ways),
        .stlb_ways = (uint8_t)(info->geom[TRACE_ST_STLB].ways > 255 ? 255 : info->geom[TRACE_ST_STLB].ways),
        .stlb_entries = info->geom[TRACE_ST_STLB].entries,
        .hit_sample = (uint16_t)w->filter.hit_sample,
    };
    if (w->filter.hit_sample == 0)      /* hits are only counted: none can appear */
        h.event_mask &= ~(1ull << TRACE_EV_LOOKUP_L1_HIT);

    uint8_t hb[TRACE_HEADER_SIZE], gb[TRACE_GEOMETRY_SIZE];
    trace_encode_header(hb, &h);
    trace_encode_geometry(gb, info->geom);
    write_all(w, hb, sizeof hb);
    write_all(w, gb, sizeof gb);
    write_all(w, text, (size_t)tlen);
}

struct trace_writer *trace_open(const char *path, const struct trace_header_info *info,
                                const struct trace_filter *filter, char *err, size_t errlen)
{
    struct trace_writer *w = calloc(1, sizeof *w);
    if (!w) {
        set_err(err, errlen, "trace %s: out of memory", path);
        return NULL;
    }
    if (filter)
        w->filter = *filter;
    else
        trace_filter_default(&w->filter);
    w->chunk_records = info->chunk_records ? info->chunk_records : TRACE_DEFAULT_CHUNK_RECORDS;
    if (w->chunk_records > TRACE_CHUNK_MAX_RECORDS)
        w->chunk_records = TRACE_CHUNK_MAX_RECORDS;
    w->zcap = compressBound((uLong)w->chunk_records * TRACE_RECORD_SIZE);
    w->path = dup_str(path);
    w->tmp_path = malloc(strlen(path) + 5);
    w->buf = malloc((size_t)w->chunk_records * TRACE_RECORD_SIZE);
    w->zbuf = malloc(w->zcap);
    w->n_vps = info->vp_count ? info->vp_count : 1;
    w->vps = calloc(w->n_vps, sizeof *w->vps);
    if (!w->path || !w->tmp_path || !w->buf || !w->zbuf || !w->vps) {
        set_err(err, errlen, "trace %s: out of memory", path);
        free_writer(w);
        return NULL;
    }
    strcpy(w->tmp_path, path);
    strcat(w->tmp_path, ".tmp");

    w->f = fopen(w->tmp_path, "wb");
    if (!w->f) {
        set_err(err, errlen, "trace %s: cannot create: %s", w->tmp_path, strerror(errno));
        free_writer(w);
        return NULL;
    }
    write_header(w, info);
    if (w->failed) {
        set_err(err, errlen, "%s", w->err);
        remove(w->tmp_path);
        free_writer(w);
        return NULL;
    }

    w->next_open = open_writers;
    open_writers = w;
    if (!atexit_registered) {
        atexit(trace_flush_on_exit);
        atexit_registered = true;
    }
    return w;
}

static void write_chunk(struct trace_writer *w, const uint8_t *raw, uint32_t n_entries,
                        uint64_t first_cycle, uint16_t vp, uint16_t kind)
{
    uLongf zlen = w->zcap;
    uLong raw_len = (uLong)n_entries * TRACE_RECORD_SIZE;
    uint8_t *z = w->zbuf;
    uint8_t *big = NULL;
    if (compressBound(raw_len) > w->zcap) {     /* only the summary can be larger */
        zlen = compressBound(raw_len);
        z = big = malloc(zlen);
        if (!z) {
            errno = ENOMEM;
            writer_fail(w, "out of memory");
            return;
        }
    }
    if (compress2(z, &zlen, raw, raw_len, TRACE_ZLIB_LEVEL) != Z_OK) {
        errno = EIO;
        writer_fail(w, "zlib compression failed");
        free(big);
        return;
    }
    struct trace_chunk_header ch = {
        .compressed_len = (uint32_t)zlen,
        .raw_len = (uint32_t)raw_len,
        .n_records = n_entries,
        .first_cycle = first_cycle,
        .vp = vp,
        .kind = kind,
    };
    uint8_t hb[TRACE_CHUNK_HEADER_SIZE];
    trace_encode_chunk_header(hb, &ch);
    write_all(w, hb, sizeof hb);
    write_all(w, z, zlen);
    free(big);
}

static void flush_records(struct trace_writer *w)
{
    if (w->n_buf == 0)
        return;
    write_chunk(w, w->buf, w->n_buf, w->first_cycle, w->chunk_vp, TRACE_CHUNK_RECORDS);
    w->n_buf = 0;
}

static bool ensure_vp(struct trace_writer *w, uint16_t vp)
{
    if (vp < w->n_vps)
        return true;
    uint32_t n = (uint32_t)vp + 1;
    struct vp_state *v = realloc(w->vps, n * sizeof *v);
    if (!v) {
        errno = ENOMEM;
        writer_fail(w, "out of memory");
        return false;
    }
    memset(v + w->n_vps, 0, (n - w->n_vps) * sizeof *v);
    w->vps = v;
    w->n_vps = n;
    return true;
}

void trace_emit(struct trace_writer *w, const struct trace_record *r)
{
    if (!w || r->type >= TRACE_EV_COUNT || !ensure_vp(w, r->vp))
        return;
    struct vp_state *v = &w->vps[r->vp];
    v->seen[r->type]++;
    if (r->type == TRACE_EV_CTX_MARKER || r->type == TRACE_EV_INV_CR3 || r->type == TRACE_EV_INV_CR3_NOFLUSH)
        v->cr3_root = r->aux & TRACE_CR3_ROOT_MASK;

    if (r->type == TRACE_EV_LOOKUP_L1_HIT && w->filter.hit_sample == 0)
        return;
    if (!trace_filter_match(&w->filter, r, v->cr3_root))
        return;
    /* Sampling after filtering: "1 in N of the hits I asked for". */
    if (r->type == TRACE_EV_LOOKUP_L1_HIT && (v->hits_passed++ % w->filter.hit_sample) != 0)
        return;
    if (w->failed)
        return;

    if (w->n_buf == 0) {
        w->first_cycle = r->cycle;
        w->chunk_vp = r->vp;
    } else if (w->chunk_vp != r->vp) {
        w->chunk_vp = TRACE_CHUNK_VP_MIXED;
    }
    trace_encode_record(w->buf + (size_t)w->n_buf * TRACE_RECORD_SIZE, r);
    v->logged[r->type]++;
    w->total_logged++;
    if (++w->n_buf == w->chunk_records)
        flush_records(w);
}

void trace_count(struct trace_writer *w, uint16_t vp, unsigned type, uint64_t n)
{
    if (!w || type >= TRACE_EV_COUNT || !ensure_vp(w, vp))
        return;
    w->vps[vp].seen[type] += n;
}

bool trace_logs_hits(const struct trace_writer *w)
{
    return w && w->filter.hit_sample != 0;
}

uint64_t trace_logged(const struct trace_writer *w)
{
    return w ? w->total_logged : 0;
}

static void write_summary(struct trace_writer *w)
{
    uint32_t n = 0;
    for (uint32_t vp = 0; vp < w->n_vps; vp++)
        for (unsigned t = 0; t < TRACE_EV_COUNT; t++)
            n += w->vps[vp].seen[t] != 0;
    uint8_t *raw = malloc(n ? (size_t)n * TRACE_SUMMARY_ENTRY_SIZE : 1);
    if (!raw) {
        errno = ENOMEM;
        writer_fail(w, "out of memory");
        return;
    }
    uint32_t i = 0;
    for (uint32_t vp = 0; vp < w->n_vps; vp++) {
        for (unsigned t = 0; t < TRACE_EV_COUNT; t++) {
            if (!w->vps[vp].seen[t])
                continue;
            struct trace_summary_entry e = {
                .seen = w->vps[vp].seen[t], .logged = w->vps[vp].logged[t],
                .vp = (uint16_t)vp, .type = (uint8_t)t,
            };
            trace_encode_summary_entry(raw + (size_t)i++ * TRACE_SUMMARY_ENTRY_SIZE, &e);
        }
    }
    write_chunk(w, raw, n, 0, TRACE_CHUNK_VP_MIXED, TRACE_CHUNK_SUMMARY);
    free(raw);
}

bool trace_close_ex(struct trace_writer *w, char *err, size_t errlen)
{
    if (!w)
        return true;
    for (struct trace_writer **pp = &open_writers; *pp; pp = &(*pp)->next_open) {
        if (*pp == w) {
            *pp = w->next_open;
            break;
        }
    }
    flush_records(w);
    write_summary(w);
    if (!w->failed && fflush(w->f) != 0)
        writer_fail(w, "write failed");
    if (fclose(w->f) != 0 && !w->failed)
        writer_fail(w, "close failed");
    w->f = NULL;
    if (!w->failed && rename(w->tmp_path, w->path) != 0)
        writer_fail(w, "rename failed");
    bool ok = !w->failed;
    if (!ok)
        set_err(err, errlen, "%s", w->err);
    free_writer(w);
    return ok;
}

bool trace_close(struct trace_writer *w)
{
    char err[300];
    if (trace_close_ex(w, err, sizeof err))
        return true;
    fprintf(stderr, "hvemu: %s\n", err);
    return false;
}

void trace_flush_on_exit(void)
{
    while (open_writers)
        trace_close(open_writers);
}
