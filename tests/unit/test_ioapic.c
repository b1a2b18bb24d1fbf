/* The I/O APIC (devices/ioapic.c) against the 82093AA datasheet: register window,
 * version, redirection entries, edge and level delivery, masking, remote IRR and
 * EOI.  Messages are recorded instead of delivered. */
#include <check.h>
#include <stdlib.h>

#include "devices/ioapic.h"
#include "devices/io.h"
#include "hv/partition.h"
#include "hv/interrupts.h"
#include "mmu/physmem.h"

#include <string.h>

static struct apic_msg msgs[16];
static unsigned nmsg;
static void rec(void *o, const struct apic_msg *m) { if (nmsg < 16) msgs[nmsg] = *m; nmsg++; }
static const struct ioapic_ops ops = { rec };

static uint32_t rd(struct ioapic *io, unsigned reg)
{
    ioapic_mmio_write(io, 0x00, reg, 4);
    return (uint32_t)ioapic_mmio_read(io, 0x10, 4);
}
static void wr(struct ioapic *io, unsigned reg, uint32_t v)
{
    ioapic_mmio_write(io, 0x00, reg, 4);
    ioapic_mmio_write(io, 0x10, v, 4);
}

START_TEST(test_registers)
{
    struct ioapic io;
    nmsg = 0;
    ioapic_init(&io, &ops, NULL);
    ck_assert_uint_eq(rd(&io, 0x01), 0x00170011);      /* version 0x11, 24 entries */
    wr(&io, 0x00, 0x0A000000);
    ck_assert_uint_eq(rd(&io, 0x00), 0x0A000000);      /* ID in 27:24 */
    wr(&io, 0x01, 0);
    ck_assert_uint_eq(rd(&io, 0x01), 0x00170011);      /* read-only */
    for (unsigned pin = 0; pin < 24; pin++)
        ck_assert_uint_eq(rd(&io, 0x10 + 2 * pin), 0x10000);   /* masked at reset */
    wr(&io, 0x10 + 2 * 5, 0x0000A931);                 /* level, logical, lowest, vector 0x31, unmasked */
    wr(&io, 0x11 + 2 * 5, 0x03000000);
    ck_assert_uint_eq(rd(&io, 0x10 + 2 * 5), 0x0000A931);
    ck_assert_uint_eq(rd(&io, 0x11 + 2 * 5), 0x03000000);
    wr(&io, 0x10 + 2 * 5, 0x0000F931);                 /* remote IRR / delivery status read-only */
    ck_assert_uint_eq(rd(&io, 0x10 + 2 * 5), 0x0000A931);
    ck_assert_uint_eq(ioapic_mmio_read(&io, 0x00, 4), 0x10 + 2 * 5);   /* IOREGSEL reads back */
    ck_assert_uint_eq(nmsg, 0);                        /* nothing asserted */
}
END_TEST

START_TEST(test_edge)
{
    struct ioapic io;
    nmsg = 0;
    ioapic_init(&io, &ops, NULL);
    ioapic_set_irq(&io, 2, true);                      /* masked: the edge is lost */
    ioapic_set_irq(&io, 2, false);
    ck_assert_uint_eq(nmsg, 0);
    wr(&io, 0x14, 0x00000040);                         /* pin 2: edge, fixed, physical, vector 0x40 */
    wr(&io, 0x15, 0x01000000);
    ioapic_set_irq(&io, 2, true);
    ioapic_set_irq(&io, 2, true);                      /* no new edge */
    ck_assert_uint_eq(nmsg, 1);
    ck_assert_uint_eq(msgs[0].vector, 0x40);
    ck_assert_uint_eq(msgs[0].mode, APIC_DM_FIXED);
    ck_assert(!msgs[0].logical && !msgs[0].level_trig);
    ck_assert_uint_eq(msgs[0].dest, 1);
    ioapic_set_irq(&io, 2, false);
    ioapic_set_irq(&io, 2, true);
    ck_assert_uint_eq(nmsg, 2);
    ck_assert_uint_eq(rd(&io, 0x14) & RTE_REMOTE_IRR, 0);   /* edge: no remote IRR */
}
END_TEST

START_TEST(test_level_remote_irr)
{
    struct ioapic io;
    nmsg = 0;
    ioapic_init(&io, &ops, NULL);
    wr(&io, 0x10 + 2 * 9, 0x00018055);                 /* pin 9: level, masked, vector 0x55 */
    ioapic_set_irq(&io, 9, true);
    ck_assert_uint_eq(nmsg, 0);
    wr(&io, 0x10 + 2 * 9, 0x00008055);                 /* unmask while asserted: delivered */
    ck_assert_uint_eq(nmsg, 1);
    ck_assert(msgs[0].level_trig);
    ck_assert_uint_eq(rd(&io, 0x10 + 2 * 9) & RTE_REMOTE_IRR, RTE_REMOTE_IRR);
    ioapic_set_irq(&io, 9, true);                      /* remote IRR blocks re-delivery */
    ck_assert_uint_eq(nmsg, 1);
    ioapic_eoi(&io, 0x56);                             /* another vector: nothing */
    ck_assert_uint_eq(rd(&io, 0x10 + 2 * 9) & RTE_REMOTE_IRR, RTE_REMOTE_IRR);
    ioapic_eoi(&io, 0x55);                             /* still asserted: again */
    ck_assert_uint_eq(nmsg, 2);
    ioapic_set_irq(&io, 9, false);
    ioapic_eoi(&io, 0x55);                             /* deasserted: done */
    ck_assert_uint_eq(nmsg, 2);
    ck_assert_uint_eq(rd(&io, 0x10 + 2 * 9) & RTE_REMOTE_IRR, 0);
    ioapic_set_irq(&io, 30, true);                     /* no such pin: ignored */
    ck_assert_uint_eq(nmsg, 2);
}
END_TEST

