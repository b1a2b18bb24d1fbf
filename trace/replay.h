/* Offline replay of a trace through a reference TLB model (TLB-MODEL.md A-7,
 * B-(c) 5: "replaying the trace reproduces the online hit/miss counts").
 *
 * The model is deliberately independent of mmu/ (no shared code): per VP, one
 * set-associative array per structure of the header's geometry table with the
 * table's replacement policy (true LRU, or the tree PLRU of mmu/tlb.c: free way
 * first, then the victim), entries tagged {page base, page size, original mapping
 * size, PCID, global, CR3 root}. It is driven by the events:
 *   FILL           inserts into the record's structure (a full set: its victim is
 *                  a model eviction). An L1 fill right after an STLB hit copies
 *                  that entry's root; other fills take the current root
 *   EVICT          checked against the model's last victim on that VP
 *   L1_HIT, STLB_HIT, MISS
 *                  the model classifies the lookup itself (L1 arrays of the
 *                  access side, then the STLBs, probing 4K, 2M, 1G in that order)
 *                  and updates replacement state; the recorded type is compared
 *   INV_*, HV_FLUSH_* target actions
 *                  remove entries by the rules of mmu/mmu.c (TLB-MODEL B-1.4,
 *                  HV-SPEC A-6): a page match covers the entry's original mapping
 *                  (smashed pieces go together); AddressSpace matches the fill
 *                  root or the root last loaded with the entry's PCID; info bit 7
 *                  (TRACE_INV_EVERYTHING / TRACE_HV_EVERYTHING) = all entries.
 *                  With TRACE_HF_INV_COUNTS the removed count is compared too
 *   CTX_MARKER, INV_CR3, INV_CR3_NOFLUSH
 *                  track the VP's CR3 root and each PCID's last root
 * Set index = (low 48 bits of vaddr >> page shift) mod sets, as mmu/tlb.c.
 *
 * What replay verifies, on a trace of -tlb-model exact with hits=all and no
 * filter: every recorded lookup outcome (L1 hit / STLB hit / miss), every
 * capacity victim, the number of entries each invalidation removed, and the
 * per-VP totals of L1 hits, STLB hits, misses, fills and evictions against the
 * summary (no record lost). Tested on the skylake (LRU) and goldencove (PLRU)
 * presets (tests/unit/test_trace_live.c, tests/trace/).
 * What it does not: fast-mode traces (fast-cache hits do not touch LRU state, so
 * victims may differ); filtered or hit-sampled traces (state has holes); zen2
 * (separate L2 I and D TLBs; the model has one STLB per slot); walks, latencies
 * and the paging-structure caches (no PSC fills are recorded); PAE roots with
 * CR3 bits 5-11 set (the model keeps bits 12-51 only).
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
    uint64_t inv_mismatches;                /* invalidation removed != the record's count */
};

struct replay;

/* NULL with a message if the geometry is unusable (entries not a multiple of ways, ...). */
struct replay *replay_new(const struct trace_geometry_entry geom[TRACE_STRUCT_COUNT], char *err, size_t errlen);
void replay_free(struct replay *rp);
/* The trace header's flags: with TRACE_HF_INV_COUNTS, each invalidation's removed
 * count (record latency) is compared with the model's (inv_mismatches). */
void replay_set_header_flags(struct replay *rp, unsigned flags);

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
