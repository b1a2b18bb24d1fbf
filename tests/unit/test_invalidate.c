/* Every row of the invalidation table of TLB-MODEL.md B-1.4 (SDM Vol. 3A 4.10.4) and the
 * B-(c) 3 list, as hand-written hit/miss sequences: 'H' L1 hit, 'S' STLB hit, 'W' walk.
 * Exact policy: only what the SDM requires goes (no over-flush counted); conservative:
 * everything goes and is counted as over-flush.  Under-flushes abort, so each test
 * also proves there were none.
 *
 * Pages (mapped identically under two address spaces, root1 and root2):
 *   A, B   4K, non-global          G   4K, global
 *   L      2M, non-global          C, D  4K next to A (same page table, for PSC checks)
 */
#include <check.h>
#include <stdlib.h>
#include "mmu_test_pt.h"

#define A 0x40000000ull
#define B 0x40001000ull
#define C 0x40002000ull
#define D 0x40003000ull
#define G 0x50000000ull
#define L 0x60000000ull
#define NONCANON 0x0000800040000000ull
#define NOFLUSH (1ull << 63)

static struct physmem *pm;
static struct mmu m;
static struct ptb b;
static uint64_t root1, root2;

static void map_all(uint64_t root)
{
    ptb_map(&b, root, A, 0x800000, 1, P_W);
    ptb_map(&b, root, B, 0x801000, 1, P_W);
    ptb_map(&b, root, C, 0x802000, 1, P_W);
    ptb_map(&b, root, D, 0x803000, 1, P_W);
    ptb_map(&b, root, G, 0x804000, 1, P_W | P_G);
    ptb_map(&b, root, L, 0x400000, 2, P_W);
}

static void setup_common(uint64_t extra_cr4, uint16_t pcid)
{
    const char *err;
    pm = physmem_new(16 << 20, &err);
    ck_assert(mmu_init(&m, pm, 0, "skylake", TLB_MODEL_EXACT, &err));
    ptb_init(&b, pm, PT_POOL);
    root1 = ptb_alloc(&b);
    root2 = ptb_alloc(&b);
    map_all(root1);
    map_all(root2);
    mmu_enter_long_mode(&m, root1 | pcid, extra_cr4);
}

static void setup_pcid(void) { setup_common(T_CR4_PCIDE, 1); }
static void setup_nopcid(void) { setup_common(0, 0); }

static void teardown(void)
{
    mmu_destroy(&m);
    physmem_free(pm);
}

static uint64_t over_entries(void)
{
    uint64_t n = 0;
    for (int i = 0; i < INV_CAUSES; i++)
        n += m.tlb->stats.vp.inv_over_entries[i];
    return n;
}

static void exact_only(void)
{
    ck_assert_uint_eq(over_entries(), 0);
    ck_assert_uint_eq(m.tlb->stats.over_flush_ops, 0);
    ck_assert_uint_eq(m.tlb->stats.under_flushes, 0);
}

#define R(expect, ...) EXPECT_SEQ(&m, ACC_READ, expect, __VA_ARGS__)

/* ---- INVLPG ---------------------------------------------------------------------------- */

START_TEST(invlpg_current_pcid_and_globals_under_any_pcid)
{
    R("WWWH", A, B, G, A);                          /* PCID 1 */
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("WH", A, G);                                  /* PCID 2: own A; G is global */
    mmu_invlpg(&m, A);                              /* A of PCID 2 */
    mmu_invlpg(&m, G);                              /* the global G, filled under PCID 1 */
    R("W", A);
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("HHW", A, B, G);                              /* PCID 1's A may stay: exact keeps it */
    ck_assert_uint_eq(m.tlb->stats.vp.inv_ops[INV_INVLPG], 2);
    exact_only();
}
END_TEST

START_TEST(invlpg_drops_psc_entries_of_current_pcid)
{
    struct mmu_counters *c = &m.tlb->stats.vp;
    R("W", A);
    ck_assert_uint_eq(c->pte_reads[ACC_READ], 4);
    R("W", C);                                      /* PDE cache hit: 1 read */
    ck_assert_uint_eq(c->pte_reads[ACC_READ], 5);
    mmu_invlpg(&m, B);                              /* another page, same PCID */
    R("W", D);
    ck_assert_uint_eq(c->pte_reads[ACC_READ], 9);   /* full walk again */
    R("H", A);                                      /* A's TLB entry survives */
    exact_only();
}
END_TEST

START_TEST(invlpg_noncanonical_is_a_nop)
{
    R("W", A);
    mmu_invlpg(&m, NONCANON);
    R("H", A);
    ck_assert_uint_eq(m.tlb->stats.vp.inv_ops[INV_INVLPG], 0);
}
END_TEST

