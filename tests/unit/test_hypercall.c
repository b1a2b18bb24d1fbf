/* The Hyper-V interface seen from a guest: detection CPUID leaves, synthetic MSRs,
 * the hypercall page overlay, and the hypercall dispatcher's validation order and
 * status matrix (HV-SPEC.md A-1..A-5, B-1, B-2.6, B-6.2, B-6.6 item 2).
 * Expected values come from the spec tables, not from the code. */
#include "cpu/cpu_models.h"
#include "hv_test_machine.h"

#include <stdlib.h>

static uint32_t cpuid(struct partition *p, uint32_t leaf, unsigned reg)
{
    uint32_t out[4] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
    cpu_cpuid(&p->vps[0].cpu, leaf, 0, out);
    return out[reg];
}
enum { EAX, EBX, ECX, EDX };

/* --- detection ------------------------------------------------------------------ */

START_TEST(cpuid_profile_default)
{
    struct partition *p = hvt_new(3);
    ck_assert_uint_eq(cpuid(p, 1, ECX) >> 31, 1);
    ck_assert_uint_eq(cpuid(p, 0x40000000, EAX), 0x40000005);
    ck_assert_uint_eq(cpuid(p, 0x40000000, EBX), 0x7263694D);     /* "Micr" */
    ck_assert_uint_eq(cpuid(p, 0x40000000, ECX), 0x666F736F);     /* "osof" */
    ck_assert_uint_eq(cpuid(p, 0x40000000, EDX), 0x76482074);     /* "t Hv" */
    ck_assert_uint_eq(cpuid(p, 0x40000001, EAX), 0x31237648);     /* "Hv#1" */
    /* bits 1, 5, 6, 9, 11, 15 = 0x8A62 (B-5.3 + the optional bits, all implemented) */
    ck_assert_uint_eq(cpuid(p, 0x40000003, EAX), 0x8A62);
    ck_assert_uint_eq(cpuid(p, 0x40000003, EBX), 0);             /* Linux BUG()s on bit 1 */
    ck_assert_uint_eq(cpuid(p, 0x40000003, EDX), (1u << 4) | (1u << 8) | (1u << 14));
    ck_assert_uint_eq(cpuid(p, 0x40000004, EAX), (1u << 2) | (1u << 10) | (1u << 11));
    ck_assert_uint_eq(cpuid(p, 0x40000004, EBX), 0xFFFFFFFF);
    ck_assert_uint_eq(cpuid(p, 0x40000005, EAX), 3);
    ck_assert_uint_eq(cpuid(p, 0x40000006, EAX), 0);             /* beyond the maximum leaf */
    partition_free(p);
}
END_TEST

START_TEST(cpuid_off_and_switches)
{
    struct hv_config off = { .off = true };
    struct partition *p = hvt_new_cfg(1, &off);
    ck_assert_uint_eq(cpuid(p, 1, ECX) >> 31, 0);
    ck_assert_uint_eq(cpuid(p, 0x40000000, EAX), 0);
    ck_assert_uint_eq(cpuid(p, 0x40000000, EBX), 0);
    uint64_t v;
    ck_assert(!hvt_rdmsr(p, 0, HV_MSR_VP_INDEX, &v));            /* #GP: no interface */
    ck_assert_int_eq(hvt_call(p, 0, 2, 0, 0), EXC_UD);
    partition_free(p);

    struct hv_config cfg = { .features_off = HVF_BIT(HVF_TLBFLUSH) | HVF_BIT(HVF_XMM_INPUT)
                                             | HVF_BIT(HVF_TSC_PAGE) | HVF_BIT(HVF_FREQ),
                             .features_on = HVF_BIT(HVF_VPREGS) };
    p = hvt_new_cfg(1, &cfg);
    ck_assert_uint_eq(cpuid(p, 0x40000003, EAX), 0x8062);         /* 1, 5, 6, 15 */
    ck_assert_uint_eq(cpuid(p, 0x40000003, EBX), 1u << 17);       /* AccessVpRegisters */
    ck_assert_uint_eq(cpuid(p, 0x40000003, EDX), 0);              /* no XMM, no freq, no ext GVA (needs tlbflush) */
    ck_assert_uint_eq(cpuid(p, 0x40000004, EAX), (1u << 10) | (1u << 11));
    ck_assert(!hvt_rdmsr(p, 0, HV_MSR_REFERENCE_TSC, &v));
    ck_assert(!hvt_rdmsr(p, 0, HV_MSR_TSC_FREQUENCY, &v));
    partition_free(p);
}
END_TEST

