/* Differential tests in 32-bit compatibility mode: the legacy-only instructions
 * (PUSHA/POPA, DAA/DAS/AAA/AAS/AAM/AAD, SALC, BOUND, ARPL, INC/DEC 40-4F) and
 * integer forms with 16- and 32-bit operand sizes and 16-bit (67h) addressing,
 * with random operands and flags, against the host CPU.
 *
 * Host side: a forked child runs each instruction in a 32-bit code segment: a
 * 64-bit stub (in a page below 4 GiB, MAP_32BIT) loads DS/ES with the 32-bit user
 * data selector 2Bh, RFLAGS and EAX..EDI (ESP too: every case gets a stack inside
 * the scratch page), and far-jumps to selector 23h (__USER32_CS of Linux x86-64);
 * after the instruction a far jump to 33h (__USER_CS) returns to 64-bit code that
 * stores the registers.  Faults arrive as signals, taken on an alternate stack
 * (SIGSEGV also for #BR, SIGFPE for #DE).
 * Emulator side: the test machine with CS = TM_SEL_CODE32 (compatibility mode),
 * SS/DS/ES flat 32-bit data, one cpu_step() per case.
 *
 * Compared: EAX..EDI (low 32 bits: compatibility mode cannot see the upper
 * halves), the flags each form defines, the scratch page, and the exception.
 * LES/LDS/LSS and segment loads need descriptors a user process cannot make
 * usable natively: they are covered by tests/unit/test_modes.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "tests/diff/support_host.h"
#include "tests/diff/support_native.h"
#include "cpu/flags.h"
#include "cpu/seg.h"

#define N_CASES      300
#define SCRATCH_ESP  (DIFF_SCRATCH + 0x800)     /* the stack of every case */
#define CODE_FIRST   0x01000000ull
#define RAM          (64ull << 20)
#define MAX_PRINT    4

/* Linux x86-64 GDT selectors (arch/x86/include/asm/segment.h). */
#define LINUX_USER32_CS 0x23
#define LINUX_USER_DS   0x2b
#define LINUX_USER_CS   0x33

/* Host stub page layout. */
#define PG_IN     0x000
#define PG_OUT    0x100
#define PG_SAVED  0x200
#define PG_FAR32  0x210     /* m16:32 -> 23h:code32 */
#define PG_FAR64  0x220     /* m16:32 -> 33h:back64 */
#define PG_ENTRY  0x400
#define PG_CODE32 0x600
#define PG_BACK64 0x700
#define SLOT_LEN  16

#define ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

struct result {
    struct diff_state out;
    int signo;
    uint8_t mem[DIFF_SCRATCH_SIZE];
};

static struct test_machine *tm;
static uint64_t next_slot = CODE_FIRST;
static struct result *shared;
static unsigned forms, cases_run, failed_forms, failed_cases, native_faults;

/* ---- host side ------------------------------------------------------------------ */

static sigjmp_buf child_jb;
static struct diff_state child_fault;
static const int uc_reg[8] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI };

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    const ucontext_t *uc = ucv;
    for (int r = 0; r < 8; r++)
        child_fault.gpr[r] = (uint64_t)uc->uc_mcontext.gregs[uc_reg[r]];
    child_fault.rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    siglongjmp(child_jb, sig);
}

static uint8_t *put(uint8_t *p, const void *b, size_t n) { memcpy(p, b, n); return p + n; }

/* REX.W op ModRM(00, reg, 101) disp32 against page + target (RIP-relative). */
static uint8_t *riprel(uint8_t *p, uint8_t *page, uint8_t op, unsigned reg, unsigned target)
{
    *p++ = 0x48;
    *p++ = op;
    *p++ = (uint8_t)(((reg & 7) << 3) | 5);
    int32_t disp = (int32_t)((page + target) - (p + 4));
    memcpy(p, &disp, 4);
    return p + 4;
}

