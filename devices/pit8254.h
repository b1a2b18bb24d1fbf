/* The Intel 8254 programmable interval timer at ports 0x40-0x43 and the speaker /
 * NMI status port 0x61 (Intel 8254 datasheet, order 231164-005; the PC AT wiring).
 *
 * The counters run at 1.193182 MHz derived from virtual cycles.  Counter 0's OUT
 * drives ISA IRQ 0 (a rising edge per period in modes 2 and 3, once in mode 0);
 * counter 2 is gated by port 0x61 bit 0 and its OUT reads back on 0x61 bit 5 (the
 * kernel calibrates the TSC against it); counter 1 (DRAM refresh) counts but drives
 * nothing.  Modes 0-5, binary counting (BCD is stored and reported in the status but
 * counts in binary: no PC software uses it), counter latch, read-back (count and
 * status), LSB/MSB/LSB-then-MSB access.  As in QEMU, a new count takes effect at
 * once (not at the next CLK), and the gate of modes 1, 2, 3 and 5 restarts the count
 * on a rising edge while a low gate holds OUT of modes 2/3 high.
 */
#ifndef HVEMU_DEVICES_PIT8254_H
#define HVEMU_DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/pc_env.h"

#define PIT_BASE     0x40
#define PIT_PORT61   0x61
#define PIT_HZ       1193182ull     /* 14.31818 MHz / 12 */
#define PIT_IRQ      0

struct pit_channel {
    uint32_t count;         /* the loaded initial count, 1..65536 (0 written = 65536) */
    uint64_t load_tick;     /* PIT tick the count was loaded (or the gate restarted it) */
    uint8_t mode;           /* 0..5 */
    uint8_t rw;             /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool gate;
    bool loaded;            /* a count has been written since the mode was set */
    bool write_msb_next;    /* rw 3: the LSB was written, the MSB comes next */
    bool read_msb_next;     /* rw 3: the next unlatched read returns the MSB */
    uint8_t write_lsb;
    int latched_bytes;      /* bytes of latched_count still to read (0, 1 or 2) */
    uint16_t latched_count;
    bool status_latched;
    uint8_t latched_status;
};

struct pit8254 {
    struct pc_env env;
    struct pc_ratio tick;           /* cycles -> PIT ticks */
    struct pit_channel ch[3];
    uint8_t port61;                 /* bits 0 (gate 2) and 1 (speaker data) */
    uint64_t irq0_next_tick;        /* tick of the next IRQ 0 edge, or PC_NEVER */
    bool irq0_enabled;              /* false while the HPET's legacy route owns IRQ 0 */
    uint64_t irq0_count;            /* IRQ 0 edges raised (tests, stats) */
};

/* env is copied; its timer 0 is counter 0's next IRQ 0 edge. */
void pit_init(struct pit8254 *pit, const struct pc_env *env);
struct io_bus;
bool pit_attach(struct pit8254 *pit, struct io_bus *bus);
void pit_timer_event(struct pit8254 *pit, unsigned which, uint64_t now);
/* The HPET's legacy replacement route takes IRQ 0 away from the PIT. */
void pit_set_irq0_enabled(struct pit8254 *pit, bool enabled);

/* Current count and OUT of a counter (tests). */
uint16_t pit_count(struct pit8254 *pit, unsigned ch);
bool pit_out(struct pit8254 *pit, unsigned ch);

uint32_t pit_read(void *opaque, uint16_t offset, unsigned size);
void pit_write(void *opaque, uint16_t offset, uint32_t val, unsigned size);
uint32_t pit_port61_read(void *opaque, uint16_t offset, unsigned size);
void pit_port61_write(void *opaque, uint16_t offset, uint32_t val, unsigned size);

#endif
