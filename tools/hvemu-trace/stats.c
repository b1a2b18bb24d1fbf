/* stats: counts per type, VP and PCID, as text or JSON. The per-type and per-VP
 * numbers come from the summary chunk (the live counts, including events that
 * were only counted); the per-PCID numbers and walk latencies from the records
 * in the file (after --filter, if given). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define EVB(t) (1ull << TRACE_EV_##t)
/* Types whose pcid field is meaningful. */
static const uint64_t pcid_events = EVB(LOOKUP_L1_HIT) | EVB(LOOKUP_STLB_HIT) | EVB(MISS) | EVB(WALK_START) |
    EVB(WALK_STEP) | EVB(WALK_DONE) | EVB(FILL) | EVB(EVICT) | EVB(INV_INVLPG) | EVB(INV_INVPCID0) |
    EVB(INV_INVPCID1) | EVB(INV_CR3) | EVB(INV_CR3_NOFLUSH) | EVB(INV_CR4) | EVB(INV_PF) | EVB(CTX_MARKER);

struct acc {
    uint64_t (*pcid)[TRACE_EV_COUNT];   /* [4096] */
    uint64_t in_file[TRACE_EV_COUNT];   /* records after --filter */
    uint64_t records;
    uint64_t walks, walk_cycles, walk_faults;
};

static bool count(void *ctx, const struct trace_record *r)
{
    struct acc *a = ctx;
    a->records++;
    a->in_file[r->type]++;
    if (pcid_events & (1ull << r->type))
        a->pcid[TRACE_PF_PCID(r->pcid_flags)][r->type]++;
    if (r->type == TRACE_EV_WALK_DONE) {
        a->walks++;
        a->walk_cycles += r->latency;
        a->walk_faults += TRACE_INFO_LEVEL(r->info) == 1;
    }
    return true;
}

static void hit_policy(const struct trace_header *h, char *out, size_t n)
{
    if (h->hit_sample == 0)
        snprintf(out, n, "counted only");
    else if (h->hit_sample == 1)
        snprintf(out, n, "all logged");
    else
        snprintf(out, n, "1 in %u logged", h->hit_sample);
}

/* JSON string body: the header text is untrusted, escape everything odd. */
static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_text(FILE *out, struct trace_reader *rd, const struct tool_opts *o, const struct acc *a)
{
    const struct trace_header *h = trace_reader_header(rd);
    char preset[64], filter[512], build[256], hits[32];
    trace_reader_meta(rd, "preset", preset, sizeof preset);
    trace_reader_meta(rd, "filter", filter, sizeof filter);
    trace_reader_meta(rd, "build", build, sizeof build);
    hit_policy(h, hits, sizeof hits);
    size_t n;
    const struct trace_summary_entry *s = trace_reader_summary(rd, &n);

    fprintf(out, "trace %s: version %u, preset %s, %u VPs, %u kHz, seed %" PRIu64 ", %s model\n", o->file,
            h->version, preset[0] ? preset : trace_preset_name(h->preset_id), h->vp_count, h->core_khz, h->seed,
            (h->flags & TRACE_HF_EXACT_MODEL) ? "exact" : "fast");
    fprintf(out, "build: %s (id %016" PRIx64 ")\nfilter: %s; L1 hits %s\n", build[0] ? build : "?", h->build_id,
            filter[0] ? filter : "none", hits);
    fprintf(out, "chunks: %zu, records%s: %" PRIu64 "%s\n", trace_reader_chunk_count(rd),
            o->has_filter ? " matching --filter" : "", a->records, trace_reader_complete(rd) ? "" : " (incomplete trace)");

    fprintf(out, "\n%-18s %14s %14s\n", "event", "seen (live)", "logged");
    for (unsigned t = 0; t < TRACE_EV_COUNT; t++) {
        uint64_t seen = 0, logged = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i].type == t) {
                seen += s[i].seen;
                logged += s[i].logged;
            }
        }
        if (seen || a->in_file[t])
            fprintf(out, "%-18s %14" PRIu64 " %14" PRIu64 "\n", trace_event_name(t), seen,
                    trace_reader_complete(rd) ? logged : a->in_file[t]);
    }
    fprintf(out, "\nper VP (live counts):\n");
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || s[i].vp != s[i - 1].vp)
            fprintf(out, "%s  vp %u:", i ? "\n" : "", s[i].vp);
        fprintf(out, " %s=%" PRIu64, trace_event_name(s[i].type), s[i].seen);
    }
    if (n)
        fputc('\n', out);
    fprintf(out, "\nper PCID (logged records):\n");
    for (unsigned p = 0; p < 4096; p++) {
        bool any = false;
        for (unsigned t = 0; t < TRACE_EV_COUNT; t++) {
            if (!a->pcid[p][t])
                continue;
            if (!any)
                fprintf(out, "  pcid %u:", p);
            any = true;
            fprintf(out, " %s=%" PRIu64, trace_event_name(t), a->pcid[p][t]);
        }
        if (any)
            fputc('\n', out);
    }
    if (a->walks)
        fprintf(out, "\nwalks: %" PRIu64 " logged, %" PRIu64 " faulted, mean latency %.1f cycles\n", a->walks,
                a->walk_faults, (double)a->walk_cycles / (double)a->walks);
}

