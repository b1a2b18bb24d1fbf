/* The -d / -D debug log (QEMU's spelling): -d in_asm,int,cpu,unimp[,...] -D FILE.
 *   in_asm  each newly decoded block, disassembled with Capstone when built with it
 *   int     each exception / interrupt delivered: vector, error code, RIP, CR2, CPL
 *   cpu     the registers at each block start (huge: short runs only)
 *   unimp   #UD from the decoder (not UD2), unknown MSRs, unclaimed I/O ports:
 *           the first DEBUG_LOG_UNIMP_MAX of each kind, then one "suppressed" line
 * The log observes only: it never changes what the guest sees (determinism). */
#ifndef HVEMU_FRONTEND_DEBUG_LOG_H
#define HVEMU_FRONTEND_DEBUG_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define DEBUG_LOG_UNIMP_MAX 64

struct io_bus;

/* Parse "in_asm,int,..." into CPU_DBG_* bits ("help" is not an item: the error
 * lists the names).  False with a one-line reason. */
bool debug_log_parse(const char *spec, unsigned *mask, char *err, size_t errlen);

/* Open the log (path NULL: stderr) and switch the hooks on; io may be NULL. */
bool debug_log_start(unsigned mask, const char *path, struct io_bus *io, char *err, size_t errlen);

/* Hooks off, summary line, file closed. */
void debug_log_stop(void);

#endif
