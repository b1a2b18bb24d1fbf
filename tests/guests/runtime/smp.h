/* SMP for the freestanding guests: start the APs, run functions on them, send
 * IPIs, per-VP GDT/TSS/stack.  Works under hvemu and QEMU (-smp N).
 *
 *   unsigned n = smp_start_aps();     // every CPU fw_cfg reports; returns how many are up
 *   smp_call(2, fn, arg);             // run fn(arg) on CPU 2 and wait for it
 *   smp_run_on(2, fn, arg); ...; smp_wait(2);
 *   smp_this_cpu()                    // dense index of the running CPU (0 = BSP)
 *
 * CPU i has APIC ID i (both emulators number them densely from 0).  APs are
 * started one after another with INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4.1) through a
 * real-mode trampoline copied to SMP_TRAMPOLINE (SIPI vector 0x08).  They share the
 * BSP's page tables and the C-level handler table (rt_set_handler handlers run on
 * any CPU) and get their own GDT, TSS (RSP0, IST1, IST2), stacks and IDT (a copy
 * of the BSP's taken at start-up: change one CPU's gate with smp_idt_set_raw);
 * GS.base points at their struct smp_cpu.  An idle AP waits with STI;HLT and is woken by SMP_WAKE_VECTOR.
 *
 * Not per-CPU: rt_last_trap / rt_trap_count and TRY/rt_current_catch (use TRY on
 * the BSP only), rt_printf (print from one CPU at a time, or collect results and
 * print them from the BSP: output stays deterministic under QEMU too).
 */
#ifndef HVEMU_GUEST_SMP_H
#define HVEMU_GUEST_SMP_H

#include "rt.h"

#define SMP_MAX_CPUS 128
#define SMP_TRAMPOLINE 0x8000u          /* 4 KiB below 1 MiB: SIPI vector 0x08 */
#define SMP_WAKE_VECTOR 0xF0            /* wakes an idle AP: handler just EOIs */
#define SMP_STACK_SIZE 16384

/* ---- the local APIC (xAPIC MMIO at its default base) ---- */
#define APIC_BASE_ADDR 0xFEE00000ull
enum {
    APIC_ID = 0x20, APIC_VER = 0x30, APIC_TPR = 0x80, APIC_PPR = 0xA0, APIC_EOI = 0xB0,
    APIC_LDR = 0xD0, APIC_DFR = 0xE0, APIC_SVR = 0xF0, APIC_ISR = 0x100, APIC_TMR = 0x180,
    APIC_IRR = 0x200, APIC_ESR = 0x280, APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310,
    APIC_LVT_TIMER = 0x320, APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360,
    APIC_LVT_ERROR = 0x370, APIC_TIMER_ICR = 0x380, APIC_TIMER_CCR = 0x390, APIC_TIMER_DCR = 0x3E0,
};
#define ICR_FIXED    (0u << 8)
#define ICR_LOWEST   (1u << 8)
#define ICR_NMI      (4u << 8)
#define ICR_INIT     (5u << 8)
#define ICR_SIPI     (6u << 8)
#define ICR_LOGICAL  (1u << 11)
#define ICR_BUSY     (1u << 12)
#define ICR_ASSERT   (1u << 14)
#define ICR_LEVEL    (1u << 15)
#define ICR_SELF     (1u << 18)
#define ICR_ALL      (2u << 18)
#define ICR_OTHERS   (3u << 18)
#define MSR_APIC_BASE     0x1Bu
#define MSR_TSC_DEADLINE  0x6E0u
#define MSR_GS_BASE       0xC0000101u

/* The accessors work in xAPIC mode (MMIO) and, on a CPU that called
 * smp_x2apic_enable(), in x2APIC mode (MSR 0x800 + reg / 16; SDM Vol. 3A 11.12). */
#define MSR_X2APIC(reg) (0x800u + ((reg) >> 4))
extern volatile int smp_x2apic_used;
int smp_cpu_x2apic(void);
static inline u32 apic_read(u32 reg)
{
    if (smp_x2apic_used && smp_cpu_x2apic())
        return (u32)rdmsr(MSR_X2APIC(reg));
    return *(volatile u32 *)(uintptr_t)(APIC_BASE_ADDR + reg);
}
static inline void apic_write(u32 reg, u32 v)
{
    if (smp_x2apic_used && smp_cpu_x2apic())
        wrmsr(MSR_X2APIC(reg), v);
    else
        *(volatile u32 *)(uintptr_t)(APIC_BASE_ADDR + reg) = v;
}
static inline void apic_eoi(void) { apic_write(APIC_EOI, 0); }
static inline u32 apic_id(void)
{
    u32 v = apic_read(APIC_ID);
    return smp_x2apic_used && smp_cpu_x2apic() ? v : v >> 24;
}
/* Switch the calling CPU's APIC to x2APIC mode (IA32_APIC_BASE bit 10); false if
 * CPUID.1:ECX[21] says there is none. */
int smp_x2apic_enable(void);
/* Send: destination APIC ID (ignored with a shorthand), ICR low bits. */
void apic_send_ipi(u32 dest, u32 icr_lo);
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* ---- CPUs ---- */
struct smp_cpu {
    struct smp_cpu *self;               /* %gs:0 */
    unsigned index;
    u32 apic_id;
    volatile int online;
    volatile int x2apic;                /* this CPU's APIC is in x2APIC mode */
    void (*volatile fn)(void *);
    void *volatile arg;
    volatile u64 posted, done;          /* work items posted to / finished by this CPU */
    u64 gdt[8] __attribute__((aligned(16)));
    u64 idt[512] __attribute__((aligned(16)));     /* 256 16-byte gates (APs; the BSP uses rt.c's) */
    struct tss64 tss __attribute__((aligned(16)));
    u8 *stack_top;
};
extern struct smp_cpu smp_cpus[SMP_MAX_CPUS];

/* Number of CPUs the machine has (fw_cfg FW_CFG_NB_CPUS), 1 if unknown. */
unsigned smp_cpu_count(void);
/* Start every AP; returns the number of CPUs online (BSP included).  Also
 * software-enables the BSP's APIC (SVR = 0x1FF). */
unsigned smp_start_aps(void);
unsigned smp_online(void);
unsigned smp_this_cpu(void);
/* Run fn(arg) on CPU cpu (an online AP, or 0 = run here now). */
void smp_run_on(unsigned cpu, void (*fn)(void *), void *arg);
void smp_wait(unsigned cpu);
void smp_call(unsigned cpu, void (*fn)(void *), void *arg);
/* Gate 'vector' of CPU cpu's IDT (as rt_idt_set_raw; type 0xE interrupt, 0xF trap
 * gate).  cpu 0 is the runtime's own IDT. */
void smp_idt_set_raw(unsigned cpu, int vector, u64 handler, int dpl, int ist, int type);
/* Busy-wait for n TSC ticks. */
void smp_delay_tsc(u64 ticks);

#endif
