/* Port-I/O permission (SDM Vol. 1 19.5, "Protected-Mode I/O"): used by IN/OUT
 * (cpu/ops_system.c) and INS/OUTS (cpu/ops_string.c) before they call env->io_in /
 * env->io_out.  Implemented in cpu/ops_system.c.
 */
#ifndef HVEMU_CPU_IO_H
#define HVEMU_CPU_IO_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

/* True if an access of size bytes (1, 2, 4) to port may proceed: always in real mode;
 * in protected mode when CPL <= IOPL, else when every bit for port..port+size-1 of the
 * TSS I/O permission bitmap is 0 (a missing/short TSS or bitmap denies).  The caller
 * raises #GP(0) when this returns false.  May fault itself (#PF reading the TSS). */
bool cpu_io_allowed(struct cpu *c, uint16_t port, unsigned size);

/* The port access itself, through env->io_in / env->io_out (NULL hooks: reads give
 * all-ones, writes are dropped).  No permission check. */
uint32_t cpu_io_in(struct cpu *c, uint16_t port, unsigned size);
void cpu_io_out(struct cpu *c, uint16_t port, uint32_t val, unsigned size);

#endif
