/* The I/O APIC (Intel 82093AA datasheet, as on the PC: one at 0xFEC00000 with 24
 * inputs).  Registers through IOREGSEL (offset 0x00) / IOWIN (offset 0x10); each
 * input pin has a 64-bit redirection entry that turns it into an APIC message
 * (devices/lapic.h struct apic_msg), delivered through ops->deliver.
 *
 * Pins are "asserted" or not: the polarity bit (13) is stored for the guest but
 * the device models of hvemu drive the logical level, not the electrical one.
 * Edge-triggered pins deliver on a 0 -> 1 transition; level-triggered pins deliver
 * while asserted and then wait for the EOI of their vector (remote IRR, bit 14).
 */
#ifndef HVEMU_DEVICES_IOAPIC_H
#define HVEMU_DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/lapic.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ull
#define IOAPIC_MMIO_SIZE    0x20u
#define IOAPIC_PINS         24

/* Register indices (82093AA 3.2). */
enum { IOAPIC_REG_ID = 0x00, IOAPIC_REG_VER = 0x01, IOAPIC_REG_ARB = 0x02, IOAPIC_REG_RTE0 = 0x10 };

/* Redirection entry bits (82093AA 3.2.4). */
#define RTE_DELIVERY_STATUS (1ull << 12)
#define RTE_POLARITY_LOW    (1ull << 13)
#define RTE_REMOTE_IRR      (1ull << 14)
#define RTE_LEVEL           (1ull << 15)
#define RTE_MASKED          (1ull << 16)

struct ioapic_ops {
    void (*deliver)(void *opaque, const struct apic_msg *m);
};

struct ioapic {
    uint32_t id;                /* bits 27:24 of register 0 */
    uint8_t regsel;
    uint64_t rte[IOAPIC_PINS];
    uint32_t pin_level;         /* bit n: pin n asserted */
    uint64_t delivered;         /* messages sent (stats) */
    const struct ioapic_ops *ops;
    void *opaque;
};

void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *opaque);
/* MMIO at offset (0x00 IOREGSEL, 0x10 IOWIN). */
uint64_t ioapic_mmio_read(struct ioapic *io, uint64_t offset, unsigned size);
void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint64_t val, unsigned size);
/* Drive input pin (0..23). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted);
/* A local APIC broadcast the EOI of a level-triggered vector. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
