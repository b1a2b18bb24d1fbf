/* SMP boot: the BSP starts every AP with INIT-SIPI-SIPI through the real-mode
 * trampoline (smp.c); each AP reports its APIC ID (read from the xAPIC page) and
 * its CPUID initial APIC ID, and runs a function the BSP sends it.  Run with
 * -smp 1, 2 and 4 (hvemu and QEMU). */
#include "smp.h"

const char rt_test_name[] = "smp_boot";

static volatile u32 seen_id[SMP_MAX_CPUS], seen_cpuid[SMP_MAX_CPUS], seen_index[SMP_MAX_CPUS];
static volatile u64 seen_gs[SMP_MAX_CPUS];

static void report(void *arg)
{
    unsigned i = smp_this_cpu();
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    seen_id[i] = apic_id();
    seen_cpuid[i] = b >> 24;
    seen_index[i] = (u32)(uintptr_t)arg;
    u64 gs = rdmsr(MSR_GS_BASE);
    seen_gs[i] = gs;
}

static volatile u64 ap_base;
static volatile u32 hits70[SMP_MAX_CPUS], hits71[SMP_MAX_CPUS];
static int on70(struct trap_frame *f) { hits70[smp_this_cpu()]++; return 1; }
static int on71(struct trap_frame *f) { hits71[smp_this_cpu()]++; return 1; }
static void int70(void *arg) { __asm__ volatile("int $0x70" ::: "memory"); }
extern char rt_isr_stubs[];
static void read_base(void *arg) { ap_base = rdmsr(MSR_APIC_BASE); }

void test_main(void)
{
    unsigned want = smp_cpu_count();
    u64 base = rdmsr(MSR_APIC_BASE);
    CHECK(base & (1ull << 8), "IA32_APIC_BASE.BSP set on the BSP: %#llx", base);
    CHECK(base & (1ull << 11), "APIC globally enabled: %#llx", base);
    CHECK_EQ(base & ~0xFFFull, APIC_BASE_ADDR, "APIC base");
    u32 ver = apic_read(APIC_VER);
    CHECK((ver & 0xF0) == 0x10, "integrated APIC version: %#x", ver);

    unsigned n = smp_start_aps();
    CHECK_EQ(n, want, "CPUs online");
    printf("smp_boot: %u CPUs online\n", n);
    for (unsigned i = 0; i < n; i++)
        smp_call(i, report, (void *)(uintptr_t)(100 + i));
    for (unsigned i = 0; i < n; i++) {
        printf("cpu %u: APIC ID %u, CPUID initial APIC ID %u\n", i, seen_id[i], seen_cpuid[i]);
        CHECK_EQ(seen_id[i], i, "APIC ID");
        CHECK_EQ(seen_cpuid[i], i, "CPUID.1:EBX[31:24]");
        CHECK_EQ(seen_index[i], 100 + i, "argument");
        CHECK_EQ(seen_gs[i], (u64)(uintptr_t)&smp_cpus[i], "GS.base = its struct smp_cpu");
    }
    /* The APs' IA32_APIC_BASE has no BSP flag (SDM Vol. 3A 11.4.4). */
    for (unsigned i = 1; i < n; i++) {
        smp_call(i, read_base, 0);
        CHECK(!(ap_base & (1ull << 8)) && (ap_base & (1ull << 11)), "AP %u IA32_APIC_BASE %#llx", i, ap_base);
    }
    /* Per-CPU IDT: on the last CPU, gate 0x70 leads to the stub of vector 0x71. */
    rt_set_handler(0x70, on70);
    rt_set_handler(0x71, on71);
    unsigned last = n - 1;
    if (last)
        smp_idt_set_raw(last, 0x70, (u64)(uintptr_t)(rt_isr_stubs + 16 * 0x71), 0, 0, 0xE);
    for (unsigned i = 0; i < n; i++)
        smp_call(i, int70, 0);
    for (unsigned i = 0; i < n; i++) {
        u32 redirected = last && i == last;
        CHECK(hits70[i] == !redirected && hits71[i] == redirected,
              "CPU %u: INT 0x70 reached %s (0x70: %u, 0x71: %u)", i, redirected ? "0x71" : "0x70", hits70[i], hits71[i]);
    }
}
