/* Synthetic MSRs and the reference clocks (HV-SPEC.md A-3, B-1.2, B-6.5, B-6.6 item 5).
 *
 * - Every Hyper-V MSR whose privilege bit is not advertised #GPs; the ones
 *   this test is about must be advertised in the default profile (A-2: bits 1, 5,
 *   6, 9), so a missing feature fails instead of skipping.
 * - VP index: dense, read-only.  Guest OS ID and hypercall MSR: read back.  VP
 *   assist page: stored.  Read-only MSRs (TIME_REF_COUNT, VP_INDEX, the
 *   frequencies) #GP on write.
 * - TIME_REF_COUNT ticks in 100 ns units of virtual time: against RDTSC at the
 *   frequency given on the command line (hz=, default 3 GHz = hvemu's default).
 * - The reference TSC page, enabled before the OS ID (Linux does that, B-1.2):
 *   sequence valid, reference time = ((TSC * scale) >> 64) + offset, and the MSR
 *   reading always lies between two page readings (kvm-unit-tests hyperv_clock,
 *   "no drift"), and neither goes backwards ("no warp").  Disabling reads back 0.
 * Across VPs (all CPUs of -smp N): every VP reads its VP index (dense: CPU i
 * has index i) and then all VPs sample both clocks under one spinlock: each
 * sample must be >= the last sample any VP took (monotonic across VPs, B-1.2
 * "strictly monotonic across VPs") and the MSR must lie between two page
 * readings on the same VP (the two clocks agree).
 */
#include "hvcall.h"
#include "smp.h"

const char rt_test_name[] = "hv_clock";

struct tsc_page {
    volatile u32 sequence;
    u32 reserved;
    volatile u64 scale;
    volatile s64 offset;
};

static struct tsc_page *tp;

/* (hi:lo) / d with DIV (no libgcc in the guests); needs hi < d. */
static u64 div128(u64 hi, u64 lo, u64 d)
{
    u64 q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
    return q;
}

/* a * b / d for a 128-bit product. */
static u64 muldiv(u64 a, u64 b, u64 d)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    return div128((u64)(p >> 64), (u64)p, d);
}

/* Reference time from the TSC page (TLFS "Reference TSC page": retry while the
 * sequence changes; 0 means invalid). Returns 0 and sets *ok = 0 if invalid. */
static u64 page_time(int *ok)
{
    for (int tries = 0; tries < 1000; tries++) {
        u32 seq = tp->sequence;
        if (seq == 0 || seq == 0xFFFFFFFFu) {
            *ok = 0;
            return 0;
        }
        barrier();
        u64 scale = tp->scale;
        s64 off = tp->offset;
        u64 tsc = rdtsc();
        barrier();
        if (tp->sequence == seq) {
            *ok = 1;
            return (u64)(((unsigned __int128)tsc * scale) >> 64) + (u64)off;
        }
    }
    *ok = 0;
    return 0;
}

static void expect_gp_rd(u32 msr, const char *what)
{
    u64 v;
    rt_trap_reset();
    int f = hv_rdmsr_safe(msr, &v);
    CHECK(f && rt_last_trap.vector == VEC_GP, "rdmsr %#x (%s): expected #GP, got %s", msr, what,
          f ? "another trap" : "a value");
}

static void expect_gp_wr(u32 msr, u64 val, const char *what)
{
    rt_trap_reset();
    int f = hv_wrmsr_safe(msr, val);
    CHECK(f && rt_last_trap.vector == VEC_GP, "wrmsr %#x (%s): expected #GP", msr, what);
}

static void check_gating(void)
{
    /* (privilege bit in 0x40000003.EAX, an MSR it guards, name) — B-1.1 table. */
    static const struct { u32 bit; u32 msr; const char *name; } g[] = {
        { 0, 0x40000010u, "VP_RUNTIME" },
        { 1, HV_MSR_TIME_REF_COUNT, "TIME_REF_COUNT" },
        { 2, 0x40000080u, "SCONTROL (SynIC)" },
        { 3, 0x400000B0u, "STIMER0_CONFIG" },
        { 7, 0x40000003u, "RESET" },
        { 9, HV_MSR_REFERENCE_TSC, "REFERENCE_TSC" },
        { 10, 0x400000F0u, "GUEST_IDLE" },
        { 11, HV_MSR_TSC_FREQUENCY, "TSC_FREQUENCY" },
        { 13, 0x40000106u, "REENLIGHTENMENT_CONTROL" },
        { 15, HV_MSR_TSC_INVARIANT, "TSC_INVARIANT_CONTROL" },
    };
    for (unsigned i = 0; i < sizeof g / sizeof g[0]; i++) {
        if (hv_info.priv_eax & (1u << g[i].bit))
            continue;
        expect_gp_rd(g[i].msr, g[i].name);
    }
    /* Crash MSRs need EDX bit 10 (B-1.1). */
    if (!(hv_info.priv_edx & (1u << 10)))
        expect_gp_rd(0x40000100u, "CRASH_P0");
    /* A Hyper-V MSR number nothing defines. */
    expect_gp_rd(0x40000fffu, "undefined synthetic MSR");
}

