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

#include <stdbool.h>
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
    uint64_t refill_misses[INV_CAUSES]; /* L1 misses on a page invalidated by this cause lately */
    uint64_t refill_walks;              /* ... of which missed the STLB too and walked */
};

/* Refill misses ("collateral damage", TLB-MODEL.md A-6, B-(b) "post-flush refill
 * misses"): an L1 lookup that misses on a page whose entry an invalidation removed at
 * most REFILL_WINDOW_INSNS instructions earlier on this VP.  N = 10000 instructions:
 * ~3 us at 3 GHz and IPC 1, the span in which a flushed working set is refilled in
 * the shootdown studies of TLB-MODEL.md B-3.  Each removed entry counts at most once.
 * The removed pages are remembered in a direct-mapped table of REFILL_SLOTS slots
 * (hash of page and size): when a flush removes more entries than that, colliding
 * pages overwrite each other, so the count is a lower bound after big flushes.
 * Evictions (capacity) and the D-bit refresh are not invalidations and never count. */
#define REFILL_WINDOW_INSNS 10000
#define REFILL_SLOTS 1024
struct refill_slot {
    uint64_t page;          /* linear page base of the removed entry | 1 (0 = empty) */
    uint64_t icount;        /* instructions retired when it was removed */
    uint16_t pcid;
    uint8_t size;           /* enum pg_size of the removed entry */
    uint8_t cause;          /* enum inv_cause */
    uint8_t global;
};

/* Per-CR3 statistics (TLB-MODEL.md A-6 "per PCID/CR3"): the page-table root loaded in
 * CR3 (bits 12-45), the instructions retired while it was loaded and the misses
 * taken under it, for MPKI per address space.  The first CR3_STATS_MAX roots get
 * their own block; later roots share the last one ("other"). */
#define CR3_STATS_MAX 64
struct cr3_counters {
    uint64_t root;
    uint64_t instructions;
    uint64_t l1_misses[3], stlb_hits[3], walks[3];
    uint64_t walk_cycles;
    uint64_t refill_misses;
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

    struct refill_slot refill[REFILL_SLOTS];
    struct cr3_counters cr3[CR3_STATS_MAX + 1];  /* [CR3_STATS_MAX] = "other" */
    unsigned n_cr3;
    struct cr3_counters *cur_cr3;       /* the root in CR3 now */
    uint64_t cr3_since;                 /* instruction count when it was loaded */
};

struct mmu_counters *stats_pcid(struct mmu_stats *s, uint16_t pcid);
void stats_free(struct mmu_stats *s);
/* Both the VP total and the current PCID. */
#define STAT_ADD(s, field, n) do { (s)->vp.field += (n); (s)->cur->field += (n); } while (0)
void stats_walk_hist(struct mmu_stats *s, uint32_t cycles);
/* CR3 now holds root: charge the instructions since the last switch to the old root. */
void stats_cr3_switch(struct mmu_stats *s, uint64_t root, uint64_t icount);
/* Refill bookkeeping: an invalidation removed an entry; an L1 miss on la (pcid).
 * stats_refill_miss returns the cause (>= 0) when it is a refill miss, else -1. */
void stats_refill_note(struct mmu_stats *s, uint64_t vbase, unsigned size, uint16_t pcid, bool global,
                       unsigned cause, uint64_t icount);
int stats_refill_miss(struct mmu_stats *s, uint64_t la, uint16_t pcid, uint64_t icount);

#endif
