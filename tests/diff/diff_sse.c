/* Differential test of MMX, SSE, SSE2, SSE3, SSSE3, SSE4.1, SSE4.2, MOVBE and CRC32
 * against the host CPU (tests/diff/support_sse.h): every form in forms[] below with
 * register and memory operands (memory sometimes misaligned, so the #GP alignment rule
 * of each form is compared too), XMM8-15 through REX, random typed operands with the
 * IEEE special values (±0, ±inf, QNaN, SNaN, denormals, extremes, integer-conversion
 * boundaries), random MXCSR (all rounding modes, DAZ, FTZ, sticky flags, and 1 case
 * in 5 with some exceptions unmasked so #XM is compared), random imm8.  Compared:
 * all XMM (and MM for MMX forms), GPRs, arithmetic flags, MXCSR, memory, exception.
 * RCPPS/RCPSS/RSQRTPS/RSQRTSS are compared with a relative tolerance (cpu/sse_fp.c:
 * hvemu's approximation is deterministic, not Intel's table).  With --compat32
 * every form runs in 32-bit compatibility mode instead (no REX; REX.W forms left
 * out): ctest diff.diff_sse_compat32.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/diff/support_host.h"
#include "tests/diff/support_sse.h"

#define CASES 160

enum {
    DT_INT = 0, DT_PS = 1, DT_PD = 2, DT_STR = 3,   /* value generation */
    F_IMM = 1 << 2,      /* imm8 follows */
    F_MMX = 1 << 3,      /* reg and rm are MMX registers */
    F_REGMM = 1 << 4,    /* reg is MMX, rm XMM */
    F_RMMM = 1 << 5,     /* rm is MMX (register form), reg XMM */
    F_REGG = 1 << 6,     /* reg is a GPR */
    F_RMG = 1 << 7,      /* rm is a GPR (register form) */
    F_REGONLY = 1 << 8,
    F_MEMONLY = 1 << 9,
    F_W = 1 << 10,       /* REX.W */
    F_APPROX = 1 << 11,
    F_SHIFTIMM = 1 << 12, /* small imm8 mostly */
    F_NOSSE = 1 << 13,   /* not an SSE instruction (MOVBE, CRC32) */
};

struct form {
    const char *name;
    uint8_t pfx;         /* 0, 0x66, 0xf2, 0xf3 */
    uint8_t op[3], oplen;
    int8_t digit;        /* fixed ModRM.reg, or -1 */
    unsigned fl;
};

#define O1(a) { 0x0f, a }, 2
#define O38(a) { 0x0f, 0x38, a }, 3
#define O3A(a) { 0x0f, 0x3a, a }, 3
#define FM(n, p, o, f) { n, p, o, -1, f }
#define FD(n, p, o, d, f) { n, p, o, d, f }

/* Packed/scalar float quartets: PS, PD, SS, SD. */
#define FP4(n, op) FM(n "ps", 0, O1(op), DT_PS), FM(n "pd", 0x66, O1(op), DT_PD), \
                   FM(n "ss", 0xf3, O1(op), DT_PS), FM(n "sd", 0xf2, O1(op), DT_PD)
/* Integer op in MMX and XMM forms. */
#define IMX(n, op) FM(n " mm", 0, O1(op), F_MMX), FM(n " xmm", 0x66, O1(op), 0)
#define I38(n, op) FM(n " mm", 0, O38(op), F_MMX), FM(n " xmm", 0x66, O38(op), 0)