/* --- routed through a partition: I/O APIC -> APIC bus -> local APIC, and the
 * 8259 -> LINT0 (ExtINT) -> BSP path ------------------------------------------- */

static struct partition *make(unsigned n)
{
    char err[160];
    struct partition_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ram_size = 16ull << 20;
    cfg.nr_vps = n;
    struct partition *p = partition_new(&cfg, err, sizeof err);
    ck_assert_msg(p != NULL, "partition_new: %s", err);
    return p;
}

static void rte(struct partition *p, unsigned pin, uint32_t lo, uint32_t hi)
{
    physmem_write(p->pm, IOAPIC_DEFAULT_BASE, 0x10 + 2 * pin, 4);
    physmem_write(p->pm, IOAPIC_DEFAULT_BASE + 0x10, lo, 4);
    physmem_write(p->pm, IOAPIC_DEFAULT_BASE, 0x11 + 2 * pin, 4);
    physmem_write(p->pm, IOAPIC_DEFAULT_BASE + 0x10, hi, 4);
}

START_TEST(test_partition_routing)
{
    struct partition *p = make(2);
    for (unsigned i = 0; i < 2; i++)
        lapic_mmio_write(intr_lapic(p, i), LAPIC_SVR, 0x1ff, 4);
    /* The 8259s also see every ISA IRQ (and reach the BSP via LINT0): mask them
     * while the I/O APIC path is tested (OCW1 = IMR). */
    io_write(p->io, 0x21, 0xff, 1);
    io_write(p->io, 0xa1, 0xff, 1);
    /* ISA IRQ 4 -> pin 4, edge, fixed, physical APIC 1, vector 0x44. */
    rte(p, 4, 0x44, 1u << 24);
    p->vps[1].cpu.attention = 0;
    intr_set_isa_irq(p, 4, true);
    ck_assert_int_eq(lapic_pending_vector(intr_lapic(p, 1)), 0x44);
    ck_assert_int_eq(lapic_pending_vector(intr_lapic(p, 0)), -1);
    ck_assert(p->vps[1].cpu.attention & ATTN_INTR);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[1].cpu), 0x44);
    /* ISA IRQ 0 is wired to pin 2. */
    rte(p, 2, 0x30, 0);
    intr_set_isa_irq(p, 0, true);
    ck_assert_int_eq(lapic_pending_vector(intr_lapic(p, 0)), 0x30);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[0].cpu), 0x30);
    lapic_mmio_write(intr_lapic(p, 0), LAPIC_EOI, 0, 4);

    /* GSI 10, level, to APIC 0: EOI from the local APIC clears remote IRR and,
     * the line still being high, brings the interrupt back. */
    rte(p, 10, 0x804a, 0);
    intr_set_gsi(p, 10, true);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[0].cpu), 0x4a);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[0].cpu), -1);
    lapic_mmio_write(intr_lapic(p, 0), LAPIC_EOI, 0, 4);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[0].cpu), 0x4a);
    intr_set_gsi(p, 10, false);
    lapic_mmio_write(intr_lapic(p, 0), LAPIC_EOI, 0, 4);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[0].cpu), -1);
    physmem_write(p->pm, IOAPIC_DEFAULT_BASE, 0x10 + 2 * 10, 4);
    ck_assert_uint_eq(physmem_read(p->pm, IOAPIC_DEFAULT_BASE + 0x10, 4) & RTE_REMOTE_IRR, 0);

    /* The 8259: vectors 0x20/0x28; IRQ 1 (I/O APIC pin 1 masked) reaches only the
     * BSP, through LINT0 in ExtINT mode (its reset state here). */
    const uint8_t icw_m[] = { 0x11, 0x20, 0x04, 0x01 }, icw_s[] = { 0x11, 0x28, 0x02, 0x01 };
    for (unsigned k = 0; k < 4; k++) {
        io_write(p->io, k ? 0x21 : 0x20, icw_m[k], 1);
        io_write(p->io, k ? 0xa1 : 0xa0, icw_s[k], 1);
    }
    io_write(p->io, 0x21, 0x00, 1);
    io_write(p->io, 0xa1, 0x00, 1);
    intr_set_isa_irq(p, 1, true);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[1].cpu), -1);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[0].cpu), 0x21);
    io_write(p->io, 0x20, 0x20, 1);                     /* EOI */
    /* Masking LINT0 cuts the path. */
    lapic_mmio_write(intr_lapic(p, 0), LAPIC_LVT_LINT0, 0x10700, 4);
    intr_set_isa_irq(p, 1, false);
    intr_set_isa_irq(p, 1, true);
    ck_assert_int_eq(intr_env_ack(p, &p->vps[0].cpu), -1);
    partition_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_registers);
    tcase_add_test(tc, test_edge);
    tcase_add_test(tc, test_level_remote_irr);
    tcase_add_test(tc, test_partition_routing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
