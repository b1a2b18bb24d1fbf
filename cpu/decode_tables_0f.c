/* The two-byte opcode map (0F xx) and its groups, in SDM operand notation
 * (SDM Vol. 2 Appendix A, Tables ).  Row format: cpu/decode_tab.h.
 * SSE/MMX rows are UDROWs with their ModRM (and Ib where the map has one), so their
 * length is right even though they raise #UD.  0F 38 and 0F 3A (three-byte maps)
 * are resolved in cpu/decode.c; only INVPCID (66 0F 38 82) is implemented there.
 */
#include "cpu/decode_tab.h"

/* SSE/MMX opcodes: the row is chosen by mandatory prefix (cpu/decode_tables_sse.c). */
#define SSE(op)    SPECIAL(op, SP_SSE)
#define SSE_IB(op) SPECIAL(op, SP_SSE)
#define JCC(op)    ROW(op, jcc, Jz, __, __, R_F64 | R_BR | R_COND)
#define SETCC(op)  ROW(op, setcc, Eb, __, __, R_COND)
#define CMOVCC(op) ROW(op, cmovcc, Gv, Ev, __, R_COND)
#define HINT_NOP(op) ROWN(op, "nop", nop, Ev, __, __, 0)

const struct op_row op_map0f[256] = {
    GROUP(0x00, G6_0F00),
    GROUP(0x01, G7_0F01),
    ROW(0x02, lar, Gv, Ew, __, 0),
    ROW(0x03, lsl, Gv, Ew, __, 0),
    ROW(0x05, syscall, __, __, __, R_BR | R_END),
    ROW(0x06, clts, __, __, __, 0),
    ROW(0x07, sysret, __, __, __, R_BR | R_END),
    ROWN(0x08, "invd", wbinvd, __, __, __, 0),  /* INVD: no caches are modelled, same as WBINVD */
    ROW(0x09, wbinvd, __, __, __, 0),
    ROWN(0x0b, "ud2", ud, __, __, __, 0),
    /* 0F 0D: PREFETCH/PREFETCHW (AMD 3DNow! group P): hints, executed as NOP Ev. */
    ROWN(0x0d, "prefetch", nop, Ev, __, __, 0),
    UDROW(0x0e, "femms", __, __, 0),
    UDROW(0x0f, "3dnow", M, Ib, R_MODRM),
    SSE(0x10), SSE(0x11), SSE(0x12), SSE(0x13), SSE(0x14), SSE(0x15), SSE(0x16), SSE(0x17),
    /* 0F 18-1F: PREFETCHh (group 16), reserved hint NOPs, ENDBR (F3 0F 1E FA): all NOP Ev. */
    HINT_NOP(0x18), HINT_NOP(0x19), HINT_NOP(0x1a), HINT_NOP(0x1b),
    HINT_NOP(0x1c), HINT_NOP(0x1d), HINT_NOP(0x1e), HINT_NOP(0x1f),
    /* MOV to/from CR/DR: mod is ignored, 64-bit operands in 64-bit mode (SDM Vol. 2 MOV). */
    ROWN(0x20, "mov", mov_cr, Rv, Cd, __, R_F64 | R_REGFORM),
    ROWN(0x21, "mov", mov_dr, Rv, Dd, __, R_F64 | R_REGFORM),
    ROWN(0x22, "mov", mov_cr, Cd, Rv, __, R_F64 | R_REGFORM | R_END),
    ROWN(0x23, "mov", mov_dr, Dd, Rv, __, R_F64 | R_REGFORM | R_END),
    SSE(0x28), SSE(0x29), SSE(0x2a), SSE(0x2b), SSE(0x2c), SSE(0x2d), SSE(0x2e), SSE(0x2f),
    /* WRMSR may change EFER, the APIC state or the TSC: end the block. */
    ROW(0x30, wrmsr, __, __, __, R_END),
    ROW(0x31, rdtsc, __, __, __, 0),
    ROW(0x32, rdmsr, __, __, __, 0),
    ROW(0x33, rdpmc, __, __, __, 0),
    ROW(0x34, sysenter, __, __, __, R_BR | R_END),
    ROW(0x35, sysexit, __, __, __, R_BR | R_END),
    UDROW(0x37, "getsec", __, __, 0),
    SPECIAL(0x38, SP_ESC_0F38),
    SPECIAL(0x3a, SP_ESC_0F3A),
    CMOVCC(0x40), CMOVCC(0x41), CMOVCC(0x42), CMOVCC(0x43),
    CMOVCC(0x44), CMOVCC(0x45), CMOVCC(0x46), CMOVCC(0x47),
    CMOVCC(0x48), CMOVCC(0x49), CMOVCC(0x4a), CMOVCC(0x4b),
    CMOVCC(0x4c), CMOVCC(0x4d), CMOVCC(0x4e), CMOVCC(0x4f),
    SSE(0x50), SSE(0x51), SSE(0x52), SSE(0x53), SSE(0x54), SSE(0x55), SSE(0x56), SSE(0x57),
    SSE(0x58), SSE(0x59), SSE(0x5a), SSE(0x5b), SSE(0x5c), SSE(0x5d), SSE(0x5e), SSE(0x5f),
    SSE(0x60), SSE(0x61), SSE(0x62), SSE(0x63), SSE(0x64), SSE(0x65), SSE(0x66), SSE(0x67),
    SSE(0x68), SSE(0x69), SSE(0x6a), SSE(0x6b), SSE(0x6c), SSE(0x6d), SSE(0x6e), SSE(0x6f),
    SSE_IB(0x70), SSE_IB(0x71), SSE_IB(0x72), SSE_IB(0x73),
    SSE(0x74), SSE(0x75), SSE(0x76),
    ROW(0x77, emms, __, __, __, R_NP),
    SSE(0x78), SSE(0x79), SSE(0x7c), SSE(0x7d), SSE(0x7e), SSE(0x7f),
    JCC(0x80), JCC(0x81), JCC(0x82), JCC(0x83), JCC(0x84), JCC(0x85), JCC(0x86), JCC(0x87),
    JCC(0x88), JCC(0x89), JCC(0x8a), JCC(0x8b), JCC(0x8c), JCC(0x8d), JCC(0x8e), JCC(0x8f),
    SETCC(0x90), SETCC(0x91), SETCC(0x92), SETCC(0x93),
    SETCC(0x94), SETCC(0x95), SETCC(0x96), SETCC(0x97),
    SETCC(0x98), SETCC(0x99), SETCC(0x9a), SETCC(0x9b),
    SETCC(0x9c), SETCC(0x9d), SETCC(0x9e), SETCC(0x9f),
    ROWN(0xa0, "push", push_sreg, SFIX(SEG_FS), __, __, R_D64),
    ROWN(0xa1, "pop", pop_sreg, SFIX(SEG_FS), __, __, R_D64),
    /* CPUID is serialising (SDM Vol. 3A 9.3). */
    ROW(0xa2, cpuid, __, __, __, R_END),
    ROW(0xa3, bt, Ev, Gv, __, 0),
    ROW(0xa4, shld, Ev, Gv, Ib, 0),
    ROW(0xa5, shld, Ev, Gv, rCL, 0),
    ROWN(0xa8, "push", push_sreg, SFIX(SEG_GS), __, __, R_D64),
    ROWN(0xa9, "pop", pop_sreg, SFIX(SEG_GS), __, __, R_D64),
    UDROW(0xaa, "rsm", __, __, 0),
    ROW(0xab, bts, Ev, Gv, __, R_LOCK),
    ROW(0xac, shrd, Ev, Gv, Ib, 0),
    ROW(0xad, shrd, Ev, Gv, rCL, 0),
    GROUP(0xae, G15_0FAE),
    ROWN(0xaf, "imul", imul2, Gv, Ev, __, 0),
    ROW(0xb0, cmpxchg, Eb, Gb, __, R_LOCK),
    ROW(0xb1, cmpxchg, Ev, Gv, __, R_LOCK),
    ROWN(0xb2, "lss", lfp, Gv, M, __, R_END),
    ROW(0xb3, btr, Ev, Gv, __, R_LOCK),
    ROWN(0xb4, "lfs", lfp, Gv, M, __, R_END),
    ROWN(0xb5, "lgs", lfp, Gv, M, __, R_END),
    ROW(0xb6, movzx, Gv, Eb, __, 0),
    ROW(0xb7, movzx, Gv, Ew, __, 0),
    SPECIAL(0xb8, SP_F3_B8),
    UDROW(0xb9, "ud1", Gv, Ev, 0),
    GROUP(0xba, G8_0FBA),
    ROW(0xbb, btc, Ev, Gv, __, R_LOCK),
    SPECIAL(0xbc, SP_F3_BC),
    SPECIAL(0xbd, SP_F3_BD),
    ROW(0xbe, movsx, Gv, Eb, __, 0),
    ROW(0xbf, movsx, Gv, Ew, __, 0),
    ROW(0xc0, xadd, Eb, Gb, __, R_LOCK),
    ROW(0xc1, xadd, Ev, Gv, __, R_LOCK),
    SSE_IB(0xc2),
    /* MOVNTI My,Gy: a plain store for us (no caches are modelled). */
    ROWN(0xc3, "movnti", mov, My, Gy, __, 0),
    SSE_IB(0xc4), SSE_IB(0xc5), SSE_IB(0xc6),
    GROUP(0xc7, G9_0FC7),
    ROW(0xc8, bswap, Zv, __, __, 0), ROW(0xc9, bswap, Zv, __, __, 0),
    ROW(0xca, bswap, Zv, __, __, 0), ROW(0xcb, bswap, Zv, __, __, 0),
    ROW(0xcc, bswap, Zv, __, __, 0), ROW(0xcd, bswap, Zv, __, __, 0),
    ROW(0xce, bswap, Zv, __, __, 0), ROW(0xcf, bswap, Zv, __, __, 0),
    SSE(0xd0), SSE(0xd1), SSE(0xd2), SSE(0xd3), SSE(0xd4), SSE(0xd5), SSE(0xd6), SSE(0xd7),
    SSE(0xd8), SSE(0xd9), SSE(0xda), SSE(0xdb), SSE(0xdc), SSE(0xdd), SSE(0xde), SSE(0xdf),
    SSE(0xe0), SSE(0xe1), SSE(0xe2), SSE(0xe3), SSE(0xe4), SSE(0xe5), SSE(0xe6), SSE(0xe7),
    SSE(0xe8), SSE(0xe9), SSE(0xea), SSE(0xeb), SSE(0xec), SSE(0xed), SSE(0xee), SSE(0xef),
    SSE(0xf0), SSE(0xf1), SSE(0xf2), SSE(0xf3), SSE(0xf4), SSE(0xf5), SSE(0xf6), SSE(0xf7),
    SSE(0xf8), SSE(0xf9), SSE(0xfa), SSE(0xfb), SSE(0xfc), SSE(0xfd), SSE(0xfe),
    UDROW(0xff, "ud0", Gv, Ev, 0),
};

