/* The flush hypercalls act on the target VPs' modelled TLBs (HV-SPEC.md A-6, B-2,
 * B-6.6 items 1 and 6): entries are filled with mmu_translate on each target's mmu,
 * the hypercall is issued by VP 0, and each entry is then found gone (the next
 * lookup walks, 'W') or kept (an L1/L2 hit, 'H'/'S').  Expected outcomes come from
 * the TLFS semantics, not from the implementation. */
#include "hv_test_machine.h"
#include "mmu_test_pt.h"

#include <stdlib.h>

#define ROOT_A  0x200000ull         /* PML4 of address space A */
#define ROOT_B  0x201000ull         /* PML4 of address space B */
#define LA_1    0x0000000040000000ull
#define LA_2    0x0000000040001000ull
#define LA_G    0x0000000050000000ull   /* a global page */
#define LA_BIG  0x0000000060000000ull   /* a 2M page */
#define DATA_PA 0x800000ull

struct fx {
    struct partition *p;
    struct ptb b;
};

/* Address spaces A and B both map LA_1, LA_2 (4K), LA_G (4K, global), LA_BIG (2M). */
static void fx_init(struct fx *f, unsigned nvps)
{
    f->p = hvt_new(nvps);
    hvt_enable(f->p);
    ptb_init(&f->b, f->p->pm, 0x300000);
    ptb_alloc(&f->b);       /* keep the pool off the roots */
    static const uint8_t zero[4096];
    hvt_put(f->p, ROOT_A, zero, sizeof zero);
    hvt_put(f->p, ROOT_B, zero, sizeof zero);
    uint64_t roots[2] = { ROOT_A, ROOT_B };
    for (int r = 0; r < 2; r++) {
        ptb_map(&f->b, roots[r], LA_1, DATA_PA, 1, P_W | P_A | P_D);
        ptb_map(&f->b, roots[r], LA_2, DATA_PA + 0x1000, 1, P_W | P_A | P_D);
        ptb_map(&f->b, roots[r], LA_G, DATA_PA + 0x2000, 1, P_W | P_A | P_D | P_G);
        ptb_map(&f->b, roots[r], LA_BIG, 0xA00000, 2, P_W | P_A | P_D);
    }
    for (unsigned i = 0; i < nvps; i++)
        mmu_enter_long_mode(&f->p->vps[i].mmu, ROOT_A, T_CR4_PCIDE);
}

static void fx_free(struct fx *f)
{
    partition_free(f->p);
}

static struct mmu *M(struct fx *f, unsigned vp)
{
    return &f->p->vps[vp].mmu;
}

/* Fill LA_1, LA_2, LA_G and two addresses of LA_BIG in VP vp's TLB (under its CR3). */
static void fill(struct fx *f, unsigned vp)
{
    EXPECT_SEQ(M(f, vp), ACC_READ, "WWWWH", LA_1, LA_2, LA_G, LA_BIG + 0x1000, LA_BIG + 0x100000);
}

static char kind(struct fx *f, unsigned vp, uint64_t la)
{
    char k = lookup_kind(M(f, vp), la, ACC_READ, NULL);
    return k == 'S' ? 'H' : k;      /* an STLB hit is still a kept entry */
}

/* Slow call from VP 0 with input q; returns the status, checks RIP advanced. */
static unsigned call(struct fx *f, uint64_t ctl, const uint64_t *q, size_t nq)
{
    uint64_t rax = hvt_slow(f->p, 0, ctl, q, nq);
    ck_assert_uint_eq(f->p->vps[0].cpu.rip, HVT_PAGE_GPA + 3);
    return HVT_STATUS(rax);
}

START_TEST(space_targets_only_the_mask)
{
    struct fx f;
    fx_init(&f, 4);
    for (unsigned v = 1; v < 4; v++)
        fill(&f, v);
    /* VPs 1 and 3, address space A, all mappings */
    const uint64_t in[3] = { ROOT_A, 0, (1u << 1) | (1u << 3) };
    ck_assert_uint_eq(call(&f, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, false, 0, 0, 0), in, 3), 0);
    for (unsigned v = 1; v < 4; v++) {
        char want = v == 2 ? 'H' : 'W';
        ck_assert_msg(kind(&f, v, LA_1) == want, "VP %u LA_1", v);
        ck_assert_msg(kind(&f, v, LA_G) == want, "VP %u global (no NON_GLOBAL flag: flushed)", v);
        ck_assert_msg(kind(&f, v, LA_BIG) == want, "VP %u 2M", v);
    }
    ck_assert_uint_eq(f.p->hv->st.flush_targets, 2);
    fx_free(&f);
}
END_TEST

