/* TLB presets: every size, associativity and latency of the modelled TLB lives here,
 * each with its source (TLB-MODEL.md B-1.1, B-1.2, B-1.3 and table (a); [V] verified
 * in the cited source, [S] secondary, [U] unverified).
 *
 * Cost model (TLB-MODEL.md Part A-5), in added cycles per lookup:
 *   L1 hit                0
 *   L1 miss, L2 hit       l2_latency
 *   L2 miss (walk)        l2_latency + psc_latency + reads * pte_latency
 * where `reads` are the page-table levels not skipped by a PSC hit.  pte_latency is
 * the memory-latency parameter: one PTE read assumed to hit the L2 data cache (a
 * data-cache model may replace it later).  Skylake: PDE-cache hit = 8 + 1 + 12 = 21
 * cycles, close to the ~20 measured on Haswell by mynavi RMMA [V]; a cold 4-level
 * walk = 8 + 1 + 48 = 57.
 */
#include "mmu/tlb.h"

#include <string.h>

#define S4K  (1u << PG_4K)
#define S2M  (1u << PG_2M)
#define S1G  (1u << PG_1G)
#define FA   1           /* one set: fully associative */

/* ChampSim PTW defaults: PSCL4 1x4, PSCL3 2x4, PSCL2 4x8 [V] (TLB-MODEL.md B-1.2). */
#define CHAMPSIM_PSC { .sets = { 1, 2, 4 }, .ways = { 4, 4, 8 } }

static const struct tlb_preset skylake = {
    .name = "skylake",
    .source = "Intel Opt. Ref. Manual 248966 Table 2-15 [V]; STLB-1G 16x4 [U]",
    .verified = true,
    .narrays = 7,
    .arrays = {
        /* name       level   sides          sizes      sets ways  repl          source */
        { "itlb_4k",  LVL_L1, SIDE_I,        S4K,        16,  8, REPL_LRU },  /* 128 8-way [V] */
        { "itlb_2m",  LVL_L1, SIDE_I,        S2M,        FA,  8, REPL_LRU },  /* 8 per thread FA [V]; 1G smashed to 2M (no 1G ITLB) */
        { "dtlb_4k",  LVL_L1, SIDE_D,        S4K,        16,  4, REPL_LRU },  /* 64 4-way [V] */
        { "dtlb_2m",  LVL_L1, SIDE_D,        S2M,         8,  4, REPL_LRU },  /* 32 4-way [V] */
        { "dtlb_1g",  LVL_L1, SIDE_D,        S1G,        FA,  4, REPL_LRU },  /* 4 4-way = FA [V] */
        { "stlb",     LVL_L2, SIDE_I|SIDE_D, S4K|S2M,   128, 12, REPL_LRU },  /* 1536 12-way [V] */
        { "stlb_1g",  LVL_L2, SIDE_I|SIDE_D, S1G,         4,  4, REPL_LRU },  /* 16 4-way [U] */
    },
    .psc = CHAMPSIM_PSC,
    .l2_latency = 8,     /* STLB hit +8, L1-miss penalty 9: SKL OM [V], ChampSim STLB @8 [V] */
    .psc_latency = 1,    /* table (a): PSC access 1 cycle [V ChampSim/Virtuoso] */
    .pte_latency = 12,   /* SKL L2 data cache 12 cycles [V, OM table] */
};

static const struct tlb_preset goldencove = {
    .name = "goldencove",
    .source = "H&P CAQA 7e notes on i9-12900 [V, secondary]; L2 latency [U]",
    .verified = true,
    .narrays = 6,
    .arrays = {
        { "itlb_4k",  LVL_L1, SIDE_I,        S4K,        32,  8, REPL_PLRU }, /* 256 8-way [V] */
        { "itlb_2m",  LVL_L1, SIDE_I,        S2M,        FA, 32, REPL_PLRU }, /* 32; organisation not given: FA [U] */
        { "dtlb_4k",  LVL_L1, SIDE_D,        S4K,        16,  6, REPL_PLRU }, /* 96 6-way [V] */
        { "dtlb_2m",  LVL_L1, SIDE_D,        S2M,         8,  4, REPL_PLRU }, /* 32 4-way [V] */
        { "dtlb_1g",  LVL_L1, SIDE_D,        S1G,        FA,  8, REPL_PLRU }, /* 8 8-way = FA [V] */
        { "stlb",     LVL_L2, SIDE_I|SIDE_D, S4K|S2M|S1G,128, 16, REPL_PLRU }, /* 2048 16-way, PLRU [V] */
    },
    .psc = CHAMPSIM_PSC,
    .l2_latency = 8,     /* 8-cycle STLB access, 9-cycle total L1-miss penalty [V CAQA] */
    .psc_latency = 1,
    .pte_latency = 15,   /* GLC L2 data cache ~15 cycles [U] */
};

/* Zen 2's L2 DTLB is 2048 entries 12-way: 2048/12 is not an integer number of sets.
 * Approximation: 171 sets x 12 ways (2052 entries) indexed modulo 171.  The real array
 * is skewed with ways reserved per page size (B-1.1, Zen 1 note); not modelled.  PDEs
 * that Zen caches in the L2 TLB are modelled as ChampSim PSCs instead. */
static const struct tlb_preset zen2 = {
    .name = "zen2",
    .source = "WikiChip Zen 2 (AMD SOG) [V]; 7-cpu.com Zen2 [V]; L2 latency [S]",
    .verified = true,
    .narrays = 4,
    .arrays = {
        { "itlb",     LVL_L1, SIDE_I, S4K|S2M|S1G,  FA, 64, REPL_LRU },  /* 64 FA all sizes [V] */
        { "dtlb",     LVL_L1, SIDE_D, S4K|S2M|S1G,  FA, 64, REPL_LRU },  /* 64 FA all sizes [V] */
        { "l2_itlb",  LVL_L2, SIDE_I, S4K|S2M,      64,  8, REPL_LRU },  /* 512 8-way, 1G as 2M [V] */
        { "l2_dtlb",  LVL_L2, SIDE_D, S4K|S2M,     171, 12, REPL_LRU },  /* 2048 12-way, 1G smashed [V]; see above */
    },
    .psc = CHAMPSIM_PSC,
    .l2_latency = 7,     /* L1 DTLB miss, L2 hit: 7 cycles [S, 7-cpu.com Zen2] */
    .psc_latency = 1,
    .pte_latency = 12,   /* Zen 2 L2 data cache 12 cycles [S, 7-cpu.com] */
};

const struct tlb_preset *const tlb_presets[] = { &skylake, &goldencove, &zen2, NULL };

const struct tlb_preset *tlb_find_preset(const char *name)
{
    if (!name || !*name)
        return &skylake;            /* the default (TLB-MODEL.md (a)) */
    for (int i = 0; tlb_presets[i]; i++)
        if (strcmp(tlb_presets[i]->name, name) == 0)
            return tlb_presets[i];
    return NULL;
}