static const struct form forms[] = {
    /* moves */
    FM("movups", 0, O1(0x10), DT_PS), FM("movupd", 0x66, O1(0x10), DT_PD),
    FM("movss", 0xf3, O1(0x10), DT_PS), FM("movsd", 0xf2, O1(0x10), DT_PD),
    FM("movups st", 0, O1(0x11), DT_PS), FM("movss st", 0xf3, O1(0x11), DT_PS),
    FM("movsd st", 0xf2, O1(0x11), DT_PD),
    FM("movlps/movhlps", 0, O1(0x12), DT_PS), FM("movlpd", 0x66, O1(0x12), DT_PD | F_MEMONLY),
    FM("movsldup", 0xf3, O1(0x12), DT_PS), FM("movddup", 0xf2, O1(0x12), DT_PD),
    FM("movlps st", 0, O1(0x13), F_MEMONLY), FM("movlpd st", 0x66, O1(0x13), F_MEMONLY),
    FM("unpcklps", 0, O1(0x14), DT_PS), FM("unpcklpd", 0x66, O1(0x14), DT_PD),
    FM("unpckhps", 0, O1(0x15), DT_PS), FM("unpckhpd", 0x66, O1(0x15), DT_PD),
    FM("movhps/movlhps", 0, O1(0x16), DT_PS), FM("movhpd", 0x66, O1(0x16), F_MEMONLY),
    FM("movshdup", 0xf3, O1(0x16), DT_PS),
    FM("movhps st", 0, O1(0x17), F_MEMONLY), FM("movhpd st", 0x66, O1(0x17), F_MEMONLY),
    FM("movaps", 0, O1(0x28), DT_PS), FM("movapd", 0x66, O1(0x28), DT_PD),
    FM("movaps st", 0, O1(0x29), DT_PS), FM("movntps", 0, O1(0x2b), F_MEMONLY),
    FM("movntpd", 0x66, O1(0x2b), F_MEMONLY),
    /* conversions */
    FM("cvtpi2ps", 0, O1(0x2a), F_RMMM), FM("cvtpi2pd", 0x66, O1(0x2a), F_RMMM),
    FM("cvtsi2ss", 0xf3, O1(0x2a), F_RMG), FM("cvtsi2ss q", 0xf3, O1(0x2a), F_RMG | F_W),
    FM("cvtsi2sd", 0xf2, O1(0x2a), F_RMG), FM("cvtsi2sd q", 0xf2, O1(0x2a), F_RMG | F_W),
    FM("cvttps2pi", 0, O1(0x2c), DT_PS | F_REGMM), FM("cvttpd2pi", 0x66, O1(0x2c), DT_PD | F_REGMM),
    FM("cvtps2pi", 0, O1(0x2d), DT_PS | F_REGMM), FM("cvtpd2pi", 0x66, O1(0x2d), DT_PD | F_REGMM),
    FM("cvttss2si", 0xf3, O1(0x2c), DT_PS | F_REGG), FM("cvttss2si q", 0xf3, O1(0x2c), DT_PS | F_REGG | F_W),
    FM("cvttsd2si", 0xf2, O1(0x2c), DT_PD | F_REGG), FM("cvttsd2si q", 0xf2, O1(0x2c), DT_PD | F_REGG | F_W),
    FM("cvtss2si", 0xf3, O1(0x2d), DT_PS | F_REGG), FM("cvtss2si q", 0xf3, O1(0x2d), DT_PS | F_REGG | F_W),
    FM("cvtsd2si", 0xf2, O1(0x2d), DT_PD | F_REGG), FM("cvtsd2si q", 0xf2, O1(0x2d), DT_PD | F_REGG | F_W),
    FM("ucomiss", 0, O1(0x2e), DT_PS), FM("ucomisd", 0x66, O1(0x2e), DT_PD),
    FM("comiss", 0, O1(0x2f), DT_PS), FM("comisd", 0x66, O1(0x2f), DT_PD),
    FM("movmskps", 0, O1(0x50), DT_PS | F_REGG | F_REGONLY), FM("movmskpd", 0x66, O1(0x50), DT_PD | F_REGG | F_REGONLY),
    FP4("sqrt", 0x51),
    FM("rsqrtps", 0, O1(0x52), DT_PS | F_APPROX), FM("rsqrtss", 0xf3, O1(0x52), DT_PS | F_APPROX),
    FM("rcpps", 0, O1(0x53), DT_PS | F_APPROX), FM("rcpss", 0xf3, O1(0x53), DT_PS | F_APPROX),
    FM("andps", 0, O1(0x54), DT_PS), FM("andpd", 0x66, O1(0x54), DT_PD),
    FM("andnps", 0, O1(0x55), DT_PS), FM("orpd", 0x66, O1(0x56), DT_PD), FM("xorps", 0, O1(0x57), DT_PS),
    FP4("add", 0x58), FP4("mul", 0x59),
    FM("cvtps2pd", 0, O1(0x5a), DT_PS), FM("cvtpd2ps", 0x66, O1(0x5a), DT_PD),
    FM("cvtss2sd", 0xf3, O1(0x5a), DT_PS), FM("cvtsd2ss", 0xf2, O1(0x5a), DT_PD),
    FM("cvtdq2ps", 0, O1(0x5b), 0), FM("cvtps2dq", 0x66, O1(0x5b), DT_PS), FM("cvttps2dq", 0xf3, O1(0x5b), DT_PS),
    FP4("sub", 0x5c), FP4("min", 0x5d), FP4("div", 0x5e), FP4("max", 0x5f),
    /* MMX/SSE2 integer */
    IMX("punpcklbw", 0x60), IMX("punpcklwd", 0x61), IMX("punpckldq", 0x62), IMX("packsswb", 0x63),
    IMX("pcmpgtb", 0x64), IMX("pcmpgtw", 0x65), IMX("pcmpgtd", 0x66), IMX("packuswb", 0x67),
    IMX("punpckhbw", 0x68), IMX("punpckhwd", 0x69), IMX("punpckhdq", 0x6a), IMX("packssdw", 0x6b),
    FM("punpcklqdq", 0x66, O1(0x6c), 0), FM("punpckhqdq", 0x66, O1(0x6d), 0),
    FM("movd mm,r", 0, O1(0x6e), F_MMX | F_RMG), FM("movq mm,r", 0, O1(0x6e), F_MMX | F_RMG | F_W),
    FM("movd xmm,r", 0x66, O1(0x6e), F_RMG), FM("movq xmm,r", 0x66, O1(0x6e), F_RMG | F_W),
    FM("movq mm", 0, O1(0x6f), F_MMX), FM("movdqa", 0x66, O1(0x6f), 0), FM("movdqu", 0xf3, O1(0x6f), 0),
    FM("pshufw", 0, O1(0x70), F_MMX | F_IMM), FM("pshufd", 0x66, O1(0x70), F_IMM),
    FM("pshufhw", 0xf3, O1(0x70), F_IMM), FM("pshuflw", 0xf2, O1(0x70), F_IMM),
    FD("psrlw mm,i", 0, O1(0x71), 2, F_MMX | F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psraw mm,i", 0, O1(0x71), 4, F_MMX | F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psllw mm,i", 0, O1(0x71), 6, F_MMX | F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psrlw x,i", 0x66, O1(0x71), 2, F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psraw x,i", 0x66, O1(0x71), 4, F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psllw x,i", 0x66, O1(0x71), 6, F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psrld mm,i", 0, O1(0x72), 2, F_MMX | F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psrad x,i", 0x66, O1(0x72), 4, F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("pslld x,i", 0x66, O1(0x72), 6, F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psrlq mm,i", 0, O1(0x73), 2, F_MMX | F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psllq x,i", 0x66, O1(0x73), 6, F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("psrldq", 0x66, O1(0x73), 3, F_IMM | F_REGONLY | F_SHIFTIMM),
    FD("pslldq", 0x66, O1(0x73), 7, F_IMM | F_REGONLY | F_SHIFTIMM),
    IMX("pcmpeqb", 0x74), IMX("pcmpeqw", 0x75), IMX("pcmpeqd", 0x76),
    FM("haddpd", 0x66, O1(0x7c), DT_PD), FM("haddps", 0xf2, O1(0x7c), DT_PS),
    FM("hsubpd", 0x66, O1(0x7d), DT_PD), FM("hsubps", 0xf2, O1(0x7d), DT_PS),
    FM("movd r,mm", 0, O1(0x7e), F_MMX | F_RMG), FM("movq r,mm", 0, O1(0x7e), F_MMX | F_RMG | F_W),
    FM("movd r,xmm", 0x66, O1(0x7e), F_RMG), FM("movq r,xmm", 0x66, O1(0x7e), F_RMG | F_W),
    FM("movq xmm,xmm/m64", 0xf3, O1(0x7e), 0),
    FM("movq mm st", 0, O1(0x7f), F_MMX), FM("movdqa st", 0x66, O1(0x7f), 0), FM("movdqu st", 0xf3, O1(0x7f), 0),
    FM("cmpps", 0, O1(0xc2), DT_PS | F_IMM), FM("cmppd", 0x66, O1(0xc2), DT_PD | F_IMM),
    FM("cmpss", 0xf3, O1(0xc2), DT_PS | F_IMM), FM("cmpsd", 0xf2, O1(0xc2), DT_PD | F_IMM),
    FM("pinsrw mm", 0, O1(0xc4), F_MMX | F_RMG | F_IMM), FM("pinsrw xmm", 0x66, O1(0xc4), F_RMG | F_IMM),
    FM("pextrw mm", 0, O1(0xc5), F_MMX | F_REGG | F_REGONLY | F_IMM),
    FM("pextrw xmm", 0x66, O1(0xc5), F_REGG | F_REGONLY | F_IMM),
    FM("shufps", 0, O1(0xc6), DT_PS | F_IMM), FM("shufpd", 0x66, O1(0xc6), DT_PD | F_IMM),
    FM("addsubpd", 0x66, O1(0xd0), DT_PD), FM("addsubps", 0xf2, O1(0xd0), DT_PS),
    IMX("psrlw", 0xd1), IMX("psrld", 0xd2), IMX("psrlq", 0xd3), IMX("paddq", 0xd4), IMX("pmullw", 0xd5),
    FM("movq st", 0x66, O1(0xd6), 0), FM("movq2dq", 0xf3, O1(0xd6), F_RMMM | F_REGONLY),
    FM("movdq2q", 0xf2, O1(0xd6), F_REGMM | F_REGONLY),
    FM("pmovmskb mm", 0, O1(0xd7), F_MMX | F_REGG | F_REGONLY), FM("pmovmskb xmm", 0x66, O1(0xd7), F_REGG | F_REGONLY),
    IMX("psubusb", 0xd8), IMX("psubusw", 0xd9), IMX("pminub", 0xda), IMX("pand", 0xdb),
    IMX("paddusb", 0xdc), IMX("paddusw", 0xdd), IMX("pmaxub", 0xde), IMX("pandn", 0xdf),
    IMX("pavgb", 0xe0), IMX("psraw", 0xe1), IMX("psrad", 0xe2), IMX("pavgw", 0xe3),
    IMX("pmulhuw", 0xe4), IMX("pmulhw", 0xe5),
    FM("cvttpd2dq", 0x66, O1(0xe6), DT_PD), FM("cvtdq2pd", 0xf3, O1(0xe6), 0), FM("cvtpd2dq", 0xf2, O1(0xe6), DT_PD),
    FM("movntq", 0, O1(0xe7), F_MMX | F_MEMONLY), FM("movntdq", 0x66, O1(0xe7), F_MEMONLY),
    IMX("psubsb", 0xe8), IMX("psubsw", 0xe9), IMX("pminsw", 0xea), IMX("por", 0xeb),
    IMX("paddsb", 0xec), IMX("paddsw", 0xed), IMX("pmaxsw", 0xee), IMX("pxor", 0xef),
    FM("lddqu", 0xf2, O1(0xf0), F_MEMONLY),
    IMX("psllw", 0xf1), IMX("pslld", 0xf2), IMX("psllq", 0xf3), IMX("pmuludq", 0xf4),
    IMX("pmaddwd", 0xf5), IMX("psadbw", 0xf6),
    FM("maskmovq", 0, O1(0xf7), F_MMX | F_REGONLY), FM("maskmovdqu", 0x66, O1(0xf7), F_REGONLY),
    IMX("psubb", 0xf8), IMX("psubw", 0xf9), IMX("psubd", 0xfa), IMX("psubq", 0xfb),
    IMX("paddb", 0xfc), IMX("paddw", 0xfd), IMX("paddd", 0xfe),
    /* SSSE3 */
    I38("pshufb", 0x00), I38("phaddw", 0x01), I38("phaddd", 0x02), I38("phaddsw", 0x03),
    I38("pmaddubsw", 0x04), I38("phsubw", 0x05), I38("phsubd", 0x06), I38("phsubsw", 0x07),
    I38("psignb", 0x08), I38("psignw", 0x09), I38("psignd", 0x0a), I38("pmulhrsw", 0x0b),
    I38("pabsb", 0x1c), I38("pabsw", 0x1d), I38("pabsd", 0x1e),
    FM("palignr mm", 0, O3A(0x0f), F_MMX | F_IMM | F_SHIFTIMM), FM("palignr xmm", 0x66, O3A(0x0f), F_IMM | F_SHIFTIMM),
    /* SSE4.1 */
    FM("pblendvb", 0x66, O38(0x10), 0), FM("blendvps", 0x66, O38(0x14), DT_PS), FM("blendvpd", 0x66, O38(0x15), DT_PD),
    FM("ptest", 0x66, O38(0x17), 0),
    FM("pmovsxbw", 0x66, O38(0x20), 0), FM("pmovsxbd", 0x66, O38(0x21), 0), FM("pmovsxbq", 0x66, O38(0x22), 0),
    FM("pmovsxwd", 0x66, O38(0x23), 0), FM("pmovsxwq", 0x66, O38(0x24), 0), FM("pmovsxdq", 0x66, O38(0x25), 0),
    FM("pmuldq", 0x66, O38(0x28), 0), FM("pcmpeqq", 0x66, O38(0x29), 0),
    FM("movntdqa", 0x66, O38(0x2a), F_MEMONLY), FM("packusdw", 0x66, O38(0x2b), 0),
    FM("pmovzxbw", 0x66, O38(0x30), 0), FM("pmovzxbd", 0x66, O38(0x31), 0), FM("pmovzxbq", 0x66, O38(0x32), 0),
    FM("pmovzxwd", 0x66, O38(0x33), 0), FM("pmovzxwq", 0x66, O38(0x34), 0), FM("pmovzxdq", 0x66, O38(0x35), 0),
    FM("pcmpgtq", 0x66, O38(0x37), 0),
    FM("pminsb", 0x66, O38(0x38), 0), FM("pminsd", 0x66, O38(0x39), 0), FM("pminuw", 0x66, O38(0x3a), 0),
    FM("pminud", 0x66, O38(0x3b), 0), FM("pmaxsb", 0x66, O38(0x3c), 0), FM("pmaxsd", 0x66, O38(0x3d), 0),
    FM("pmaxuw", 0x66, O38(0x3e), 0), FM("pmaxud", 0x66, O38(0x3f), 0),
    FM("pmulld", 0x66, O38(0x40), 0), FM("phminposuw", 0x66, O38(0x41), 0),
    FM("roundps", 0x66, O3A(0x08), DT_PS | F_IMM), FM("roundpd", 0x66, O3A(0x09), DT_PD | F_IMM),
    FM("roundss", 0x66, O3A(0x0a), DT_PS | F_IMM), FM("roundsd", 0x66, O3A(0x0b), DT_PD | F_IMM),
    FM("blendps", 0x66, O3A(0x0c), DT_PS | F_IMM), FM("blendpd", 0x66, O3A(0x0d), DT_PD | F_IMM),
    FM("pblendw", 0x66, O3A(0x0e), F_IMM),
    FM("pextrb", 0x66, O3A(0x14), F_RMG | F_IMM), FM("pextrw m", 0x66, O3A(0x15), F_RMG | F_IMM),
    FM("pextrd", 0x66, O3A(0x16), F_RMG | F_IMM), FM("pextrq", 0x66, O3A(0x16), F_RMG | F_IMM | F_W),
    FM("extractps", 0x66, O3A(0x17), F_RMG | F_IMM | DT_PS),
    FM("pinsrb", 0x66, O3A(0x20), F_RMG | F_IMM), FM("insertps", 0x66, O3A(0x21), F_IMM | DT_PS),
    FM("pinsrd", 0x66, O3A(0x22), F_RMG | F_IMM), FM("pinsrq", 0x66, O3A(0x22), F_RMG | F_IMM | F_W),
    FM("dpps", 0x66, O3A(0x40), DT_PS | F_IMM), FM("dppd", 0x66, O3A(0x41), DT_PD | F_IMM),
    FM("mpsadbw", 0x66, O3A(0x42), F_IMM),
    /* SSE4.2 */
    FM("pcmpestrm", 0x66, O3A(0x60), DT_STR | F_IMM), FM("pcmpestri", 0x66, O3A(0x61), DT_STR | F_IMM),
    FM("pcmpestrm q", 0x66, O3A(0x60), DT_STR | F_IMM | F_W), FM("pcmpestri q", 0x66, O3A(0x61), DT_STR | F_IMM | F_W),
    FM("pcmpistrm", 0x66, O3A(0x62), DT_STR | F_IMM), FM("pcmpistri", 0x66, O3A(0x63), DT_STR | F_IMM),
    /* MOVBE, CRC32 */
    FM("movbe r,m", 0, O38(0xf0), F_REGG | F_MEMONLY | F_NOSSE), FM("movbe m,r", 0, O38(0xf1), F_REGG | F_MEMONLY | F_NOSSE),
    FM("movbe r16", 0x66, O38(0xf0), F_REGG | F_MEMONLY | F_NOSSE), FM("movbe q", 0, O38(0xf1), F_REGG | F_MEMONLY | F_W | F_NOSSE),
    FM("crc32 b", 0xf2, O38(0xf0), F_REGG | F_RMG | F_NOSSE), FM("crc32 d", 0xf2, O38(0xf1), F_REGG | F_RMG | F_NOSSE),
    FM("crc32 q", 0xf2, O38(0xf1), F_REGG | F_RMG | F_W | F_NOSSE),
};

/* ------------------------------------------------------------------ values */

static uint64_t rs = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return rs * 0x2545f4914f6cdd1dull;
}