START_TEST(non_global_keeps_globals)
{
    struct fx f;
    fx_init(&f, 2);
    fill(&f, 1);
    const uint64_t in[3] = { ROOT_A, HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY, 1u << 1 };
    ck_assert_uint_eq(call(&f, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, false, 0, 0, 0), in, 3), 0);
    ck_assert_int_eq(kind(&f, 1, LA_1), 'W');
    ck_assert_int_eq(kind(&f, 1, LA_2), 'W');
    ck_assert_int_eq(kind(&f, 1, LA_G), 'H');
    fx_free(&f);
}
END_TEST

START_TEST(list_on_2m_page_drops_whole_entry)
{
    struct fx f;
    fx_init(&f, 2);
    fill(&f, 1);
    /* one element: the single 4K page LA_BIG + 0x5000, inside the 2M mapping */
    const uint64_t in[4] = { ROOT_A, 0, 1u << 1, LA_BIG + 0x5000 };
    uint64_t rax = hvt_slow(f.p, 0, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, false, 0, 1, 0), in, 4);
    ck_assert_uint_eq(HVT_STATUS(rax), 0);
    ck_assert_uint_eq(HVT_REPS(rax), 1);
    ck_assert_int_eq(kind(&f, 1, LA_BIG + 0x1000), 'W');       /* the whole 2M entry went */
    ck_assert_int_eq(kind(&f, 1, LA_BIG + 0x100000), 'H');     /* refilled by the line above */
    ck_assert_int_eq(kind(&f, 1, LA_1), 'H');                  /* other pages stay */
    ck_assert_int_eq(kind(&f, 1, LA_2), 'H');
    fx_free(&f);
}
END_TEST

START_TEST(list_ranges_and_counts)
{
    struct fx f;
    fx_init(&f, 2);
    fill(&f, 1);
    /* LA_1 with 1 additional page covers LA_2 too; LA_G alone; a non-canonical GVA is skipped */
    const uint64_t in[6] = { ROOT_A, 0, 1u << 1, LA_1 | 1, LA_G, 0x0000800000000000ull };
    uint64_t rax = hvt_slow(f.p, 0, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, false, 0, 3, 0), in, 6);
    ck_assert_uint_eq(HVT_STATUS(rax), 0);
    ck_assert_uint_eq(HVT_REPS(rax), 3);
    ck_assert_int_eq(kind(&f, 1, LA_1), 'W');
    ck_assert_int_eq(kind(&f, 1, LA_2), 'W');
    ck_assert_int_eq(kind(&f, 1, LA_G), 'W');                  /* List drops globals too */
    ck_assert_int_eq(kind(&f, 1, LA_BIG), 'H');
    ck_assert_uint_eq(f.p->hv->st.flush_pages, 3);
    fx_free(&f);
}
END_TEST

START_TEST(extended_large_page_element)
{
    struct fx f;
    fx_init(&f, 2);
    fill(&f, 1);
    /* extended format, LargePage = 1, 2 MiB, large-page number of LA_BIG */
    const uint64_t in[4] = { ROOT_A, HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, 1u << 1, LA_BIG | (1u << 11) };
    ck_assert_uint_eq(call(&f, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, false, 0, 1, 0), in, 4), 0);
    ck_assert_int_eq(kind(&f, 1, LA_BIG + 0x1000), 'W');
    ck_assert_int_eq(kind(&f, 1, LA_1), 'H');
    /* reserved bits 20:13 of a large element: INVALID_PARAMETER, no reps done */
    const uint64_t bad[4] = { ROOT_A, HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, 1u << 1, LA_BIG | (1u << 11) | (1u << 14) };
    uint64_t rax = hvt_slow(f.p, 0, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, false, 0, 1, 0), bad, 4);
    ck_assert_uint_eq(HVT_STATUS(rax), HV_STATUS_INVALID_PARAMETER);
    ck_assert_uint_eq(HVT_REPS(rax), 0);
    fx_free(&f);
}
END_TEST

/* AddressSpace matching: entries of every PCID filled under root A go, entries
 * filled under root B stay (TLB-MODEL.md B-1.5, B-6.6 item 6). */
