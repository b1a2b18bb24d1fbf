/* The 8259A pair.  See devices/pic8259.h.  The priority logic follows the
 * datasheet's description of fully nested and rotating priority: priority_add is
 * the IR that currently has the highest priority. */
#include "devices/pic8259.h"
#include "devices/io.h"

#include <string.h>

#define NO_IRQ 8

/* Priority rank (0 = highest) of the highest-priority bit in mask, or NO_IRQ. */
static unsigned rank(const struct pic_chip *s, uint8_t mask)
{
    if (!mask)
        return NO_IRQ;
    unsigned r = 0;
    while (!(mask & (1u << ((r + s->priority_add) & 7))))
        r++;
    return r;
}

/* The IR this chip would signal now, or -1. */
static int chip_irq(const struct pic_chip *s)
{
    unsigned req = rank(s, s->irr & ~s->imr);
    if (req == NO_IRQ)
        return -1;
    uint8_t in_service = s->isr;
    if (s->special_mask)
        in_service &= ~s->imr;      /* special mask mode: masked levels do not block */
    if (req < rank(s, in_service))
        return (int)((req + s->priority_add) & 7);
    return -1;
}

static void chip_set_irq(struct pic_chip *s, unsigned irq, bool level)
{
    uint8_t m = (uint8_t)(1u << irq);
    if (s->ltim || (s->elcr & m)) {
        /* Level-sensitive: IRR follows the line. */
        if (level)
            s->irr |= m;
        else
            s->irr &= ~m;
    } else if (level && !(s->last_level & m)) {
        s->irr |= m;                /* rising edge */
    }
    s->last_level = level ? s->last_level | m : s->last_level & ~m;
}

static void update(struct pic8259 *p)
{
    chip_set_irq(&p->chip[0], 2, chip_irq(&p->chip[1]) >= 0);     /* cascade on IR2 */
    if (p->ops && p->ops->output_changed)
        p->ops->output_changed(p->opaque);
}

static void chip_reset(struct pic_chip *s)
{
    uint8_t elcr = s->elcr, mask = s->elcr_mask;
    memset(s, 0, sizeof *s);
    s->elcr = elcr;
    s->elcr_mask = mask;
}

void pic_init(struct pic8259 *p, const struct pic_ops *ops, void *opaque)
{
    memset(p, 0, sizeof *p);
    p->ops = ops;
    p->opaque = opaque;
    /* ELCR: IRQ 0, 1, 2, 8 and 13 are always edge-triggered (PIIX4 / ICH ELCR). */
    p->chip[0].elcr_mask = 0xf8;
    p->chip[1].elcr_mask = 0xde;
}

void pic_set_irq(struct pic8259 *p, unsigned irq, bool level)
{
    if (irq >= 16)
        return;
    chip_set_irq(&p->chip[irq >> 3], irq & 7, level);
    update(p);
}

bool pic_output(const struct pic8259 *p)
{
    return chip_irq(&p->chip[0]) >= 0;
}

static void intack(struct pic_chip *s, unsigned irq)
{
    uint8_t m = (uint8_t)(1u << irq);
    if (s->auto_eoi) {
        if (s->rotate_on_aeoi)
            s->priority_add = (uint8_t)((irq + 1) & 7);
    } else {
        s->isr |= m;
    }
    if (!(s->ltim || (s->elcr & m)))
        s->irr &= ~m;               /* edge: the request is consumed; level: it stays */
}

uint8_t pic_ack(struct pic8259 *p)
{
    struct pic_chip *m = &p->chip[0], *sl = &p->chip[1];
    int irq = chip_irq(m);
    uint8_t vec;
    if (irq < 0) {
        vec = m->vector_base + 7;   /* spurious IRQ 7, ISR untouched (datasheet) */
    } else {
        intack(m, (unsigned)irq);
        if (irq == 2) {
            int irq2 = chip_irq(sl);
            if (irq2 >= 0) {
                intack(sl, (unsigned)irq2);
                vec = sl->vector_base + (uint8_t)irq2;
            } else {
                vec = sl->vector_base + 7;      /* spurious IRQ 15 */
            }
        } else {
            vec = m->vector_base + (uint8_t)irq;
        }
    }
    update(p);
    return vec;
}