START_TEST(invlpg_large_page)
{
    R("W", L + 0x1000);
    mmu_invlpg(&m, L + 0x1ff000);                   /* any address of the 2M page */
    R("W", L + 0x1000);
    exact_only();
}
END_TEST

/* ---- INVPCID ------------------------------------------------------------------------------ */

START_TEST(invpcid_type0_individual_address)
{
    R("WWW", A, B, G);
    ck_assert(mmu_invpcid(&m, 0, 1, A));
    ck_assert(mmu_invpcid(&m, 0, 1, G));            /* globals may stay: exact keeps G */
    R("WHH", A, B, G);
    ck_assert(mmu_invpcid(&m, 0, 7, B));            /* another PCID: nothing of PCID 1 */
    R("H", B);
    exact_only();
}
END_TEST

START_TEST(invpcid_type1_single_context)
{
    R("WWW", A, B, G);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("W", A);
    ck_assert(mmu_invpcid(&m, 1, 1, 0));
    R("HH", A, G);                                  /* PCID 2 and the global stay */
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("WWH", A, B, G);
    exact_only();
}
END_TEST

START_TEST(invpcid_type2_all_including_globals)
{
    R("WW", A, G);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("WH", B, G);
    ck_assert(mmu_invpcid(&m, 2, 0, 0));
    R("WW", B, G);
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("W", A);
    exact_only();
}
END_TEST

START_TEST(invpcid_type3_all_keep_globals)
{
    R("WW", A, G);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("W", B);
    ck_assert(mmu_invpcid(&m, 3, 0, 0));
    R("WH", B, G);
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("W", A);
    exact_only();
}
END_TEST

START_TEST(invpcid_descriptor_rules)
{
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE | T_CR4_PCIDE);
    ck_assert(!mmu_invpcid(&m, 4, 0, 0));           /* no type 4: #GP */
    ck_assert(!mmu_invpcid(&m, 0, 1, NONCANON));    /* non-canonical address: #GP */
    ck_assert(mmu_invpcid(&m, 0, 1, A));
    /* PCIDE=0: types 0/1 only with PCID 0 */
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE);
    mmu_set_cr3(&m, root1);
    ck_assert(!mmu_invpcid(&m, 0, 1, A));
    ck_assert(!mmu_invpcid(&m, 1, 5, 0));
    R("W", A);
    ck_assert(mmu_invpcid(&m, 0, 0, A));
    R("W", A);
    ck_assert(mmu_invpcid(&m, 3, 9, 0));            /* types 2/3: PCID ignored */
}
END_TEST

/* ---- MOV CR3 -------------------------------------------------------------------------------- */

START_TEST(cr3_pcide0_flushes_nonglobal_and_pscs)
{
    struct mmu_counters *c = &m.tlb->stats.vp;
    R("WWW", A, G, L);
    mmu_set_cr3(&m, root1);                         /* same value: still a flush */
    uint64_t r0 = c->pte_reads[ACC_READ];
    R("WHW", A, G, L);
    /* A: full walk (PSCs were flushed); L (same 1G region as A): PDPTE cache hit, reads its PDE */
    ck_assert_uint_eq(c->pte_reads[ACC_READ] - r0, 4 + 1);
    mmu_set_cr3(&m, root2 | NOFLUSH);               /* bit 63 means nothing without PCIDE... */
    R("W", A);                                      /* ...so this is a flush too */
    exact_only();
}
END_TEST

START_TEST(cr3_pcid_switch_with_bit63_keeps_entries)
{
    /* B-(c) 3: A -> B -> A with bit 63 = 1 keeps A's entries */
    R("WW", A, B);
    mmu_set_cr3(&m, root2 | 2);
    R("W", A);
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("HH", A, B);
    ck_assert_uint_eq(m.tlb->stats.vp.inv_ops[INV_CR3_NOFLUSH], 1);
    exact_only();
}
END_TEST

START_TEST(cr3_pcid_switch_without_bit63_misses)
{
    R("WW", A, B);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("WH", A, A);
    mmu_set_cr3(&m, root1 | 1);                     /* bit 63 = 0: PCID 1 flushed */
    R("WW", A, B);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);           /* PCID 2 untouched */
    R("H", A);
    exact_only();
}
END_TEST

/* ---- MOV CR4, MOV CR0 ---------------------------------------------------------------------------- */

START_TEST(cr4_pge_toggle_drops_everything)
{
    R("WW", A, G);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("W", B);
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PCIDE);       /* PGE 1 -> 0 */
    R("WW", B, G);
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PCIDE | T_CR4_PGE);   /* and back: again */
    R("WW", B, G);
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("W", A);
    exact_only();
}
END_TEST

