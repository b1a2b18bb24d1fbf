/* replay: the trace through the reference TLB model (trace/replay.h), compared
 * with the live counts of the summary chunk. */
#include <inttypes.h>
#include <stdio.h>

#include "tool.h"
#include "trace/replay.h"

static bool feed(void *ctx, const struct trace_record *r)
{
    replay_event(ctx, r);
    return true;
}

int cmd_replay(struct trace_reader *rd, const struct tool_opts *o)
{
    const struct trace_header *h = trace_reader_header(rd);
    /* The model needs every lookup and fill: a filtered or hit-sampled trace
     * leaves holes in its LRU state, so a comparison would mean nothing. */
    if (!trace_reader_complete(rd)) {
        tool_error("%s: cannot replay: no summary chunk (live counts unknown)", o->file);
        return EXIT_BAD;
    }
    if (h->flags & TRACE_HF_FILTERED) {
        tool_error("%s: cannot replay: the trace was filtered (record without -trace-filter restrictions)", o->file);
        return EXIT_BAD;
    }
    if (h->hit_sample != 1) {
        tool_error("%s: cannot replay: L1 hits were %s (record with -trace-filter hits=all)", o->file,
                   h->hit_sample == 0 ? "only counted" : "sampled");
        return EXIT_BAD;
    }
    if (o->has_filter) {
        tool_error("replay takes no --filter: it needs every record");
        return EXIT_BAD;
    }
    const struct trace_geometry_entry *g = trace_reader_geometry(rd);
    if (!(h->flags & TRACE_HF_EXACT_MODEL))
        printf("note: the live TLB ran in fast mode (fast-cache hits do not update LRU), evictions may differ\n");
    if (h->preset_id == TRACE_PRESET_ZEN2)
        printf("note: zen2 has separate L2 I and D TLBs; the model has one STLB, so counts may differ\n");

    char err[300];
    struct replay *rp = replay_new(g, err, sizeof err);
    if (!rp) {
        tool_error("%s: %s", o->file, err);
        return EXIT_BAD;
    }
    replay_set_header_flags(rp, h->flags);
    if (!tool_for_each(rd, o, feed, rp)) {
        replay_free(rp);
        return EXIT_BAD;
    }
    size_t n;
    const struct trace_summary_entry *s = trace_reader_summary(rd, &n);
    size_t bad = replay_compare(rp, s, n, stdout);
    for (uint32_t vp = 0; vp < replay_vp_count(rp); vp++) {
        struct replay_counts c = replay_vp_counts(rp, vp);
        printf("vp %" PRIu32 ": l1_hit %" PRIu64 " stlb_hit %" PRIu64 " miss %" PRIu64 " fill %" PRIu64
               " evict %" PRIu64 "\n", vp, c.l1_hits, c.stlb_hits, c.misses, c.fills, c.evictions);
    }
    printf("replay: %s (%zu difference%s)\n", bad ? "MISMATCH" : "live counts reproduced", bad, bad == 1 ? "" : "s");
    replay_free(rp);
    return bad ? EXIT_MISMATCH : EXIT_OK;
}
