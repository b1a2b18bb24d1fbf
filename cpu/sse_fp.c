/* SSE/SSE2/SSE3/SSE4.1 floating point: arithmetic, compares, conversions, rounding,
 * dot products, blends and the bitwise/shuffle forms of the PS/PD instructions.
 *
 * Every operation that can raise an MXCSR exception is executed by the host's SSE
 * unit inside sse_fp_begin()/sse_fp_end() (cpu/sse.h) with the guest's rounding
 * control, DAZ and FTZ, so results, NaN propagation, MIN/MAX operand-order rules and
 * the exception flags are the hardware's bit for bit.  This requires an x86-64 host
 * with SSE4.2 (x86-64-v2); hvemu targets such hosts only.
 *
 * Known approximation: RCPPS/RCPSS/RSQRTPS/RSQRTSS are computed in software (1/x and
 * 1/sqrt(x) in double precision, rounded to 12 significant bits, denormal inputs as
 * zero, tiny results flushed to zero), which is within the SDM's 1.5 * 2^-12 relative
 * error but not Intel's exact table; it is the same on every host (determinism).  The
 * differential test checks them against the host with that tolerance.
 */
#pragma GCC target("sse4.2")
#include <math.h>
#include "cpu/sse.h"
#include "cpu/handlers.h"
#include "cpu/flags.h"

/* The two sources of a PS/PD/SS/SD form: a = destination register, b = r/m (m128
 * aligned for packed forms, m32/m64 for scalar ones). */
static __m128i fp_b(struct cpu *c, const struct insn *i, unsigned col)
{
    if (col == COL_F3)
        return sse_src_scalar(c, i, 4);
    if (col == COL_F2)
        return sse_src_scalar(c, i, 8);
    return sse_src(c, i);
}

#define PS(x) _mm_castsi128_ps(x)
#define PD(x) _mm_castsi128_pd(x)
#define IS(x) _mm_castps_si128(x)
#define ID(x) _mm_castpd_si128(x)

enum fpop { F_ADD, F_SUB, F_MUL, F_DIV, F_MIN, F_MAX, F_SQRT, F_ADDSUB, F_HADD, F_HSUB };

static __m128i fp_compute(unsigned op, unsigned col, __m128i a, __m128i b)
{
/* Inline asm, not intrinsics: the compiler may swap the operands of a commutative
 * intrinsic (ADDPS, MULPS), which changes which NaN propagates. */
#define ASM2(insn) __asm__("" insn " %1, %0" : "+x"(a) : "x"(b)); return a;
#define FOUR(OP, name) \
    case OP * 4 + COL_NP: ASM2(#name "ps") \
    case OP * 4 + COL_66: ASM2(#name "pd") \
    case OP * 4 + COL_F3: ASM2(#name "ss") \
    case OP * 4 + COL_F2: ASM2(#name "sd")
    switch (op * 4 + col) {
    FOUR(F_ADD, add) FOUR(F_SUB, sub) FOUR(F_MUL, mul) FOUR(F_DIV, div)
    FOUR(F_MIN, min) FOUR(F_MAX, max)
    case F_SQRT * 4 + COL_NP: return IS(_mm_sqrt_ps(PS(b)));
    case F_SQRT * 4 + COL_66: return ID(_mm_sqrt_pd(PD(b)));
    case F_SQRT * 4 + COL_F3: return IS(_mm_move_ss(PS(a), _mm_sqrt_ss(PS(b))));
    case F_SQRT * 4 + COL_F2: return ID(_mm_sqrt_sd(PD(a), PD(b)));
    case F_ADDSUB * 4 + COL_66: return ID(_mm_addsub_pd(PD(a), PD(b)));
    case F_ADDSUB * 4 + COL_F2: return IS(_mm_addsub_ps(PS(a), PS(b)));
    case F_HADD * 4 + COL_66: return ID(_mm_hadd_pd(PD(a), PD(b)));
    case F_HADD * 4 + COL_F2: return IS(_mm_hadd_ps(PS(a), PS(b)));
    case F_HSUB * 4 + COL_66: return ID(_mm_hsub_pd(PD(a), PD(b)));
    case F_HSUB * 4 + COL_F2: return IS(_mm_hsub_ps(PS(a), PS(b)));
    default: return a;      /* the tables bind no other column */
    }
#undef FOUR
#undef ASM2
}

static void fp_arith(struct cpu *c, const struct insn *i, unsigned op)
{
    sse_enter(c);
    unsigned col = sse_col(i);
    /* ADDSUBPS/HADDPS/HSUBPS are F2 but packed (m128). */
    __m128i b = op >= F_ADDSUB ? sse_src(c, i) : fp_b(c, i, col);
    __m128i a = xmm_get(c, i->reg), r;
    SSE_FP_RUN(c, r, a, b, fp_compute(op, col, a, b));
    xmm_set(c, i->reg, r);
}

void h_addp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_ADD); }
void h_subp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_SUB); }
void h_mulp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_MUL); }
void h_divp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_DIV); }
void h_minp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_MIN); }
void h_maxp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_MAX); }
void h_sqrtp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_SQRT); }
void h_addsubp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_ADDSUB); }
void h_haddp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_HADD); }
void h_hsubp(struct cpu *c, const struct insn *i) { fp_arith(c, i, F_HSUB); }

