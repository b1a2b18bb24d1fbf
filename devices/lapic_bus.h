/* The APIC bus: delivers interrupt messages (ICR writes, I/O APIC redirections) to
 * the local APICs they address (SDM Vol. 3A 11.6).  Delivery is instantaneous and
 * in VP-index order, so the result depends on nothing but the message and the
 * APIC states.  INIT and SIPI change VP states, which the bus does not own: it
 * calls back into hv/ for them.
 */
#ifndef HVEMU_DEVICES_LAPIC_BUS_H
#define HVEMU_DEVICES_LAPIC_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/lapic.h"

#define LAPIC_BUS_NO_SOURCE (~0u)     /* a message from the I/O APIC, not an APIC */

struct lapic_bus_ops {
    void (*init)(void *opaque, unsigned vp);                  /* INIT: VP to WAIT_FOR_SIPI */
    void (*sipi)(void *opaque, unsigned vp, uint8_t vector);  /* start-up at vector << 12 */
};

struct lapic_bus {
    struct lapic **apics;       /* nr entries, index = VP index */
    unsigned nr;
    const struct lapic_bus_ops *ops;
    void *opaque;
    uint64_t delivered;         /* messages accepted by at least one APIC (stats) */
};

/* Deliver m from APIC src (or LAPIC_BUS_NO_SOURCE).  Returns the number of APICs
 * that accepted it. */
unsigned lapic_bus_deliver(struct lapic_bus *bus, unsigned src, const struct apic_msg *m);

#endif