static uint32_t rand_f32(void)
{
    static const uint32_t sp[] = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff812345,
        0x7fd00001, 0x00000001, 0x807fffff, 0x00400000, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x80800000,
        0x3f800000, 0xbfc00000, 0x4f000000, 0xcf000000, 0x4effffff, 0xcf000001, 0x5f000000, 0xdf000000,
        0x3f000000, 0x3fc00000, 0x40200000, 0xbf000000, 0x33800000, 0x0d000000, 0x72000000,
    };
    uint64_t r = rnd();
    switch (r % 8) {
    case 0: case 1: case 2: return sp[(r >> 8) % (sizeof sp / sizeof sp[0])];
    case 3: { float f = (float)((int)((r >> 8) % 2001) - 1000) / 4.0f; uint32_t u; memcpy(&u, &f, 4); return u; }
    case 4: return (uint32_t)(r >> 16) & 0x807fffff;                     /* denormal */
    default: return ((uint32_t)(r >> 8) & 0xbfffffff) | ((uint32_t)(r >> 3) & 0x40000000 ? 0x30000000 : 0);
    }
}

static uint64_t rand_f64(void)
{
    static const uint64_t sp[] = {
        0, 0x8000000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
        0xfff8000000000000ull, 0x7ff0000000000001ull, 0xfff0000012345678ull, 0x0000000000000001ull,
        0x800fffffffffffffull, 0x7fefffffffffffffull, 0x0010000000000000ull, 0x3ff0000000000000ull,
        0xbff8000000000000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull, 0x41dfffffffc00000ull,
        0xc1e0000000200000ull, 0x43e0000000000000ull, 0xc3e0000000000000ull, 0x3fe0000000000000ull,
        0x3ff8000000000000ull, 0x47efffffe0000000ull, 0x36a0000000000000ull, 0x3810000000000000ull,
        0x380fffffffffffffull,
    };
    uint64_t r = rnd();
    switch (r % 8) {
    case 0: case 1: case 2: return sp[(r >> 8) % (sizeof sp / sizeof sp[0])];
    case 3: { double f = (double)((int)((r >> 8) % 2001) - 1000) / 8.0; uint64_t u; memcpy(&u, &f, 8); return u; }
    case 4: return rnd() & 0x800fffffffffffffull;
    default: {
        uint64_t u = rnd();
        unsigned e = (unsigned)(0x380 + (rnd() % 0x100));           /* around float range */
        if (r & 0x100)
            e = (unsigned)(rnd() % 0x7ff);
        return (u & 0x800fffffffffffffull) | (uint64_t)e << 52;
    }
    }
}

