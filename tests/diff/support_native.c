/* The differential-test harness of support_native.h.
 *
 * Host side: a forked child maps the scratch page at DIFF_SCRATCH (MAP_FIXED_NOREPLACE,
 * so the address must be free in this process: 0x200000 is below where Linux puts
 * PIE executables, the heap and shared libraries) and an RWX page holding
 *     save callee-saved registers and RSP; load RFLAGS and all 16 GPRs (RIP-relative);
 *     <the instruction, padded with NOPs to 16 bytes>;
 *     store all 16 GPRs (RIP-relative); restore RSP; store RFLAGS; CLD; return.
 * Every register, RSP included, may hold any value while the instruction runs:
 * signals are taken on an alternate stack, and the handler records the registers
 * of the faulting context (ucontext) and siglongjmps back.  The child writes its
 * results into a shared mapping; the parent compares them with the emulator's.
 *
 * Emulator side: the test machine runs the same bytes with one cpu_step().  Each
 * case gets its own code slot (instruction + HLT) in a region no case reuses, so
 * no result depends on how the decoded-block cache handles rewritten code.
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
#ifdef HVEMU_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

#define DIFF_RAM        (64ull << 20)
#define DIFF_CODE_FIRST 0x01000000ull       /* 16 MiB: above everything the test machine uses */
#define DIFF_SLOT       32u
#define DIFF_MAX_PRINT  4                   /* failing cases printed per form */

/* Layout of the host stub page. */
#define PG_IN     0x000
#define PG_OUT    0x100
#define PG_SAVED  0x200
#define PG_CODE   0x400
#define SLOT_LEN  16

struct native_result {
    struct diff_state out;
    int signo;                  /* 0: the instruction completed */
    uint8_t mem[DIFF_SCRATCH_SIZE];
};

struct diff_ctx {
    struct test_machine *tm;
    uint64_t next_slot;
    unsigned forms, cases, failed_cases, failed_forms;
    unsigned native_faults;         /* cases that raised an exception natively */
    struct native_result *shared;   /* MAP_SHARED results of the child */
    unsigned shared_cap;
};

