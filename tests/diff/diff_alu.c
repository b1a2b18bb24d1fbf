/* Differential test of the arithmetic/logic family against the host CPU: every form
 * of ADD..CMP, TEST, INC, DEC, NEG, NOT, the shifts and rotates, SHLD/SHRD,
 * MUL/IMUL/DIV/IDIV, BT*, BSF/BSR/TZCNT/LZCNT/POPCNT, BSWAP, the flag instructions,
 * SETcc/CMOVcc, CBW/CWD, XCHG/XADD/CMPXCHG/CMPXCHG8B/16B; all operand sizes,
 * register and memory operands, byte registers with and without REX.
 * Undefined flags (SDM) are not compared; each form lists them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/diff/support_native.h"

#define CASES 300

#define FA (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

enum layout {
    L_EG,       /* ModRM: rm = E (destination), reg = G */
    L_GE,       /* ModRM: reg = G (destination), rm = E */
    L_E,        /* ModRM: reg = digit, rm = E */
    L_ACC,      /* no ModRM (AL/eAX implied), immediate follows */
    L_OPREG,    /* register in the low 3 opcode bits */
    L_NONE,     /* opcode only */
    L_M,        /* ModRM: reg = digit, memory only */
};

/* Special value rules for some forms. */
enum special {
    SP_NONE, SP_SHIFT, SP_ROT, SP_RC, SP_SHD, SP_DIV, SP_IDIV, SP_BTMEM, SP_CMPXCHG,
    SP_CX8, SP_BSWAP,
};

#define SZ_B  0x1u
#define SZ_V  0xeu        /* 2, 4, 8 */
#define SZ_48 0xcu        /* 4, 8 */

struct form {
    const char *name;
    uint8_t op[3], oplen;
    uint8_t mand;         /* mandatory prefix (F3) or 0 */
    int8_t digit;         /* ModRM.reg digit for L_E/L_M, else -1 */
    uint8_t layout;
    uint8_t imm;          /* 0, 1 = imm8, 4 = imm16/32 by operand size */
    uint8_t sizes;
    uint8_t special;
    uint64_t undef;       /* flags the SDM leaves undefined (always) */
    bool cl;              /* count in CL */
};

static struct form forms[512];
static unsigned nforms;

static void add_form(const char *name, const uint8_t *op, unsigned oplen, uint8_t mand, int digit,
                     enum layout l, unsigned imm, unsigned sizes, enum special sp, uint64_t undef, bool cl)
{
    struct form *f = &forms[nforms++];
    f->name = name;
    memcpy(f->op, op, oplen);
    f->oplen = (uint8_t)oplen;
    f->mand = mand;
    f->digit = (int8_t)digit;
    f->layout = (uint8_t)l;
    f->imm = (uint8_t)imm;
    f->sizes = (uint8_t)sizes;
    f->special = (uint8_t)sp;
    f->undef = undef;
    f->cl = cl;
}

#define OP1(a)       (const uint8_t[]){ a }, 1
#define OP2(a, b)    (const uint8_t[]){ a, b }, 2

static char *names(const char *fmt, const char *a)
{
    char buf[64];
    snprintf(buf, sizeof buf, fmt, a);
    return strdup(buf);
}

