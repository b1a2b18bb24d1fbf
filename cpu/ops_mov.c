/* Data movement: MOV (every general-register and memory form), MOVZX, MOVSX, MOVSXD,
 * LEA, NOP, PAUSE, XLAT.  None of these touch RFLAGS.  MOV to and from segment,
 * control and debug registers are cpu/ops_system.c's (h_mov_sreg, h_mov_cr, h_mov_dr).
 */
#include "cpu/handlers.h"
#include "cpu/operand.h"

/* MOV Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ob / rAX,Ov / Ob,AL / Ov,rAX / r,imm (imm64
 * with REX.W B8+r) / Eb,Ib / Ev,Iz.  Immediates arrive sign-extended to 64 bits, the
 * operand accessors truncate to the operand size, and a 32-bit register write
 * zero-extends (SDM Vol. 1 3.4.1.1). */
void h_mov(struct cpu *c, const struct insn *i)
{
    opnd_write(c, i, 0, opnd_read(c, i, 1));
}

/* Source size of 0F B6/BE (byte) and 0F B7/BF (word): bit 0 of the opcode. */
static unsigned ext_src_size(const struct insn *i)
{
    return (i->op & 1) ? 2 : 1;
}

/* MOVZX Gv, Eb/Ew (0F B6, 0F B7). */
void h_movzx(struct cpu *c, const struct insn *i)
{
    opnd_write(c, i, 0, opnd_read_sz(c, i, 1, ext_src_size(i)));
}

/* MOVSX Gv, Eb/Ew (0F BE, 0F BF). */
void h_movsx(struct cpu *c, const struct insn *i)
{
    unsigned ss = ext_src_size(i);
    opnd_write(c, i, 0, (uint64_t)sext(opnd_read_sz(c, i, 1, ss), ss));
}

/* MOVSXD Gv, Ed (63 /r in 64-bit mode).  With REX.W it sign-extends a doubleword;
 * with operand size 32 or 16 the SDM describes a plain move of that size (the
 * source is read at the operand size, so a 16-bit form reads only 2 bytes). */
void h_movsxd(struct cpu *c, const struct insn *i)
{
    if (i->osize == 8)
        opnd_write(c, i, 0, (uint64_t)sext(opnd_read_sz(c, i, 1, 4), 4));
    else
        opnd_write(c, i, 0, opnd_read(c, i, 1));
}

/* LEA Gv, M: the offset only (no segment base, no memory access).  insn_offset() wraps
 * it to the address size; the register write truncates it to the operand size, and
 * an operand size wider than the address size sees it zero-extended (SDM LEA table). */
void h_lea(struct cpu *c, const struct insn *i)
{
    if (i->mod == 3)
        cpu_raise_ud(c);
    opnd_write(c, i, 0, insn_offset(c, i));
}

/* NOP (90, 0F 1F /0 multi-byte, reserved-NOP and prefetch hints, ENDBR64): the
 * memory operand of the long forms is never accessed. */
void h_nop(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i;
}

/* PAUSE (F3 90): a spin-loop hint; its cost is the timing table's. */
void h_pause(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i;
}

/* XLAT/XLATB (D7): AL <- [seg:rBX + ZeroExtend(AL)], rBX at the address size, DS
 * unless overridden (SDM XLAT). */
void h_xlat(struct cpu *c, const struct insn *i)
{
    uint64_t off = (c->gpr[RBX] + (c->gpr[RAX] & 0xff)) & size_mask(i->asize);
    unsigned seg = (i->pfx & PFX_SEGOVR) ? i->seg : SEG_DS;
    uint64_t v = mem_read(c, seg_ea(c, seg, off, 1, ACC_READ), 1);
    gpr_write(c, RAX, 1, v, false);
}