static void print_json(FILE *out, struct trace_reader *rd, const struct tool_opts *o, const struct acc *a)
{
    const struct trace_header *h = trace_reader_header(rd);
    char preset[64], filter[512], build[256];
    trace_reader_meta(rd, "preset", preset, sizeof preset);
    trace_reader_meta(rd, "filter", filter, sizeof filter);
    trace_reader_meta(rd, "build", build, sizeof build);
    size_t n;
    const struct trace_summary_entry *s = trace_reader_summary(rd, &n);

    fputs("{\n  \"file\": ", out);
    json_str(out, o->file);
    fprintf(out, ",\n  \"version\": %u,\n  \"preset\": ", h->version);
    json_str(out, preset[0] ? preset : trace_preset_name(h->preset_id));
    fprintf(out, ",\n  \"vp_count\": %u,\n  \"core_khz\": %u,\n  \"seed\": %" PRIu64 ",\n  \"build_id\": \"%016" PRIx64
            "\",\n  \"build\": ", h->vp_count, h->core_khz, h->seed, h->build_id);
    json_str(out, build);
    fputs(",\n  \"filter\": ", out);
    json_str(out, filter);
    fprintf(out, ",\n  \"hit_sample\": %u,\n  \"model\": \"%s\",\n  \"complete\": %s,\n  \"chunks\": %zu,\n"
            "  \"records\": %" PRIu64 ",\n", h->hit_sample, (h->flags & TRACE_HF_EXACT_MODEL) ? "exact" : "fast",
            trace_reader_complete(rd) ? "true" : "false", trace_reader_chunk_count(rd), a->records);

    fputs("  \"events\": {", out);
    bool first = true;
    for (unsigned t = 0; t < TRACE_EV_COUNT; t++) {
        uint64_t seen = 0, logged = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i].type == t) {
                seen += s[i].seen;
                logged += s[i].logged;
            }
        }
        fprintf(out, "%s\n    \"%s\": {\"seen\": %" PRIu64 ", \"logged\": %" PRIu64 ", \"in_file\": %" PRIu64 "}",
                first ? "" : ",", trace_event_name(t), seen, logged, a->in_file[t]);
        first = false;
    }
    fputs("\n  },\n  \"vps\": [", out);
    for (size_t i = 0; i < n; i++) {
        bool new_vp = i == 0 || s[i].vp != s[i - 1].vp;
        if (new_vp)
            fprintf(out, "%s\n    {\"vp\": %u, \"seen\": {", i ? "}}," : "", s[i].vp);
        fprintf(out, "%s\"%s\": %" PRIu64, new_vp ? "" : ", ", trace_event_name(s[i].type), s[i].seen);
    }
    if (n)
        fputs("}}", out);
    fputs("\n  ],\n  \"pcids\": [", out);
    first = true;
    for (unsigned p = 0; p < 4096; p++) {
        bool any = false;
        for (unsigned t = 0; t < TRACE_EV_COUNT; t++) {
            if (!a->pcid[p][t])
                continue;
            if (!any)
                fprintf(out, "%s\n    {\"pcid\": %u, \"records\": {", first ? "" : ",", p);
            fprintf(out, "%s\"%s\": %" PRIu64, any ? ", " : "", trace_event_name(t), a->pcid[p][t]);
            any = true;
            first = false;
        }
        if (any)
            fputs("}}", out);
    }
    fputs("\n  ],\n", out);
    fprintf(out, "  \"walks\": {\"logged\": %" PRIu64 ", \"faulted\": %" PRIu64 ", \"mean_latency\": %.3f}\n}\n",
            a->walks, a->walk_faults, a->walks ? (double)a->walk_cycles / (double)a->walks : 0.0);
}

int cmd_stats(struct trace_reader *rd, const struct tool_opts *o)
{
    struct acc a = { 0 };
    a.pcid = calloc(4096, sizeof *a.pcid);
    if (!a.pcid) {
        tool_error("out of memory");
        return EXIT_BAD;
    }
    if (!tool_for_each(rd, o, count, &a)) {
        free(a.pcid);
        return EXIT_BAD;
    }
    FILE *out = tool_open_out(o);
    if (!out) {
        free(a.pcid);
        return EXIT_BAD;
    }
    if (o->json)
        print_json(out, rd, o, &a);
    else
        print_text(out, rd, o, &a);
    free(a.pcid);
    return tool_close_out(o, out) ? EXIT_OK : EXIT_BAD;
}
