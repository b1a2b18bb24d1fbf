/* Debug registers and breakpoints, SDM Vol. 3A 17.2-17.3: DR6/DR7 fixed bits and
 * reserved high halves, DR4/DR5 aliasing with CR4.DE, MOV DR at CPL 3 (#GP), DR7.GD
 * (general detect, BD), instruction breakpoints (a fault, RF suppresses it), data
 * breakpoints (traps after the access; R/W 01 and 11; LEN 1, 2, 4, 8 and the
 * alignment of the address), per iteration of a REP string (RF = 1 in the frame,
 * the registers of that iteration), PUSH/POP, the IDT read of an INT n, and I/O
 * breakpoints (CR4.DE, R/W 10, per iteration of REP OUTS). */
#include "rt.h"

const char rt_test_name[] = "debug_bp";

#define FL_RF (1ull << 16)
#define CR4_DE (1ull << 3)
#define DR6_BD (1ull << 13)
#define DR6_BS (1ull << 14)
#define DR7_GD (1ull << 13)
/* DR7 fields of breakpoint n: L enable, R/W, LEN (SDM Vol. 3A Figure 17-1). */
#define DR7_L(n)        (1ull << (2 * (n)))
#define DR7_RW(n, rw)   ((u64)(rw) << (16 + 4 * (n)))
#define DR7_LEN(n, len) ((u64)(len) << (18 + 4 * (n)))
enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_ACCESS = 3 };
enum { LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3 };

#define DR_READ(n) ({ u64 _v; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(_v)); _v; })
#define DR_WRITE(n, v) __asm__ volatile("mov %0, %%dr" #n :: "r"((u64)(v)) : "memory")

/* #DB records. */
#define MAX_DB 16
static volatile u64 db_rip[MAX_DB], db_dr6[MAX_DB], db_fl[MAX_DB], db_rcx[MAX_DB], db_rdi[MAX_DB], db_dr7[MAX_DB];
static volatile unsigned ndb;
static volatile int db_set_rf;          /* return with RF = 1 (an instruction breakpoint) */

static int on_db(struct trap_frame *f)
{
    if (ndb < MAX_DB) {
        db_rip[ndb] = f->rip;
        db_dr6[ndb] = DR_READ(6);
        db_dr7[ndb] = DR_READ(7);
        db_fl[ndb] = f->rflags;
        db_rcx[ndb] = f->rcx;
        db_rdi[ndb] = f->rdi;
    }
    ndb++;
    DR_WRITE(6, 0xffff0ff0);
    if (db_set_rf)
        f->rflags |= FL_RF;
    return 1;
}

static void db_reset(void)
{
    ndb = 0;
    db_set_rf = 0;
    DR_WRITE(6, 0xffff0ff0);
}

static void bp_off(void)
{
    DR_WRITE(7, 0x400);
}

/* Referenced by name from the asm below: kept and not renamed. */
#define ASM_VISIBLE __attribute__((used))
static volatile u64 wvar __attribute__((aligned(16))) ASM_VISIBLE;
static volatile u64 rvar __attribute__((aligned(16))) ASM_VISIBLE;
static volatile u64 qvar __attribute__((aligned(16))) ASM_VISIBLE;
static volatile u8 buf[64] __attribute__((aligned(64))) ASM_VISIBLE;

/* ---- instruction breakpoint ---- */
extern char x_insn[], x_after[];
static void __attribute__((noinline)) exec_target(void)
{
    __asm__ volatile("x_insn: nop\nx_after: nop" ::: "memory");
}

/* ---- data breakpoints ---- */
extern char w1[], w1_after[], w2_after[], w3[], w3_after[], r1_after[], q1_after[];
static void __attribute__((noinline)) data_ops(void)
{
    __asm__ volatile(
        "w1: movl $1, wvar(%%rip)\n"            /* DR1 write, 4 bytes: trap */
        "w1_after: mov wvar(%%rip), %%eax\n"    /* a read: none */
        "movl $2, wvar+4(%%rip)\n"              /* outside the 4 bytes: none */
        "movb $3, wvar+3(%%rip)\n"              /* the last byte: trap */
        "w2_after: nop\n"
        "w3: mov rvar(%%rip), %%rax\n"          /* DR2 read/write, 2 bytes at rvar: trap */
        "w3_after: movb $4, qvar+7(%%rip)\n"    /* DR3 write, 8 bytes: its last byte: trap */
        "q1_after: nop\n"
        "r1_after:\n"
        ::: "rax", "memory");
}

