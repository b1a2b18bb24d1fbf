/* isa-debug-exit, as QEMU's hw/misc/debugexit.c. */
#include "devices/debug_exit.h"
#include "devices/io.h"

#include <stdlib.h>

struct debug_exit {
    debug_exit_fn on_exit;
    void *opaque;
};

static uint32_t dx_read(void *opaque, uint16_t off, unsigned size)
{
    return 0;
}

static void dx_write(void *opaque, uint16_t off, uint32_t val, unsigned size)
{
    struct debug_exit *d = opaque;
    if (d->on_exit)
        d->on_exit(d->opaque, (val << 1) | 1);
}

struct debug_exit *debug_exit_new(struct io_bus *bus, uint16_t iobase, uint32_t iosize,
                                  debug_exit_fn on_exit, void *opaque)
{
    struct debug_exit *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->on_exit = on_exit;
    d->opaque = opaque;
    if (!io_register(bus, iobase, iosize, dx_read, dx_write, d, "isa-debug-exit")) {
        free(d);
        return NULL;
    }
    return d;
}

void debug_exit_free(struct debug_exit *d)
{
    free(d);
}