/* --- MSRs ------------------------------------------------------------------------ */

START_TEST(msr_hypercall_page_overlay)
{
    struct partition *p = hvt_new(2);
    uint64_t v;
    /* RAM under the page holds something else: the overlay must hide it. */
    static const uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    hvt_put(p, HVT_PAGE_GPA, junk, sizeof junk);
    /* enable ignored while the OS ID is 0 (TLFS) */
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_HYPERCALL, HVT_PAGE_GPA | 1));
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_HYPERCALL, &v));
    ck_assert_uint_eq(v & 1, 0);
    ck_assert_uint_eq(physmem_read(p->pm, HVT_PAGE_GPA, 1), 1);
    hvt_enable(p);
    ck_assert(hvt_rdmsr(p, 1, HV_MSR_HYPERCALL, &v));              /* partition-wide */
    ck_assert_uint_eq(v, HVT_PAGE_GPA | 1);
    ck_assert_uint_eq(physmem_read(p->pm, HVT_PAGE_GPA, 4), 0xC3C1010Fu);   /* VMCALL; RET */
    ck_assert_uint_eq(physmem_read(p->pm, HVT_PAGE_GPA + 4, 1), 0xCC);
    ck_assert_uint_eq(physmem_read(p->pm, HVT_PAGE_GPA + 4095, 1), 0xCC);
    physmem_write(p->pm, HVT_PAGE_GPA, 0x90909090, 4);                  /* guest write: no effect */
    ck_assert_uint_eq(physmem_read(p->pm, HVT_PAGE_GPA, 4), 0xC3C1010Fu);
    /* move it; the old place shows RAM again */
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_HYPERCALL, 0x7000 | 1));
    ck_assert_uint_eq(physmem_read(p->pm, HVT_PAGE_GPA, 1), 1);
    ck_assert_uint_eq(physmem_read(p->pm, 0x7000, 3), 0xC1010F);
    /* OS ID 0 disables it */
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_GUEST_OS_ID, 0));
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_HYPERCALL, &v));
    ck_assert_uint_eq(v & 1, 0);
    ck_assert_uint_eq(physmem_read(p->pm, 0x7000, 1), 0);
    /* GPFN beyond the physical address space: #GP */
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_GUEST_OS_ID, HVT_LINUX_OS_ID));
    ck_assert(!hvt_wrmsr(p, 0, HV_MSR_HYPERCALL, (1ull << 52) | 1));
    /* locked: immutable */
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_HYPERCALL, HVT_PAGE_GPA | 3));
    ck_assert(!hvt_wrmsr(p, 0, HV_MSR_HYPERCALL, 0));
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_HYPERCALL, &v));
    ck_assert_uint_eq(v, HVT_PAGE_GPA | 3);
    partition_free(p);
}
END_TEST

START_TEST(msr_hypercall_page_amd)
{
    struct partition *p = hvt_new(1);
    cpu_set_model(&p->vps[0].cpu, cpu_model_find("zen2"));   /* QUIRK_HYPERCALL_VMMCALL */
    hvt_enable(p);
    ck_assert_uint_eq(physmem_read(p->pm, HVT_PAGE_GPA, 4), 0xC3D9010Fu);   /* VMMCALL; RET */
    partition_free(p);
}
END_TEST