static void build_stub(uint8_t *page)
{
    uint32_t base = (uint32_t)(uintptr_t)page;
    uint32_t f32[2] = { base + PG_CODE32, LINUX_USER32_CS };
    uint32_t f64[2] = { base + PG_BACK64, LINUX_USER_CS };
    memcpy(page + PG_FAR32, f32, 6);
    memcpy(page + PG_FAR64, f64, 6);

    uint8_t *p = page + PG_ENTRY;
    static const uint8_t save[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 };
    p = put(p, save, sizeof save);
    p = riprel(p, page, 0x89, RSP, PG_SAVED);
    static const uint8_t ds[] = { 0xb8, LINUX_USER_DS, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xc0 };  /* mov ds/es */
    p = put(p, ds, sizeof ds);
    *p++ = 0xff;                                            /* push qword [in.rflags]; popfq */
    *p++ = 0x35;
    int32_t disp = (int32_t)((page + PG_IN + 8 * 8) - (p + 4));
    memcpy(p, &disp, 4);
    p += 4;
    *p++ = 0x9d;
    for (unsigned r = 0; r < 8; r++)
        p = riprel(p, page, 0x8b, r, PG_IN + r * 8);
    *p++ = 0xff;                                            /* ljmp *[rip + far32] (m16:32) */
    *p++ = 0x2d;
    disp = (int32_t)((page + PG_FAR32) - (p + 4));
    memcpy(p, &disp, 4);

    p = page + PG_CODE32 + SLOT_LEN;                         /* after the slot: ljmp *[far64] */
    *p++ = 0xff;
    *p++ = 0x2d;
    uint32_t abs = base + PG_FAR64;
    memcpy(p, &abs, 4);

    p = page + PG_BACK64;
    for (unsigned r = 0; r < 8; r++)
        p = riprel(p, page, 0x89, r, PG_OUT + r * 8);
    p = riprel(p, page, 0x8b, RSP, PG_SAVED);
    *p++ = 0x9c;                                            /* pushfq; pop rax */
    *p++ = 0x58;
    p = riprel(p, page, 0x89, RAX, PG_OUT + 8 * 8);
    static const uint8_t restore[] = { 0xfc, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
    put(p, restore, sizeof restore);
}

static _Noreturn void child_main(const struct diff_case *cs, unsigned n)
{
    void *scratch = mmap((void *)DIFF_SCRATCH, DIFF_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (scratch != (void *)DIFF_SCRATCH)
        _exit(90);
    uint8_t *page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (page == MAP_FAILED)
        _exit(91);
    build_stub(page);
    static uint8_t altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    if (sigaltstack(&ss, NULL))
        _exit(92);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGTRAP };
    for (unsigned s = 0; s < sizeof sigs / sizeof sigs[0]; s++)
        sigaction(sigs[s], &sa, NULL);
    void (*stub)(void) = (void (*)(void))(void *)(page + PG_ENTRY);
    for (volatile unsigned k = 0; k < n; k++) {
        const struct diff_case *dc = &cs[k];
        memcpy(scratch, dc->mem, DIFF_SCRATCH_SIZE);
        memcpy(page + PG_IN, dc->in.gpr, 8 * 8);
        uint64_t fl = (dc->in.rflags & DIFF_FLAGS_IN) | FL_FIXED1;
        memcpy(page + PG_IN + 8 * 8, &fl, 8);
        memset(page + PG_CODE32, 0x90, SLOT_LEN);
        memcpy(page + PG_CODE32, dc->code, dc->len);
        int sig = sigsetjmp(child_jb, 1);
        if (sig == 0) {
            stub();
            memcpy(shared[k].out.gpr, page + PG_OUT, 8 * 8);
            memcpy(&shared[k].out.rflags, page + PG_OUT + 8 * 8, 8);
        } else {
            shared[k].out = child_fault;
        }
        shared[k].signo = sig;
        memcpy(shared[k].mem, scratch, DIFF_SCRATCH_SIZE);
    }
    _exit(0);
}

static bool run_native(const struct diff_case *cs, unsigned n)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("diff_compat32: fork");
        exit(2);
    }
    if (pid == 0)
        child_main(cs, n);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return true;
    fprintf(stderr, "diff_compat32: native child failed (status %#x)\n", st);
    return false;
}