/* ---- across VPs ---- */
#define XSAMPLES 300
static volatile u64 xlock, x_last_msr, x_last_page, x_samples;
static volatile u64 x_back_msr, x_back_page, x_disagree, x_invalid, x_worst_back;
static volatile u64 x_last_tsc, x_back_tsc, x_worst_tsc;   /* reported, not checked (not Hyper-V) */
static volatile u64 vp_index_of[SMP_MAX_CPUS];

static void sampler(void *arg)
{
    unsigned me = smp_this_cpu();
    vp_index_of[me] = rdmsr(HV_MSR_VP_INDEX);
    for (int i = 0; i < XSAMPLES; i++) {
        while (__atomic_exchange_n(&xlock, 1, __ATOMIC_ACQUIRE))
            cpu_relax();
        int ok1, ok2;
        u64 tsc = rdtsc();
        if (tsc < x_last_tsc) {
            x_back_tsc++;
            if (x_last_tsc - tsc > x_worst_tsc)
                x_worst_tsc = x_last_tsc - tsc;
        } else {
            x_last_tsc = tsc;
        }
        u64 p1 = page_time(&ok1);
        u64 m = rdmsr(HV_MSR_TIME_REF_COUNT);
        u64 p2 = page_time(&ok2);
        if (!ok1 || !ok2) {
            x_invalid++;
        } else {
            if (m < x_last_msr) {
                x_back_msr++;
                if (x_last_msr - m > x_worst_back)
                    x_worst_back = x_last_msr - m;
            }
            if (p1 < x_last_page)
                x_back_page++;
            if (p1 > m || m > p2 + 1)
                x_disagree++;
            if (m > x_last_msr)
                x_last_msr = m;
            if (p2 > x_last_page)
                x_last_page = p2;
        }
        x_samples++;
        __atomic_store_n(&xlock, 0, __ATOMIC_RELEASE);
        for (volatile int k = 0; k < (int)(me * 7 + i) % 50; k++)
            ;
    }
}

static void across_vps(void)
{
    unsigned n = smp_cpu_count();
    if (n < 2) {
        printf("one VP: no cross-VP checks (run with -smp 2 or more)\n");
        return;
    }
    CHECK_EQ(hv_info.max_vps, n, "0x40000005.EAX = number of VPs");
    wrmsr(HV_MSR_REFERENCE_TSC, (u64)(uintptr_t)tp | 1);
    unsigned up = smp_start_aps();
    CHECK(up == n, "only %u of %u CPUs came up", up, n);
    if (up != n)
        return;
    for (unsigned c = 1; c < n; c++)
        smp_run_on(c, sampler, 0);
    sampler(0);
    for (unsigned c = 1; c < n; c++)
        smp_wait(c);
    for (unsigned c = 0; c < n; c++)
        CHECK_EQ(vp_index_of[c], c, "VP index of a CPU (dense, CPU i = VP i)");
    printf("across %u VPs: %llu samples, MSR went back %llu times (worst by %llu units), page %llu times, "
           "disagreements %llu, invalid %llu\n", n, x_samples, x_back_msr, x_worst_back, x_back_page,
           x_disagree, x_invalid);
    printf("  (RDTSC, for comparison: went back %llu times, worst by %llu cycles)\n", x_back_tsc, x_worst_tsc);
    CHECK_EQ(x_samples, (u64)n * XSAMPLES, "samples");
    CHECK_EQ(x_invalid, 0, "TSC page readings with an invalid sequence (across VPs)");
    CHECK_EQ(x_back_msr, 0, "TIME_REF_COUNT samples lower than one another VP read before (lock-ordered)");
    CHECK_EQ(x_back_page, 0, "TSC-page times lower than one another VP read before (lock-ordered)");
    CHECK_EQ(x_disagree, 0, "samples where the MSR is not between two page readings on the same VP");
}