START_TEST(msr_vp_index_assist_invariant)
{
    struct partition *p = hvt_new(3);
    uint64_t v;
    for (unsigned i = 0; i < 3; i++) {
        ck_assert(hvt_rdmsr(p, i, HV_MSR_VP_INDEX, &v));
        ck_assert_uint_eq(v, i);
    }
    ck_assert(!hvt_wrmsr(p, 1, HV_MSR_VP_INDEX, 7));                  /* read-only */
    ck_assert(hvt_wrmsr(p, 2, HV_MSR_VP_ASSIST_PAGE, 0x123000 | 1));   /* stored, per VP */
    ck_assert(hvt_rdmsr(p, 2, HV_MSR_VP_ASSIST_PAGE, &v));
    ck_assert_uint_eq(v, 0x123001);
    ck_assert(hvt_rdmsr(p, 1, HV_MSR_VP_ASSIST_PAGE, &v));
    ck_assert_uint_eq(v, 0);
    ck_assert(!hvt_wrmsr(p, 2, HV_MSR_VP_ASSIST_PAGE, 0x123000 | 2)); /* reserved bit */
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_TSC_INVARIANT_CTL, 1));
    ck_assert(!hvt_wrmsr(p, 0, HV_MSR_TSC_INVARIANT_CTL, 2));
    ck_assert(!hvt_rdmsr(p, 0, 0x40000010, &v));                      /* VP_RUNTIME: not advertised */
    ck_assert(!hvt_rdmsr(p, 0, 0x40000080, &v));                      /* SynIC: not advertised */
    partition_free(p);
}
END_TEST

START_TEST(msr_reference_time)
{
    struct partition *p = hvt_new(2);
    uint64_t v, f;
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_TSC_FREQUENCY, &f));
    ck_assert_uint_eq(f, CLOCK_DEFAULT_HZ);
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_APIC_FREQUENCY, &f));
    ck_assert_uint_eq(f, CLOCK_DEFAULT_HZ);                          /* the APIC timer counts core cycles */
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_TIME_REF_COUNT, &v));
    ck_assert_uint_eq(v, 0);                                           /* starts at 0 */
    p->vps[0].cpu.cycles = 3000000000ull;                              /* 1 s at 3 GHz */
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_TIME_REF_COUNT, &v));
    ck_assert(v >= 9999999 && v <= 10000000);                          /* 10^7 x 100 ns */
    ck_assert(!hvt_wrmsr(p, 0, HV_MSR_TIME_REF_COUNT, 5));
    /* TSC page, written before the OS ID (Linux does so) */
    const uint64_t tsc_gpa = 0x20000;
    ck_assert(hvt_wrmsr(p, 1, HV_MSR_REFERENCE_TSC, tsc_gpa | 1));
    ck_assert(hvt_rdmsr(p, 0, HV_MSR_REFERENCE_TSC, &v));
    ck_assert_uint_eq(v, tsc_gpa | 1);
    uint32_t seq = (uint32_t)physmem_read(p->pm, tsc_gpa, 4);
    uint64_t scale = physmem_read(p->pm, tsc_gpa + 8, 8);
    int64_t off = (int64_t)physmem_read(p->pm, tsc_gpa + 16, 8);
    ck_assert(seq != 0 && seq != 0xFFFFFFFF);
    /* scale = (10^7 << 64) / 3e9 = 2^64 / 300 */
    ck_assert_uint_eq(scale, (uint64_t)(((unsigned __int128)1 << 64) / 300));
    /* the guest's computation agrees with the MSR at several TSC values */
    static const uint64_t tscs[] = { 1, 299, 300, 123456789, 987654321012ull };
    for (unsigned i = 0; i < sizeof tscs / sizeof tscs[0]; i++) {
        p->vps[1].cpu.cycles = tscs[i];
        p->time_floor = 0;      /* the test moves VP 1's clock by hand, backwards included */
        uint64_t page = (uint64_t)(((unsigned __int128)cpu_tsc(&p->vps[1].cpu) * scale) >> 64) + (uint64_t)off;
        ck_assert(hvt_rdmsr(p, 1, HV_MSR_TIME_REF_COUNT, &v));
        ck_assert_uint_eq(v, page);
        ck_assert(v == tscs[i] / 300 || v + 1 == tscs[i] / 300);      /* 100 ns units, rounded down */
    }
    partition_free(p);
}
END_TEST

/* --- the environment (B-1.8) ------------------------------------------------------ */

