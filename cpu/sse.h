/* Shared helpers of the MMX/SSE..SSE4.2 handlers (cpu/sse_*.c).
 *
 * How the semantics are computed: the host is x86-64 with SSE4.2 (x86-64-v2, see
 * docs note in cpu/sse_fp.c).  Integer SIMD uses host intrinsics directly.  Floating
 * point runs on the host with the guest's MXCSR rounding, DAZ and FTZ loaded and every
 * exception masked (so the host never traps); the flags the host raised are read back
 * and applied to the guest MXCSR by sse_fp_end(), which raises #XM/#UD for unmasked
 * ones before anything is written.  Results and flags are therefore the host CPU's,
 * bit for bit, and depend only on operands and MXCSR (deterministic).
 *
 * Operand conventions of the SSE rows (cpu/decode_tables_sse.c): operand 0 is the
 * destination, reg = ModRM.reg (+REX.R), rm = ModRM.rm (+REX.B) or memory.  Handlers
 * that serve several mandatory-prefix columns (ADDPS/ADDPD/ADDSS/ADDSD) ask sse_col().
 */
#ifndef HVEMU_CPU_SSE_H
#define HVEMU_CPU_SSE_H

#include <immintrin.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "cpu/operand.h"
#include "cpu/exception.h"
#include "cpu/mem.h"
#include "cpu/fpu.h"

/* MXCSR bits (SDM Vol. 1 10.2.3). */
#define MXCSR_IE  0x0001u
#define MXCSR_DE  0x0002u
#define MXCSR_ZE  0x0004u
#define MXCSR_OE  0x0008u
#define MXCSR_UE  0x0010u
#define MXCSR_PE  0x0020u
#define MXCSR_FLAGS 0x003fu
#define MXCSR_DAZ 0x0040u
#define MXCSR_MASKS 0x1f80u
#define MXCSR_RC_SHIFT 13
#define MXCSR_FTZ 0x8000u

/* Mandatory-prefix column of the instruction: 0 none, 1 = 66, 2 = F3, 3 = F2
 * (F2/F3 take precedence over 66, SDM Vol. 2 2.1.2). */
enum { COL_NP, COL_66, COL_F3, COL_F2 };
static inline unsigned sse_col(const struct insn *i)
{
    if (i->pfx & PFX_REP)
        return COL_F3;
    if (i->pfx & PFX_REPNE)
        return COL_F2;
    return (i->pfx & PFX_OPSIZE) ? COL_66 : COL_NP;
}

/* SSE availability (SDM Vol. 3A 13.1 / Vol. 2 "Exceptions" of every SSE instruction):
 * CR0.EM = 1 or CR4.OSFXSR = 0 -> #UD; CR0.TS = 1 -> #NM. */
static inline void sse_enter(struct cpu *c)
{
    if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
        cpu_raise_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
}

/* MMX availability (SDM Vol. 3A Table 12-1... / Vol. 2 MMX "Exceptions"): CR0.EM -> #UD,
 * CR0.TS -> #NM, a pending x87 exception (FSW.ES) -> #MF.  Then the x87 state switches
 * to MMX use (SDM Vol. 1 9.5.1): TOP = 0 and every tag valid. */
void mmx_enter(struct cpu *c);

/* MMX register n (0..7) = the mantissa of physical x87 register Rn; a write also sets
 * the exponent/sign field to all ones (cpu/fpu.h, SDM Vol. 1 9.5.1). */
static inline uint64_t mmx_get(const struct cpu *c, unsigned n) { return fpu_mmx_read(c, n); }
static inline void mmx_set(struct cpu *c, unsigned n, uint64_t v) { fpu_mmx_write(c, n, v); }

static inline __m128i xmm_get(const struct cpu *c, unsigned n)
{
    return _mm_loadu_si128((const __m128i *)&c->fpu.xmm[n & 15]);
}
static inline void xmm_set(struct cpu *c, unsigned n, __m128i v)
{
    _mm_storeu_si128((__m128i *)&c->fpu.xmm[n & 15], v);
}

/* Memory operand accesses.  align16: the aligned forms (MOVAPS, MOVDQA, and every
 * legacy-SSE m128 operand of an arithmetic instruction) raise #GP(0) when the address
 * is not 16-byte aligned (SDM Vol. 1 11.4.1, Vol. 2 2.4). */
__m128i sse_read_m128(struct cpu *c, const struct insn *i, bool align16);
void sse_write_m128(struct cpu *c, const struct insn *i, __m128i v, bool align16);
uint64_t sse_read_m(struct cpu *c, const struct insn *i, unsigned size);
void sse_write_m(struct cpu *c, const struct insn *i, unsigned size, uint64_t v);