/* ---- emulator side -------------------------------------------------------------- */

struct emu {
    struct diff_state out;
    int vector;
    bool rip_ok;
    uint8_t mem[DIFF_SCRATCH_SIZE];
};

static void enter_compat(struct cpu *c)
{
    /* TM_SEL_CODE32: 32-bit code DPL 0; data 10h flat with B = 1. */
    c->seg[SEG_CS] = (struct segment){ .sel = TM_SEL_CODE32, .base = 0, .limit = 0xffffffffu,
        .attr = ST_CODE | ST_READ | ST_ACCESSED | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G };
    cpu_update_mode(c);
}

static void run_emu(const struct diff_case *dc, struct emu *er)
{
    struct cpu *c = &tm->cpu;
    uint8_t buf[32];
    memset(buf, 0xf4, sizeof buf);
    memcpy(buf, dc->code, dc->len);
    uint64_t slot = next_slot;
    next_slot += sizeof buf;
    if (next_slot + sizeof buf > RAM)
        next_slot = CODE_FIRST;
    tm_load(tm, slot, buf, sizeof buf);
    tm_load(tm, DIFF_SCRATCH, dc->mem, DIFF_SCRATCH_SIZE);
    memset(c->gpr, 0, sizeof c->gpr);
    memcpy(c->gpr, dc->in.gpr, 8 * 8);
    c->lf.op = LF_NONE;
    c->rflags = (dc->in.rflags & DIFF_FLAGS_IN) | FL_FIXED1;
    c->halted = 0;
    enter_compat(c);
    c->rip = slot;
    cpu_step(c);
    er->vector = tm_exception_vector(tm);
    if (er->vector < 0 && c->mode != MODE_PROT32)
        er->vector = 999;                   /* left compatibility mode: never right */
    er->rip_ok = er->vector >= 0 || c->rip == slot + dc->len;
    memcpy(er->out.gpr, c->gpr, 8 * 8);
    er->out.rflags = flags_get(c);
    physmem_read_bytes(tm->pm, DIFF_SCRATCH, er->mem, DIFF_SCRATCH_SIZE);
}

/* ---- comparison ------------------------------------------------------------------- */

static bool signal_matches(int signo, int vector)
{
    switch (signo) {
    case 0:       return vector < 0;
    case SIGFPE:  return vector == EXC_DE;
    case SIGSEGV: return vector == EXC_GP || vector == EXC_PF || vector == EXC_SS || vector == EXC_BR;
    case SIGBUS:  return vector == EXC_GP || vector == EXC_SS || vector == EXC_AC;
    case SIGILL:  return vector == EXC_UD;
    default:      return false;
    }
}