/* ---- REP STOSB through a watched byte ---- */
extern char rep_insn[], rep_after[];
static void __attribute__((noinline)) rep_fill(void)
{
    __asm__ volatile(
        "lea buf(%%rip), %%rdi\n\t"
        "mov $64, %%ecx\n\t"
        "mov $0x5a, %%al\n"
        "rep_insn: rep stosb\n"
        "rep_after: nop\n"
        ::: "rax", "rcx", "rdi", "memory");
}

/* ---- PUSH / POP through a watched stack slot ---- */
extern char push_after[], pop_after[];
static volatile u64 push_slot ASM_VISIBLE;
static void __attribute__((noinline)) push_pop(void)
{
    __asm__ volatile(
        "mov %%rsp, %%rdx\n\t"
        "sub $8, %%rdx\n\t"
        "mov %%rdx, push_slot(%%rip)\n\t"
        "mov %%rdx, %%dr0\n\t"                  /* DR0 = the slot PUSH writes */
        "mov $0x400|1|(3<<16)|(2<<18), %%edx\n\t" /* L0, R/W 11, LEN 8 */
        "mov %%rdx, %%dr7\n\t"
        "push %%rax\n"
        "push_after: pop %%rax\n"
        "pop_after: nop\n"
        ::: "rax", "rdx", "memory");
}

/* ---- I/O breakpoints ---- */
extern char io_out_after[], io_in_after[], outs_insn[];
static u8 outs_src[3] ASM_VISIBLE = { 1, 2, 3 };
static void __attribute__((noinline)) io_ops(void)
{
    __asm__ volatile(
        "mov $0x11, %%al\n\t"
        "outb %%al, $0x80\n"                    /* DR2 I/O 0x80: trap */
        "io_out_after: inb $0x81, %%al\n"       /* another port: none */
        "io_in_after: lea outs_src(%%rip), %%rsi\n\t"
        "mov $0x80, %%dx\n\t"
        "mov $3, %%ecx\n"
        "outs_insn: rep outsb\n"               /* a trap after each iteration */
        ::: "rax", "rcx", "rdx", "rsi", "memory");
}

/* ---- user mode: MOV DR at CPL 3 ---- */
static long USER_TEXT user_mov_dr(long unused)
{
    u64 v;
    __asm__ volatile("mov %%dr7, %0" : "=r"(v));
    return 1;
}

static int on_int41(struct trap_frame *f) { return 1; }

struct idtr { u16 limit; u64 base; } __attribute__((packed));

