/* Two- and one-operand arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP TEST
 * INC DEC NEG NOT (SDM Vol. 2).  Operand 0 is the destination, operand 1 the source,
 * whatever their kinds (cpu/operand.h).
 *
 * Memory forms read first and write last, and record the flags only after the write:
 * a fault on the write (#PF, #GP) leaves registers and flags as they were.
 *
 * Flags: every flag of these instructions is defined (SDM), except AF after AND, OR,
 * XOR, TEST, which is undefined and recorded as 0 (cpu/flags.c LF_LOGIC).
 */
#include "cpu/handlers.h"
#include "cpu/flags.h"
#include "cpu/operand.h"

/* One macro body per binary operation keeps the read/compute/write/flags order identical. */
#define BINOP(name, lfop, expr, writes)                                   \
    void h_##name(struct cpu *c, const struct insn *i)                   \
    {                                                                    \
        unsigned sz = i->osize;                                          \
        uint64_t a = opnd_read(c, i, 0);                                 \
        uint64_t b = opnd_read(c, i, 1);                                 \
        uint64_t r = (expr) & size_mask(sz);                             \
        if (writes)                                                      \
            opnd_write(c, i, 0, r);                                      \
        flags_set(c, lfop, sz, r, a, b);                                 \
    }

BINOP(add, LF_ADD, a + b, 1)
BINOP(sub, LF_SUB, a - b, 1)
BINOP(cmp, LF_SUB, a - b, 0)
BINOP(and, LF_LOGIC, a & b, 1)
BINOP(or,  LF_LOGIC, a | b, 1)
BINOP(xor, LF_LOGIC, a ^ b, 1)
BINOP(test, LF_LOGIC, a & b, 0)

/* ADC/SBB read CF before anything else; cpu/flags.c explains why the record needs no CF(in). */
void h_adc(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t cf = flags_cf(c);
    uint64_t a = opnd_read(c, i, 0);
    uint64_t b = opnd_read(c, i, 1);
    uint64_t r = (a + b + cf) & size_mask(sz);
    opnd_write(c, i, 0, r);
    flags_set(c, LF_ADC, sz, r, a, b);
}

void h_sbb(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t cf = flags_cf(c);
    uint64_t a = opnd_read(c, i, 0);
    uint64_t b = opnd_read(c, i, 1);
    uint64_t r = (a - b - cf) & size_mask(sz);
    opnd_write(c, i, 0, r);
    flags_set(c, LF_SBB, sz, r, a, b);
}

/* INC/DEC leave CF unchanged (SDM INC, DEC): the old CF rides in lf.src2 bit 0. */
void h_inc(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t cf = flags_cf(c);
    uint64_t a = opnd_read(c, i, 0);
    uint64_t r = (a + 1) & size_mask(sz);
    opnd_write(c, i, 0, r);
    flags_set(c, LF_INC, sz, r, a, cf);
}

void h_dec(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t cf = flags_cf(c);
    uint64_t a = opnd_read(c, i, 0);
    uint64_t r = (a - 1) & size_mask(sz);
    opnd_write(c, i, 0, r);
    flags_set(c, LF_DEC, sz, r, a, cf);
}

/* NEG: flags of 0 - x; CF = (x != 0) follows from the borrow formula (SDM NEG). */
void h_neg(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t a = opnd_read(c, i, 0);
    uint64_t r = (0 - a) & size_mask(sz);
    opnd_write(c, i, 0, r);
    flags_set(c, LF_SUB, sz, r, 0, a);
}

/* NOT affects no flags (SDM NOT). */
void h_not(struct cpu *c, const struct insn *i)
{
    opnd_write(c, i, 0, ~opnd_read(c, i, 0) & size_mask(i->osize));
}
