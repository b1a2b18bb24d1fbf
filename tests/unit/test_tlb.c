/* The modelled TLB's geometry (TLB-MODEL.md table (a) and the presets), replacement
 * victim order (LRU and tree-PLRU, worked out by hand below), fill policy, smashing
 * of page sizes a level does not hold, and the fast-lookup cache rules. */
#include <check.h>
#include <stdlib.h>
#include "mmu/fastcache.h"
#include "mmu_test_pt.h"

/* --- geometry: copied from TLB-MODEL.md (a) / B-1.1, not from the code ----------------- */

struct geo { const char *name; unsigned entries, ways, sizes; enum tlb_level lvl; unsigned sides; };
#define K4 (1u << PG_4K)
#define M2 (1u << PG_2M)
#define G1 (1u << PG_1G)

static void check_geometry(const char *preset, const struct geo *g, unsigned n, enum tlb_repl repl)
{
    const struct tlb_preset *p = tlb_find_preset(preset);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->narrays, n);
    for (unsigned i = 0; i < n; i++) {
        const struct tlb_array_spec *a = &p->arrays[i];
        ck_assert_str_eq(a->name, g[i].name);
        ck_assert_msg(a->sets * a->ways == g[i].entries, "%s %s: %u entries", preset, a->name, a->sets * a->ways);
        ck_assert_uint_eq(a->ways, g[i].ways);
        ck_assert_uint_eq(a->sizes, g[i].sizes);
        ck_assert_uint_eq(a->level, g[i].lvl);
        ck_assert_uint_eq(a->sides, g[i].sides);
        ck_assert_uint_eq(a->repl, repl);
    }
}

START_TEST(geometry_skylake)
{
    static const struct geo g[] = {
        { "itlb_4k", 128, 8, K4, LVL_L1, SIDE_I }, { "itlb_2m", 8, 8, M2, LVL_L1, SIDE_I },
        { "dtlb_4k", 64, 4, K4, LVL_L1, SIDE_D },  { "dtlb_2m", 32, 4, M2, LVL_L1, SIDE_D },
        { "dtlb_1g", 4, 4, G1, LVL_L1, SIDE_D },
        { "stlb", 1536, 12, K4 | M2, LVL_L2, SIDE_I | SIDE_D },
        { "stlb_1g", 16, 4, G1, LVL_L2, SIDE_I | SIDE_D },
    };
    check_geometry("skylake", g, 7, REPL_LRU);
    ck_assert_ptr_eq(tlb_find_preset(NULL), tlb_find_preset("skylake"));   /* the default */
    const struct tlb_preset *p = tlb_find_preset("skylake");
    ck_assert_uint_eq(p->l2_latency, 8);
    /* ChampSim PSCs: PML4E 1x4, PDPTE 2x4, PDE 4x8 */
    ck_assert_uint_eq(p->psc.sets[0] * p->psc.ways[0], 4);
    ck_assert_uint_eq(p->psc.sets[1] * p->psc.ways[1], 8);
    ck_assert_uint_eq(p->psc.sets[2] * p->psc.ways[2], 32);
    ck_assert_uint_eq(p->psc.ways[2], 8);
}
END_TEST

START_TEST(geometry_goldencove)
{
    static const struct geo g[] = {
        { "itlb_4k", 256, 8, K4, LVL_L1, SIDE_I }, { "itlb_2m", 32, 32, M2, LVL_L1, SIDE_I },
        { "dtlb_4k", 96, 6, K4, LVL_L1, SIDE_D },  { "dtlb_2m", 32, 4, M2, LVL_L1, SIDE_D },
        { "dtlb_1g", 8, 8, G1, LVL_L1, SIDE_D },
        { "stlb", 2048, 16, K4 | M2 | G1, LVL_L2, SIDE_I | SIDE_D },
    };
    check_geometry("goldencove", g, 6, REPL_PLRU);
}
END_TEST

START_TEST(geometry_zen2)
{
    static const struct geo g[] = {
        { "itlb", 64, 64, K4 | M2 | G1, LVL_L1, SIDE_I }, { "dtlb", 64, 64, K4 | M2 | G1, LVL_L1, SIDE_D },
        { "l2_itlb", 512, 8, K4 | M2, LVL_L2, SIDE_I },
        { "l2_dtlb", 2052, 12, K4 | M2, LVL_L2, SIDE_D },   /* 2048 12-way approximated as 171 x 12 */
    };
    check_geometry("zen2", g, 4, REPL_LRU);
    ck_assert_ptr_null(tlb_find_preset("pentium"));
    const char *err = NULL;
    struct mmu m;
    ck_assert(!mmu_init(&m, NULL, 0, "pentium", TLB_MODEL_FAST, &err));
    ck_assert_ptr_nonnull(err);
}
END_TEST

