/* Stack instructions: PUSH, POP, PUSHF, POPF, ENTER, LEAVE, and the stack helpers
 * every other family uses (cpu/operand.h).
 *
 * Fault rule: an instruction that faults leaves RSP (and RBP) as they were, so every
 * handler does its memory accesses first and writes the registers last.
 */
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

/* SDM Vol. 1 6.2.3: the stack-address size is 64 in 64-bit mode, else SS.B selects
 * ESP (32) or SP (16). */
unsigned stack_addr_size(const struct cpu *c)
{
    if (c->mode == MODE_LONG64)
        return 8;
    return (c->seg[SEG_SS].attr & SEG_ATTR_DB) ? 4 : 2;
}

/* Write rSP at the stack-address size: SP keeps RSP[63:16], ESP zero-extends. */
static void set_rsp(struct cpu *c, unsigned asz, uint64_t v)
{
    gpr_write(c, RSP, asz, v, false);
}

static inline uint64_t stack_la(struct cpu *c, uint64_t off, unsigned size, enum mmu_access acc)
{
    return seg_ea(c, SEG_SS, off, size, acc);
}

void stack_push(struct cpu *c, uint64_t v, unsigned size)
{
    unsigned asz = stack_addr_size(c);
    uint64_t rsp = (c->gpr[RSP] - size) & size_mask(asz);
    mem_write(c, stack_la(c, rsp, size, ACC_WRITE), v, size);
    set_rsp(c, asz, rsp);
}

uint64_t stack_pop(struct cpu *c, unsigned size)
{
    unsigned asz = stack_addr_size(c);
    uint64_t rsp = c->gpr[RSP] & size_mask(asz);
    uint64_t v = mem_read(c, stack_la(c, rsp, size, ACC_READ), size);
    set_rsp(c, asz, rsp + size);
    return v;
}

uint64_t stack_peek(struct cpu *c, uint64_t offset, unsigned size)
{
    unsigned asz = stack_addr_size(c);
    uint64_t off = (c->gpr[RSP] + offset) & size_mask(asz);
    return mem_read(c, stack_la(c, off, size, ACC_READ), size);
}

void stack_adjust(struct cpu *c, int64_t delta)
{
    unsigned asz = stack_addr_size(c);
    set_rsp(c, asz, c->gpr[RSP] + (uint64_t)delta);
}

/* PUSH r/m, PUSH r, PUSH imm (imm already sign-extended by the decoder).  The value
 * is read before rSP moves, so PUSH RSP pushes the old value (SDM PUSH). */
void h_push(struct cpu *c, const struct insn *i)
{
    uint64_t v = opnd_read(c, i, 0);
    stack_push(c, v, i->osize);
}

/* POP r/m, POP r.  SDM POP: "If the destination operand uses rSP as a base register,
 * rSP is incremented before the effective address is computed"; POP rSP loads rSP
 * with the popped value.  The write to memory happens before rSP changes so a fault
 * leaves rSP intact. */
void h_pop(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osize;
    unsigned asz = stack_addr_size(c);
    uint64_t v = stack_peek(c, 0, size);
    uint64_t new_rsp = (c->gpr[RSP] + size) & size_mask(asz);

    if (i->opnd[0] == OPK_RM && i->mod != 3) {
        uint64_t old = c->gpr[RSP];
        set_rsp(c, asz, new_rsp);
        uint64_t off = insn_offset(c, i);
        c->gpr[RSP] = old;
        mem_write(c, seg_ea(c, i->seg, off, size, ACC_WRITE), v, size);
        set_rsp(c, asz, new_rsp);
        return;
    }
    set_rsp(c, asz, new_rsp);
    opnd_write(c, i, 0, v);
}

/* PUSHF/PUSHFD/PUSHFQ: SDM PUSHF: VM and RF are cleared in the pushed image.  In
 * virtual-8086 mode with IOPL < 3 it faults (#GP(0)); the CR4.VME variant, which
 * would push VIF in place of IF, is not modelled. */
void h_pushf(struct cpu *c, const struct insn *i)
{
    uint64_t fl = flags_get(c);
    if ((fl & FL_VM) && ((fl & FL_IOPL) >> 12) < 3)
        cpu_raise_gp0(c);
    stack_push(c, fl & ~(uint64_t)(FL_VM | FL_RF), i->osize);
}

/* Bits POPF may ever change ("non-reserved flags" less RF, VM, VIF, VIP, which 32/64-bit
 * POPF never changes: SDM POPF operation). */
#define POPF_BASE (FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_AC | FL_ID)

/* POPF/POPFD/POPFQ, the privilege table of SDM POPF:
 *   real mode or CPL 0:       everything in POPF_BASE
 *   0 < CPL <= IOPL:          not IOPL
 *   CPL > IOPL:               not IOPL, not IF (silently kept, no fault)
 *   V86, IOPL 3:              not IOPL
 *   V86, IOPL < 3, CR4.VME, 16-bit: IF goes to VIF; #GP if it would set VIF with VIP
 *                             pending, or set TF
 *   V86, IOPL < 3 otherwise:  #GP(0)
 * A 16-bit POPF touches only bits 15:0.  32/64-bit POPF clears RF. */
