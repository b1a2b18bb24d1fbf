/* Gates of far transfers and hardware task switching (SDM Vol. 3A 5.8 and ch. 7).
 *
 * Far JMP/CALL through a call gate is emulated (same privilege, and CALL to an
 * inner level with the stack switch from the TSS and the parameter copy; 16-, 32-
 * and 64-bit gates).  Hardware task switches (JMP/CALL to a TSS or a task gate, a
 * task gate in the IDT, IRET with NT = 1 outside IA-32e mode) are not emulated:
 * they stop the VP cleanly with a one-line reason (hvemu exits non-zero).
 */
#ifndef HVEMU_CPU_GATES_H
#define HVEMU_CPU_GATES_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "cpu/insn.h"

/* True if sel names a readable descriptor with S = 0 (a gate or a TSS), which a
 * far JMP/CALL must hand to gate_far_transfer() instead of loading as code. */
bool gate_is_system(struct cpu *c, uint16_t sel);

/* Far JMP (call = false) or CALL through the system descriptor sel.  The size of
 * the pushed return address is the gate's (16/32/64), not the instruction's. */
void gate_far_transfer(struct cpu *c, uint16_t sel, bool call);

/* Abandon the current instruction (or event delivery) and stop the VP with
 * "unsupported: <reason>" (CPU_EXIT_STOP).  RIP stays at the instruction. */
_Noreturn void cpu_stop_unsupported(struct cpu *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
