/* The one-byte opcode map and its ModRM groups, in SDM operand notation
 * (SDM Vol. 2 Appendix A, Tables ).  Row format: cpu/decode_tab.h.
 * Encodings without a handler in cpu/handlers.h (x87...) are UDROWs: their
 * length is decoded, they raise #UD.
 */
#include "cpu/decode_tab.h"

/* The eight classic ALU opcodes of a row of the map: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / rAX,Iz. */
#define ALU6(base, h, lk) \
    ROW(base + 0, h, Eb, Gb, __, lk), ROW(base + 1, h, Ev, Gv, __, lk), \
    ROW(base + 2, h, Gb, Eb, __, 0),  ROW(base + 3, h, Gv, Ev, __, 0), \
    ROW(base + 4, h, AL, Ib, __, 0),  ROW(base + 5, h, rAX, Iz, __, 0)

#define CC_NAMES(p) p "o", p "no", p "b", p "ae", p "e", p "ne", p "be", p "a", \
                    p "s", p "ns", p "p", p "np", p "l", p "ge", p "le", p "g"

const struct op_row op_map1[256] = {
    ALU6(0x00, add, R_LOCK),
    ROWN(0x06, "push", push_sreg, SFIX(SEG_ES), __, __, R_I64),
    ROWN(0x07, "pop", pop_sreg, SFIX(SEG_ES), __, __, R_I64 | R_END),
    ALU6(0x08, or, R_LOCK),
    ROWN(0x0e, "push", push_sreg, SFIX(SEG_CS), __, __, R_I64),
    SPECIAL(0x0f, SP_ESC_0F),
    ALU6(0x10, adc, R_LOCK),
    ROWN(0x16, "push", push_sreg, SFIX(SEG_SS), __, __, R_I64),
    /* POP SS inhibits interrupts for one instruction (SDM Vol. 3A 6.8.3). */
    ROWN(0x17, "pop", pop_sreg, SFIX(SEG_SS), __, __, R_I64 | R_END),
    ALU6(0x18, sbb, R_LOCK),
    ROWN(0x1e, "push", push_sreg, SFIX(SEG_DS), __, __, R_I64),
    ROWN(0x1f, "pop", pop_sreg, SFIX(SEG_DS), __, __, R_I64 | R_END),
    ALU6(0x20, and, R_LOCK),
    PREFIX(0x26),
    ROW(0x27, daa, __, __, __, R_I64),
    ALU6(0x28, sub, R_LOCK),
    PREFIX(0x2e),
    ROW(0x2f, das, __, __, __, R_I64),
    ALU6(0x30, xor, R_LOCK),
    PREFIX(0x36),
    ROW(0x37, aaa, __, __, __, R_I64),
    ALU6(0x38, cmp, 0),
    PREFIX(0x3e),
    ROW(0x3f, aas, __, __, __, R_I64),
    /* 40-4F: INC/DEC outside 64-bit mode; REX prefixes in it (handled in decode.c). */
    ROW(0x40, inc, Zv, __, __, 0), ROW(0x41, inc, Zv, __, __, 0),
    ROW(0x42, inc, Zv, __, __, 0), ROW(0x43, inc, Zv, __, __, 0),
    ROW(0x44, inc, Zv, __, __, 0), ROW(0x45, inc, Zv, __, __, 0),
    ROW(0x46, inc, Zv, __, __, 0), ROW(0x47, inc, Zv, __, __, 0),
    ROW(0x48, dec, Zv, __, __, 0), ROW(0x49, dec, Zv, __, __, 0),
    ROW(0x4a, dec, Zv, __, __, 0), ROW(0x4b, dec, Zv, __, __, 0),
    ROW(0x4c, dec, Zv, __, __, 0), ROW(0x4d, dec, Zv, __, __, 0),
    ROW(0x4e, dec, Zv, __, __, 0), ROW(0x4f, dec, Zv, __, __, 0),
    ROW(0x50, push, Zv, __, __, R_D64), ROW(0x51, push, Zv, __, __, R_D64),
    ROW(0x52, push, Zv, __, __, R_D64), ROW(0x53, push, Zv, __, __, R_D64),
    ROW(0x54, push, Zv, __, __, R_D64), ROW(0x55, push, Zv, __, __, R_D64),
    ROW(0x56, push, Zv, __, __, R_D64), ROW(0x57, push, Zv, __, __, R_D64),
    ROW(0x58, pop, Zv, __, __, R_D64), ROW(0x59, pop, Zv, __, __, R_D64),
    ROW(0x5a, pop, Zv, __, __, R_D64), ROW(0x5b, pop, Zv, __, __, R_D64),
    ROW(0x5c, pop, Zv, __, __, R_D64), ROW(0x5d, pop, Zv, __, __, R_D64),
    ROW(0x5e, pop, Zv, __, __, R_D64), ROW(0x5f, pop, Zv, __, __, R_D64),
    ROW(0x60, pusha, __, __, __, R_I64),
    ROW(0x61, popa, __, __, __, R_I64),
    SPECIAL(0x62, SP_EVEX),
    SPECIAL(0x63, SP_63),
    PREFIX(0x64), PREFIX(0x65), PREFIX(0x66), PREFIX(0x67),
    ROW(0x68, push, Iz, __, __, R_D64),
    ROWN(0x69, "imul", imul3, Gv, Ev, Iz, 0),
    ROW(0x6a, push, Ibs, __, __, R_D64),
    ROWN(0x6b, "imul", imul3, Gv, Ev, Ibs, 0),
    ROWN(0x6c, "insb", ins, Xb, __, __, 0),
    ROWN(0x6d, "ins", ins, Xz, __, __, 0),
    ROWN(0x6e, "outsb", outs, Xb, __, __, 0),
    ROWN(0x6f, "outs", outs, Xz, __, __, 0),
    ROW(0x70, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x71, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    ROW(0x72, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x73, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    ROW(0x74, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x75, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    ROW(0x76, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x77, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    ROW(0x78, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x79, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    ROW(0x7a, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x7b, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    ROW(0x7c, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x7d, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    ROW(0x7e, jcc, Jb, __, __, R_F64 | R_BR | R_COND), ROW(0x7f, jcc, Jb, __, __, R_F64 | R_BR | R_COND),
    GROUP(0x80, G1_80), GROUP(0x81, G1_81), GROUP(0x82, G1_82), GROUP(0x83, G1_83),
    ROW(0x84, test, Eb, Gb, __, 0),
    ROW(0x85, test, Ev, Gv, __, 0),
    ROW(0x86, xchg, Eb, Gb, __, R_LOCK),
    ROW(0x87, xchg, Ev, Gv, __, R_LOCK),
    ROW(0x88, mov, Eb, Gb, __, 0),
    ROW(0x89, mov, Ev, Gv, __, 0),
    ROW(0x8a, mov, Gb, Eb, __, 0),
    ROW(0x8b, mov, Gv, Ev, __, 0),
    ROWN(0x8c, "mov", mov_sreg, Ev, Sw, __, 0),
    ROW(0x8d, lea, Gv, M, __, 0),
    /* MOV SS inhibits interrupts for one instruction; MOV to a segment changes the
     * stack size or the fast cache context: end the block. */
    ROWN(0x8e, "mov", mov_sreg, Sw, Ew, __, R_END),
    SPECIAL(0x8f, SP_XOP),
    SPECIAL(0x90, SP_NOP90),
    ROW(0x91, xchg, Zv, rAX, __, 0), ROW(0x92, xchg, Zv, rAX, __, 0),
    ROW(0x93, xchg, Zv, rAX, __, 0), ROW(0x94, xchg, Zv, rAX, __, 0),
    ROW(0x95, xchg, Zv, rAX, __, 0), ROW(0x96, xchg, Zv, rAX, __, 0),
    ROW(0x97, xchg, Zv, rAX, __, 0),
    ROW(0x98, cbw, __, __, __, 0),
    ROW(0x99, cwd, __, __, __, 0),
    ROWN(0x9a, "call", callf, Ap, __, __, R_I64 | R_BR),
    ROWN(0x9b, "fwait", fwait, __, __, __, 0),
    ROW(0x9c, pushf, __, __, __, R_D64),
    /* POPF may set IF or TF, or AC (which selects another fast-cache context). */
    ROW(0x9d, popf, __, __, __, R_D64 | R_END),
    ROW(0x9e, sahf, __, __, __, 0),
    ROW(0x9f, lahf, __, __, __, 0),
    ROW(0xa0, mov, AL, Ob, __, 0),
    ROW(0xa1, mov, rAX, Ov, __, 0),
    ROW(0xa2, mov, Ob, AL, __, 0),
    ROW(0xa3, mov, Ov, rAX, __, 0),
    ROWN(0xa4, "movsb", movs, Xb, __, __, 0),
    ROW(0xa5, movs, Xv, __, __, 0),
    ROWN(0xa6, "cmpsb", cmps, Xb, __, __, 0),
    ROW(0xa7, cmps, Xv, __, __, 0),
    ROW(0xa8, test, AL, Ib, __, 0),
    ROW(0xa9, test, rAX, Iz, __, 0),
    ROWN(0xaa, "stosb", stos, Xb, __, __, 0),
    ROW(0xab, stos, Xv, __, __, 0),
    ROWN(0xac, "lodsb", lods, Xb, __, __, 0),
    ROW(0xad, lods, Xv, __, __, 0),
    ROWN(0xae, "scasb", scas, Xb, __, __, 0),
    ROW(0xaf, scas, Xv, __, __, 0),
    ROW(0xb0, mov, Zb, Ib, __, 0), ROW(0xb1, mov, Zb, Ib, __, 0),
    ROW(0xb2, mov, Zb, Ib, __, 0), ROW(0xb3, mov, Zb, Ib, __, 0),
    ROW(0xb4, mov, Zb, Ib, __, 0), ROW(0xb5, mov, Zb, Ib, __, 0),
    ROW(0xb6, mov, Zb, Ib, __, 0), ROW(0xb7, mov, Zb, Ib, __, 0),
    ROW(0xb8, mov, Zv, Iv, __, 0), ROW(0xb9, mov, Zv, Iv, __, 0),
    ROW(0xba, mov, Zv, Iv, __, 0), ROW(0xbb, mov, Zv, Iv, __, 0),
    ROW(0xbc, mov, Zv, Iv, __, 0), ROW(0xbd, mov, Zv, Iv, __, 0),
    ROW(0xbe, mov, Zv, Iv, __, 0), ROW(0xbf, mov, Zv, Iv, __, 0),
    GROUP(0xc0, G2_C0), GROUP(0xc1, G2_C1),
    /* Near RET: operand size forced to 64 in 64-bit mode (Intel; SDM Vol. 2 RET). */
    ROW(0xc2, ret, Iw, __, __, R_F64 | R_BR),
    ROW(0xc3, ret, __, __, __, R_F64 | R_BR),
    SPECIAL(0xc4, SP_VEX3),
    SPECIAL(0xc5, SP_VEX2),
    GROUP(0xc6, G11_C6), GROUP(0xc7, G11_C7),
    ROW(0xc8, enter, Iw, Ib, __, R_D64),
    ROW(0xc9, leave, __, __, __, R_D64),
    ROWN(0xca, "retf", retf, Iw, __, __, R_BR),
    ROWN(0xcb, "retf", retf, __, __, __, R_BR),
    ROW(0xcc, int3, __, __, __, R_BR),
    ROW(0xcd, int, Ib, __, __, R_BR),
    ROW(0xce, into, __, __, __, R_I64 | R_BR),
    ROW(0xcf, iret, __, __, __, R_BR | R_END),
    GROUP(0xd0, G2_D0), GROUP(0xd1, G2_D1), GROUP(0xd2, G2_D2), GROUP(0xd3, G2_D3),
    ROW(0xd4, aam, Ib, __, __, R_I64),
    ROW(0xd5, aad, Ib, __, __, R_I64),
    ROW(0xd6, salc, __, __, __, R_I64),
    ROW(0xd7, xlat, Xb, __, __, 0),
    /* D8-DF: x87 escapes, every form has a ModRM (SDM Vol. 2 A.4). */
    SPECIAL(0xd8, SP_X87), SPECIAL(0xd9, SP_X87), SPECIAL(0xda, SP_X87), SPECIAL(0xdb, SP_X87),
    SPECIAL(0xdc, SP_X87), SPECIAL(0xdd, SP_X87), SPECIAL(0xde, SP_X87), SPECIAL(0xdf, SP_X87),
    /* LOOP/JrCXZ count with the address size; operand size is that of RIP. */
    ROW(0xe0, loopne, Jb, __, __, R_F64 | R_BR),
    ROW(0xe1, loope, Jb, __, __, R_F64 | R_BR),
    ROW(0xe2, loop, Jb, __, __, R_F64 | R_BR),
    ROW(0xe3, jrcxz, Jb, __, __, R_F64 | R_BR),
    ROW(0xe4, in, AL, Ib, __, 0),
    ROW(0xe5, in, eAX, Ib, __, 0),
    ROW(0xe6, out, Ib, AL, __, 0),
    ROW(0xe7, out, Ib, eAX, __, 0),
    ROW(0xe8, call, Jz, __, __, R_F64 | R_BR),
    ROW(0xe9, jmp, Jz, __, __, R_F64 | R_BR),
    ROWN(0xea, "jmp", jmpf, Ap, __, __, R_I64 | R_BR),
    ROW(0xeb, jmp, Jb, __, __, R_F64 | R_BR),
    ROW(0xec, in, AL, rDX, __, 0),
    ROW(0xed, in, eAX, rDX, __, 0),
    ROW(0xee, out, rDX, AL, __, 0),
    ROW(0xef, out, rDX, eAX, __, 0),
    PREFIX(0xf0),
    ROW(0xf1, int1, __, __, __, R_BR),
    PREFIX(0xf2), PREFIX(0xf3),
    ROW(0xf4, hlt, __, __, __, R_END),
    ROW(0xf5, cmc, __, __, __, 0),
    GROUP(0xf6, G3_F6), GROUP(0xf7, G3_F7),
    ROW(0xf8, clc, __, __, __, 0),
    ROW(0xf9, stc, __, __, __, 0),
    ROW(0xfa, cli, __, __, __, R_END),
    /* STI: one-instruction interrupt shadow (SDM Vol. 2 STI). */
    ROW(0xfb, sti, __, __, __, R_END),
    ROW(0xfc, cld, __, __, __, 0),
    ROW(0xfd, std, __, __, __, 0),
    GROUP(0xfe, G4_FE), GROUP(0xff, G5_FF),
};

/* Group 2 (C0, C1, D0-D3): shifts and rotates.  /6 is left blank in SDM Table A-6 but
 * executes as SHL on Intel and AMD processors (and Capstone decodes it as SAL). */
#define GRP2(o0, o1) { \
    ROW(0, rol, o0, o1, __, 0), ROW(1, ror, o0, o1, __, 0), ROW(2, rcl, o0, o1, __, 0), \
    ROW(3, rcr, o0, o1, __, 0), ROW(4, shl, o0, o1, __, 0), ROW(5, shr, o0, o1, __, 0), \
    ROWN(6, "sal", shl, o0, o1, __, 0), ROW(7, sar, o0, o1, __, 0) }
/* Group 3 (F6, F7): /1 is an alias of TEST /0 (AMD APM Vol. 3; executes so on Intel too). */
#define GRP3(o0, imm) { \
    ROW(0, test, o0, imm, __, 0), ROW(1, test, o0, imm, __, 0), \
    ROW(2, not, o0, __, __, R_LOCK), ROW(3, neg, o0, __, __, R_LOCK), \
    ROWN(4, "mul", mul, o0, __, __, 0), ROWN(5, "imul", imul1, o0, __, __, 0), \
    ROW(6, div, o0, __, __, 0), ROW(7, idiv, o0, __, __, 0) }

/* Group 1 (80-83): the ALU operations by /digit (CMP is not lockable). */
#define GRP1(o0, o1, lk, i64) { \
    ROW(0, add, o0, o1, __, (lk) | (i64)), ROW(1, or, o0, o1, __, (lk) | (i64)), \
    ROW(2, adc, o0, o1, __, (lk) | (i64)), ROW(3, sbb, o0, o1, __, (lk) | (i64)), \
    ROW(4, and, o0, o1, __, (lk) | (i64)), ROW(5, sub, o0, o1, __, (lk) | (i64)), \
    ROW(6, xor, o0, o1, __, (lk) | (i64)), ROW(7, cmp, o0, o1, __, (i64)) }

const struct op_row op_groups1[G5_FF + 1][8] = {
    [G1_80] = GRP1(Eb, Ib, R_LOCK, 0),
    [G1_81] = GRP1(Ev, Iz, R_LOCK, 0),
    [G1_82] = GRP1(Eb, Ib, R_LOCK, R_I64),
    [G1_83] = GRP1(Ev, Ibs, R_LOCK, 0),
    [G1A_8F] = { ROW(0, pop, Ev, __, __, R_D64) },
    [G2_C0] = GRP2(Eb, Ib),
    [G2_C1] = GRP2(Ev, Ib),
    [G2_D0] = GRP2(Eb, I1),
    [G2_D1] = GRP2(Ev, I1),
    [G2_D2] = GRP2(Eb, rCL),
    [G2_D3] = GRP2(Ev, rCL),
    /* C6/C7 /7 with ModRM F8 are XABORT/XBEGIN (RTM): not implemented, undefined. */
    [G11_C6] = { ROW(0, mov, Eb, Ib, __, 0) },
    [G11_C7] = { ROW(0, mov, Ev, Iz, __, 0) },
    [G3_F6] = GRP3(Eb, Ib),
    [G3_F7] = GRP3(Ev, Iz),
    [G4_FE] = { ROW(0, inc, Eb, __, __, R_LOCK), ROW(1, dec, Eb, __, __, R_LOCK) },
    [G5_FF] = {
        ROW(0, inc, Ev, __, __, R_LOCK),
        ROW(1, dec, Ev, __, __, R_LOCK),
        ROW(2, call, Ev, __, __, R_F64 | R_BR),
        ROWN(3, "call", callf, M, __, __, R_BR),       /* m16:16/32/64 by osize */
        ROW(4, jmp, Ev, __, __, R_F64 | R_BR),
        ROWN(5, "jmp", jmpf, M, __, __, R_BR),
        ROW(6, push, Ev, __, __, R_D64),
    },
};

const struct op_row op_nop90[3] = {
    ROW(0, nop, __, __, __, 0),
    ROW(1, pause, __, __, __, 0),
    ROW(2, xchg, Zv, rAX, __, 0),
};

/* C4, C5, 62 outside 64-bit mode with a memory ModRM (SDM Vol. 2 2.3.5; the
 * decoder picks these in the SP_VEX3/SP_VEX2/SP_EVEX special).  LES/LDS reload a
 * segment register: end the block. */
_Static_assert(SP_VEX2 == SP_VEX3 + 1 && SP_EVEX == SP_VEX3 + 2, "op_les_lds_bound order");
const struct op_row op_les_lds_bound[3] = {
    ROWN(0, "les", lfp, Gv, M, __, R_END),
    ROWN(1, "lds", lfp, Gv, M, __, R_END),
    ROW(2, bound, Gv, M, __, 0),
};

const struct op_row op_63[2] = {
    ROW(0, arpl, Ew, Gw, __, 0),
    ROW(1, movsxd, Gv, Ed, __, R_O64),
};