START_TEST(cr4_pcide_clear_drops_everything)
{
    R("WW", A, G);
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE);         /* PCIDE 1 -> 0 */
    R("WW", A, G);
    exact_only();
}
END_TEST

START_TEST(cr4_smep_set_drops_current_pcid)
{
    R("WW", A, G);                                  /* PCID 1 */
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("W", B);                                      /* PCID 2 */
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE | T_CR4_PCIDE | T_CR4_SMEP);   /* 0 -> 1 */
    R("WW", B, G);
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE | T_CR4_PCIDE);   /* 1 -> 0: nothing required */
    R("HH", B, G);
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("H", A);                                      /* PCID 1 kept */
    exact_only();
}
END_TEST

START_TEST(cr0_pg_clear_drops_everything)
{
    R("WW", A, G);
    mmu_set_cr0(&m, T_CR0_PE | T_CR0_WP);
    mmu_set_cr0(&m, T_CR0_PE | T_CR0_WP | T_CR0_PG);
    R("WW", A, G);
    mmu_set_cr0(&m, T_CR0_PE | T_CR0_PG);           /* WP only: nothing required */
    R("HH", A, G);
    exact_only();
}
END_TEST

/* ---- #PF ------------------------------------------------------------------------------------------- */

START_TEST(page_fault_drops_that_page_and_its_pscs)
{
    struct mmu_counters *c = &m.tlb->stats.vp;
    R("WW", A, B);
    mmu_note_page_fault(&m, A + 0x123);
    R("WH", A, B);
    /* the walk for A after the fault read all 4 levels: the PSC entries for A were dropped */
    ck_assert_uint_eq(c->pte_reads[ACC_READ], 4 + 1 + 4);
    exact_only();
}
END_TEST

/* ---- Hyper-V flush entry points ------------------------------------------------------------------------ */

START_TEST(hv_flush_address_space)
{
    R("WW", A, G);                                  /* root1, PCID 1 */
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("WH", B, G);                                  /* root2, PCID 2 */
    ck_assert(mmu_flush_address_space(&m, root1 | 0x5 | NOFLUSH, 0));   /* PCID bits, bit 63 ignored */
    R("HW", B, G);                                  /* root2 kept; globals of any space went */
    ck_assert(mmu_flush_address_space(&m, root2, MMU_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY));
    R("WH", B, G);                                  /* the global G stays */
    mmu_set_cr3(&m, root1 | 1 | NOFLUSH);
    R("W", A);
    ck_assert(mmu_flush_address_space(&m, 0, MMU_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES));
    R("WW", A, G);
    ck_assert(!mmu_flush_address_space(&m, root1, 1ull << 4));          /* reserved flag */
    exact_only();
}
END_TEST

START_TEST(hv_flush_follows_pcid_reuse)
{
    /* PCID 3 filled under root1, then reused for root2 without a flush: the entry now
     * serves root2, so flushing root2 must remove it. */
    mmu_set_cr3(&m, root1 | 3);
    R("W", A);
    mmu_set_cr3(&m, root2 | 3 | NOFLUSH);
    R("H", A);
    ck_assert(mmu_flush_address_space(&m, root2, 0));
    R("W", A);
    exact_only();
}
END_TEST

START_TEST(hv_flush_covers_pti_user_twin)
{
    /* Linux PTI: kernel root K (8 KiB aligned) with PCID 4, user root K + 4 KiB with
     * PCID 4 | 0x800.  A Hyper-V flush of K must take the user half too (mmu/psc.h). */
    uint64_t k = ptb_alloc(&b);
    while (k & 0x1fff)
        k = ptb_alloc(&b);
    uint64_t u = ptb_alloc(&b);
    ck_assert_uint_eq(u, k + 0x1000);
    map_all(k);
    map_all(u);
    mmu_set_cr3(&m, k | 4 | NOFLUSH);
    R("W", A);
    mmu_set_cr3(&m, u | 0x804 | NOFLUSH);
    R("WW", B, C);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("W", D);
    ck_assert(mmu_flush_gva(&m, k, C, 0));           /* the user half's C */
    mmu_set_cr3(&m, u | 0x804 | NOFLUSH);
    R("WH", C, B);
    ck_assert(mmu_flush_address_space(&m, k, MMU_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY));
    R("W", B);                                       /* user half went */
    mmu_set_cr3(&m, k | 4 | NOFLUSH);
    R("W", A);                                       /* kernel half went */
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);
    R("H", D);                                       /* another space: kept */
    /* Bit 11 without the twin root, or the twin root named itself: no widening. */
    mmu_set_cr3(&m, root2 | 0x802 | NOFLUSH);
    R("W", A);
    ck_assert(mmu_flush_address_space(&m, u, 0));
    R("H", A);
    exact_only();
}
END_TEST