static uint64_t rand_int64(void)
{
    static const uint64_t sp[] = { 0, ~0ull, 0x8000000000000000ull, 0x7fffffffffffffffull, 1,
                                   0x8080808080808080ull, 0x7f7f7f7f7f7f7f7full, 0x8000800080008000ull,
                                   0x7fff7fff7fff7fffull, 0x0000ffff0000ffffull, 0xff00ff00ff00ff00ull };
    uint64_t r = rnd();
    if (r % 4 == 0)
        return sp[(r >> 8) % (sizeof sp / sizeof sp[0])];
    if (r % 4 == 1)
        return rnd() % 64;          /* shift counts */
    return rnd();
}

/* Strings: a small alphabet with zeros, so that matches, ranges and terminators occur. */
static uint64_t rand_str(void)
{
    static const uint8_t al[] = { 'a', 'b', 'c', 'z', 'A', 0x80, 0xff, 0x7f, 0, 1 };
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) {
        uint64_t r = rnd();
        uint8_t ch = (r % 16 == 0) ? 0 : al[(r >> 8) % (sizeof al / sizeof al[0])];
        v |= (uint64_t)ch << (8 * k);
    }
    return v;
}

static void fill128(void *dst, unsigned dt)
{
    uint64_t q[2];
    for (int k = 0; k < 2; k++) {
        switch (dt) {
        case DT_PS: q[k] = rand_f32() | (uint64_t)rand_f32() << 32; break;
        case DT_PD: q[k] = rand_f64(); break;
        case DT_STR: q[k] = rand_str(); break;
        default: q[k] = rand_int64(); break;
        }
    }
    memcpy(dst, q, 16);
}

