/* Decoder lengths cross-checked against Capstone (DESIGN.md §8).
 *
 * Random byte strings (fixed seed: the run is deterministic), half uniformly random
 * and half biased to start with legacy prefixes, REX and the 0F/0F38/0F3A escapes,
 * decoded in 64-bit and in 32-bit mode:
 *   1. whenever our decoder accepts an instruction (handler != h_ud), Capstone must
 *      decode it too and with the same length;
 *   2. whenever Capstone decodes an instruction of our integer set (mnemonic list
 *      below), our decoder must not reject it.
 * A failure prints the bytes, the mode, both lengths and both mnemonics; the exit
 * status is non-zero if anything failed.
 *
 * Capstone 4 quirks that are excluded, each with its reason, are in cs_quirk().
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/decode.h"

/* Byte strings per mode: 64-bit, 32-bit, 16-bit (1.3 million in all). */
static const unsigned n_per_mode[3] = { 600000, 500000, 200000 };
#define MAX_REPORT 40

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    /* xorshift64* (Vigna): small, fast and deterministic. */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static const uint8_t legacy_pfx[] = { 0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };

/* Fill buf[16]: uniformly random, or prefixes/REX/escapes followed by random bytes. */
static void gen(uint8_t *buf, bool biased, bool is64)
{
    for (int k = 0; k < 16; k++)
        buf[k] = (uint8_t)rnd();
    if (!biased)
        return;
    unsigned p = 0;
    uint64_t r = rnd();
    unsigned npfx = r % 4;
    r >>= 2;
    for (unsigned k = 0; k < npfx; k++, r >>= 4)
        buf[p++] = legacy_pfx[(r & 15) % sizeof legacy_pfx];
    if (is64 && (r & 1))
        buf[p++] = (uint8_t)(0x40 | ((r >> 1) & 15));
    r >>= 5;
    switch (r & 3) {
    case 0: break;
    case 1: case 2: buf[p++] = 0x0f; break;
    case 3: buf[p++] = 0x0f; buf[p++] = (r & 4) ? 0x38 : 0x3a; break;
    }
}

/* Capstone mnemonics of the integer instruction set that cpu/handlers.h implements. */
static const char *const int_mnemonics[] = {
    "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test", "inc", "dec", "neg", "not",
    "rol", "ror", "rcl", "rcr", "shl", "sal", "shr", "sar", "shld", "shrd",
    "mul", "imul", "div", "idiv", "bt", "bts", "btr", "btc", "bsf", "bsr", "tzcnt", "lzcnt",
    "popcnt", "bswap", "clc", "stc", "cmc", "cld", "std", "lahf", "sahf",
    "cbw", "cwde", "cdqe", "cwd", "cdq", "cqo", "xchg", "xadd", "cmpxchg", "cmpxchg8b",
    "cmpxchg16b", "mov", "movabs", "movzx", "movsx", "movsxd", "lea", "nop", "pause", "xlatb",
    "push", "pop", "pushf", "pushfd", "pushfq", "popf", "popfd", "popfq", "enter", "leave",
    "jmp", "call", "ret", "loop", "loope", "loopne", "jrcxz", "jecxz", "jcxz",
    "movsb", "movsw", "movsd", "movsq", "cmpsb", "cmpsw", "cmpsd", "cmpsq",
    "stosb", "stosw", "stosd", "stosq", "lodsb", "lodsw", "lodsd", "lodsq",
    "scasb", "scasw", "scasd", "scasq", "insb", "insw", "insd", "outsb", "outsw", "outsd",
    "hlt", "cli", "sti", "int", "int3", "int1", "into", "iret", "iretd", "iretq",
    "syscall", "sysret", "sysretq", "sysenter", "sysexit", "sysexitq", "swapgs",
    "lgdt", "lidt", "sgdt", "sidt", "lldt", "sldt", "ltr", "str", "lmsw", "smsw", "clts",
    "invlpg", "invpcid", "rdmsr", "wrmsr", "rdtsc", "rdtscp", "rdpmc", "cpuid", "in", "out",
    "ljmp", "lcall", "retf", "retfq", "lar", "lsl", "verr", "verw", "stac", "clac",
    "vmcall", "vmmcall", "wbinvd", "invd", "lfence", "mfence", "sfence", "clflush", "movnti",
    "prefetch", "prefetchw", "prefetchnta", "prefetcht0", "prefetcht1", "prefetcht2",
    "endbr64", "endbr32",
};

static bool is_int_mnemonic(const cs_insn *ci)
{
    const char *m = ci->mnemonic;
    /* Capstone prints prefixes into the mnemonic ("lock add", "rep stosb"). */
    for (;;) {
        const char *sp = strchr(m, ' ');
        if (!sp)
            break;
        m = sp + 1;
    }
    /* SSE and x87 share some names with string ops (movsd, cmpsd): reject by operands. */
    if (strstr(ci->op_str, "mm") || strstr(ci->op_str, "st("))
        return false;
    if (m[0] == 'j' || !strncmp(m, "set", 3) || !strncmp(m, "cmov", 4))
        return true;
    for (size_t k = 0; k < sizeof int_mnemonics / sizeof int_mnemonics[0]; k++)
        if (!strcmp(m, int_mnemonics[k]))
            return true;
    return false;
}

