/* Single-step (RFLAGS.TF) and the debug events around it, SDM Vol. 3A 17.3.1.4 and
 * 6.8.3: the #DB trap after each instruction (RIP = the next one, DR6.BS, TF clear
 * in the handler, TF and RF = 0 in the frame), no trap after the POPF / IRET that
 * sets TF but one after a POPF that clears it, the STI shadow not blocking it, MOV
 * SS holding it over the next instruction, INT n / INT3 / ICEBP entering their
 * handler without a trap, SYSCALL with SFMASK clearing TF and SYSRET restoring it
 * (a trap right after SYSRET), RF = 1 in the frame of a fault, NMIs blocked until
 * IRET with one latched. */
#include "rt.h"
#include "smp.h"

const char rt_test_name[] = "debug_step";

#define FL_TF (1ull << 8)
#define FL_IF (1ull << 9)
#define FL_RF (1ull << 16)
#define DR6_BS (1ull << 14)

#define MAX_STEPS 64
static volatile u64 step_rip[MAX_STEPS], step_dr6[MAX_STEPS], step_fl[MAX_STEPS], step_cs[MAX_STEPS];
static volatile unsigned nsteps;

static inline u64 read_dr6(void) { u64 v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static inline void write_dr6(u64 v) { __asm__ volatile("mov %0, %%dr6" :: "r"(v)); }

/* #DB: record the trap and return with TF as the frame has it (stepping goes on). */
static int on_db(struct trap_frame *f)
{
    if (nsteps < MAX_STEPS) {
        step_rip[nsteps] = f->rip;
        step_dr6[nsteps] = read_dr6();
        step_fl[nsteps] = f->rflags;
        step_cs[nsteps] = f->cs;
    }
    nsteps++;
    write_dr6(0xffff0ff0);
    return 1;
}

static void steps_reset(void)
{
    nsteps = 0;
    write_dr6(0xffff0ff0);
}

/* Expect exactly the RIPs in want[], each a BS trap with TF and RF clear in the frame
 * ... and TF set again in the frame's RFLAGS (stepping continues after IRETQ). */
static void expect_steps(const char *what, const u64 *want, unsigned n, int check_bs)
{
    CHECK(nsteps == n, "%s: %u single-step traps, expected %u", what, nsteps, n);
    for (unsigned k = 0; k < n && k < nsteps; k++) {
        CHECK(step_rip[k] == want[k], "%s: trap %u at %#llx, expected %#llx", what, k, step_rip[k], want[k]);
        if (check_bs)
            CHECK(step_dr6[k] & DR6_BS, "%s: trap %u: DR6 %#llx without BS", what, k, step_dr6[k]);
        CHECK(!(step_fl[k] & FL_RF), "%s: trap %u: RF set in a trap frame (%#llx)", what, k, step_fl[k]);
    }
}

/* ---- POPF sets TF: traps after each following instruction, including the POPF
 * that clears it again. ---- */
extern char s1_a[], s1_b[], s1_c[], s1_d[], s1_e[], s1_f[], s1_end[];
static void __attribute__((noinline)) seq_popf(void)
{
    __asm__ volatile(
        "pushfq\n\t"
        "orq $0x100, (%%rsp)\n\t"
        "popfq\n"                       /* sets TF: no trap after it */
        "s1_a: nop\n"
        "s1_b: mov $1, %%eax\n"
        "s1_c: add $2, %%eax\n"
        "s1_d: pushfq\n"
        "s1_e: andq $~0x100, (%%rsp)\n"
        "s1_f: popfq\n"                 /* clears TF: TF was set at its start, it traps */
        "s1_end: nop\n"
        ::: "rax", "memory", "cc");
}

/* ---- STI does not block the trap; MOV SS holds it over one instruction. ---- */
extern char s2_a[], s2_b[], s2_c[], s2_d[], s2_e[], s2_f[], s2_g[], s2_h[], s2_end[];
static void __attribute__((noinline)) seq_shadows(void)
{
    __asm__ volatile(
        "pushfq\n\t"
        "orq $0x100, (%%rsp)\n\t"
        "popfq\n"
        "s2_a: sti\n"                   /* trap after STI */
        "s2_b: cli\n"
        "s2_c: mov %%ss, %%ax\n"
        "s2_d: mov %%ax, %%ss\n"        /* held: no trap here ... */
        "s2_e: nop\n"                   /* ... one trap after this one */
        "s2_f: pushfq\n"
        "s2_g: andq $~0x100, (%%rsp)\n"
        "s2_h: popfq\n"
        "s2_end:\n"
        ::: "rax", "memory", "cc");
}

/* ---- INT n, INT3 and ICEBP enter their handler without a single-step trap;
 * IRETQ restores TF and the instruction after the INT traps. ---- */
extern char s3_a[], s3_b[], s3_c[], s3_d[], s3_e[], s3_f[], s3_g[], s3_end[];
static volatile unsigned int40_seen, int3_seen;
static volatile u64 int40_flags;
static int on_int40(struct trap_frame *f)
{
    int40_seen++;
    u64 fl;
    __asm__ volatile("pushfq; popq %0" : "=r"(fl));
    int40_flags = fl;
    return 1;
}
static int on_bp(struct trap_frame *f)
{
    int3_seen++;
    return 1;
}
static void __attribute__((noinline)) seq_int(void)
{
    __asm__ volatile(
        "pushfq\n\t"
        "orq $0x100, (%%rsp)\n\t"
        "popfq\n"
        "s3_a: int $0x40\n"
        "s3_b: nop\n"
        "s3_c: int3\n"
        "s3_d: nop\n"
        "s3_e: pushfq\n"
        "s3_f: andq $~0x100, (%%rsp)\n"
        "s3_g: popfq\n"
        "s3_end:\n"
        ::: "memory", "cc");
}

/* ICEBP (F1, INT1) under single-step: its own #DB (DR6 without BS, RIP after it),
 * no single-step trap of its own. */
extern char s5_a[], s5_b[], s5_c[], s5_d[], s5_e[], s5_end[];
static void __attribute__((noinline)) seq_icebp(void)
{
    __asm__ volatile(
        "pushfq\n\t"
        "orq $0x100, (%%rsp)\n\t"
        "popfq\n"
        "s5_a: .byte 0xf1\n"
        "s5_b: nop\n"
        "s5_c: pushfq\n"
        "s5_d: andq $~0x100, (%%rsp)\n"
        "s5_e: popfq\n"
        "s5_end:\n"
        ::: "memory", "cc");
}

/* ---- user mode: SYSCALL (SFMASK clears TF: no trap in the kernel) and SYSRET
 * restoring TF (a trap at once, RIP = the instruction after SYSCALL). ---- */
USER_DATA static volatile u64 u_dummy;
extern char s4_a[], s4_b[], s4_c[], s4_d[], s4_e[], s4_f[], s4_end[];
static long USER_TEXT user_step(long arg)
{
    long ret;
    __asm__ volatile(
        "pushfq\n\t"
        "orq $0x100, (%%rsp)\n\t"
        "popfq\n"
        "s4_a: mov $2, %%eax\n"         /* SYS_ADD(5, 6) */
        "s4_b: syscall\n"
        "s4_c: nop\n"
        "s4_d: pushfq\n"
        "s4_e: andq $~0x100, (%%rsp)\n"
        "s4_f: popfq\n"
        "s4_end:\n"
        : "=a"(ret) : "D"(5L), "S"(6L) : "rcx", "r11", "memory", "cc");
    return ret;
}

/* ---- RF in the frame of a fault ---- */
static volatile u64 ud_flags;
static int on_ud(struct trap_frame *f)
{
    ud_flags = f->rflags;
    f->rip += 2;
    return 1;
}

/* ---- NMI blocking ---- */
static volatile unsigned nmi_count, nmi_nested_seen;
static volatile int nmi_in_handler;
static int on_nmi(struct trap_frame *f)
{
    if (nmi_in_handler)
        nmi_nested_seen++;
    nmi_in_handler = 1;
    unsigned n = ++nmi_count;
    if (n == 1) {
        /* Two more NMIs to ourselves while this one is being handled: both must wait
         * for IRET, and only one can be latched. */
        apic_send_ipi(apic_id(), ICR_NMI | ICR_ASSERT);
        apic_send_ipi(apic_id(), ICR_NMI | ICR_ASSERT);
        for (volatile int k = 0; k < 1000; k++)
            cpu_relax();
    }
    nmi_in_handler = 0;
    return 1;
}

void test_main(void)
{
    rt_set_handler(VEC_DB, on_db);

    steps_reset();
    seq_popf();
    {
        const u64 want[] = { (u64)s1_b, (u64)s1_c, (u64)s1_d, (u64)s1_e, (u64)s1_f, (u64)s1_end };
        expect_steps("POPF sets/clears TF", want, 6, 1);
        for (unsigned k = 0; k < nsteps && k < 5; k++)
            CHECK(step_fl[k] & FL_TF, "trap %u: TF clear in the frame", k);
    }

    steps_reset();
    seq_shadows();
    if (rt_on_qemu_tcg()) {
        SKIP("STI / MOV SS: QEMU TCG holds the single-step trap after STI and not after MOV SS (SDM 6.8.3: the other way round)");
    } else {
        const u64 want[] = { (u64)s2_b, (u64)s2_c, (u64)s2_d, (u64)s2_f,
                             (u64)s2_g, (u64)s2_h, (u64)s2_end };
        expect_steps("STI / MOV SS", want, 7, 1);
    }

    rt_set_handler(0x40, on_int40);
    rt_set_handler(VEC_BP, on_bp);
    steps_reset();
    seq_int();
    {
        /* No trap after INT n and INT3: their handlers run with TF clear, and the
         * IRETQ that restores TF does not trap either. */
        const u64 want[] = { (u64)s3_c, (u64)s3_e, (u64)s3_f, (u64)s3_g, (u64)s3_end };
        expect_steps("INT n / INT3", want, 5, 1);
        CHECK(int40_seen == 1, "INT 0x40 handler ran %u times", int40_seen);
        CHECK(!(int40_flags & FL_TF), "INT 0x40 handler ran with TF set (%#llx)", int40_flags);
        CHECK(int3_seen == 1, "INT3 handler ran %u times", int3_seen);
    }

    if (rt_on_qemu_tcg()) {
        SKIP("ICEBP: QEMU 7.2 TCG raises #UD for F1 here");
    } else {
        steps_reset();
        seq_icebp();
        const u64 want[] = { (u64)s5_b, (u64)s5_c, (u64)s5_d, (u64)s5_e, (u64)s5_end };
        CHECK(nsteps == 5, "ICEBP: %u #DB, expected 5", nsteps);
        for (unsigned k = 0; k < 5 && k < nsteps; k++) {
            CHECK(step_rip[k] == want[k], "ICEBP: #DB %u at %#llx, expected %#llx", k, step_rip[k], want[k]);
            if (k == 0)
                CHECK(!(step_dr6[k] & DR6_BS), "ICEBP: DR6 %#llx has BS", step_dr6[k]);
            else
                CHECK(step_dr6[k] & DR6_BS, "ICEBP: #DB %u: DR6 %#llx without BS", k, step_dr6[k]);
        }
    }

    steps_reset();
    long r = rt_user_call(user_step, 0, 0);
    CHECK(r == 11, "SYS_ADD under single-step returned %ld", r);
    {
        /* No trap after SYSCALL (SFMASK clears TF), none in the kernel; SYSRET
         * restores TF and traps at once: RIP = s4_c, at CPL 3. */
        const u64 want[] = { (u64)s4_b, (u64)s4_c, (u64)s4_d, (u64)s4_e, (u64)s4_f, (u64)s4_end };
        expect_steps("SYSCALL / SYSRET", want, 6, 1);
        for (unsigned k = 0; k < nsteps && k < 6; k++)
            CHECK((step_cs[k] & 3) == 3, "SYSCALL: trap %u at CPL %llu", k, step_cs[k] & 3);
    }

    /* A fault pushes RF = 1 (17.3.1.1); IRETQ restores it and the next instruction clears it. */
    rt_set_handler(VEC_UD, on_ud);
    __asm__ volatile("ud2");
    if (rt_on_qemu_tcg())
        SKIP("RF in fault frames: QEMU TCG pushes RF = 0");
    else
        CHECK(ud_flags & FL_RF, "#UD frame RFLAGS %#llx without RF", ud_flags);

    /* NMI blocking (SDM Vol. 3A 6.7.1). */
    smp_start_aps();                    /* software-enables the BSP's APIC */
    rt_set_handler(VEC_NMI, on_nmi);
    apic_send_ipi(apic_id(), ICR_NMI | ICR_ASSERT);
    for (volatile int k = 0; k < 100000 && nmi_count < 2; k++)
        cpu_relax();
    for (volatile int k = 0; k < 1000; k++)
        cpu_relax();
    CHECK(nmi_nested_seen == 0, "an NMI entered the handler of another (%u times)", nmi_nested_seen);
    CHECK(nmi_count == 2, "%u NMIs handled: expected the first and one latched", nmi_count);

    rt_finish();
}
