/* The port-I/O registry (DESIGN.md §1, STYLE.md lesson 14): devices register a
 * range of ports with read/write callbacks and an opaque pointer; the partition's
 * cpu_env io_in/io_out hooks dispatch through io_read/io_write.
 *
 * Ports nobody claims read all-ones (as an ISA bus with nothing driving it) and
 * writes to them are dropped.  An access is routed by its first port: a 2- or
 * 4-byte access that starts inside a range goes to that device whole, with the
 * offset of its first port (the devices here are all byte-register devices that
 * do their own splitting where it matters).
 */
#ifndef HVEMU_DEVICES_IO_H
#define HVEMU_DEVICES_IO_H

#include <stdbool.h>
#include <stdint.h>

/* offset = port - base of the registered range; size = 1, 2 or 4 bytes. */
typedef uint32_t (*io_read_fn)(void *opaque, uint16_t offset, unsigned size);
typedef void     (*io_write_fn)(void *opaque, uint16_t offset, uint32_t val, unsigned size);

struct io_bus;

struct io_bus *io_bus_new(void);
void io_bus_free(struct io_bus *bus);

/* Claim [base, base + len).  rd or wr may be NULL (reads all-ones / writes dropped).
 * Returns false if the range is empty, runs past port 0xFFFF or overlaps a range
 * already registered. */
bool io_register(struct io_bus *bus, uint16_t base, uint32_t len,
                 io_read_fn rd, io_write_fn wr, void *opaque, const char *name);

uint32_t io_read(struct io_bus *bus, uint16_t port, unsigned size);
void     io_write(struct io_bus *bus, uint16_t port, uint32_t val, unsigned size);

/* Called for each access to a port no device claimed (the -d unimp log); NULL = none. */
typedef void (*io_unclaimed_fn)(void *opaque, uint16_t port, bool write, uint32_t val, unsigned size);
void io_set_unclaimed_hook(struct io_bus *bus, io_unclaimed_fn fn, void *opaque);

/* Name of the device that owns port, or NULL (diagnostics). */
const char *io_owner(const struct io_bus *bus, uint16_t port);

#endif