START_TEST(ud_cases)
{
    struct partition *p = hvt_new(1);
    struct cpu *c = &p->vps[0].cpu;
    /* OS ID 0 */
    ck_assert_int_eq(hvt_call(p, 0, 0xbeef, 0, 0), EXC_UD);
    ck_assert_uint_eq(c->rip, HVT_PAGE_GPA);                          /* faulting: RIP on the VMCALL */
    hvt_enable(p);
    /* CPL 3 */
    c->cpl = 3;
    ck_assert_int_eq(hvt_call(p, 0, 0xbeef, 0, 0), EXC_UD);
    c->cpl = 0;
    /* real mode */
    c->mode = MODE_REAL;
    ck_assert_int_eq(hvt_call(p, 0, 0xbeef, 0, 0), EXC_UD);
    c->mode = MODE_LONG64;
    ck_assert_int_eq(hvt_call(p, 0, 0xbeef, 0, 0), HVT_NO_FAULT);
    ck_assert_uint_eq(HVT_STATUS(c->gpr[RAX]), HV_STATUS_INVALID_HYPERCALL_CODE);
    ck_assert_uint_eq(p->hv->st.ud, 3);
    partition_free(p);
}
END_TEST

START_TEST(fast_flush_without_xmm_is_ud)
{
    struct hv_config cfg = { .features_off = HVF_BIT(HVF_XMM_INPUT) };
    struct partition *p = hvt_new_cfg(2, &cfg);
    hvt_enable(p);
    /* 24 bytes of input do not fit RDX + R8: #UD without XMM input (B-1.6) */
    ck_assert_int_eq(hvt_call(p, 0, hvt_ctl(2, true, 0, 0, 0), 0, 1), EXC_UD);
    partition_free(p);

    p = hvt_new(2);
    hvt_enable(p);
    struct cpu *c = &p->vps[0].cpu;
    c->fpu.xmm[0].q[0] = 0;                                           /* mask */
    ck_assert_int_eq(hvt_call(p, 0, hvt_ctl(2, true, 0, 0, 0), 0,
                              HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES), HVT_NO_FAULT);
    ck_assert_uint_eq(c->gpr[RAX], HV_STATUS_SUCCESS);
    ck_assert_uint_eq(p->hv->st.xmm_fast, 1);
    partition_free(p);
}
END_TEST

/* --- status matrix ------------------------------------------------------------------ */

struct status_case {
    const char *what;
    uint64_t ctl;
    uint64_t in[8];
    unsigned nq;
    uint64_t in_gpa;        /* 0: HVT_IN_GPA */
    unsigned expect;
};

#define SPACE HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE
#define LIST  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST
#define SPEX  HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX
#define LIEX  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX
#define IPI   HVCALL_SEND_SYNTHETIC_CLUSTER_IPI
#define IPIEX HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX
#define ALLP  HV_FLUSH_ALL_PROCESSORS
#define ALLAS HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES

