/* Near control transfers: JMP, CALL, RET, Jcc, LOOP/LOOPE/LOOPNE, JrCXZ.  Far forms
 * (JMP/CALL ptr16:x and m16:x, RETF, IRET) are cpu/ops_system.c's.
 *
 * Every handler computes the target, checks it, and only then changes RIP, RSP or
 * RCX: a faulting branch (#GP(0) for a non-canonical target in 64-bit mode or a
 * target beyond the CS limit elsewhere) leaves the state as before the instruction,
 * with RIP at the branch itself (cpu_raise restores c->insn_rip).
 *
 * Operand size: the decoder's (i->osize).  In 64-bit mode that is 64 bits, or 16
 * with 66h on models with QUIRK_NEAR_BRANCH_O16 (cpu/decode.c): the target is then
 * truncated to 16 bits and CALL/RET move 2 bytes.
 */
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

static inline bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Truncate a target to the operand size and check it (SDM JMP/CALL/RET/Jcc): #GP(0)
 * if non-canonical in 64-bit mode, or beyond the CS limit in the other modes. */
static uint64_t near_target(struct cpu *c, uint64_t t, unsigned size)
{
    t &= size_mask(size);
    if (c->mode == MODE_LONG64) {
        if (unlikely(!is_canonical(t)))
            cpu_raise_gp0(c);
    } else if (unlikely(t > c->seg[SEG_CS].limit)) {
        cpu_raise_gp0(c);
    }
    return t;
}

/* Target of JMP/CALL: rel8/rel16/rel32 relative to the next instruction, or an
 * absolute offset from a register or memory (read at the branch operand size). */
static uint64_t branch_dest(struct cpu *c, const struct insn *i, unsigned size)
{
    if (i->opnd[0] == OPK_REL)
        return c->rip + i->imm;
    return opnd_read_sz(c, i, 0, size);
}

void h_jmp(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osize;
    c->rip = near_target(c, branch_dest(c, i, size), size);
}

/* CALL rel / CALL r/m: the target is read (CALL [rsp] sees the old rSP) and checked
 * before the return address is pushed; the push can still fault (#SS, #PF) and
 * leaves rSP alone when it does (stack_push commits last). */
void h_call(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osize;
    uint64_t t = near_target(c, branch_dest(c, i, size), size);
    stack_push(c, c->rip, size);
    c->rip = t;
}

/* RET / RET imm16: pop the return address, then release imm16 more bytes (SDM RET:
 * "RSP <- RSP + SRC" at the stack-address size).  The address is checked before rSP
 * moves. */
void h_ret(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osize;
    uint64_t t = near_target(c, stack_peek(c, 0, size), size);
    uint64_t extra = i->opnd[0] == OPK_IMM ? (i->imm & 0xffff) : 0;
    stack_adjust(c, (int64_t)(size + extra));
    c->rip = t;
}

void h_jcc(struct cpu *c, const struct insn *i)
{
    if (flags_cond(c, i->cond)) {
        unsigned size = i->osize;
        c->rip = near_target(c, c->rip + i->imm, size);
    }
}

/* LOOP/LOOPE/LOOPNE share this: the count register is RCX, ECX or CX by the address
 * size (SDM LOOPcc); a 32-bit count write zero-extends RCX like any 32-bit register
 * write.  The target is checked before the count is written back. */
static void loop_common(struct cpu *c, const struct insn *i, int zf_needed)
{
    unsigned asz = i->asize;
    uint64_t cnt = (c->gpr[RCX] - 1) & size_mask(asz);
    bool take = cnt != 0;
    if (take && zf_needed >= 0)
        take = flags_zf(c) == (zf_needed != 0);
    uint64_t t = 0;
    if (take) {
        unsigned size = i->osize;
        t = near_target(c, c->rip + i->imm, size);
    }
    gpr_write(c, RCX, asz, cnt, false);
    if (take)
        c->rip = t;
}

void h_loop(struct cpu *c, const struct insn *i)   { loop_common(c, i, -1); }
void h_loope(struct cpu *c, const struct insn *i)  { loop_common(c, i, 1); }
void h_loopne(struct cpu *c, const struct insn *i) { loop_common(c, i, 0); }

/* JCXZ/JECXZ/JRCXZ: the register tested is chosen by the address size. */
void h_jrcxz(struct cpu *c, const struct insn *i)
{
    if ((c->gpr[RCX] & size_mask(i->asize)) == 0) {
        unsigned size = i->osize;
        c->rip = near_target(c, c->rip + i->imm, size);
    }
}