START_TEST(address_space_matches_every_pcid_of_the_root)
{
    struct fx f;
    fx_init(&f, 2);
    struct mmu *m = M(&f, 1);
    const uint64_t NOFLUSH = 1ull << 63;
    mmu_set_cr3(m, ROOT_A | 1);
    EXPECT_SEQ(m, ACC_READ, "WW", LA_1, LA_2);
    mmu_set_cr3(m, ROOT_A | 2);
    EXPECT_SEQ(m, ACC_READ, "W", LA_1);
    mmu_set_cr3(m, ROOT_B | 3);
    EXPECT_SEQ(m, ACC_READ, "WW", LA_1, LA_2);
    const uint64_t in[3] = { ROOT_A, 0, 1u << 1 };
    ck_assert_uint_eq(call(&f, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, false, 0, 0, 0), in, 3), 0);
    ck_assert_int_eq(kind(&f, 1, LA_1), 'H');                  /* PCID 3 under B: kept */
    ck_assert_int_eq(kind(&f, 1, LA_2), 'H');
    mmu_set_cr3(m, ROOT_A | 1 | NOFLUSH);
    ck_assert_int_eq(kind(&f, 1, LA_1), 'W');                  /* PCID 1 under A: gone */
    ck_assert_int_eq(kind(&f, 1, LA_2), 'W');
    mmu_set_cr3(m, ROOT_A | 2 | NOFLUSH);
    ck_assert_int_eq(kind(&f, 1, LA_1), 'W');                  /* PCID 2 under A: gone */
    fx_free(&f);
}
END_TEST

START_TEST(all_address_spaces)
{
    struct fx f;
    fx_init(&f, 2);
    struct mmu *m = M(&f, 1);
    mmu_set_cr3(m, ROOT_A | 1);
    EXPECT_SEQ(m, ACC_READ, "W", LA_1);
    mmu_set_cr3(m, ROOT_B | 3);
    EXPECT_SEQ(m, ACC_READ, "W", LA_1);
    const uint64_t in[3] = { 0, HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES | HV_FLUSH_ALL_PROCESSORS, 0 };
    ck_assert_uint_eq(call(&f, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, false, 0, 0, 0), in, 3), 0);
    ck_assert_int_eq(kind(&f, 1, LA_1), 'W');
    mmu_set_cr3(m, ROOT_A | 1 | (1ull << 63));
    ck_assert_int_eq(kind(&f, 1, LA_1), 'W');
    fx_free(&f);
}
END_TEST

/* Ex forms with a sparse set naming VP 65 (bank 1), as the KVM selftest does. */
START_TEST(ex_sparse_bank1)
{
    struct fx f;
    fx_init(&f, 68);
    fill(&f, 2);
    fill(&f, 65);
    fill(&f, 66);
    /* SpaceEx {65}: ValidBanksMask = 0b10, bank[0] = bit 1 */
    const uint64_t in[5] = { ROOT_A, 0, HV_GENERIC_SET_SPARSE_4K, 1u << 1, 1u << 1 };
    ck_assert_uint_eq(call(&f, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, false, 1, 0, 0), in, 5), 0);
    ck_assert_int_eq(kind(&f, 65, LA_1), 'W');
    ck_assert_int_eq(kind(&f, 66, LA_1), 'H');
    ck_assert_int_eq(kind(&f, 2, LA_1), 'H');
    /* ListEx {2, 65}: banks 0 and 1, then the GVA at index 2 */
    const uint64_t in2[7] = { ROOT_A, 0, HV_GENERIC_SET_SPARSE_4K, 3, 1u << 2, 1u << 1, LA_2 };
    uint64_t rax = hvt_slow(f.p, 0, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, false, 2, 1, 0), in2, 7);
    ck_assert_uint_eq(HVT_STATUS(rax), 0);
    ck_assert_uint_eq(HVT_REPS(rax), 1);
    ck_assert_int_eq(kind(&f, 2, LA_2), 'W');
    ck_assert_int_eq(kind(&f, 65, LA_2), 'W');
    ck_assert_int_eq(kind(&f, 66, LA_2), 'H');
    ck_assert_int_eq(kind(&f, 2, LA_G), 'H');
    /* SpaceEx SET_ALL */
    const uint64_t in3[4] = { ROOT_A, 0, HV_GENERIC_SET_ALL, 0 };
    ck_assert_uint_eq(call(&f, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, false, 0, 0, 0), in3, 4), 0);
    ck_assert_int_eq(kind(&f, 66, LA_G), 'W');
    ck_assert_int_eq(kind(&f, 2, LA_BIG), 'W');
    fx_free(&f);
}
END_TEST

/* XMM-fast ListEx: RDX = AddressSpace, R8 = flags, XMM0 = {format, valid mask},
 * XMM1 = {bank 0, GVA} (B-1.6 byte stream). */