/* The prefix bytes of b as the SDM reads them: which legacy prefixes occur, whether an
 * F2/F3 is followed by another legacy prefix or preceded by 66, and the REX byte that
 * immediately precedes the opcode (0 if none).  Written independently of cpu/decode.c. */
struct pfx_scan {
    bool has66, has67, rep_not_last, o66_then_rep, o66_not_last;
    uint8_t rex;
};
static struct pfx_scan scan_prefixes(const uint8_t *b, bool is64)
{
    struct pfx_scan ps = { 0 };
    bool seen_rep = false;
    for (unsigned k = 0; k < 15; k++) {
        uint8_t x = b[k];
        if (is64 && (x & 0xf0) == 0x40) {
            ps.rex = x;
            continue;
        }
        bool legacy = memchr(legacy_pfx, x, sizeof legacy_pfx) != NULL;
        if (!legacy)
            break;
        ps.rex = 0;
        if (seen_rep)
            ps.rep_not_last = true;
        if (ps.has66)
            ps.o66_not_last = true;
        if (x == 0x66) {
            ps.has66 = true;
            ps.o66_not_last = false;
        }
        if (x == 0x67)
            ps.has67 = true;
        if (x == 0xf2 || x == 0xf3) {
            seen_rep = true;
            ps.rep_not_last = false;
            if (ps.has66)
                ps.o66_then_rep = true;
        }
    }
    return ps;
}

/* Known Capstone 4.0.2 differences (checked by hand against the SDM); returns the
 * reason when the case is excluded. */
static const char *cs_quirk(const uint8_t *b, int our_len, const struct insn *i, bool cs_ok,
                            const cs_insn *ci, bool is64, bool is16)
{
    bool ours = i->fn != h_ud;
    /* Capstone does not check LOCK: it prints "lock" before any instruction, while the
     * SDM requires #UD unless the instruction is lockable and its destination is memory. */
    if (!ours && (i->pfx & PFX_LOCK) && cs_ok)
        return "LOCK legality";
    /* 66-prefixed near branches with a rel16/32 (E8, E9, 0F 80-8F) in 64-bit mode:
     * Intel ignores 66 and takes rel32 (SDM Vol. 2 JMP/Jcc/CALL, "64-bit mode"), Capstone
     * decodes rel16 as AMD processors do. */
    if (ours && is64 && (i->pfx & PFX_OPSIZE) && cs_ok && (int)ci->size == our_len - 2 &&
        (i->op == 0xe8 || i->op == 0xe9 || (i->op >= 0x180 && i->op <= 0x18f)))
        return "66 near branch (Intel vs AMD)";
    /* Capstone rejects the reserved hint-NOP encodings: register forms of 0F 18-1F,
     * 0F 0D /2-/7, and many of them with 66/F2/F3.  SDM Vol. 2 Table A-3 and the NOP
     * page: 0F 18-1F are "NOP Ev" hints, executed as NOP; AMD APM: 0F 0D /r are all
     * PREFETCH aliases. */
    if (ours && !cs_ok && (i->op == 0x10d || (i->op >= 0x118 && i->op <= 0x11f)))
        return "hint NOP Capstone rejects";
    struct pfx_scan ps = scan_prefixes(b, is64);
    /* Capstone 4 treats F2/F3 as a mandatory prefix only when it is the last legacy
     * prefix (so F3 67 0F B8 /r, POPCNT, is "invalid"), and drops a 66 that precedes
     * an F2/F3 (66 F3 68 iw decodes as PUSH imm32).  The SDM gives the prefixes no
     * order (Vol. 2 2.1.1) and 66 keeps its meaning on non-SSE opcodes. */
    if (ps.rep_not_last || ps.o66_then_rep)
        return "F2/F3 prefix order";
    /* REX.R on MOV Sreg (8C/8E): ignored by the processor (AMD APM Vol. 3 1.8.2),
     * rejected by Capstone. */
    if (ours && !cs_ok && (i->op == 0x8c || i->op == 0x8e) && (ps.rex & 4))
        return "REX.R on MOV Sreg";
    /* RET imm16 (C2) with both 66 and REX.W: Capstone reads a longer immediate; the
     * immediate is always 16 bits (SDM Vol. 2 RET). */
    if (ours && i->op == 0xc2 && (ps.has66 || ps.has67) && (ps.rex & 8))
        return "RET Iw with 66/67+REX.W";
    /* The same mandatory-prefix rule for 66: INVPCID (66 0F 38 82) and the 66-prefixed
     * SSE forms are "invalid" for Capstone when another legacy prefix follows the 66. */
    if (ours && !cs_ok && (i->op == 0x282 || (i->op >= 0x110 && i->op < 0x400 && (i->pfx & PFX_OPSIZE))) &&
        ps.o66_not_last)
        return "66 prefix order";
    /* LFENCE/MFENCE/SFENCE ignore the r/m field (SDM Vol. 2 LFENCE: "0F AE Ex, x in
     * 8-F"); Capstone accepts only r/m = 0. */
    if (ours && !cs_ok && i->fn == h_fence && (i->rm & 7) != 0)
        return "fence r/m";
    /* CALL rel32 with 67 and REX.W: Capstone decodes rel16; 67 does not change the
     * displacement size (SDM Vol. 2 CALL, 64-bit mode). */
    if (ours && i->op == 0xe8 && ps.has67 && (ps.rex & 8) && cs_ok && (int)ci->size == our_len - 2)
        return "CALL with 67+REX.W";
    /* 66/F2/F3 0F AE /5-/7 with mod = 3 are TPAUSE/UMONITOR/UMWAIT/INCSSP: Capstone 4
     * does not know them and prints the fence. */
    if (!ours && cs_ok && i->op == 0x1ae && i->mod == 3 && (i->pfx & (PFX_OPSIZE | PFX_REP | PFX_REPNE)))
        return "prefixed fence encodings";
    /* In 16-bit mode Capstone 4 has no POPCNT and no INVPCID (both are valid in real
     * and 16-bit protected mode: SDM Vol. 2 POPCNT, INVPCID "Real-Address Mode Exceptions"). */
    if (ours && !cs_ok && is16 && (i->op == 0x1b8 || i->op == 0x282))
        return "16-bit POPCNT/INVPCID";
    /* SSE/MMX (0F 10-FF, 0F 38, 0F 3A with a mandatory prefix): Capstone 4 has none of the
     * 66/F2-prefixed SSE forms in 16-bit mode, and rejects them after two REX prefixes
     * (only the last REX counts, SDM Vol. 2 2.2.1). */
    if (ours && !cs_ok && i->op >= 0x110 && i->op < 0x400 && (i->pfx & (PFX_OPSIZE | PFX_REPNE | PFX_REP))) {
        unsigned nrex = 0;
        for (unsigned k = 0; k < 15 && is64 && b[k] != 0x0f; k++)
            nrex += (b[k] & 0xf0) == 0x40;
        if (is16 || nrex > 1)
            return "SSE forms in 16-bit mode or after two REX";
    }
    /* MOV CS, r/m (8E /1): the SDM says #UD; Capstone decodes it. */
    if (!ours && cs_ok && i->op == 0x8e && (i->reg & 7) == SEG_CS)
        return "MOV CS";
    return NULL;
}