/* --- replacement: fill the arrays directly ----------------------------------------------- */

static uint64_t last_evicted;
static void rec_evict(void *o, const struct tlb_array *a, const struct tlb_entry *e) { last_evicted = e->vbase; }

static void fill4k(struct tlb *t, uint64_t la)
{
    struct tlb_entry p = { .vbase = la, .pbase = la, .size = PG_4K, .orig_size = PG_4K, .flags = TE_W };
    last_evicted = ~0ull;
    ck_assert_ptr_nonnull(tlb_fill(t, LVL_L1, SIDE_D, la, &p, rec_evict, NULL));
}

static void fill2m(struct tlb *t, uint64_t la)
{
    struct tlb_entry p = { .vbase = la, .pbase = la, .size = PG_2M, .orig_size = PG_2M, .flags = TE_W };
    last_evicted = ~0ull;
    ck_assert_ptr_nonnull(tlb_fill(t, LVL_L1, SIDE_D, la, &p, rec_evict, NULL));
}

static void touch(struct tlb *t, uint64_t la)
{
    ck_assert_ptr_nonnull(tlb_lookup(t, LVL_L1, SIDE_D, la, 0, true));
}

START_TEST(lru_skylake_dtlb_4k)
{
    struct tlb *t = tlb_new(tlb_find_preset("skylake"));
    /* 16 sets: pages 64 KiB apart share set 0 */
    const uint64_t S = 16 * 4096;
    uint64_t A = 0, B = S, C = 2 * S, D = 3 * S, E = 4 * S, F = 5 * S, G = 6 * S, H = 7 * S;
    fill4k(t, A); fill4k(t, B); fill4k(t, C); fill4k(t, D);
    ck_assert_uint_eq(last_evicted, ~0ull);             /* 4 ways: no eviction yet */
    touch(t, A);                                        /* order (old->new): B C D A */
    fill4k(t, E); ck_assert_uint_eq(last_evicted, B);   /* C D A E */
    fill4k(t, F); ck_assert_uint_eq(last_evicted, C);   /* D A E F */
    touch(t, D);                                        /* A E F D */
    fill4k(t, G); ck_assert_uint_eq(last_evicted, A);
    fill4k(t, H); ck_assert_uint_eq(last_evicted, E);
    /* a page of another set never disturbs set 0 */
    fill4k(t, 4096);
    ck_assert_uint_eq(last_evicted, ~0ull);
    tlb_free(t);
}
END_TEST

START_TEST(plru_goldencove_dtlb_4k_6way)
{
    /* 6 ways in a tree of 8 leaves (nodes 1..7).  Filling ways 0..5 in order leaves
     * b1=0 b2=0 b3=1 b4=0 b5=0 b6=0 -> victim way 0.  After refilling way 0:
     * b1=1 -> node 3 (b3=1 -> node 7 holds only ways 6,7: not real -> node 6), b6=0 -> way 4.
     * After refilling way 4: b1=0 -> node 2, b2=1 -> node 5, b5=0 -> way 2.
     * True LRU would have evicted ways 0, 1, 2. */
    struct tlb *t = tlb_new(tlb_find_preset("goldencove"));
    const uint64_t S = 16 * 4096;
    for (int i = 0; i < 6; i++)
        fill4k(t, i * S);
    ck_assert_uint_eq(last_evicted, ~0ull);
    fill4k(t, 6 * S); ck_assert_uint_eq(last_evicted, 0 * S);
    fill4k(t, 7 * S); ck_assert_uint_eq(last_evicted, 4 * S);
    fill4k(t, 8 * S); ck_assert_uint_eq(last_evicted, 2 * S);
    tlb_free(t);
}
END_TEST

