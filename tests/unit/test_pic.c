/* The 8259A pair (devices/pic8259.c) against the 8259A datasheet: the PC BIOS
 * initialisation sequence, IMR, fully nested priority, cascade through IR2,
 * non-specific/specific/rotating EOI, AEOI, OCW3 reads and poll, level mode from
 * ELCR, spurious IRQ 7.  Expected vectors follow from ICW2 by hand. */
#include <check.h>
#include <stdlib.h>

#include "devices/pic8259.h"

static unsigned changes;
static void changed(void *o) { changes++; }
static const struct pic_ops ops = { changed };

/* The PC/AT sequence: master vectors 0x20.., slave 0x28.., cascade on IR2. */
static void init_pc(struct pic8259 *p, bool aeoi)
{
    pic_init(p, &ops, NULL);
    pic_port_write(p, 0x20, 0x11);     /* ICW1: edge, cascade, ICW4 */
    pic_port_write(p, 0x21, 0x20);     /* ICW2 */
    pic_port_write(p, 0x21, 0x04);     /* ICW3: slave on IR2 */
    pic_port_write(p, 0x21, aeoi ? 0x03 : 0x01);
    pic_port_write(p, 0xa0, 0x11);
    pic_port_write(p, 0xa1, 0x28);
    pic_port_write(p, 0xa1, 0x02);
    pic_port_write(p, 0xa1, aeoi ? 0x03 : 0x01);
    pic_port_write(p, 0x21, 0x00);     /* OCW1: all unmasked */
    pic_port_write(p, 0xa1, 0x00);
}

START_TEST(test_init_and_mask)
{
    struct pic8259 p;
    init_pc(&p, false);
    ck_assert(!pic_output(&p));
    pic_port_write(&p, 0x21, 0xfe);    /* only IRQ 0 */
    ck_assert_uint_eq(pic_port_read(&p, 0x21), 0xfe);
    pic_set_irq(&p, 1, true);
    ck_assert(!pic_output(&p));        /* masked */
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x02);  /* but in IRR (OCW3 default: IRR) */
    pic_port_write(&p, 0x21, 0x00);
    ck_assert(pic_output(&p));
    ck_assert_uint_eq(pic_ack(&p), 0x21);
    pic_port_write(&p, 0x20, 0x0b);    /* OCW3: read ISR */
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x02);
    pic_port_write(&p, 0x20, 0x20);    /* non-specific EOI */
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x00);
    ck_assert(!pic_output(&p));        /* edge: consumed by INTA */
}
END_TEST

START_TEST(test_priority_nesting)
{
    struct pic8259 p;
    init_pc(&p, false);
    pic_set_irq(&p, 4, true);
    ck_assert_uint_eq(pic_ack(&p), 0x24);
    pic_set_irq(&p, 6, true);          /* lower priority than 4 in service: held */
    ck_assert(!pic_output(&p));
    pic_set_irq(&p, 1, true);          /* higher: nests */
    ck_assert(pic_output(&p));
    ck_assert_uint_eq(pic_ack(&p), 0x21);
    pic_port_write(&p, 0x20, 0x20);    /* EOI ends IRQ 1 (highest in service) */
    ck_assert(!pic_output(&p));        /* 4 still in service */
    pic_port_write(&p, 0x20, 0x64);    /* specific EOI for IR4 */
    ck_assert(pic_output(&p));
    ck_assert_uint_eq(pic_ack(&p), 0x26);
    pic_port_write(&p, 0x20, 0xa0);    /* rotate on non-specific EOI: IR6 becomes lowest */
    pic_set_irq(&p, 5, false);
    pic_set_irq(&p, 5, true);
    pic_set_irq(&p, 7, true);
    ck_assert_uint_eq(pic_ack(&p), 0x27);  /* after rotation IR7 has the highest priority */
}
END_TEST

START_TEST(test_cascade_and_spurious)
{
    struct pic8259 p;
    init_pc(&p, false);
    pic_set_irq(&p, 12, true);
    ck_assert(pic_output(&p));
    ck_assert_uint_eq(pic_ack(&p), 0x2c);
    pic_port_write(&p, 0x0a0, 0x0b);
    ck_assert_uint_eq(pic_port_read(&p, 0xa0), 0x10);  /* slave ISR bit 4 */
    pic_port_write(&p, 0x020, 0x0b);
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x04);  /* master ISR bit 2 */
    pic_port_write(&p, 0xa0, 0x20);
    pic_port_write(&p, 0x20, 0x20);
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x00);
    /* Nothing pending: INTA gets the spurious IRQ 7 vector, ISR untouched. */
    ck_assert_uint_eq(pic_ack(&p), 0x27);
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x00);
}
END_TEST

START_TEST(test_aeoi_level_poll)
{
    struct pic8259 p;
    init_pc(&p, true);
    pic_set_irq(&p, 3, true);
    ck_assert_uint_eq(pic_ack(&p), 0x23);
    pic_port_write(&p, 0x20, 0x0b);
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x00);  /* AEOI: nothing in service */
    /* ELCR: IRQ 3 level-triggered; the ports keep only the allowed bits. */
    pic_port_write(&p, 0x4d1, 0xff);
    ck_assert_uint_eq(pic_port_read(&p, 0x4d1), 0xde);
    pic_port_write(&p, 0x4d0, 0x0f);
    ck_assert_uint_eq(pic_port_read(&p, 0x4d0), 0x08);  /* IRQ 0-2 are always edge */
    pic_set_irq(&p, 3, false);
    pic_set_irq(&p, 3, true);
    ck_assert_uint_eq(pic_ack(&p), 0x23);
    ck_assert(pic_output(&p));         /* level still high: requested again (AEOI) */
    ck_assert_uint_eq(pic_ack(&p), 0x23);
    pic_set_irq(&p, 3, false);
    ck_assert(!pic_output(&p));        /* level low: the request is gone */
    /* Poll (OCW3 bit 2): the next read of the command port is an INTA. */
    pic_set_irq(&p, 5, true);
    pic_port_write(&p, 0x20, 0x0c);
    ck_assert_uint_eq(pic_port_read(&p, 0x20), 0x85);
    ck_assert(!pic_output(&p));
    ck_assert_uint_gt(changes, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pic8259");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_init_and_mask);
    tcase_add_test(tc, test_priority_nesting);
    tcase_add_test(tc, test_cascade_and_spurious);
    tcase_add_test(tc, test_aeoi_level_poll);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
