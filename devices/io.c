/* Port-I/O dispatch: one 64 Ki-entry table maps each port to the index of its
 * range, so a dispatch is two loads whatever the number of devices. */
#include "devices/io.h"

#include <stdlib.h>

#define IO_PORTS      65536u
#define IO_MAX_RANGES 64        /* a PC has a few dozen port devices at most */

struct io_range {
    uint16_t base;
    uint32_t len;
    io_read_fn rd;
    io_write_fn wr;
    void *opaque;
    const char *name;
};

struct io_bus {
    struct io_range ranges[IO_MAX_RANGES + 1];  /* index 0 = "nothing here" */
    unsigned nranges;
    uint8_t owner[IO_PORTS];                    /* range index per port, 0 = unclaimed */
    io_unclaimed_fn unclaimed;                  /* -d unimp: told of accesses nobody owns */
    void *unclaimed_opaque;
};

void io_set_unclaimed_hook(struct io_bus *bus, io_unclaimed_fn fn, void *opaque)
{
    bus->unclaimed = fn;
    bus->unclaimed_opaque = opaque;
}

struct io_bus *io_bus_new(void)
{
    return calloc(1, sizeof(struct io_bus));
}

void io_bus_free(struct io_bus *bus)
{
    free(bus);
}

bool io_register(struct io_bus *bus, uint16_t base, uint32_t len,
                 io_read_fn rd, io_write_fn wr, void *opaque, const char *name)
{
    if (len == 0 || (uint32_t)base + len > IO_PORTS || bus->nranges >= IO_MAX_RANGES)
        return false;
    for (uint32_t p = base; p < (uint32_t)base + len; p++)
        if (bus->owner[p])
            return false;
    unsigned idx = ++bus->nranges;
    bus->ranges[idx] = (struct io_range){ base, len, rd, wr, opaque, name };
    for (uint32_t p = base; p < (uint32_t)base + len; p++)
        bus->owner[p] = (uint8_t)idx;
    return true;
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t io_read(struct io_bus *bus, uint16_t port, unsigned size)
{
    const struct io_range *r = &bus->ranges[bus->owner[port]];
    if (!r->rd) {
        if (bus->unclaimed && !bus->owner[port])
            bus->unclaimed(bus->unclaimed_opaque, port, false, 0, size);
        return size_mask(size);         /* unclaimed (or write-only): the bus floats high */
    }
    return r->rd(r->opaque, (uint16_t)(port - r->base), size) & size_mask(size);
}

void io_write(struct io_bus *bus, uint16_t port, uint32_t val, unsigned size)
{
    const struct io_range *r = &bus->ranges[bus->owner[port]];
    if (r->wr)
        r->wr(r->opaque, (uint16_t)(port - r->base), val & size_mask(size), size);
    else if (bus->unclaimed && !bus->owner[port])
        bus->unclaimed(bus->unclaimed_opaque, port, true, val & size_mask(size), size);
}

const char *io_owner(const struct io_bus *bus, uint16_t port)
{
    unsigned idx = bus->owner[port];
    return idx ? bus->ranges[idx].name : NULL;
}
