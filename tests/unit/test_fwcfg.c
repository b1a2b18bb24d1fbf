/* fw_cfg through the port bus, read the way a guest driver does (QEMU
 * docs/specs/fw_cfg.rst): select with a 16-bit write to 0x510, read bytes at 0x511. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/io.h"
#include "devices/fw_cfg.h"

static struct io_bus *bus;
static struct fw_cfg *fc;

#define RAM   (512ull << 20)
#define NCPUS 3
#define VERSION_TEXT "hvemu 0.1.0\n"

static void setup(void)
{
    bus = io_bus_new();
    fc = fw_cfg_new();
    ck_assert(fw_cfg_add_machine(fc, RAM, NCPUS, true, VERSION_TEXT));
    ck_assert(fw_cfg_attach(fc, bus, FW_CFG_IO_BASE));
}

static void teardown(void)
{
    fw_cfg_free(fc);
    io_bus_free(bus);
}

static void select_key(uint16_t key) { io_write(bus, 0x510, key, 2); }

static void read_bytes(void *buf, size_t n)
{
    uint8_t *b = buf;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)io_read(bus, 0x511, 1);
}

static uint64_t read_le(unsigned n)
{
    uint8_t b[8];
    read_bytes(b, n);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static uint64_t read_be(unsigned n)
{
    uint8_t b[8];
    read_bytes(b, n);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

START_TEST(test_signature_and_id)
{
    char sig[5] = { 0 };
    select_key(FW_CFG_SIGNATURE);
    read_bytes(sig, 4);
    ck_assert_str_eq(sig, "QEMU");
    ck_assert_uint_eq(read_le(1), 0);           /* past the end: zeros */
    select_key(FW_CFG_SIGNATURE);               /* reselecting rewinds */
    read_bytes(sig, 4);
    ck_assert_str_eq(sig, "QEMU");
    select_key(FW_CFG_ID);
    ck_assert_uint_eq(read_le(4), 1);           /* traditional interface only, no DMA */
}
END_TEST

START_TEST(test_machine_shape)
{
    select_key(FW_CFG_RAM_SIZE);
    ck_assert_uint_eq(read_le(8), RAM);
    select_key(FW_CFG_NB_CPUS);
    ck_assert_uint_eq(read_le(2), NCPUS);
    select_key(FW_CFG_MAX_CPUS);
    ck_assert_uint_eq(read_le(2), NCPUS);
    select_key(FW_CFG_NOGRAPHIC);
    ck_assert_uint_eq(read_le(2), 1);
    select_key(FW_CFG_UUID);
    ck_assert_uint_eq(read_le(8), 0);
}
END_TEST

START_TEST(test_wide_data_read)
{
    select_key(FW_CFG_SIGNATURE);
    /* a 4-byte read returns four successive bytes, the first in the low byte */
    ck_assert_uint_eq(io_read(bus, 0x511, 4), 'Q' | 'E' << 8 | 'M' << 16 | (uint32_t)'U' << 24);
    select_key(FW_CFG_SIGNATURE);
    ck_assert_uint_eq(io_read(bus, 0x511, 2), 'Q' | 'E' << 8);
    ck_assert_uint_eq(io_read(bus, 0x511, 2), 'M' | 'U' << 8);
}
END_TEST

/* Find a file the way Linux's qemu_fw_cfg driver and SeaBIOS do. */
static int find_file(const char *name, uint32_t *size)
{
    select_key(FW_CFG_FILE_DIR);
    uint32_t count = (uint32_t)read_be(4);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t sz = (uint32_t)read_be(4);
        uint16_t sel = (uint16_t)read_be(2);
        ck_assert_uint_eq(read_be(2), 0);       /* reserved */
        char n[FW_CFG_MAX_FILE_PATH];
        read_bytes(n, sizeof n);
        ck_assert_uint_eq(n[FW_CFG_MAX_FILE_PATH - 1], 0);
        if (strcmp(n, name) == 0) {
            *size = sz;
            return sel;
        }
    }
    return -1;
}

START_TEST(test_file_dir_and_version_file)
{
    uint32_t size = 0;
    int sel = find_file("etc/hvemu/version", &size);
    ck_assert_int_ge(sel, FW_CFG_FILE_FIRST);
    ck_assert_uint_eq(size, strlen(VERSION_TEXT));
    char buf[64] = { 0 };
    select_key((uint16_t)sel);
    read_bytes(buf, size);
    ck_assert_str_eq(buf, VERSION_TEXT);
    ck_assert_int_eq(find_file("etc/does-not-exist", &size), -1);
}
END_TEST

START_TEST(test_files_sorted_with_selects)
{
    ck_assert(fw_cfg_add_file(fc, "etc/aaa", "1", 1));
    ck_assert(fw_cfg_add_file(fc, "opt/zzz", "22", 2));
    ck_assert(!fw_cfg_add_file(fc, "etc/aaa", "x", 1));         /* duplicate */
    char longname[80];
    memset(longname, 'n', sizeof longname);
    longname[56] = 0;                                           /* 56 chars + NUL: too long */
    ck_assert(!fw_cfg_add_file(fc, longname, "x", 1));

    select_key(FW_CFG_FILE_DIR);
    ck_assert_uint_eq(read_be(4), 3);
    const char *expect[] = { "etc/aaa", "etc/hvemu/version", "opt/zzz" };
    for (int i = 0; i < 3; i++) {
        read_be(4);
        ck_assert_uint_eq(read_be(2), FW_CFG_FILE_FIRST + i);
        read_be(2);
        char n[FW_CFG_MAX_FILE_PATH];
        read_bytes(n, sizeof n);
        ck_assert_str_eq(n, expect[i]);
    }
    uint32_t size;
    int sel = find_file("opt/zzz", &size);
    select_key((uint16_t)sel);
    ck_assert_uint_eq(size, 2);
    ck_assert_uint_eq(read_le(2), '2' | '2' << 8);
}
END_TEST

START_TEST(test_invalid_selectors_and_writes)
{
    select_key(0x7fff);                         /* nothing there */
    ck_assert_uint_eq(read_le(4), 0);
    select_key(FW_CFG_ARCH_LOCAL | FW_CFG_SIGNATURE);   /* no arch-local items */
    ck_assert_uint_eq(read_le(4), 0);
    select_key(0x4000 | FW_CFG_SIGNATURE);      /* write channel bit: same item */
    ck_assert_uint_eq(read_le(1), 'Q');
    io_write(bus, 0x511, 'X', 1);               /* data writes ignored */
    select_key(FW_CFG_SIGNATURE);
    ck_assert_uint_eq(read_le(1), 'Q');
    ck_assert_uint_eq(io_read(bus, 0x514, 1), 0xff);    /* no DMA interface */
}
END_TEST

static Suite *fwcfg_suite(void)
{
    Suite *s = suite_create("fw_cfg");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_signature_and_id);
    tcase_add_test(tc, test_machine_shape);
    tcase_add_test(tc, test_wide_data_read);
    tcase_add_test(tc, test_file_dir_and_version_file);
    tcase_add_test(tc, test_files_sorted_with_selects);
    tcase_add_test(tc, test_invalid_selectors_and_writes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fwcfg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