static uint32_t rand_mxcsr(void)
{
    uint64_t r = rnd();
    uint32_t m = (uint32_t)((r & 3) << 13);                  /* RC */
    if ((r >> 2) % 4 == 0)
        m |= 0x40;                                           /* DAZ */
    if ((r >> 4) % 4 == 0)
        m |= 0x8000;                                         /* FTZ */
    m |= (r >> 6) % 5 == 0 ? (uint32_t)((r >> 10) & 0x1f80) : 0x1f80u;   /* masks */
    if ((r >> 20) % 2)
        m |= (uint32_t)((r >> 24) & 0x3f);                   /* sticky flags */
    return m;
}

/* A GPR field value: not RSP (the harness keeps the host stack) and not RBX (the base). */
static unsigned rand_gpr(unsigned nregs)
{
    for (;;) {
        unsigned r = (unsigned)(rnd() % nregs);
        if (r != RSP && r != RBX)
            return r;
    }
}

static void make_case(const struct form *f, struct sse_case *c, unsigned k, bool compat)
{
    memset(c, 0, sizeof *c);
    unsigned nregs = compat ? 8 : 16;       /* no REX in compatibility mode */
    c->compat32 = compat;
    unsigned dt = f->fl & 3;
    for (int r = 0; r < 16; r++)
        fill128(&c->in.xmm[r], dt);
    for (int r = 0; r < 8; r++)
        c->in.mm[r] = dt == DT_STR ? rand_str() : rand_int64();
    for (int r = 0; r < 16; r++)
        c->in.gpr[r] = rand_int64();
    for (unsigned o = 0; o < SSE_SCRATCH_SIZE; o += 16)
        fill128(c->mem + o, dt);
    if (dt == DT_STR) {                                      /* explicit lengths around -20..20 */
        c->in.gpr[RAX] = (uint64_t)(int64_t)((int)(rnd() % 41) - 20);
        c->in.gpr[RDX] = (uint64_t)(int64_t)((int)(rnd() % 41) - 20);
        if (rnd() % 8 == 0)
            c->in.gpr[RDX] ^= 0x100000000ull;                /* high half matters only with REX.W */
    }
    c->in.rflags = rnd() & (FL_ARITH);
    c->in.mxcsr = (f->fl & F_NOSSE) ? 0x1f80 : rand_mxcsr();
    c->gpr_mask = 0xffff & ~(1u << RSP);
    c->flag_mask = FL_ARITH;
    c->mmx = true;
    c->approx = f->fl & F_APPROX;

    bool mem = !(f->fl & F_REGONLY) && ((f->fl & F_MEMONLY) || rnd() % 2);
    unsigned reg, rm = 0;
    bool regmm = f->fl & (F_MMX | F_REGMM), rmmm = f->fl & (F_MMX | F_RMMM);
    if (f->digit >= 0)
        reg = (unsigned)f->digit;
    else if (f->fl & F_REGG)
        reg = rand_gpr(nregs);
    else
        reg = (unsigned)(rnd() % (regmm ? 8 : nregs));
    if (!mem)
        rm = (f->fl & F_RMG) ? rand_gpr(nregs) : (unsigned)(rnd() % (rmmm ? 8 : nregs));
    /* MASKMOVQ/MASKMOVDQU store to [RDI]: point RDI into the scratch. */
    if (f->op[1] == 0xf7 && f->oplen == 2)
        c->in.gpr[RDI] = SSE_SCRATCH + 0x200 + (rnd() % 64);
    unsigned mis = (rnd() % 8 == 0) ? (unsigned)(1 + rnd() % 15) : 0;   /* misaligned 1 in 8 */
    c->in.gpr[RBX] = SSE_SCRATCH + 0x400 + (rnd() % 8) * 0x100 + mis;

    uint8_t *p = c->code;
    if (f->pfx)
        *p++ = f->pfx;
    unsigned rex = (f->fl & F_W) ? 8 : 0;
    if (reg >= 8)
        rex |= 4;
    if (!mem && rm >= 8)
        rex |= 1;
    if (!compat && (rex || (rnd() % 8 == 0 && !(f->fl & F_MMX))))
        *p++ = (uint8_t)(0x40 | rex);
    memcpy(p, f->op, f->oplen);
    p += f->oplen;
    if (mem) {
        *p++ = (uint8_t)(0x40 | (reg & 7) << 3 | RBX);       /* [rbx + disp8] */
        *p++ = 0;
    } else {
        *p++ = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
    }
    if (f->fl & F_IMM) {
        uint8_t imm = (uint8_t)rnd();
        if (dt == DT_STR)
            imm = (uint8_t)(k & 0x7f) | (uint8_t)(rnd() & 0x80);  /* every mode, imm[7] is ignored */
        if ((f->fl & F_SHIFTIMM) && rnd() % 4)
            imm = (uint8_t)(rnd() % 20);
        *p++ = imm;
    }
    c->len = (uint8_t)(p - c->code);
}