START_TEST(plru_goldencove_dtlb_2m_4way)
{
    /* 4 ways, nodes 1..3.  Fill A B C D (ways 0-3) -> b1=0 b2=0 b3=0, victim way 0.
     * Touch A: b2=1 b1=1 -> victim: node 3, b3=0 -> way 2 (C).  LRU would pick B.
     * Fill E into way 2: b3=1 b1=0 -> victim: node 2, b2=1 -> way 1 (B). */
    struct tlb *t = tlb_new(tlb_find_preset("goldencove"));
    const uint64_t S = 8ull << 21;                      /* 8 sets of 2M */
    uint64_t A = 0, B = S, C = 2 * S, D = 3 * S, E = 4 * S, F = 5 * S;
    fill2m(t, A); fill2m(t, B); fill2m(t, C); fill2m(t, D);
    touch(t, A);
    fill2m(t, E); ck_assert_uint_eq(last_evicted, C);
    fill2m(t, F); ck_assert_uint_eq(last_evicted, B);
    tlb_free(t);
}
END_TEST

START_TEST(lru_zen2_fully_associative)
{
    struct tlb *t = tlb_new(tlb_find_preset("zen2"));
    for (int i = 0; i < 64; i++)
        fill4k(t, (uint64_t)i * 4096 * 16);             /* would all share one set if it had sets */
    ck_assert_uint_eq(last_evicted, ~0ull);
    touch(t, 0);
    fill4k(t, 64ull * 4096 * 16);
    ck_assert_uint_eq(last_evicted, 1ull * 4096 * 16);  /* page 0 was touched: page 1 is the LRU */
    /* 2M and 4K share the FA array */
    fill2m(t, 1ull << 30);
    ck_assert_uint_eq(last_evicted, 2ull * 4096 * 16);
    tlb_free(t);
}
END_TEST

/* --- through the mmu: fill policy and smashing ---------------------------------------- */

static struct physmem *pm;
static struct mmu m;
static struct ptb b;
static uint64_t root;

static void setup(void)
{
    const char *err;
    pm = physmem_new(16 << 20, &err);
    ck_assert(mmu_init(&m, pm, 0, "skylake", TLB_MODEL_FAST, &err));
    ptb_init(&b, pm, PT_POOL);
    root = ptb_alloc(&b);
    mmu_enter_long_mode(&m, root, 0);
}

static void teardown(void)
{
    mmu_destroy(&m);
    physmem_free(pm);
}

static struct tlb_array *arr(const char *name)
{
    for (unsigned i = 0; i < m.tlb->narrays; i++)
        if (!strcmp(m.tlb->arrays[i].spec->name, name))
            return &m.tlb->arrays[i];
    ck_abort_msg("no array %s", name);
    return NULL;
}

START_TEST(fill_policy_walk_fills_l1_and_stlb)
{
    const uint64_t S = 16 * 4096;       /* dtlb_4k set stride */
    for (int i = 0; i < 5; i++)
        ptb_map(&b, root, 0x40000000 + i * S, 0x800000, 1, P_W);
    /* 5 pages in one 4-way L1 set: the 5th walk evicts page 0 from L1, not from the STLB */
    EXPECT_SEQ(&m, ACC_READ, "WWWWW", 0x40000000, 0x40000000 + S, 0x40000000 + 2 * S,
               0x40000000 + 3 * S, 0x40000000 + 4 * S);
    ck_assert_uint_eq(tlb_occupancy(arr("dtlb_4k"), -1), 4);
    ck_assert_uint_eq(tlb_occupancy(arr("stlb"), -1), 5);
    /* page 0: STLB hit, which fills L1 (evicting page 1, the LRU), then an L1 hit */
    EXPECT_SEQ(&m, ACC_READ, "SHS", 0x40000000, 0x40000000, 0x40000000 + S);
    struct xlate x;
    ck_assert(mmu_translate(&m, 0x40000000 + 2 * S, ACC_READ, &x));   /* page 2 was LRU in L1 */
    ck_assert_uint_eq(x.cost, 8);                                     /* STLB hit latency */
}
END_TEST

