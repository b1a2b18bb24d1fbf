/* Differential test of the x87 FPU against the host CPU.
 *
 * Every case is one byte sequence run natively (in-process, SIGILL/SIGFPE/SIGSEGV
 * caught) and in the emulator (the test machine, cpu_step until HLT or an exception):
 *
 *     mov rdi, DATA+OPND ; mov rax, CONST ; push FLAGS ; popfq
 *     fxrstor64 [DATA+IMG_IN]          the random initial x87 state
 *     <one or two x87 instructions>    memory operands at [rdi]
 *     fxsave64 [DATA+IMG_OUT] ; mov [DATA+RAX_OUT], rax ; pushfq ; pop [DATA+FL_OUT]
 *
 * and the end states are compared: the whole FXSAVE image (ST0-7 raw bytes, FCW, FSW
 * with TOP/C0-C3/flags/ES, abridged FTW) except FOP/FIP/FDP/FCS/FDS (the host stores
 * them only on exceptions, CPUID.7.0:EBX[6,13]; we do not advertise that), RAX
 * (FNSTSW AX), the arithmetic flags (FCOMI, FCMOVcc's input), the 4 KiB data page
 * (stores, FNSTENV/FNSAVE images with their FIP/FDP words masked out), and the
 * exception (SIGILL <-> #UD, SIGFPE <-> #MF).
 *
 * In 64-bit mode, or with --compat32 in 32-bit compatibility mode (natively through
 * the __USER32_CS segment of Linux x86-64; the sequence then has no REX.W and keeps
 * its stack in the data page): ctest diff.diff_x87 and diff.diff_x87_compat32.
 *
 * Forms: every register encoding D8-DF C0-FF (512) and every memory /digit (64),
 * the exhaustive list, so #UD holes are checked too; plus pairs "op ; fwait" that
 * deliver an unmasked exception as #MF.  Operands: random 80-bit values mixing
 * zeros, denormals, pseudo-denormals, unnormals, infinities, QNaN/SNaN, integers and
 * values near the m32/m64 overflow/underflow thresholds; FCW with all 4 rounding
 * modes, 3 precision controls, all-masked or random masks; random TOP and stack depth.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/seg.h"
#include "mmu/physmem.h"
#include "tests/diff/support_host.h"
#include "tests/diff/support_native.h"
#include "tests/support/test_machine.h"

#define DATA      TM_DATA_BASE      /* same linear address natively and in the guest */
#define DATA_SIZE 0x1000u
#define OPND      0x040u            /* [rdi]: up to 108 bytes (FNSAVE) */
#define IMG_IN    0x400u
#define IMG_OUT   0x600u
#define RAX_OUT   0x800u
#define FL_OUT    0x808u
#define STACK32   0xf00u            /* compatibility-mode stack (grows down from here) */
#define LINUX_USER32_CS 0x23        /* __USER32_CS of Linux x86-64 */
#define LINUX_USER_CS   0x33        /* __USER_CS */
#define LINUX_USER_DS   0x2b        /* __USER_DS */
#define CASES     40
#define EMU_CODE_FIRST 0x01000000ull
#define EMU_RAM   (64ull << 20)
#define SLOT      64u

static uint8_t *native_code;
static uint64_t emu_slot = EMU_CODE_FIRST;
static struct test_machine *tm;
static unsigned failures, cases_run, mismatch_printed, native_ud, native_mf;

/* ---------------------------------------------------------------- the sequence */

static unsigned put_abs_modrm(uint8_t *p, unsigned digit, uint32_t addr)
{
    p[0] = (uint8_t)(digit << 3 | 4);      /* mod 00, rm 100: SIB */
    p[1] = 0x25;                           /* no base, no index: disp32 */
    memcpy(p + 2, &addr, 4);
    return 6;
}

/* Build the sequence around insn[len]; returns its length (the final byte, C3 or F4,
 * is the caller's). */