static void build_forms(void)
{
    static const char *const alu[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
    for (int k = 0; k < 8; k++) {
        uint64_t u = (k == 1 || k == 4 || k == 6) ? FL_AF : 0;   /* logic: AF undefined */
        uint8_t b = (uint8_t)(k * 8);
        add_form(names("%s Eb,Gb", alu[k]), OP1(b + 0), 0, -1, L_EG, 0, SZ_B, SP_NONE, u, false);
        add_form(names("%s Ev,Gv", alu[k]), OP1(b + 1), 0, -1, L_EG, 0, SZ_V, SP_NONE, u, false);
        add_form(names("%s Gb,Eb", alu[k]), OP1(b + 2), 0, -1, L_GE, 0, SZ_B, SP_NONE, u, false);
        add_form(names("%s Gv,Ev", alu[k]), OP1(b + 3), 0, -1, L_GE, 0, SZ_V, SP_NONE, u, false);
        add_form(names("%s AL,Ib", alu[k]), OP1(b + 4), 0, -1, L_ACC, 1, SZ_B, SP_NONE, u, false);
        add_form(names("%s eAX,Iz", alu[k]), OP1(b + 5), 0, -1, L_ACC, 4, SZ_V, SP_NONE, u, false);
        add_form(names("%s Eb,Ib", alu[k]), OP1(0x80), 0, k, L_E, 1, SZ_B, SP_NONE, u, false);
        add_form(names("%s Ev,Iz", alu[k]), OP1(0x81), 0, k, L_E, 4, SZ_V, SP_NONE, u, false);
        add_form(names("%s Ev,Ib", alu[k]), OP1(0x83), 0, k, L_E, 1, SZ_V, SP_NONE, u, false);
    }
    add_form("test Eb,Gb", OP1(0x84), 0, -1, L_EG, 0, SZ_B, SP_NONE, FL_AF, false);
    add_form("test Ev,Gv", OP1(0x85), 0, -1, L_EG, 0, SZ_V, SP_NONE, FL_AF, false);
    add_form("test AL,Ib", OP1(0xa8), 0, -1, L_ACC, 1, SZ_B, SP_NONE, FL_AF, false);
    add_form("test eAX,Iz", OP1(0xa9), 0, -1, L_ACC, 4, SZ_V, SP_NONE, FL_AF, false);
    add_form("test Eb,Ib", OP1(0xf6), 0, 0, L_E, 1, SZ_B, SP_NONE, FL_AF, false);
    add_form("test Ev,Iz", OP1(0xf7), 0, 0, L_E, 4, SZ_V, SP_NONE, FL_AF, false);
    add_form("inc Eb", OP1(0xfe), 0, 0, L_E, 0, SZ_B, SP_NONE, 0, false);
    add_form("dec Eb", OP1(0xfe), 0, 1, L_E, 0, SZ_B, SP_NONE, 0, false);
    add_form("inc Ev", OP1(0xff), 0, 0, L_E, 0, SZ_V, SP_NONE, 0, false);
    add_form("dec Ev", OP1(0xff), 0, 1, L_E, 0, SZ_V, SP_NONE, 0, false);
    add_form("not Eb", OP1(0xf6), 0, 2, L_E, 0, SZ_B, SP_NONE, 0, false);
    add_form("neg Eb", OP1(0xf6), 0, 3, L_E, 0, SZ_B, SP_NONE, 0, false);
    add_form("not Ev", OP1(0xf7), 0, 2, L_E, 0, SZ_V, SP_NONE, 0, false);
    add_form("neg Ev", OP1(0xf7), 0, 3, L_E, 0, SZ_V, SP_NONE, 0, false);

    /* Group 2 (SDM Vol. 2 Table A-6): /0 rol /1 ror /2 rcl /3 rcr /4 shl /5 shr /7 sar */
    static const char *const g2[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", NULL, "sar" };
    for (int d = 0; d < 8; d++) {
        if (!g2[d])
            continue;
        enum special sp = d < 2 ? SP_ROT : d < 4 ? SP_RC : SP_SHIFT;
        add_form(names("%s Eb,Ib", g2[d]), OP1(0xc0), 0, d, L_E, 1, SZ_B, sp, 0, false);
        add_form(names("%s Ev,Ib", g2[d]), OP1(0xc1), 0, d, L_E, 1, SZ_V, sp, 0, false);
        add_form(names("%s Eb,1", g2[d]), OP1(0xd0), 0, d, L_E, 0, SZ_B, sp, 0, false);
        add_form(names("%s Ev,1", g2[d]), OP1(0xd1), 0, d, L_E, 0, SZ_V, sp, 0, false);
        add_form(names("%s Eb,CL", g2[d]), OP1(0xd2), 0, d, L_E, 0, SZ_B, sp, 0, true);
        add_form(names("%s Ev,CL", g2[d]), OP1(0xd3), 0, d, L_E, 0, SZ_V, sp, 0, true);
    }
    add_form("shld Ev,Gv,Ib", OP2(0x0f, 0xa4), 0, -1, L_EG, 1, SZ_V, SP_SHD, 0, false);
    add_form("shld Ev,Gv,CL", OP2(0x0f, 0xa5), 0, -1, L_EG, 0, SZ_V, SP_SHD, 0, true);
    add_form("shrd Ev,Gv,Ib", OP2(0x0f, 0xac), 0, -1, L_EG, 1, SZ_V, SP_SHD, 0, false);
    add_form("shrd Ev,Gv,CL", OP2(0x0f, 0xad), 0, -1, L_EG, 0, SZ_V, SP_SHD, 0, true);

    /* Group 3 multiply/divide: SF ZF AF PF undefined after MUL/IMUL, all after DIV/IDIV */
    const uint64_t um = FL_SF | FL_ZF | FL_AF | FL_PF;
    add_form("mul Eb", OP1(0xf6), 0, 4, L_E, 0, SZ_B, SP_NONE, um, false);
    add_form("imul Eb", OP1(0xf6), 0, 5, L_E, 0, SZ_B, SP_NONE, um, false);
    add_form("div Eb", OP1(0xf6), 0, 6, L_E, 0, SZ_B, SP_DIV, FA, false);
    add_form("idiv Eb", OP1(0xf6), 0, 7, L_E, 0, SZ_B, SP_IDIV, FA, false);
    add_form("mul Ev", OP1(0xf7), 0, 4, L_E, 0, SZ_V, SP_NONE, um, false);
    add_form("imul Ev", OP1(0xf7), 0, 5, L_E, 0, SZ_V, SP_NONE, um, false);
    add_form("div Ev", OP1(0xf7), 0, 6, L_E, 0, SZ_V, SP_DIV, FA, false);
    add_form("idiv Ev", OP1(0xf7), 0, 7, L_E, 0, SZ_V, SP_IDIV, FA, false);
    add_form("imul Gv,Ev", OP2(0x0f, 0xaf), 0, -1, L_GE, 0, SZ_V, SP_NONE, um, false);
    add_form("imul Gv,Ev,Iz", OP1(0x69), 0, -1, L_GE, 4, SZ_V, SP_NONE, um, false);
    add_form("imul Gv,Ev,Ib", OP1(0x6b), 0, -1, L_GE, 1, SZ_V, SP_NONE, um, false);

    /* Bit tests: OF SF AF PF undefined */
    const uint64_t ub = FL_OF | FL_SF | FL_AF | FL_PF;
    static const char *const bt[4] = { "bt", "bts", "btr", "btc" };
    static const uint8_t btop[4] = { 0xa3, 0xab, 0xb3, 0xbb };
    for (int k = 0; k < 4; k++) {
        add_form(names("%s Ev,Gv", bt[k]), OP2(0x0f, btop[k]), 0, -1, L_EG, 0, SZ_V, SP_BTMEM, ub, false);
        add_form(names("%s Ev,Ib", bt[k]), OP2(0x0f, 0xba), 0, 4 + k, L_E, 1, SZ_V, SP_NONE, ub, false);
    }
    add_form("bsf Gv,Ev", OP2(0x0f, 0xbc), 0, -1, L_GE, 0, SZ_V, SP_NONE, FA & ~(uint64_t)FL_ZF, false);
    add_form("bsr Gv,Ev", OP2(0x0f, 0xbd), 0, -1, L_GE, 0, SZ_V, SP_NONE, FA & ~(uint64_t)FL_ZF, false);
    add_form("tzcnt Gv,Ev", OP2(0x0f, 0xbc), 0xf3, -1, L_GE, 0, SZ_V, SP_NONE, ub, false);
    add_form("lzcnt Gv,Ev", OP2(0x0f, 0xbd), 0xf3, -1, L_GE, 0, SZ_V, SP_NONE, ub, false);
    add_form("popcnt Gv,Ev", OP2(0x0f, 0xb8), 0xf3, -1, L_GE, 0, SZ_V, SP_NONE, 0, false);
    add_form("bswap Zv", OP2(0x0f, 0xc8), 0, -1, L_OPREG, 0, SZ_V, SP_BSWAP, 0, false);

    add_form("clc", OP1(0xf8), 0, -1, L_NONE, 0, 4, SP_NONE, 0, false);
    add_form("stc", OP1(0xf9), 0, -1, L_NONE, 0, 4, SP_NONE, 0, false);
    add_form("cmc", OP1(0xf5), 0, -1, L_NONE, 0, 4, SP_NONE, 0, false);
    add_form("cld", OP1(0xfc), 0, -1, L_NONE, 0, 4, SP_NONE, 0, false);
    add_form("std", OP1(0xfd), 0, -1, L_NONE, 0, 4, SP_NONE, 0, false);
    add_form("lahf", OP1(0x9f), 0, -1, L_NONE, 0, 4, SP_NONE, 0, false);
    add_form("sahf", OP1(0x9e), 0, -1, L_NONE, 0, 4, SP_NONE, 0, false);
    add_form("cbw/cwde/cdqe", OP1(0x98), 0, -1, L_NONE, 0, SZ_V, SP_NONE, 0, false);
    add_form("cwd/cdq/cqo", OP1(0x99), 0, -1, L_NONE, 0, SZ_V, SP_NONE, 0, false);
    static const char *const cc[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                                        "s", "ns", "p", "np", "l", "ge", "le", "g" };
    for (int k = 0; k < 16; k++) {
        add_form(names("set%s Eb", cc[k]), OP2(0x0f, (uint8_t)(0x90 + k)), 0, 0, L_E, 0, SZ_B, SP_NONE, 0, false);
        add_form(names("cmov%s Gv,Ev", cc[k]), OP2(0x0f, (uint8_t)(0x40 + k)), 0, -1, L_GE, 0, SZ_V, SP_NONE, 0, false);
    }
    add_form("xchg Eb,Gb", OP1(0x86), 0, -1, L_EG, 0, SZ_B, SP_NONE, 0, false);
    add_form("xchg Ev,Gv", OP1(0x87), 0, -1, L_EG, 0, SZ_V, SP_NONE, 0, false);
    add_form("xchg rAX,Zv", OP1(0x90), 0, -1, L_OPREG, 0, SZ_V, SP_NONE, 0, false);
    add_form("xadd Eb,Gb", OP2(0x0f, 0xc0), 0, -1, L_EG, 0, SZ_B, SP_NONE, 0, false);
    add_form("xadd Ev,Gv", OP2(0x0f, 0xc1), 0, -1, L_EG, 0, SZ_V, SP_NONE, 0, false);
    add_form("cmpxchg Eb,Gb", OP2(0x0f, 0xb0), 0, -1, L_EG, 0, SZ_B, SP_CMPXCHG, 0, false);
    add_form("cmpxchg Ev,Gv", OP2(0x0f, 0xb1), 0, -1, L_EG, 0, SZ_V, SP_CMPXCHG, 0, false);
    add_form("cmpxchg8b/16b M", OP2(0x0f, 0xc7), 0, 1, L_M, 0, SZ_48, SP_CX8, 0, false);
}

/* ------------------------------------------------------------------ one case */

struct variant {
    unsigned size;
    bool mem;
    bool rex;             /* byte forms: force a REX prefix (SPL..DIL, R8B..) */
    bool lock;            /* F0 prefix (memory destinations of the lockable forms) */
};

/* SDM Vol. 2 LOCK: the prefix is allowed with a memory destination of ADD ADC AND
 * BTC BTR BTS CMPXCHG CMPXCHG8B/16B DEC INC NEG NOT OR SBB SUB XOR XADD XCHG. */
static bool lockable(const struct form *f)
{
    static const char *const ok[] = { "add E", "adc E", "and E", "or E", "sbb E", "sub E", "xor E",
                                      "inc", "dec", "not", "neg", "bts", "btr", "btc",
                                      "xadd", "xchg E", "cmpxchg" };
    for (unsigned k = 0; k < sizeof ok / sizeof ok[0]; k++)
        if (!strncmp(f->name, ok[k], strlen(ok[k])))
            return f->layout == L_EG || f->layout == L_E || f->layout == L_M;
    return false;
}

static unsigned pick_reg(bool byte_norex)
{
    return (unsigned)(diff_rand() % (byte_norex ? 8 : 16));
}

static void gen_case(const struct form *f, const struct variant *v, unsigned k, struct diff_case *dc)
{
    unsigned sz = v->size;
    bool byte = sz == 1;
    bool norex = byte && !v->rex;
    uint8_t *p = dc->code;
    memset(dc, 0, offsetof(struct diff_case, mem));
    for (int r = 0; r < 16; r++)
        dc->in.gpr[r] = diff_operand(8);
    dc->in.rflags = diff_rand() & DIFF_FLAGS_IN;
    dc->gpr_mask = 0xffff;
    for (unsigned o = 0; o < DIFF_SCRATCH_SIZE; o += 8) {
        uint64_t x = diff_rand();
        memcpy(&dc->mem[o], &x, 8);
    }

    /* Registers: G in ModRM.reg, E/opcode register in ModRM.rm. */
    unsigned g = pick_reg(norex), e = pick_reg(norex), base = 0;
    if (f->layout == L_OPREG) {
        e = pick_reg(false);
        if (f->op[0] == 0x90 && e == 0)
            e = 1 + (unsigned)(diff_rand() % 15);   /* 90 without REX.B is NOP */
    }
    int disp = 0;
    uint64_t moff = 0;    /* offset of the memory operand in the scratch */
    bool mem = v->mem && (f->layout == L_EG || f->layout == L_GE || f->layout == L_E || f->layout == L_M);
    if (f->layout == L_M)
        mem = true;
    if (mem) {
        /* Base register: not RSP/R12 (they need a SIB byte), not the other operand,
         * not an implicit operand of the form. */
        do {
            base = (unsigned)(diff_rand() % 16);
        } while (base == RSP || base == R12 || (base == g && f->layout != L_E && f->layout != L_M) ||
                 base == RAX || base == RDX || base == RCX || base == RBX);
        disp = (int)(diff_rand() % 256) - 128;
        moff = 0x400 + diff_rand() % 0x800;
        if (f->special == SP_CX8 && diff_rand() % 4)
            moff &= ~15ull;                          /* mostly aligned: 16B needs it */
        dc->in.gpr[base] = DIFF_SCRATCH + moff - (uint64_t)(int64_t)disp;
        uint64_t val = diff_operand(sz);
        memcpy(&dc->mem[moff], &val, sz);
    }

    /* One memory case in 32 uses a non-canonical address: #GP (#SS with RBP as the
     * base) before anything changes, natively SIGSEGV/SIGBUS. */
    bool fault = mem && diff_rand() % 32 == 0;
    if (fault)
        dc->in.gpr[base] = 0x8000000000000000ull | (diff_rand() >> 4);

    /* Exception-capable cases need a valid guest stack for the delivery. */
    if (fault || f->special == SP_DIV || f->special == SP_IDIV || f->special == SP_CX8)
        dc->in.gpr[RSP] = TM_STACK_TOP - 0x100 - (diff_rand() % 64) * 16;

    /* Prefixes: LOCK, 66, mandatory F3, REX. */
    if (v->lock)
        *p++ = 0xf0;
    if (sz == 2)
        *p++ = 0x66;
    if (f->mand)
        *p++ = f->mand;
    unsigned rexb = 0;
    if (sz == 8)
        rexb |= 8;                                   /* REX.W */
    unsigned rm = mem ? base : e;
    unsigned regf = (f->layout == L_E || f->layout == L_M) ? (unsigned)f->digit : g;
    if (f->layout == L_EG || f->layout == L_GE || f->layout == L_E || f->layout == L_M) {
        if (regf >= 8) rexb |= 4;
        if (rm >= 8) rexb |= 1;
    } else if (f->layout == L_OPREG && e >= 8) {
        rexb |= 1;
    }
    if (rexb || (byte && v->rex))
        *p++ = (uint8_t)(0x40 | rexb);
    for (unsigned b = 0; b < f->oplen; b++)
        *p++ = f->op[b];
    if (f->layout == L_OPREG)
        p[-1] = (uint8_t)(p[-1] + (e & 7));
    if (f->layout == L_EG || f->layout == L_GE || f->layout == L_E || f->layout == L_M) {
        if (mem) {
            *p++ = (uint8_t)(0x40 | ((regf & 7) << 3) | (rm & 7));   /* mod 01: [base + disp8] */
            *p++ = (uint8_t)(int8_t)disp;
        } else {
            *p++ = (uint8_t)(0xc0 | ((regf & 7) << 3) | (rm & 7));
        }
    }

    /* Immediates and counts. */
    unsigned count = k % 71;                         /* 0..70, every count many times */
    if (f->special == SP_SHD && sz == 2 && (count & 31) > 16)
        count &= 15;                                 /* 16-bit counts > 16: result undefined */
    unsigned isz = f->imm == 4 ? (sz == 2 ? 2 : 4) : f->imm;
    uint64_t imm = diff_operand(isz ? isz : 1);
    bool counted = f->special == SP_SHIFT || f->special == SP_ROT || f->special == SP_RC || f->special == SP_SHD;
    if (counted && f->imm == 1)
        imm = count;
    if (counted && f->cl)
        dc->in.gpr[RCX] = (dc->in.gpr[RCX] & ~0xffull) | count;
    if (counted && !f->imm && !f->cl)
        count = 1;
    for (unsigned b = 0; b < isz; b++)
        *p++ = (uint8_t)(imm >> (8 * b));
    dc->len = (uint8_t)(p - dc->code);

    /* Undefined flags of this case. */
    uint64_t undef = f->undef;
    unsigned mcount = count & (sz == 8 ? 63 : 31);
    switch (f->special) {
    case SP_SHIFT:   /* SDM SAL/SAR/SHL/SHR */
        if (mcount)
            undef |= FL_AF;
        if (mcount > 1)
            undef |= FL_OF;
        if (mcount >= sz * 8 && (f->digit == 4 || f->digit == 5))
            undef |= FL_CF;
        break;
    case SP_ROT:     /* SDM RCL/RCR/ROL/ROR: OF only for 1-bit rotates */
    case SP_RC:
        if (mcount != 1)
            undef |= FL_OF;
        break;
    case SP_SHD:
        if (mcount)
            undef |= FL_AF;
        if (mcount > 1)
            undef |= FL_OF;
        break;
    case SP_DIV:     /* mostly quotients that fit: high half below the divisor */
        if (diff_rand() % 4) {
            uint64_t m = sz >= 8 ? ~0ull : (1ull << (sz * 8)) - 1;
            uint64_t dv = mem ? 0 : dc->in.gpr[e];
            if (mem)
                memcpy(&dv, &dc->mem[moff], sz);
            if (byte && !mem && norex && e >= 4)
                dv = dc->in.gpr[e - 4] >> 8;
            dv &= m;
            if (dv == 0)
                break;
            uint64_t hi = diff_rand() % dv;
            if (byte)
                dc->in.gpr[RAX] = (dc->in.gpr[RAX] & ~0xff00ull) | (hi << 8);
            else
                dc->in.gpr[RDX] = (dc->in.gpr[RDX] & ~m) | hi;
        }
        break;
    case SP_IDIV:    /* mostly sign-extended dividends */
        if (diff_rand() % 4) {
            uint64_t m = sz >= 8 ? ~0ull : (1ull << (sz * 8)) - 1;
            bool neg = (dc->in.gpr[RAX] >> (sz * 8 - 1)) & 1;
            if (byte) {
                uint64_t al = dc->in.gpr[RAX] & 0xff;
                dc->in.gpr[RAX] = (dc->in.gpr[RAX] & ~0xffffull) | ((neg ? 0xffull : 0) << 8) | al;
            } else {
                dc->in.gpr[RDX] = (dc->in.gpr[RDX] & ~m) | (neg ? m : 0);
            }
        }
        break;
    case SP_BTMEM:   /* register bit offsets stay within +-0x300 bytes of the operand */
        if (mem && !fault) {    /* (a faulting case keeps RSP valid even when G is RSP) */
            int64_t bits = (int64_t)(diff_rand() % (0x300 * 8 * 2)) - 0x300 * 8;
            if (diff_rand() % 2)
                bits = (int64_t)(diff_rand() % (sz * 8));
            dc->in.gpr[g] = (dc->in.gpr[g] & ~(sz >= 8 ? ~0ull : (1ull << (sz * 8)) - 1)) |
                            ((uint64_t)bits & (sz >= 8 ? ~0ull : (1ull << (sz * 8)) - 1));
        }
        break;
    case SP_CMPXCHG: /* half the cases compare equal */
        if (diff_rand() % 2) {
            uint64_t dv;
            if (mem) {
                dv = 0;
                memcpy(&dv, &dc->mem[moff], sz);
            } else if (norex && e >= 4) {
                dv = dc->in.gpr[e - 4] >> 8;
            } else {
                dv = dc->in.gpr[e];
            }
            uint64_t m = sz >= 8 ? ~0ull : (1ull << (sz * 8)) - 1;
            dc->in.gpr[RAX] = (dc->in.gpr[RAX] & ~m) | (dv & m);
        }
        break;
    case SP_CX8:     /* half the cases compare equal */
        if (diff_rand() % 2) {
            unsigned h = sz == 8 ? 8 : 4;
            uint64_t lo = 0, hi = 0;
            memcpy(&lo, &dc->mem[moff], h);
            memcpy(&hi, &dc->mem[moff + h], h);
            dc->in.gpr[RAX] = h == 8 ? lo : (dc->in.gpr[RAX] & ~0xffffffffull) | lo;
            dc->in.gpr[RDX] = h == 8 ? hi : (dc->in.gpr[RDX] & ~0xffffffffull) | hi;
        }
        break;
    default:
        break;
    }
    dc->flag_mask = DIFF_FLAGS_IN & ~undef;
}

static const char *vname(const struct variant *v)
{
    static char buf[40];
    snprintf(buf, sizeof buf, "o%u %s%s%s", v->size * 8, v->mem ? "mem" : "reg", v->rex ? " rex" : "",
             v->lock ? " lock" : "");
    return buf;
}

/* Lazy flags read by a condition: "<op> ; SETcc BL" for every condition code after
 * the operations whose flags the conditions use are all defined (SHx only by 1).
 * RBX is never a memory base, so SETcc BL cannot disturb the first instruction. */
static void run_sequences(struct diff_ctx *d, struct diff_case *cases, const char *only)
{
    static const char *const seq_forms[] = {
        "add Ev,Gv", "adc Ev,Gv", "sub Ev,Gv", "sbb Ev,Gv", "cmp Ev,Gv", "and Ev,Gv",
        "xor Ev,Gv", "test Ev,Gv", "inc Ev", "dec Ev", "neg Ev", "shl Ev,1", "shr Ev,1",
        "sar Ev,1", "cmp Eb,Gb", "add Eb,Gb", "sub eAX,Iz", "cmp Ev,Ib",
    };
    const unsigned n = CASES / 3;
    for (unsigned q = 0; q < sizeof seq_forms / sizeof seq_forms[0]; q++) {
        const struct form *f = NULL;
        for (unsigned fi = 0; fi < nforms; fi++)
            if (!strcmp(forms[fi].name, seq_forms[q]))
                f = &forms[fi];
        if (!f || (only && strncmp("seq", only, strlen(only))))
            continue;
        for (unsigned s = 1; s <= 8; s *= 2) {
            if (!(f->sizes & s))
                continue;
            for (unsigned cc = 0; cc < 16; cc++) {
                struct variant v = { s, false, false, false };
                for (unsigned k = 0; k < n; k++) {
                    struct diff_case *dc = &cases[k];
                    gen_case(f, &v, k, dc);
                    dc->code[dc->len++] = 0x0f;
                    dc->code[dc->len++] = (uint8_t)(0x90 + cc);
                    dc->code[dc->len++] = 0xc3;             /* SETcc BL */
                    dc->steps = 2;
                }
                char name[96];
                snprintf(name, sizeof name, "seq %s; set%x bl (o%u)", f->name, cc, s * 8);
                diff_run(d, name, cases, n);
            }
        }
    }
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;    /* optional: run forms whose name starts so */
    build_forms();
    struct diff_ctx *d = diff_init();
    struct diff_case *cases = malloc(CASES * sizeof *cases);
    if (!cases)
        return 2;
    for (unsigned fi = 0; fi < nforms; fi++) {
        const struct form *f = &forms[fi];
        if (only && strncmp(f->name, only, strlen(only)))
            continue;
        bool has_mem = f->layout == L_EG || f->layout == L_GE || f->layout == L_E || f->layout == L_M;
        for (unsigned s = 1; s <= 8; s *= 2) {
            if (!(f->sizes & s))
                continue;
            for (int m = f->layout == L_M ? 1 : 0; m <= (has_mem ? 1 : 0); m++) {
                for (int rx = 0; rx <= (s == 1 && !m ? 1 : 0) + (m && lockable(f) ? 1 : 0); rx++) {
                    struct variant v = { s, m, rx && !m, rx && m };
                    for (unsigned k = 0; k < CASES; k++)
                        gen_case(f, &v, k, &cases[k]);
                    char name[96];
                    snprintf(name, sizeof name, "%s (%s)", f->name, vname(&v));
                    diff_run(d, name, cases, CASES);
                }
            }
        }
    }
    run_sequences(d, cases, only);
    free(cases);
    return diff_finish(d);
}
