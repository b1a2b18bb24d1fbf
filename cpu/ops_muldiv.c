/* MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (SDM Vol. 2).
 *
 * Flags: MUL/IMUL define only CF = OF = "the upper half is significant"; SF, ZF,
 * AF and PF are undefined: we produce SF/ZF/PF of the low half and AF = 0
 * (cpu/flags.c LF_MUL).  DIV/IDIV leave all six flags undefined: we leave them
 * unchanged.  Divide by zero and a quotient that does not fit raise #DE before
 * anything is written (SDM DIV/IDIV).
 */
#include "cpu/handlers.h"
#include "cpu/flags.h"
#include "cpu/operand.h"

/* The explicit operand of the one-operand forms (F6/F7 /4../7): the decoder may list
 * the implicit accumulator first, so take the last operand that is not rAX/none. */
static unsigned explicit_opnd(const struct insn *i)
{
    for (int n = 2; n >= 0; n--)
        if (i->opnd[n] != OPK_NONE && i->opnd[n] != OPK_ACC)
            return (unsigned)n;
    return 0;
}

/* Write the double-width result hi:lo of a one-operand MUL/IMUL/DIV/IDIV: AH:AL for
 * bytes (AX as a whole), DX:AX, EDX:EAX (zero-extending both), RDX:RAX. */
static void put_pair(struct cpu *c, unsigned sz, uint64_t hi, uint64_t lo)
{
    if (sz == 1) {
        gpr_write(c, RAX, 2, ((hi & 0xff) << 8) | (lo & 0xff), false);
    } else {
        gpr_write(c, RAX, sz, lo, false);
        gpr_write(c, RDX, sz, hi, false);
    }
}

/* The double-width dividend (AX, DX:AX, EDX:EAX, RDX:RAX). */
static unsigned __int128 get_pair(const struct cpu *c, unsigned sz)
{
    if (sz == 1)
        return c->gpr[RAX] & 0xffff;
    return ((unsigned __int128)(c->gpr[RDX] & size_mask(sz)) << (sz * 8)) | (c->gpr[RAX] & size_mask(sz));
}

void h_mul(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize, bits = sz * 8;
    uint64_t b = opnd_read(c, i, explicit_opnd(i));
    uint64_t a = c->gpr[RAX] & size_mask(sz);
    unsigned __int128 p = (unsigned __int128)a * b;
    uint64_t lo = (uint64_t)p & size_mask(sz);
    uint64_t hi = (uint64_t)(p >> bits) & size_mask(sz);
    put_pair(c, sz, hi, lo);
    flags_set(c, LF_MUL, sz, lo, a, hi != 0);
}

void h_imul1(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize, bits = sz * 8;
    int64_t b = sext(opnd_read(c, i, explicit_opnd(i)), sz);
    int64_t a = sext(c->gpr[RAX], sz);
    __int128 p = (__int128)a * b;
    uint64_t lo = (uint64_t)p & size_mask(sz);
    uint64_t hi = (uint64_t)(p >> bits) & size_mask(sz);
    put_pair(c, sz, hi, lo);
    /* CF = OF = 1 unless the product equals the sign extension of its low half */
    flags_set(c, LF_MUL, sz, lo, (uint64_t)a, p != (__int128)sext(lo, sz));
}

/* Truncating signed multiply of the two- and three-operand forms. */
static void imul_trunc(struct cpu *c, const struct insn *i, uint64_t x, uint64_t y)
{
    unsigned sz = i->osize;
    __int128 p = (__int128)sext(x, sz) * sext(y, sz);
    uint64_t lo = (uint64_t)p & size_mask(sz);
    opnd_write(c, i, 0, lo);
    flags_set(c, LF_MUL, sz, lo, x, p != (__int128)sext(lo, sz));
}

/* 0F AF: reg = reg * r/m */
void h_imul2(struct cpu *c, const struct insn *i)
{
    uint64_t x = opnd_read(c, i, 0);
    uint64_t y = opnd_read(c, i, 1);
    imul_trunc(c, i, x, y);
}

/* 69/6B: reg = r/m * imm (the decoder has sign-extended imm8) */
void h_imul3(struct cpu *c, const struct insn *i)
{
    uint64_t x = opnd_read(c, i, 1);
    uint64_t y = opnd_read(c, i, 2);
    imul_trunc(c, i, x, y);
}

void h_div(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t d = opnd_read(c, i, explicit_opnd(i));
    if (d == 0)
        cpu_raise(c, EXC_DE, EXC_NO_ERROR);
    unsigned __int128 n = get_pair(c, sz);
    unsigned __int128 q = n / d;
    if (q > size_mask(sz))
        cpu_raise(c, EXC_DE, EXC_NO_ERROR);
    put_pair(c, sz, (uint64_t)(n % d), (uint64_t)q);
}

void h_idiv(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize, bits = sz * 8;
    int64_t d = sext(opnd_read(c, i, explicit_opnd(i)), sz);
    if (d == 0)
        cpu_raise(c, EXC_DE, EXC_NO_ERROR);
    /* Sign-extend the 2*bits-wide dividend to 128 bits. */
    unsigned __int128 u = get_pair(c, sz);
    __int128 n = (__int128)(u << (128 - 2 * bits)) >> (128 - 2 * bits);
    __int128 q, r;
    if (d == -1) {              /* avoid the host's own overflow on INT128_MIN / -1 */
        if (u == (unsigned __int128)1 << 127)   /* only reachable with 64-bit operands */
            cpu_raise(c, EXC_DE, EXC_NO_ERROR);
        q = -n;
        r = 0;
    } else {
        q = n / d;
        r = n % d;
    }
    __int128 lim = (__int128)1 << (bits - 1);
    if (q >= lim || q < -lim)
        cpu_raise(c, EXC_DE, EXC_NO_ERROR);
    put_pair(c, sz, (uint64_t)r & size_mask(sz), (uint64_t)q & size_mask(sz));
}
