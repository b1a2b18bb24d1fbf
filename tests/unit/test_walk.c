/* The page walker through mmu_translate: SDM Vol. 3A 4.5 (4-level paging, large
 * pages, reserved bits), 4.6 (every permission combination: U/S, R/W, XD, CR0.WP,
 * SMEP, SMAP with AC, implicit supervisor accesses), 4.7 (#PF error codes), 4.8 (A/D)
 * and 4.10.4.3 (stale entries and their one spurious #PF). */
#include <check.h>
#include <stdlib.h>
#include "mmu_test_pt.h"

#define RAM   (16ull << 20)
#define LA    0x0000123456789000ull     /* a 4K test page */
#define DATA  0x00800000ull             /* its frame */

static struct physmem *pm;
static struct mmu m;
static struct ptb b;
static uint64_t root;

static void setup(void)
{
    const char *err;
    pm = physmem_new(RAM, &err);
    ck_assert_ptr_nonnull(pm);
    ck_assert(mmu_init(&m, pm, 0, "skylake", TLB_MODEL_EXACT, &err));
    ptb_init(&b, pm, PT_POOL);
    root = ptb_alloc(&b);
    ptb_map(&b, root, LA, DATA, 1, P_W | P_U);
    mmu_enter_long_mode(&m, root, 0);
}

static void teardown(void)
{
    mmu_destroy(&m);
    physmem_free(pm);
}

static bool xl(uint64_t la, enum mmu_access acc, struct xlate *x) { return mmu_translate(&m, la, acc, x); }

/* Independent statement of SDM 4.6 (for the exhaustive loop): may this access proceed? */
static bool sdm_allows(bool user, enum mmu_access acc, bool U, bool W, bool XD,
                       bool wp, bool smep, bool smap, bool ac)
{
    if (user) {
        if (!U) return false;                       /* 4.6.1: user access to a supervisor page */
        if (acc == ACC_WRITE) return W;             /* user writes need R/W=1, whatever WP */
        if (acc == ACC_FETCH) return !XD;
        return true;
    }
    if (acc == ACC_FETCH) {
        if (XD) return false;
        if (U && smep) return false;                /* SMEP: no supervisor fetch from user pages */
        return true;
    }
    if (U && smap && !ac) return false;             /* SMAP, explicit access with AC=0 */
    if (acc == ACC_WRITE && !W && wp) return false;
    return true;
}

START_TEST(permissions_exhaustive)
{
    /* leaf U/W/XD x PDE U/W x CPL x kind x WP x SMEP x SMAP x AC */
    unsigned checked = 0;
    for (unsigned bits = 0; bits < 32; bits++) {
        bool lU = bits & 1, lW = bits & 2, lXD = bits & 4, uU = bits & 8, uW = bits & 16;
        pt_set(&b, root, LA, 2, (pt_get(&b, root, LA, 2) & ~(P_U | P_W)) | (uU ? P_U : 0) | (uW ? P_W : 0));
        for (unsigned ctl = 0; ctl < 16; ctl++) {
            bool wp = ctl & 1, smep = ctl & 2, smap = ctl & 4, ac = ctl & 8;
            for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
                for (int acc = 0; acc < 3; acc++) {
                    pt_set(&b, root, LA, 1, DATA | P_P | (lU ? P_U : 0) | (lW ? P_W : 0) | (lXD ? P_XD : 0));
                    mmu_set_cr0(&m, T_CR0_PE | T_CR0_PG | (wp ? T_CR0_WP : 0));
                    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE | (smep ? T_CR4_SMEP : 0) | (smap ? T_CR4_SMAP : 0));
                    mmu_set_cr3(&m, root);          /* PCIDE=0: flushes TLB and PSCs */
                    mmu_set_cpl_ac(&m, cpl, ac);
                    struct xlate x;
                    bool ok = xl(LA + 0x10, acc, &x);
                    bool want = sdm_allows(cpl == 3, acc, lU && uU, lW && uW, lXD, wp, smep, smap, ac);
                    ck_assert_msg(ok == want, "bits %#x ctl %#x cpl %u kind %d: got %d want %d",
                                  bits, ctl, cpl, acc, ok, want);
                    if (ok) {
                        ck_assert_uint_eq(x.pa, DATA + 0x10);
                    } else {
                        /* present everywhere: P=1; NXE=1 so I is set for every fetch */
                        uint32_t e = PFERR_P | (acc == ACC_WRITE ? PFERR_W : 0) |
                                     (cpl == 3 ? PFERR_U : 0) | (acc == ACC_FETCH ? PFERR_I : 0);
                        ck_assert_msg(x.pf_err == e, "bits %#x ctl %#x cpl %u kind %d: err %#x want %#x",
                                      bits, ctl, cpl, acc, x.pf_err, e);
                    }
                    checked++;
                }
            }
        }
    }
    ck_assert_uint_eq(checked, 32 * 16 * 2 * 3);
}
END_TEST

