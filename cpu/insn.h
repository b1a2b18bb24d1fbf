/* One decoded instruction: a small fixed-size record that carries its handler
 * (STYLE.md lesson 2).  Produced by cpu/decode.c from the opcode tables in
 * cpu/decode_tables.c, cached per physical address + mode in cpu/block.c, and
 * executed by cpu/exec.c, which sets c->rip to the next instruction's address
 * before calling the handler.
 *
 * Operands are described by kind (enum opnd_kind) so that one handler per
 * mnemonic serves every form: h_add reads operand 1, combines it with operand 0
 * and writes operand 0, whether that is "Eb,Gb", "Gv,Ev", "Ev,Ib" or "AL,Ib".
 * Use the accessors of cpu/operand.h; never decode ModRM in a handler.
 */
#ifndef HVEMU_CPU_INSN_H
#define HVEMU_CPU_INSN_H

#include <stdint.h>

struct cpu;
struct insn;
typedef void (*insn_handler)(struct cpu *c, const struct insn *i);

/* Where an operand lives. */
enum opnd_kind {
    OPK_NONE = 0,
    OPK_REG,      /* G: general register from ModRM.reg (+REX.R) -> insn.reg */
    OPK_RM,       /* E: ModRM.rm register (mod == 3, insn.rm) or memory (insn_ea) */
    OPK_MEM,      /* M: memory only (mod != 3 guaranteed by the decoder, else #UD) */
    OPK_IMM,      /* I: immediate, insn.imm, already sign- or zero-extended as the form says */
    OPK_ACC,      /* AL/AX/EAX/RAX */
    OPK_OPREG,    /* register in the low 3 opcode bits (+REX.B) -> insn.rm */
    OPK_ONE,      /* the constant 1 (shift/rotate by one) */
    OPK_CL,       /* CL (shift counts) */
    OPK_MOFFS,    /* O: absolute memory offset, address in insn.imm (moffs forms of MOV) */
    OPK_SREG,     /* S: segment register from ModRM.reg -> insn.reg */
    OPK_CREG,     /* C: control register from ModRM.reg (+REX.R) */
    OPK_DREG,     /* D: debug register from ModRM.reg (+REX.R) */
    OPK_REL,      /* J: branch displacement, insn.imm (sign-extended) */
    OPK_FARPTR,   /* A: ptr16:16/32 immediate (insn.imm = offset, insn.imm2 = selector) */
    OPK_DX,       /* DX (port number) */
};

/* insn.pfx bits */
#define PFX_LOCK    (1u << 0)
#define PFX_REP     (1u << 1)   /* F3 */
#define PFX_REPNE   (1u << 2)   /* F2 */
#define PFX_OPSIZE  (1u << 3)   /* 66 */
#define PFX_ADSIZE  (1u << 4)   /* 67 */
#define PFX_REX     (1u << 5)   /* a REX prefix was present (selects SPL/BPL/SIL/DIL over AH..BH) */
#define PFX_SEGOVR  (1u << 6)   /* an explicit segment override */

/* insn.flags bits */
#define IF_BRANCH     (1u << 0)   /* may change RIP other than by falling through: ends the block */
#define IF_ENDS_BLOCK (1u << 1)   /* ends the decoded block (mode changes, serialising, HLT, ...) */
#define IF_MEM        (1u << 2)   /* has a memory operand */
#define IF_BYTEOP     (1u << 3)   /* operand size is 1 (the 'b' forms) */

/* insn.oreg: operand n is the immediate */
#define OREG_IMM 0x20

/* Special values of insn.base / insn.index */
#define EA_NONE 0xff
#define EA_RIP  0x10              /* base = RIP (of the next instruction) */

struct insn {
    insn_handler fn;
    uint64_t imm;        /* first immediate / moffs / branch displacement */
    int32_t  disp;       /* ModRM displacement (sign-extended) */
    uint16_t op;         /* 0x000-0x0ff one-byte map, 0x100-0x1ff 0F, 0x200-0x2ff 0F38, 0x300-0x3ff 0F3A */
    uint16_t imm2;       /* second immediate (ENTER's level byte, far-pointer selector) */
    uint8_t  len;        /* bytes, 1..15 */
    uint8_t  reg;        /* ModRM.reg + REX.R (0..15); also the group /digit for group opcodes */
    uint8_t  rm;         /* ModRM.rm + REX.B, or opcode register (OPK_OPREG) */
    uint8_t  mod;        /* ModRM.mod; 3 = register operand */
    uint8_t  base;       /* memory base register (+REX.B), EA_RIP, or EA_NONE */
    uint8_t  index;      /* memory index register (+REX.X) or EA_NONE */
    uint8_t  scale;      /* index shift, 0..3 */
    uint8_t  seg;        /* effective segment of the memory operand (enum seg) */
    uint8_t  osize;      /* operand size in bytes: 1, 2, 4, 8 */
    uint8_t  asize;      /* address size in bytes: 2, 4, 8 */
    uint8_t  pfx;        /* PFX_* */
    uint8_t  flags;      /* IF_* */
    uint8_t  opnd[3];    /* enum opnd_kind of operands 0 (destination), 1, 2 */
    uint8_t  cond;       /* condition code 0..15 for Jcc/SETcc/CMOVcc (low opcode nibble) */
    uint8_t  oreg[3];    /* operand n is plain register oreg-1 (never AH..BH), OREG_IMM, or 0:
                          * "look at opnd[n]" — the accessors' fast path (cpu/operand.h) */
    uint16_t cost;       /* base cycles from the timing table (cpu/timing.c) */
};

#endif
