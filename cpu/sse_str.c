/* SSE4.2 string compares PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (66 0F 3A 60-63),
 * every imm8 mode, after SDM Vol. 2 4.1 "Imm8 Control Byte Operation for PCMPESTRI /
 * PCMPESTRM / PCMPISTRI / PCMPISTRM" (Tables 4-1..4-7 and 4.1.6 flags):
 *   imm[1:0] element format (ub, uw, sb, sw); imm[3:2] aggregation (equal any, ranges,
 *   equal each, equal ordered); imm[5:4] polarity; imm[6] least/most significant index
 *   (I) or bit/element mask (M).
 * The first operand (xmm1, reg) is the set/needle "a", the second (xmm2/m128, no
 * alignment requirement) the string "b".  Computed in C; the differential test
 * compares every imm8 value with the host.
 */
#include "cpu/sse.h"
#include "cpu/handlers.h"
#include "cpu/flags.h"

static int64_t elem(const xmm_reg *r, unsigned k, unsigned fmt)
{
    switch (fmt) {
    case 0: return r->b[k];
    case 1: return r->w[k];
    case 2: return (int8_t)r->b[k];
    default: return (int16_t)r->w[k];
    }
}

/* |len| saturated to n (explicit lengths, SDM 4.1.2). */
static unsigned explicit_len(int64_t v, unsigned n)
{
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return a > n ? n : (unsigned)a;
}

static unsigned implicit_len(const xmm_reg *r, unsigned n, unsigned fmt)
{
    unsigned k = 0;
    while (k < n && elem(r, k, fmt) != 0)
        k++;
    return k;
}

void h_pcmpstr(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg a = c->fpu.xmm[i->reg], b;
    _mm_storeu_si128((__m128i *)&b, i->mod == 3 ? xmm_get(c, i->rm) : sse_read_m128(c, i, false));
    unsigned imm = (unsigned)i->imm & 0xff, fmt = imm & 3, agg = (imm >> 2) & 3, pol = (imm >> 4) & 3;
    unsigned n = (fmt & 1) ? 8 : 16;
    bool explicit = !(i->op & 2), index = i->op & 1;
    unsigned la, lb;
    if (explicit) {
        bool w = i->osize == 8;     /* REX.W: RAX/RDX as 64-bit lengths */
        la = explicit_len(w ? (int64_t)c->gpr[RAX] : (int32_t)c->gpr[RAX], n);
        lb = explicit_len(w ? (int64_t)c->gpr[RDX] : (int32_t)c->gpr[RDX], n);
    } else {
        la = implicit_len(&a, n, fmt);
        lb = implicit_len(&b, n, fmt);
    }

    unsigned res1 = 0;
    for (unsigned j = 0; j < n; j++) {
        bool bit = false;
        int64_t bj = elem(&b, j, fmt);
        switch (agg) {
        case 0:     /* equal any: b[j] is in the set a[0..la) */
            for (unsigned k = 0; k < la && j < lb; k++)
                bit |= elem(&a, k, fmt) == bj;
            break;
        case 1:     /* ranges: a[2k] <= b[j] <= a[2k+1] for some valid pair */
            for (unsigned k = 0; k + 1 < n && j < lb; k += 2) {
                bool lo = k < la && elem(&a, k, fmt) <= bj;
                bool hi = k + 1 < la && bj <= elem(&a, k + 1, fmt);
                bit |= lo && hi;
            }
            break;
        case 2:     /* equal each: both invalid -> true, one invalid -> false */
            if (j >= la && j >= lb)
                bit = true;
            else if (j < la && j < lb)
                bit = elem(&a, j, fmt) == bj;
            break;
        default:    /* equal ordered: substring a at b[j]; invalid a -> true, invalid b -> false */
            bit = true;
            for (unsigned k = 0; k < n - j && bit; k++) {
                if (k >= la)
                    break;
                if (j + k >= lb)
                    bit = false;
                else
                    bit = elem(&a, k, fmt) == elem(&b, j + k, fmt);
            }
            break;
        }
        res1 |= (unsigned)bit << j;
    }

    unsigned all = (1u << n) - 1, res2;
    switch (pol) {
    case 1:  res2 = ~res1 & all; break;
    case 3:  res2 = res1 ^ ((1u << lb) - 1); break;
    default: res2 = res1; break;
    }

    if (index) {
        unsigned idx = n;
        if (res2)
            idx = (imm & 0x40) ? 31u - (unsigned)__builtin_clz(res2) : (unsigned)__builtin_ctz(res2);
        c->gpr[RCX] = idx;
    } else {
        xmm_reg m = { .q = { 0, 0 } };
        if (imm & 0x40) {
            for (unsigned k = 0; k < n; k++)
                if (res2 & (1u << k)) {
                    if (n == 16)
                        m.b[k] = 0xff;
                    else
                        m.w[k] = 0xffff;
                }
        } else {
            m.q[0] = res2;
        }
        c->fpu.xmm[0] = m;
    }
    flags_put_arith(c, (res2 ? FL_CF : 0) | (lb < n ? FL_ZF : 0) | (la < n ? FL_SF : 0) |
                           ((res2 & 1) ? FL_OF : 0));
}
