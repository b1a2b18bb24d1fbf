/* Handlers of MMX, SSE..SSE4.2, POPCNT-era extras (MOVBE, CRC32); they live in cpu/sse_*.c.
 * Same convention as cpu/handlers.h: X(name) declares h_name.  A handler that serves
 * several mandatory-prefix columns (PS/PD/SS/SD, MMX/XMM) tells them apart with
 * sse_col() (cpu/sse.h).  LDMXCSR/STMXCSR/FXSAVE/XSAVE and EMMS are the x87 list's. */
#ifndef HVEMU_CPU_HANDLERS_SSE_H
#define HVEMU_CPU_HANDLERS_SSE_H

#define HVEMU_HANDLERS_SSE(X) \
    /* cpu/sse_mov.c: data movement */ \
    X(movu) X(movu_st) X(mova) X(mova_st) X(movlps) X(movlps_st) X(movhps) X(movhps_st) \
    X(movlpd) X(movhpd) X(movsldup) X(movshdup) X(movddup) X(movd_to) X(movd_from) \
    X(movq_mm) X(movq_mm_st) X(movdqa) X(movdqa_st) X(movdqu) X(movdqu_st) X(movq_load) \
    X(movq_st) X(movq2dq) X(movdq2q) X(movmskp) X(pmovmskb) X(maskmov) X(movntq) X(lddqu) \
    X(movntdqa) X(pinsrw) X(pextrw) X(pinsrb) X(pextrb) X(extractps) \
    X(insertps) X(movbe) X(crc32) \
    /* cpu/sse_fp.c: floating point (host SSE with the guest MXCSR) */ \
    X(addp) X(subp) X(mulp) X(divp) X(minp) X(maxp) X(sqrtp) X(rcpp) X(rsqrtp) \
    X(andp) X(andnp) X(orp) X(xorp) X(unpcklp) X(unpckhp) X(shufp) X(cmpp) X(comis) \
    X(addsubp) X(haddp) X(hsubp) X(cvtpi2p) X(cvtsi2s) X(cvtp2pi) X(cvts2si) X(cvtfp) \
    X(cvtdq2ps) X(cvtps2dq) X(cvtpd2dq) X(cvtdq2pd) X(roundp) X(blendp) X(blendvp) X(dpp) \
    /* cpu/sse_int.c: integer SIMD (MMX and XMM forms) */ \
    X(punpcklbw) X(punpcklwd) X(punpckldq) X(punpcklqdq) X(punpckhbw) X(punpckhwd) \
    X(punpckhdq) X(punpckhqdq) X(packsswb) X(packssdw) X(packuswb) X(packusdw) \
    X(pcmpeqb) X(pcmpeqw) X(pcmpeqd) X(pcmpeqq) X(pcmpgtb) X(pcmpgtw) X(pcmpgtd) X(pcmpgtq) \
    X(paddb) X(paddw) X(paddd) X(paddq) X(psubb) X(psubw) X(psubd) X(psubq) \
    X(paddsb) X(paddsw) X(paddusb) X(paddusw) X(psubsb) X(psubsw) X(psubusb) X(psubusw) \
    X(pmullw) X(pmulhw) X(pmulhuw) X(pmuludq) X(pmaddwd) X(pavgb) X(pavgw) X(psadbw) \
    X(pminub) X(pmaxub) X(pminsw) X(pmaxsw) X(pand) X(pandn) X(por) X(pxor) \
    X(psrlw) X(psrld) X(psrlq) X(psraw) X(psrad) X(psllw) X(pslld) X(psllq) X(pshift_imm) \
    X(pshufw) X(pshufd) X(pshufhw) X(pshuflw) \
    X(pshufb) X(phaddw) X(phaddd) X(phaddsw) X(phsubw) X(phsubd) X(phsubsw) X(pmaddubsw) \
    X(pmulhrsw) X(psignb) X(psignw) X(psignd) X(pabsb) X(pabsw) X(pabsd) X(palignr) \
    X(pmulld) X(pmuldq) X(pminsb) X(pminsd) X(pminuw) X(pminud) X(pmaxsb) X(pmaxsd) \
    X(pmaxuw) X(pmaxud) X(pblendw) X(pblendvb) X(pmovx) X(ptest) X(mpsadbw) X(phminposuw) \
    /* cpu/sse_str.c: SSE4.2 string compares */ \
    X(pcmpstr)

#endif
