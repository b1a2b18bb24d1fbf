/* Private to the decoder: the shape of an opcode-table row and the SDM operand
 * notation (SDM Vol. 2 Appendix A.2) the rows are written in.  Included only by
 * cpu/decode.c and cpu/decode_tables*.c.
 *
 * A row says: handler (one of cpu/handlers.h), mnemonic, up to three operands and
 * attribute flags.  An operand spec packs the struct insn operand kind, the size
 * class that fixes insn.osize, and how an immediate is encoded.
 */
#ifndef HVEMU_CPU_DECODE_TAB_H
#define HVEMU_CPU_DECODE_TAB_H

#include <stdint.h>
#include "cpu/decode.h"

/* Size classes (SDM Vol. 2 A.2.2). */
enum {
    SZ_NONE, SZ_B, SZ_W, SZ_D, SZ_Q,
    SZ_V,       /* 16/32/64 by operand size */
    SZ_Z,       /* 16/32: v capped at 32 (IN/OUT eAX, Iz) */
    SZ_Y,       /* 32/64: d, or q with REX.W in 64-bit mode */
};

/* Immediate encodings. */
enum {
    IM_NONE, IM_B /* zero-extended byte */, IM_BS /* sign-extended byte */,
    IM_W /* zero-extended word */, IM_Z /* 2 or 4 bytes by osize, sign-extended */,
    IM_V /* 2, 4 or 8 bytes by osize */, IM_O /* moffs: address-size bytes */,
    IM_A /* far pointer: 2 or 4 bytes offset, then 2 bytes selector */,
};

#define OPS(kind, sz, im) ((uint16_t)((kind) | ((sz) << 5) | ((im) << 8)))
#define OPS_KIND(s) ((s) & 0x1f)
#define OPS_SZ(s)   (((s) >> 5) & 7)
#define OPS_IM(s)   (((s) >> 8) & 0xf)
/* A segment register fixed by the opcode (PUSH ES, POP FS...): insn.reg = n. */
#define OPS_FIXSEG  0x8000u
#define OPS_SEGNUM(s) (((s) >> 12) & 7)
#define SFIX(n)     ((uint16_t)(OPK_SREG | OPS_FIXSEG | ((n) << 12)))

/* The operand letters used in the rows. */
#define __  0
#define Eb  OPS(OPK_RM, SZ_B, IM_NONE)
#define Ew  OPS(OPK_RM, SZ_W, IM_NONE)
#define Ed  OPS(OPK_RM, SZ_D, IM_NONE)
#define Ev  OPS(OPK_RM, SZ_V, IM_NONE)
#define Ey  OPS(OPK_RM, SZ_Y, IM_NONE)
#define Gb  OPS(OPK_REG, SZ_B, IM_NONE)
#define Gw  OPS(OPK_REG, SZ_W, IM_NONE)
#define Gv  OPS(OPK_REG, SZ_V, IM_NONE)
#define Gy  OPS(OPK_REG, SZ_Y, IM_NONE)
#define M   OPS(OPK_MEM, SZ_NONE, IM_NONE)   /* memory, size given by the instruction */
#define Mv  OPS(OPK_MEM, SZ_V, IM_NONE)
#define My  OPS(OPK_MEM, SZ_Y, IM_NONE)
#define Mw  OPS(OPK_MEM, SZ_W, IM_NONE)
#define Rv  OPS(OPK_RM, SZ_V, IM_NONE)         /* with R_REGFORM: mod is ignored (MOV CR/DR) */
#define Ib  OPS(OPK_IMM, SZ_NONE, IM_B)
#define Ibs OPS(OPK_IMM, SZ_NONE, IM_BS)
#define Iw  OPS(OPK_IMM, SZ_NONE, IM_W)
#define Iz  OPS(OPK_IMM, SZ_NONE, IM_Z)
#define Iv  OPS(OPK_IMM, SZ_NONE, IM_V)
#define Jb  OPS(OPK_REL, SZ_NONE, IM_BS)
#define Jz  OPS(OPK_REL, SZ_NONE, IM_Z)
#define Ap  OPS(OPK_FARPTR, SZ_NONE, IM_A)
#define AL  OPS(OPK_ACC, SZ_B, IM_NONE)
#define rAX OPS(OPK_ACC, SZ_V, IM_NONE)
#define eAX OPS(OPK_ACC, SZ_Z, IM_NONE)
#define Zb  OPS(OPK_OPREG, SZ_B, IM_NONE)
#define Zv  OPS(OPK_OPREG, SZ_V, IM_NONE)
#define Ob  OPS(OPK_MOFFS, SZ_B, IM_O)
#define Ov  OPS(OPK_MOFFS, SZ_V, IM_O)
#define Sw  OPS(OPK_SREG, SZ_NONE, IM_NONE)
#define Cd  OPS(OPK_CREG, SZ_NONE, IM_NONE)
#define Dd  OPS(OPK_DREG, SZ_NONE, IM_NONE)
#define I1  OPS(OPK_ONE, SZ_NONE, IM_NONE)
#define rCL OPS(OPK_CL, SZ_NONE, IM_NONE)
#define rDX OPS(OPK_DX, SZ_NONE, IM_NONE)
/* Implicit string operands: they only fix the operand size (insn.opnd stays OPK_NONE). */
#define Xb  OPS(OPK_NONE, SZ_B, IM_NONE)
#define Xv  OPS(OPK_NONE, SZ_V, IM_NONE)
#define Xz  OPS(OPK_NONE, SZ_Z, IM_NONE)
#define Xw  OPS(OPK_NONE, SZ_W, IM_NONE)