/* Group 6 (0F 00): SLDT/STR store 16 bits to memory, osize bits to a register. */
const struct op_row op_g6[8] = {
    ROW(0, sldt, Ev, __, __, 0),
    ROW(1, str, Ev, __, __, 0),
    ROW(2, lldt, Ew, __, __, 0),
    ROW(3, ltr, Ew, __, __, 0),
    ROW(4, verr, Ew, __, __, 0),
    ROW(5, verw, Ew, __, __, 0),
};

/* Group 7 (0F 01), memory forms.  Descriptor-table loads and LMSW/INVLPG end the block:
 * they may change the mode or the translation of the code being run. */
const struct op_row op_g7[8] = {
    ROW(0, sgdt, M, __, __, 0),
    ROW(1, sidt, M, __, __, 0),
    ROW(2, lgdt, M, __, __, R_END),
    ROW(3, lidt, M, __, __, R_END),
    ROW(4, smsw, Ew, __, __, 0),
    ROW(6, lmsw, Ew, __, __, R_END),
    ROW(7, invlpg, M, __, __, R_END),
};

/* Group 7 (0F 01) with mod = 3, by the low six ModRM bits (SDM Vol. 2 Table A-6). */
#define SMSW_R(rm) ROWN(0x20 | (rm), "smsw", smsw, Ev, __, __, 0)
#define LMSW_R(rm) ROWN(0x30 | (rm), "lmsw", lmsw, Ew, __, __, R_END)
const struct op_row op_0f01_reg[64] = {
    ROWN(0x01, "vmcall", vmcall, __, __, __, R_END),
    ROW(0x0a, clac, __, __, __, R_END),
    ROW(0x0b, stac, __, __, __, R_END),
    ROW(0x10, xgetbv, __, __, __, 0),
    ROW(0x11, xsetbv, __, __, __, R_END),
    ROWN(0x19, "vmmcall", vmcall, __, __, __, R_END),
    SMSW_R(0), SMSW_R(1), SMSW_R(2), SMSW_R(3), SMSW_R(4), SMSW_R(5), SMSW_R(6), SMSW_R(7),
    LMSW_R(0), LMSW_R(1), LMSW_R(2), LMSW_R(3), LMSW_R(4), LMSW_R(5), LMSW_R(6), LMSW_R(7),
    ROW(0x38, swapgs, __, __, __, R_O64),
    ROW(0x39, rdtscp, __, __, __, 0),
};