/* With --compat32: the compatibility-mode pass only (ctest diff.diff_sse_compat32),
 * skipped on a host that runs no 32-bit code; without: the 64-bit pass. */
int main(int argc, char **argv)
{
    bool compat = diff_compat32_arg(argc, argv);
    struct sse_diff *d = sse_diff_init();
    static struct sse_case cases[CASES * 2];
    for (unsigned n = 0; n < sizeof forms / sizeof forms[0] && !compat; n++) {
        const struct form *f = &forms[n];
        unsigned cnt = (f->fl & 3) == DT_STR ? CASES * 2 : CASES;
        for (unsigned k = 0; k < cnt; k++)
            make_case(f, &cases[k], k, false);
        sse_diff_run(d, f->name, cases, cnt);
    }
    /* 32-bit compatibility mode: every form without REX.W, registers 0-7, half the cases. */
    for (unsigned n = 0; n < sizeof forms / sizeof forms[0] && compat; n++) {
        const struct form *f = &forms[n];
        if (f->fl & F_W)
            continue;
        unsigned cnt = (f->fl & 3) == DT_STR ? CASES : CASES / 2;
        for (unsigned k = 0; k < cnt; k++)
            make_case(f, &cases[k], 2 * k, true);
        char name[64];
        snprintf(name, sizeof name, "%s (compat32)", f->name);
        sse_diff_run(d, name, cases, cnt);
    }
    if (sse_diff_faults(d) == 0) {
        printf("no case faulted natively: the exception paths were not exercised\n");
        return 1;
    }
    return sse_diff_finish(d);
}
