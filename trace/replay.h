/* Offline replay of a trace through a reference TLB model (TLB-MODEL.md A-7,
 * B-(c) 5: "replaying the trace reproduces the online hit/miss counts").
 *
 * The model is deliberately independent of mmu/: per VP, one small
 * set-associative array per structure of the header's geometry table, true LRU,
 * entries tagged {page base, page size, PCID, global, CR3 root}. It is driven
 * by the events:
 *   FILL           inserts into the record's structure (evicting the LRU way
 *                  of a full set: that is a model eviction)
 *   EVICT          checked against the model's last victim on that VP
 *   L1_HIT, STLB_HIT, MISS
 *                  the model classifies the lookup itself (L1 arrays of the
 *                  access side, then the STLBs) and updates LRU; the recorded
 *                  type is only compared
 *   INV_*, HV_FLUSH_* target actions
 *                  remove entries by the SDM-minimum rules (TLB-MODEL B-1.4,
 *                  HV-SPEC A-6)
 *   CTX_MARKER, INV_CR3
 *                  track the VP's CR3 root (the tag used by Space/List flushes)
 * Set index = (vaddr >> page shift of the entry) mod (entries / ways); a
 * structure holding several page sizes is probed once per size.
 *
 * What replay can verify: that every recorded lookup outcome (hit in L1 /
 * hit in STLB / miss) and the number of capacity evictions follow from the
 * recorded fills and invalidations under exact-minimum invalidation and LRU;
 * that the trace holds every counted fill, miss and STLB hit (no records lost).
 * What it cannot: traces that are filtered or sample L1 hits (LRU state is
 * incomplete); PLRU or "fast"-mode approximate replacement (victims may differ);
 * a live over-flush policy (the model keeps entries the live TLB dropped);
 * walks, latencies and the paging-structure caches (PSC fills are ignored).
 */
#ifndef HVEMU_TRACE_REPLAY_H
#define HVEMU_TRACE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/trace_format.h"

struct replay_counts {
    uint64_t l1_hits, stlb_hits, misses;    /* the model's classification of lookups */
    uint64_t fills, evictions;              /* fills applied, capacity victims */
    uint64_t lookup_mismatches;             /* recorded outcome != model outcome */
    uint64_t victim_mismatches;             /* EVICT record != model victim */
    uint64_t bad_fills;                     /* fill into an absent structure / wrong page size */
};

struct replay;

/* NULL with a message if the geometry is unusable (entries not a multiple of ways, ...). */
struct replay *replay_new(const struct trace_geometry_entry geom[TRACE_STRUCT_COUNT], char *err, size_t errlen);
void replay_free(struct replay *rp);

void replay_event(struct replay *rp, const struct trace_record *r);

/* VPs seen so far (index bound for replay_vp_counts). */
uint32_t replay_vp_count(const struct replay *rp);
/* Counts of one VP (zeros for a VP never seen). */
struct replay_counts replay_vp_counts(const struct replay *rp, uint32_t vp);

/* Compare with the live counts of a summary: per VP, L1 hits, STLB hits,
 * misses, fills and evictions, plus the per-record mismatches. One line per
 * difference on out (may be NULL). Returns the number of differences. */
size_t replay_compare(const struct replay *rp, const struct trace_summary_entry *s, size_t n, FILE *out);

#endif
