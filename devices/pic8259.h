/* The two cascaded 8259A interrupt controllers of the PC (Intel 8259A datasheet)
 * with the edge/level control registers of the PIIX/ICH (ELCR, ports 0x4D0/0x4D1).
 * Master at 0x20/0x21, slave at 0xA0/0xA1 on the master's IRQ 2.
 *
 * The pair's INT output goes to the BSP: through LINT0 in ExtINT mode (virtual
 * wire) or straight to the CPU when its local APIC is globally disabled.  The CPU
 * side is pic_output() (is INT asserted?) and pic_ack() (the INTA cycles: the
 * vector).  ops->output_changed tells hv/ when INT may have risen.
 *
 * Implemented: ICW1-4 (edge/level from ELCR, ICW1.LTIM makes every line level),
 * OCW1 (IMR), OCW2 (non-specific, specific and rotating EOIs, set priority),
 * OCW3 (read IRR/ISR, poll, special mask mode), AEOI, spurious IRQ 7/15.
 * Not: buffered mode, special fully nested mode, 8080/85 call vectors.
 */
#ifndef HVEMU_DEVICES_PIC8259_H
#define HVEMU_DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

struct io_bus;

struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t last_level;         /* input lines as last driven (edge detection) */
    uint8_t vector_base;        /* ICW2 & 0xF8 */
    uint8_t priority_add;       /* lowest-priority IR is (priority_add - 1) & 7 */
    uint8_t elcr, elcr_mask;
    uint8_t init_step;          /* 0: initialised; 2, 3, 4: expecting ICW2/3/4 */
    bool icw4_needed, single, ltim;
    bool auto_eoi, rotate_on_aeoi;
    bool read_isr, poll, special_mask;
    uint8_t icw3;
};

struct pic_ops {
    void (*output_changed)(void *opaque);
};

struct pic8259 {
    struct pic_chip chip[2];    /* 0 master, 1 slave */
    const struct pic_ops *ops;
    void *opaque;
};

void pic_init(struct pic8259 *p, const struct pic_ops *ops, void *opaque);
/* Ports 0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1.  False if one is taken. */
bool pic_attach(struct pic8259 *p, struct io_bus *bus);

/* Drive ISA IRQ line 0..15. */
void pic_set_irq(struct pic8259 *p, unsigned irq, bool level);
/* INT output asserted (an unmasked request above the in-service priority)? */
bool pic_output(const struct pic8259 *p);
/* INTA: the vector of the highest-priority request (spurious IRQ 7 / 15 if none
 * remains), moving it to ISR unless AEOI. */
uint8_t pic_ack(struct pic8259 *p);

/* Port access (exported for the unit tests): port is 0x20/0x21/0xA0/0xA1/0x4D0/0x4D1. */
uint8_t pic_port_read(struct pic8259 *p, uint16_t port);
void pic_port_write(struct pic8259 *p, uint16_t port, uint8_t val);

#endif
