/* TLB counters (TLB-MODEL.md Part A-6, B-(b) summary statistics), per VP and per PCID.
 * Exactly one count per architectural lookup (gem5 #484's lesson): a lookup is an
 * L1 hit or an L1 miss; an L1 miss is an L2 hit or a walk.
 *
 * Hardware-event names in the JSON:
 *   dtlb_load_misses.*  = kind "read",  dtlb_store_misses.* = "write",
 *   itlb_misses.*       = "fetch";  .stlb_hit, .walk_completed_4k/_2m_4m/_1g,
 *   .walk_active (cycles spent walking).
 */
#ifndef HVEMU_MMU_STATS_H
#define HVEMU_MMU_STATS_H

#include <stdint.h>
#include <stdio.h>

enum inv_cause {
    INV_INVLPG, INV_INVPCID0, INV_INVPCID1, INV_INVPCID2, INV_INVPCID3,
    INV_CR3, INV_CR3_NOFLUSH, INV_CR4_ALL, INV_CR4_PCID, INV_CR0_PG,
    INV_PF, INV_HV_SPACE, INV_HV_GVA,
    INV_REFRESH,        /* a write through an entry with D=0 re-walked and replaced it (SDM 4.8) */
    INV_CAUSES
};
extern const char *const inv_cause_name[INV_CAUSES];

#define WALK_HIST_BUCKETS 8     /* [0,16) [16,32) ... [1024,inf) cycles */

struct mmu_counters {
    uint64_t accesses[3];           /* by enum mmu_access */
    uint64_t user_accesses[3];
    uint64_t l1_hits[3], l1_misses[3];
    uint64_t l2_hits[3], l2_cycles[3];
    uint64_t walks[3];              /* L2 misses: walks started */
    uint64_t walks_completed[3][3]; /* [kind][page size] */
    uint64_t walks_faulted[3];
    uint64_t walk_cycles[3];        /* walk_active */
    uint64_t pte_reads[3];
    uint64_t stale_faults[3];       /* #PF raised from a cached entry with fewer rights (SDM 4.10.4.3) */
    uint64_t dirty_rewalks;
    uint64_t fills, evictions, invalidated;     /* TLB entries, all arrays */
    uint64_t inv_ops[INV_CAUSES], inv_entries[INV_CAUSES], inv_over_entries[INV_CAUSES];
};

struct array_counters {
    uint64_t fills, evictions, invalidated;
};

struct mmu_stats {
    struct mmu_counters vp;
    struct mmu_counters *pcid[4096];    /* allocated on first use */
    struct mmu_counters *cur;           /* the current PCID's block */
    uint64_t walk_hist[WALK_HIST_BUCKETS];
    uint64_t psc_probes, psc_hits[3], psc_fills, psc_evictions, psc_invalidated;
    uint64_t over_flush_ops;            /* operations that removed more than the SDM requires */
    uint64_t under_flushes;             /* always 0 (aborts otherwise) */
    uint64_t unpaged_accesses;          /* fast-cache hits folded while paging was off */
};

struct mmu_counters *stats_pcid(struct mmu_stats *s, uint16_t pcid);
void stats_free(struct mmu_stats *s);
/* Both the VP total and the current PCID. */
#define STAT_ADD(s, field, n) do { (s)->vp.field += (n); (s)->cur->field += (n); } while (0)
void stats_walk_hist(struct mmu_stats *s, uint32_t cycles);

#endif
