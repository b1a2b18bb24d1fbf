/* Shifts and rotates: ROL ROR RCL RCR SHL(SAL) SHR SAR SHLD SHRD (SDM Vol. 2).
 * Operand 0 is the destination, operand 1 the count (OPK_ONE, OPK_CL or OPK_IMM);
 * SHLD/SHRD take the source register as operand 1 and the count as operand 2.
 *
 * The count is masked to 5 bits (6 with a 64-bit operand) before anything else.
 * A masked count of 0 changes no flag; the destination is still written back, which
 * for a 32-bit register zero-extends it (as the host CPU does).
 *
 * Undefined flags and what we produce:
 *   SHL/SHR/SAR: see cpu/flags.c (AF = 0, OF by the 1-bit formula).
 *   ROL/ROR/RCL/RCR: only CF and OF are affected; OF is undefined for counts other
 *     than 1 and is produced by the 1-bit formula.
 *   SHLD/SHRD: AF undefined -> 0; OF undefined for counts > 1 -> the 1-bit formula
 *     (sign change); with a 16-bit operand and a count > 16 the result and flags are
 *     undefined: we shift the 48-bit value dest:src:dest, as Bochs does; this matched
 *     the Intel Xeon host in a one-off diff run (result, CF, SF, ZF, PF), but
 *     tests/diff/diff_alu.c leaves those counts out because other CPUs may differ.
 */
#include "cpu/handlers.h"
#include "cpu/flags.h"
#include "cpu/operand.h"

static inline unsigned shift_count(struct cpu *c, const struct insn *i, unsigned n)
{
    return (unsigned)opnd_read_sz(c, i, n, 1) & (i->osize == 8 ? 63 : 31);
}

static inline bool top(uint64_t v, unsigned sz) { return (v >> (sz * 8 - 1)) & 1; }

void h_shl(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t a = opnd_read(c, i, 0);
    unsigned n = shift_count(c, i, 1);
    uint64_t r = (n < 64 ? a << n : 0) & size_mask(sz);
    opnd_write(c, i, 0, r);
    if (n)
        flags_set(c, LF_SHL, sz, r, a, n);
}

void h_shr(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t a = opnd_read(c, i, 0);
    unsigned n = shift_count(c, i, 1);
    uint64_t r = a >> n;
    opnd_write(c, i, 0, r);
    if (n)
        flags_set(c, LF_SHR, sz, r, a, n);
}

void h_sar(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize;
    uint64_t a = opnd_read(c, i, 0);
    unsigned n = shift_count(c, i, 1);
    uint64_t r = (uint64_t)(sext(a, sz) >> n) & size_mask(sz);
    opnd_write(c, i, 0, r);
    if (n)
        flags_set(c, LF_SAR, sz, r, a, n);
}

