/* Bad-input fuzzing of the executor (issue 4, "Bad input"): random code in every mode
 * the core runs, on a fresh test machine per case, for a bounded cycle budget.
 *
 * What must hold (and is checked):
 *   - hvemu neither crashes nor hangs: every cpu_run() returns (a SIGALRM watchdog
 *     catches a hang, SIGSEGV/SIGBUS/SIGFPE/SIGABRT handlers print the case);
 *   - the run ends in one of the architectural ways: budget used up, HLT (e.g. in an
 *     exception stub: the byte sequence raised an exception), or a triple fault; the
 *     only CPU_EXIT_STOP allowed is a documented "unsupported: ..." stop (hardware
 *     task switches, which issue 4 lets end the run cleanly), counted apart;
 *   - after the run the CPU state is coherent: mode agrees with CR0/EFER/CS, no
 *     exception left half-delivered (exc_nesting back to -1).
 * A failure prints the mode, the seed, the case number and the code bytes, so the case
 * can be replayed:  fuzz_exec SEED CASES_PER_MODE [MODE]  (HVEMU_FUZZ_SECONDS=N sets the
 * host-time budget, 40 s by default).
 *
 * Modes: 64-bit, compatibility (32-bit code under long mode), 32- and 16-bit protected
 * mode without paging, real mode; a quarter of the 64-bit, compatibility and 32-bit
 * cases start at CPL 3, and TF, DF, AC (+CR0.AM), IOPL 3, CR4.UMIP/SMEP/SMAP are set
 * at random (the state is printed with the bytes).  Each has an IDT (or IVT) whose every vector ends in
 * a HLT stub, so the first exception usually ends the case.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/exception.h"
#include "cpu/insn.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"
#include "tests/support/test_machine.h"

enum fmode { F_LONG64, F_COMPAT32, F_PROT32, F_PROT16, F_REAL, F_COUNT };
static const char *const fmode_name[F_COUNT] = { "long64", "compat32", "prot32", "prot16", "real" };

#define CODE_LEN     64
#define CYCLE_BUDGET 20000          /* per case: enough for loops to loop, small enough for CI */
#define WATCHDOG_S   10             /* one case taking this long is a hang */
/* Host-time budget of the whole run (not guest-visible: it only decides how many of the
 * deterministic cases run when the machine is loaded); each mode gets its share. */
#define WALL_BUDGET_S 40.0
#define REAL_CODE    0x8000ull      /* real mode: CS = 0, IP = 0x8000 */
#define IDT32_BASE   0x14000ull     /* 32-bit IDT for the protected modes (after the 64-bit TSS) */
#define SEL_CODE16   0x20           /* extra GDT entry: 16-bit code, base TM_CODE_BASE */
#define SEL_DATA16   0x28           /* extra GDT entry: 16-bit data, limit 64 KiB */

