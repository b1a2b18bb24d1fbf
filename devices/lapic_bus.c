/* Interrupt message routing between local APICs.  See devices/lapic_bus.h. */
#include "devices/lapic_bus.h"

static bool addressed(const struct lapic_bus *bus, unsigned i, unsigned src, const struct apic_msg *m)
{
    switch (m->shorthand) {
    case APIC_SH_SELF:   return i == src;
    case APIC_SH_ALL:    return true;
    case APIC_SH_OTHERS: return i != src;
    default:             return lapic_match_dest(bus->apics[i], m->dest, m->logical, m->x2apic_format);
    }
}

/* Lowest priority (11.6.2.4): the addressed, enabled APIC with the lowest TPR
 * (the processor priority in the SDM's words; the TPR is what Xeons compare).
 * Ties go to the lowest VP index, which keeps the choice deterministic. */
static int lowest_priority(const struct lapic_bus *bus, unsigned src, const struct apic_msg *m)
{
    int best = -1;
    for (unsigned i = 0; i < bus->nr; i++) {
        const struct lapic *l = bus->apics[i];
        if (!addressed(bus, i, src, m) || !lapic_hw_enabled(l) || !lapic_sw_enabled(l))
            continue;
        if (best < 0 || (l->tpr & 0xf0) < (bus->apics[best]->tpr & 0xf0))
            best = (int)i;
    }
    return best;
}

static bool deliver_one(struct lapic_bus *bus, unsigned i, const struct apic_msg *m)
{
    struct lapic *l = bus->apics[i];
    if (!lapic_hw_enabled(l))
        return false;
    switch (m->mode) {
    case APIC_DM_FIXED:
    case APIC_DM_LOWEST:
        lapic_accept_fixed(l, m->vector, m->level_trig);
        return true;
    case APIC_DM_NMI:
        lapic_accept_nmi(l);
        return true;
    case APIC_DM_INIT:
        /* INIT level de-assert (level-triggered, assert = 0) only synchronises
         * arbitration IDs on old processors; it does nothing since the P4 (11.6.1). */
        if (m->level_trig && !m->assert)
            return false;
        if (bus->ops && bus->ops->init)
            bus->ops->init(bus->opaque, i);
        return true;
    case APIC_DM_SIPI:
        if (bus->ops && bus->ops->sipi)
            bus->ops->sipi(bus->opaque, i, m->vector);
        return true;
    default:
        /* SMI (no SMM) and ExtINT as an IPI are not supported: dropped. */
        return false;
    }
}

unsigned lapic_bus_deliver(struct lapic_bus *bus, unsigned src, const struct apic_msg *m)
{
    unsigned n = 0;
    if (m->mode == APIC_DM_LOWEST && m->shorthand == APIC_SH_NONE) {
        int i = lowest_priority(bus, src, m);
        if (i >= 0 && deliver_one(bus, (unsigned)i, m))
            n = 1;
    } else {
        for (unsigned i = 0; i < bus->nr; i++)
            if (addressed(bus, i, src, m) && deliver_one(bus, i, m))
                n++;
    }
    if (n)
        bus->delivered++;
    return n;
}
