/* Flag instructions, SETcc, CMOVcc and the sign extensions of rAX (SDM Vol. 2):
 * CLC STC CMC CLD STD LAHF SAHF SETcc CMOVcc CBW/CWDE/CDQE CWD/CDQ/CQO.
 * None of them has undefined flags.
 */
#include "cpu/handlers.h"
#include "cpu/flags.h"
#include "cpu/operand.h"

static void set_cf(struct cpu *c, bool cf)
{
    flags_materialise(c);
    flags_put_arith(c, (c->rflags & FL_ARITH & ~(uint64_t)FL_CF) | (cf ? FL_CF : 0));
}

void h_clc(struct cpu *c, const struct insn *i) { set_cf(c, false); }
void h_stc(struct cpu *c, const struct insn *i) { set_cf(c, true); }
void h_cmc(struct cpu *c, const struct insn *i) { set_cf(c, !flags_cf(c)); }
/* DF is not an arithmetic flag: c->rflags always holds it. */
void h_cld(struct cpu *c, const struct insn *i) { c->rflags &= ~(uint64_t)FL_DF; }
void h_std(struct cpu *c, const struct insn *i) { c->rflags |= FL_DF; }

/* AH = SF:ZF:0:AF:0:PF:1:CF (SDM LAHF).  Valid in 64-bit mode when CPUID
 * 80000001H:ECX.LAHF-SAHF = 1, which the decoder decides. */
void h_lahf(struct cpu *c, const struct insn *i)
{
    uint64_t f = flags_get(c) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF);
    gpr_write(c, RSP /* AH without REX */, 1, f | FL_FIXED1, false);
}

/* SF, ZF, AF, PF, CF = AH bits 7, 6, 4, 2, 0; OF unchanged (SDM SAHF). */
void h_sahf(struct cpu *c, const struct insn *i)
{
    uint64_t ah = (c->gpr[RAX] >> 8) & 0xff;
    flags_materialise(c);
    uint64_t m = FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF;
    flags_put_arith(c, (c->rflags & FL_ARITH & ~m) | (ah & m));
}

void h_setcc(struct cpu *c, const struct insn *i)
{
    opnd_write_sz(c, i, 0, 1, flags_cond(c, i->cond));
}

/* The source is read whatever the condition (a memory source may fault even when
 * the move does not happen); with a 32-bit operand the destination is written
 * (zero-extended) even when the condition is false (SDM CMOVcc, 64-bit mode). */
void h_cmovcc(struct cpu *c, const struct insn *i)
{
    uint64_t s = opnd_read(c, i, 1);
    if (flags_cond(c, i->cond))
        opnd_write(c, i, 0, s);
    else if (i->osize == 4)
        opnd_write(c, i, 0, opnd_read(c, i, 0));
}

/* CBW (osize 2): AX = sext(AL); CWDE (4): EAX = sext(AX); CDQE (8): RAX = sext(EAX). */
void h_cbw(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    gpr_write(c, RAX, sz, (uint64_t)sext(c->gpr[RAX], sz / 2), false);
}

/* CWD (2): DX = sign of AX; CDQ (4): EDX = sign of EAX; CQO (8): RDX = sign of RAX. */
void h_cwd(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    gpr_write(c, RDX, sz, sext(c->gpr[RAX], sz) < 0 ? ~0ull : 0, false);
}