START_TEST(hv_flush_gva_inside_large_page)
{
    R("WW", L + 0x1000, A);
    ck_assert(mmu_flush_gva(&m, root2, L + 0x1ff000, 0));       /* other space: stays */
    R("H", L + 0x1000);
    ck_assert(mmu_flush_gva(&m, root1, L + 0x1ff000, 0));       /* inside the 2M page */
    R("WH", L + 0x1000, A);                                     /* the whole 2M entry went */
    ck_assert(!mmu_flush_gva(&m, root1, A, MMU_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY));
    R("H", A);
    ck_assert(mmu_flush_gva(&m, 0, A, MMU_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES));
    R("W", A);
    ck_assert_uint_eq(m.tlb->stats.vp.inv_ops[INV_HV_GVA], 3);
    exact_only();
}
END_TEST


START_TEST(hv_flush_gva_range)
{
    R("WWWWW", A, B, C, D, L + 0x1000);
    ck_assert(mmu_flush_gva_range(&m, root1, B + 0x123, 2, 0));     /* B and C */
    R("HWWH", A, B, C, D);
    ck_assert(mmu_flush_gva_range(&m, root1, L - 0x1000, 2, 0));    /* overlaps the 2M page's first 4K */
    R("WH", L + 0x1000, D);
    ck_assert(!mmu_flush_gva_range(&m, root1, A, 0, 0));
    ck_assert_uint_eq(m.tlb->stats.vp.inv_ops[INV_HV_GVA], 2);
    exact_only();
}
END_TEST

/* ---- the conservative policy ------------------------------------------------------------------------ */

START_TEST(conservative_over_flushes_and_counts)
{
    mmu_set_flush_policy(&m, FLUSH_CONSERVATIVE);
    R("WWW", A, B, G);
    mmu_set_cr3(&m, root2 | 2 | NOFLUSH);           /* conservative: even this flushes */
    R("WW", A, G);
    ck_assert_uint_eq(m.tlb->stats.vp.inv_over_entries[INV_CR3_NOFLUSH], 2 * 3 - 0);   /* A,B,G in L1 + STLB */
    mmu_invlpg(&m, A);
    R("WW", B, G);                                  /* B went with it: over-flush */
    ck_assert_uint_eq(m.tlb->stats.vp.inv_over_entries[INV_INVLPG], 2);  /* G in L1 + STLB; A was required */
    ck_assert_uint_eq(m.tlb->stats.over_flush_ops, 2);
    ck_assert_uint_eq(m.tlb->stats.under_flushes, 0);
    /* not subject to the policy: CR4.SMEP clear */
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE | T_CR4_PCIDE);
    R("HH", B, G);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("invalidate");
    TCase *t = tcase_create("pcid");
    tcase_add_checked_fixture(t, setup_pcid, teardown);
    tcase_add_test(t, invlpg_current_pcid_and_globals_under_any_pcid);
    tcase_add_test(t, invlpg_drops_psc_entries_of_current_pcid);
    tcase_add_test(t, invlpg_noncanonical_is_a_nop);
    tcase_add_test(t, invlpg_large_page);
    tcase_add_test(t, invpcid_type0_individual_address);
    tcase_add_test(t, invpcid_type1_single_context);
    tcase_add_test(t, invpcid_type2_all_including_globals);
    tcase_add_test(t, invpcid_type3_all_keep_globals);
    tcase_add_test(t, invpcid_descriptor_rules);
    tcase_add_test(t, cr3_pcid_switch_with_bit63_keeps_entries);
    tcase_add_test(t, cr3_pcid_switch_without_bit63_misses);
    tcase_add_test(t, cr4_pge_toggle_drops_everything);
    tcase_add_test(t, cr4_pcide_clear_drops_everything);
    tcase_add_test(t, cr4_smep_set_drops_current_pcid);
    tcase_add_test(t, hv_flush_address_space);
    tcase_add_test(t, hv_flush_follows_pcid_reuse);
    tcase_add_test(t, hv_flush_covers_pti_user_twin);
    tcase_add_test(t, hv_flush_gva_inside_large_page);
    tcase_add_test(t, hv_flush_gva_range);
    tcase_add_test(t, conservative_over_flushes_and_counts);
    suite_add_tcase(s, t);
    TCase *n = tcase_create("nopcid");
    tcase_add_checked_fixture(n, setup_nopcid, teardown);
    tcase_add_test(n, cr3_pcide0_flushes_nonglobal_and_pscs);
    tcase_add_test(n, cr0_pg_clear_drops_everything);
    tcase_add_test(n, page_fault_drops_that_page_and_its_pscs);
    suite_add_tcase(s, n);
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