void test_main(void)
{
    rt_set_handler(VEC_DB, on_db);
    int qemu = rt_on_qemu_tcg();

    /* DR6 / DR7 power-on values and fixed bits (17.2.3, 17.2.4). */
    CHECK_EQ(DR_READ(6), 0xffff0ff0, "DR6 after reset");
    CHECK_EQ(DR_READ(7), 0x400, "DR7 after reset");
    DR_WRITE(6, 0);
    CHECK_EQ(DR_READ(6), 0xffff0ff0, "DR6 after writing 0");
    DR_WRITE(7, 0);
    CHECK_EQ(DR_READ(7), 0x400, "DR7 after writing 0");
    if (qemu) {
        SKIP("DR6 bit 12 and DR7 bits 11, 12, 14, 15 read as 0: QEMU TCG stores them");
    } else {
        DR_WRITE(6, 0xffffffff);
        CHECK_EQ(DR_READ(6), 0xffffefff, "DR6 after writing all ones (bit 12 reads 0)");
        DR_WRITE(6, 0xffff0ff0);
        DR_WRITE(7, 0xdb00);                    /* LE, GE, bits 11, 12, 14, 15 */
        CHECK_EQ(DR_READ(7), 0x700, "DR7 keeps LE/GE, drops the reserved bits");
        bp_off();
    }
    int f = TRY(DR_WRITE(7, 1ull << 32));
    CHECK(f && rt_last_trap.vector == VEC_GP, "DR7 bit 32 set: #GP expected (trap %d, vector %llu)", f, rt_last_trap.vector);
    f = TRY(DR_WRITE(6, 1ull << 40));
    CHECK(f && rt_last_trap.vector == VEC_GP, "DR6 bit 40 set: #GP expected (trap %d, vector %llu)", f, rt_last_trap.vector);
    DR_WRITE(0, 0x123456789abcull);
    CHECK_EQ(DR_READ(0), 0x123456789abcull, "DR0 holds a 64-bit address");
    DR_WRITE(0, 0);

    /* DR4/DR5 alias DR6/DR7 while CR4.DE = 0; #UD with DE = 1 (17.2.2). */
    CHECK_EQ(DR_READ(4), 0xffff0ff0, "DR4 reads DR6");
    DR_WRITE(5, 0x400 | (1ull << 8));           /* LE, through the DR7 alias */
    CHECK_EQ(DR_READ(7), 0x500, "DR5 writes DR7");
    bp_off();
    write_cr4(read_cr4() | CR4_DE);
    f = TRY(DR_READ(4));
    CHECK(f && rt_last_trap.vector == VEC_UD, "DR4 with CR4.DE: #UD expected (trap %d, vector %llu)", f, rt_last_trap.vector);
    f = TRY(DR_WRITE(5, 0x400));
    CHECK(f && rt_last_trap.vector == VEC_UD, "DR5 with CR4.DE: #UD expected (trap %d, vector %llu)", f, rt_last_trap.vector);
    write_cr4(read_cr4() & ~CR4_DE);

    /* MOV DR at CPL 3: #GP(0). */
    rt_trap_reset();
    f = TRY(rt_user_call(user_mov_dr, 0, 0));
    CHECK(f && rt_last_trap.vector == VEC_GP && rt_last_trap.error == 0,
          "MOV DR at CPL 3: vector %llu error %#llx, expected #GP(0)", rt_last_trap.vector, rt_last_trap.error);

    /* General detect: the next MOV DR faults with BD; the handler runs with GD clear. */
    if (qemu) {
        SKIP("DR7.GD: QEMU TCG does not implement general detect");
    } else {
        extern char gd_insn[];
        db_reset();
        DR_WRITE(7, 0x400 | DR7_GD);
        __asm__ volatile("gd_insn: mov %%dr0, %%rax" ::: "rax");
        CHECK(ndb == 1, "general detect: %u #DB, expected 1", ndb);
        CHECK_EQ(db_rip[0], (u64)gd_insn, "general detect #DB is a fault at the MOV DR");
        CHECK(db_dr6[0] & DR6_BD, "general detect: DR6 %#llx without BD", db_dr6[0]);
        CHECK(!(db_dr7[0] & DR7_GD), "general detect: GD still set in the handler (DR7 %#llx)", db_dr7[0]);
        CHECK(db_fl[0] & FL_RF, "general detect: a fault pushes RF = 1 (%#llx)", db_fl[0]);
        bp_off();
    }

    /* Instruction breakpoint: a fault before the instruction, RF = 0 in its frame;
     * returning with RF = 1 lets the instruction run once. */
    db_reset();
    db_set_rf = 1;
    DR_WRITE(0, (u64)x_insn);
    DR_WRITE(7, 0x400 | DR7_L(0) | DR7_RW(0, RW_EXEC) | DR7_LEN(0, LEN1));
    exec_target();
    exec_target();
    bp_off();
    CHECK(ndb == 2, "instruction breakpoint: %u #DB over two calls, expected 2", ndb);
    for (unsigned k = 0; k < 2 && k < ndb; k++) {
        CHECK_EQ(db_rip[k], (u64)x_insn, "instruction breakpoint RIP");
        CHECK_EQ(db_dr6[k] & 0xf, 1, "instruction breakpoint DR6.B0");
        CHECK(!(db_dr6[k] & DR6_BS), "instruction breakpoint: BS set (%#llx)", db_dr6[k]);
        CHECK(!(db_fl[k] & FL_RF), "instruction breakpoint: RF = 1 in its frame (%#llx)", db_fl[k]);
    }

    /* Data breakpoints: traps after the access. */
    db_reset();
    DR_WRITE(1, (u64)&wvar);
    DR_WRITE(2, (u64)&rvar + 1);                /* LEN 2: aligned down to rvar */
    DR_WRITE(3, (u64)&qvar + 5);                /* LEN 8: aligned down to qvar */
    DR_WRITE(7, 0x400 | DR7_L(1) | DR7_RW(1, RW_WRITE) | DR7_LEN(1, LEN4) |
                DR7_L(2) | DR7_RW(2, RW_ACCESS) | DR7_LEN(2, LEN2) |
                DR7_L(3) | DR7_RW(3, RW_WRITE) | DR7_LEN(3, LEN8));
    data_ops();
    bp_off();
    {
        const u64 want_rip[] = { (u64)w1_after, (u64)w2_after, (u64)w3_after, (u64)q1_after };
        const u64 want_b[] = { 2, 2, 4, 8 };
        CHECK(ndb == 4, "data breakpoints: %u #DB, expected 4", ndb);
        for (unsigned k = 0; k < 4 && k < ndb; k++) {
            CHECK(db_rip[k] == want_rip[k], "data #DB %u at %#llx, expected %#llx", k, db_rip[k], want_rip[k]);
            CHECK((db_dr6[k] & 0xf) == want_b[k], "data #DB %u: DR6 %#llx, expected B bits %#llx", k, db_dr6[k], want_b[k]);
            CHECK(!(db_fl[k] & FL_RF), "data #DB %u: RF = 1 in a trap frame", k);
        }
    }

    /* REP STOSB: the trap follows the iteration that wrote the watched byte. */
    db_reset();
    DR_WRITE(0, (u64)&buf[40]);
    DR_WRITE(7, 0x400 | DR7_L(0) | DR7_RW(0, RW_WRITE) | DR7_LEN(0, LEN1));
    rep_fill();
    bp_off();
    CHECK(ndb == 1, "REP STOSB: %u #DB, expected 1", ndb);
    CHECK_EQ(db_rip[0], (u64)rep_insn, "REP STOSB #DB RIP is the string instruction (iterations left)");
    CHECK_EQ(db_rcx[0], 64 - 41, "REP STOSB #DB: RCX after the iteration that hit");
    CHECK_EQ(db_rdi[0], (u64)&buf[41], "REP STOSB #DB: RDI after the iteration that hit");
    if (qemu)
        SKIP("RF in the frame of a REP iteration's #DB: QEMU TCG pushes RF = 0");
    else
        CHECK(db_fl[0] & FL_RF, "REP STOSB #DB: RF = 1 for an iteration that is not the last (%#llx)", db_fl[0]);
    int all = 1;
    for (unsigned k = 0; k < 64; k++)
        all &= buf[k] == 0x5a;
    CHECK(all, "REP STOSB resumed after the #DB and finished the string");

    /* PUSH writes the watched slot, POP reads it. */
    db_reset();
    push_pop();
    bp_off();
    CHECK(ndb == 2, "PUSH/POP: %u #DB, expected 2", ndb);
    if (ndb >= 2) {
        CHECK_EQ(db_rip[0], (u64)push_after, "PUSH #DB RIP");
        CHECK_EQ(db_rip[1], (u64)pop_after, "POP #DB RIP");
    }

    /* The IDT read of INT n is a data access: the trap comes at the handler's first
     * instruction. */
    if (qemu) {
        SKIP("IDT read breakpoint: QEMU 7.2 TCG aborts (an iothread-lock assertion) when INT n hits it");
    } else {
        struct idtr idtr;
        extern char rt_isr_stubs[];
        __asm__ volatile("sidt %0" : "=m"(idtr));
        rt_set_handler(0x41, on_int41);
        db_reset();
        DR_WRITE(0, idtr.base + 0x41 * 16);
        DR_WRITE(7, 0x400 | DR7_L(0) | DR7_RW(0, RW_ACCESS) | DR7_LEN(0, LEN8));
        __asm__ volatile("int $0x41" ::: "memory");
        bp_off();
        CHECK(ndb == 1, "INT n reading a watched IDT gate: %u #DB, expected 1", ndb);
        CHECK_EQ(db_rip[0], (u64)(rt_isr_stubs + 16 * 0x41), "IDT read #DB at the handler's first instruction");
        CHECK_EQ(db_dr6[0] & 0xf, 1, "IDT read #DB: DR6.B0");
    }

    /* I/O breakpoints need CR4.DE (17.2.4, R/W 10). */
    if (qemu) {
        SKIP("I/O breakpoints: QEMU TCG does not implement them");
    } else {
        db_reset();
        DR_WRITE(2, 0x80);
        DR_WRITE(7, 0x400 | DR7_L(2) | DR7_RW(2, RW_IO) | DR7_LEN(2, LEN1));
        io_ops();                                   /* CR4.DE = 0: R/W 10 matches nothing */
        CHECK(ndb == 0, "I/O breakpoint without CR4.DE: %u #DB", ndb);
        write_cr4(read_cr4() | CR4_DE);
        db_reset();
        io_ops();
        bp_off();
        write_cr4(read_cr4() & ~CR4_DE);
        CHECK(ndb == 4, "I/O breakpoint: %u #DB, expected OUT + 3 REP OUTSB iterations", ndb);
        if (ndb >= 4) {
            CHECK_EQ(db_rip[0], (u64)io_out_after, "OUT #DB RIP");
            CHECK_EQ(db_dr6[0] & 0xf, 4, "OUT #DB DR6.B2");
            CHECK_EQ(db_rip[1], (u64)outs_insn, "REP OUTSB first #DB: RIP stays on the string");
            CHECK_EQ(db_rcx[1], 2, "REP OUTSB first #DB: RCX");
            CHECK(db_fl[1] & FL_RF, "REP OUTSB first #DB: RF = 1 (%#llx)", db_fl[1]);
            CHECK_EQ(db_rcx[3], 0, "REP OUTSB last #DB: RCX");
            CHECK(!(db_fl[3] & FL_RF), "REP OUTSB last #DB: RF = 0 after the last iteration (%#llx)", db_fl[3]);
        }
    }

    bp_off();
    rt_finish();
}
