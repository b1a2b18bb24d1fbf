/* MMX/SSE2/SSSE3/SSE4.1/SSE4.2 integer SIMD.  Each instruction's XMM form is the host
 * intrinsic of the same name (bit-exact by construction, no MXCSR involvement); the
 * MMX forms (no prefix) run the same operation on the 64-bit values placed in XMM
 * lanes, arranged by ibin()'s kind so that the low 64 bits are the MMX result:
 *   MK_LOW  elementwise ops: operands in the low halves;
 *   MK_PACK packs and horizontal ops: x = dst | src << 64, result = f(x, x);
 *   MK_HIGH PUNPCKH*: the high dword of each operand in bytes 8-11, PUNPCKH of those;
 *   MK_SHUFB PSHUFB: indexes limited to 0..7 (SDM Vol. 2 PSHUFB, 64-bit form).
 * Semantics: SDM Vol. 2, each instruction's "Operation".
 */
#pragma GCC target("sse4.2")
#include "cpu/sse.h"
#include "cpu/handlers.h"
#include "cpu/flags.h"

enum mk { MK_LOW, MK_PACK, MK_HIGH, MK_SHUFB };

typedef __m128i (*ibin_fn)(__m128i a, __m128i b);

static inline __m128i q2x(uint64_t v) { return _mm_cvtsi64_si128((long long)v); }
static inline uint64_t x2q(__m128i v) { return (uint64_t)_mm_cvtsi128_si64(v); }

static void ibin(struct cpu *c, const struct insn *i, ibin_fn f, enum mk k)
{
    if (sse_col(i) == COL_66) {
        sse_enter(c);
        __m128i b = sse_src(c, i);
        xmm_set(c, i->reg, f(xmm_get(c, i->reg), b));
        return;
    }
    mmx_enter(c);
    uint64_t b = mmx_src(c, i), a = mmx_get(c, i->reg);
    __m128i r;
    switch (k) {
    case MK_PACK: {
        __m128i x = _mm_set_epi64x((long long)b, (long long)a);
        r = f(x, x);
        break;
    }
    case MK_HIGH:  r = f(_mm_set_epi64x((long long)(a >> 32), 0), _mm_set_epi64x((long long)(b >> 32), 0)); break;
    case MK_SHUFB: r = f(q2x(a), q2x(b & 0x8787878787878787ull)); break;
    default:       r = f(q2x(a), q2x(b)); break;
    }
    mmx_set(c, i->reg, x2q(r));
}

#define IBIN(name, expr, kind) \
    static __m128i f_##name(__m128i a, __m128i b) { (void)a; (void)b; return expr; } \
    void h_##name(struct cpu *c, const struct insn *i) { ibin(c, i, f_##name, kind); }

