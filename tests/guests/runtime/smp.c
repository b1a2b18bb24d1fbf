/* SMP support of the guest runtime.  See smp.h. */
#include "smp.h"

struct smp_cpu smp_cpus[SMP_MAX_CPUS];
static unsigned n_online = 1;

/* The trampoline image and its data slots (smp_tramp.S). */
extern const u8 smp_tramp_start[], smp_tramp_end[];
extern const u8 tr_cr3[], tr_cr4[], tr_efer[], tr_cr0[], tr_stack[], tr_entry[], tr_arg[];
/* The copy of slot 'sym' at SMP_TRAMPOLINE. */
#define TRAMP_SLOT(sym) (*(volatile u64 *)(uintptr_t)(SMP_TRAMPOLINE + ((sym) - smp_tramp_start)))
static u64 bsp_cr4;

#define CR4_PCIDE_BIT (1ull << 17)

/* ---- fw_cfg (QEMU's and hvemu's: selector 0x510, data 0x511) ---- */
#define FW_CFG_NB_CPUS 0x05
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }

unsigned smp_cpu_count(void)
{
    outw(0x510, FW_CFG_NB_CPUS);
    unsigned n = inb(0x511);
    n |= (unsigned)inb(0x511) << 8;
    if (n == 0 || n > SMP_MAX_CPUS)
        n = 1;
    return n;
}

volatile int smp_x2apic_used;

int smp_cpu_x2apic(void)
{
    u64 self;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(self));
    return ((struct smp_cpu *)(uintptr_t)self)->x2apic;
}

int smp_x2apic_enable(void)
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 21)))
        return 0;
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1ull << 10));
    smp_x2apic_used = 1;
    smp_cpus[smp_this_cpu()].x2apic = 1;
    return 1;
}

void apic_send_ipi(u32 dest, u32 icr_lo)
{
    if (smp_x2apic_used && smp_cpu_x2apic()) {
        /* One 64-bit write, destination in 63:32, no delivery-status bit. */
        wrmsr(MSR_X2APIC(APIC_ICR_LO), ((u64)dest << 32) | icr_lo);
        return;
    }
    apic_write(APIC_ICR_HI, dest << 24);
    apic_write(APIC_ICR_LO, icr_lo);
    while (apic_read(APIC_ICR_LO) & ICR_BUSY)
        cpu_relax();
}

void smp_delay_tsc(u64 ticks)
{
    u64 t0 = rdtsc();
    while (rdtsc() - t0 < ticks)
        cpu_relax();
}

unsigned smp_online(void) { return n_online; }

unsigned smp_this_cpu(void)
{
    if (!smp_cpus[0].self)
        return 0;               /* before smp_start_aps: only the BSP runs, GS.base is not ours */
    u64 idx;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(idx));     /* struct smp_cpu.self */
    return ((struct smp_cpu *)(uintptr_t)idx)->index;
}

static int wake_handler(struct trap_frame *f)
{
    apic_eoi();
    return 1;
}

/* Per-CPU GDT (a copy of the runtime's) with this CPU's TSS; loads GDTR, CS, TR
 * and GS.base. */