START_TEST(not_present_error_codes)
{
    struct xlate x;
    uint64_t np = 0x0000400000000000ull - 0x1000;   /* nothing mapped there */
    ck_assert(!xl(np, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, 0);                 /* supervisor read, P=0 */
    ck_assert(!xl(np, ACC_WRITE, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_W);
    ck_assert(!xl(np, ACC_FETCH, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_I);           /* NXE=1 */
    mmu_set_cpl_ac(&m, 3, false);
    ck_assert(!xl(np, ACC_WRITE, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_W | PFERR_U);
    /* without NXE and SMEP, I/D stays 0 (SDM 4.7) */
    mmu_set_cpl_ac(&m, 0, false);
    mmu_set_efer(&m, T_EFER_LME | T_EFER_LMA);
    ck_assert(!xl(np, ACC_FETCH, &x));
    ck_assert_uint_eq(x.pf_err, 0);
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE | T_CR4_SMEP);
    ck_assert(!xl(np, ACC_FETCH, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_I);
    /* a non-present PTE under present tables */
    pt_set(&b, root, LA, 1, 0);
    mmu_invlpg(&m, LA);
    ck_assert(!xl(LA, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, 0);
}
END_TEST

START_TEST(reserved_bits)
{
    struct xlate x;
    /* MAXPHYADDR 46: bit 46 of a PTE is reserved */
    pt_set(&b, root, LA, 1, DATA | P_P | P_W | P_U | (1ull << 46));
    ck_assert(!xl(LA, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
    mmu_set_cpl_ac(&m, 3, false);
    ck_assert(!xl(LA, ACC_WRITE, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD | PFERR_W | PFERR_U);
    mmu_set_cpl_ac(&m, 0, false);
    /* XD with EFER.NXE=0 is reserved */
    pt_set(&b, root, LA, 1, DATA | P_P | P_W | P_XD);
    mmu_set_efer(&m, T_EFER_LME | T_EFER_LMA);
    ck_assert(!xl(LA, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
    mmu_set_efer(&m, T_EFER_LME | T_EFER_LMA | T_EFER_NXE);
    ck_assert(xl(LA, ACC_READ, &x));
    /* PS in a PML4E */
    uint64_t la2 = 0x0000200000000000ull;
    ptb_map(&b, root, la2, DATA, 1, P_W);
    pt_set(&b, root, la2, 4, pt_get(&b, root, la2, 4) | P_PS);
    ck_assert(!xl(la2, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
    /* 2M page with bit 13 set; 1G page with bit 13 set */
    uint64_t la3 = 0x0000000040000000ull, la4 = 0x0000008000000000ull;
    ptb_map(&b, root, la3, 0x200000 | (1ull << 13), 2, P_W);
    ck_assert(!xl(la3, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
    ptb_map(&b, root, la4, 0x40000000 | (1ull << 13), 3, P_W);
    ck_assert(!xl(la4, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
    ptb_map(&b, root, la4, 0x40000000 | (1ull << 29), 3, P_W);   /* bit 29 of a 1G page: reserved too */
    ck_assert(!xl(la4, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
}
END_TEST

START_TEST(large_pages)
{
    struct xlate x;
    uint64_t la2m = 0x0000000040000000ull, la1g = 0x0000008000000000ull;
    ptb_map(&b, root, la2m, 0x600000, 2, P_W);
    ptb_map(&b, root, la1g, 0x40000000, 3, P_W);
    ck_assert(xl(la2m + 0x12345, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x612345);
    ck_assert(xl(la1g + 0x3456789, ACC_WRITE, &x));
    ck_assert_uint_eq(x.pa, 0x43456789);
    /* D is set on the leaf (the PDPTE of the 1G page), A on both levels above */
    ck_assert(pt_get(&b, root, la1g, 3) & P_D);
    ck_assert(pt_get(&b, root, la1g, 4) & P_A);
    ck_assert_uint_eq(m.tlb->stats.vp.walks_completed[ACC_READ][PG_2M], 1);
    ck_assert_uint_eq(m.tlb->stats.vp.walks_completed[ACC_WRITE][PG_1G], 1);
}
END_TEST

START_TEST(accessed_dirty)
{
    struct xlate x;
    for (int l = 1; l <= 4; l++)
        ck_assert(!(pt_get(&b, root, LA, l) & P_A));
    ck_assert(xl(LA, ACC_READ, &x));
    for (int l = 1; l <= 4; l++)
        ck_assert_msg(pt_get(&b, root, LA, l) & P_A, "A not set at level %d", l);
    ck_assert(!(pt_get(&b, root, LA, 1) & P_D));
    /* the cached entry has D=0: a write walks again to set D (SDM 4.8) */
    ck_assert_int_eq(lookup_kind(&m, LA, ACC_WRITE, NULL), 'H');
    ck_assert_uint_eq(m.tlb->stats.vp.dirty_rewalks, 1);
    ck_assert(pt_get(&b, root, LA, 1) & P_D);
    ck_assert(!(pt_get(&b, root, LA, 2) & P_D));    /* D only on the leaf */
    ck_assert_int_eq(lookup_kind(&m, LA, ACC_WRITE, NULL), 'H');
    ck_assert_uint_eq(m.tlb->stats.vp.dirty_rewalks, 1);
    /* a faulting access leaves A/D alone */
    uint64_t la2 = LA + 0x1000;
    ptb_map(&b, root, la2, DATA, 1, 0);             /* read-only, supervisor */
    mmu_set_cpl_ac(&m, 3, false);
    ck_assert(!xl(la2, ACC_READ, &x));
    ck_assert(!(pt_get(&b, root, la2, 1) & P_A));
}
END_TEST

START_TEST(paging_off_identity)
{
    struct xlate x;
    mmu_set_cr0(&m, T_CR0_PE);
    ck_assert(xl(0x123456789ull, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x123456789ull);        /* LMA still set: no wrap */
    mmu_set_efer(&m, 0);
    ck_assert(xl(0x100001234ull, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x1234);                /* 32-bit wrap outside long mode */
    ck_assert_uint_eq(x.cost, 0);
}
END_TEST

START_TEST(smap_ac_and_implicit)
{
    struct xlate x;
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE | T_CR4_SMAP);
    ck_assert(!xl(LA, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P);
    mmu_set_cpl_ac(&m, 0, true);                    /* STAC */
    ck_assert(xl(LA, ACC_READ, &x));
    ck_assert(m.fast_cur == &m.fast[FAST_SUP_AC]);
    /* implicit supervisor accesses are checked whatever AC says (SDM 4.6.1) */
    ck_assert(!mmu_translate_as(&m, LA, ACC_WRITE, 0, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_W);
    /* and from CPL 3 an implicit access is still supervisor: U=0 in the error code */
    mmu_set_cpl_ac(&m, 3, true);
    ck_assert(m.fast_cur == &m.fast[FAST_USER]);
    ck_assert(!mmu_translate_as(&m, LA, ACC_READ, 0, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P);
    /* a supervisor page: user access faults, implicit access passes */
    uint64_t la2 = LA + 0x2000;
    ptb_map(&b, root, la2, DATA, 1, P_W);
    ck_assert(!xl(la2, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_U);
    ck_assert(mmu_translate_as(&m, la2, ACC_WRITE, 0, &x));
}
END_TEST

START_TEST(stale_entries_and_spurious_fault)
{
    struct xlate x;
    /* read-only page cached, then made writable without INVLPG: one spurious #PF */
    pt_set(&b, root, LA, 1, DATA | P_P | P_U);
    ck_assert(xl(LA, ACC_READ, &x));
    pt_set(&b, root, LA, 1, DATA | P_P | P_U | P_W);
    ck_assert(!xl(LA, ACC_WRITE, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_W);
    ck_assert_uint_eq(m.tlb->stats.vp.stale_faults[ACC_WRITE], 1);
    ck_assert_uint_eq(m.tlb->stats.vp.inv_ops[INV_PF], 1);
    mmu_note_page_fault(&m, LA);                    /* delivery: already done, not again */
    ck_assert_uint_eq(m.tlb->stats.vp.inv_ops[INV_PF], 1);
    ck_assert_int_eq(lookup_kind(&m, LA, ACC_WRITE, NULL), 'W');
    /* a changed frame stays invisible until invalidated */
    uint64_t pa;
    pt_set(&b, root, LA, 1, (DATA + 0x1000) | P_P | P_U | P_W | P_D | P_A);
    ck_assert_int_eq(lookup_kind(&m, LA, ACC_READ, &pa), 'H');
    ck_assert_uint_eq(pa, DATA);
    mmu_invlpg(&m, LA);
    ck_assert_int_eq(lookup_kind(&m, LA, ACC_READ, &pa), 'W');
    ck_assert_uint_eq(pa, DATA + 0x1000);
    /* removing the mapping without INVLPG: the stale translation keeps working */
    pt_set(&b, root, LA, 1, 0);
    ck_assert_int_eq(lookup_kind(&m, LA, ACC_READ, &pa), 'H');
    ck_assert_uint_eq(pa, DATA + 0x1000);
}
END_TEST

START_TEST(psc_skips_levels)
{
    struct xlate x;
    struct mmu_counters *c = &m.tlb->stats.vp;
    ptb_map(&b, root, LA + 0x1000, DATA, 1, P_W);
    ck_assert(xl(LA, ACC_READ, &x));
    ck_assert_uint_eq(c->pte_reads[ACC_READ], 4);           /* cold: PML4E, PDPTE, PDE, PTE */
    ck_assert_uint_eq(x.cost, 8 + 1 + 4 * 12);              /* skylake: STLB 8 + PSC 1 + 4 x 12 */
    ck_assert(xl(LA + 0x1000, ACC_READ, &x));
    ck_assert_uint_eq(c->pte_reads[ACC_READ], 5);           /* PDE cache hit: only the PTE */
    ck_assert_uint_eq(x.cost, 8 + 1 + 12);
    ck_assert_uint_eq(m.tlb->stats.psc_hits[2], 1);
    ck_assert(xl(LA, ACC_READ, &x));
    ck_assert_uint_eq(x.cost, 0);                           /* L1 hit */
}
END_TEST


/* ---- legacy paging: PAE (SDM 4.4) and 32-bit (4.3) --------------------------------- */

#define W64(a, v) physmem_write(pm, (a), (v), 8)
#define W32(a, v) physmem_write(pm, (a), (v), 4)

START_TEST(pae_paging)
{
    struct xlate x;
    const uint64_t pdpt = 0x300020, pd = 0x301000, pt = 0x302000, pd2 = 0x303000;
    W64(pdpt + 1 * 8, pd | P_P);                       /* 0x40000000..0x7fffffff */
    W64(pd + 0 * 8, pt | P_P | P_W | P_U);
    W64(pt + 1 * 8, 0x801000 | P_P | P_W | P_U);       /* 0x40001000 -> 0x801000 */
    W64(pt + 2 * 8, 0x802000 | P_P | P_W | P_XD);      /* 0x40002000: not executable */
    W64(pdpt + 2 * 8, pd2 | P_P);                      /* 0x80000000.. */
    W64(pd2 + 0 * 8, 0x400000 | P_P | P_W | P_PS);     /* 2M page */
    W64(pdpt + 3 * 8, pd2 | P_P | P_W);                /* bit 1 is reserved in a PAE PDPTE */
    mmu_set_cr0(&m, T_CR0_PE);
    mmu_set_efer(&m, T_EFER_NXE);
    mmu_set_cr4(&m, T_CR4_PAE | T_CR4_PGE);
    mmu_set_cr3(&m, pdpt);
    mmu_set_cr0(&m, T_CR0_PE | T_CR0_WP | T_CR0_PG);
    ck_assert(xl(0x40001234, ACC_WRITE, &x));
    ck_assert_uint_eq(x.pa, 0x801234);
    ck_assert_uint_eq(physmem_read(pm, pt + 8, 8) & (P_A | P_D), P_A | P_D);
    ck_assert_uint_eq(physmem_read(pm, pd, 8) & (P_A | P_D), P_A);
    ck_assert_uint_eq(physmem_read(pm, pdpt + 8, 8), pd | P_P);    /* PDPTEs have no A bit */
    ck_assert(xl(0x80123456, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x523456);
    ck_assert(!xl(0x40002000, ACC_FETCH, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_I);
    ck_assert(!xl(0xc0000000, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
    ck_assert(!xl(0x00001000, ACC_READ, &x));                      /* PDPTE 0 not present */
    ck_assert_uint_eq(x.pf_err, 0);
    ck_assert_uint_eq(m.tlb->stats.psc_probes, 0);                 /* no PSCs in legacy modes */
}
END_TEST

START_TEST(paging_32bit_with_4m_pages)
{
    struct xlate x;
    const uint64_t pd = 0x300000, pt = 0x301000;
    W32(pd + 1 * 4, pt | P_P | P_W | P_U);                         /* 0x00400000.. */
    W32(pt + 1 * 4, 0x802000 | P_P | P_U);                         /* 0x00401000 -> 0x802000, RO */
    W32(pd + 0x300 * 4, 0x00c00000 | P_P | P_W | P_PS | (1u << 13));   /* 4M at 0xc0000000, PA bit 32 */
    W32(pd + 0x301 * 4, 0x00c00000 | P_P | P_W | P_PS | (1u << 21));   /* bit 21 reserved */
    mmu_set_cr0(&m, T_CR0_PE);
    mmu_set_efer(&m, T_EFER_NXE);                                  /* no effect in 32-bit paging */
    mmu_set_cr4(&m, (1ull << 4) | T_CR4_PGE);                      /* PSE */
    mmu_set_cr3(&m, pd);
    mmu_set_cr0(&m, T_CR0_PE | T_CR0_WP | T_CR0_PG);
    ck_assert(xl(0x00401abc, ACC_FETCH, &x));
    ck_assert_uint_eq(x.pa, 0x802abc);
    ck_assert_uint_eq(physmem_read(pm, pt + 4, 4), 0x802000 | P_P | P_U | P_A);
    ck_assert(!xl(0x00401000, ACC_WRITE, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_W);
    ck_assert(!xl(0x00801000, ACC_FETCH, &x));
    ck_assert_uint_eq(x.pf_err, 0);                                /* no I/D without SMEP here */
    ck_assert(!xl(0xc0400000, ACC_READ, &x));
    ck_assert_uint_eq(x.pf_err, PFERR_P | PFERR_RSVD);
    uint64_t pa;
    ck_assert_int_eq(lookup_kind(&m, 0xc0000010, ACC_READ, &pa), 'W');
    ck_assert_uint_eq(pa, 0x100c00010ull);
    ck_assert_int_eq(lookup_kind(&m, 0xc0300010, ACC_READ, &pa), 'W');  /* the other 2M half */
    ck_assert_uint_eq(pa, 0x100f00010ull);
    EXPECT_SEQ(&m, ACC_READ, "HH", 0xc0000000, 0xc0200000);
    mmu_invlpg(&m, 0xc03ff000);                                    /* drops both halves */
    EXPECT_SEQ(&m, ACC_READ, "WW", 0xc0000000, 0xc0200000);
    ck_assert_uint_eq(m.tlb->stats.vp.walks_completed[ACC_READ][PG_2M], 4);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("walk");
    TCase *t = tcase_create("walk");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, permissions_exhaustive);
    tcase_add_test(t, not_present_error_codes);
    tcase_add_test(t, reserved_bits);
    tcase_add_test(t, large_pages);
    tcase_add_test(t, accessed_dirty);
    tcase_add_test(t, paging_off_identity);
    tcase_add_test(t, smap_ac_and_implicit);
    tcase_add_test(t, stale_entries_and_spurious_fault);
    tcase_add_test(t, psc_skips_levels);
    tcase_add_test(t, pae_paging);
    tcase_add_test(t, paging_32bit_with_4m_pages);
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