/* Row attribute flags. */
#define R_LOCK    (1u << 0)   /* LOCK allowed when operand 0 is memory (SDM Vol. 2 LOCK) */
#define R_D64     (1u << 1)   /* 64-bit mode: default operand size 64, 66 gives 16 (SDM Vol. 1 Table 3-4 note) */
#define R_F64     (1u << 2)   /* 64-bit mode: operand size forced to 64 (near branches, MOV CR/DR) */
#define R_I64     (1u << 3)   /* invalid in 64-bit mode (SDM Vol. 2 Table A-2 superscript i64) */
#define R_O64     (1u << 4)   /* valid only in 64-bit mode (o64) */
#define R_BR      (1u << 5)   /* -> IF_BRANCH */
#define R_END     (1u << 6)   /* -> IF_ENDS_BLOCK */
#define R_MODRM   (1u << 7)   /* has a ModRM byte although no operand says so */
#define R_COND    (1u << 8)   /* insn.cond = low opcode nibble */
#define R_REGFORM (1u << 9)   /* ModRM.mod ignored, always a register (MOV CR/DR: SDM Vol. 2 MOV-Control Registers) */
#define R_UD      (1u << 10)  /* known encoding outside our ISA: length decoded, binds h_ud */
#define R_NP      (1u << 11)  /* "NP": with 66/F2/F3 this is another (unimplemented) instruction */
#define R_REGONLY (1u << 12)  /* ModRM.mod must be 3 (register-only forms: MOVMSKPS, PMOVMSKB, PSRLW imm...): else #UD */
#define R_REGONLY (1u << 12)  /* ModRM.mod must be 3 (register-only forms: MOVMSKPS, PMOVMSKB, PSRLW imm...): else #UD;
                                 * a non-zero row arg is then the mask of valid ModRM.reg digits (0F 71-73) */

#define R_F3      (1u << 13)  /* valid only with the F3 mandatory prefix (group rows see no prefixes): else #UD */

enum row_kind {
    ROW_NONE = 0,   /* undefined: h_ud */
    ROW_OP,         /* an instruction */
    ROW_GROUP,      /* resolved by ModRM (arg = group number) */
    ROW_PREFIX,     /* legacy prefix (never reached as an opcode) */
    ROW_SPECIAL,    /* resolved by code in decode.c (arg says which) */
};

struct op_row {
    const char *name;
    uint8_t  kind;
    uint16_t hid;     /* enum hid (ROW_OP); 16 bits: x87 and SSE bring hundreds of handlers */
    uint8_t  arg;     /* group / special number */
    uint16_t flags;   /* R_* */
    uint16_t opnd[3];
};