/* MMX and SSE2 */
IBIN(punpcklbw, _mm_unpacklo_epi8(a, b), MK_LOW)
IBIN(punpcklwd, _mm_unpacklo_epi16(a, b), MK_LOW)
IBIN(punpckldq, _mm_unpacklo_epi32(a, b), MK_LOW)
IBIN(punpcklqdq, _mm_unpacklo_epi64(a, b), MK_LOW)
IBIN(punpckhbw, _mm_unpackhi_epi8(a, b), MK_HIGH)
IBIN(punpckhwd, _mm_unpackhi_epi16(a, b), MK_HIGH)
IBIN(punpckhdq, _mm_unpackhi_epi32(a, b), MK_HIGH)
IBIN(punpckhqdq, _mm_unpackhi_epi64(a, b), MK_LOW)
IBIN(packsswb, _mm_packs_epi16(a, b), MK_PACK)
IBIN(packssdw, _mm_packs_epi32(a, b), MK_PACK)
IBIN(packuswb, _mm_packus_epi16(a, b), MK_PACK)
IBIN(packusdw, _mm_packus_epi32(a, b), MK_PACK)
IBIN(pcmpeqb, _mm_cmpeq_epi8(a, b), MK_LOW)
IBIN(pcmpeqw, _mm_cmpeq_epi16(a, b), MK_LOW)
IBIN(pcmpeqd, _mm_cmpeq_epi32(a, b), MK_LOW)
IBIN(pcmpeqq, _mm_cmpeq_epi64(a, b), MK_LOW)
IBIN(pcmpgtb, _mm_cmpgt_epi8(a, b), MK_LOW)
IBIN(pcmpgtw, _mm_cmpgt_epi16(a, b), MK_LOW)
IBIN(pcmpgtd, _mm_cmpgt_epi32(a, b), MK_LOW)
IBIN(pcmpgtq, _mm_cmpgt_epi64(a, b), MK_LOW)
IBIN(paddb, _mm_add_epi8(a, b), MK_LOW)
IBIN(paddw, _mm_add_epi16(a, b), MK_LOW)
IBIN(paddd, _mm_add_epi32(a, b), MK_LOW)
IBIN(paddq, _mm_add_epi64(a, b), MK_LOW)
IBIN(psubb, _mm_sub_epi8(a, b), MK_LOW)
IBIN(psubw, _mm_sub_epi16(a, b), MK_LOW)
IBIN(psubd, _mm_sub_epi32(a, b), MK_LOW)
IBIN(psubq, _mm_sub_epi64(a, b), MK_LOW)
IBIN(paddsb, _mm_adds_epi8(a, b), MK_LOW)
IBIN(paddsw, _mm_adds_epi16(a, b), MK_LOW)
IBIN(paddusb, _mm_adds_epu8(a, b), MK_LOW)
IBIN(paddusw, _mm_adds_epu16(a, b), MK_LOW)
IBIN(psubsb, _mm_subs_epi8(a, b), MK_LOW)
IBIN(psubsw, _mm_subs_epi16(a, b), MK_LOW)
IBIN(psubusb, _mm_subs_epu8(a, b), MK_LOW)
IBIN(psubusw, _mm_subs_epu16(a, b), MK_LOW)
IBIN(pmullw, _mm_mullo_epi16(a, b), MK_LOW)
IBIN(pmulhw, _mm_mulhi_epi16(a, b), MK_LOW)
IBIN(pmulhuw, _mm_mulhi_epu16(a, b), MK_LOW)
IBIN(pmuludq, _mm_mul_epu32(a, b), MK_LOW)
IBIN(pmaddwd, _mm_madd_epi16(a, b), MK_LOW)
IBIN(pavgb, _mm_avg_epu8(a, b), MK_LOW)
IBIN(pavgw, _mm_avg_epu16(a, b), MK_LOW)
IBIN(psadbw, _mm_sad_epu8(a, b), MK_LOW)
IBIN(pminub, _mm_min_epu8(a, b), MK_LOW)
IBIN(pmaxub, _mm_max_epu8(a, b), MK_LOW)
IBIN(pminsw, _mm_min_epi16(a, b), MK_LOW)
IBIN(pmaxsw, _mm_max_epi16(a, b), MK_LOW)
IBIN(pand, _mm_and_si128(a, b), MK_LOW)
IBIN(pandn, _mm_andnot_si128(a, b), MK_LOW)
IBIN(por, _mm_or_si128(a, b), MK_LOW)
IBIN(pxor, _mm_xor_si128(a, b), MK_LOW)
/* Shifts by the low 64 bits of the source (counts above the width give 0 / sign fill). */
IBIN(psrlw, _mm_srl_epi16(a, b), MK_LOW)
IBIN(psrld, _mm_srl_epi32(a, b), MK_LOW)
IBIN(psrlq, _mm_srl_epi64(a, b), MK_LOW)
IBIN(psraw, _mm_sra_epi16(a, b), MK_LOW)
IBIN(psrad, _mm_sra_epi32(a, b), MK_LOW)
IBIN(psllw, _mm_sll_epi16(a, b), MK_LOW)
IBIN(pslld, _mm_sll_epi32(a, b), MK_LOW)
IBIN(psllq, _mm_sll_epi64(a, b), MK_LOW)
/* SSSE3 */
IBIN(pshufb, _mm_shuffle_epi8(a, b), MK_SHUFB)
IBIN(phaddw, _mm_hadd_epi16(a, b), MK_PACK)
IBIN(phaddd, _mm_hadd_epi32(a, b), MK_PACK)
IBIN(phaddsw, _mm_hadds_epi16(a, b), MK_PACK)
IBIN(phsubw, _mm_hsub_epi16(a, b), MK_PACK)
IBIN(phsubd, _mm_hsub_epi32(a, b), MK_PACK)
IBIN(phsubsw, _mm_hsubs_epi16(a, b), MK_PACK)
IBIN(pmaddubsw, _mm_maddubs_epi16(a, b), MK_LOW)
IBIN(pmulhrsw, _mm_mulhrs_epi16(a, b), MK_LOW)
IBIN(psignb, _mm_sign_epi8(a, b), MK_LOW)
IBIN(psignw, _mm_sign_epi16(a, b), MK_LOW)
IBIN(psignd, _mm_sign_epi32(a, b), MK_LOW)
IBIN(pabsb, _mm_abs_epi8(b), MK_LOW)
IBIN(pabsw, _mm_abs_epi16(b), MK_LOW)
IBIN(pabsd, _mm_abs_epi32(b), MK_LOW)
/* SSE4.1 (66 only) */
IBIN(pmulld, _mm_mullo_epi32(a, b), MK_LOW)
IBIN(pmuldq, _mm_mul_epi32(a, b), MK_LOW)
IBIN(pminsb, _mm_min_epi8(a, b), MK_LOW)
IBIN(pminsd, _mm_min_epi32(a, b), MK_LOW)
IBIN(pminuw, _mm_min_epu16(a, b), MK_LOW)
IBIN(pminud, _mm_min_epu32(a, b), MK_LOW)
IBIN(pmaxsb, _mm_max_epi8(a, b), MK_LOW)
IBIN(pmaxsd, _mm_max_epi32(a, b), MK_LOW)
IBIN(pmaxuw, _mm_max_epu16(a, b), MK_LOW)
IBIN(pmaxud, _mm_max_epu32(a, b), MK_LOW)
IBIN(phminposuw, _mm_minpos_epu16(b), MK_LOW)

