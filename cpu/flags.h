/* Lazy arithmetic flags (STYLE.md lesson 10).
 *
 * A flag-setting handler records what it did with flags_set(); CF, PF, AF, ZF, SF
 * and OF are computed from that record only when something reads them (Jcc, SETcc,
 * PUSHF, ADC, ...).  Handlers that leave some arithmetic flags unchanged (INC/DEC keep
 * CF; shifts by 0 change nothing) use the LF_ ops designed for that, which
 * materialise the preserved flag first.  Architecturally undefined flags are given
 * the values the host CPU produces where the differential tests pin them; the
 * comment of each LF_ op in cpu/flags.c says which.
 */
#ifndef HVEMU_CPU_FLAGS_H
#define HVEMU_CPU_FLAGS_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"

enum lf_op {
    LF_NONE = 0,    /* cpu->rflags holds the arithmetic flags */
    LF_ADD,         /* res = src1 + src2 */
    LF_ADC,         /* res = src1 + src2 + CF(in)  (CF(in) is recorded in lf.src2's spare state: see flags.c) */
    LF_SUB,         /* res = src1 - src2 (also CMP, NEG as 0 - x) */
    LF_SBB,
    LF_LOGIC,       /* AND/OR/XOR/TEST: CF=OF=0, AF undefined(0) */
    LF_INC,         /* CF preserved from before: recorded in lf.src2 bit 0 */
    LF_DEC,
    LF_SHL, LF_SHR, LF_SAR,  /* res, src1 = original value, src2 = count (nonzero) */
    LF_MUL,         /* CF=OF=(src2 != 0): src2 = "upper half significant" */
    LF_OPS_COUNT
};

/* Record the last flag-setting operation. size in bytes; src1 and src2 are the
 * operands zero-extended from that size (flags_cond compares them directly). */
static inline void flags_set(struct cpu *c, enum lf_op op, unsigned size,
                             uint64_t res, uint64_t src1, uint64_t src2)
{
    c->lf.op = (uint8_t)op;
    c->lf.size = (uint8_t)size;
    c->lf.res = res;
    c->lf.src1 = src1;
    c->lf.src2 = src2;
}

/* The full RFLAGS value (materialises the lazy flags; does not change state). */
uint64_t flags_get(const struct cpu *c);
/* Make the arithmetic bits of c->rflags authoritative (lf.op = LF_NONE). */
void flags_materialise(struct cpu *c);
/* Write the bits of 'mask' in RFLAGS from 'val' (arithmetic bits included). */
void flags_write(struct cpu *c, uint64_t val, uint64_t mask);

/* For instructions whose flag rules do not fit a lazy record (rotates, BT*, BSF...):
 * set the six arithmetic bits from 'arith' (other bits untouched), lf.op = LF_NONE.
 * Call flags_materialise() first when some arithmetic flags must be preserved. */
void flags_put_arith(struct cpu *c, uint64_t arith);
/* ZF, SF and PF of a result of 'size' bytes, as RFLAGS bits. */
uint64_t flags_szp(uint64_t res, unsigned size);

bool flags_cf(const struct cpu *c);
bool flags_zf(const struct cpu *c);
bool flags_sf(const struct cpu *c);
bool flags_of(const struct cpu *c);
bool flags_pf(const struct cpu *c);
bool flags_af(const struct cpu *c);

/* Evaluate condition code cc (0..15, the low nibble of Jcc/SETcc/CMOVcc: SDM Vol. 2 Appendix B.1.4.7). */
bool flags_cond(const struct cpu *c, unsigned cc);

#endif
