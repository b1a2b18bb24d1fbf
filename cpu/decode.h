/* The x86 instruction decoder (STYLE.md lessons 1-2).
 *
 * decode_insn() turns bytes into one struct insn (cpu/insn.h) using the opcode
 * tables of cpu/decode_tables.c (one-byte map) and cpu/decode_tables_0f.c (0F,
 * 0F38, 0F3A).  It never reads beyond the bytes it is given and accepts any input:
 * undefined encodings and everything outside the integer ISA (x87, SSE, VEX, ...)
 * become h_ud with the length where it is easy to know.
 */
#ifndef HVEMU_CPU_DECODE_H
#define HVEMU_CPU_DECODE_H

#include <stdint.h>
#include "cpu/cpu.h"
#include "cpu/handlers.h"
#include "cpu/insn.h"

/* SDM Vol. 2 2.3.11: an instruction longer than 15 bytes raises #GP(0). */
#define INSN_MAX_LEN 15

/* decode_insn() results besides a length (1..15). */
#define DECODE_NEED_MORE 0      /* the bytes end inside the instruction */
#define DECODE_TOO_LONG  (-1)   /* more than 15 bytes: *out is a record that raises #GP(0) */

/* Decode one instruction from bytes[0..avail) in the given mode for the given CPU
 * model (NULL: the default model; the model decides where the vendors decode
 * differently, cpu/cpu_quirks.h).  Returns its length, DECODE_NEED_MORE or
 * DECODE_TOO_LONG.  On DECODE_TOO_LONG *out is bound to decode_h_too_long with len
 * 15, so a caller may simply execute it. */
struct cpu_model;
int decode_insn(struct insn *out, const uint8_t *bytes, unsigned avail, enum cpu_mode mode,
                const struct cpu_model *model);

/* The mnemonic of a decoded instruction, for logs ("add", "jne", "cmovbe", "(bad)"). */
const char *insn_mnemonic(const struct insn *i);

/* Handler of the 15-byte-limit record: raises #GP(0) (SDM Vol. 2 2.3.11). */
void decode_h_too_long(struct cpu *c, const struct insn *i);

/* One id per handler of cpu/handlers.h, in the same order (timing table index). */
enum hid {
#define X(name) HID_##name,
    HVEMU_HANDLERS(X)
#undef X
    HID_COUNT
};
extern const insn_handler hid_fn[HID_COUNT];
extern const char *const hid_name[HID_COUNT];

#endif
