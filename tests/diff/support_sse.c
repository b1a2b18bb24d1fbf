/* The harness of support_sse.h (see there).  Stub page layout: IN state at 0x000,
 * OUT state at 0x400, the saved host RSP at 0x800, the default MXCSR at 0x808, code
 * at 0x900.  State layout = struct sse_state. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include <immintrin.h>
#include "tests/diff/support_host.h"
#include "tests/diff/support_sse.h"
#include "cpu/flags.h"
#include "cpu/seg.h"

#define S_RAM       (64ull << 20)
#define S_CODE0     0x01000000ull
#define S_SLOT      32u
#define S_PRINT     4
#define PG_IN       0x000
#define PG_OUT      0x400
#define PG_SAVED    0x800
#define PG_DEFCSR   0x808
#define PG_FAR32    0x810     /* m16:32 -> 23h:PG_SLOT32 */
#define PG_FAR64    0x820     /* m16:32 -> 33h:PG_BACK64 */
#define PG_CODE     0x900
#define PG_CODE_C   0x1000    /* the compatibility-mode stub */
#define PG_SLOT32   0x1800
#define PG_BACK64   0x1900
#define PG_SIZE     0x2000
#define SLOT_LEN    16
#define LINUX_USER32_CS 0x23  /* arch/x86/include/asm/segment.h */
#define LINUX_USER_DS   0x2b
#define LINUX_USER_CS   0x33

struct sse_result {
    struct sse_state out;
    int signo;
    uint8_t mem[SSE_SCRATCH_SIZE];
};

struct sse_diff {
    struct test_machine *tm;
    uint64_t next_slot;
    unsigned forms, cases, failed_cases, failed_forms, faults;
    struct sse_result *shared;
    unsigned cap;
    struct segment cs64;        /* the test machine's 64-bit CS, restored before each case */
};

static sigjmp_buf s_jb;
static struct sse_state s_fault;
static const int s_uc_reg[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void s_on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    const ucontext_t *uc = ucv;
    for (int r = 0; r < 16; r++)
        s_fault.gpr[r] = (uint64_t)uc->uc_mcontext.gregs[s_uc_reg[r]];
    s_fault.rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    s_fault.mxcsr = fp->mxcsr;
    for (int r = 0; r < 16; r++)
        memcpy(&s_fault.xmm[r], &fp->_xmm[r], 16);
    for (int r = 0; r < 8; r++)
        memcpy(&s_fault.mm[r], &fp->_st[r], 8);     /* FXSAVE order is ST(i); TOP = 0 in MMX use */
    siglongjmp(s_jb, sig);
}

static uint8_t *emit(uint8_t *p, const void *b, size_t n)
{
    memcpy(p, b, n);
    return p + n;
}

/* [prefix] [REX] 0F op ModRM(00, reg, 101) disp32 -> page + target */
static uint8_t *emit_rip(uint8_t *p, uint8_t *page, int pfx, unsigned rexw, const uint8_t *op, unsigned oplen,
                         unsigned reg, unsigned target)
{
    if (pfx >= 0)
        *p++ = (uint8_t)pfx;
    if (rexw || reg >= 8)
        *p++ = (uint8_t)(0x40 | (rexw ? 8 : 0) | (reg >= 8 ? 4 : 0));
    p = emit(p, op, oplen);
    *p++ = (uint8_t)(((reg & 7) << 3) | 5);
    int32_t disp = (int32_t)((page + target) - (p + 4));
    memcpy(p, &disp, 4);
    return p + 4;
}

#define OFF(f) ((unsigned)offsetof(struct sse_state, f))

static const uint8_t mov_st[] = { 0x89 }, mov_ld[] = { 0x8b }, ldmx[] = { 0x0f, 0xae },
                     movdqu_ld[] = { 0x0f, 0x6f }, movdqu_st[] = { 0x0f, 0x7f };

