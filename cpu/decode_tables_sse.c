/* Mandatory-prefix tables of the SSE/MMX opcodes (SDM Vol. 2 Appendix A, Tables A-3,
 * for each opcode of the 0F, 0F 38 and 0F 3A maps, four columns
 * [none, 66, F3, F2] (F2/F3 win over 66).  cpu/decode.c reaches the 0F rows through
 * SP_SSE entries of op_map0f and the three-byte maps through their escapes; an empty
 * cell is #UD with the length of a ModRM (+Ib) form.  Row format: cpu/decode_tab.h.
 *
 * Operand letters (SDM A.2.1): V/P = XMM/MMX register in ModRM.reg, W/Q = XMM/MMX
 * register or memory in ModRM.rm (the handlers know the width), U/N = register-only
 * forms (the handler raises #UD for memory), Mx = memory only.
 */
#include "cpu/decode_tab.h"

#define V   OPS(OPK_REG, SZ_NONE, IM_NONE)
#define W   OPS(OPK_RM, SZ_NONE, IM_NONE)
#define Mx  OPS(OPK_MEM, SZ_NONE, IM_NONE)
#define Gd  OPS(OPK_REG, SZ_D, IM_NONE)

#define O(mn, h, a, b, c) { .name = mn, .kind = ROW_OP, .hid = HID_##h, .opnd = { a, b, c } }
/* Register-only forms (U/N operands); ORD: with the mask of valid /digits (groups 12-14). */
#define ORD(mn, h, dg) { .name = mn, .kind = ROW_OP, .hid = HID_##h, .flags = R_REGONLY, .arg = (dg), .opnd = { W, Ib, __ } }
#define OR(mn, h, a, b, c) { .name = mn, .kind = ROW_OP, .hid = HID_##h, .flags = R_REGONLY, .opnd = { a, b, c } }
#define NO { 0 }
/* Same handler and operands in the none and 66 columns (MMX and XMM forms). */
#define MX(op, mn, h) [op] = { O(mn, h, V, W, __), O(mn, h, V, W, __), NO, NO }
/* 66 column only. */
#define X66(op, mn, h, a, b, c) [op] = { NO, O(mn, h, a, b, c), NO, NO }
/* The four floating-point forms PS/PD/SS/SD of one handler. */
#define FP4(op, mn, h) [op] = { O(mn "ps", h, V, W, __), O(mn "pd", h, V, W, __), \
                                O(mn "ss", h, V, W, __), O(mn "sd", h, V, W, __) }
#define FP2(op, mn, h) [op] = { O(mn "ps", h, V, W, __), O(mn "pd", h, V, W, __), NO, NO }