/* ------------------------------------------------------------ shifts by imm8 */

/* Groups 12/13/14 (0F 71/72/73 /digit ib, register operand only; SDM Vol. 2 Table A-6). */
void h_pshift_imm(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3)
        cpu_raise_ud(c);
    bool x = sse_col(i) == COL_66;
    unsigned digit = i->reg & 7, grp = i->op & 3;   /* 1 = words, 2 = dwords, 3 = qwords */
    bool ok = digit == 2 || digit == 6 || (digit == 4 && grp != 3) || (x && grp == 3 && (digit == 3 || digit == 7));
    if (!ok)
        cpu_raise_ud(c);
    if (x)
        sse_enter(c);
    else
        mmx_enter(c);
    __m128i a = x ? xmm_get(c, i->rm) : q2x(mmx_get(c, i->rm)), r;
    unsigned imm = (unsigned)i->imm & 0xff;
    __m128i n = _mm_cvtsi32_si128((int)imm);
    if (digit == 3 || digit == 7) {         /* PSRLDQ / PSLLDQ: bytes */
        uint8_t in[16], out[16] = { 0 };
        _mm_storeu_si128((__m128i *)in, a);
        for (unsigned k = 0; k < 16; k++) {
            int src = digit == 3 ? (int)(k + imm) : (int)k - (int)imm;
            if (src >= 0 && src < 16)
                out[k] = in[src];
        }
        r = _mm_loadu_si128((const __m128i *)out);
    } else if (grp == 1) {
        r = digit == 2 ? _mm_srl_epi16(a, n) : digit == 4 ? _mm_sra_epi16(a, n) : _mm_sll_epi16(a, n);
    } else if (grp == 2) {
        r = digit == 2 ? _mm_srl_epi32(a, n) : digit == 4 ? _mm_sra_epi32(a, n) : _mm_sll_epi32(a, n);
    } else {
        r = digit == 2 ? _mm_srl_epi64(a, n) : _mm_sll_epi64(a, n);
    }
    if (x)
        xmm_set(c, i->rm, r);
    else
        mmx_set(c, i->rm, x2q(r));
}

/* ------------------------------------------------------------------ shuffles */

void h_pshufw(struct cpu *c, const struct insn *i)
{
    mmx_enter(c);
    uint64_t s = mmx_src(c, i), r = 0;
    for (unsigned k = 0; k < 4; k++)
        r |= ((s >> (((i->imm >> (2 * k)) & 3) * 16)) & 0xffff) << (16 * k);
    mmx_set(c, i->reg, r);
}

void h_pshufd(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg s, r;
    _mm_storeu_si128((__m128i *)&s, sse_src(c, i));
    for (unsigned k = 0; k < 4; k++)
        r.d[k] = s.d[(i->imm >> (2 * k)) & 3];
    c->fpu.xmm[i->reg] = r;
}