static uint64_t rng;
static uint64_t rnd(void)
{
    /* splitmix64: deterministic from the seed. */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The case being run, preformatted so the signal handlers only write(2) it. */
static char case_desc[512];

static void describe(enum fmode m, uint64_t seed, unsigned n, const uint8_t *code)
{
    int k = snprintf(case_desc, sizeof case_desc, "fuzz_exec: mode %s seed %" PRIu64 " case %u bytes",
                     fmode_name[m], seed, n);
    for (unsigned b = 0; b < CODE_LEN && k < (int)sizeof case_desc - 4; b++)
        k += snprintf(case_desc + k, sizeof case_desc - (size_t)k, " %02x", code[b]);
    if (k < (int)sizeof case_desc - 1)
        case_desc[k++] = '\n';
    case_desc[k < (int)sizeof case_desc ? k : (int)sizeof case_desc - 1] = 0;
}

static void on_signal(int sig)
{
    const char *what = sig == SIGALRM ? "HANG (watchdog): " : "CRASH (signal): ";
    ssize_t r = write(2, what, strlen(what));
    r = write(2, case_desc, strlen(case_desc));
    (void)r;
    _exit(2);
}

static void seg_set(struct segment *s, uint16_t sel, uint64_t base, uint32_t limit, uint16_t attr)
{
    *s = (struct segment){ .base = base, .limit = limit, .sel = sel, .attr = attr };
}

/* Turn the 64-bit test machine into mode m (what firmware or a mode switch would
 * leave), then tell the mmu in the order a guest would write the registers. */
static void enter_mode(struct test_machine *tm, enum fmode m)
{
    struct cpu *c = &tm->cpu;
    const uint16_t data32 = 0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
    const uint16_t code32 = 0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
    const uint16_t code16 = 0xb | SEG_ATTR_S | SEG_ATTR_P;
    const uint16_t data16 = 0x3 | SEG_ATTR_S | SEG_ATTR_P;

    /* Extra GDT entries (SDM Vol. 3A 3.4.5): 16-bit code and data, base 0, limit FFFF. */
    uint64_t gdt16[2] = { 0x00009b100000ffffull, 0x000093000000ffffull };   /* code base 1 MiB */
    physmem_write_bytes(tm->pm, TM_GDT_BASE + SEL_CODE16, gdt16, sizeof gdt16);
    c->gdtr.limit = SEL_DATA16 + 7;

    switch (m) {
    case F_LONG64:
        return;
    case F_COMPAT32:
        seg_set(&c->seg[SEG_CS], TM_SEL_CODE32, 0, 0xffffffffu, code32);
        break;
    case F_PROT32: case F_PROT16: {
        /* 32-bit interrupt gates (type 0xE, P, DPL 0) to the HLT stubs, 32-bit code. */
        for (unsigned v = 0; v < 256; v++) {
            uint64_t h = TM_EXC_STUB(v);
            uint64_t g = (h & 0xffff) | ((uint64_t)TM_SEL_CODE32 << 16) | (0x8eull << 40) |
                         ((h >> 16) & 0xffff) << 48;
            physmem_write_bytes(tm->pm, IDT32_BASE + v * 8, &g, 8);
        }
        c->idtr.base = IDT32_BASE;
        c->idtr.limit = 256 * 8 - 1;
        c->efer = 0;
        c->cr4 = 0;
        c->cr0 = CR0_PE | CR0_ET | CR0_NE;
        c->tr.attr = 0xb | SEG_ATTR_P;          /* busy 32-bit TSS (no privilege changes here) */
        if (m == F_PROT32) {
            seg_set(&c->seg[SEG_CS], TM_SEL_CODE32, 0, 0xffffffffu, code32);
        } else {
            seg_set(&c->seg[SEG_CS], SEL_CODE16, TM_CODE_BASE, 0xffff, code16);
            for (unsigned s = 0; s < SEG_COUNT; s++)
                if (s != SEG_CS)
                    seg_set(&c->seg[s], SEL_DATA16, 0, 0xffff, data16);
        }
        (void)data32;
        break;
    }
    case F_REAL:
        /* IVT at 0 (SDM Vol. 3A 20.1.4): vector v -> 1200:v*16 = TM_EXC_STUB(v). */
        for (unsigned v = 0; v < 256; v++) {
            uint32_t e = (uint32_t)(v * 16) | (uint32_t)(TM_EXC_STUBS >> 4) << 16;
            physmem_write_bytes(tm->pm, v * 4ull, &e, 4);
        }
        c->idtr.base = 0;
        c->idtr.limit = 0x3ff;
        c->efer = 0;
        c->cr4 = 0;
        c->cr0 = CR0_ET | CR0_NE;
        for (unsigned s = 0; s < SEG_COUNT; s++)
            seg_set(&c->seg[s], 0, 0, 0xffff, s == SEG_CS ? code16 : data16);
        break;
    default:
        break;
    }
    mmu_set_cr4(&tm->mmu, c->cr4);
    mmu_set_efer(&tm->mmu, c->efer);
    mmu_set_cr0(&tm->mmu, c->cr0);
    cpu_update_mode(c);
    mmu_set_cpl_ac(&tm->mmu, c->cpl, false);
}

/* GDT entries for CPL 3 (SDM Vol. 3A 3.4.5): 64-bit code, 32-bit code, data, DPL 3. */
#define SEL_UCODE64 0x33
#define SEL_UCODE32 0x3b
#define SEL_UDATA   0x43

/* Vary the starting state beyond the mode (one case in four at CPL 3, random TF, DF,
 * AC with CR0.AM, IOPL, CR4.UMIP/SMEP/SMAP) and describe it in *what. */
static void perturb(struct test_machine *tm, enum fmode m, char *what, size_t n)
{
    struct cpu *c = &tm->cpu;
    uint64_t r = rnd();
    bool user = (m == F_LONG64 || m == F_COMPAT32 || m == F_PROT32) && (r & 3) == 0;
    if (user) {
        uint64_t gdt[3] = { 0x00affb000000ffffull, 0x00cffb000000ffffull, 0x00cff3000000ffffull };
        physmem_write_bytes(tm->pm, TM_GDT_BASE + 0x30, gdt, sizeof gdt);
        c->gdtr.limit = 0x47;
        /* 32-bit TSS: ESP0 at +4 is already TM_STACK_TOP (the 64-bit RSP0); SS0 at +8. */
        if (m == F_PROT32) {
            uint32_t ss0 = TM_SEL_DATA;
            physmem_write_bytes(tm->pm, c->tr.base + 8, &ss0, 4);
        }
        uint16_t dpl3 = 3u << 5;
        uint16_t code = m == F_LONG64 ? (0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G)
                                      : (0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G);
        seg_set(&c->seg[SEG_CS], m == F_LONG64 ? SEL_UCODE64 : SEL_UCODE32, 0, 0xffffffffu, code | dpl3);
        for (unsigned k = 0; k < SEG_COUNT; k++)
            if (k != SEG_CS)
                seg_set(&c->seg[k], SEL_UDATA, 0, 0xffffffffu,
                        0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G | dpl3);
    }
    uint64_t fl = 0;
    if (((r >> 2) & 7) == 0) fl |= FL_TF;
    if (((r >> 5) & 3) == 0) fl |= FL_DF;
    if (((r >> 7) & 3) == 0) fl |= FL_AC;
    if (((r >> 9) & 3) == 0) fl |= FL_IOPL;
    c->rflags |= fl;
    if ((r >> 11) & 1) c->cr0 |= CR0_AM;
    if (((r >> 12) & 3) == 0) c->cr4 |= CR4_UMIP;
    if (c->cr0 & CR0_PG) {
        /* Rare: every page is a user page, so the first exception at CPL 0 becomes a
         * #PF, a #DF and a triple fault (the stubs and the stack are user pages). */
        if (((r >> 14) & 31) == 0) c->cr4 |= CR4_SMEP;
        if (((r >> 19) & 31) == 0) c->cr4 |= CR4_SMAP;
    }
    snprintf(what, n, "cpl%d%s%s%s%s%s%s%s%s", user ? 3 : 0, (fl & FL_TF) ? " TF" : "", (fl & FL_DF) ? " DF" : "",
             (fl & FL_AC) ? " AC" : "", (fl & FL_IOPL) ? " IOPL3" : "", (c->cr0 & CR0_AM) ? " AM" : "",
             (c->cr4 & CR4_UMIP) ? " UMIP" : "", (c->cr4 & CR4_SMEP) ? " SMEP" : "",
             (c->cr4 & CR4_SMAP) ? " SMAP" : "");
    mmu_set_cr4(&tm->mmu, c->cr4);
    mmu_set_cr0(&tm->mmu, c->cr0);
    cpu_update_mode(c);
    mmu_set_cpl_ac(&tm->mmu, c->cpl, (c->rflags & FL_AC) != 0);
}

static const enum cpu_mode expect_mode[F_COUNT] = {
    MODE_LONG64, MODE_PROT32, MODE_PROT32, MODE_PROT16, MODE_REAL
};

/* Random register contents: half small (pointing into RAM), half anything. */
static uint64_t rnd_reg(void)
{
    uint64_t r = rnd();
    return (r & 1) ? (rnd() & 0x7ffff8) : rnd();
}

static unsigned vectors[32];      /* exceptions that ended a case, per mode */

static int run_case(enum fmode m, uint64_t seed, unsigned n, unsigned *counts)
{
    uint8_t code[CODE_LEN];
    for (unsigned b = 0; b < CODE_LEN; b += 8) {
        uint64_t r = rnd();
        memcpy(code + b, &r, 8);
    }
    /* One case in four starts with 0F (the two-byte map has most of the system ops). */
    if ((rnd() & 3) == 0)
        code[0] = 0x0f;
    describe(m, seed, n, code);

    struct test_machine *tm = tm_new(8ull << 20);
    struct cpu *c = &tm->cpu;
    enter_mode(tm, m);
    char state[96];
    perturb(tm, m, state, sizeof state);
    size_t dl = strlen(case_desc);
    if (dl > 0 && dl + strlen(state) + 4 < sizeof case_desc) {
        case_desc[dl - 1] = 0;                       /* drop the newline, append the state */
        snprintf(case_desc + dl - 1, sizeof case_desc - dl + 1, " [%s]\n", state);
    }
    if (c->mode != expect_mode[m]) {
        fprintf(stderr, "fuzz_exec: setup of mode %s failed (cpu mode %d)\n", fmode_name[m], c->mode);
        tm_free(tm);
        return 1;
    }
    uint64_t at = m == F_REAL ? REAL_CODE : TM_CODE_BASE;
    tm_load(tm, at, code, CODE_LEN);
    for (unsigned r = 0; r < 16; r++)
        if (r != RSP)
            c->gpr[r] = rnd_reg();
    if (m == F_REAL || m == F_PROT16)
        c->gpr[RSP] = 0x7000;
    c->rip = m == F_PROT16 ? 0 : at;       /* prot16: CS base is TM_CODE_BASE */

    alarm(WATCHDOG_S);
    enum cpu_exit e = cpu_run(c, CYCLE_BUDGET);
    alarm(0);

    int bad = 0;
    bool unsupported = e == CPU_EXIT_STOP && !strncmp(c->stop_msg, "unsupported: ", 13);
    if (e != CPU_EXIT_BUDGET && e != CPU_EXIT_HALT && e != CPU_EXIT_SHUTDOWN && !unsupported) {
        fprintf(stderr, "FAIL: run ended with exit %d (%s)\n", (int)e, c->stop_msg);
        bad = 1;
    }
    if (e != CPU_EXIT_SHUTDOWN && c->exc_nesting != -1) {
        fprintf(stderr, "FAIL: exception %d left half-delivered\n", c->exc_nesting);
        bad = 1;
    }
    enum cpu_mode was = (enum cpu_mode)c->mode;
    cpu_update_mode(c);
    if (c->mode != was) {
        fprintf(stderr, "FAIL: cached mode %d, but CR0/EFER/CS say %d\n", was, c->mode);
        bad = 1;
    }
    if (bad)
        fputs(case_desc, stderr);
    counts[e < 8 ? e : 7]++;
    /* Halted in a stub: which vector (the stubs are 16 bytes apart, linear address). */
    uint64_t la = c->seg[SEG_CS].base + c->rip;
    if (e == CPU_EXIT_HALT && la >= TM_EXC_STUBS && la < TM_EXC_STUB(32))
        vectors[(la - TM_EXC_STUBS) / 16]++;
    tm_free(tm);
    return bad;
}

/* The decoder's contract on random bytes (cpu/decode.h): a length 1..15 within the
 * bytes given with a bound handler, DECODE_NEED_MORE, or DECODE_TOO_LONG. */
static int decode_contract(enum cpu_mode mode, unsigned n)
{
    int bad = 0;
    for (unsigned k = 0; k < n && bad < 5; k++) {
        uint8_t b[16];
        for (unsigned j = 0; j < 16; j += 8) {
            uint64_t r = rnd();
            memcpy(b + j, &r, 8);
        }
        unsigned avail = 1 + (unsigned)(rnd() % 16);
        struct insn i;
        int r = decode_insn(&i, b, avail, mode, NULL);
        bool ok = (r > 0 && (unsigned)r <= avail && i.fn && i.len == r) || r == DECODE_NEED_MORE ||
                  (r == DECODE_TOO_LONG && i.fn);
        if (!ok) {
            fprintf(stderr, "FAIL: decode mode %d avail %u returned %d:", mode, avail, r);
            for (unsigned j = 0; j < avail; j++)
                fprintf(stderr, " %02x", b[j]);
            fputc('\n', stderr);
            bad++;
        }
    }
    return bad;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261126;
    unsigned per_mode = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 500;
    int only = -1;
    for (int m = 0; argc > 3 && m < F_COUNT; m++)
        if (!strcmp(argv[3], fmode_name[m]))
            only = m;

    setvbuf(stdout, NULL, _IOLBF, 0);      /* progress visible in the ctest log on a timeout */
    signal(SIGALRM, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGFPE, on_signal);
    signal(SIGILL, on_signal);
    signal(SIGABRT, on_signal);

    int failures = 0;
    double t0 = now_s();
    /* HVEMU_FUZZ_SECONDS: a longer host-time budget for runs by hand. */
    const char *bs = getenv("HVEMU_FUZZ_SECONDS");
    double budget_s = bs ? strtod(bs, NULL) : WALL_BUDGET_S;
    for (int m = 0; m < F_COUNT; m++) {
        if (only >= 0 && m != only)
            continue;
        rng = seed ^ ((uint64_t)m << 56);
        unsigned counts[8] = { 0 }, n;
        memset(vectors, 0, sizeof vectors);
        double deadline = t0 + budget_s * (m + 1) / F_COUNT;
        for (n = 0; n < per_mode && failures < 20; n++) {
            if (n >= 50 && now_s() > deadline) {
                printf("fuzz_exec: %s: host time budget reached after %u of %u cases\n", fmode_name[m], n, per_mode);
                break;
            }
            failures += run_case((enum fmode)m, seed, n, counts);
        }
        printf("fuzz_exec: %-8s %u cases: budget %u, halt %u, shutdown %u, unsupported stop %u\n",
               fmode_name[m], n, counts[CPU_EXIT_BUDGET], counts[CPU_EXIT_HALT],
               counts[CPU_EXIT_SHUTDOWN], counts[CPU_EXIT_STOP]);
        printf("          exceptions:");
        for (unsigned v = 0; v < 32; v++)
            if (vectors[v])
                printf(" #%u:%u", v, vectors[v]);
        printf("\n");
        failures += decode_contract((enum cpu_mode)expect_mode[m], 200000);
    }
    printf("fuzz_exec: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