static void cpu_tables_init(struct smp_cpu *c)
{
    for (int i = 0; i < 8; i++)
        c->gdt[i] = rt_gdt[i];
    c->tss = rt_tss;
    if (c->index) {
        /* Stacks above stack_top (start_one allocated four): RSP0, IST1, IST2. */
        c->tss.rsp[0] = (u64)(uintptr_t)(c->stack_top + SMP_STACK_SIZE);
        c->tss.ist[0] = (u64)(uintptr_t)(c->stack_top + 2 * SMP_STACK_SIZE);
        c->tss.ist[1] = (u64)(uintptr_t)(c->stack_top + 3 * SMP_STACK_SIZE);
    }
    u64 base = (u64)(uintptr_t)&c->tss, limit = sizeof(c->tss) - 1;
    c->gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
                (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    c->gdt[7] = base >> 32;
    struct { u16 limit; u64 base; } __attribute__((packed)) p = { sizeof(c->gdt) - 1, (u64)(uintptr_t)c->gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq $0x08\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw $0x10, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "movw $0x30, %%ax\n\t"
        "ltr %%ax"
        :: "m"(p) : "rax", "memory");
    c->self = c;
    wrmsr(MSR_GS_BASE, (u64)(uintptr_t)c);
}

static void apic_sw_enable(void)
{
    apic_write(APIC_SVR, 0x1FF);        /* software enable, spurious vector 0xFF */
    apic_write(APIC_TPR, 0);
}

static struct { u16 limit; u64 base; } __attribute__((packed)) bsp_idtr;

/* 64-bit entry of an AP, on its own stack (called from the trampoline). */
static void ap_entry(struct smp_cpu *c) __attribute__((noreturn, used));
static void ap_entry(struct smp_cpu *c)
{
    write_cr4(bsp_cr4);
    cpu_tables_init(c);
    memcpy(c->idt, (const void *)(uintptr_t)bsp_idtr.base, sizeof c->idt);
    struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { sizeof(c->idt) - 1, (u64)(uintptr_t)c->idt };
    __asm__ volatile("lidt %0" :: "m"(idtr));
    apic_sw_enable();
    __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
    for (;;) {
        cli();
        if (c->done != __atomic_load_n(&c->posted, __ATOMIC_ACQUIRE)) {
            sti();
            c->fn(c->arg);
            __atomic_store_n(&c->done, c->done + 1, __ATOMIC_RELEASE);
            continue;
        }
        /* STI's interrupt shadow covers HLT: a wake IPI between the check and
         * HLT is taken after HLT starts, so it cannot be lost. */
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}

static int start_one(unsigned i)
{
    struct smp_cpu *c = &smp_cpus[i];
    u8 *stack = rt_alloc_pages(4 * SMP_STACK_SIZE / 4096);
    c->index = i;
    c->apic_id = i;
    c->stack_top = stack + SMP_STACK_SIZE;
    TRAMP_SLOT(tr_stack) = (u64)(uintptr_t)c->stack_top;
    TRAMP_SLOT(tr_entry) = (u64)(uintptr_t)ap_entry;
    TRAMP_SLOT(tr_arg) = (u64)(uintptr_t)c;
    barrier();
    /* INIT, then SIPI; a second SIPI only if the first did not start it
     * (SDM Vol. 3A 9.4.4.1 sends two; a running AP ignores the second). */
    apic_send_ipi(i, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
    apic_send_ipi(i, ICR_INIT | ICR_LEVEL);                 /* de-assert (ignored since P4) */
    smp_delay_tsc(100000);
    for (int attempt = 0; attempt < 2; attempt++) {
        apic_send_ipi(i, ICR_SIPI | (SMP_TRAMPOLINE >> 12));
        u64 t0 = rdtsc();
        while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && rdtsc() - t0 < 2000000000ull)
            cpu_relax();
        if (c->online)
            return 1;
    }
    return 0;
}

unsigned smp_start_aps(void)
{
    unsigned n = smp_cpu_count();
    smp_cpus[0].index = 0;
    smp_cpus[0].apic_id = apic_id();
    smp_cpus[0].online = 1;
    cpu_tables_init(&smp_cpus[0]);
    /* Mask every 8259 line: under QEMU the firmware left the PIT on IRQ0 routed
     * through the PIC (vector 8) and LINT0 in ExtINT mode; the tests use the APIC. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);
    apic_sw_enable();
    rt_set_handler(SMP_WAKE_VECTOR, wake_handler);
    __asm__ volatile("sidt %0" : "=m"(bsp_idtr));

    memcpy((void *)(uintptr_t)SMP_TRAMPOLINE, smp_tramp_start, (size_t)(smp_tramp_end - smp_tramp_start));
    bsp_cr4 = read_cr4();
    TRAMP_SLOT(tr_cr3) = read_cr3() & 0xFFFFF000ull;        /* the boot PML4 is below 4 GiB */
    TRAMP_SLOT(tr_cr4) = bsp_cr4 & ~CR4_PCIDE_BIT;          /* PCIDE needs long mode */
    TRAMP_SLOT(tr_efer) = rdmsr(MSR_EFER) & ~EFER_LMA;
    TRAMP_SLOT(tr_cr0) = read_cr0();

    n_online = 1;
    for (unsigned i = 1; i < n; i++) {
        if (!start_one(i)) {
            rt_printf("smp: CPU %u did not start\n", i);
            break;
        }
        n_online++;
    }
    return n_online;
}

void smp_idt_set_raw(unsigned cpu, int vector, u64 h, int dpl, int ist, int type)
{
    if (cpu == 0) {
        rt_idt_set_raw(vector, h, dpl, ist, type);
        return;
    }
    if (cpu >= SMP_MAX_CPUS || vector < 0 || vector > 255)
        return;
    /* The 16-byte long-mode gate (SDM Vol. 3A Figure 6-8), selector = kernel code. */
    u64 lo = (h & 0xFFFF) | ((u64)SEL_KCODE << 16) | ((u64)(ist & 7) << 32) |
             ((u64)(0x80 | (dpl << 5) | type) << 40) | (((h >> 16) & 0xFFFF) << 48);
    smp_cpus[cpu].idt[2 * vector] = lo;
    smp_cpus[cpu].idt[2 * vector + 1] = h >> 32;
}

void smp_run_on(unsigned cpu, void (*fn)(void *), void *arg)
{
    if (cpu == 0 || cpu >= n_online) {
        if (cpu == 0)
            fn(arg);
        return;
    }
    struct smp_cpu *c = &smp_cpus[cpu];
    smp_wait(cpu);
    c->fn = fn;
    c->arg = arg;
    __atomic_store_n(&c->posted, c->posted + 1, __ATOMIC_RELEASE);
    apic_send_ipi(c->apic_id, ICR_FIXED | ICR_ASSERT | SMP_WAKE_VECTOR);
}

void smp_wait(unsigned cpu)
{
    if (cpu == 0 || cpu >= n_online)
        return;
    struct smp_cpu *c = &smp_cpus[cpu];
    while (__atomic_load_n(&c->done, __ATOMIC_ACQUIRE) != c->posted)
        cpu_relax();
}

void smp_call(unsigned cpu, void (*fn)(void *), void *arg)
{
    smp_run_on(cpu, fn, arg);
    smp_wait(cpu);
}
