/* Lazy arithmetic flags (STYLE.md lesson 10; cpu/flags.h).
 *
 * One scheme: the last flag-setting operation is recorded as {op, size, res, src1,
 * src2}; each flag is derived from that record when read.  Instructions whose flag
 * rules do not fit a record (rotates, BT*, BSF/BSR, TZCNT/LZCNT/POPCNT, SHLD/SHRD,
 * flag instructions) materialise the flags and write the arithmetic bits eagerly
 * with flags_put_arith(); lf.op is then LF_NONE and c->rflags is authoritative.
 *
 * Carry and overflow come from the carry-out vector of the top bit (Bochs style):
 *   add: carry = (a & b) | ((a | b) & ~r)      sub: borrow = (~a & b) | ((~a | b) & r)
 *   add: OF = (a ^ r) & (b ^ r)                 sub: OF = (a ^ b) & (a ^ r)
 * Both formulas are independent of the carry-in, so ADC and SBB need no record of
 * CF(in): for ADC the top-bit carry is majority(a, b, a^b^r), which the add formula
 * computes exactly whatever the carry into bit 0 was (likewise for SBB).
 * AF is bit 4 of a ^ b ^ r for every add/sub (the carry into bit 4).
 *
 * Undefined flags (SDM Vol. 2 instruction pages), and what this file produces:
 *   LF_LOGIC   AF undefined -> 0 (what Intel hosts produce).
 *   LF_SHL/SHR/SAR (count != 0): AF undefined -> 0; OF undefined for count > 1 ->
 *              computed with the count-1 formula; SHL/SHR CF undefined when
 *              count >= operand bits (8/16-bit forms) -> the bit that the
 *              count-1 formula selects (0 once it is past the operand).
 *   LF_MUL     SF, ZF, AF, PF undefined -> SF/ZF/PF from the low half of the
 *              result, AF = 0.
 */
#include "cpu/flags.h"
#include "mmu/mmu.h"

static inline unsigned nbits(unsigned size) { return size * 8; }

static inline uint64_t szmask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Top bit of v at the given operand size. */
static inline bool msb(uint64_t v, unsigned size) { return (v >> (nbits(size) - 1)) & 1; }

/* PF: set if the low byte of the result has an even number of 1 bits (SDM Vol. 1 3.4.3.1). */
static inline bool parity8(uint64_t v) { return !__builtin_parity((unsigned)(v & 0xff)); }

static bool lf_cf(const struct lazy_flags *f)
{
    uint64_t a = f->src1, b = f->src2, r = f->res;
    unsigned n = nbits(f->size);
    switch (f->op) {
    case LF_ADD: case LF_ADC:
        return msb((a & b) | ((a | b) & ~r), f->size);
    case LF_SUB: case LF_SBB:
        return msb((~a & b) | ((~a | b) & r), f->size);
    case LF_LOGIC:
        return false;
    case LF_INC: case LF_DEC:
        return b & 1;
    case LF_SHL:    /* last bit shifted out: bit (n - count) of the original */
        return b <= n ? (a >> (n - b)) & 1 : 0;
    case LF_SHR:    /* bit (count - 1) of the (zero-extended) original */
        return b - 1 < 64 ? (a >> (b - 1)) & 1 : 0;
    case LF_SAR: {
        int64_t s = (int64_t)(a << (64 - n)) >> (64 - n);
        return (s >> (b - 1 < 63 ? b - 1 : 63)) & 1;
    }
    case LF_MUL:
        return b != 0;
    default:
        return false;
    }
}

static bool lf_of(const struct lazy_flags *f)
{
    uint64_t a = f->src1, b = f->src2, r = f->res;
    switch (f->op) {
    case LF_ADD: case LF_ADC:
        return msb((a ^ r) & (b ^ r), f->size);
    case LF_SUB: case LF_SBB:
        return msb((a ^ b) & (a ^ r), f->size);
    case LF_INC:    /* overflow only when the result wrapped to the minimum signed value */
        return (r & szmask(f->size)) == (1ull << (nbits(f->size) - 1));
    case LF_DEC:
        return (r & szmask(f->size)) == (1ull << (nbits(f->size) - 1)) - 1;
    case LF_SHL:    /* SDM SAL/SAR/SHL/SHR: OF = MSB(result) XOR CF for 1-bit shifts */
        return msb(r, f->size) ^ lf_cf(f);
    case LF_SHR:    /* OF = MSB(original operand) for 1-bit shifts */
        return msb(a, f->size);
    case LF_SAR:
        return false;
    case LF_MUL:
        return b != 0;
    default:
        return false;
    }
}

static bool lf_af(const struct lazy_flags *f)
{
    switch (f->op) {
    case LF_ADD: case LF_ADC: case LF_SUB: case LF_SBB:
        return ((f->src1 ^ f->src2 ^ f->res) >> 4) & 1;
    case LF_INC: case LF_DEC:   /* src2 holds the old CF, not the addend: the addend is 1 */
        return ((f->src1 ^ 1 ^ f->res) >> 4) & 1;
    default:
        return false;
    }
}

static inline bool lf_zf(const struct lazy_flags *f) { return (f->res & szmask(f->size)) == 0; }
static inline bool lf_sf(const struct lazy_flags *f) { return msb(f->res, f->size); }
static inline bool lf_pf(const struct lazy_flags *f) { return parity8(f->res); }

