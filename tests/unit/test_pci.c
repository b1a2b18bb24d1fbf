/* PCI configuration mechanism #1 (devices/pci_host.c, PCI Local Bus 3.0
 * §3.2.2.3.2) and the bus-0 functions QEMU's pc machine has: IDs, class codes, the
 * multi-function bit of 00:01.0, the PIIX4 PMBA, byte lanes of CONFIG_DATA, absent
 * slots reading all ones, read-only IDs and BARs, and the 0xCF9 byte inside the
 * CONFIG_ADDRESS dword. */
#include <check.h>
#include <stdlib.h>

#include "devices/io.h"
#include "devices/pci_host.h"
#include "devices/reset.h"
#include "pc_fake_env.h"

static struct pci_host h;
static struct pc_reset rcr;
static struct io_bus *bus;

static void setup(void)
{
    struct pc_env env = fake_env(1000000);
    pc_reset_init(&rcr, &env);
    pci_host_init(&h, &rcr);
    bus = io_bus_new();
    ck_assert(pci_host_attach(&h, bus));
}

static void teardown(void) { io_bus_free(bus); }

static uint32_t cfg(unsigned dev, unsigned fn, unsigned reg)
{
    io_write(bus, 0xCF8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC), 4);
    return io_read(bus, 0xCFC, 4);
}

START_TEST(test_ids)
{
    ck_assert_uint_eq(cfg(0, 0, 0), 0x12378086);
    ck_assert_uint_eq(cfg(0, 0, 8) >> 8, 0x060000);
    ck_assert_uint_eq(cfg(1, 0, 0), 0x70008086);
    ck_assert_uint_eq(cfg(1, 0, 8) >> 8, 0x060100);
    ck_assert_uint_eq((cfg(1, 0, 0x0C) >> 16) & 0xFF, 0x80);  /* multi-function */
    ck_assert_uint_eq((cfg(0, 0, 0x0C) >> 16) & 0xFF, 0x00);
    ck_assert_uint_eq(cfg(1, 3, 0), 0x71138086);
    ck_assert_uint_eq(cfg(1, 3, 8), 0x06800003);
    ck_assert_uint_eq(cfg(1, 3, 0x40), 0x601);                /* PMBA = 0x600 | I/O */
    ck_assert_uint_eq(cfg(1, 3, 0x80) & 0xFF, 0x01);
    ck_assert_uint_eq(cfg(1, 1, 0), 0xFFFFFFFFu);
    ck_assert_uint_eq(cfg(2, 0, 0), 0xFFFFFFFFu);
    ck_assert_uint_eq(cfg(31, 7, 0), 0xFFFFFFFFu);
    io_write(bus, 0xCF8, 0x80010000u, 4);                      /* bus 1 */
    ck_assert_uint_eq(io_read(bus, 0xCFC, 4), 0xFFFFFFFFu);
    /* Enable bit clear: no configuration cycle. */
    io_write(bus, 0xCF8, 0x00000000u, 4);
    ck_assert_uint_eq(io_read(bus, 0xCFC, 4), 0xFFFFFFFFu);
}
END_TEST

START_TEST(test_byte_lanes_and_writes)
{
    io_write(bus, 0xCF8, 0x80000000u, 4);
    ck_assert_uint_eq(io_read(bus, 0xCF8, 4), 0x80000000u);
    ck_assert_uint_eq(io_read(bus, 0xCFE, 1), 0x37);
    ck_assert_uint_eq(io_read(bus, 0xCFE, 2), 0x1237);
    ck_assert_uint_eq(io_read(bus, 0xCFD, 1), 0x80);
    io_write(bus, 0xCFC, 0, 4);                                /* IDs are read-only */
    ck_assert_uint_eq(cfg(0, 0, 0), 0x12378086);
    /* BAR0 sizing: writes of all ones read back 0 (no BAR). */
    io_write(bus, 0xCF8, 0x80000810u, 4);
    io_write(bus, 0xCFC, 0xFFFFFFFFu, 4);
    ck_assert_uint_eq(io_read(bus, 0xCFC, 4), 0);
    /* PIIX3 PIRQ routing: reset 0x80, writable byte by byte. */
    ck_assert_uint_eq(cfg(1, 0, 0x60), 0x80808080u);
    io_write(bus, 0xCF8, 0x80000860u, 4);
    io_write(bus, 0xCFD, 0x0B, 1);
    ck_assert_uint_eq(cfg(1, 0, 0x60), 0x80800B80u);
    /* The PMBA cannot move. */
    io_write(bus, 0xCF8, 0x80000B40u, 4);
    io_write(bus, 0xCFC, 0xB001, 4);
    ck_assert_uint_eq(cfg(1, 3, 0x40), 0x601);
    /* Reserved address bits 1:0 read 0. */
    io_write(bus, 0xCF8, 0x80000003u, 4);
    ck_assert_uint_eq(io_read(bus, 0xCF8, 4), 0x80000000u);
}
END_TEST

START_TEST(test_type1_probe_and_cf9)
{
    /* Linux's pci_check_type1: a byte write to 0xCFB is not CONFIG_ADDRESS. */
    io_write(bus, 0xCF8, 0x80000000u, 4);
    io_write(bus, 0xCFB, 0x01, 1);
    ck_assert_uint_eq(io_read(bus, 0xCF8, 4), 0x80000000u);
    /* 0xCF9: SYS_RST alone does nothing; setting RST_CPU resets. */
    io_write(bus, 0xCF9, 0x02, 1);
    ck_assert_uint_eq(fk.resets, 0);
    ck_assert_uint_eq(io_read(bus, 0xCF9, 1), 0x02);
    io_write(bus, 0xCF9, 0x06, 1);
    ck_assert_uint_eq(fk.resets, 1);
    ck_assert_uint_eq(io_read(bus, 0xCF8, 4), 0x80000000u);   /* the address is untouched */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ids);
    tcase_add_test(tc, test_byte_lanes_and_writes);
    tcase_add_test(tc, test_type1_probe_and_cf9);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