const struct op_row op_sse0f[256][4] = {
    [0x10] = { O("movups", movu, V, W, __), O("movupd", movu, V, W, __),
               O("movss", movu, V, W, __), O("movsd", movu, V, W, __) },
    [0x11] = { O("movups", movu_st, W, V, __), O("movupd", movu_st, W, V, __),
               O("movss", movu_st, W, V, __), O("movsd", movu_st, W, V, __) },
    [0x12] = { O("movlps", movlps, V, W, __), O("movlpd", movlpd, V, Mx, __),
               O("movsldup", movsldup, V, W, __), O("movddup", movddup, V, W, __) },
    [0x13] = { O("movlps", movlps_st, Mx, V, __), O("movlpd", movlps_st, Mx, V, __), NO, NO },
    FP2(0x14, "unpckl", unpcklp),
    FP2(0x15, "unpckh", unpckhp),
    [0x16] = { O("movhps", movhps, V, W, __), O("movhpd", movhpd, V, Mx, __),
               O("movshdup", movshdup, V, W, __), NO },
    [0x17] = { O("movhps", movhps_st, Mx, V, __), O("movhpd", movhps_st, Mx, V, __), NO, NO },
    [0x28] = { O("movaps", mova, V, W, __), O("movapd", mova, V, W, __), NO, NO },
    [0x29] = { O("movaps", mova_st, W, V, __), O("movapd", mova_st, W, V, __), NO, NO },
    [0x2a] = { O("cvtpi2ps", cvtpi2p, V, W, __), O("cvtpi2pd", cvtpi2p, V, W, __),
               O("cvtsi2ss", cvtsi2s, V, Ey, __), O("cvtsi2sd", cvtsi2s, V, Ey, __) },
    [0x2b] = { O("movntps", mova_st, Mx, V, __), O("movntpd", mova_st, Mx, V, __), NO, NO },
    [0x2c] = { O("cvttps2pi", cvtp2pi, V, W, __), O("cvttpd2pi", cvtp2pi, V, W, __),
               O("cvttss2si", cvts2si, Gy, W, __), O("cvttsd2si", cvts2si, Gy, W, __) },
    [0x2d] = { O("cvtps2pi", cvtp2pi, V, W, __), O("cvtpd2pi", cvtp2pi, V, W, __),
               O("cvtss2si", cvts2si, Gy, W, __), O("cvtsd2si", cvts2si, Gy, W, __) },
    [0x2e] = { O("ucomiss", comis, V, W, __), O("ucomisd", comis, V, W, __), NO, NO },
    [0x2f] = { O("comiss", comis, V, W, __), O("comisd", comis, V, W, __), NO, NO },
    [0x50] = { OR("movmskps", movmskp, Gd, W, __), OR("movmskpd", movmskp, Gd, W, __), NO, NO },
    FP4(0x51, "sqrt", sqrtp),
    [0x52] = { O("rsqrtps", rsqrtp, V, W, __), NO, O("rsqrtss", rsqrtp, V, W, __), NO },
    [0x53] = { O("rcpps", rcpp, V, W, __), NO, O("rcpss", rcpp, V, W, __), NO },
    FP2(0x54, "and", andp), FP2(0x55, "andn", andnp), FP2(0x56, "or", orp), FP2(0x57, "xor", xorp),
    FP4(0x58, "add", addp), FP4(0x59, "mul", mulp),
    [0x5a] = { O("cvtps2pd", cvtfp, V, W, __), O("cvtpd2ps", cvtfp, V, W, __),
               O("cvtss2sd", cvtfp, V, W, __), O("cvtsd2ss", cvtfp, V, W, __) },
    [0x5b] = { O("cvtdq2ps", cvtdq2ps, V, W, __), O("cvtps2dq", cvtps2dq, V, W, __),
               O("cvttps2dq", cvtps2dq, V, W, __), NO },
    FP4(0x5c, "sub", subp), FP4(0x5d, "min", minp), FP4(0x5e, "div", divp), FP4(0x5f, "max", maxp),
    MX(0x60, "punpcklbw", punpcklbw), MX(0x61, "punpcklwd", punpcklwd),
    MX(0x62, "punpckldq", punpckldq), MX(0x63, "packsswb", packsswb),
    MX(0x64, "pcmpgtb", pcmpgtb), MX(0x65, "pcmpgtw", pcmpgtw), MX(0x66, "pcmpgtd", pcmpgtd),
    MX(0x67, "packuswb", packuswb), MX(0x68, "punpckhbw", punpckhbw),
    MX(0x69, "punpckhwd", punpckhwd), MX(0x6a, "punpckhdq", punpckhdq),
    MX(0x6b, "packssdw", packssdw),
    X66(0x6c, "punpcklqdq", punpcklqdq, V, W, __), X66(0x6d, "punpckhqdq", punpckhqdq, V, W, __),
    [0x6e] = { O("movd", movd_to, V, Ey, __), O("movd", movd_to, V, Ey, __), NO, NO },
    [0x6f] = { O("movq", movq_mm, V, W, __), O("movdqa", movdqa, V, W, __),
               O("movdqu", movdqu, V, W, __), NO },
    [0x70] = { O("pshufw", pshufw, V, W, Ib), O("pshufd", pshufd, V, W, Ib),
               O("pshufhw", pshufhw, V, W, Ib), O("pshuflw", pshuflw, V, W, Ib) },
    /* Groups 12-14 (SDM Vol. 2 Table A-6): /2 PSRL, /4 PSRA, /6 PSLL; 66 0F 73 /3 PSRLDQ, /7 PSLLDQ. */
    [0x71] = { ORD("psxxw", pshift_imm, 0x54), ORD("psxxw", pshift_imm, 0x54), NO, NO },
    [0x72] = { ORD("psxxd", pshift_imm, 0x54), ORD("psxxd", pshift_imm, 0x54), NO, NO },
    [0x73] = { ORD("psxxq", pshift_imm, 0x44), ORD("psxxq", pshift_imm, 0xcc), NO, NO },
    MX(0x74, "pcmpeqb", pcmpeqb), MX(0x75, "pcmpeqw", pcmpeqw), MX(0x76, "pcmpeqd", pcmpeqd),
    [0x7c] = { NO, O("haddpd", haddp, V, W, __), NO, O("haddps", haddp, V, W, __) },
    [0x7d] = { NO, O("hsubpd", hsubp, V, W, __), NO, O("hsubps", hsubp, V, W, __) },
    [0x7e] = { O("movd", movd_from, Ey, V, __), O("movd", movd_from, Ey, V, __),
               O("movq", movq_load, V, W, __), NO },
    [0x7f] = { O("movq", movq_mm_st, W, V, __), O("movdqa", movdqa_st, W, V, __),
               O("movdqu", movdqu_st, W, V, __), NO },
    [0xc2] = { O("cmpps", cmpp, V, W, Ib), O("cmppd", cmpp, V, W, Ib),
               O("cmpss", cmpp, V, W, Ib), O("cmpsd", cmpp, V, W, Ib) },
    [0xc4] = { O("pinsrw", pinsrw, V, Ey, Ib), O("pinsrw", pinsrw, V, Ey, Ib), NO, NO },
    [0xc5] = { OR("pextrw", pextrw, Gd, W, Ib), OR("pextrw", pextrw, Gd, W, Ib), NO, NO },
    [0xc6] = { O("shufps", shufp, V, W, Ib), O("shufpd", shufp, V, W, Ib), NO, NO },
    [0xd0] = { NO, O("addsubpd", addsubp, V, W, __), NO, O("addsubps", addsubp, V, W, __) },
    MX(0xd1, "psrlw", psrlw), MX(0xd2, "psrld", psrld), MX(0xd3, "psrlq", psrlq),
    MX(0xd4, "paddq", paddq), MX(0xd5, "pmullw", pmullw),
    [0xd6] = { NO, O("movq", movq_st, W, V, __), OR("movq2dq", movq2dq, V, W, __),
               OR("movdq2q", movdq2q, V, W, __) },
    [0xd7] = { OR("pmovmskb", pmovmskb, Gd, W, __), OR("pmovmskb", pmovmskb, Gd, W, __), NO, NO },
    MX(0xd8, "psubusb", psubusb), MX(0xd9, "psubusw", psubusw), MX(0xda, "pminub", pminub),
    MX(0xdb, "pand", pand), MX(0xdc, "paddusb", paddusb), MX(0xdd, "paddusw", paddusw),
    MX(0xde, "pmaxub", pmaxub), MX(0xdf, "pandn", pandn),
    MX(0xe0, "pavgb", pavgb), MX(0xe1, "psraw", psraw), MX(0xe2, "psrad", psrad),
    MX(0xe3, "pavgw", pavgw), MX(0xe4, "pmulhuw", pmulhuw), MX(0xe5, "pmulhw", pmulhw),
    [0xe6] = { NO, O("cvttpd2dq", cvtpd2dq, V, W, __), O("cvtdq2pd", cvtdq2pd, V, W, __),
               O("cvtpd2dq", cvtpd2dq, V, W, __) },
    [0xe7] = { O("movntq", movntq, Mx, V, __), O("movntdq", movdqa_st, Mx, V, __), NO, NO },
    MX(0xe8, "psubsb", psubsb), MX(0xe9, "psubsw", psubsw), MX(0xea, "pminsw", pminsw),
    MX(0xeb, "por", por), MX(0xec, "paddsb", paddsb), MX(0xed, "paddsw", paddsw),
    MX(0xee, "pmaxsw", pmaxsw), MX(0xef, "pxor", pxor),
    [0xf0] = { NO, NO, NO, O("lddqu", lddqu, V, Mx, __) },
    MX(0xf1, "psllw", psllw), MX(0xf2, "pslld", pslld), MX(0xf3, "psllq", psllq),
    MX(0xf4, "pmuludq", pmuludq), MX(0xf5, "pmaddwd", pmaddwd), MX(0xf6, "psadbw", psadbw),
    [0xf7] = { OR("maskmovq", maskmov, V, W, __), OR("maskmovdqu", maskmov, V, W, __), NO, NO },
    MX(0xf8, "psubb", psubb), MX(0xf9, "psubw", psubw), MX(0xfa, "psubd", psubd),
    MX(0xfb, "psubq", psubq), MX(0xfc, "paddb", paddb), MX(0xfd, "paddw", paddw),
    MX(0xfe, "paddd", paddd),
};

