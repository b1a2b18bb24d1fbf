/* Exchange and compare-exchange: XCHG XADD CMPXCHG CMPXCHG8B/16B (SDM Vol. 2).
 * One host thread runs each VP at a time, so LOCK (implicit for XCHG with memory)
 * needs nothing beyond doing the whole read-modify-write inside one handler.
 * Memory is written before any register so that a fault changes nothing.
 */
#include "cpu/handlers.h"
#include "cpu/flags.h"
#include "cpu/operand.h"

static inline bool is_mem(const struct insn *i, unsigned n)
{
    return i->opnd[n] == OPK_MEM || (i->opnd[n] == OPK_RM && i->mod != 3);
}

void h_xchg(struct cpu *c, const struct insn *i)
{
    uint64_t a = opnd_read(c, i, 0);
    uint64_t b = opnd_read(c, i, 1);
    if (is_mem(i, 1)) {
        opnd_write(c, i, 1, a);
        opnd_write(c, i, 0, b);
    } else {
        opnd_write(c, i, 0, b);
        opnd_write(c, i, 1, a);
    }
}

/* TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (SDM XADD): with both operands the
 * same register, the sum wins.  Flags as ADD. */
void h_xadd(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t d = opnd_read(c, i, 0);
    uint64_t s = opnd_read(c, i, 1);
    uint64_t r = (d + s) & size_mask(sz);
    if (is_mem(i, 0)) {
        opnd_write(c, i, 0, r);
        opnd_write(c, i, 1, d);
    } else {
        opnd_write(c, i, 1, d);
        opnd_write(c, i, 0, r);
    }
    flags_set(c, LF_ADD, sz, r, d, s);
}

/* Flags as CMP accumulator, DEST.  Equal: DEST = SRC.  Not equal: accumulator = DEST,
 * and a memory destination is written back with its own value (SDM CMPXCHG: "the
 * destination operand is written back if the comparison fails"); a register
 * destination is left alone, so its upper half survives. */
void h_cmpxchg(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t d = opnd_read(c, i, 0);
    uint64_t s = opnd_read(c, i, 1);
    uint64_t acc = gpr_read(c, RAX, sz, false);
    uint64_t r = (acc - d) & size_mask(sz);
    if (acc == d) {
        opnd_write(c, i, 0, s);
    } else {
        if (is_mem(i, 0))
            opnd_write(c, i, 0, d);
        gpr_write(c, RAX, sz, d, false);
    }
    flags_set(c, LF_SUB, sz, r, acc, d);
}

/* CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): compare EDX:EAX (RDX:RAX) with the memory
 * operand.  Equal: ZF = 1 and memory = ECX:EBX (RCX:RBX).  Not equal: ZF = 0, memory
 * written back unchanged, EDX:EAX = memory.  Only ZF changes.  CMPXCHG16B raises
 * #GP(0) unless the operand is 16-byte aligned (SDM CMPXCHG8B/CMPXCHG16B). */
void h_cmpxchg8b(struct cpu *c, const struct insn *i)
{
    unsigned half = i->osize == 8 ? 8 : 4;
    uint64_t la = insn_ea(c, i, 2 * half, ACC_WRITE);
    if (half == 8 && (la & 15))
        cpu_raise_gp0(c);
    /* Locked read-modify-write: the access is a write from the start. */
    mem_probe_write(c, la, 2 * half);
    uint64_t m[2] = { 0, 0 };
    mem_read_bytes(c, la, m, 2 * half);
    uint64_t lo, hi;
    if (half == 8) {
        lo = m[0];
        hi = m[1];
    } else {
        lo = m[0] & 0xffffffffu;
        hi = m[0] >> 32;
    }
    uint64_t mask = size_mask(half);
    bool eq = lo == (c->gpr[RAX] & mask) && hi == (c->gpr[RDX] & mask);
    if (eq) {
        uint64_t w[2];
        if (half == 8) {
            w[0] = c->gpr[RBX];
            w[1] = c->gpr[RCX];
        } else {
            w[0] = (c->gpr[RBX] & mask) | (c->gpr[RCX] << 32);
            w[1] = 0;
        }
        mem_write_bytes(c, la, w, 2 * half);
    } else {
        mem_write_bytes(c, la, m, 2 * half);
        gpr_write(c, RAX, half, lo, false);
        gpr_write(c, RDX, half, hi, false);
    }
    flags_materialise(c);
    flags_put_arith(c, (c->rflags & FL_ARITH & ~(uint64_t)FL_ZF) | (eq ? FL_ZF : 0));
}