static unsigned build(uint8_t *p, const uint8_t *insn, unsigned len, uint32_t flags, bool compat)
{
    unsigned n = 0;
    if (compat) {
        /* 32-bit code: same sequence without REX.W, 32-bit immediates, and a stack in
         * the data page (the host's RSP is not reachable with ESP). */
        uint32_t edi = (uint32_t)(DATA + OPND), eax = 0x5a5aa5a5u, esp = (uint32_t)(DATA + STACK32);
        p[n++] = 0xbc; memcpy(p + n, &esp, 4); n += 4;                     /* mov esp, imm32 */
        p[n++] = 0xbf; memcpy(p + n, &edi, 4); n += 4;                     /* mov edi, imm32 */
        p[n++] = 0xb8; memcpy(p + n, &eax, 4); n += 4;                     /* mov eax, imm32 */
    } else {
        uint64_t rdi = DATA + OPND, rax = 0x5a5a0000a5a5ull;
        p[n++] = 0x48; p[n++] = 0xbf; memcpy(p + n, &rdi, 8); n += 8;      /* mov rdi, imm64 */
        p[n++] = 0x48; p[n++] = 0xb8; memcpy(p + n, &rax, 8); n += 8;      /* mov rax, imm64 */
    }
    p[n++] = 0x68; memcpy(p + n, &flags, 4); n += 4;                       /* push imm32 */
    p[n++] = 0x9d;                                                         /* popf */
    if (!compat)
        p[n++] = 0x48;
    p[n++] = 0x0f; p[n++] = 0xae;                                          /* fxrstor(64) */
    n += put_abs_modrm(p + n, 1, DATA + IMG_IN);
    memcpy(p + n, insn, len); n += len;
    if (!compat)
        p[n++] = 0x48;
    p[n++] = 0x0f; p[n++] = 0xae;                                          /* fxsave(64) */
    n += put_abs_modrm(p + n, 0, DATA + IMG_OUT);
    if (!compat)
        p[n++] = 0x48;
    p[n++] = 0x89; n += put_abs_modrm(p + n, 0, DATA + RAX_OUT);           /* mov [], rax/eax */
    p[n++] = 0x9c;                                                         /* pushf */
    p[n++] = 0x8f; n += put_abs_modrm(p + n, 0, DATA + FL_OUT);            /* pop [] */
    return n;
}

struct result {
    int vector;                 /* -1 none, else EXC_* */
    uint8_t data[DATA_SIZE];
};

/* ---------------------------------------------------------------- native side */

static sigjmp_buf native_jmp;
static volatile sig_atomic_t native_sig;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)si; (void)uc;
    native_sig = sig;
    siglongjmp(native_jmp, 1);
}

/* Compatibility mode natively: a page below 4 GiB holds a 64-bit entry that saves RSP,
 * loads DS/ES with __USER_DS and far-jumps to the 32-bit sequence through __USER32_CS;
 * the sequence ends with a far jump back through __USER_CS to code that restores RSP
 * and returns.  Offsets in that page: */
#define C_ENTRY  0x000u
#define C_BACK64 0x080u
#define C_FAR32  0x0c0u
#define C_FAR64  0x0c8u
#define C_SAVED  0x0d0u
#define C_CODE32 0x100u
static uint8_t *compat_page;