/* Group 8 (0F BA): bit tests with an immediate bit offset. */
const struct op_row op_g8[8] = {
    ROW(4, bt, Ev, Ib, __, 0),
    ROW(5, bts, Ev, Ib, __, R_LOCK),
    ROW(6, btr, Ev, Ib, __, R_LOCK),
    ROW(7, btc, Ev, Ib, __, R_LOCK),
};

/* Group 9 (0F C7), memory forms: CMPXCHG8B, or CMPXCHG16B with REX.W. */
const struct op_row op_g9[8] = {
    ROW(1, cmpxchg8b, M, __, __, R_LOCK),
    UDROW(3, "xrstors", M, __, 0), UDROW(4, "xsavec", M, __, 0), UDROW(5, "xsaves", M, __, 0),
    UDROW(6, "vmptrld", M, __, 0), UDROW(7, "vmptrst", M, __, 0),
};
/* Group 9, register forms: RDRAND (/6), RDSEED (/7); F3 /7 is RDPID, told apart by
 * h_rdseed (cpu/ops_rand.c) because group rows do not see prefixes. */
const struct op_row op_g9_reg[8] = {
    ROW(6, rdrand, Ev, __, __, 0), ROW(7, rdseed, Ev, __, __, 0),
};

/* Group 15 (0F AE), memory forms: the FXSAVE/XSAVE family (cpu/fpu_env.c); CLFLUSH is
 * ours, and with 66 it is CLFLUSHOPT, the same operation here. */