START_TEST(smash_1g_into_itlb_2m)
{
    /* skylake has no 1G ITLB: a fetch from a 1G page leaves a 2M piece in itlb_2m and a 1G
     * entry in stlb_1g.  Another 2M piece of the same 1G page misses L1 and hits stlb_1g. */
    ptb_map(&b, root, 0x8000000000ull, 0x40000000, 3, P_W);
    EXPECT_SEQ(&m, ACC_FETCH, "WHS", 0x8000000000ull + 0x1234, 0x8000000000ull + 0x1fffff,
               0x8000000000ull + 0x200000);
    ck_assert_uint_eq(tlb_occupancy(arr("itlb_2m"), -1), 2);
    ck_assert_uint_eq(tlb_occupancy(arr("stlb_1g"), -1), 1);
    uint64_t pa;
    ck_assert_int_eq(lookup_kind(&m, 0x8000000000ull + 0x200010, ACC_FETCH, &pa), 'H');
    ck_assert_uint_eq(pa, 0x40200010);
    /* INVLPG of any address of the 1G page drops every piece (SDM 4.10.4.1) */
    mmu_invlpg(&m, 0x8000000000ull + 0x3ff00000);
    ck_assert_uint_eq(tlb_occupancy(arr("itlb_2m"), -1), 0);
    ck_assert_uint_eq(tlb_occupancy(arr("stlb_1g"), -1), 0);
}
END_TEST

/* --- the fast-lookup cache ------------------------------------------------------------- */

static const struct fast_entry *fe(enum fast_ctx c, enum mmu_access acc, uint64_t la)
{
    return &m.fast[c].e[acc][(la >> 12) & (FAST_ENTRIES - 1)];
}

START_TEST(fast_cache_fill_rules)
{
    struct xlate x;
    uint64_t la = 0x40000000;
    ptb_map(&b, root, la, 0x800000, 1, P_W);                    /* supervisor RW, D=0 */
    ptb_map(&b, root, la + 0x1000, 0x801000, 1, 0);             /* read-only */
    ptb_map(&b, root, la + 0x2000, 0x802000, 1, P_W | P_XD);    /* not executable */
    ck_assert(mmu_translate(&m, la, ACC_READ, &x));
    ck_assert_uint_eq(fe(FAST_SUP, ACC_READ, la)->tag, la);
    ck_assert_uint_eq(fe(FAST_SUP, ACC_READ, la)->addend + la, (uintptr_t)physmem_ram_page(pm, 0x800000));
    ck_assert_uint_eq(fe(FAST_SUP, ACC_WRITE, la)->tag, FAST_TAG_INVALID);
    ck_assert(mmu_translate(&m, la, ACC_WRITE, &x));            /* sets D, then a write entry */
    ck_assert_uint_eq(fe(FAST_SUP, ACC_WRITE, la)->tag, la);
    ck_assert_uint_eq(fe(FAST_USER, ACC_READ, la)->tag, FAST_TAG_INVALID);   /* other context */
    /* WP=1: no write entry for a read-only page (the write faults) */
    ck_assert(!mmu_translate(&m, la + 0x1000, ACC_WRITE, &x));
    ck_assert_uint_eq(fe(FAST_SUP, ACC_WRITE, la + 0x1000)->tag, FAST_TAG_INVALID);
    ck_assert(!mmu_translate(&m, la + 0x2000, ACC_FETCH, &x));
    ck_assert_uint_eq(fe(FAST_SUP, ACC_FETCH, la + 0x2000)->tag, FAST_TAG_INVALID);
    /* MMIO: never */
    ck_assert(physmem_add_mmio(pm, 0xc00000, 0x1000, NULL, NULL, NULL, "dummy"));
    ptb_map(&b, root, la + 0x3000, 0xc00000, 1, P_W | P_D);
    ck_assert(mmu_translate(&m, la + 0x3000, ACC_READ, &x));
    ck_assert_uint_eq(fe(FAST_SUP, ACC_READ, la + 0x3000)->tag, FAST_TAG_INVALID);
    /* INVLPG removes the fast entries of the page */
    mmu_invlpg(&m, la);
    ck_assert_uint_eq(fe(FAST_SUP, ACC_READ, la)->tag, FAST_TAG_INVALID);
    ck_assert_uint_eq(fe(FAST_SUP, ACC_WRITE, la)->tag, FAST_TAG_INVALID);
}
END_TEST

