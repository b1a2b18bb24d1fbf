/* Differential tests of near branches against the host CPU: Jcc (rel8, rel32, with
 * the 66 prefix) for all 16 conditions with random flags, JMP rel8/rel32/reg/mem,
 * CALL rel/reg, RET and RET imm16, LOOP/LOOPE/LOOPNE and JrCXZ with 64- and 32-bit
 * counts (garbage in RCX[63:32]), forward and backward.
 *
 * Why not support_native's diff_run: it executes exactly one instruction in the
 * emulator and expects RIP to be the next one, which a taken branch never satisfies.
 * A branch is observable only by where execution continues, so each case here is a
 * short self-contained sequence ("jcc +2; mov al,1") whose paths all end at its last
 * byte.  Natively the sequence runs in-process inside a small stub; in the emulator
 * it runs on the test machine, one instruction at a time, until the HLT placed after
 * it.  RAX, RCX and the arithmetic flags are compared; registers that hold code
 * addresses (CALL's return address) are compared as offsets from the start of the
 * sequence.
 *
 * The 66 prefix on a near branch in 64-bit mode is where the vendors differ
 * (QUIRK_NEAR_BRANCH_O16): Intel ignores it, AMD truncates the target to 16 bits.
 * The emulator runs the model of the host's vendor (support_host.h).  A truncated
 * target leaves the sequence for an address below 64 KiB: natively that fetch faults
 * (SIGSEGV, nothing is mapped there) and the signal context gives the address; the
 * emulator stops as soon as RIP leaves the sequence.  Both must have left for an
 * address below 64 KiB whose low 16 bits, taken relative to the sequence's start,
 * agree.  tests/unit/test_quirks.c checks both vendors on any host.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "tests/diff/support_host.h"
#include "tests/diff/support_native.h"
#include "tests/support/test_machine.h"

#define CASES 64
#define SLOT  64u
#define EMU_CODE_FIRST 0x01000000ull        /* 16 MiB: above what the test machine uses */
#define EMU_RAM        (64ull << 20)

/* What the sequence's registers start with. */
enum rcx_kind {
    RCX_ANY,        /* random */
    RCX_EDGE,       /* 0, 1, 2, 2^32, 2^32 + 1, 0xffffffff, random */
    RCX_SMALL,      /* 1..300 (backward 64-bit loops must terminate) */
    RCX_SMALL32,    /* 1..300 in ECX, garbage above */
};
/* RAX_SCRATCH: the address of a zeroed page mapped at the same address natively and
 * in the guest.  The o16 rel32 forms need it: where 66h gives a rel16 (AMD) the last
 * two displacement bytes, 00 00, execute as ADD [RAX], AL. */
enum rax_kind { RAX_ZERO, RAX_SMALL_NEG, RAX_ANY, RAX_SCRATCH };

#define ADDR_RAX 1u
#define ADDR_RCX 2u

struct seq {
    const char *name;
    uint8_t len;
    uint8_t code[15];
    uint8_t rcx, rax;       /* enum rcx_kind, enum rax_kind */
    uint8_t addr_regs;      /* ADDR_*: hold code addresses, compare relative to the start */
};

struct state {
    uint64_t rax, rcx, rflags;
    uint64_t left;          /* where execution left the sequence (absolute), 0 if it did not */
};

/* ---------------------------------------------------------------- native side */

/* Stub: the System V argument (RDI) points at struct state.
 *   push rbx; mov rbx,rdi; push [rbx+16]; popfq; mov rax,[rbx]; mov rcx,[rbx+8]
 *   <sequence>
 *   pushfq; pop [rbx+16]; mov [rbx],rax; mov [rbx+8],rcx; cld; pop rbx; ret */