/* ------------------------------------------------------ RCP/RSQRT (software) */

/* 12-bit approximation of 1/x (rsqrt = false) or 1/sqrt(x); see the file comment. */
static uint32_t approx(uint32_t x, bool rsqrt)
{
    uint32_t sign = x & 0x80000000u, exp = (x >> 23) & 0xff, man = x & 0x7fffff;
    if (exp == 0xff && man)
        return x | 0x400000u;                           /* NaN: quietened */
    if (exp == 0)                                       /* zero or denormal: as zero */
        return sign | 0x7f800000u;                      /* RSQRT(-0) = -inf as well */
    if (rsqrt && sign)
        return 0xffc00000u;                             /* negative: QNaN indefinite */
    if (exp == 0xff)
        return sign;                                    /* inf -> 0 */
    float f;
    memcpy(&f, &x, 4);
    double r = rsqrt ? 1.0 / sqrt((double)f) : 1.0 / (double)f;
    uint64_t bits;
    memcpy(&bits, &r, 8);
    bits += 1ull << (52 - 12);                          /* round to 12 significant bits */
    bits &= ~((1ull << (52 - 11)) - 1);
    memcpy(&r, &bits, 8);
    if (fabs(r) < 0x1p-126)
        return sign;                                    /* would be denormal: flushed */
    float o = (float)r;
    uint32_t out;
    memcpy(&out, &o, 4);
    return out;
}

static void approx_op(struct cpu *c, const struct insn *i, bool rsqrt)
{
    sse_enter(c);
    bool scalar = sse_col(i) == COL_F3;
    xmm_reg s;
    __m128i b = scalar ? sse_src_scalar(c, i, 4) : sse_src(c, i);
    _mm_storeu_si128((__m128i *)&s, b);
    xmm_reg *d = &c->fpu.xmm[i->reg];
    for (unsigned k = 0; k < (scalar ? 1u : 4u); k++)
        d->d[k] = approx(s.d[k], rsqrt);
}

void h_rcpp(struct cpu *c, const struct insn *i) { approx_op(c, i, false); }
void h_rsqrtp(struct cpu *c, const struct insn *i) { approx_op(c, i, true); }

/* ------------------------------------------------ bitwise and shuffles (no FP flags) */

static void bitop(struct cpu *c, const struct insn *i, int op)
{
    sse_enter(c);
    __m128i b = sse_src(c, i), a = xmm_get(c, i->reg), r;
    switch (op) {
    case 0: r = _mm_and_si128(a, b); break;
    case 1: r = _mm_andnot_si128(a, b); break;
    case 2: r = _mm_or_si128(a, b); break;
    default: r = _mm_xor_si128(a, b); break;
    }
    xmm_set(c, i->reg, r);
}

void h_andp(struct cpu *c, const struct insn *i) { bitop(c, i, 0); }
void h_andnp(struct cpu *c, const struct insn *i) { bitop(c, i, 1); }
void h_orp(struct cpu *c, const struct insn *i) { bitop(c, i, 2); }
void h_xorp(struct cpu *c, const struct insn *i) { bitop(c, i, 3); }

void h_unpcklp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i b = sse_src(c, i), a = xmm_get(c, i->reg);
    xmm_set(c, i->reg, sse_col(i) == COL_66 ? _mm_unpacklo_epi64(a, b) : _mm_unpacklo_epi32(a, b));
}

void h_unpckhp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i b = sse_src(c, i), a = xmm_get(c, i->reg);
    xmm_set(c, i->reg, sse_col(i) == COL_66 ? _mm_unpackhi_epi64(a, b) : _mm_unpackhi_epi32(a, b));
}

