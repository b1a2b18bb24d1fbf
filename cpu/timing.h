/* Base instruction costs (STYLE.md lesson 11, DESIGN.md §4): cycles per instruction
 * class, from one table shared by every execution engine.  TLB, page-walk,
 * exception-delivery, port-I/O device and hypercall costs are added elsewhere by the
 * code that causes them; this table is the core's own execution time.
 */
#ifndef HVEMU_CPU_TIMING_H
#define HVEMU_CPU_TIMING_H

#include <stdint.h>
#include "cpu/insn.h"

/* Base cycles of instruction i bound to handler id hid (enum hid, cpu/decode.h).
 * For string instructions the cost is per element: a REP handler charges
 * i->cost for every iteration after the first. */
uint16_t timing_cost(unsigned hid, const struct insn *i);

#endif