static void write_cmd(struct pic_chip *s, uint8_t v)
{
    if (v & 0x10) {                 /* ICW1 */
        chip_reset(s);
        s->icw4_needed = v & 1;
        s->single = (v >> 1) & 1;
        s->ltim = (v >> 3) & 1;
        s->init_step = 2;
        return;
    }
    if (v & 0x08) {                 /* OCW3 */
        if (v & 0x04)
            s->poll = true;
        if (v & 0x02)
            s->read_isr = v & 1;
        if (v & 0x40)
            s->special_mask = (v >> 5) & 1;
        return;
    }
    unsigned irq;                   /* OCW2: R, SL, EOI in bits 7:5 */
    switch (v >> 5) {
    case 0: s->rotate_on_aeoi = false; break;
    case 4: s->rotate_on_aeoi = true; break;
    case 1:                         /* non-specific EOI */
    case 5:                         /* rotate on non-specific EOI */
        irq = rank(s, s->isr);
        if (irq != NO_IRQ) {
            irq = (irq + s->priority_add) & 7;
            s->isr &= (uint8_t)~(1u << irq);
            if ((v >> 5) == 5)
                s->priority_add = (uint8_t)((irq + 1) & 7);
        }
        break;
    case 3:                         /* specific EOI */
        s->isr &= (uint8_t)~(1u << (v & 7));
        break;
    case 6:                         /* set priority: IR (v & 7) becomes the lowest */
        s->priority_add = (uint8_t)((v + 1) & 7);
        break;
    case 7:                         /* rotate on specific EOI */
        s->isr &= (uint8_t)~(1u << (v & 7));
        s->priority_add = (uint8_t)((v + 1) & 7);
        break;
    default:                        /* 2: no operation */
        break;
    }
}

static void write_data(struct pic_chip *s, uint8_t v)
{
    switch (s->init_step) {
    case 2:                         /* ICW2: vector base (bits 7:3) */
        s->vector_base = v & 0xf8;
        s->init_step = s->single ? (s->icw4_needed ? 4 : 0) : 3;
        break;
    case 3:                         /* ICW3: cascade wiring (stored only) */
        s->icw3 = v;
        s->init_step = s->icw4_needed ? 4 : 0;
        break;
    case 4:                         /* ICW4: bit 1 AEOI (8086 mode assumed) */
        s->auto_eoi = (v >> 1) & 1;
        s->init_step = 0;
        break;
    default:                        /* OCW1 */
        s->imr = v;
        break;
    }
}

uint8_t pic_port_read(struct pic8259 *p, uint16_t port)
{
    if (port == 0x4d0 || port == 0x4d1)
        return p->chip[port & 1].elcr;
    struct pic_chip *s = &p->chip[(port & 0x80) ? 1 : 0];
    if (port & 1)
        return s->imr;
    if (s->poll) {
        /* Poll command: the read acts as INTA (bit 7: a request, bits 2:0 its IR). */
        s->poll = false;
        int irq = chip_irq(s);
        uint8_t r = 0;
        if (irq >= 0) {
            intack(s, (unsigned)irq);
            r = (uint8_t)(0x80 | irq);
        }
        update(p);
        return r;
    }
    return s->read_isr ? s->isr : s->irr;
}

void pic_port_write(struct pic8259 *p, uint16_t port, uint8_t val)
{
    if (port == 0x4d0 || port == 0x4d1) {
        struct pic_chip *s = &p->chip[port & 1];
        s->elcr = val & s->elcr_mask;
    } else {
        struct pic_chip *s = &p->chip[(port & 0x80) ? 1 : 0];
        if (port & 1)
            write_data(s, val);
        else
            write_cmd(s, val);
    }
    update(p);
}

static uint32_t rd_master(void *o, uint16_t off, unsigned size) { return pic_port_read(o, (uint16_t)(0x20 + off)); }
static void wr_master(void *o, uint16_t off, uint32_t v, unsigned size) { pic_port_write(o, (uint16_t)(0x20 + off), (uint8_t)v); }
static uint32_t rd_slave(void *o, uint16_t off, unsigned size) { return pic_port_read(o, (uint16_t)(0xa0 + off)); }
static void wr_slave(void *o, uint16_t off, uint32_t v, unsigned size) { pic_port_write(o, (uint16_t)(0xa0 + off), (uint8_t)v); }
static uint32_t rd_elcr(void *o, uint16_t off, unsigned size)
{
    uint32_t v = pic_port_read(o, (uint16_t)(0x4d0 + off));
    if (size >= 2 && off == 0)
        v |= (uint32_t)pic_port_read(o, 0x4d1) << 8;    /* a 16-bit read sees both */
    return v;
}
static void wr_elcr(void *o, uint16_t off, uint32_t v, unsigned size)
{
    pic_port_write(o, (uint16_t)(0x4d0 + off), (uint8_t)v);
    if (size >= 2 && off == 0)
        pic_port_write(o, 0x4d1, (uint8_t)(v >> 8));
}

bool pic_attach(struct pic8259 *p, struct io_bus *bus)
{
    return io_register(bus, 0x20, 2, rd_master, wr_master, p, "pic-master")
        && io_register(bus, 0xa0, 2, rd_slave, wr_slave, p, "pic-slave")
        && io_register(bus, 0x4d0, 2, rd_elcr, wr_elcr, p, "elcr");
}