static const char *const rname[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

static void print_flags(uint64_t f)
{
    static const struct { uint64_t b; const char *n; } fl[] = {
        { FL_CF, "CF" }, { FL_PF, "PF" }, { FL_AF, "AF" }, { FL_ZF, "ZF" },
        { FL_SF, "SF" }, { FL_OF, "OF" }, { FL_DF, "DF" },
    };
    for (unsigned k = 0; k < sizeof fl / sizeof fl[0]; k++)
        if (f & fl[k].b)
            printf(" %s", fl[k].n);
}

static bool compare(const char *form, const struct diff_case *dc, const struct result *nr,
                    const struct emu *er, bool print)
{
    bool sig_ok = signal_matches(nr->signo, er->vector);
    unsigned bad_regs = 0;
    for (int r = 0; r < 8; r++) {
        if (r == RSP && er->vector >= 0)
            continue;                       /* delivery pushed a frame */
        if (((nr->out.gpr[r] ^ er->out.gpr[r]) & 0xffffffffu) && (dc->gpr_mask >> r & 1))
            bad_regs |= 1u << r;
    }
    uint64_t fbad = nr->signo ? 0 : (nr->out.rflags ^ er->out.rflags) & dc->flag_mask;
    /* An exception delivered by the emulator wrote its 64-bit frame (at most 48
     * bytes, 16-byte aligned) just below the case's stack pointer. */
    unsigned frame_lo = SCRATCH_ESP - DIFF_SCRATCH - 0x40, frame_hi = SCRATCH_ESP - DIFF_SCRATCH;
    int mem_bad = -1;
    for (unsigned o = 0; o < DIFF_SCRATCH_SIZE && mem_bad < 0; o++)
        if (nr->mem[o] != er->mem[o] && !(er->vector >= 0 && o >= frame_lo && o < frame_hi))
            mem_bad = (int)o;
    bool ok = sig_ok && er->rip_ok && !bad_regs && !fbad && mem_bad < 0;
    if (ok || !print)
        return ok;
    printf("FAIL %s: [", form);
    for (unsigned b = 0; b < dc->len; b++)
        printf("%s%02x", b ? " " : "", dc->code[b]);
    printf("]\n  input:");
    for (int r = 0; r < 8; r++)
        printf(" %s=%08" PRIx64, rname[r], dc->in.gpr[r] & 0xffffffffu);
    printf(" flags:");
    print_flags(dc->in.rflags);
    printf("\n");
    if (!sig_ok)
        printf("  exception: native signal %d, emulator vector %d\n", nr->signo, er->vector);
    if (!er->rip_ok)
        printf("  emulator RIP is neither the next instruction nor an exception stub\n");
    for (int r = 0; r < 8; r++)
        if (bad_regs >> r & 1)
            printf("  %s: expected %08" PRIx64 " got %08" PRIx64 "\n", rname[r],
                   nr->out.gpr[r] & 0xffffffffu, er->out.gpr[r] & 0xffffffffu);
    if (fbad) {
        printf("  flags: expected");
        print_flags(nr->out.rflags & dc->flag_mask);
        printf(", got");
        print_flags(er->out.rflags & dc->flag_mask);
        printf("\n");
    }
    if (mem_bad >= 0)
        printf("  memory at %#llx: expected %02x got %02x\n",
               (unsigned long long)DIFF_SCRATCH + (unsigned)mem_bad, nr->mem[mem_bad], er->mem[mem_bad]);
    return false;
}

static void run_form(const char *form, const struct diff_case *cs, unsigned n)
{
    forms++;
    cases_run += n;
    if (!run_native(cs, n)) {
        printf("FAIL %s: the native run failed\n", form);
        failed_forms++;
        failed_cases += n;
        return;
    }
    static struct emu er;
    unsigned bad = 0;
    for (unsigned k = 0; k < n; k++) {
        if (shared[k].signo)
            native_faults++;
        run_emu(&cs[k], &er);
        if (!compare(form, &cs[k], &shared[k], &er, bad < MAX_PRINT))
            bad++;
    }
    if (bad) {
        printf("FAIL %s: %u of %u cases differ\n", form, bad, n);
        failed_forms++;
        failed_cases += bad;
    }
}

/* ---- the forms -------------------------------------------------------------------- */

static struct diff_case cases[N_CASES];

static uint64_t size_mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* n random cases of the instruction bytes; operand values of 'size' bytes in every
 * register (ESP excepted), random arithmetic flags; fill may adjust each case. */
static void gen(const char *form, const uint8_t *code, unsigned len, unsigned size,
                uint64_t flag_mask, void (*fill)(struct diff_case *))
{
    for (unsigned k = 0; k < N_CASES; k++) {
        struct diff_case *dc = &cases[k];
        memset(dc, 0, sizeof *dc);
        memcpy(dc->code, code, len);
        dc->len = (uint8_t)len;
        dc->gpr_mask = 0xff;
        dc->flag_mask = flag_mask;
        for (unsigned r = 0; r < 8; r++)
            dc->in.gpr[r] = diff_operand(size) | (diff_rand() & ~size_mask_of(size) & 0xffffffffu);
        dc->in.gpr[RSP] = SCRATCH_ESP;
        dc->in.rflags = diff_rand() & ARITH;
        for (unsigned o = 0; o < DIFF_SCRATCH_SIZE; o += 8) {
            uint64_t v = diff_rand();
            memcpy(dc->mem + o, &v, 8);
        }
        if (fill)
            fill(dc);
    }
    run_form(form, cases, N_CASES);
}

/* BOUND r32, [EBX]: EBX points into the scratch, bounds and index near each other
 * so that both outcomes occur. */
static void fill_bound32(struct diff_case *dc)
{
    dc->in.gpr[RBX] = DIFF_SCRATCH + 0x100;
    int32_t lo = (int32_t)(diff_rand() % 64) - 32, hi = lo + (int32_t)(diff_rand() % 64);
    memcpy(dc->mem + 0x100, &lo, 4);
    memcpy(dc->mem + 0x104, &hi, 4);
    dc->in.gpr[RAX] = (uint32_t)((int32_t)(diff_rand() % 128) - 64);
}

static void fill_bound16(struct diff_case *dc)
{
    dc->in.gpr[RBX] = DIFF_SCRATCH + 0x100;
    int16_t lo = (int16_t)((int)(diff_rand() % 64) - 32), hi = (int16_t)(lo + (int)(diff_rand() % 64));
    memcpy(dc->mem + 0x100, &lo, 2);
    memcpy(dc->mem + 0x102, &hi, 2);
    dc->in.gpr[RAX] = (dc->in.gpr[RAX] & ~0xffffull) | (uint16_t)((int)(diff_rand() % 128) - 64);
}

/* BCD inputs: AL/AH random bytes, CF and AF random (already in rflags). */
static void fill_bcd(struct diff_case *dc)
{
    dc->in.gpr[RAX] = diff_rand() & 0xffffffffu;
}

static void fill_aam(struct diff_case *dc)
{
    fill_bcd(dc);
    dc->code[1] = (uint8_t)(diff_rand() % 8 == 0 ? 0 : diff_rand());    /* imm8, sometimes 0 (#DE) */
}

int main(void)
{
    diff_require_compat32();
    tm = tm_new_model(RAM, diff_host_model());
    shared = mmap(NULL, N_CASES * sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("diff_compat32: mmap");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Legacy-only instructions.  Flag masks: the flags the SDM defines for each. */
    const uint64_t daa_fl = FL_CF | FL_AF | FL_SF | FL_ZF | FL_PF;
    gen("daa", (const uint8_t[]){ 0x27 }, 1, 1, daa_fl, fill_bcd);
    gen("das", (const uint8_t[]){ 0x2f }, 1, 1, daa_fl, fill_bcd);
    gen("aaa", (const uint8_t[]){ 0x37 }, 1, 1, FL_CF | FL_AF, fill_bcd);
    gen("aas", (const uint8_t[]){ 0x3f }, 1, 1, FL_CF | FL_AF, fill_bcd);
    gen("aam 10", (const uint8_t[]){ 0xd4, 0x0a }, 2, 1, FL_SF | FL_ZF | FL_PF, fill_bcd);
    gen("aam imm8", (const uint8_t[]){ 0xd4, 0x00 }, 2, 1, FL_SF | FL_ZF | FL_PF, fill_aam);
    gen("aad 10", (const uint8_t[]){ 0xd5, 0x0a }, 2, 1, FL_SF | FL_ZF | FL_PF, fill_bcd);
    gen("aad imm8", (const uint8_t[]){ 0xd5, 0x00 }, 2, 1, FL_SF | FL_ZF | FL_PF, fill_aam);
    gen("salc", (const uint8_t[]){ 0xd6 }, 1, 4, ARITH, NULL);
    gen("pusha", (const uint8_t[]){ 0x60 }, 1, 4, ARITH, NULL);
    gen("pushaw", (const uint8_t[]){ 0x66, 0x60 }, 2, 2, ARITH, NULL);
    gen("popa", (const uint8_t[]){ 0x61 }, 1, 4, ARITH, NULL);
    gen("popaw", (const uint8_t[]){ 0x66, 0x61 }, 2, 2, ARITH, NULL);
    gen("bound r32, m32&32", (const uint8_t[]){ 0x62, 0x03 }, 2, 4, ARITH, fill_bound32);
    gen("bound r16, m16&16", (const uint8_t[]){ 0x66, 0x62, 0x03 }, 3, 2, ARITH, fill_bound16);
    gen("arpl cx, ax", (const uint8_t[]){ 0x63, 0xc1 }, 2, 2, FL_ZF, NULL);
    gen("inc eax (40)", (const uint8_t[]){ 0x40 }, 1, 4, ARITH, NULL);
    gen("dec di (66 4f)", (const uint8_t[]){ 0x66, 0x4f }, 2, 2, ARITH, NULL);

    /* 16-bit operand size. */
    gen("add ax, cx", (const uint8_t[]){ 0x66, 0x01, 0xc8 }, 3, 2, ARITH, NULL);
    gen("sbb dx, bx", (const uint8_t[]){ 0x66, 0x19, 0xda }, 3, 2, ARITH, NULL);
    gen("imul ax, cx", (const uint8_t[]){ 0x66, 0x0f, 0xaf, 0xc1 }, 4, 2, FL_CF | FL_OF, NULL);
    gen("mul cx (16)", (const uint8_t[]){ 0x66, 0xf7, 0xe1 }, 3, 2, FL_CF | FL_OF, NULL);
    gen("shl si, 3", (const uint8_t[]){ 0x66, 0xc1, 0xe6, 0x03 }, 4, 2, FL_CF | FL_ZF | FL_SF | FL_PF, NULL);
    gen("movsx eax, cx", (const uint8_t[]){ 0x0f, 0xbf, 0xc1 }, 3, 2, ARITH, NULL);
    gen("xchg ax, bp", (const uint8_t[]){ 0x66, 0x95 }, 2, 2, ARITH, NULL);
    gen("push cx (66)", (const uint8_t[]){ 0x66, 0x51 }, 2, 2, ARITH, NULL);
    gen("pop dx (66)", (const uint8_t[]){ 0x66, 0x5a }, 2, 2, ARITH, NULL);
    gen("cwd", (const uint8_t[]){ 0x66, 0x99 }, 2, 2, ARITH, NULL);
    gen("cbw", (const uint8_t[]){ 0x66, 0x98 }, 2, 1, ARITH, NULL);

    /* 32-bit forms. */
    gen("adc eax, ebx", (const uint8_t[]){ 0x11, 0xd8 }, 2, 4, ARITH, NULL);
    gen("rcr edx, cl", (const uint8_t[]){ 0xd3, 0xda }, 2, 4, FL_CF, NULL);
    gen("push esi / pop", (const uint8_t[]){ 0x56 }, 1, 4, ARITH, NULL);
    gen("lea eax, [ebx+esi*4+12345678h]", (const uint8_t[]){ 0x8d, 0x84, 0xb3, 0x78, 0x56, 0x34, 0x12 }, 7, 4, ARITH, NULL);

    /* 67h: 16-bit addressing (LEA: the effective address wraps at 64 KiB). */
    gen("lea eax, [bx+si] (67)", (const uint8_t[]){ 0x67, 0x8d, 0x00 }, 3, 4, ARITH, NULL);
    gen("lea ecx, [bp+di+7fh] (67)", (const uint8_t[]){ 0x67, 0x8d, 0x4b, 0x7f }, 4, 4, ARITH, NULL);
    gen("lea dx, [bx+di-1234h] (66 67)", (const uint8_t[]){ 0x66, 0x67, 0x8d, 0x91, 0xcc, 0xed }, 6, 2, ARITH, NULL);
    gen("lea edi, [8765h] (67)", (const uint8_t[]){ 0x67, 0x8d, 0x3e, 0x65, 0x87 }, 5, 4, ARITH, NULL);

    printf("%u forms, %u cases (%u raised an exception natively): %u forms and %u cases failed\n",
           forms, cases_run, native_faults, failed_forms, failed_cases);
    tm_free(tm);
    return failed_cases ? 1 : 0;
}
