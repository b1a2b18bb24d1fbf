/* QEMU's isa-debug-exit device (hw/misc/debugexit.c): a write of v to any of its
 * ports ends the emulator with exit status (v << 1) | 1; reads return 0.
 * QEMU's defaults when -device isa-debug-exit has no parameters: iobase 0x501,
 * iosize 2 (its DEFINE_PROP_UINT32 defaults).  The test guests use 0xf4/4. */
#ifndef HVEMU_DEVICES_DEBUG_EXIT_H
#define HVEMU_DEVICES_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

struct io_bus;

#define DEBUG_EXIT_DEFAULT_IOBASE 0x501
#define DEBUG_EXIT_DEFAULT_IOSIZE 2

/* status = (v << 1) | 1, computed in 32 bits as QEMU does; the host keeps its low 8 bits. */
typedef void (*debug_exit_fn)(void *opaque, uint32_t status);

struct debug_exit;

/* Returns NULL if the ports are taken or out of range. */
struct debug_exit *debug_exit_new(struct io_bus *bus, uint16_t iobase, uint32_t iosize,
                                  debug_exit_fn on_exit, void *opaque);
void debug_exit_free(struct debug_exit *d);

#endif