/* Rotates touch only CF and OF: materialise the rest, then write the two bits. */
static void put_cf_of(struct cpu *c, bool cf, bool of)
{
    flags_materialise(c);
    uint64_t f = c->rflags & (FL_ARITH & ~(uint64_t)(FL_CF | FL_OF));
    flags_put_arith(c, f | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
}

void h_rol(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize, bits = sz * 8;
    uint64_t a = opnd_read(c, i, 0);
    unsigned n = shift_count(c, i, 1);
    unsigned k = n % bits;      /* SDM ROL: tempCOUNT = (COUNT & COUNTMASK) MOD SIZE */
    uint64_t r = k ? ((a << k) | (a >> (bits - k))) & size_mask(sz) : a;
    opnd_write(c, i, 0, r);
    if (n) {                    /* flags change whenever the masked count is nonzero */
        bool cf = r & 1;
        put_cf_of(c, cf, top(r, sz) ^ cf);
    }
}

void h_ror(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize, bits = sz * 8;
    uint64_t a = opnd_read(c, i, 0);
    unsigned n = shift_count(c, i, 1);
    unsigned k = n % bits;
    uint64_t r = k ? ((a >> k) | (a << (bits - k))) & size_mask(sz) : a;
    opnd_write(c, i, 0, r);
    if (n)                      /* CF = MSB(result), OF = MSB XOR MSB-1 of the result */
        put_cf_of(c, top(r, sz), top(r, sz) ^ ((r >> (bits - 2)) & 1));
}

/* RCL/RCR rotate the (bits+1)-bit value CF:dest.  The count is taken mod 9 for bytes
 * and mod 17 for words after masking (SDM RCL/RCR tempCOUNT). */
static unsigned rc_count(unsigned n, unsigned sz)
{
    return sz == 1 ? n % 9 : sz == 2 ? n % 17 : n;
}

void h_rcl(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize, bits = sz * 8, w = bits + 1;
    bool cf = flags_cf(c);
    uint64_t a = opnd_read(c, i, 0);
    unsigned n = shift_count(c, i, 1);
    unsigned k = rc_count(n, sz);
    unsigned __int128 x = ((unsigned __int128)cf << bits) | a;
    unsigned __int128 wm = ((unsigned __int128)1 << w) - 1;
    if (k)
        x = ((x << k) | (x >> (w - k))) & wm;
    uint64_t r = (uint64_t)x & size_mask(sz);
    opnd_write(c, i, 0, r);
    if (n) {
        bool ncf = (x >> bits) & 1;
        put_cf_of(c, ncf, top(r, sz) ^ ncf);
    }
}

void h_rcr(struct cpu *c, const struct insn *i)
{
    unsigned sz = i->osize, bits = sz * 8, w = bits + 1;
    bool cf = flags_cf(c);
    uint64_t a = opnd_read(c, i, 0);
    unsigned n = shift_count(c, i, 1);
    unsigned k = rc_count(n, sz);
    unsigned __int128 x = ((unsigned __int128)cf << bits) | a;
    unsigned __int128 wm = ((unsigned __int128)1 << w) - 1;
    if (k)
        x = ((x >> k) | (x << (w - k))) & wm;
    uint64_t r = (uint64_t)x & size_mask(sz);
    opnd_write(c, i, 0, r);
    if (n) {                    /* OF = MSB(dest) XOR CF, both taken before the rotate */
        bool ncf = (x >> bits) & 1;
        put_cf_of(c, ncf, top(a, sz) ^ cf);
    }
}

/* Double-precision shifts.  'res' bits and the last bit out come from a wide value:
 * 32/64-bit operands use dest:src (2*bits); 16-bit operands use the 48-bit
 * dest:src:dest so that counts 17..31 give the Bochs/Intel-like result. */
static void shd(struct cpu *c, const struct insn *i, bool left)
{
    unsigned sz = i->osize, bits = sz * 8;
    uint64_t d = opnd_read(c, i, 0);
    uint64_t s = opnd_read(c, i, 1);
    unsigned n = shift_count(c, i, 2);
    if (!n) {
        opnd_write(c, i, 0, d);
        return;
    }
    unsigned __int128 x;
    unsigned w;                 /* width of the wide value */
    uint64_t r;
    bool cf;
    if (left) {
        if (sz == 2) {          /* d:s:d, d at the top */
            x = ((unsigned __int128)d << 32) | (s << 16) | d;
            w = 48;
        } else {
            x = ((unsigned __int128)d << bits) | s;
            w = 2 * bits;
        }
        r = (uint64_t)((x << n) >> (w - bits)) & size_mask(sz);
        cf = (x >> (w - n)) & 1;
    } else {
        if (sz == 2) {          /* d:s:d, d at the bottom */
            x = ((unsigned __int128)d << 32) | (s << 16) | d;
        } else {
            x = ((unsigned __int128)s << bits) | d;
        }
        r = (uint64_t)(x >> n) & size_mask(sz);
        cf = (x >> (n - 1)) & 1;
    }
    opnd_write(c, i, 0, r);
    uint64_t f = flags_szp(r, sz);
    if (cf) f |= FL_CF;
    if (top(r, sz) != top(d, sz)) f |= FL_OF;   /* sign change, defined for count 1 */
    flags_put_arith(c, f);
}

void h_shld(struct cpu *c, const struct insn *i) { shd(c, i, true); }
void h_shrd(struct cpu *c, const struct insn *i) { shd(c, i, false); }