static const char *const reg_name[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* ---------------------------------------------------------------- random values */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;   /* fixed seed: runs are repeatable */

uint64_t diff_rand(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t diff_operand(unsigned size)
{
    uint64_t m = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
    uint64_t sign = 1ull << (size * 8 - 1);
    uint64_t r = diff_rand();
    switch (r % 16) {
    case 0: return 0;
    case 1: return 1;
    case 2: return m;                       /* -1 */
    case 3: return sign;                    /* min */
    case 4: return sign - 1;                /* max */
    case 5: return sign + 1;
    case 6: return (r >> 8) % 64;           /* small, also shift counts */
    case 7: return (m - (r >> 8) % 4) & m;  /* near -1 */
    case 8: return (sign >> 1) ^ ((r >> 8) & 1);
    default: return diff_rand() & m;
    }
}

/* ------------------------------------------------------------------- host side */

static sigjmp_buf child_jb;
static struct diff_state child_fault;

/* REG_* of <sys/ucontext.h> in our GPR encoding order. */
static const int uc_reg[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void child_on_signal(int sig, siginfo_t *si, void *ucv)
{
    const ucontext_t *uc = ucv;
    for (int r = 0; r < 16; r++)
        child_fault.gpr[r] = (uint64_t)uc->uc_mcontext.gregs[uc_reg[r]];
    child_fault.rflags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    siglongjmp(child_jb, sig);
}

static uint8_t *emit(uint8_t *p, const void *b, size_t n)
{
    memcpy(p, b, n);
    return p + n;
}

/* REX.W [+R] op ModRM(00, reg, 101) disp32: "op reg, [rip + target]" / "op [rip + target], reg". */
static uint8_t *emit_riprel(uint8_t *p, uint8_t *page, uint8_t op, unsigned reg, unsigned target)
{
    *p++ = (uint8_t)(0x48 | (reg >= 8 ? 4 : 0));
    *p++ = op;
    *p++ = (uint8_t)(((reg & 7) << 3) | 5);
    int32_t disp = (int32_t)((page + target) - (p + 4));
    memcpy(p, &disp, 4);
    return p + 4;
}

/* Build the stub; returns the address of the 16-byte instruction slot. */
static uint8_t *build_stub(uint8_t *page)
{
    uint8_t *p = page + PG_CODE;
    static const uint8_t save[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 };
    p = emit(p, save, sizeof save);
    p = emit_riprel(p, page, 0x89, RSP, PG_SAVED);          /* mov [saved], rsp */
    {                                                        /* push qword [in.rflags]; popfq */
        *p++ = 0xff;
        *p++ = 0x35;
        int32_t disp = (int32_t)((page + PG_IN + 16 * 8) - (p + 4));
        memcpy(p, &disp, 4);
        p += 4;
        *p++ = 0x9d;
    }
    for (unsigned r = 0; r < 16; r++)
        p = emit_riprel(p, page, 0x8b, r, PG_IN + r * 8);   /* mov r, [in.gpr[r]] */
    uint8_t *slot = p;
    memset(p, 0x90, SLOT_LEN);
    p += SLOT_LEN;
    for (unsigned r = 0; r < 16; r++)
        p = emit_riprel(p, page, 0x89, r, PG_OUT + r * 8);  /* mov [out.gpr[r]], r */
    p = emit_riprel(p, page, 0x8b, RSP, PG_SAVED);          /* mov rsp, [saved] */
    *p++ = 0x9c;                                             /* pushfq */
    *p++ = 0x58;                                             /* pop rax */
    p = emit_riprel(p, page, 0x89, RAX, PG_OUT + 16 * 8);   /* mov [out.rflags], rax */
    static const uint8_t restore[] = { 0xfc, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
    emit(p, restore, sizeof restore);                        /* cld; pop ...; ret */
    return slot;
}

static _Noreturn void child_main(const struct diff_case *cases, unsigned n, struct native_result *res)
{
    void *scratch = mmap((void *)DIFF_SCRATCH, DIFF_SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (scratch != (void *)DIFF_SCRATCH)
        _exit(90);
    uint8_t *page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        _exit(91);
    uint8_t *slot = build_stub(page);

    static uint8_t altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL))
        _exit(92);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = child_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGTRAP };
    for (unsigned s = 0; s < sizeof sigs / sizeof sigs[0]; s++)
        sigaction(sigs[s], &sa, NULL);

    void (*stub)(void) = (void (*)(void))(void *)(page + PG_CODE);
    /* volatile: k lives across sigsetjmp/siglongjmp */
    for (volatile unsigned k = 0; k < n; k++) {
        const struct diff_case *dc = &cases[k];
        memcpy(scratch, dc->mem, DIFF_SCRATCH_SIZE);
        memcpy(page + PG_IN, dc->in.gpr, sizeof dc->in.gpr);
        uint64_t fl = (dc->in.rflags & DIFF_FLAGS_IN) | FL_FIXED1;
        memcpy(page + PG_IN + 16 * 8, &fl, 8);
        memset(slot, 0x90, SLOT_LEN);
        memcpy(slot, dc->code, dc->len);
        int sig = sigsetjmp(child_jb, 1);
        if (sig == 0) {
            stub();
            memcpy(res[k].out.gpr, page + PG_OUT, sizeof res[k].out.gpr);
            memcpy(&res[k].out.rflags, page + PG_OUT + 16 * 8, 8);
        } else {
            res[k].out = child_fault;
        }
        res[k].signo = sig;
        memcpy(res[k].mem, scratch, DIFF_SCRATCH_SIZE);
    }
    _exit(0);
}

/* Run the cases natively; false (with a message) if the child did not finish. */
static bool run_native(struct diff_ctx *d, const struct diff_case *cases, unsigned n)
{
    if (n > d->shared_cap) {
        if (d->shared)
            munmap(d->shared, d->shared_cap * sizeof *d->shared);
        d->shared = mmap(NULL, n * sizeof *d->shared, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (d->shared == MAP_FAILED) {
            perror("diff: mmap results");
            exit(2);
        }
        d->shared_cap = n;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("diff: fork");
        exit(2);
    }
    if (pid == 0)
        child_main(cases, n, d->shared);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return true;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 90)
        fprintf(stderr, "diff: the scratch address %#llx is not free in this process\n",
                (unsigned long long)DIFF_SCRATCH);
    else
        fprintf(stderr, "diff: native child failed (status %#x)\n", st);
    return false;
}

/* --------------------------------------------------------------- emulator side */

struct emu_result {
    struct diff_state out;
    int vector;                 /* -1: completed; else the exception delivered */
    bool rip_ok;
    uint64_t rip;
    uint8_t mem[DIFF_SCRATCH_SIZE];
};

static void run_emu(struct diff_ctx *d, const struct diff_case *dc, struct emu_result *er)
{
    struct test_machine *tm = d->tm;
    struct cpu *c = &tm->cpu;
    uint8_t buf[DIFF_SLOT];
    memset(buf, 0xf4, sizeof buf);              /* HLT after the instruction ends the block */
    memcpy(buf, dc->code, dc->len);
    uint64_t slot = d->next_slot;
    d->next_slot += DIFF_SLOT;
    if (d->next_slot + DIFF_SLOT > DIFF_RAM)
        d->next_slot = DIFF_CODE_FIRST;         /* not reached by the current tests */
    tm_load(tm, slot, buf, sizeof buf);
    tm_load(tm, DIFF_SCRATCH, dc->mem, DIFF_SCRATCH_SIZE);
    memcpy(c->gpr, dc->in.gpr, sizeof c->gpr);
    c->lf.op = LF_NONE;
    c->rflags = (dc->in.rflags & DIFF_FLAGS_IN) | FL_FIXED1;
    c->halted = 0;
    c->rip = slot;
    unsigned steps = dc->steps ? dc->steps : 1;
    for (unsigned k = 0; k < steps && tm_exception_vector(tm) < 0; k++)
        cpu_step(c);
    er->vector = tm_exception_vector(tm);
    er->rip = c->rip;
    er->rip_ok = er->vector >= 0 || c->rip == slot + dc->len;
    memcpy(er->out.gpr, c->gpr, sizeof er->out.gpr);
    er->out.rflags = flags_get(c);
    physmem_read_bytes(tm->pm, DIFF_SCRATCH, er->mem, DIFF_SCRATCH_SIZE);
}

/* ---------------------------------------------------------------- comparison */

static bool signal_matches(int signo, int vector)
{
    switch (signo) {
    case 0:       return vector < 0;
    case SIGFPE:  return vector == EXC_DE;
    case SIGSEGV: return vector == EXC_GP || vector == EXC_PF || vector == EXC_SS;
    case SIGBUS:  return vector == EXC_GP || vector == EXC_SS || vector == EXC_AC;
    case SIGILL:  return vector == EXC_UD;
    case SIGTRAP: return vector == EXC_DB || vector == EXC_BP;
    default:      return false;
    }
}

static void disasm(const struct diff_case *dc, char *out, size_t n)
{
    snprintf(out, n, "?");
#ifdef HVEMU_HAVE_CAPSTONE
    csh h;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
        return;
    cs_insn *ins;
    size_t cnt = cs_disasm(h, dc->code, dc->len, 0x1000, 1, &ins);
    if (cnt > 0) {
        snprintf(out, n, "%s %s", ins[0].mnemonic, ins[0].op_str);
        cs_free(ins, cnt);
    }
    cs_close(&h);
#endif
}

static void print_state(const char *tag, const struct diff_state *s)
{
    printf("  %s:", tag);
    for (int r = 0; r < 16; r++)
        printf("%s%s=%016" PRIx64, r % 4 ? " " : "\n    ", reg_name[r], s->gpr[r]);
    printf("\n    rflags=%#" PRIx64 "\n", s->rflags);
}

static void print_flags(uint64_t f)
{
    static const struct { uint64_t bit; const char *n; } fl[] = {
        { FL_CF, "CF" }, { FL_PF, "PF" }, { FL_AF, "AF" }, { FL_ZF, "ZF" },
        { FL_SF, "SF" }, { FL_OF, "OF" }, { FL_DF, "DF" },
    };
    for (unsigned k = 0; k < sizeof fl / sizeof fl[0]; k++)
        if (f & fl[k].bit)
            printf(" %s", fl[k].n);
}

/* Returns true if the case passed; prints it when 'print'. */
static bool compare(const char *form, const struct diff_case *dc, const struct native_result *nr,
                    const struct emu_result *er, bool print)
{
    bool ok = true;
    char dis[256];
    const char *sname = nr->signo ? strsignal(nr->signo) : "none";
    bool sig_ok = signal_matches(nr->signo, er->vector);
    uint16_t gmask = dc->gpr_mask;
    if (er->vector >= 0)
        gmask &= (uint16_t)~(1u << RSP);       /* exception delivery pushed a frame */
    uint16_t bad_regs = 0;
    for (int r = 0; r < 16; r++)
        if ((gmask >> r & 1) && nr->out.gpr[r] != er->out.gpr[r])
            bad_regs |= (uint16_t)(1u << r);
    uint64_t fbad = (nr->out.rflags ^ er->out.rflags) & dc->flag_mask;
    int mem_bad = -1;
    for (unsigned o = 0; o < DIFF_SCRATCH_SIZE; o++)
        if (nr->mem[o] != er->mem[o]) {
            mem_bad = (int)o;
            break;
        }
    ok = sig_ok && er->rip_ok && !bad_regs && !fbad && mem_bad < 0;
    if (ok || !print)
        return ok;

    disasm(dc, dis, sizeof dis);
    printf("FAIL %s: [", form);
    for (unsigned b = 0; b < dc->len; b++)
        printf("%s%02x", b ? " " : "", dc->code[b]);
    printf("] %s\n", dis);
    print_state("input", &dc->in);
    if (!sig_ok)
        printf("  exception: native signal %s, emulator vector %d\n", sname, er->vector);
    if (!er->rip_ok)
        printf("  emulator RIP %#" PRIx64 " is neither the next instruction nor an exception stub\n", er->rip);
    for (int r = 0; r < 16; r++)
        if (bad_regs >> r & 1)
            printf("  %s: expected %016" PRIx64 " got %016" PRIx64 "\n", reg_name[r],
                   nr->out.gpr[r], er->out.gpr[r]);
    if (fbad) {
        printf("  flags (compared:");
        print_flags(dc->flag_mask);
        printf("): expected");
        print_flags(nr->out.rflags & dc->flag_mask);
        printf(", got");
        print_flags(er->out.rflags & dc->flag_mask);
        printf("\n");
    }
    if (mem_bad >= 0)
        printf("  memory at %#llx: expected %02x got %02x (first difference)\n",
               (unsigned long long)DIFF_SCRATCH + (unsigned)mem_bad, nr->mem[mem_bad], er->mem[mem_bad]);
    return false;
}

/* ------------------------------------------------------------------------- API */

struct diff_ctx *diff_init(void)
{
    struct diff_ctx *d = calloc(1, sizeof *d);
    if (!d) {
        perror("diff: calloc");
        exit(2);
    }
    d->tm = tm_new_model(DIFF_RAM, diff_host_model());
    d->next_slot = DIFF_CODE_FIRST;
    setvbuf(stdout, NULL, _IOLBF, 0);
    return d;
}

unsigned diff_run(struct diff_ctx *d, const char *form, const struct diff_case *cases, unsigned n)
{
    d->forms++;
    d->cases += n;
    if (!run_native(d, cases, n)) {
        printf("FAIL %s: the native run failed\n", form);
        d->failed_forms++;
        d->failed_cases += n;
        return n;
    }
    static struct emu_result er;
    unsigned bad = 0;
    for (unsigned k = 0; k < n; k++) {
        if (d->shared[k].signo)
            d->native_faults++;
        run_emu(d, &cases[k], &er);
        if (!compare(form, &cases[k], &d->shared[k], &er, bad < DIFF_MAX_PRINT))
            bad++;
    }
    if (bad) {
        printf("FAIL %s: %u of %u cases differ\n", form, bad, n);
        d->failed_forms++;
        d->failed_cases += bad;
    }
    return bad;
}

int diff_finish(struct diff_ctx *d)
{
    printf("%u forms, %u cases (%u raised an exception natively): %u forms and %u cases failed\n",
           d->forms, d->cases, d->native_faults, d->failed_forms, d->failed_cases);
    int rc = d->failed_cases ? 1 : 0;
    tm_free(d->tm);
    if (d->shared)
        munmap(d->shared, d->shared_cap * sizeof *d->shared);
    free(d);
    return rc;
}
