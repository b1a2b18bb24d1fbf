/* Bit instructions: BT BTS BTR BTC, BSF BSR, TZCNT LZCNT POPCNT, BSWAP (SDM Vol. 2).
 *
 * Flags (all eager, cpu/flags.c):
 *   BT*:    CF = the selected bit; ZF unchanged; OF, SF, AF, PF undefined -> unchanged.
 *   BSF/BSR: ZF = (source == 0); CF, OF, SF, AF, PF undefined -> unchanged.  With a
 *           zero source the destination is left unchanged (what Intel and AMD
 *           hardware do; AMD documents it).
 *   TZCNT/LZCNT: CF = (source == 0), ZF = (result == 0); OF, SF, AF, PF undefined -> 0.
 *   POPCNT: ZF = (source == 0), CF OF SF AF PF = 0 (all defined).
 *   BSWAP:  no flags; with a 16-bit operand the result is undefined: we produce 0, as
 *           Intel hardware does.
 */
#include "cpu/handlers.h"
#include "cpu/flags.h"
#include "cpu/operand.h"

static void set_cf_only(struct cpu *c, bool cf)
{
    flags_materialise(c);
    flags_put_arith(c, (c->rflags & FL_ARITH & ~(uint64_t)FL_CF) | (cf ? FL_CF : 0));
}

/* Linear address of the memory operand displaced by 'delta' bytes (BT* with a
 * register bit offset can address beyond the operand: SDM BT, "Bit(BitBase,
 * BitOffset)" for memory bases).  The offset wraps at the address size. */
static uint64_t ea_displaced(struct cpu *c, const struct insn *i, int64_t delta, unsigned size,
                             enum mmu_access acc)
{
    uint64_t off = (insn_offset(c, i) + (uint64_t)delta) & size_mask(i->asize);
    return seg_ea(c, i->seg, off, size, acc);
}

/* op: 0 = BT, 1 = BTS, 2 = BTR, 3 = BTC */
static void bt_common(struct cpu *c, const struct insn *i, int op)
{
    unsigned sz = i->osize, bits = sz * 8;
    uint64_t off = opnd_read(c, i, 1);
    bool mem = i->opnd[0] == OPK_MEM || (i->opnd[0] == OPK_RM && i->mod != 3);
    uint64_t v, r;
    unsigned bit;
    if (mem && i->opnd[1] != OPK_IMM) {
        /* Register offset into a memory bit string: signed, the operand-size-wide
         * word holding the bit is at EA + (offset DIV bits) * size (floor division). */
        int64_t so = sext(off, sz);
        int64_t word = so >> (sz == 8 ? 6 : sz == 4 ? 5 : 4);
        bit = (unsigned)(so & (bits - 1));
        uint64_t la = ea_displaced(c, i, word * (int64_t)sz, sz, op ? ACC_WRITE : ACC_READ);
        v = mem_read(c, la, sz);
        r = op == 1 ? v | (1ull << bit) : op == 2 ? v & ~(1ull << bit) : v ^ (1ull << bit);
        if (op)
            mem_write(c, la, r, sz);
    } else {
        /* Register bit base, or an immediate offset: taken modulo the operand size. */
        bit = (unsigned)(off & (bits - 1));
        v = opnd_read(c, i, 0);
        r = op == 1 ? v | (1ull << bit) : op == 2 ? v & ~(1ull << bit) : v ^ (1ull << bit);
        if (op)
            opnd_write(c, i, 0, r);
    }
    set_cf_only(c, (v >> bit) & 1);
}

void h_bt(struct cpu *c, const struct insn *i)  { bt_common(c, i, 0); }
void h_bts(struct cpu *c, const struct insn *i) { bt_common(c, i, 1); }
void h_btr(struct cpu *c, const struct insn *i) { bt_common(c, i, 2); }
void h_btc(struct cpu *c, const struct insn *i) { bt_common(c, i, 3); }

static void set_zf_only(struct cpu *c, bool zf)
{
    flags_materialise(c);
    flags_put_arith(c, (c->rflags & FL_ARITH & ~(uint64_t)FL_ZF) | (zf ? FL_ZF : 0));
}

void h_bsf(struct cpu *c, const struct insn *i)
{
    uint64_t s = opnd_read(c, i, 1);
    if (s)
        opnd_write(c, i, 0, (uint64_t)__builtin_ctzll(s));
    set_zf_only(c, s == 0);
}

void h_bsr(struct cpu *c, const struct insn *i)
{
    uint64_t s = opnd_read(c, i, 1);
    if (s)
        opnd_write(c, i, 0, (uint64_t)(63 - __builtin_clzll(s)));
    set_zf_only(c, s == 0);
}

void h_tzcnt(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t s = opnd_read(c, i, 1);
    uint64_t r = s ? (uint64_t)__builtin_ctzll(s) : sz * 8;
    opnd_write(c, i, 0, r);
    flags_put_arith(c, (s == 0 ? FL_CF : 0) | (r == 0 ? FL_ZF : 0));
}

void h_lzcnt(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t s = opnd_read(c, i, 1);
    uint64_t r = s ? (uint64_t)(__builtin_clzll(s) - (64 - (int)sz * 8)) : sz * 8;
    opnd_write(c, i, 0, r);
    flags_put_arith(c, (s == 0 ? FL_CF : 0) | (r == 0 ? FL_ZF : 0));
}

void h_popcnt(struct cpu *c, const struct insn *i)
{
    uint64_t s = opnd_read(c, i, 1);
    opnd_write(c, i, 0, (uint64_t)__builtin_popcountll(s));
    flags_put_arith(c, s == 0 ? FL_ZF : 0);
}

void h_bswap(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t v = opnd_read(c, i, 0);
    uint64_t r = sz == 8 ? __builtin_bswap64(v) : sz == 4 ? __builtin_bswap32((uint32_t)v) : 0;
    opnd_write(c, i, 0, r);
}