static const uint8_t stub_pro[] = {
    0x53, 0x48, 0x89, 0xfb, 0xff, 0x73, 0x10, 0x9d, 0x48, 0x8b, 0x03, 0x48, 0x8b, 0x4b, 0x08,
};
static const uint8_t stub_epi[] = {
    0x9c, 0x8f, 0x43, 0x10, 0x48, 0x89, 0x03, 0x48, 0x89, 0x4b, 0x08, 0xfc, 0x5b, 0xc3,
};

static uint8_t *native_page;
static sigjmp_buf native_jb;
static volatile uint64_t native_fault_rip;

static void native_on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig; (void)si;
    const ucontext_t *uc = ucv;
    native_fault_rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    siglongjmp(native_jb, 1);
}

static void native_run(const uint8_t *code, unsigned len, struct state *st, uint64_t *base)
{
    uint8_t *p = native_page;
    memcpy(p, stub_pro, sizeof stub_pro);
    p += sizeof stub_pro;
    *base = (uint64_t)(uintptr_t)p;
    memcpy(p, code, len);
    p += len;
    memcpy(p, stub_epi, sizeof stub_epi);
    __builtin___clear_cache((char *)native_page, (char *)p + sizeof stub_epi);
    void (*fn)(struct state *) = (void (*)(struct state *))(void *)native_page;
    st->left = 0;
    if (sigsetjmp(native_jb, 1) == 0)
        fn(st);
    else
        st->left = native_fault_rip;    /* a branch target outside the sequence */
}

/* ---------------------------------------------------------------- emulator side */

static struct test_machine *tm;
static uint64_t next_slot = EMU_CODE_FIRST;

