/* RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (F3 0F AE /0-/3, register forms; SDM Vol. 2):
 * 64-bit mode only (the rows are o64), #UD unless CR4.FSGSBASE, #GP(0) for a
 * non-canonical base.  They share group 15 with the FXSAVE family, hence this file. */
#include "cpu/fpu.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

static unsigned fsgs_check(struct cpu *c, const struct insn *i)
{
    if (!(i->pfx & PFX_REP) || (i->pfx & (PFX_REPNE | PFX_OPSIZE)) || !(c->cr4 & CR4_FSGSBASE))
        cpu_raise_ud(c);
    return (i->reg & 1) ? SEG_GS : SEG_FS;
}

void h_rdfsbase(struct cpu *c, const struct insn *i)
{
    unsigned s = fsgs_check(c, i);
    opnd_write(c, i, 0, c->seg[s].base);
}

void h_wrfsbase(struct cpu *c, const struct insn *i)
{
    unsigned s = fsgs_check(c, i);
    uint64_t v = opnd_read(c, i, 0);
    if (i->osize == 8 && (uint64_t)((int64_t)(v << 16) >> 16) != v)
        cpu_raise_gp0(c);
    c->seg[s].base = v;
}
