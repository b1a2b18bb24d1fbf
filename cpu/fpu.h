/* The x87 FPU, the MMX aliasing of its registers, and the FXSAVE/XSAVE family.
 *
 * How x87 arithmetic is computed: the host is x86-64 (a hard requirement of this
 * file: hvemu runs on x86-64 hosts only), so every x87 instruction that computes
 * (D8-DF except the control instructions) is executed by the host's own x87 unit:
 * cpu/fpu_host.c loads the guest's complete x87 state (registers, TOP, tags, FCW
 * with its precision/rounding control and exception masks, FSW) with FXRSTOR, runs
 * the same opcode and ModRM register/digit on it (memory operands redirected to a
 * host buffer), and reads the state back with FXSAVE.  Results, condition codes,
 * stack faults, tags, masked responses and the "no result" behaviour of unmasked
 * exceptions are therefore the hardware's, bit for bit, and depend only on the guest
 * state (deterministic).  Transcendentals match the host CPU exactly (Intel and AMD
 * differ from each other in the last bit of some; the guest sees the host's).
 *
 * The host never traps: the guest's pending unmasked exceptions are cleared from the
 * FSW before FXRSTOR and ORed back after, and an exception the instruction raises
 * only sets FSW.ES (the #MF of x87 is delivered at the next waiting instruction,
 * which we check in C before running anything on the host).
 *
 * Exceptions (SDM Vol. 1 8.7, Vol. 3A 2.5 CR0): CR0.EM or CR0.TS -> #NM; WAIT with
 * CR0.MP and CR0.TS -> #NM; a waiting instruction with FSW.ES set -> #MF when CR0.NE
 * is 1.  With CR0.NE = 0 (the legacy FERR#/IGNNE# path, not modelled) a pending
 * exception is ignored, as if IGNNE# were asserted.
 *
 * State conventions (struct fpu_state in cpu/cpu.h): st[] are the physical registers
 * R0..R7 (ST(i) = R((TOP + i) & 7)); ftw is kept as the full 2-bit tag word, but only
 * "empty or not" is meaningful (as in hardware since the P6, which keeps abridged
 * tags): full tags are recomputed from register contents where the architecture
 * shows them (FNSTENV/FNSAVE).  fip/fdp are segment offsets (64-bit in 64-bit mode),
 * fcs/fds the selectors, fop the 11-bit opcode.
 */
#ifndef HVEMU_CPU_FPU_H
#define HVEMU_CPU_FPU_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/insn.h"

/* FSW bits (SDM Vol. 1 8.1.3). */
#define FSW_IE  0x0001u
#define FSW_DE  0x0002u
#define FSW_ZE  0x0004u
#define FSW_OE  0x0008u
#define FSW_UE  0x0010u
#define FSW_PE  0x0020u
#define FSW_SF  0x0040u
#define FSW_ES  0x0080u
#define FSW_C0  0x0100u
#define FSW_C1  0x0200u
#define FSW_C2  0x0400u
#define FSW_TOP_SHIFT 11
#define FSW_TOP 0x3800u
#define FSW_C3  0x4000u
#define FSW_B   0x8000u
#define FSW_EXC 0x003fu         /* the six exception flags, masked by FCW bits 0-5 */

/* FCW (SDM Vol. 1 8.1.5): exception masks 0-5, PC 8-9, RC 10-11, X 12. */
#define FCW_MASKS 0x003fu
#define FCW_INIT  0x037fu       /* FNINIT (SDM Vol. 1 Table 8-... / FINIT) */
#define FCW_POWERON 0x0040u     /* power-on (SDM Vol. 3A Table 10-1) */

/* MXCSR (SDM Vol. 1 10.2.3): reset value.  The bits software may set (MXCSR_MASK)
 * are the model's (cpu/cpu_models.h). */
#define MXCSR_RESET 0x1f80u

/* XCR0 components we implement (SDM Vol. 1 13.1): x87 and SSE. */
#define XCR0_X87 1u
#define XCR0_SSE 2u
#define XCR0_SUPPORTED (XCR0_X87 | XCR0_SSE)
/* XSAVE area of these components (SDM Vol. 1 13.4): legacy region + header. */
#define XSAVE_AREA_SIZE 576u

