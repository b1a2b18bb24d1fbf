/* The I/O APIC.  See devices/ioapic.h; sections are of the 82093AA datasheet. */
#include "devices/ioapic.h"

#include <string.h>

/* Version register: version 0x11 (82093AA), maximum redirection entry 23 (3.2.2). */
#define IOAPIC_VERSION (0x11u | ((IOAPIC_PINS - 1u) << 16))
/* Writable bits of a redirection entry: all but delivery status and remote IRR,
 * and the reserved bits 55:17. */
#define RTE_WRITABLE ((0xff00000000000000ull | 0x1ffffull) & ~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR))

void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *opaque)
{
    memset(io, 0, sizeof *io);
    io->ops = ops;
    io->opaque = opaque;
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        io->rte[i] = RTE_MASKED;        /* all masked at reset (3.2.4) */
}

static void send(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->rte[pin];
    struct apic_msg m = {
        .vector = (uint8_t)e,
        .mode = (e >> 8) & 7,
        .logical = (e >> 11) & 1,
        .level_trig = (e & RTE_LEVEL) != 0,
        .assert = true,
        .shorthand = APIC_SH_NONE,
        .dest = (uint32_t)(e >> 56),
    };
    if (m.level_trig)
        io->rte[pin] |= RTE_REMOTE_IRR;     /* until the EOI of this vector */
    io->delivered++;
    if (io->ops && io->ops->deliver)
        io->ops->deliver(io->opaque, &m);
}

/* Deliver pin if its state says so (level: asserted, unmasked, no remote IRR). */
static void service_level(struct ioapic *io, unsigned pin)
{
    uint64_t e = io->rte[pin];
    if ((e & RTE_LEVEL) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (io->pin_level & (1u << pin)))
        send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted)
{
    if (pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin, old = io->pin_level;
    io->pin_level = asserted ? old | bit : old & ~bit;
    if (io->rte[pin] & RTE_LEVEL)
        service_level(io, pin);
    else if (asserted && !(old & bit) && !(io->rte[pin] & RTE_MASKED))
        send(io, pin);          /* an edge while masked is lost (3.2.4, bit 16) */
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (unsigned i = 0; i < IOAPIC_PINS; i++) {
        if ((io->rte[i] & RTE_LEVEL) && (uint8_t)io->rte[i] == vector && (io->rte[i] & RTE_REMOTE_IRR)) {
            io->rte[i] &= ~RTE_REMOTE_IRR;
            service_level(io, i);       /* still asserted: the interrupt comes again */
        }
    }
}

static uint32_t reg_read(const struct ioapic *io, unsigned r)
{
    switch (r) {
    case IOAPIC_REG_ID:  return io->id;
    case IOAPIC_REG_VER: return IOAPIC_VERSION;
    case IOAPIC_REG_ARB: return io->id;     /* arbitration ID = ID after reset (3.2.3) */
    default:
        if (r >= IOAPIC_REG_RTE0 && r < IOAPIC_REG_RTE0 + 2 * IOAPIC_PINS) {
            uint64_t e = io->rte[(r - IOAPIC_REG_RTE0) / 2];
            return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0;
    }
}

static void reg_write(struct ioapic *io, unsigned r, uint32_t v)
{
    if (r == IOAPIC_REG_ID) {
        io->id = v & 0x0f000000u;
        return;
    }
    if (r < IOAPIC_REG_RTE0 || r >= IOAPIC_REG_RTE0 + 2 * IOAPIC_PINS)
        return;                 /* version, arbitration and the rest are read-only */
    unsigned pin = (r - IOAPIC_REG_RTE0) / 2;
    uint64_t e = io->rte[pin];
    uint64_t nv = (r & 1) ? (e & 0xffffffffull) | ((uint64_t)v << 32) : (e & ~0xffffffffull) | v;
    io->rte[pin] = (nv & (RTE_WRITABLE)) | (e & (RTE_DELIVERY_STATUS | RTE_REMOTE_IRR));
    if (!(io->rte[pin] & RTE_LEVEL))
        io->rte[pin] &= ~RTE_REMOTE_IRR;
    service_level(io, pin);     /* unmasking an asserted level pin delivers it */
}

uint64_t ioapic_mmio_read(struct ioapic *io, uint64_t offset, unsigned size)
{
    if (offset == 0x00)
        return io->regsel;
    if (offset >= 0x10 && offset < 0x14) {
        uint64_t v = reg_read(io, io->regsel) >> (8 * (offset - 0x10));
        return size >= 4 ? (uint32_t)v : v & ((1ull << (8 * size)) - 1);
    }
    return 0;
}

void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint64_t val, unsigned size)
{
    if (offset == 0x00)
        io->regsel = (uint8_t)val;
    else if (offset == 0x10 && size >= 4)
        reg_write(io, io->regsel, (uint32_t)val);
    /* Narrow IOWIN writes: the datasheet requires 32-bit accesses; dropped. */
}