static void hex(const uint8_t *b, unsigned n, char *out)
{
    for (unsigned k = 0; k < n; k++)
        sprintf(out + 3 * k, "%02x ", b[k]);
}

int main(void)
{
    unsigned failures = 0;
    uint64_t accepted = 0, compared = 0, excluded = 0;

    static const cs_mode cs_modes[3] = { CS_MODE_64, CS_MODE_32, CS_MODE_16 };
    static const enum cpu_mode our_modes[3] = { MODE_LONG64, MODE_PROT32, MODE_PROT16 };
    static const char *const mode_names[3] = { "64", "32", "16" };
    uint64_t total = 0;
    for (int pass = 0; pass < 3; pass++) {
        bool is64 = pass == 0;
        csh h;
        if (cs_open(CS_ARCH_X86, cs_modes[pass], &h) != CS_ERR_OK) {
            fprintf(stderr, "cs_open failed\n");
            return 2;
        }
        cs_insn *ci = cs_malloc(h);
        for (unsigned n = 0; n < n_per_mode[pass]; n++) {
            total++;
            uint8_t buf[16];
            gen(buf, n & 1, is64);
            struct insn in;
            int len = decode_insn(&in, buf, sizeof buf, our_modes[pass], NULL);
            if (len <= 0)
                continue;       /* longer than 15 bytes: nothing to compare */
            const uint8_t *code = buf;
            size_t size = sizeof buf;
            uint64_t addr = 0x1000;
            bool cs_ok = cs_disasm_iter(h, &code, &size, &addr, ci);
            bool ours = in.fn != h_ud;
            const char *why = NULL;
            if (ours) {
                accepted++;
                if (!cs_ok || ci->size != (unsigned)len)
                    why = "length differs (we accept)";
            } else if (cs_ok && is_int_mnemonic(ci)) {
                why = "we reject an integer instruction";
            }
            if (!why)
                continue;
            compared++;
            const char *q = cs_quirk(buf, len, &in, cs_ok, ci, is64, pass == 2);
            if (q) {
                excluded++;
                continue;
            }
            if (++failures <= MAX_REPORT) {
                char hx[64];
                hex(buf, 16, hx);
                printf("FAIL %s mode %s: %s\n  ours: len %d %s   capstone: len %d %s %s\n", why,
                       mode_names[pass], hx, len, insn_mnemonic(&in), cs_ok ? (int)ci->size : 0,
                       cs_ok ? ci->mnemonic : "(invalid)", cs_ok ? ci->op_str : "");
            }
        }
        cs_free(ci, 1);
        cs_close(&h);
    }
    printf("%" PRIu64 " byte strings, %" PRIu64 " accepted by us, %" PRIu64 " compared against "
           "Capstone quirks (excluded), %u failures\n", total, accepted, excluded, failures);
    return failures ? 1 : 0;
}