START_TEST(xmm_fast_list_ex)
{
    struct fx f;
    fx_init(&f, 4);
    fill(&f, 3);
    fill(&f, 1);
    struct cpu *c = &f.p->vps[0].cpu;
    c->fpu.xmm[0].q[0] = HV_GENERIC_SET_SPARSE_4K;
    c->fpu.xmm[0].q[1] = 1;
    c->fpu.xmm[1].q[0] = 1u << 3;
    c->fpu.xmm[1].q[1] = LA_1;
    int e = hvt_call(f.p, 0, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, true, 1, 1, 0), ROOT_A, 0);
    ck_assert_int_eq(e, HVT_NO_FAULT);
    ck_assert_uint_eq(c->gpr[RAX], 1ull << 32);                   /* SUCCESS, 1 rep */
    ck_assert_uint_eq(c->gpr[RDX], ROOT_A);                       /* fast input registers preserved */
    ck_assert_uint_eq(c->fpu.xmm[1].q[1], LA_1);
    ck_assert_int_eq(kind(&f, 3, LA_1), 'W');
    ck_assert_int_eq(kind(&f, 3, LA_2), 'H');
    ck_assert_int_eq(kind(&f, 1, LA_1), 'H');
    /* more than 112 bytes of fast input: INVALID_HYPERCALL_INPUT */
    e = hvt_call(f.p, 0, hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, true, 1, 12, 0), ROOT_A, 0);
    ck_assert_int_eq(e, HVT_NO_FAULT);
    ck_assert_uint_eq(HVT_STATUS(c->gpr[RAX]), HV_STATUS_INVALID_HYPERCALL_INPUT);
    fx_free(&f);
}
END_TEST

/* Rep continuation: a List call too long for one invocation returns with RIP on the
 * VMCALL and RCX's rep start advanced; re-executing finishes it (TLFS continuation). */
START_TEST(rep_continuation)
{
    struct fx f;
    fx_init(&f, 8);
    for (unsigned v = 1; v < 8; v++)
        fill(&f, v);
    enum { N = 400 };
    static uint64_t in[3 + N];
    in[0] = ROOT_A;
    in[1] = HV_FLUSH_ALL_PROCESSORS;
    in[2] = 0;
    for (unsigned i = 0; i < N; i++)
        in[3 + i] = 0x0000000070000000ull + (uint64_t)i * 0x1000000;   /* unmapped: nothing to drop */
    in[3 + N - 1] = LA_1;                                              /* the last element matters */
    hvt_put_u64s(f.p, HVT_IN_GPA, in, 3 + N);
    struct cpu *c = &f.p->vps[0].cpu;
    uint64_t ctl = hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, false, 0, N, 0);
    unsigned entries = 0, last_start = 0;
    c->gpr[RAX] = 0x1234;
    for (;;) {
        ck_assert_int_eq(hvt_call(f.p, 0, ctl, HVT_IN_GPA, 0), HVT_NO_FAULT);
        entries++;
        ck_assert(entries < 100);
        if (c->rip == HVT_PAGE_GPA + 3)
            break;
        /* not done: RIP on the VMCALL, RAX not written, RCX rep start advanced */
        ck_assert_uint_eq(c->rip, HVT_PAGE_GPA);
        ck_assert_uint_eq(c->gpr[RAX], 0x1234);
        unsigned start = (unsigned)(c->gpr[RCX] >> 48 & 0xFFF);
        ck_assert_uint_gt(start, last_start);
        ck_assert_uint_lt(start, N);
        ck_assert_uint_eq(c->gpr[RCX] & ~(0xFFFull << 48), ctl & ~(0xFFFull << 48));
        ck_assert_int_eq(kind(&f, 5, LA_1), 'H');       /* the last element is not done yet */
        last_start = start;
        ctl = c->gpr[RCX];
    }
    ck_assert_uint_gt(entries, 1);                      /* 400 x 8 targets exceeds 50 us */
    ck_assert_uint_eq(c->gpr[RAX], (uint64_t)N << 32);   /* reps completed is absolute */
    ck_assert_uint_eq(f.p->hv->st.continuations, entries - 1);
    ck_assert_uint_eq(f.p->hv->st.flush_calls, 1);
    for (unsigned v = 0; v < 8; v++)
        ck_assert_int_eq(kind(&f, v, LA_1), 'W');
    fx_free(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_flush");
    TCase *t = tcase_create("core");
    tcase_add_test(t, space_targets_only_the_mask);
    tcase_add_test(t, non_global_keeps_globals);
    tcase_add_test(t, list_on_2m_page_drops_whole_entry);
    tcase_add_test(t, list_ranges_and_counts);
    tcase_add_test(t, extended_large_page_element);
    tcase_add_test(t, address_space_matches_every_pcid_of_the_root);
    tcase_add_test(t, all_address_spaces);
    tcase_add_test(t, ex_sparse_bank1);
    tcase_add_test(t, xmm_fast_list_ex);
    tcase_add_test(t, rep_continuation);
    tcase_set_timeout(t, 120);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
