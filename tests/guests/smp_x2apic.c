/* x2APIC mode (SDM Vol. 3A 11.12) on every CPU: IDs and derived logical IDs
 * through the MSRs, fixed IPIs through the 64-bit ICR MSR, SELF IPI, the
 * all-excluding-self shorthand, a logical (cluster) destination, and the #GP
 * cases (non-zero EOI write, reading EOI).  Skipped where CPUID.1:ECX[21] is clear.
 * Run with -smp 4. */
#include "smp.h"

const char rt_test_name[] = "smp_x2apic";

#define VEC 0x60
#define VEC_SELF 0x61
#define WAIT_TICKS 3000000000ull

static volatile u32 count[SMP_MAX_CPUS], self_count[SMP_MAX_CPUS];
static volatile u64 ids[SMP_MAX_CPUS], ldrs[SMP_MAX_CPUS];
static volatile int enabled[SMP_MAX_CPUS];
static unsigned ncpu;

static int on_ipi(struct trap_frame *f) { __atomic_fetch_add(&count[smp_this_cpu()], 1, __ATOMIC_RELAXED); apic_eoi(); return 1; }
static int on_self(struct trap_frame *f) { self_count[smp_this_cpu()]++; apic_eoi(); return 1; }

static void go_x2(void *arg)
{
    unsigned i = smp_this_cpu();
    enabled[i] = smp_x2apic_enable();
    ids[i] = rdmsr(0x802);
    ldrs[i] = rdmsr(0x80D);
}

static void self_ipi(void *arg) { wrmsr(0x83F, VEC_SELF); }

static void check_counts(const u32 *want, const char *what)
{
    u64 t0 = rdtsc();
    for (;;) {
        int ok = 1;
        for (unsigned i = 0; i < ncpu; i++)
            ok &= count[i] == want[i];
        if (ok || rdtsc() - t0 > WAIT_TICKS)
            break;
        cpu_relax();
    }
    for (unsigned i = 0; i < ncpu; i++)
        CHECK(count[i] == want[i], "%s: CPU %u took %u, expected %u", what, i, count[i], want[i]);
}

void test_main(void)
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    ncpu = smp_start_aps();
    if (!(c & (1u << 21))) {
        SKIP("no x2APIC (CPUID.1:ECX[21] clear)");
        return;
    }
    CHECK(ncpu >= 4, "needs -smp 4 (have %u)", ncpu);
    if (ncpu > 4)
        ncpu = 4;
    rt_set_handler(VEC, on_ipi);
    rt_set_handler(VEC_SELF, on_self);
    for (unsigned i = 0; i < ncpu; i++)
        smp_call(i, go_x2, 0);
    for (unsigned i = 0; i < ncpu; i++) {
        CHECK(enabled[i], "CPU %u: x2APIC enabled", i);
        CHECK_EQ(ids[i], i, "x2APIC ID (MSR 0x802)");
        CHECK_EQ(ldrs[i], (u64)((i >> 4) << 16 | (1u << (i & 15))), "derived LDR (MSR 0x80D)");
    }
    CHECK(rdmsr(MSR_APIC_BASE) & (1ull << 10), "IA32_APIC_BASE.EXTD");
    sti();

    u32 want[SMP_MAX_CPUS] = {0};
    for (unsigned i = 1; i < ncpu; i++) {
        apic_send_ipi(i, ICR_FIXED | VEC);
        want[i]++;
        check_counts(want, "fixed via the ICR MSR");
    }
    apic_send_ipi(0, ICR_OTHERS | VEC);
    for (unsigned i = 1; i < ncpu; i++)
        want[i]++;
    check_counts(want, "all excluding self");
    /* Logical: cluster 0, members 1 and 3. */
    apic_send_ipi(0x0000000A, ICR_FIXED | ICR_LOGICAL | VEC);
    want[1]++;
    want[3]++;
    check_counts(want, "logical cluster 0, mask 0xA");
    wrmsr(0x83F, VEC_SELF);
    CHECK_EQ(self_count[0], 1, "SELF IPI on the BSP");
    smp_call(2, self_ipi, 0);
    CHECK_EQ(self_count[2], 1, "SELF IPI on CPU 2");

    /* #GP: a non-zero EOI write, a read of the write-only EOI register. */
    int f = TRY(wrmsr(0x80B, 1));
    CHECK(f && rt_last_trap.vector == VEC_GP, "non-zero EOI write: #GP (trap %llu)", rt_last_trap.vector);
    f = TRY((void)rdmsr(0x80B));
    CHECK(f && rt_last_trap.vector == VEC_GP, "EOI read: #GP (trap %llu)", rt_last_trap.vector);
    for (unsigned i = 0; i < ncpu; i++)
        printf("cpu %u: x2APIC ID %llu, %u IPIs, %u self IPIs\n", i, ids[i], count[i], self_count[i]);
}