/* #NM for x87 instructions (SDM Vol. 3A 2.5: CR0.EM or CR0.TS), then, for a waiting
 * instruction, #MF for a pending unmasked exception (CR0.NE = 1; see the file comment). */
void fpu_enter(struct cpu *c, bool waiting);

/* FSW with ES and B recomputed from the flags and the FCW masks (ES = an unmasked
 * exception flag is set; SF alone never sets ES: it comes with IE). */
static inline uint16_t fpu_fsw_summary(uint16_t fsw, uint16_t fcw)
{
    fsw &= (uint16_t)~(FSW_ES | FSW_B);
    if (fsw & ~fcw & FSW_EXC)
        fsw |= FSW_ES | FSW_B;
    return fsw;
}

static inline unsigned fpu_top(const struct cpu *c) { return (c->fpu.fsw >> FSW_TOP_SHIFT) & 7; }

/* Abridged tag byte (bit n = physical register Rn not empty) <-> full tag word. */
static inline uint8_t fpu_tag_abridged(uint16_t ftw)
{
    uint8_t a = 0;
    for (unsigned n = 0; n < 8; n++)
        if (((ftw >> (2 * n)) & 3) != 3)
            a |= (uint8_t)(1u << n);
    return a;
}
/* Full tag word from the abridged tags and the register contents (SDM Vol. 1 8.1.7,
 * Table 10-3): 00 valid, 01 zero, 10 special (NaN, infinity, denormal, unsupported), 11 empty. */
uint16_t fpu_tag_full(const struct cpu *c, uint8_t abridged);

/* FNINIT state (SDM Vol. 1 8.1.x FINIT): FCW 037F, FSW 0, all empty, pointers 0. */
void fpu_init_state(struct cpu *c);

/* Power-on state of the x87/SSE part (SDM Vol. 3A Table 10-1): FCW 0040, FTW 5555
 * (all registers +0.0, tagged zero), MXCSR 1F80, XCR0 = 1.  Called by cpu_init only:
 * INIT (cpu_reset) leaves the x87 and SSE state as it was. */
void fpu_reset(struct cpu *c);

/* ---- MMX aliasing (SDM Vol. 1 9.5): for the MMX instructions of cpu/sse_*.c ---- */

/* MMX register n = the 64-bit mantissa of physical register Rn. */
static inline uint64_t fpu_mmx_read(const struct cpu *c, unsigned n)
{
    uint64_t v;
    memcpy(&v, c->fpu.st[n & 7], 8);
    return v;
}
/* An MMX write: mantissa = v, sign/exponent all ones (SDM Vol. 1 9.5.1). */
static inline void fpu_mmx_write(struct cpu *c, unsigned n, uint64_t v)
{
    memcpy(c->fpu.st[n & 7], &v, 8);
    c->fpu.st[n & 7][8] = 0xff;
    c->fpu.st[n & 7][9] = 0xff;
}
/* What every MMX instruction but EMMS does to the x87 state after its checks
 * (#UD for CR0.EM, #NM, #MF): TOP = 0, all tags valid (SDM Vol. 1 9.5.1). */
static inline void fpu_mmx_transition(struct cpu *c)
{
    c->fpu.fsw &= (uint16_t)~FSW_TOP;
    c->fpu.ftw = 0;
}

/* ---- the host x87 (cpu/fpu_host.c) ---- */

/* Run D8+k ModRM (memory forms: operand at mem, 10 bytes at most) on the host x87
 * with the guest's x87 state; *rflags_arith carries the six arithmetic flags in (for
 * FCMOVcc) and out (FCOMI).  Updates c->fpu (registers, FCW, FSW, tags); FIP/FDP/FOP
 * are the caller's.  Returns the FSW the instruction itself produced (without the
 * pending flags ORed back), whose exception flags are what it raised. */
uint16_t fpu_host_exec(struct cpu *c, unsigned opc, unsigned modrm, uint8_t *mem, uint64_t *rflags_arith);

#endif