static void build_compat_stub(void)
{
    uint8_t *pg = compat_page, *p = pg + C_ENTRY;
    uint32_t base = (uint32_t)(uintptr_t)pg;
    uint32_t f32[2] = { base + C_CODE32, LINUX_USER32_CS }, f64[2] = { base + C_BACK64, LINUX_USER_CS };
    memcpy(pg + C_FAR32, f32, 6);
    memcpy(pg + C_FAR64, f64, 6);
    static const uint8_t save[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57 };
    memcpy(p, save, sizeof save); p += sizeof save;
    *p++ = 0x48; *p++ = 0x89; *p++ = 0x24; *p++ = 0x25;                    /* mov [abs], rsp */
    uint32_t a = base + C_SAVED; memcpy(p, &a, 4); p += 4;
    static const uint8_t ds[] = { 0xb8, LINUX_USER_DS, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xc0 };
    memcpy(p, ds, sizeof ds); p += sizeof ds;
    *p++ = 0xff; *p++ = 0x2c; *p++ = 0x25;                                 /* ljmp *[abs] (m16:32) */
    a = base + C_FAR32; memcpy(p, &a, 4);
    p = pg + C_BACK64;
    *p++ = 0x48; *p++ = 0x8b; *p++ = 0x24; *p++ = 0x25;                    /* mov rsp, [abs] */
    a = base + C_SAVED; memcpy(p, &a, 4); p += 4;
    static const uint8_t restore[] = { 0xfc, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
    memcpy(p, restore, sizeof restore);
}

static void run_native(const uint8_t *seq, unsigned n, const uint8_t *data, struct result *r, bool compat)
{
    uint8_t *d = (uint8_t *)(uintptr_t)DATA;
    memcpy(d, data, DATA_SIZE);
    void (*volatile fn)(void);
    if (compat) {
        uint8_t *p = compat_page + C_CODE32;
        memcpy(p, seq, n);
        p[n] = 0xff; p[n + 1] = 0x2d;                                      /* ljmp *[abs] back */
        uint32_t a = (uint32_t)(uintptr_t)compat_page + C_FAR64;
        memcpy(p + n + 2, &a, 4);
        fn = (void (*)(void))(uintptr_t)(compat_page + C_ENTRY);
    } else {
        memcpy(native_code, seq, n);
        native_code[n] = 0xc3;                                             /* ret */
        fn = (void (*)(void))(uintptr_t)native_code;
    }
    native_sig = 0;
    if (sigsetjmp(native_jmp, 1) == 0)
        fn();
    __asm__ volatile("fninit");
    r->vector = native_sig == 0 ? -1 : native_sig == SIGILL ? EXC_UD : native_sig == SIGFPE ? EXC_MF
              : native_sig == SIGSEGV ? EXC_GP : 99;
    memcpy(r->data, d, DATA_SIZE);
}

/* ---------------------------------------------------------------- emulator side */

static void run_emu(const uint8_t *seq, unsigned n, const uint8_t *data, struct result *r, bool compat)
{
    struct cpu *c = &tm->cpu;
    struct segment cs64 = c->seg[SEG_CS];
    if (compat) {
        /* TM_SEL_CODE32: 32-bit code, DPL 0 (compatibility mode under long mode). */
        c->seg[SEG_CS] = (struct segment){ .sel = TM_SEL_CODE32, .base = 0, .limit = 0xffffffffu,
            .attr = ST_CODE | ST_READ | ST_ACCESSED | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G };
        cpu_update_mode(c);
    }
    uint8_t buf[SLOT * 2];
    memset(buf, 0xf4, sizeof buf);
    memcpy(buf, seq, n);
    uint64_t slot = emu_slot;
    emu_slot += sizeof buf;
    if (emu_slot + sizeof buf > EMU_RAM)
        emu_slot = EMU_CODE_FIRST;
    tm_load(tm, slot, buf, sizeof buf);
    tm_load(tm, DATA, data, DATA_SIZE);
    c->cr0 = (c->cr0 | CR0_NE | CR0_MP) & ~(CR0_EM | CR0_TS);
    c->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->lf.op = LF_NONE;
    c->rflags = FL_FIXED1;
    c->halted = 0;
    c->rip = slot;
    for (unsigned k = 0; k < 16 && tm_exception_vector(tm) < 0 && !c->halted; k++)
        cpu_step(c);
    r->vector = tm_exception_vector(tm);
    physmem_read_bytes(tm->pm, DATA, r->data, DATA_SIZE);
    c->seg[SEG_CS] = cs64;
    cpu_update_mode(c);
}

/* ---------------------------------------------------------------- operands */

static void put80(uint8_t *p, uint64_t mant, unsigned se)
{
    memcpy(p, &mant, 8);
    p[8] = (uint8_t)se;
    p[9] = (uint8_t)(se >> 8);
}

/* A random 80-bit value with the special classes well represented. */
static void rand80(uint8_t *p)
{
    uint64_t r = diff_rand(), m = diff_rand();
    unsigned sign = (r & 1) << 15;
    switch ((r >> 1) % 14) {
    case 0:  put80(p, 0, sign); break;                                         /* zero */
    case 1:  put80(p, m & ~(1ull << 63), sign); break;                         /* denormal */
    case 2:  put80(p, m | 1ull << 63, sign); break;                            /* pseudo-denormal */
    case 3:  put80(p, 1ull << 63, sign | 0x7fff); break;                       /* infinity */
    case 4:  put80(p, m | 3ull << 62, sign | 0x7fff); break;                   /* QNaN */
    case 5:  put80(p, ((m | 1) & ~(1ull << 62)) | 1ull << 63, sign | 0x7fff); break; /* SNaN */
    case 6:  put80(p, m & ~(1ull << 63), sign | (unsigned)(1 + (r >> 8) % 0x7ffe)); break; /* unnormal */
    case 7:  put80(p, m | 1ull << 63, sign | (0x3fff + 127 + (unsigned)((r >> 8) % 5) - 2)); break; /* ~FLT_MAX */
    case 8:  put80(p, m | 1ull << 63, sign | (0x3fff - 126 + (unsigned)((r >> 8) % 30) - 28)); break; /* ~FLT_MIN */
    case 9:  put80(p, m | 1ull << 63, sign | (0x3fff + 1023 + (unsigned)((r >> 8) % 5) - 2)); break;
    case 10: put80(p, m | 1ull << 63, sign | (0x3fff - 1022 + (unsigned)((r >> 8) % 60) - 56)); break;
    case 11: put80(p, (m | 1ull << 63) & ~0xffffffffffull, sign | (0x3fff + (unsigned)((r >> 8) % 40))); break; /* integer-ish */
    default: put80(p, m | 1ull << 63, sign | (0x3fff + (unsigned)((r >> 8) % 80) - 40)); break; /* ordinary */
    }
}

static void rand_operand(uint8_t *p, unsigned len)
{
    for (unsigned k = 0; k < len; k++)
        p[k] = (uint8_t)diff_rand();
    uint64_t r = diff_rand();
    switch (r % 8) {
    case 0: rand80(p); break;                                          /* m80 */
    case 1: {                                                          /* m64fp specials */
        static const uint64_t v[] = { 0, 0x8000000000000000ull, 0x7ff0000000000000ull,
            0x7ff8000000000001ull, 0x7ff0000000000001ull, 0x000fffffffffffffull, 0x3ff0000000000000ull,
            0x7fefffffffffffffull };
        memcpy(p, &v[(r >> 8) % 8], 8);
        break;
    }
    case 2: {                                                          /* m32fp specials */
        static const uint32_t v[] = { 0, 0x80000000u, 0x7f800000u, 0x7fc00001u, 0x7f800001u,
            0x007fffffu, 0x3f800000u, 0x7f7fffffu };
        memcpy(p, &v[(r >> 8) % 8], 4);
        break;
    }
    case 3: {                                                          /* packed BCD, valid */
        for (unsigned k = 0; k < 9; k++)
            p[k] = (uint8_t)(((diff_rand() % 10) << 4) | (diff_rand() % 10));
        p[9] = (r >> 8) & 1 ? 0x80 : 0;
        break;
    }
    case 4: {                                                          /* small integers */
        int64_t v = (int64_t)(diff_rand() % 2001) - 1000;
        memcpy(p, &v, 8);
        break;
    }
    default: break;                                                    /* random bytes */
    }
}

/* The FXSAVE64 input image: random FCW, TOP, stack depth and registers. */
static void rand_image(uint8_t *img, bool all_masked)
{
    memset(img, 0, 512);
    uint64_t r = diff_rand();
    static const unsigned pc[3] = { 0, 2, 3 };
    uint16_t fcw = (uint16_t)(0x40 | pc[r % 3] << 8 | ((r >> 4) & 3) << 10);
    fcw |= all_masked ? 0x3f : (uint16_t)((r >> 8) & 0x3f);
    unsigned top = (r >> 16) & 7, depth = (unsigned)((r >> 20) % 9);
    uint16_t fsw = (uint16_t)(top << 11 | (((r >> 24) & 1) ? 0x4700 & (r >> 28) : 0));
    uint8_t ftw = 0;
    for (unsigned k = 0; k < depth; k++)
        ftw |= (uint8_t)(1u << ((top + k) & 7));      /* abridged tags are by physical register */
    if (((r >> 40) & 7) == 0)
        ftw = (uint8_t)(r >> 44);                     /* holes in the stack now and then */
    memcpy(img, &fcw, 2);
    memcpy(img + 2, &fsw, 2);
    img[4] = ftw;
    uint32_t mxcsr = 0x1f80, mask = 0xffff;
    memcpy(img + 24, &mxcsr, 4);
    memcpy(img + 28, &mask, 4);
    for (unsigned k = 0; k < 8; k++)
        rand80(img + 32 + 16 * k);
}

/* ---------------------------------------------------------------- compare */

static void hex(const char *what, const uint8_t *p, unsigned n)
{
    fprintf(stderr, "    %-8s", what);
    for (unsigned k = 0; k < n; k++)
        fprintf(stderr, "%02x%s", p[k], (k & 15) == 15 && k + 1 < n ? "\n            " : " ");
    fprintf(stderr, "\n");
}

/* Bytes that may differ: the pointer fields of the output image, and of FNSTENV/FNSAVE
 * images written at OPND (32-bit protected-mode format: bytes 12-27). */
enum env_kind { ENV_NONE, ENV_32, ENV_16 };
static bool ignored(unsigned off, enum env_kind env)
{
    if (off >= IMG_OUT + 6 && off < IMG_OUT + 24)
        return true;
    if (env == ENV_32 && off >= OPND + 12 && off < OPND + 28)
        return true;
    if (env == ENV_16 && off >= OPND + 6 && off < OPND + 14)   /* 16-bit format: FIP FCS FDP FDS */
        return true;
    /* The compatibility-mode stack: PUSHF stored RFLAGS there, whose IF differs
     * (the guest runs with IF = 0); the arithmetic flags are compared at FL_OUT. */
    if (off >= STACK32 - 8 && off < STACK32)
        return true;
    return false;
}

static bool compat_mode;             /* the forms run now: 64-bit or compatibility mode */

static void one_case(const char *form, const uint8_t *insn, unsigned len, enum env_kind env_store, bool all_masked)
{
    uint8_t seq[SLOT], data[DATA_SIZE];
    static struct result nat, emu;
    memset(data, 0, sizeof data);
    rand_image(data + IMG_IN, all_masked);
    rand_operand(data + OPND, 16);
    for (unsigned k = 16; k < 108; k++)
        data[OPND + k] = (uint8_t)diff_rand();
    uint32_t flags = (uint32_t)(diff_rand() & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF));
    unsigned n = build(seq, insn, len, flags, compat_mode);

    run_native(seq, n, data, &nat, compat_mode);
    run_emu(seq, n, data, &emu, compat_mode);
    cases_run++;
    if (nat.vector == EXC_UD)
        native_ud++;
    else if (nat.vector == EXC_MF)
        native_mf++;

    bool bad = nat.vector != emu.vector;
    if (!bad && nat.vector < 0) {
        for (unsigned k = 0; k < DATA_SIZE && !bad; k++) {
            if (k == FL_OUT) {      /* compare the arithmetic flags only */
                uint64_t a, b;
                memcpy(&a, nat.data + k, 8);
                memcpy(&b, emu.data + k, 8);
                bad = (a ^ b) & FL_ARITH;
                k += 7;
                continue;
            }
            bad = !ignored(k, env_store) && nat.data[k] != emu.data[k];
        }
    }
    if (!bad)
        return;
    failures++;
    if (getenv("DIFF_X87_FORMS"))
        fprintf(stderr, "mismatch %s\n", form);
    static char last_form[32];
    if (strcmp(last_form, form) != 0) {
        snprintf(last_form, sizeof last_form, "%s", form);
        mismatch_printed = 0;
    }
    if (mismatch_printed++ >= 2)           /* two dumps per form at most */
        return;
    fprintf(stderr, "MISMATCH %s%s: native vector %d, emulator %d\n", compat_mode ? "(compat) " : "", form,
            nat.vector, emu.vector);
    hex("insn", insn, len);
    hex("in img", data + IMG_IN, 160);
    hex("operand", data + OPND, 32);
    if (nat.vector < 0 && emu.vector < 0) {
        hex("nat out", nat.data + IMG_OUT, 160);
        hex("emu out", emu.data + IMG_OUT, 160);
        hex("nat opnd", nat.data + OPND, 32);
        hex("emu opnd", emu.data + OPND, 32);
        hex("nat rax/fl", nat.data + RAX_OUT, 16);
        hex("emu rax/fl", emu.data + RAX_OUT, 16);
    }
}