START_TEST(fast_cache_code_pages)
{
    struct xlate x;
    uint64_t la = 0x40000000;
    ptb_map(&b, root, la, 0x800000, 1, P_W | P_D);
    ck_assert(mmu_translate(&m, la, ACC_WRITE, &x));
    ck_assert_uint_eq(fe(FAST_SUP, ACC_WRITE, la)->tag, la);
    physmem_mark_code(pm, 0x800000);                            /* the listener drops it */
    ck_assert_uint_eq(fe(FAST_SUP, ACC_WRITE, la)->tag, FAST_TAG_INVALID);
    ck_assert(mmu_translate(&m, la, ACC_WRITE, &x));            /* and no new one is made */
    ck_assert_uint_eq(fe(FAST_SUP, ACC_WRITE, la)->tag, FAST_TAG_INVALID);
    ck_assert(mmu_translate(&m, la, ACC_READ, &x));             /* reads are fine */
    ck_assert_uint_eq(fe(FAST_SUP, ACC_READ, la)->tag, la);
}
END_TEST

START_TEST(fast_cache_large_page_eviction_and_contexts)
{
    struct xlate x;
    uint64_t la = 0x40000000;
    ptb_map(&b, root, la, 0x200000, 2, P_W | P_U | P_D);        /* one 2M page */
    for (int i = 0; i < 8; i++)
        ck_assert(mmu_translate(&m, la + i * 0x40000, ACC_READ, &x));
    mmu_set_cpl_ac(&m, 3, false);
    ck_assert(m.fast_cur == &m.fast[FAST_USER]);
    ck_assert(mmu_translate(&m, la + 0x1000, ACC_READ, &x));
    ck_assert_uint_eq(fe(FAST_USER, ACC_READ, la + 0x1000)->tag, la + 0x1000);
    /* a Hyper-V GVA flush of one address inside the 2M page drops all its fast entries, in
     * every context */
    ck_assert(mmu_flush_gva(&m, root, la + 0x1ff000, 0));
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(fe(FAST_SUP, ACC_READ, la + i * 0x40000)->tag, FAST_TAG_INVALID);
    ck_assert_uint_eq(fe(FAST_USER, ACC_READ, la + 0x1000)->tag, FAST_TAG_INVALID);
    /* fast hits are folded as L1 hits */
    uint64_t h = m.tlb->stats.vp.l1_hits[ACC_READ], a = m.tlb->stats.vp.accesses[ACC_READ];
    m.fast_hits[ACC_READ] += 5;
    mmu_stats_fold(&m);
    ck_assert_uint_eq(m.tlb->stats.vp.l1_hits[ACC_READ], h + 5);
    ck_assert_uint_eq(m.tlb->stats.vp.accesses[ACC_READ], a + 5);
    ck_assert_uint_eq(m.tlb->stats.vp.user_accesses[ACC_READ], 1 + 5);
}
END_TEST

START_TEST(exact_mode_never_fills_fast)
{
    const char *err;
    struct mmu e;
    ck_assert(mmu_init(&e, pm, 1, "skylake", TLB_MODEL_EXACT, &err));
    mmu_enter_long_mode(&e, root, 0);
    ptb_map(&b, root, 0x40000000, 0x800000, 1, P_W | P_D);
    struct xlate x;
    ck_assert(mmu_translate(&e, 0x40000000, ACC_READ, &x));
    ck_assert(mmu_translate(&e, 0x40000000, ACC_WRITE, &x));
    ck_assert_uint_eq(e.fast_aux->fills, 0);
    ck_assert_uint_eq(e.fast[FAST_SUP].e[ACC_READ][(0x40000000 >> 12) & (FAST_ENTRIES - 1)].tag, FAST_TAG_INVALID);
    mmu_destroy(&e);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tlb");
    TCase *g = tcase_create("geometry_replacement");
    tcase_add_test(g, geometry_skylake);
    tcase_add_test(g, geometry_goldencove);
    tcase_add_test(g, geometry_zen2);
    tcase_add_test(g, lru_skylake_dtlb_4k);
    tcase_add_test(g, plru_goldencove_dtlb_4k_6way);
    tcase_add_test(g, plru_goldencove_dtlb_2m_4way);
    tcase_add_test(g, lru_zen2_fully_associative);
    suite_add_tcase(s, g);
    TCase *t = tcase_create("mmu");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, fill_policy_walk_fills_l1_and_stlb);
    tcase_add_test(t, smash_1g_into_itlb_2m);
    tcase_add_test(t, fast_cache_fill_rules);
    tcase_add_test(t, fast_cache_code_pages);
    tcase_add_test(t, fast_cache_large_page_eviction_and_contexts);
    tcase_add_test(t, exact_mode_never_fills_fast);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
