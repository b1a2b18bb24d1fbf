/* The general operand accessors: every operand kind of struct insn (cpu/insn.h).
 * The inline fast path in cpu/operand.h handles plain registers and immediates and
 * calls these for the rest (memory, moffs, AH..BH, CL, DX, ...). */
#include "cpu/operand.h"

/* Read operand n (0..2) at size bytes. */
uint64_t opnd_read_generic(struct cpu *c, const struct insn *i, unsigned n, unsigned size)
{
    bool rex = i->pfx & PFX_REX;
    switch (i->opnd[n]) {
    case OPK_REG:   return gpr_read(c, i->reg, size, rex);
    case OPK_RM:
        if (i->mod == 3)
            return gpr_read(c, i->rm, size, rex);
        /* fall through */
    case OPK_MEM:   return mem_read(c, insn_ea(c, i, size, ACC_READ), size);
    case OPK_IMM:   return i->imm & size_mask(size);
    case OPK_ACC:   return gpr_read(c, RAX, size, rex);
    case OPK_OPREG: return gpr_read(c, i->rm, size, rex);
    case OPK_ONE:   return 1;
    case OPK_CL:    return c->gpr[RCX] & 0xff;
    case OPK_DX:    return c->gpr[RDX] & 0xffff;
    case OPK_MOFFS: {
        uint64_t off = i->imm & size_mask(i->asize);
        return mem_read(c, seg_linear(c, i->seg, off, size, ACC_READ), size);
    }
    default:        cpu_raise_ud(c);
    }
}

void opnd_write_generic(struct cpu *c, const struct insn *i, unsigned n, unsigned size, uint64_t v)
{
    bool rex = i->pfx & PFX_REX;
    switch (i->opnd[n]) {
    case OPK_REG:   gpr_write(c, i->reg, size, v, rex); return;
    case OPK_RM:
        if (i->mod == 3) {
            gpr_write(c, i->rm, size, v, rex);
            return;
        }
        /* fall through */
    case OPK_MEM:   mem_write(c, insn_ea(c, i, size, ACC_WRITE), v, size); return;
    case OPK_ACC:   gpr_write(c, RAX, size, v, rex); return;
    case OPK_OPREG: gpr_write(c, i->rm, size, v, rex); return;
    case OPK_MOFFS: {
        uint64_t off = i->imm & size_mask(i->asize);
        mem_write(c, seg_linear(c, i->seg, off, size, ACC_WRITE), v, size);
        return;
    }
    default:        cpu_raise_ud(c);
    }
}