static uint64_t lf_arith(const struct lazy_flags *f)
{
    uint64_t v = 0;
    if (lf_cf(f)) v |= FL_CF;
    if (lf_pf(f)) v |= FL_PF;
    if (lf_af(f)) v |= FL_AF;
    if (lf_zf(f)) v |= FL_ZF;
    if (lf_sf(f)) v |= FL_SF;
    if (lf_of(f)) v |= FL_OF;
    return v;
}

uint64_t flags_get(const struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return c->rflags | FL_FIXED1;
    return (c->rflags & ~(uint64_t)FL_ARITH) | lf_arith(&c->lf) | FL_FIXED1;
}

void flags_materialise(struct cpu *c)
{
    if (c->lf.op == LF_NONE)
        return;
    c->rflags = (c->rflags & ~(uint64_t)FL_ARITH) | lf_arith(&c->lf) | FL_FIXED1;
    c->lf.op = LF_NONE;
}

void flags_write(struct cpu *c, uint64_t val, uint64_t mask)
{
    flags_materialise(c);
    uint64_t old = c->rflags;
    c->rflags = ((old & ~mask) | (val & mask)) | FL_FIXED1;
    /* The fast cache keeps a separate context for supervisor accesses with AC=1
     * under SMAP (SDM Vol. 3A 4.6.1), so the mmu must hear about every AC change. */
    if (((old ^ c->rflags) & FL_AC) && c->mmu)
        mmu_set_cpl_ac(c->mmu, c->cpl, (c->rflags & FL_AC) != 0);
    /* TF or RF set (POPF, IRET, SYSRET): the next instructions are checked one by
     * one (cpu/debug_arch.h); the block ends here.  Clearing waits for the checked
     * path, which recomputes the condition after each instruction. */
    if ((c->rflags & (FL_TF | FL_RF)) && !c->per_insn) {
        c->per_insn = 1;
        c->attention |= ATTN_BLOCK_END;
    }
}

void flags_put_arith(struct cpu *c, uint64_t arith)
{
    c->rflags = (c->rflags & ~(uint64_t)FL_ARITH) | (arith & FL_ARITH) | FL_FIXED1;
    c->lf.op = LF_NONE;
}

uint64_t flags_szp(uint64_t res, unsigned size)
{
    uint64_t v = 0;
    if ((res & szmask(size)) == 0) v |= FL_ZF;
    if (msb(res, size)) v |= FL_SF;
    if (parity8(res)) v |= FL_PF;
    return v;
}

bool flags_cf(const struct cpu *c) { return c->lf.op == LF_NONE ? (c->rflags & FL_CF) != 0 : lf_cf(&c->lf); }
bool flags_zf(const struct cpu *c) { return c->lf.op == LF_NONE ? (c->rflags & FL_ZF) != 0 : lf_zf(&c->lf); }
bool flags_sf(const struct cpu *c) { return c->lf.op == LF_NONE ? (c->rflags & FL_SF) != 0 : lf_sf(&c->lf); }
bool flags_of(const struct cpu *c) { return c->lf.op == LF_NONE ? (c->rflags & FL_OF) != 0 : lf_of(&c->lf); }
bool flags_pf(const struct cpu *c) { return c->lf.op == LF_NONE ? (c->rflags & FL_PF) != 0 : lf_pf(&c->lf); }
bool flags_af(const struct cpu *c) { return c->lf.op == LF_NONE ? (c->rflags & FL_AF) != 0 : lf_af(&c->lf); }

/* SDM Vol. 2 Appendix B.1.4.7, Table B-1: even cc tests the condition, odd cc its negation. */
bool flags_cond(const struct cpu *c, unsigned cc)
{
    const struct lazy_flags *f = &c->lf;
    if (f->op == LF_SUB) {
        /* CMP/SUB followed by Jcc/SETcc/CMOVcc is the common pair: compare the
         * (zero-extended) operands directly instead of deriving CF/ZF/SF/OF. */
        uint64_t a = f->src1, b = f->src2;
        unsigned sh = 64 - nbits(f->size);
        int64_t sa = (int64_t)(a << sh) >> sh, sb = (int64_t)(b << sh) >> sh;
        switch ((cc >> 1) & 7) {
        case 1: return (a < b) ^ (cc & 1);      /* B: borrow */
        case 2: return (a == b) ^ (cc & 1);     /* E */
        case 3: return (a <= b) ^ (cc & 1);     /* BE */
        case 6: return (sa < sb) ^ (cc & 1);    /* L: SF != OF */
        case 7: return (sa <= sb) ^ (cc & 1);   /* LE */
        default: break;                         /* O, S, P: from the record */
        }
    }
    bool r;
    switch ((cc >> 1) & 7) {
    case 0: r = flags_of(c); break;                             /* O */
    case 1: r = flags_cf(c); break;                             /* B/C/NAE */
    case 2: r = flags_zf(c); break;                             /* E/Z */
    case 3: r = flags_cf(c) || flags_zf(c); break;              /* BE/NA */
    case 4: r = flags_sf(c); break;                             /* S */
    case 5: r = flags_pf(c); break;                             /* P/PE */
    case 6: r = flags_sf(c) != flags_of(c); break;              /* L/NGE */
    default: r = flags_zf(c) || (flags_sf(c) != flags_of(c)); break; /* LE/NG */
    }
    return r ^ (cc & 1);
}