const struct op_row op_g15[8] = {
    ROW(0, fxsave, M, __, __, 0), ROW(1, fxrstor, M, __, __, 0),
    ROW(2, ldmxcsr, M, __, __, 0), ROW(3, stmxcsr, M, __, __, 0),
    ROW(4, xsave, M, __, __, 0), ROW(5, xrstor, M, __, __, 0),
    ROW(6, xsaveopt, M, __, __, 0),
    ROW(7, clflush, M, __, __, 0),
};
/* Group 15, register forms: the fences (h_fence tells them apart by insn.reg).  The
 * r/m field is ignored (SDM Vol. 2 LFENCE/MFENCE/SFENCE); with 66/F2/F3 these encodings
 * are TPAUSE/UMONITOR/UMWAIT/INCSSP (not implemented). */
const struct op_row op_g15_reg[8] = {
    /* F3 /0-/3: RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE (the handlers check F3, cpu/fpu_fsgsbase.c) */
    ROWN(0, "rdfsbase", rdfsbase, Ey, __, __, R_O64 | R_F3), ROWN(1, "rdgsbase", rdfsbase, Ey, __, __, R_O64 | R_F3),
    ROWN(2, "wrfsbase", wrfsbase, Ey, __, __, R_O64 | R_F3), ROWN(3, "wrgsbase", wrfsbase, Ey, __, __, R_O64 | R_F3),
    ROWN(5, "lfence", fence, __, __, __, R_NP),
    ROWN(6, "mfence", fence, __, __, __, R_NP),
    ROWN(7, "sfence", fence, __, __, __, R_NP),
};

/* 0F B8/BC/BD: [no F3, F3] (SDM Vol. 2 POPCNT, TZCNT, LZCNT). */
const struct op_row op_f3sel[3][2] = {
    { UDROW(0, "jmpe", Gv, Ev, 0), ROW(1, popcnt, Gv, Ev, __, 0) },
    { ROW(0, bsf, Gv, Ev, __, 0), ROW(1, tzcnt, Gv, Ev, __, 0) },
    { ROW(0, bsr, Gv, Ev, __, 0), ROW(1, lzcnt, Gv, Ev, __, 0) },
};

/* 66 0F 38 82 /r: INVPCID r64 (r32 outside 64-bit mode), m128 (SDM Vol. 2 INVPCID). */
const struct op_row op_0f38_66_82 = {
    .name = "invpcid", .kind = ROW_OP, .hid = HID_invpcid, .flags = R_F64 | R_END,
    .opnd = { Gy, M, __ },
};
