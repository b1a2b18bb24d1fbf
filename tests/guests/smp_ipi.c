/* IPIs between CPUs (SDM Vol. 3A 11.6): fixed IPIs to each AP, AP to AP, self
 * (shorthand), all-excluding-self and all-including-self broadcasts, logical flat
 * destinations, lowest priority with distinct TPRs, and NMI.  Every handler
 * counts on the CPU that took it; each send waits for its delivery, so the
 * counts are exact (an IPI to a vector already in IRR would merge with it).
 * Run with -smp 4; the output is checked for determinism. */
#include "smp.h"

const char rt_test_name[] = "smp_ipi";

#define VEC_IPI  0x40
#define VEC_SELF 0x41
#define WAIT_TICKS 3000000000ull    /* ~1 s of TSC: a lost IPI fails instead of hanging */

static volatile u32 count[SMP_MAX_CPUS], self_count[SMP_MAX_CPUS], nmi_count[SMP_MAX_CPUS];
static unsigned ncpu;

static int on_ipi(struct trap_frame *f)
{
    __atomic_fetch_add(&count[smp_this_cpu()], 1, __ATOMIC_RELAXED);
    apic_eoi();
    return 1;
}

static int on_self(struct trap_frame *f)
{
    self_count[smp_this_cpu()]++;
    apic_eoi();
    return 1;
}

static int on_nmi(struct trap_frame *f)
{
    nmi_count[smp_this_cpu()]++;
    return 1;
}

/* Wait until count[i] == want for every i, or time out. */
static int wait_counts(const volatile u32 *c, const u32 *want)
{
    u64 t0 = rdtsc();
    for (;;) {
        int ok = 1;
        for (unsigned i = 0; i < ncpu; i++)
            ok &= c[i] == want[i];
        if (ok)
            return 1;
        if (rdtsc() - t0 > WAIT_TICKS)
            return 0;
        cpu_relax();
    }
}

static void check_counts(const char *what, const u32 *want)
{
    int ok = wait_counts(count, want);
    CHECK(ok, "%s: counts did not reach the expected values", what);
    for (unsigned i = 0; i < ncpu; i++)
        CHECK(count[i] == want[i], "%s: CPU %u took %u IPIs, expected %u", what, i, count[i], want[i]);
}

static void send_to_2(void *arg) { apic_send_ipi(2, ICR_FIXED | ICR_ASSERT | VEC_IPI); }
static void set_ldr(void *arg) { apic_write(APIC_DFR, 0xFFFFFFFF); apic_write(APIC_LDR, (1u << smp_this_cpu()) << 24); }
static void set_tpr(void *arg) { apic_write(APIC_TPR, (u32)(uintptr_t)arg); }
static void self_ipi(void *arg) { apic_send_ipi(0, ICR_SELF | ICR_ASSERT | VEC_SELF); }

void test_main(void)
{
    ncpu = smp_start_aps();
    if (ncpu < 4) {
        printf("smp_ipi: needs -smp 4, have %u CPUs\n", ncpu);
        CHECK(0, "fewer than 4 CPUs");
        return;
    }
    ncpu = 4;
    rt_set_handler(VEC_IPI, on_ipi);
    rt_set_handler(VEC_SELF, on_self);
    rt_set_handler(VEC_NMI, on_nmi);
    sti();
    u32 want[SMP_MAX_CPUS] = {0};

    /* 1. Fixed, physical: CPU i gets i IPIs, one at a time. */
    for (unsigned i = 1; i < ncpu; i++)
        for (unsigned k = 0; k < i; k++) {
            apic_send_ipi(i, ICR_FIXED | ICR_ASSERT | VEC_IPI);
            want[i]++;
            wait_counts(count, want);
        }
    check_counts("fixed physical", want);

    /* 2. AP to AP: CPU 1 sends to CPU 2. */
    smp_call(1, send_to_2, 0);
    want[2]++;
    check_counts("AP to AP", want);

    /* 3. Self IPI on the BSP: taken at the next instruction boundary (IF = 1). */
    apic_send_ipi(0, ICR_SELF | ICR_ASSERT | VEC_SELF);
    CHECK_EQ(self_count[0], 1, "self IPI on the BSP, right after the ICR write");
    smp_call(3, self_ipi, 0);
    CHECK_EQ(self_count[3], 1, "self IPI on CPU 3");

    /* 4. Broadcasts. */
    apic_send_ipi(0, ICR_OTHERS | ICR_ASSERT | VEC_IPI);
    for (unsigned i = 1; i < ncpu; i++)
        want[i]++;
    check_counts("all excluding self", want);
    apic_send_ipi(0, ICR_ALL | ICR_ASSERT | VEC_IPI);
    for (unsigned i = 0; i < ncpu; i++)
        want[i]++;
    check_counts("all including self", want);

    /* 5. Logical, flat model: LDR = 1 << cpu; mask 0b1010 -> CPUs 1 and 3. */
    for (unsigned i = 0; i < ncpu; i++)
        smp_call(i, set_ldr, 0);
    apic_send_ipi(0x0A, ICR_FIXED | ICR_LOGICAL | ICR_ASSERT | VEC_IPI);
    want[1]++;
    want[3]++;
    check_counts("logical flat 0x0A", want);

    /* 6. Lowest priority among CPUs 2 and 3, CPU 3 with the lower TPR.  Exactly
     * one of them takes it.  The choice is model-specific (SDM Vol. 3A 11.6.2.4):
     * hvemu picks the lowest TPR (ties: lowest index); QEMU's TCG takes the
     * first CPU of the set whatever its TPR. */
    smp_call(2, set_tpr, (void *)0x30);
    smp_call(3, set_tpr, (void *)0x10);
    u32 before2 = count[2], before3 = count[3];
    apic_send_ipi(0x0C, ICR_LOWEST | ICR_LOGICAL | ICR_ASSERT | VEC_IPI);
    u64 t1 = rdtsc();
    while (count[2] + count[3] == before2 + before3 && rdtsc() - t1 < WAIT_TICKS)
        cpu_relax();
    smp_delay_tsc(1000000);
    CHECK_EQ(count[2] + count[3], before2 + before3 + 1, "lowest priority: taken exactly once by CPU 2 or 3");
    if (!rt_on_qemu_tcg())
        CHECK_EQ(count[3], before3 + 1, "lowest priority: the lowest TPR (CPU 3) takes it");
    want[2] = count[2];
    want[3] = count[3];
    check_counts("lowest priority", want);
    smp_call(2, set_tpr, 0);
    smp_call(3, set_tpr, 0);

    /* 7. NMI to CPU 2. */
    apic_send_ipi(2, ICR_NMI | ICR_ASSERT);
    u64 t0 = rdtsc();
    while (nmi_count[2] == 0 && rdtsc() - t0 < WAIT_TICKS)
        cpu_relax();
    CHECK_EQ(nmi_count[2], 1, "NMI on CPU 2");
    CHECK_EQ(nmi_count[0] + nmi_count[1] + nmi_count[3], 0, "NMIs elsewhere");

    /* ESR stays clean (no illegal vectors were sent). */
    apic_write(APIC_ESR, 0);
    CHECK_EQ(apic_read(APIC_ESR), 0, "ESR");

    for (unsigned i = 0; i < ncpu; i++)
        printf("cpu %u: %u fixed IPIs, %u self IPIs, %u NMIs\n", i, count[i], self_count[i], nmi_count[i]);
}
