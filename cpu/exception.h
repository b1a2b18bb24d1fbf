/* Raising and delivering exceptions and interrupts (SDM Vol. 3A ch. 6).
 *
 * cpu_raise*() abandon the current instruction: RIP goes back to c->insn_rip (a
 * fault), the exception is recorded and control longjmps to c->fault_jmp in the run
 * loop, which calls cpu_deliver_pending().  Delivery through the IDT handles gate
 * types, privilege and stack switches (IST in 64-bit mode), error codes, #DF on a
 * fault during delivery, and a triple fault (a clean stop with CPU_EXIT_SHUTDOWN).
 */
#ifndef HVEMU_CPU_EXCEPTION_H
#define HVEMU_CPU_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"

#define EXC_NO_ERROR 0xffffffffu

/* A fault: the instruction did not happen. err = EXC_NO_ERROR when the vector has none. */
_Noreturn void cpu_raise(struct cpu *c, int vector, uint32_t err);
static inline _Noreturn void cpu_raise_ud(struct cpu *c) { cpu_raise(c, EXC_UD, EXC_NO_ERROR); }
static inline _Noreturn void cpu_raise_gp0(struct cpu *c) { cpu_raise(c, EXC_GP, 0); }
/* #PF: sets CR2 = la, error code per SDM Vol. 3A 4.7. */
_Noreturn void cpu_raise_pf(struct cpu *c, uint64_t la, uint32_t err);

/* Called by the run loop after a longjmp from cpu_raise(). */
void cpu_deliver_pending(struct cpu *c);

/* Interrupts that are not faults: INT n / INT3 / INTO (software, RIP already past the
 * instruction), external interrupts and NMI (at an instruction boundary). */
enum intr_source { INTR_EXTERNAL, INTR_NMI, INTR_SOFTWARE, INTR_SOFTWARE_EXC /* INT3, INTO */, INTR_ICEBP,
                   INTR_DEBUG_TRAP /* #DB after an instruction: single-step, data and I/O breakpoints */ };
void cpu_interrupt(struct cpu *c, int vector, enum intr_source src);

/* (Added by D.)  At an instruction boundary, with c->fault_jmp armed: deliver a
 * pending NMI (env->nmi_ack), else, when RFLAGS.IF = 1 and there is no interrupt
 * shadow, the vector env->intr_ack returns.  Sets c->insn_rip = c->rip first so a
 * fault during delivery reports the boundary.  Clears c->halted when it delivers.
 * Returns true if something was delivered.  The run loop may call it whenever
 * ATTN_INTR is set (or at every block end). */
bool cpu_poll_interrupts(struct cpu *c);

#endif