/* SHUFPS: low two from the destination, high two from the source; SHUFPD likewise by qword. */
void h_shufp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg a = c->fpu.xmm[i->reg], b, r;
    _mm_storeu_si128((__m128i *)&b, sse_src(c, i));
    unsigned imm = (unsigned)i->imm;
    if (sse_col(i) == COL_66) {
        r.q[0] = a.q[imm & 1];
        r.q[1] = b.q[(imm >> 1) & 1];
    } else {
        r.d[0] = a.d[imm & 3];
        r.d[1] = a.d[(imm >> 2) & 3];
        r.d[2] = b.d[(imm >> 4) & 3];
        r.d[3] = b.d[(imm >> 6) & 3];
    }
    c->fpu.xmm[i->reg] = r;
}

/* BLENDPS/BLENDPD imm8 and BLENDVPS/BLENDVPD (mask = sign bits of XMM0). */
void h_blendp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg b;
    _mm_storeu_si128((__m128i *)&b, sse_src(c, i));
    xmm_reg *d = &c->fpu.xmm[i->reg];
    if (i->op == 0x30c) {
        for (unsigned k = 0; k < 4; k++)
            if (i->imm & (1u << k))
                d->d[k] = b.d[k];
    } else {
        for (unsigned k = 0; k < 2; k++)
            if (i->imm & (1u << k))
                d->q[k] = b.q[k];
    }
}

void h_blendvp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_reg b, m = c->fpu.xmm[0];
    _mm_storeu_si128((__m128i *)&b, sse_src(c, i));
    xmm_reg *d = &c->fpu.xmm[i->reg];
    if (i->op == 0x214) {
        for (unsigned k = 0; k < 4; k++)
            if (m.d[k] >> 31)
                d->d[k] = b.d[k];
    } else {
        for (unsigned k = 0; k < 2; k++)
            if (m.q[k] >> 63)
                d->q[k] = b.q[k];
    }
}

/* ------------------------------------------------------------------ compares */