/* Save callee-saved registers and RSP; load MXCSR, XMM0-15, MM0-7, RFLAGS. */
static uint8_t *emit_enter(uint8_t *p, uint8_t *page)
{
    static const uint8_t save[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 };
    p = emit(p, save, sizeof save);
    p = emit_rip(p, page, -1, 1, mov_st, 1, RSP, PG_SAVED);
    p = emit_rip(p, page, -1, 0, ldmx, 2, 2, PG_IN + OFF(mxcsr));               /* ldmxcsr */
    for (unsigned r = 0; r < 16; r++)
        p = emit_rip(p, page, 0xf3, 0, movdqu_ld, 2, r, PG_IN + OFF(xmm) + 16 * r);
    for (unsigned r = 0; r < 8; r++)
        p = emit_rip(p, page, -1, 0, movdqu_ld, 2, r, PG_IN + OFF(mm) + 8 * r);  /* movq mm, m64 */
    *p++ = 0xff;                                                                /* push [rflags]; popfq */
    *p++ = 0x35;
    int32_t disp = (int32_t)((page + PG_IN + OFF(rflags)) - (p + 4));
    memcpy(p, &disp, 4);
    p += 4;
    *p++ = 0x9d;
    return p;
}

static uint8_t *emit_load_gprs(uint8_t *p, uint8_t *page)
{
    for (unsigned r = 0; r < 16; r++)
        if (r != RSP)
            p = emit_rip(p, page, -1, 1, mov_ld, 1, r, PG_IN + OFF(gpr) + 8 * r);
    return p;
}

/* Store everything back, restore the host state and return. */
static uint8_t *emit_leave(uint8_t *p, uint8_t *page)
{
    for (unsigned r = 0; r < 16; r++)
        if (r != RSP)
            p = emit_rip(p, page, -1, 1, mov_st, 1, r, PG_OUT + OFF(gpr) + 8 * r);
    p = emit_rip(p, page, -1, 1, mov_ld, 1, RSP, PG_SAVED);
    *p++ = 0x9c;
    *p++ = 0x58;
    p = emit_rip(p, page, -1, 1, mov_st, 1, RAX, PG_OUT + OFF(rflags));
    p = emit_rip(p, page, -1, 0, ldmx, 2, 3, PG_OUT + OFF(mxcsr));              /* stmxcsr */
    for (unsigned r = 0; r < 16; r++)
        p = emit_rip(p, page, 0xf3, 0, movdqu_st, 2, r, PG_OUT + OFF(xmm) + 16 * r);
    for (unsigned r = 0; r < 8; r++)
        p = emit_rip(p, page, -1, 0, movdqu_st, 2, r, PG_OUT + OFF(mm) + 8 * r);
    *p++ = 0x0f;                                                                /* emms */
    *p++ = 0x77;
    p = emit_rip(p, page, -1, 0, ldmx, 2, 2, PG_DEFCSR);
    static const uint8_t restore[] = { 0xfc, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
    return emit(p, restore, sizeof restore);
}

/* Both stubs; returns the 64-bit instruction slot (the 32-bit one is page + PG_SLOT32). */
static uint8_t *build_stub(uint8_t *page)
{
    uint8_t *p = emit_enter(page + PG_CODE, page);
    p = emit_load_gprs(p, page);
    uint8_t *slot = p;
    memset(p, 0x90, SLOT_LEN);
    emit_leave(p + SLOT_LEN, page);

    uint32_t base = (uint32_t)(uintptr_t)page;
    uint32_t f32[2] = { base + PG_SLOT32, LINUX_USER32_CS }, f64[2] = { base + PG_BACK64, LINUX_USER_CS };
    memcpy(page + PG_FAR32, f32, 6);
    memcpy(page + PG_FAR64, f64, 6);
    p = emit_enter(page + PG_CODE_C, page);
    static const uint8_t ds[] = { 0xb8, LINUX_USER_DS, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xc0 };  /* mov ds/es */
    p = emit(p, ds, sizeof ds);
    p = emit_load_gprs(p, page);
    *p++ = 0xff;                                            /* ljmp *[rip + far32] */
    *p++ = 0x2d;
    int32_t disp = (int32_t)((page + PG_FAR32) - (p + 4));
    memcpy(p, &disp, 4);
    p = page + PG_SLOT32 + SLOT_LEN;                         /* after the 32-bit slot: ljmp *[far64] */
    *p++ = 0xff;
    *p++ = 0x2d;
    uint32_t abs = base + PG_FAR64;
    memcpy(p, &abs, 4);
    emit_leave(page + PG_BACK64, page);
    return slot;
}

static _Noreturn void child_main(const struct sse_case *cases, unsigned n, struct sse_result *res)
{
    void *scratch = mmap((void *)SSE_SCRATCH, SSE_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (scratch != (void *)SSE_SCRATCH)
        _exit(90);
    uint8_t *page = mmap(NULL, PG_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (page == MAP_FAILED)
        _exit(91);
    uint32_t defcsr = 0x1f80;
    memcpy(page + PG_DEFCSR, &defcsr, 4);
    uint8_t *slot = build_stub(page);
    static uint8_t altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL))
        _exit(92);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = s_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGTRAP };
    for (unsigned s = 0; s < sizeof sigs / sizeof sigs[0]; s++)
        sigaction(sigs[s], &sa, NULL);
    void (*stub)(void) = (void (*)(void))(void *)(page + PG_CODE);
    void (*stub32)(void) = (void (*)(void))(void *)(page + PG_CODE_C);
    uint8_t *slot32 = page + PG_SLOT32;
    for (volatile unsigned k = 0; k < n; k++) {
        const struct sse_case *dc = &cases[k];
        memcpy(scratch, dc->mem, SSE_SCRATCH_SIZE);
        struct sse_state in = dc->in;
        in.rflags = (in.rflags & (FL_ARITH | FL_DF)) | FL_FIXED1;
        memcpy(page + PG_IN, &in, sizeof in);
        uint8_t *sl = dc->compat32 ? slot32 : slot;
        memset(sl, 0x90, SLOT_LEN);
        memcpy(sl, dc->code, dc->len);
        int sig = sigsetjmp(s_jb, 1);
        if (sig == 0) {
            if (dc->compat32)
                stub32();
            else
                stub();
            memcpy(&res[k].out, page + PG_OUT, sizeof res[k].out);
        } else {
            _mm_setcsr(0x1f80);
            __asm__ volatile("emms");
            res[k].out = s_fault;
        }
        res[k].signo = sig;
        memcpy(res[k].mem, scratch, SSE_SCRATCH_SIZE);
    }
    _exit(0);
}