const struct op_row op_sse38[256][4] = {
    MX(0x00, "pshufb", pshufb), MX(0x01, "phaddw", phaddw), MX(0x02, "phaddd", phaddd),
    MX(0x03, "phaddsw", phaddsw), MX(0x04, "pmaddubsw", pmaddubsw), MX(0x05, "phsubw", phsubw),
    MX(0x06, "phsubd", phsubd), MX(0x07, "phsubsw", phsubsw), MX(0x08, "psignb", psignb),
    MX(0x09, "psignw", psignw), MX(0x0a, "psignd", psignd), MX(0x0b, "pmulhrsw", pmulhrsw),
    X66(0x10, "pblendvb", pblendvb, V, W, __),
    X66(0x14, "blendvps", blendvp, V, W, __), X66(0x15, "blendvpd", blendvp, V, W, __),
    X66(0x17, "ptest", ptest, V, W, __),
    MX(0x1c, "pabsb", pabsb), MX(0x1d, "pabsw", pabsw), MX(0x1e, "pabsd", pabsd),
    X66(0x20, "pmovsxbw", pmovx, V, W, __), X66(0x21, "pmovsxbd", pmovx, V, W, __),
    X66(0x22, "pmovsxbq", pmovx, V, W, __), X66(0x23, "pmovsxwd", pmovx, V, W, __),
    X66(0x24, "pmovsxwq", pmovx, V, W, __), X66(0x25, "pmovsxdq", pmovx, V, W, __),
    X66(0x28, "pmuldq", pmuldq, V, W, __), X66(0x29, "pcmpeqq", pcmpeqq, V, W, __),
    X66(0x2a, "movntdqa", movntdqa, V, Mx, __), X66(0x2b, "packusdw", packusdw, V, W, __),
    X66(0x30, "pmovzxbw", pmovx, V, W, __), X66(0x31, "pmovzxbd", pmovx, V, W, __),
    X66(0x32, "pmovzxbq", pmovx, V, W, __), X66(0x33, "pmovzxwd", pmovx, V, W, __),
    X66(0x34, "pmovzxwq", pmovx, V, W, __), X66(0x35, "pmovzxdq", pmovx, V, W, __),
    X66(0x37, "pcmpgtq", pcmpgtq, V, W, __),
    X66(0x38, "pminsb", pminsb, V, W, __), X66(0x39, "pminsd", pminsd, V, W, __),
    X66(0x3a, "pminuw", pminuw, V, W, __), X66(0x3b, "pminud", pminud, V, W, __),
    X66(0x3c, "pmaxsb", pmaxsb, V, W, __), X66(0x3d, "pmaxsd", pmaxsd, V, W, __),
    X66(0x3e, "pmaxuw", pmaxuw, V, W, __), X66(0x3f, "pmaxud", pmaxud, V, W, __),
    X66(0x40, "pmulld", pmulld, V, W, __), X66(0x41, "phminposuw", phminposuw, V, W, __),
    /* MOVBE (SDM Vol. 2 MOVBE): Gv,Mv / Mv,Gv, also with 66; CRC32 Gy,Eb / Gy,Ev with F2. */
    [0xf0] = { O("movbe", movbe, Gv, Mv, __), O("movbe", movbe, Gv, Mv, __), NO,
               O("crc32", crc32, Gy, Eb, __) },
    [0xf1] = { O("movbe", movbe, Mv, Gv, __), O("movbe", movbe, Mv, Gv, __), NO,
               O("crc32", crc32, Gy, Ev, __) },
};