#define ROWN(op, mn, h, o0, o1, o2, fl) \
    [op] = { .name = mn, .kind = ROW_OP, .hid = HID_##h, .flags = (fl), .opnd = { o0, o1, o2 } }
#define ROW(op, h, o0, o1, o2, fl) ROWN(op, #h, h, o0, o1, o2, fl)
/* Known but unsupported (x87, SSE, ...): correct length, binds h_ud. */
#define UDROW(op, mn, o0, o1, fl) ROWN(op, mn, ud, o0, o1, __, (fl) | R_UD)
#define GROUP(op, g) [op] = { .name = "grp", .kind = ROW_GROUP, .arg = (g) }
#define PREFIX(op) [op] = { .name = "prefix", .kind = ROW_PREFIX }
#define SPECIAL(op, s) [op] = { .name = "special", .kind = ROW_SPECIAL, .arg = (s) }

/* Groups (SDM Vol. 2 Table A-6), numbered for the tables. */
enum {
    G1_80, G1_81, G1_82, G1_83, G1A_8F, G2_C0, G2_C1, G2_D0, G2_D1, G2_D2, G2_D3,
    G11_C6, G11_C7, G3_F6, G3_F7, G4_FE, G5_FF,
    G6_0F00, G7_0F01, G8_0FBA, G9_0FC7, G15_0FAE,
    GROUP_COUNT
};

/* Specials. */
enum {
    SP_NOP90,       /* 90: NOP, PAUSE (F3), XCHG r8,rAX (REX.B) */
    SP_63,          /* 63: ARPL (legacy) / MOVSXD (64-bit) */
    SP_F3_B8,       /* 0F B8: POPCNT with F3, else JMPE (#UD) */
    SP_F3_BC,       /* 0F BC: TZCNT with F3, else BSF */
    SP_F3_BD,       /* 0F BD: LZCNT with F3, else BSR */
    SP_ESC_0F,      /* 0F: two-byte map */
    SP_ESC_0F38,    /* 0F 38: three-byte map */
    SP_ESC_0F3A,    /* 0F 3A: three-byte map with Ib */
    SP_VEX3,        /* C4: VEX3 in 64-bit mode (or mod=11 in legacy), else LES */
    SP_VEX2,        /* C5: VEX2 likewise, else LDS */
    SP_EVEX,        /* 62: EVEX in 64-bit mode (or mod=11 in legacy), else BOUND */
    SP_XOP,         /* 8F: XOP when ModRM.reg != 0 (AMD), else POP Ev */
    SP_SSE,         /* 0F xx SSE/MMX: row by mandatory prefix in op_sse0f (cpu/decode_tables_sse.c) */
    SP_X87,         /* D8-DF: row by ModRM in op_x87_mem/op_x87_reg (cpu/decode_tables_x87.c) */
};

/* The tables (cpu/decode_tables.c, cpu/decode_tables_0f.c). */
extern const struct op_row op_map1[256];
extern const struct op_row op_map0f[256];
extern const struct op_row op_groups1[G5_FF + 1][8];     /* one-byte map groups */
extern const struct op_row op_g6[8], op_g7[8], op_g8[8], op_g9[8], op_g15[8];
/* mod == 3 forms of the groups whose register forms differ (G9, G15), by /digit. */
extern const struct op_row op_g9_reg[8];
extern const struct op_row op_g15_reg[8];
/* 0F 01 with mod == 3: indexed by the low six ModRM bits (reg << 3 | rm). */
extern const struct op_row op_0f01_reg[64];
/* 0F 38 and 0F 3A rows we implement (everything else: #UD with a ModRM). */
extern const struct op_row op_0f38_66_82;    /* INVPCID */
/* SSE/MMX rows by mandatory prefix [opcode][none, 66, F3, F2] (cpu/decode_tables_sse.c). */
extern const struct op_row op_sse0f[256][4], op_sse38[256][4], op_sse3a[256][4];
extern const struct op_row op_f3sel[3][2];   /* [SP_F3_B8..SP_F3_BD - SP_F3_B8][no F3 / F3] */
extern const struct op_row op_nop90[3];      /* NOP, PAUSE, XCHG */
extern const struct op_row op_63[2];         /* ARPL, MOVSXD */
/* x87 escapes D8-DF [opcode - D8][ModRM.reg] (memory) or [opcode - D8][ModRM & 3F] (mod = 11). */
extern const struct op_row op_x87_mem[8][8], op_x87_reg[8][64];
extern const struct op_row op_les_lds_bound[3]; /* [SP_VEX3/SP_VEX2/SP_EVEX - SP_VEX3] outside 64-bit mode */

#endif