void test_main(void)
{
    u64 hz = rt_cmdline_num("hz", 3000000000ull);
    CHECK(hv_detect(NULL), "Hyper-V interface not detected");
    if (!hv_info.present)
        return;
    printf("priv eax %#x edx %#x, TSC %llu Hz\n", hv_info.priv_eax, hv_info.priv_edx, hz);
    u32 need = HV_PRIV_TIME_REF_COUNT | HV_PRIV_HYPERCALL_MSRS | HV_PRIV_VP_INDEX | HV_PRIV_REFERENCE_TSC;
    CHECK_EQ(hv_info.priv_eax & need, need, "0x40000003.EAX has bits 1, 5, 6, 9 (A-2)");
    check_gating();

    /* VP index (B-1.2): dense, VP 0 boots; read-only. */
    u64 v = ~0ull;
    CHECK(!hv_rdmsr_safe(HV_MSR_VP_INDEX, &v), "rdmsr VP_INDEX faulted");
    CHECK_EQ(v, 0, "VP index of the boot VP");
    expect_gp_wr(HV_MSR_VP_INDEX, 5, "VP_INDEX is read-only");
    CHECK_EQ(rdmsr(HV_MSR_VP_INDEX), 0, "VP index unchanged after the write attempt");

    /* Reference counter: read-only, counts from 0 in 100 ns units. */
    u64 r0 = rdmsr(HV_MSR_TIME_REF_COUNT);
    expect_gp_wr(HV_MSR_TIME_REF_COUNT, 0, "TIME_REF_COUNT is read-only");
    /* 3 GHz: 1 s of virtual time is 3e9 cycles; the runtime start-up is far less. */
    CHECK(r0 < 10000000ull, "reference counter %llu at start-up (> 1 s: does it start at 0?)", r0);

    /* TSC page before the OS ID (B-1.2: Linux does this). */
    tp = rt_alloc_page();
    memset(tp, 0xEE, 4096);
    u64 tpv = (u64)(uintptr_t)tp | 1;
    CHECK(!hv_wrmsr_safe(HV_MSR_REFERENCE_TSC, tpv), "wrmsr REFERENCE_TSC before the OS ID faulted");
    CHECK_EQ(rdmsr(HV_MSR_REFERENCE_TSC), tpv, "REFERENCE_TSC reads back");
    CHECK_EQ(rdmsr(HV_MSR_GUEST_OS_ID), 0, "OS ID still 0");
    printf("TSC page: sequence %#x scale %#llx offset %lld\n", tp->sequence, (u64)tp->scale, (long long)tp->offset);
    CHECK(tp->sequence != 0 && tp->sequence != 0xFFFFFFFFu, "TSC page sequence %#x is not valid", tp->sequence);
    /* scale = 10^7 * 2^64 / TSC_Hz (B-1.2, OpenVMM) within 1 ppm. */
    u64 ws = div128(10000000ull, 0, hz), d = tp->scale > ws ? tp->scale - ws : ws - tp->scale;
    CHECK(d <= ws / 1000000 + 1, "TSC page scale %#llx, expected about %#llx for %llu Hz", (u64)tp->scale, ws, hz);

    /* Rate against the TSC: over 3M cycles (1 ms at 3 GHz) the counter advances
     * tsc_delta * 1e7 / hz, +-1 unit for the two floors. */
    u64 t0 = rdtsc(), c0 = rdmsr(HV_MSR_TIME_REF_COUNT);
    while (rdtsc() - t0 < 3000000)
        ;
    u64 t1 = rdtsc(), c1 = rdmsr(HV_MSR_TIME_REF_COUNT);
    u64 expect = muldiv(t1 - t0, 10000000ull, hz);
    u64 got = c1 - c0;
    CHECK(got + 2 >= expect && got <= expect + 2, "reference counter advanced %llu over %llu TSC cycles, expected %llu",
          got, t1 - t0, expect);
    printf("rate: %llu units over %llu TSC cycles (expected %llu)\n", got, t1 - t0, expect);

    /* No drift / no warp (B-6.5): page <= msr <= page, over many samples. */
    u64 last_msr = 0, last_page = 0;
    int bad_order = 0, warps = 0, invalid = 0;
    for (int i = 0; i < 20000; i++) {
        int ok1, ok2;
        u64 tsc = rdtsc();
        if (tsc < x_last_tsc) {
            x_back_tsc++;
            if (x_last_tsc - tsc > x_worst_tsc)
                x_worst_tsc = x_last_tsc - tsc;
        } else {
            x_last_tsc = tsc;
        }
        u64 p1 = page_time(&ok1);
        u64 m = rdmsr(HV_MSR_TIME_REF_COUNT);
        u64 p2 = page_time(&ok2);
        if (!ok1 || !ok2) {
            invalid++;
            continue;
        }
        if (p1 > m || m > p2 + 1)         /* +1: the page's scale is floored */
            if (bad_order++ < 3)
                printf("  sample %d: page %llu, msr %llu, page %llu\n", i, p1, m, p2);
        if (m < last_msr || p1 < last_page)
            warps++;
        last_msr = m;
        last_page = p2;
        for (volatile int k = 0; k < (i & 63); k++)
            ;
    }
    CHECK_EQ(invalid, 0, "TSC page readings with an invalid sequence");
    CHECK_EQ(bad_order, 0, "samples where the MSR is not between two page readings");
    CHECK_EQ(warps, 0, "samples where a clock went backwards");

    /* Now the OS ID and hypercall MSRs, and the VP assist page (stored, B-1.2). */
    hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
    CHECK_EQ(rdmsr(HV_MSR_GUEST_OS_ID), HV_GUEST_OS_ID_TEST, "guest OS ID reads back");
    void *hp = hv_enable_hypercall_page();
    CHECK_EQ(rdmsr(HV_MSR_HYPERCALL), (u64)(uintptr_t)hp | 1, "hypercall MSR reads back");
    u64 assist = (u64)(uintptr_t)rt_alloc_page() | 1;
    CHECK(!hv_wrmsr_safe(HV_MSR_VP_ASSIST_PAGE, assist), "wrmsr VP_ASSIST_PAGE faulted (Linux writes it unconditionally)");
    CHECK_EQ(rdmsr(HV_MSR_VP_ASSIST_PAGE), assist, "VP assist page reads back");
    /* Locked hypercall MSR (B-1.2): immutable until reset. */
    wrmsr(HV_MSR_HYPERCALL, (u64)(uintptr_t)hp | HV_HYPERCALL_ENABLE | HV_HYPERCALL_LOCKED);
    u64 locked = rdmsr(HV_MSR_HYPERCALL);
    CHECK_EQ(locked, (u64)(uintptr_t)hp | 3, "hypercall MSR with Locked");
    hv_wrmsr_safe(HV_MSR_HYPERCALL, 0);          /* #GP (OpenVMM) or ignored: either way no change */
    CHECK_EQ(rdmsr(HV_MSR_HYPERCALL), locked, "locked hypercall MSR unchanged by a write");

    /* Frequency MSRs, when advertised with EDX bit 8. */
    if ((hv_info.priv_eax & HV_PRIV_FREQUENCY_MSRS) && (hv_info.priv_edx & HV_FEAT_FREQUENCY_MSRS)) {
        CHECK_EQ(rdmsr(HV_MSR_TSC_FREQUENCY), hz, "TSC_FREQUENCY");
        u64 apic = rdmsr(HV_MSR_APIC_FREQUENCY);
        CHECK(apic >= 1000000 && apic <= hz, "APIC_FREQUENCY %llu Hz is implausible", apic);
        expect_gp_wr(HV_MSR_TSC_FREQUENCY, 1, "TSC_FREQUENCY is read-only");
        expect_gp_wr(HV_MSR_APIC_FREQUENCY, 1, "APIC_FREQUENCY is read-only");
    } else {
        printf("frequency MSRs not advertised\n");
    }
    if (hv_info.priv_eax & HV_PRIV_TSC_INVARIANT)
        CHECK(!hv_wrmsr_safe(HV_MSR_TSC_INVARIANT, 1), "wrmsr TSC_INVARIANT_CONTROL = 1 faulted");

    /* Disabling the TSC page reads back 0 (B-6.5). */
    wrmsr(HV_MSR_REFERENCE_TSC, 0);
    CHECK_EQ(rdmsr(HV_MSR_REFERENCE_TSC), 0, "REFERENCE_TSC after disabling");
    u64 r1 = rdmsr(HV_MSR_TIME_REF_COUNT), r2 = rdmsr(HV_MSR_TIME_REF_COUNT);
    CHECK(r1 > c1 && r2 >= r1, "reference counter keeps counting (%llu, %llu after %llu)", r1, r2, c1);

    across_vps();
}