const struct op_row op_sse3a[256][4] = {
    X66(0x08, "roundps", roundp, V, W, Ib), X66(0x09, "roundpd", roundp, V, W, Ib),
    X66(0x0a, "roundss", roundp, V, W, Ib), X66(0x0b, "roundsd", roundp, V, W, Ib),
    X66(0x0c, "blendps", blendp, V, W, Ib), X66(0x0d, "blendpd", blendp, V, W, Ib),
    X66(0x0e, "pblendw", pblendw, V, W, Ib),
    [0x0f] = { O("palignr", palignr, V, W, Ib), O("palignr", palignr, V, W, Ib), NO, NO },
    X66(0x14, "pextrb", pextrb, W, V, Ib), X66(0x15, "pextrw", pextrb, W, V, Ib),
    X66(0x16, "pextrd", pextrb, W, V, Ib), X66(0x17, "extractps", extractps, W, V, Ib),
    X66(0x20, "pinsrb", pinsrb, V, W, Ib), X66(0x21, "insertps", insertps, V, W, Ib),
    X66(0x22, "pinsrd", pinsrb, V, W, Ib),
    X66(0x40, "dpps", dpp, V, W, Ib), X66(0x41, "dppd", dpp, V, W, Ib),
    X66(0x42, "mpsadbw", mpsadbw, V, W, Ib),
    X66(0x60, "pcmpestrm", pcmpstr, V, W, Ib), X66(0x61, "pcmpestri", pcmpstr, V, W, Ib),
    X66(0x62, "pcmpistrm", pcmpstr, V, W, Ib), X66(0x63, "pcmpistri", pcmpstr, V, W, Ib),
};