/* Strict TLFS (the default), with 2 VPs. */
static const struct status_case strict_cases[] = {
    { "unknown code 0xbeef", 0xbeef, {0}, 3, 0, HV_STATUS_INVALID_HYPERCALL_CODE },
    { "all-zero Space (mask 0 without ALL)", hvt_ctl(SPACE, false, 0, 0, 0), {0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "all-zero SpaceEx (empty sparse set)", hvt_ctl(SPEX, false, 0, 0, 0), {0}, 4, 0, HV_STATUS_INVALID_PARAMETER },
    { "Space to VP 1", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS, 2}, 3, 0, HV_STATUS_SUCCESS },
    { "Space with ALL_PROCESSORS, mask 0", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS | ALLP, 0}, 3, 0, HV_STATUS_SUCCESS },
    { "Space to a VP that does not exist", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS, 1ull << 40}, 3, 0, HV_STATUS_SUCCESS },
    { "reserved control bit 27", hvt_ctl(SPACE, false, 0, 0, 0) | 1ull << 27, {0, ALLAS | ALLP}, 3, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "reserved control bit 31 (nested)", hvt_ctl(SPACE, false, 0, 0, 0) | 1ull << 31, {0, ALLAS | ALLP}, 3, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "reserved control bit 44", hvt_ctl(SPACE, false, 0, 0, 0) | 1ull << 44, {0, ALLAS | ALLP}, 3, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "reserved control bit 63", hvt_ctl(SPACE, false, 0, 0, 0) | 1ull << 63, {0, ALLAS | ALLP}, 3, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "reserved bit before unknown code (step 3 < 5)", 0xbeef | 1ull << 28, {0}, 0, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "rep count on a simple call", hvt_ctl(SPACE, false, 0, 1, 0), {0, ALLAS | ALLP}, 4, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "rep start on a simple call", hvt_ctl(SPACE, false, 0, 0, 1), {0, ALLAS | ALLP}, 3, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "List with rep count 0", hvt_ctl(LIST, false, 0, 0, 0), {0, ALLAS | ALLP}, 3, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "rep start == count", hvt_ctl(LIST, false, 0, 2, 2), {0, ALLAS | ALLP, 0, 0x1000, 0x2000}, 5, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "varhead on a non-variable call", hvt_ctl(SPACE, false, 1, 0, 0), {0, ALLAS | ALLP, 0, 0}, 4, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "misaligned input GPA", hvt_ctl(SPACE, false, 0, 0, 0), {0}, 0, HVT_IN_GPA + 4, HV_STATUS_INVALID_ALIGNMENT },
    { "input straddles a page", hvt_ctl(SPACE, false, 0, 0, 0), {0}, 0, HVT_IN_GPA + 4088, HV_STATUS_INVALID_ALIGNMENT },
    { "input GPA beyond RAM", hvt_ctl(SPACE, false, 0, 0, 0), {0}, 0, 1ull << 44, HV_STATUS_INVALID_ALIGNMENT },
    { "input GPA on the hypercall page", hvt_ctl(SPACE, false, 0, 0, 0), {0}, 0, HVT_PAGE_GPA, HV_STATUS_INVALID_ALIGNMENT },
    { "List with 4095 reps (straddles)", hvt_ctl(LIST, false, 0, 4095, 0), {0, ALLAS | ALLP}, 3, 0, HV_STATUS_INVALID_ALIGNMENT },
    { "shape before alignment (step 6 < 7)", hvt_ctl(SPACE, false, 0, 1, 0), {0}, 0, HVT_IN_GPA + 4, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "varhead != popcount", hvt_ctl(SPEX, false, 2, 0, 0), {0, ALLAS, 0, 1, 1, 0}, 6, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "varhead != popcount before flags (8 < 9)", hvt_ctl(SPEX, false, 0, 0, 0), {0, 1ull << 20, 0, 1}, 4, 0, HV_STATUS_INVALID_HYPERCALL_INPUT },
    { "NON_GLOBAL on a List call", hvt_ctl(LIST, false, 0, 1, 0), {0, ALLAS | ALLP | HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY, 0, 0x1000}, 4, 0, HV_STATUS_INVALID_PARAMETER },
    { "NON_GLOBAL on a Space call", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS | ALLP | HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY, 0}, 3, 0, HV_STATUS_SUCCESS },
    { "reserved flag bit 4", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS | ALLP | 1ull << 4, 0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "reserved flag bit 63", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS | ALLP | 1ull << 63, 0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "EXTENDED flag on a Space call", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS | ALLP | HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, 0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "EXTENDED flag on a List call", hvt_ctl(LIST, false, 0, 1, 0), {0, ALLAS | ALLP | HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, 0, 0x1000}, 4, 0, HV_STATUS_SUCCESS },
    { "AddressSpace with reserved CR3 bits", hvt_ctl(SPACE, false, 0, 0, 0), {1ull << 62, ALLP, 0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "same AddressSpace, ALL spaces", hvt_ctl(SPACE, false, 0, 0, 0), {1ull << 62, ALLP | ALLAS, 0}, 3, 0, HV_STATUS_SUCCESS },
    { "format 2", hvt_ctl(SPEX, false, 0, 0, 0), {0, ALLAS, 2, 0}, 4, 0, HV_STATUS_INVALID_PARAMETER },
    { "format 1 (ALL)", hvt_ctl(SPEX, false, 0, 0, 0), {0, ALLAS, 1, 0}, 4, 0, HV_STATUS_SUCCESS },
    { "SpaceEx with an all-zero bank", hvt_ctl(SPEX, false, 1, 0, 0), {0, ALLAS, 0, 1, 0}, 5, 0, HV_STATUS_INVALID_PARAMETER },
    { "SpaceEx to VP 1", hvt_ctl(SPEX, false, 1, 0, 0), {0, ALLAS, 0, 1, 2}, 5, 0, HV_STATUS_SUCCESS },
    { "ListEx to VP 1", hvt_ctl(LIEX, false, 1, 1, 0), {0, ALLAS, 0, 1, 2, 0x1000}, 6, 0, HV_STATUS_SUCCESS },
    { "IPI vector 0 (all-zero input)", hvt_ctl(IPI, false, 0, 0, 0), {0}, 2, 0, HV_STATUS_INVALID_PARAMETER },
    { "IPI vector 0x0F", hvt_ctl(IPI, false, 0, 0, 0), {0x0F, 2}, 2, 0, HV_STATUS_INVALID_PARAMETER },
    { "IPI vector 0x100", hvt_ctl(IPI, false, 0, 0, 0), {0x100, 2}, 2, 0, HV_STATUS_INVALID_PARAMETER },
    { "IPI with TargetVtl set", hvt_ctl(IPI, false, 0, 0, 0), {0x10 | 1ull << 32, 2}, 2, 0, HV_STATUS_INVALID_PARAMETER },
    { "IPI padding set", hvt_ctl(IPI, false, 0, 0, 0), {0x10 | 1ull << 40, 2}, 2, 0, HV_STATUS_INVALID_PARAMETER },
    { "IPI vector 0x10 to VP 1", hvt_ctl(IPI, false, 0, 0, 0), {0x10, 2}, 2, 0, HV_STATUS_SUCCESS },
    { "IPI mask 0", hvt_ctl(IPI, false, 0, 0, 0), {0xFE, 0}, 2, 0, HV_STATUS_INVALID_PARAMETER },
    { "IpiEx all-zero (no banks)", hvt_ctl(IPIEX, false, 0, 0, 0), {0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "IpiEx good vector, no banks", hvt_ctl(IPIEX, false, 0, 0, 0), {0xFE, 0, 0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "IpiEx good vector, empty bank", hvt_ctl(IPIEX, false, 1, 0, 0), {0xFE, 0, 1, 0}, 4, 0, HV_STATUS_INVALID_PARAMETER },
    { "IpiEx format 2", hvt_ctl(IPIEX, false, 0, 0, 0), {0xFE, 2, 0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "IpiEx bad vector with a bank", hvt_ctl(IPIEX, false, 1, 0, 0), {0x0F, 0, 1, 2}, 4, 0, HV_STATUS_INVALID_PARAMETER },
    { "IpiEx to VP 1", hvt_ctl(IPIEX, false, 1, 0, 0), {0xFE, 0, 1, 2}, 4, 0, HV_STATUS_SUCCESS },
    { "IpiEx SET_ALL", hvt_ctl(IPIEX, false, 0, 0, 0), {0xFE, 1, 0}, 3, 0, HV_STATUS_SUCCESS },
    { "GetVpRegisters without AccessVpRegisters", hvt_ctl(HVCALL_GET_VP_REGISTERS, false, 0, 1, 0), {~0ull, 0xFFFFFFFE, 1}, 3, 0, HV_STATUS_ACCESS_DENIED },
    { "ACCESS_DENIED before reserved bits (2 < 3)", hvt_ctl(HVCALL_SET_VP_REGISTERS, false, 0, 1, 0) | 1ull << 27, {0}, 0, 0, HV_STATUS_ACCESS_DENIED },
};

/* compat=kvm: KVM's leniencies (B-2.4, B-2.6, B-6.2 "with bit 2: SUCCESS"). */
static const struct status_case kvm_cases[] = {
    { "all-zero Space (mask 0 = all)", hvt_ctl(SPACE, false, 0, 0, 0), {0}, 3, 0, HV_STATUS_SUCCESS },
    { "all-zero SpaceEx (no banks)", hvt_ctl(SPEX, false, 0, 0, 0), {0}, 4, 0, HV_STATUS_SUCCESS },
    { "format 2 = all", hvt_ctl(SPEX, false, 0, 0, 0), {0, ALLAS, 2, 0}, 4, 0, HV_STATUS_SUCCESS },
    { "reserved flags still rejected", hvt_ctl(SPACE, false, 0, 0, 0), {0, ALLAS | 1ull << 4, 0}, 3, 0, HV_STATUS_INVALID_PARAMETER },
    { "IpiEx all-zero", hvt_ctl(IPIEX, false, 0, 0, 0), {0}, 3, 0, HV_STATUS_SUCCESS },
    { "IPI mask 0", hvt_ctl(IPI, false, 0, 0, 0), {0xFE, 0}, 2, 0, HV_STATUS_SUCCESS },
};

static void run_cases(const struct status_case *cases, size_t n, const struct hv_config *cfg)
{
    struct partition *p = hvt_new_cfg(2, cfg);
    hvt_enable(p);
    struct cpu *c = &p->vps[0].cpu;
    for (size_t i = 0; i < n; i++) {
        const struct status_case *k = &cases[i];
        static const uint8_t zero[4096];
        hvt_put(p, HVT_IN_GPA, zero, sizeof zero);
        hvt_put_u64s(p, HVT_IN_GPA, k->in, k->nq);
        c->gpr[RAX] = 0xdeadbeef;
        c->gpr[R9] = 0x99;
        int f = hvt_call(p, 0, k->ctl, k->in_gpa ? k->in_gpa : HVT_IN_GPA, HVT_OUT_GPA);
        ck_assert_msg(f == HVT_NO_FAULT, "%s: exception %d", k->what, f);
        ck_assert_msg(HVT_STATUS(c->gpr[RAX]) == k->expect, "%s: status %#x, expected %#x",
                      k->what, HVT_STATUS(c->gpr[RAX]), k->expect);
        ck_assert_msg(c->rip == HVT_PAGE_GPA + 3, "%s: RIP not advanced past the VMCALL", k->what);
        ck_assert_msg(c->gpr[RCX] == k->ctl, "%s: RCX changed", k->what);
        ck_assert_msg(c->gpr[R9] == 0x99, "%s: R9 changed", k->what);
    }
    partition_free(p);
}

START_TEST(status_matrix_strict)
{
    run_cases(strict_cases, sizeof strict_cases / sizeof strict_cases[0], NULL);
}
END_TEST

START_TEST(status_matrix_kvm)
{
    struct hv_config cfg = { .compat_kvm = true };
    run_cases(kvm_cases, sizeof kvm_cases / sizeof kvm_cases[0], &cfg);
}
END_TEST

START_TEST(access_denied_per_feature)
{
    struct hv_config cfg = { .features_off = HVF_BIT(HVF_TLBFLUSH) | HVF_BIT(HVF_IPI) };
    struct partition *p = hvt_new_cfg(2, &cfg);
    hvt_enable(p);
    static const uint16_t codes[] = { SPACE, LIST, SPEX, LIEX, IPI, IPIEX };
    for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        uint64_t rax = hvt_slow(p, 0, hvt_ctl(codes[i], false, 0, 0, 0), NULL, 0);
        ck_assert_msg(HVT_STATUS(rax) == HV_STATUS_ACCESS_DENIED, "code %#x: %#x", codes[i], HVT_STATUS(rax));
    }
    partition_free(p);

    struct hv_config noex = { .features_off = HVF_BIT(HVF_EX_MASKS) };
    p = hvt_new_cfg(2, &noex);
    hvt_enable(p);
    ck_assert_uint_eq(HVT_STATUS(hvt_slow(p, 0, hvt_ctl(SPEX, false, 0, 0, 0), NULL, 0)), HV_STATUS_ACCESS_DENIED);
    ck_assert_uint_eq(HVT_STATUS(hvt_slow(p, 0, hvt_ctl(IPIEX, false, 0, 0, 0), NULL, 0)), HV_STATUS_ACCESS_DENIED);
    static const uint64_t in[3] = { 0, ALLAS | ALLP, 0 };
    ck_assert_uint_eq(HVT_STATUS(hvt_slow(p, 0, hvt_ctl(SPACE, false, 0, 0, 0), in, 3)), HV_STATUS_SUCCESS);
    partition_free(p);
}
END_TEST

START_TEST(mode32_register_pairs)
{
    struct partition *p = hvt_new(2);
    hvt_enable(p);
    struct cpu *c = &p->vps[0].cpu;
    c->mode = MODE_PROT32;
    static const uint64_t in[3] = { 0, ALLAS | ALLP, 0 };
    hvt_put_u64s(p, HVT_IN_GPA, in, 3);
    uint64_t ctl = hvt_ctl(SPACE, false, 0, 0, 0);
    c->gpr[RDX] = ctl >> 32;
    c->gpr[RAX] = ctl & 0xFFFFFFFF;
    c->gpr[RBX] = 0;
    c->gpr[RSI] = HVT_OUT_GPA;
    c->gpr[RDI] = 0;
    c->insn_rip = HVT_PAGE_GPA;
    c->rip = HVT_PAGE_GPA + 3;
    if (setjmp(c->fault_jmp) != 0)
        ck_abort_msg("exception %d", c->exc_vector);
    c->gpr[RCX] = HVT_IN_GPA;            /* input GPA in EBX:ECX */
    partition_cpu_env.hypercall(p, c);
    ck_assert_uint_eq(c->gpr[RAX], HV_STATUS_SUCCESS);
    ck_assert_uint_eq(c->gpr[RDX], 0);
    ck_assert_uint_eq(p->hv->st.flush_targets, 2);
    partition_free(p);
}
END_TEST

START_TEST(cost_charged)
{
    struct partition *p = hvt_new(4);
    hvt_enable(p);
    static const uint64_t in[3] = { 0, ALLAS | ALLP, 0 };
    uint64_t before = p->vps[0].cpu.cycles;
    hvt_slow(p, 0, hvt_ctl(SPACE, false, 0, 0, 0), in, 3);
    ck_assert_uint_eq(p->vps[0].cpu.cycles - before, hv_costs.entry_exit + 4 * hv_costs.per_target);
    ck_assert(hv_costs.entry_exit > 0 && hv_costs.per_target > 0);
    partition_free(p);
}
END_TEST

/* Random garbage from an untrusted guest: never a crash, always a documented status. */
START_TEST(garbage_inputs)
{
    struct partition *p = hvt_new(3);
    hvt_enable(p);
    struct cpu *c = &p->vps[0].cpu;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        uint64_t q[512];
        for (unsigned k = 0; k < 512; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            q[k] = (k & 1) ? x : x & 0xFFFF;
        }
        hvt_put_u64s(p, HVT_IN_GPA, q, 512);
        static const uint16_t codes[] = { 2, 3, 0xB, 0x13, 0x14, 0x15, 0x50, 0x51, 0x46 };
        uint64_t ctl = (x & ~0xFFFFull & ~(1ull << 16)) | codes[i % 9];
        if (i & 1)
            ctl &= ~((0x1Full << 27) | (0xFull << 44) | (0xFull << 60));   /* get past step 3 */
        uint64_t gpa = (i & 2) ? HVT_IN_GPA : x;
        int f = hvt_call(p, 0, ctl, gpa, HVT_OUT_GPA);
        ck_assert_int_eq(f, HVT_NO_FAULT);
        unsigned st = HVT_STATUS(c->gpr[RAX]);
        ck_assert_msg(st <= HV_STATUS_ACCESS_DENIED && st != 1, "status %#x", st);
    }
    partition_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hypercall");
    TCase *t = tcase_create("core");
    tcase_add_test(t, cpuid_profile_default);
    tcase_add_test(t, cpuid_off_and_switches);
    tcase_add_test(t, msr_hypercall_page_overlay);
    tcase_add_test(t, msr_hypercall_page_amd);
    tcase_add_test(t, msr_vp_index_assist_invariant);
    tcase_add_test(t, msr_reference_time);
    tcase_add_test(t, ud_cases);
    tcase_add_test(t, fast_flush_without_xmm_is_ud);
    tcase_add_test(t, status_matrix_strict);
    tcase_add_test(t, status_matrix_kvm);
    tcase_add_test(t, access_denied_per_feature);
    tcase_add_test(t, mode32_register_pairs);
    tcase_add_test(t, cost_charged);
    tcase_add_test(t, garbage_inputs);
    tcase_set_timeout(t, 120);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