/* With --compat32: the compatibility-mode pass only (ctest diff.diff_x87_compat32),
 * skipped on a host that runs no 32-bit code; without: the 64-bit pass. */
int main(int argc, char **argv)
{
    bool compat = diff_compat32_arg(argc, argv);
    native_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *d = mmap((void *)(uintptr_t)DATA, DATA_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (native_code == MAP_FAILED || d != (void *)(uintptr_t)DATA) {
        fprintf(stderr, "diff_x87: cannot map the native code/data pages\n");
        return 1;
    }
    compat_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (compat_page == MAP_FAILED) {
        fprintf(stderr, "diff_x87: cannot map a page below 4 GiB\n");
        return 1;
    }
    build_compat_stub();
    /* Signals may arrive with ESP in the data page (compatibility mode): own stack. */
    static uint8_t altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK };
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    tm = tm_new_model(EMU_RAM, diff_host_model());

    char form[32];
    for (unsigned pass = compat; pass < 1u + compat; pass++) {
    compat_mode = pass == 1;
    unsigned cases = compat_mode ? CASES / 4 : CASES;     /* compatibility mode: fewer per form */
    /* Register forms, exhaustively; half the cases with every exception masked. */
    for (unsigned op = 0xd8; op <= 0xdf; op++) {
        for (unsigned m = 0xc0; m <= 0xff; m++) {
            uint8_t insn[2] = { (uint8_t)op, (uint8_t)m };
            snprintf(form, sizeof form, "%02x %02x", op, m);
            for (unsigned k = 0; k < cases; k++)
                one_case(form, insn, 2, ENV_NONE, k & 1);
        }
    }
    /* Memory forms [rdi], every digit. */
    for (unsigned op = 0xd8; op <= 0xdf; op++) {
        for (unsigned reg = 0; reg < 8; reg++) {
            uint8_t insn[3] = { (uint8_t)op, (uint8_t)(reg << 3 | 7) };
            enum env_kind env = (op == 0xd9 || op == 0xdd) && reg == 6 ? ENV_32 : ENV_NONE;
            snprintf(form, sizeof form, "%02x /%u", op, reg);
            for (unsigned k = 0; k < cases * 4; k++)
                one_case(form, insn, 2, env, k & 1);
            /* 16-bit operand size (66): FNSTENV/FLDENV/FNSAVE/FRSTOR 14-byte formats. */
            if ((op == 0xd9 || op == 0xdd) && (reg == 4 || reg == 6)) {
                uint8_t insn16[3] = { 0x66, (uint8_t)op, (uint8_t)(reg << 3 | 7) };
                snprintf(form, sizeof form, "66 %02x /%u", op, reg);
                for (unsigned k = 0; k < cases; k++)
                    one_case(form, insn16, 3, reg == 6 ? ENV_16 : ENV_NONE, k & 1);
            }
        }
    }
    /* A computation then FWAIT (9B): an unmasked exception of the first becomes #MF. */
    static const uint8_t pairs[][4] = {
        { 0xde, 0xf9, 0x9b }, { 0xd9, 0xfa, 0x9b }, { 0xd8, 0x07, 0x9b }, { 0xdd, 0x1f, 0x9b },
        { 0xdf, 0x1f, 0x9b }, { 0xd9, 0xf3, 0x9b }, { 0xd9, 0xfd, 0x9b }, { 0xd8, 0xc1, 0xd9, 0xe8 },
    };
    for (unsigned p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        unsigned len = pairs[p][2] == 0x9b ? 3 : 4;
        snprintf(form, sizeof form, "pair %u", p);
        for (unsigned k = 0; k < cases * 4; k++)
            one_case(form, pairs[p], len, ENV_NONE, false);
    }
    }

    printf("diff_x87: %u cases (%u #UD, %u #MF natively), %u mismatches\n", cases_run, native_ud, native_mf, failures);
    if (native_ud == 0 || native_mf == 0) {
        printf("diff_x87: the #UD and #MF paths were not exercised\n");
        failures++;
    }
    tm_free(tm);
    return failures ? 1 : 0;
}
