/* Operand access for handlers: registers by size, effective addresses and the
 * generic operand readers/writers driven by insn.opnd[] (cpu/insn.h).
 */
#ifndef HVEMU_CPU_OPERAND_H
#define HVEMU_CPU_OPERAND_H

#include <stdint.h>
#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "cpu/mem.h"
#include "cpu/exception.h"

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Sign-extend the low size bytes of v. */
static inline int64_t sext(uint64_t v, unsigned size)
{
    switch (size) {
    case 1: return (int8_t)v;
    case 2: return (int16_t)v;
    case 4: return (int32_t)v;
    default: return (int64_t)v;
    }
}

/* Register r (0..15) at size bytes.  Without REX, byte registers 4..7 are AH, CH, DH, BH. */
static inline uint64_t gpr_read(const struct cpu *c, unsigned r, unsigned size, bool rex)
{
    if (size == 1 && !rex && r >= 4 && r < 8)
        return (c->gpr[r - 4] >> 8) & 0xff;
    return c->gpr[r] & size_mask(size);
}

/* Writes of 4 bytes zero-extend to 64 bits; 1- and 2-byte writes merge (SDM Vol. 1 3.4.1.1). */
static inline void gpr_write(struct cpu *c, unsigned r, unsigned size, uint64_t v, bool rex)
{
    switch (size) {
    case 1:
        if (!rex && r >= 4 && r < 8)
            c->gpr[r - 4] = (c->gpr[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
        else
            c->gpr[r] = (c->gpr[r] & ~0xffull) | (v & 0xff);
        break;
    case 2: c->gpr[r] = (c->gpr[r] & ~0xffffull) | (v & 0xffff); break;
    case 4: c->gpr[r] = (uint32_t)v; break;
    default: c->gpr[r] = v; break;
    }
}

/* The effective address (segment offset) of the memory operand, wrapped to the address size. */
static inline uint64_t insn_offset(const struct cpu *c, const struct insn *i)
{
    uint64_t off = (uint64_t)(int64_t)i->disp;
    if (i->base == EA_RIP)
        off += c->rip;
    else if (i->base != EA_NONE)
        off += c->gpr[i->base];
    if (i->index != EA_NONE)
        off += c->gpr[i->index] << i->scale;
    return off & size_mask(i->asize);
}

/* Linear address of the memory operand for an access of size bytes. */
static inline uint64_t insn_ea(struct cpu *c, const struct insn *i, unsigned size, enum mmu_access acc)
{
    uint64_t off = insn_offset(c, i);
    if (likely(c->mode == MODE_LONG64)) {
        uint64_t la = off + (i->seg >= SEG_FS && i->seg < SEG_COUNT ? c->seg[i->seg].base : 0);
        if (likely((uint64_t)((int64_t)(la << 16) >> 16) == la))
            return la;
    }
    return seg_linear(c, i->seg, off, size, acc);
}

/* The operand kinds the fast path below does not cover (memory, moffs, AH..BH, CL,
 * DX, ...): cpu/operand.c. */
uint64_t opnd_read_generic(struct cpu *c, const struct insn *i, unsigned n, unsigned size);
void opnd_write_generic(struct cpu *c, const struct insn *i, unsigned n, unsigned size, uint64_t v);

/* Read operand n (0..2) at size bytes.  Plain registers and immediates (insn.oreg,
 * filled by the decoder) take two compares; everything else goes out of line. */
static inline uint64_t opnd_read_sz(struct cpu *c, const struct insn *i, unsigned n, unsigned size)
{
    unsigned r = i->oreg[n];
    if (likely(r - 1u < 16u))
        return c->gpr[r - 1] & size_mask(size);
    if (r == OREG_IMM)
        return i->imm & size_mask(size);
    return opnd_read_generic(c, i, n, size);
}

static inline void opnd_write_sz(struct cpu *c, const struct insn *i, unsigned n, unsigned size, uint64_t v)
{
    unsigned r = i->oreg[n];
    if (likely(r - 1u < 16u)) {
        gpr_write(c, r - 1, size, v, true);
        return;
    }
    opnd_write_generic(c, i, n, size, v);
}

static inline uint64_t opnd_read(struct cpu *c, const struct insn *i, unsigned n)
{
    return opnd_read_sz(c, i, n, i->osize);
}

static inline void opnd_write(struct cpu *c, const struct insn *i, unsigned n, uint64_t v)
{
    opnd_write_sz(c, i, n, i->osize, v);
}

/* Linear address of offset off (already wrapped to the address size) in segment seg,
 * for implicit operands (stack, string, XLAT): insn_ea's 64-bit fast path, else
 * seg_linear() with its limit and canonical checks. */
static inline uint64_t seg_ea(struct cpu *c, unsigned seg, uint64_t off, unsigned size, enum mmu_access acc)
{
    if (likely(c->mode == MODE_LONG64)) {
        uint64_t la = off + (seg == SEG_FS || seg == SEG_GS ? c->seg[seg].base : 0);
        if (likely((uint64_t)((int64_t)(la << 16) >> 16) == la))
            return la;
    }
    return seg_linear(c, seg, off, size, acc);
}

/* Stack helpers (cpu/ops_stack.c): push/pop at the stack-address size of the mode. */
void stack_push(struct cpu *c, uint64_t v, unsigned size);
uint64_t stack_pop(struct cpu *c, unsigned size);
/* Stack-address size in bytes: 8 in 64-bit mode, else SS.B ? 4 : 2 (SDM Vol. 1 6.2.3). */
unsigned stack_addr_size(const struct cpu *c);
/* Read size bytes at SS:[rSP + offset] without changing rSP (for instructions that
 * must check everything before they commit: RET, POP m, LEAVE, far returns). */
uint64_t stack_peek(struct cpu *c, uint64_t offset, unsigned size);
/* rSP += delta at the stack-address size (a 16-bit SP keeps the upper bits of RSP). */
void stack_adjust(struct cpu *c, int64_t delta);

#endif