void h_popf(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osize;
    uint64_t old = flags_get(c);
    unsigned iopl = (unsigned)((old & FL_IOPL) >> 12);
    uint64_t mask = POPF_BASE;
    bool vif_from_if = false;

    if (old & FL_VM) {
        if (iopl == 3) {
            mask &= ~(uint64_t)FL_IOPL;
        } else if ((c->cr4 & CR4_VME) && size == 2) {
            uint64_t v = stack_peek(c, 0, 2);
            if (((v & FL_IF) && (old & FL_VIP)) || (v & FL_TF))
                cpu_raise_gp0(c);
            mask &= ~(uint64_t)(FL_IOPL | FL_IF);
            vif_from_if = true;
        } else {
            cpu_raise_gp0(c);
        }
    } else if ((c->cr0 & CR0_PE) && c->cpl > 0) {
        mask &= ~(uint64_t)FL_IOPL;
        if (c->cpl > iopl)
            mask &= ~(uint64_t)FL_IF;
    }
    if (size == 2)
        mask &= 0xffff;

    uint64_t v = stack_pop(c, size);
    flags_write(c, v, mask);
    if (vif_from_if)
        flags_write(c, (v & FL_IF) ? FL_VIF : 0, FL_VIF);
    if (size != 2)
        c->rflags &= ~(uint64_t)FL_RF;

    uint64_t now = c->rflags;
    /* IF 0 -> 1: a pending interrupt may now be delivered after this instruction. */
    if ((now & FL_IF) && !(old & FL_IF))
        c->attention |= ATTN_INTR;
    /* AC selects the SMAP context of the fast-lookup cache (mmu/mmu.h). */
    if ((now ^ old) & FL_AC)
        mmu_set_cpl_ac(c->mmu, c->cpl, (now & FL_AC) != 0);
}

/* ENTER imm16, imm8 (SDM ENTER).  i->imm = allocation size, i->imm2 = nesting level,
 * taken mod 32.  rBP moves at the stack-address size (BP/EBP/RBP by SS.B or 64-bit
 * mode) in steps of the operand size; the frame pointer is written at the operand
 * size.  All stores happen before RSP and RBP are committed, so a fault leaves them
 * unchanged (the stores that did happen are below rSP and invisible to the program). */
void h_enter(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osize;
    unsigned asz = stack_addr_size(c);
    uint64_t amask = size_mask(asz);
    uint64_t alloc = i->imm & 0xffff;
    unsigned level = i->imm2 & 31;
    uint64_t rsp = c->gpr[RSP];
    uint64_t rbp = c->gpr[RBP];

    /* The final rSP must be writable: Intel processors check one byte at
     * rSP - pushes - AllocSize before anything is stored (measured on the host: a frame
     * ending one byte below a mapped page faults with nothing pushed; pinned by
     * tests/diff/diff_mov_stack.c).  The SDM lists the matching #SS/#PF conditions. */
    uint64_t pushes = (uint64_t)size * (level ? level + 1 : 1);
    uint64_t final_rsp = (rsp - pushes - alloc) & amask;
    mem_probe_write(c, stack_la(c, final_rsp, 1, ACC_WRITE), 1);

    /* Push(rBP) */
    rsp = (rsp - size) & amask;
    mem_write(c, stack_la(c, rsp, size, ACC_WRITE), rbp & size_mask(size), size);
    /* FrameTemp is the whole rSP register (ESP even on a 16-bit stack). */
    uint64_t frame_temp = (c->gpr[RSP] & ~amask) | rsp;

    if (level > 0) {
        for (unsigned k = 1; k < level; k++) {
            rbp = (rbp - size) & amask;
            uint64_t v = mem_read(c, stack_la(c, rbp, size, ACC_READ), size);
            rsp = (rsp - size) & amask;
            mem_write(c, stack_la(c, rsp, size, ACC_WRITE), v, size);
        }
        rsp = (rsp - size) & amask;
        mem_write(c, stack_la(c, rsp, size, ACC_WRITE), frame_temp & size_mask(size), size);
    }
    rsp = (rsp - alloc) & amask;     /* == final_rsp */

    gpr_write(c, RBP, size, frame_temp, false);
    set_rsp(c, asz, rsp);
}

/* LEAVE (SDM LEAVE): rSP <- rBP at the stack-address size, then rBP <- Pop() at the
 * operand size.  The pop is read first so a fault changes nothing. */
void h_leave(struct cpu *c, const struct insn *i)
{
    unsigned size = i->osize;
    unsigned asz = stack_addr_size(c);
    uint64_t amask = size_mask(asz);
    uint64_t rsp = c->gpr[RBP] & amask;
    uint64_t v = mem_read(c, stack_la(c, rsp, size, ACC_READ), size);
    set_rsp(c, asz, rsp + size);
    gpr_write(c, RBP, size, v, false);
}