/* Returns false (with *why) if the run did not end at the sequence's end. */
static bool emu_run(const uint8_t *code, unsigned len, struct state *st, uint64_t *base, char *why, size_t wn)
{
    struct cpu *c = &tm->cpu;
    uint8_t buf[SLOT];
    memset(buf, 0xf4, sizeof buf);
    memcpy(buf, code, len);
    uint64_t slot = next_slot;                  /* a fresh slot per case: no SMC question */
    next_slot += SLOT;
    if (next_slot + SLOT > EMU_RAM)
        next_slot = EMU_CODE_FIRST;
    tm_load(tm, slot, buf, sizeof buf);
    *base = slot;

    c->gpr[RAX] = st->rax;
    c->gpr[RCX] = st->rcx;
    c->gpr[RSP] = TM_STACK_TOP - 0x100;
    c->lf.op = LF_NONE;
    c->rflags = (st->rflags & FL_ARITH) | FL_FIXED1;
    c->halted = 0;
    c->rip = slot;
    st->left = 0;
    for (unsigned n = 0; n < 2000 && !c->halted && tm_exception_vector(tm) < 0; n++) {
        if (c->rip < slot || c->rip > slot + len) {
            st->left = c->rip;
            break;
        }
        cpu_step(c);
    }
    int v = tm_exception_vector(tm);
    st->rax = c->gpr[RAX];
    st->rcx = c->gpr[RCX];
    st->rflags = flags_get(c);
    if (v >= 0) {
        snprintf(why, wn, "exception %d", v);
        return false;
    }
    if (st->left)
        return true;                    /* compared with the native run by left_ok() */
    /* stopped in the HLT right after the sequence (RIP at or just past it) */
    if (c->rip != slot + len && c->rip != slot + len + 1) {
        snprintf(why, wn, "stopped at offset %+" PRId64, (int64_t)(c->rip - slot));
        return false;
    }
    if (c->gpr[RSP] != TM_STACK_TOP - 0x100) {
        snprintf(why, wn, "RSP moved by %+" PRId64, (int64_t)(c->gpr[RSP] - (TM_STACK_TOP - 0x100)));
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- cases */

static uint64_t pick_rcx(enum rcx_kind k)
{
    static const uint64_t edge[] = { 0, 1, 2, 0x100000000ull, 0x100000001ull, 0xffffffffull };
    switch (k) {
    case RCX_EDGE: {
        uint64_t r = diff_rand() % 8;
        return r < 6 ? edge[r] : diff_operand(8);
    }
    case RCX_SMALL:   return 1 + diff_rand() % 300;
    case RCX_SMALL32: return (1 + diff_rand() % 300) | (diff_rand() << 32);
    default:          return diff_operand(8);
    }
}

static uint64_t pick_rax(enum rax_kind k)
{
    switch (k) {
    case RAX_ZERO:      return 0;
    case RAX_SMALL_NEG: return 0 - (diff_rand() % 4);
    case RAX_SCRATCH:   return DIFF_SCRATCH;
    default:            return diff_operand(8);
    }
}

static void print_bytes(const struct seq *s)
{
    printf("[");
    for (unsigned b = 0; b < s->len; b++)
        printf("%s%02x", b ? " " : "", s->code[b]);
    printf("]");
}

static unsigned failed_seqs, failed_cases, total_cases;

/* Leaving the sequence is right only for a 16-bit truncated target (see the file
 * comment): both runs left for an address below 64 KiB, the same one relative to
 * their start modulo 64 KiB.  Or neither left. */
static bool left_ok(const struct state *nat, uint64_t nbase, const struct state *emu, uint64_t ebase)
{
    if (!nat->left && !emu->left)
        return true;
    return nat->left && emu->left && nat->left < 0x10000 && emu->left < 0x10000 &&
           ((nat->left - nbase) & 0xffff) == ((emu->left - ebase) & 0xffff);
}

static void run_seq(const struct seq *s)
{
    unsigned bad = 0;
    for (unsigned k = 0; k < CASES; k++) {
        struct state in = { .rax = pick_rax(s->rax), .rcx = pick_rcx(s->rcx), .rflags = diff_rand() & FL_ARITH };
        struct state nat = in, emu = in;
        uint64_t nbase, ebase;
        char why[64] = "";
        native_run(s->code, s->len, &nat, &nbase);
        bool ended = emu_run(s->code, s->len, &emu, &ebase, why, sizeof why);
        if (s->addr_regs & ADDR_RAX) {
            nat.rax -= nbase;
            emu.rax -= ebase;
        }
        if (s->addr_regs & ADDR_RCX) {
            nat.rcx -= nbase;
            emu.rcx -= ebase;
        }
        bool ok = ended && left_ok(&nat, nbase, &emu, ebase);
        if (ok && !nat.left)            /* registers mean something only at the end */
            ok = nat.rax == emu.rax && nat.rcx == emu.rcx && ((nat.rflags ^ emu.rflags) & FL_ARITH) == 0;
        total_cases++;
        if (ok)
            continue;
        if (bad++ < 4) {
            printf("FAIL %s: ", s->name);
            print_bytes(s);
            printf("\n  input: rax=%016" PRIx64 " rcx=%016" PRIx64 " rflags=%#" PRIx64 "\n",
                   in.rax, in.rcx, in.rflags);
            if (!ended)
                printf("  emulator: %s\n", why);
            if (nat.left || emu.left)
                printf("  left the sequence for: native %#" PRIx64 " (start %#" PRIx64 "), "
                       "emulator %#" PRIx64 " (start %#" PRIx64 ")\n", nat.left, nbase, emu.left, ebase);
            printf("  expected rax=%016" PRIx64 " rcx=%016" PRIx64 " flags=%#" PRIx64 "%s\n",
                   nat.rax, nat.rcx, nat.rflags & FL_ARITH, s->addr_regs ? " (address regs relative)" : "");
            printf("  actual   rax=%016" PRIx64 " rcx=%016" PRIx64 " flags=%#" PRIx64 "\n",
                   emu.rax, emu.rcx, emu.rflags & FL_ARITH);
        }
    }
    if (bad) {
        printf("FAIL %s: %u of %u cases differ\n", s->name, bad, CASES);
        failed_seqs++;
        failed_cases += bad;
    }
}

#define S(nm, rk, ak, ar, ...) { nm, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, rk, ak, ar }

/* Sequences whose shape does not depend on a condition code. */
static const struct seq fixed[] = {
    /* LOOPcc / JrCXZ forward: taken skips "mov al,1" */
    S("loop",          RCX_EDGE, RAX_ZERO, 0, 0xe2, 0x02, 0xb0, 0x01),
    S("loope",         RCX_EDGE, RAX_ZERO, 0, 0xe1, 0x02, 0xb0, 0x01),
    S("loopne",        RCX_EDGE, RAX_ZERO, 0, 0xe0, 0x02, 0xb0, 0x01),
    S("jrcxz",         RCX_EDGE, RAX_ZERO, 0, 0xe3, 0x02, 0xb0, 0x01),
    S("a32 loop",      RCX_EDGE, RAX_ZERO, 0, 0x67, 0xe2, 0x02, 0xb0, 0x01),
    S("a32 loope",     RCX_EDGE, RAX_ZERO, 0, 0x67, 0xe1, 0x02, 0xb0, 0x01),
    S("a32 loopne",    RCX_EDGE, RAX_ZERO, 0, 0x67, 0xe0, 0x02, 0xb0, 0x01),
    S("jecxz",         RCX_EDGE, RAX_ZERO, 0, 0x67, 0xe3, 0x02, 0xb0, 0x01),
    /* backward counted loops: inc eax; loop -4 */
    S("inc eax; loop back",      RCX_SMALL,   RAX_ZERO, 0, 0xff, 0xc0, 0xe2, 0xfc),
    S("inc eax; a32 loop back",  RCX_SMALL32, RAX_ZERO, 0, 0xff, 0xc0, 0x67, 0xe2, 0xfb),
    S("dec rax; loopne back",    RCX_SMALL,   RAX_ANY,  0, 0x48, 0xff, 0xc8, 0xe0, 0xfb),
    S("inc rax; loope back",     RCX_SMALL,   RAX_SMALL_NEG, 0, 0x48, 0xff, 0xc0, 0xe1, 0xfb),
    /* JMP */
    S("jmp rel8",      RCX_ANY, RAX_ZERO, 0, 0xeb, 0x02, 0xb0, 0x01),
    S("jmp rel32",     RCX_ANY, RAX_ZERO, 0, 0xe9, 0x02, 0x00, 0x00, 0x00, 0xb0, 0x01),
    S("o16 jmp rel8",  RCX_ANY, RAX_ZERO, 0, 0x66, 0xeb, 0x02, 0xb0, 0x01),
    S("o16 jmp rel32", RCX_ANY, RAX_SCRATCH, 0, 0x66, 0xe9, 0x02, 0x00, 0x00, 0x00, 0xb0, 0x01),
    /* 66h on the other near branches (QUIRK_NEAR_BRANCH_O16: AMD truncates them all) */
    S("o16 loop",      RCX_EDGE, RAX_ZERO, 0, 0x66, 0xe2, 0x02, 0xb0, 0x01),
    S("o16 jrcxz",     RCX_EDGE, RAX_ZERO, 0, 0x66, 0xe3, 0x02, 0xb0, 0x01),
    S("o16 jmp rax",   RCX_ANY, RAX_ANY, ADDR_RAX,
      0x48, 0x8d, 0x05, 0x05, 0x00, 0x00, 0x00, 0x66, 0xff, 0xe0, 0xb1, 0x01),
    S("o16 call rax; pop rcx", RCX_ANY, RAX_ANY, ADDR_RAX | ADDR_RCX,
      0x48, 0x8d, 0x05, 0x03, 0x00, 0x00, 0x00, 0x66, 0xff, 0xd0, 0x59),
    S("o16 push; ret", RCX_ANY, RAX_ANY, ADDR_RAX,
      0x48, 0x8d, 0x05, 0x05, 0x00, 0x00, 0x00, 0x50, 0x66, 0xc3, 0xb1, 0x01),
    /* lea rax,[rip+4]; jmp rax; mov cl,1 */
    S("jmp rax",       RCX_ANY, RAX_ANY, ADDR_RAX,
      0x48, 0x8d, 0x05, 0x04, 0x00, 0x00, 0x00, 0xff, 0xe0, 0xb1, 0x01),
    /* lea rax,[rip+6]; push rax; jmp [rsp]; mov cl,1; pop rcx */
    S("jmp [rsp]",     RCX_ANY, RAX_ANY, ADDR_RAX | ADDR_RCX,
      0x48, 0x8d, 0x05, 0x06, 0x00, 0x00, 0x00, 0x50, 0xff, 0x24, 0x24, 0xb1, 0x01, 0x59),
    /* CALL and RET */
    S("call rel32; pop rcx", RCX_ANY, RAX_ANY, ADDR_RCX, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x59),
    /* lea rax,[rip+2]; call rax; pop rcx */
    S("call rax; pop rcx",   RCX_ANY, RAX_ANY, ADDR_RAX | ADDR_RCX,
      0x48, 0x8d, 0x05, 0x02, 0x00, 0x00, 0x00, 0xff, 0xd0, 0x59),
    /* lea rax,[rip+4]; push rax; ret; mov cl,1 */
    S("push; ret",     RCX_ANY, RAX_ANY, ADDR_RAX,
      0x48, 0x8d, 0x05, 0x04, 0x00, 0x00, 0x00, 0x50, 0xc3, 0xb1, 0x01),
    /* lea rsp,[rsp-8]; call +2; jmp +3; ret 8 */
    S("call; ret 8",   RCX_ANY, RAX_ANY, 0,
      0x48, 0x8d, 0x64, 0x24, 0xf8, 0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x03, 0xc2, 0x08, 0x00),
};

int main(void)
{
    native_page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *scratch = mmap((void *)DIFF_SCRATCH, 0x1000, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (native_page == MAP_FAILED || scratch != (void *)DIFF_SCRATCH) {
        perror("diff_branch: mmap the code page and the scratch page");
        return 2;
    }
    tm = tm_new_model(EMU_RAM, diff_host_model());
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = native_on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);

    static const char *const cc_name[16] = {
        "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
    };
    unsigned nseq = 0;
    for (unsigned cc = 0; cc < 16; cc++) {
        char n1[32], n2[32], n3[32], n4[32];
        snprintf(n1, sizeof n1, "j%s rel8", cc_name[cc]);
        snprintf(n2, sizeof n2, "j%s rel32", cc_name[cc]);
        snprintf(n3, sizeof n3, "o16 j%s rel8", cc_name[cc]);
        snprintf(n4, sizeof n4, "o16 j%s rel32", cc_name[cc]);
        const struct seq s[] = {
            S(n1, RCX_ANY, RAX_ZERO, 0, (uint8_t)(0x70 + cc), 0x02, 0xb0, 0x01),
            S(n2, RCX_ANY, RAX_ZERO, 0, 0x0f, (uint8_t)(0x80 + cc), 0x02, 0x00, 0x00, 0x00, 0xb0, 0x01),
            S(n3, RCX_ANY, RAX_ZERO, 0, 0x66, (uint8_t)(0x70 + cc), 0x02, 0xb0, 0x01),
            S(n4, RCX_ANY, RAX_SCRATCH, 0, 0x66, 0x0f, (uint8_t)(0x80 + cc), 0x02, 0x00, 0x00, 0x00, 0xb0, 0x01),
        };
        for (unsigned k = 0; k < 4; k++, nseq++)
            run_seq(&s[k]);
    }
    for (unsigned k = 0; k < sizeof fixed / sizeof fixed[0]; k++, nseq++)
        run_seq(&fixed[k]);

    printf("%u sequences, %u cases: %u sequences and %u cases failed\n",
           nseq, total_cases, failed_seqs, failed_cases);
    tm_free(tm);
    munmap(native_page, 0x1000);
    return failed_cases ? 1 : 0;
}