/* The r/m source of an XMM form: register, or m128 with the legacy-SSE alignment rule. */
static inline __m128i sse_src(struct cpu *c, const struct insn *i)
{
    return i->mod == 3 ? xmm_get(c, i->rm) : sse_read_m128(c, i, true);
}
/* A scalar source of size bytes (4/8), zero-extended into an XMM value (no alignment). */
static inline __m128i sse_src_scalar(struct cpu *c, const struct insn *i, unsigned size)
{
    if (i->mod == 3)
        return xmm_get(c, i->rm);
    return _mm_cvtsi64_si128((long long)sse_read_m(c, i, size));
}
/* An MMX r/m source (register or m64). */
static inline uint64_t mmx_src(struct cpu *c, const struct insn *i)
{
    return i->mod == 3 ? mmx_get(c, i->rm) : sse_read_m(c, i, 8);
}

/* Host floating point with the guest MXCSR (see the file comment).  Usage:
 *     uint32_t h = sse_fp_begin(c); ... SSE_FENCE(x); ... sse_fp_end(c, h, sse_fp_flags());
 * SSE_FENCE keeps the compiler from moving the arithmetic across the MXCSR switch.
 * Operations that can underflow use SSE_FP_UNDERFLOW_CHECK (below). */
#define SSE_FENCE(x) __asm__ volatile("" : "+x"(x))
/* STMXCSR/LDMXCSR as volatile asm: the intrinsics may be merged or moved by the
 * compiler (two _mm_getcsr() with no _mm_setcsr between were combined). */
static inline uint32_t sse_host_getcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}
static inline void sse_host_setcsr(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}
static inline uint32_t sse_fp_begin(const struct cpu *c)
{
    uint32_t host = sse_host_getcsr();
    uint32_t g = c->fpu.mxcsr;
    /* FTZ only acts when UE is masked (SDM Vol. 1 10.2.3.3). */
    uint32_t ftz = (g & 0x800u) ? (g & MXCSR_FTZ) : 0;
    uint32_t want = (g & (MXCSR_DAZ | (3u << MXCSR_RC_SHIFT))) | ftz | MXCSR_MASKS;
    /* LDMXCSR is slow on the host, so it is skipped when the control bits already
     * match and every flag left set in the host MXCSR (by an earlier instruction) is
     * already set and masked in the guest's: not seeing it raised again changes
     * nothing.  The host runs with masked, possibly sticky, flags: harmless. */
    uint32_t hf = host & MXCSR_FLAGS, unmasked = ~(g >> 7) & MXCSR_FLAGS;
    if ((host & ~MXCSR_FLAGS) != want || (hf & ~g) || (hf & unmasked))
        sse_host_setcsr(want);
    return host & ~MXCSR_FLAGS;
}
/* The flags the host raised since sse_fp_begin(). */
static inline uint32_t sse_fp_flags(void) { return sse_host_getcsr() & MXCSR_FLAGS; }
/* With UE unmasked, underflow is any tiny result, exact or not (SDM Vol. 1 11.5.2.5);
 * the masked host flags only inexact tiny results.  If UE is unmasked and was not
 * raised, the caller runs the operation again after sse_fp_ftz_pass() (FTZ mode flags
 * every tiny result) and adds UE if that pass raised it; nothing is stored then. */
static inline bool sse_fp_need_ftz_pass(const struct cpu *c, uint32_t flags)
{
    return !(c->fpu.mxcsr & 0x800u) && !(flags & MXCSR_UE);
}
static inline void sse_fp_ftz_pass(const struct cpu *c)
{
    sse_host_setcsr((c->fpu.mxcsr & (MXCSR_DAZ | (3u << MXCSR_RC_SHIFT))) | MXCSR_FTZ | MXCSR_MASKS);
}
/* Wraps "r = expr" (operands a, b) for operations that can underflow. */
#define SSE_FP_RUN(c, r, a, b, expr) do {                       \
        uint32_t h_ = sse_fp_begin(c);                          \
        SSE_FENCE(a);                                           \
        SSE_FENCE(b);                                           \
        r = (expr);                                             \
        SSE_FENCE(r);                                           \
        uint32_t f_ = sse_fp_flags();                           \
        if (sse_fp_need_ftz_pass(c, f_)) {                      \
            sse_fp_ftz_pass(c);                                 \
            SSE_FENCE(a);                                       \
            SSE_FENCE(b);                                       \
            __m128i t_ = (expr);                                \
            SSE_FENCE(t_);                                      \
            f_ |= sse_fp_flags() & MXCSR_UE;                    \
        }                                                       \
        sse_fp_end(c, h_, f_);                                  \
    } while (0)
/* Restore the host MXCSR, apply the raised flags to the guest (SDM Vol. 1 11.5.1:
 * unmasked pre-computation exceptions IE/DE/ZE are reported alone; otherwise all
 * raised flags are set) and raise #XM (CR4.OSXMMEXCPT) or #UD when one is unmasked.
 * Known deviation: after an unmasked overflow or underflow the hardware computes PE
 * from the result rounded with an unbounded exponent; we report the masked host's PE
 * (from the overflowed or denormalised result), so PE may be set where hardware leaves
 * it clear.  The result is not stored in that case; only the PE flag seen by the #XM
 * handler differs (tests/diff/diff_sse.c counts these cases). */
void sse_fp_end(struct cpu *c, uint32_t host, uint32_t raised);

#endif