void h_pshufhw(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg s, r;
    _mm_storeu_si128((__m128i *)&s, sse_src(c, i));
    r = s;
    for (unsigned k = 0; k < 4; k++)
        r.w[4 + k] = s.w[4 + ((i->imm >> (2 * k)) & 3)];
    c->fpu.xmm[i->reg] = r;
}

void h_pshuflw(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg s, r;
    _mm_storeu_si128((__m128i *)&s, sse_src(c, i));
    r = s;
    for (unsigned k = 0; k < 4; k++)
        r.w[k] = s.w[(i->imm >> (2 * k)) & 3];
    c->fpu.xmm[i->reg] = r;
}

/* PALIGNR: (dst:src) shifted right by imm8 bytes, low half kept (zeros beyond). */
void h_palignr(struct cpu *c, const struct insn *i)
{
    bool x = sse_col(i) == COL_66;
    unsigned n = x ? 16 : 8, imm = (unsigned)i->imm & 0xff;
    uint8_t cat[32] = { 0 }, out[16] = { 0 };
    if (x) {
        sse_enter(c);
        _mm_storeu_si128((__m128i *)cat, sse_src(c, i));
        memcpy(cat + 16, &c->fpu.xmm[i->reg], 16);
    } else {
        mmx_enter(c);
        uint64_t s = mmx_src(c, i), d = mmx_get(c, i->reg);
        memcpy(cat, &s, 8);
        memcpy(cat + 8, &d, 8);
    }
    for (unsigned k = 0; k < n; k++)
        if (k + imm < 2 * n)
            out[k] = cat[k + imm];
    if (x) {
        memcpy(&c->fpu.xmm[i->reg], out, 16);
    } else {
        uint64_t r;
        memcpy(&r, out, 8);
        mmx_set(c, i->reg, r);
    }
}

/* ------------------------------------------------------------------- SSE4.1 */

void h_pblendw(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg s;
    _mm_storeu_si128((__m128i *)&s, sse_src(c, i));
    for (unsigned k = 0; k < 8; k++)
        if (i->imm & (1u << k))
            c->fpu.xmm[i->reg].w[k] = s.w[k];
}

void h_pblendvb(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i s = sse_src(c, i);
    xmm_set(c, i->reg, _mm_blendv_epi8(xmm_get(c, i->reg), s, xmm_get(c, 0)));
}

/* PMOVSX/PMOVZX (66 0F 38 20-25 / 30-35): the memory source is 8, 4 or 2 bytes. */
void h_pmovx(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    static const uint8_t srcsz[6] = { 8, 4, 2, 8, 4, 8 };
    unsigned form = i->op & 0xf;
    if (form > 5)
        cpu_raise_ud(c);
    __m128i s = sse_src_scalar(c, i, srcsz[form]), r;
    bool zx = (i->op & 0xf0) == 0x30;
    switch (form) {
    case 0: r = zx ? _mm_cvtepu8_epi16(s) : _mm_cvtepi8_epi16(s); break;
    case 1: r = zx ? _mm_cvtepu8_epi32(s) : _mm_cvtepi8_epi32(s); break;
    case 2: r = zx ? _mm_cvtepu8_epi64(s) : _mm_cvtepi8_epi64(s); break;
    case 3: r = zx ? _mm_cvtepu16_epi32(s) : _mm_cvtepi16_epi32(s); break;
    case 4: r = zx ? _mm_cvtepu16_epi64(s) : _mm_cvtepi16_epi64(s); break;
    default: r = zx ? _mm_cvtepu32_epi64(s) : _mm_cvtepi32_epi64(s); break;
    }
    xmm_set(c, i->reg, r);
}

/* PTEST: ZF = (dst AND src) == 0, CF = (NOT dst AND src) == 0, others 0. */
void h_ptest(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i s = sse_src(c, i), d = xmm_get(c, i->reg);
    uint64_t fl = 0;
    if (_mm_testz_si128(d, s))
        fl |= FL_ZF;
    if (_mm_testc_si128(d, s))
        fl |= FL_CF;
    flags_put_arith(c, fl);
}

#define C8(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7)

/* MPSADBW: imm8[2:0] selects the source dword and the destination offset. */
void h_mpsadbw(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i s = sse_src(c, i), d = xmm_get(c, i->reg), r = d;
#define M(k) case (k): r = _mm_mpsadbw_epu8(d, s, (k)); break;
    switch (i->imm & 7) {
    C8(M)
    default: break;
    }
#undef M
    xmm_set(c, i->reg, r);
}