/* CMPPS/PD/SS/SD: legacy SSE uses imm8[2:0] (SDM Vol. 2 CMPPS, Table 3-1). */
void h_cmpp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned col = sse_col(i);
    __m128i b = fp_b(c, i, col), a = xmm_get(c, i->reg), r;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(a);
    SSE_FENCE(b);
    switch ((i->imm & 7) * 4 + col) {
#define K(p, nm) \
    case p * 4 + COL_NP: r = IS(_mm_cmp##nm##_ps(PS(a), PS(b))); break; \
    case p * 4 + COL_66: r = ID(_mm_cmp##nm##_pd(PD(a), PD(b))); break; \
    case p * 4 + COL_F3: r = IS(_mm_cmp##nm##_ss(PS(a), PS(b))); break; \
    case p * 4 + COL_F2: r = ID(_mm_cmp##nm##_sd(PD(a), PD(b))); break;
    K(0, eq) K(1, lt) K(2, le) K(3, unord) K(4, neq) K(5, nlt) K(6, nle) K(7, ord)
#undef K
    default: r = a; break;
    }
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    xmm_set(c, i->reg, r);
}

/* COMISS/COMISD (QNaN raises IE) and UCOMISS/UCOMISD (SNaN only): ZF, PF, CF from the
 * comparison, OF = SF = AF = 0 (SDM Vol. 2 COMISS). */
void h_comis(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    bool pd = sse_col(i) == COL_66, sig = i->op & 1;
    __m128i b = sse_src_scalar(c, i, pd ? 8 : 4), a = xmm_get(c, i->reg);
    uint8_t zf, pf, cf;
    uint32_t h = sse_fp_begin(c);
    if (pd && sig)
        __asm__ volatile("comisd %3, %4; setz %0; setp %1; setc %2" : "=r"(zf), "=r"(pf), "=r"(cf) : "x"(b), "x"(a) : "cc");
    else if (pd)
        __asm__ volatile("ucomisd %3, %4; setz %0; setp %1; setc %2" : "=r"(zf), "=r"(pf), "=r"(cf) : "x"(b), "x"(a) : "cc");
    else if (sig)
        __asm__ volatile("comiss %3, %4; setz %0; setp %1; setc %2" : "=r"(zf), "=r"(pf), "=r"(cf) : "x"(b), "x"(a) : "cc");
    else
        __asm__ volatile("ucomiss %3, %4; setz %0; setp %1; setc %2" : "=r"(zf), "=r"(pf), "=r"(cf) : "x"(b), "x"(a) : "cc");
    sse_fp_end(c, h, sse_fp_flags());
    flags_put_arith(c, (zf ? FL_ZF : 0) | (pf ? FL_PF : 0) | (cf ? FL_CF : 0));
}

/* --------------------------------------------------------------- conversions */

/* CVTPI2PS xmm, mm/m64 (low two floats, rest kept) and CVTPI2PD xmm, mm/m64.  An MMX
 * register source makes the MMX transition (SDM Vol. 2 CVTPI2PS). */
void h_cvtpi2p(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    uint64_t v;
    if (i->mod == 3) {
        mmx_enter(c);
        v = mmx_get(c, i->rm);
    } else {
        v = sse_read_m(c, i, 8);
    }
    __m128i s = _mm_cvtsi64_si128((long long)v), a = xmm_get(c, i->reg), r;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(s);
    if (sse_col(i) == COL_66)
        r = ID(_mm_cvtepi32_pd(s));
    else
        r = IS(_mm_movelh_ps(_mm_cvtepi32_ps(s), _mm_movehl_ps(PS(a), PS(a))));
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    if (sse_col(i) == COL_66)
        xmm_set(c, i->reg, r);
    else
        c->fpu.xmm[i->reg].q[0] = (uint64_t)_mm_cvtsi128_si64(r);
}

/* CVTSI2SS/CVTSI2SD xmm, r/m32/64 (REX.W): the rest of the destination is kept. */
void h_cvtsi2s(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    uint64_t v = opnd_read(c, i, 1);
    bool sd = sse_col(i) == COL_F2, q = i->osize == 8;
    __m128i a = xmm_get(c, i->reg), r;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(a);
    if (sd)
        r = q ? ID(_mm_cvtsi64_sd(PD(a), (long long)v)) : ID(_mm_cvtsi32_sd(PD(a), (int)v));
    else
        r = q ? IS(_mm_cvtsi64_ss(PS(a), (long long)v)) : IS(_mm_cvtsi32_ss(PS(a), (int)v));
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    xmm_set(c, i->reg, r);
}

/* CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128: op 2C truncates, 2D rounds. */
void h_cvtp2pi(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    bool pd = sse_col(i) == COL_66, trunc = i->op == 0x12c;
    __m128i s = pd ? sse_src(c, i) : sse_src_scalar(c, i, 8), r;
    mmx_enter(c);
    if (!pd)
        s = _mm_move_epi64(s);      /* upper lanes 0.0: convert without flags */
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(s);
    if (pd)
        r = trunc ? _mm_cvttpd_epi32(PD(s)) : _mm_cvtpd_epi32(PD(s));
    else
        r = trunc ? _mm_cvttps_epi32(PS(s)) : _mm_cvtps_epi32(PS(s));
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    mmx_set(c, i->reg, (uint64_t)_mm_cvtsi128_si64(r));
}

/* CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m32/64. */
void h_cvts2si(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    bool sd = sse_col(i) == COL_F2, trunc = i->op == 0x12c, q = i->osize == 8;
    __m128i s = sse_src_scalar(c, i, sd ? 8 : 4);
    uint64_t v;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(s);
    if (sd)
        v = q ? (uint64_t)(trunc ? _mm_cvttsd_si64(PD(s)) : _mm_cvtsd_si64(PD(s)))
              : (uint32_t)(trunc ? _mm_cvttsd_si32(PD(s)) : _mm_cvtsd_si32(PD(s)));
    else
        v = q ? (uint64_t)(trunc ? _mm_cvttss_si64(PS(s)) : _mm_cvtss_si64(PS(s)))
              : (uint32_t)(trunc ? _mm_cvttss_si32(PS(s)) : _mm_cvtss_si32(PS(s)));
    __asm__ volatile("" : "+r"(v));
    sse_fp_end(c, h, sse_fp_flags());
    c->gpr[i->reg] = v;
}

static __m128i cvtfp_compute(unsigned col, __m128i a, __m128i s)
{
    switch (col) {
    case COL_NP: return ID(_mm_cvtps_pd(PS(s)));
    case COL_66: return IS(_mm_cvtpd_ps(PD(s)));
    case COL_F3: return ID(_mm_cvtss_sd(PD(a), PS(s)));
    default:     return IS(_mm_cvtsd_ss(PS(a), PD(s)));
    }
}

/* 0F 5A: CVTPS2PD xmm, xmm/m64; CVTPD2PS xmm, xmm/m128 (upper half zeroed);
 * CVTSS2SD xmm, xmm/m32; CVTSD2SS xmm, xmm/m64 (rest kept). */
void h_cvtfp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned col = sse_col(i);
    __m128i s = col == COL_NP ? sse_src_scalar(c, i, 8) : fp_b(c, i, col), a = xmm_get(c, i->reg), r;
    SSE_FP_RUN(c, r, a, s, cvtfp_compute(col, a, s));
    xmm_set(c, i->reg, r);
}

void h_cvtdq2ps(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i s = sse_src(c, i), r;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(s);
    r = IS(_mm_cvtepi32_ps(s));
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    xmm_set(c, i->reg, r);
}

/* CVTPS2DQ (66) and CVTTPS2DQ (F3). */
void h_cvtps2dq(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i s = sse_src(c, i), r;
    bool trunc = sse_col(i) == COL_F3;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(s);
    r = trunc ? _mm_cvttps_epi32(PS(s)) : _mm_cvtps_epi32(PS(s));
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    xmm_set(c, i->reg, r);
}

/* CVTTPD2DQ (66) and CVTPD2DQ (F2): upper half zeroed. */
void h_cvtpd2dq(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    __m128i s = sse_src(c, i), r;
    bool trunc = sse_col(i) == COL_66;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(s);
    r = trunc ? _mm_cvttpd_epi32(PD(s)) : _mm_cvtpd_epi32(PD(s));
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    xmm_set(c, i->reg, r);
}

/* CVTDQ2PD xmm, xmm/m64: exact, no exceptions. */
void h_cvtdq2pd(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_set(c, i->reg, ID(_mm_cvtepi32_pd(sse_src_scalar(c, i, 8))));
}

/* ------------------------------------------------------------ SSE4.1 FP */

#define C4(F, b) F(b) F((b) + 1) F((b) + 2) F((b) + 3)
#define C16(F, b) C4(F, b) C4(F, (b) + 4) C4(F, (b) + 8) C4(F, (b) + 12)
#define C64(F, b) C16(F, b) C16(F, (b) + 16) C16(F, (b) + 32) C16(F, (b) + 48)
#define C256(F) C64(F, 0) C64(F, 64) C64(F, 128) C64(F, 192)

/* ROUNDPS/PD/SS/SD: imm8[3:0] (rounding, MXCSR.RC select, precision suppression). */
void h_roundp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned form = i->op & 3;          /* 08 ps, 09 pd, 0A ss, 0B sd */
    __m128i b = form == 2 ? sse_src_scalar(c, i, 4) : form == 3 ? sse_src_scalar(c, i, 8) : sse_src(c, i);
    __m128i a = xmm_get(c, i->reg), r = a;
    uint32_t h = sse_fp_begin(c);
    SSE_FENCE(a);
    SSE_FENCE(b);
#define R(k) \
    case (k) * 4 + 0: r = IS(_mm_round_ps(PS(b), (k))); break; \
    case (k) * 4 + 1: r = ID(_mm_round_pd(PD(b), (k))); break; \
    case (k) * 4 + 2: r = IS(_mm_round_ss(PS(a), PS(b), (k))); break; \
    case (k) * 4 + 3: r = ID(_mm_round_sd(PD(a), PD(b), (k))); break;
    switch ((i->imm & 15) * 4 + form) {
    C16(R, 0)
    default: break;
    }
#undef R
    SSE_FENCE(r);
    sse_fp_end(c, h, sse_fp_flags());
    xmm_set(c, i->reg, r);
}

/* DPPS/DPPD: the hardware's order of products and sums (SDM Vol. 2 DPPS). */
static __m128i dpp_compute(bool pd, unsigned imm, __m128i a, __m128i b)
{
    if (pd) {
#define D(k) case (k): return ID(_mm_dp_pd(PD(a), PD(b), (k)));
        switch (imm & 0x33) {
        C64(D, 0)
        default: return a;
        }
#undef D
    }
#define D(k) case (k): return IS(_mm_dp_ps(PS(a), PS(b), (k)));
    switch (imm & 0xff) {
    C256(D)
    default: return a;
    }
#undef D
}

void h_dpp(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    bool pd = i->op == 0x341;
    __m128i b = sse_src(c, i), a = xmm_get(c, i->reg), r;
    SSE_FP_RUN(c, r, a, b, dpp_compute(pd, (unsigned)i->imm, a, b));
    xmm_set(c, i->reg, r);
}