static bool run_native(struct sse_diff *d, const struct sse_case *cases, unsigned n)
{
    if (n > d->cap) {
        if (d->shared)
            munmap(d->shared, d->cap * sizeof *d->shared);
        d->shared = mmap(NULL, n * sizeof *d->shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (d->shared == MAP_FAILED) {
            perror("sse diff: mmap");
            exit(2);
        }
        d->cap = n;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("sse diff: fork");
        exit(2);
    }
    if (pid == 0)
        child_main(cases, n, d->shared);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return true;
    fprintf(stderr, "sse diff: native child failed (status %#x)\n", st);
    return false;
}

struct emu_result {
    struct sse_state out;
    int vector;
    bool rip_ok;
    uint8_t mem[SSE_SCRATCH_SIZE];
};

static void run_emu(struct sse_diff *d, const struct sse_case *dc, struct emu_result *er)
{
    struct test_machine *tm = d->tm;
    struct cpu *c = &tm->cpu;
    uint8_t buf[S_SLOT];
    memset(buf, 0xf4, sizeof buf);
    memcpy(buf, dc->code, dc->len);
    uint64_t slot = d->next_slot;
    d->next_slot += S_SLOT;
    if (d->next_slot + S_SLOT > S_RAM)
        d->next_slot = S_CODE0;
    tm_load(tm, slot, buf, sizeof buf);
    tm_load(tm, SSE_SCRATCH, dc->mem, SSE_SCRATCH_SIZE);
    memcpy(c->gpr, dc->in.gpr, sizeof c->gpr);
    c->gpr[RSP] = TM_STACK_TOP;
    c->lf.op = LF_NONE;
    c->rflags = (dc->in.rflags & (FL_ARITH | FL_DF)) | FL_FIXED1;
    c->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->fpu.mxcsr = dc->in.mxcsr;
    memcpy(c->fpu.xmm, dc->in.xmm, sizeof c->fpu.xmm);
    for (unsigned r = 0; r < 8; r++) {
        memcpy(c->fpu.st[r], &dc->in.mm[r], 8);
        c->fpu.st[r][8] = c->fpu.st[r][9] = 0xff;
    }
    c->fpu.fsw = 0;
    c->halted = 0;
    c->seg[SEG_CS] = d->cs64;
    if (dc->compat32)   /* TM_SEL_CODE32: 32-bit code, DPL 0 (as tests/diff/diff_compat32.c) */
        c->seg[SEG_CS] = (struct segment){ .sel = TM_SEL_CODE32, .base = 0, .limit = 0xffffffffu,
            .attr = ST_CODE | ST_READ | ST_ACCESSED | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G };
    cpu_update_mode(c);
    c->rip = slot;
    cpu_step(c);
    er->vector = tm_exception_vector(tm);
    if (er->vector < 0 && dc->compat32 && c->mode != MODE_PROT32)
        er->vector = 999;       /* left compatibility mode: never right */
    er->rip_ok = er->vector >= 0 || c->rip == slot + dc->len;
    memcpy(er->out.gpr, c->gpr, sizeof er->out.gpr);
    er->out.rflags = flags_get(c);
    er->out.mxcsr = c->fpu.mxcsr;
    memcpy(er->out.xmm, c->fpu.xmm, sizeof er->out.xmm);
    for (unsigned r = 0; r < 8; r++)
        memcpy(&er->out.mm[r], c->fpu.st[r], 8);
    physmem_read_bytes(tm->pm, SSE_SCRATCH, er->mem, SSE_SCRATCH_SIZE);
}

static bool signal_matches(int signo, int vector)
{
    switch (signo) {
    case 0:       return vector < 0;
    case SIGFPE:  return vector == EXC_XM || vector == EXC_DE;
    case SIGSEGV: return vector == EXC_GP || vector == EXC_PF || vector == EXC_SS;
    case SIGBUS:  return vector == EXC_GP || vector == EXC_SS || vector == EXC_AC;
    case SIGILL:  return vector == EXC_UD;
    default:      return false;
    }
}

/* RCP/RSQRT: both results within the SDM's 1.5 * 2^-12 of the true value, so within
 * 3 * 2^-12 of each other; specials (0, inf, NaN) must be identical. */
static bool approx_eq(uint32_t a, uint32_t b)
{
    if (a == b)
        return true;
    float fa, fb;
    memcpy(&fa, &a, 4);
    memcpy(&fb, &b, 4);
    if (!isnormal(fa) || !isnormal(fb))
        return false;
    return fabsf(fa - fb) <= 3.0f * 0x1p-12f * fabsf(fb);
}

static void print_xmm(const char *tag, unsigned r, const xmm_reg *x)
{
    printf("  %s xmm%u = %016" PRIx64 "_%016" PRIx64 "\n", tag, r, x->q[1], x->q[0]);
}

static unsigned s_pe_excused;

static bool compare(const char *form, const struct sse_case *dc, const struct sse_result *nr,
                    const struct emu_result *er, bool print)
{
    bool sig_ok = signal_matches(nr->signo, er->vector);
    uint16_t bad_regs = 0, bad_xmm = 0, bad_mm = 0;
    uint64_t gm = dc->compat32 ? 0xffffffffu : ~0ull;    /* compat: EAX..EDI, low halves */
    for (int r = 0; r < (dc->compat32 ? 8 : 16); r++)
        if ((dc->gpr_mask >> r & 1) && r != RSP && ((nr->out.gpr[r] ^ er->out.gpr[r]) & gm))
            bad_regs |= (uint16_t)(1u << r);
    for (int r = 0; r < 16; r++) {
        bool same = !memcmp(&nr->out.xmm[r], &er->out.xmm[r], 16);
        if (!same && dc->approx) {
            same = true;
            for (int k = 0; k < 4; k++)
                same &= approx_eq(er->out.xmm[r].d[k], nr->out.xmm[r].d[k]);
        }
        if (!same)
            bad_xmm |= (uint16_t)(1u << r);
    }
    if (dc->mmx)
        for (int r = 0; r < 8; r++)
            if (nr->out.mm[r] != er->out.mm[r])
                bad_mm |= (uint16_t)(1u << r);
    uint64_t fbad = (nr->out.rflags ^ er->out.rflags) & dc->flag_mask;
    /* Known deviation (cpu/sse.h, sse_fp_end): after an unmasked overflow or underflow
     * the hardware sets PE from the result rounded with an unbounded exponent; hvemu's
     * PE comes from the masked (overflowed / denormalised) result.  Only PE is excused,
     * only in that case, and the cases are counted in the summary. */
    uint32_t csr_diff = nr->out.mxcsr ^ er->out.mxcsr;
    uint32_t unmasked_ou = nr->out.mxcsr & ~(dc->in.mxcsr >> 7) & 0x18;     /* OE, UE */
    if (nr->signo == SIGFPE && unmasked_ou && csr_diff == 0x20) {
        csr_diff = 0;
        s_pe_excused++;
    }
    bool csr_bad = csr_diff != 0;
    int mem_bad = -1;
    for (unsigned o = 0; o < SSE_SCRATCH_SIZE; o++)
        if (nr->mem[o] != er->mem[o]) {
            mem_bad = (int)o;
            break;
        }
    bool ok = sig_ok && er->rip_ok && !bad_regs && !bad_xmm && !bad_mm && !fbad && !csr_bad && mem_bad < 0;
    if (ok || !print)
        return ok;
    printf("FAIL %s: [", form);
    for (unsigned b = 0; b < dc->len; b++)
        printf("%s%02x", b ? " " : "", dc->code[b]);
    printf("] mxcsr in %#x\n", dc->in.mxcsr);
    if (!sig_ok)
        printf("  exception: native signal %d, emulator vector %d\n", nr->signo, er->vector);
    if (!er->rip_ok)
        printf("  emulator RIP wrong\n");
    for (unsigned r = 0; r < 16; r++)
        if (bad_xmm >> r & 1) {
            print_xmm("in      ", r, &dc->in.xmm[r]);
            print_xmm("expected", r, &nr->out.xmm[r]);
            print_xmm("got     ", r, &er->out.xmm[r]);
        }
    for (unsigned r = 0; r < 8; r++)
        if (bad_mm >> r & 1)
            printf("  mm%u: in %016" PRIx64 " expected %016" PRIx64 " got %016" PRIx64 "\n", r, dc->in.mm[r],
                   nr->out.mm[r], er->out.mm[r]);
    for (unsigned r = 0; r < 16; r++)
        if (bad_regs >> r & 1)
            printf("  gpr%u: in %016" PRIx64 " expected %016" PRIx64 " got %016" PRIx64 "\n", r, dc->in.gpr[r],
                   nr->out.gpr[r], er->out.gpr[r]);
    if (fbad)
        printf("  rflags: expected %#" PRIx64 " got %#" PRIx64 "\n", nr->out.rflags & dc->flag_mask,
               er->out.rflags & dc->flag_mask);
    if (csr_bad)
        printf("  mxcsr: expected %#x got %#x\n", nr->out.mxcsr, er->out.mxcsr);
    if (mem_bad >= 0)
        printf("  memory +%#x: expected %02x got %02x\n", (unsigned)mem_bad, nr->mem[mem_bad], er->mem[mem_bad]);
    return false;
}

struct sse_diff *sse_diff_init(void)
{
    struct sse_diff *d = calloc(1, sizeof *d);
    if (!d) {
        perror("sse diff: calloc");
        exit(2);
    }
    d->tm = tm_new_model(S_RAM, diff_host_model());
    d->cs64 = d->tm->cpu.seg[SEG_CS];
    d->next_slot = S_CODE0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    return d;
}

unsigned sse_diff_run(struct sse_diff *d, const char *form, const struct sse_case *cases, unsigned n)
{
    d->forms++;
    d->cases += n;
    if (!run_native(d, cases, n)) {
        d->failed_forms++;
        d->failed_cases += n;
        return n;
    }
    static struct emu_result er;
    unsigned bad = 0;
    for (unsigned k = 0; k < n; k++) {
        run_emu(d, &cases[k], &er);
        if (d->shared[k].signo)
            d->faults++;
        if (!compare(form, &cases[k], &d->shared[k], &er, bad < S_PRINT))
            bad++;
    }
    if (bad) {
        d->failed_forms++;
        d->failed_cases += bad;
        printf("form %s: %u of %u cases failed\n", form, bad, n);
    }
    return bad;
}

unsigned sse_diff_faults(const struct sse_diff *d) { return d->faults; }

int sse_diff_finish(struct sse_diff *d)
{
    printf("%u forms, %u cases (%u faulted natively), %u failing cases in %u forms\n", d->forms, d->cases,
           d->faults, d->failed_cases, d->failed_forms);
    printf("%u cases differed only in PE after an unmasked overflow/underflow (known deviation, excused)\n", s_pe_excused);
    int st = d->failed_cases ? 1 : 0;
    tm_free(d->tm);
    if (d->shared)
        munmap(d->shared, d->cap * sizeof *d->shared);
    free(d);
    return st;
}
