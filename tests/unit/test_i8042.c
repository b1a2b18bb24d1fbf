/* The i8042 (devices/i8042.c) through Linux's probe sequence (drivers/input/serio/
 * i8042.c): status, self test 0xAA -> 0x55, interface tests, command byte, the AUX
 * loopback, the output port's A20 and reset bits, the 0xFE pulse, port 0x92. */
#include <check.h>
#include <stdlib.h>

#include "devices/i8042.h"
#include "devices/io.h"
#include "pc_fake_env.h"

static struct i8042 k;
static struct io_bus *bus;

static void setup(void)
{
    struct pc_env env = fake_env(1000000);
    i8042_init(&k, &env);
    bus = io_bus_new();
    ck_assert(i8042_attach(&k, bus));
}

static void teardown(void) { io_bus_free(bus); }

START_TEST(test_probe)
{
    ck_assert_uint_eq(io_read(bus, 0x64, 1) & I8042_STR_OBF, 0);
    io_write(bus, 0x64, 0xAA, 1);
    ck_assert_uint_eq(io_read(bus, 0x64, 1) & (I8042_STR_OBF | I8042_STR_AUXOBF), I8042_STR_OBF);
    ck_assert_uint_eq(io_read(bus, 0x60, 1), 0x55);
    ck_assert_uint_eq(io_read(bus, 0x64, 1) & I8042_STR_OBF, 0);
    io_write(bus, 0x64, 0xAB, 1);
    ck_assert_uint_eq(io_read(bus, 0x60, 1), 0x00);
    io_write(bus, 0x64, 0xA9, 1);
    ck_assert_uint_eq(io_read(bus, 0x60, 1), 0x00);
    /* Command byte round trip. */
    io_write(bus, 0x64, 0x60, 1);
    io_write(bus, 0x60, 0x65, 1);
    io_write(bus, 0x64, 0x20, 1);
    ck_assert_uint_eq(io_read(bus, 0x60, 1), 0x65);
    io_write(bus, 0x64, 0xA7, 1);          /* disable AUX: CTR bit 5 */
    io_write(bus, 0x64, 0x20, 1);
    ck_assert_uint_eq(io_read(bus, 0x60, 1), 0x65 | 0x20);
    /* AUX loopback: the byte comes back with AUXOBF. */
    io_write(bus, 0x64, 0xD3, 1);
    io_write(bus, 0x60, 0x5A, 1);
    ck_assert_uint_eq(io_read(bus, 0x64, 1) & (I8042_STR_OBF | I8042_STR_AUXOBF),
                      I8042_STR_OBF | I8042_STR_AUXOBF);
    ck_assert_uint_eq(io_read(bus, 0x60, 1), 0x5A);
    /* A byte for the keyboard gets no answer (none attached), and no interrupt. */
    io_write(bus, 0x60, 0xF2, 1);
    ck_assert_uint_eq(io_read(bus, 0x64, 1) & I8042_STR_OBF, 0);
    ck_assert_uint_eq(fk.isa_edges[1] + fk.isa_edges[12], 0);
}
END_TEST

START_TEST(test_reset_and_a20)
{
    io_write(bus, 0x64, 0xD0, 1);
    ck_assert_uint_eq(io_read(bus, 0x60, 1), 0x03);
    io_write(bus, 0x64, 0xD1, 1);
    io_write(bus, 0x60, 0x01, 1);          /* A20 off, no reset */
    ck_assert_uint_eq(fk.a20_calls, 1);
    ck_assert(!fk.a20);
    ck_assert_uint_eq(fk.resets, 0);
    io_write(bus, 0x64, 0xFF, 1);          /* pulse nothing (bit 0 stays high) */
    ck_assert_uint_eq(fk.resets, 0);
    io_write(bus, 0x64, 0xFE, 1);
    ck_assert_uint_eq(fk.resets, 1);
    /* Port 0x92: bit 1 A20, bit 0 fast reset. */
    ck_assert_uint_eq(io_read(bus, 0x92, 1), 0x02);
    io_write(bus, 0x92, 0x00, 1);
    ck_assert(!fk.a20);
    io_write(bus, 0x92, 0x02, 1);
    ck_assert(fk.a20);
    ck_assert_uint_eq(fk.resets, 1);
    io_write(bus, 0x92, 0x03, 1);
    ck_assert_uint_eq(fk.resets, 2);
    ck_assert_uint_eq(io_read(bus, 0x92, 1), 0x02);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("i8042");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_reset_and_a20);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
