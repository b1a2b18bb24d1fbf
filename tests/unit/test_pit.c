/* The 8254 PIT (devices/pit8254.c) against the Intel 8254 datasheet (231164-005):
 * counting in modes 0, 2, 3, counter latch, read-back, LSB/MSB access, the IRQ 0
 * edges of counter 0 and counter 2's gate/OUT on port 0x61.  The clock runs at
 * 1000 cycles per PIT tick, so every expected count is a hand division. */
#include <check.h>
#include <stdlib.h>

#include "devices/io.h"
#include "devices/pit8254.h"
#include "pc_fake_env.h"

#define CPT 1000ull                       /* cycles per PIT tick */

static struct pit8254 pit;
static struct io_bus *bus;

static void setup(void)
{
    struct pc_env env = fake_env(PIT_HZ * CPT);
    pit_init(&pit, &env);
    bus = io_bus_new();
    ck_assert(pit_attach(&pit, bus));
}

static void teardown(void) { io_bus_free(bus); }

static void fire(void *d, unsigned w, uint64_t now) { pit_timer_event(d, w, now); }

START_TEST(test_mode2_count_and_latch)
{
    io_write(bus, 0x43, 0x34, 1);       /* counter 0, LSB then MSB, mode 2, binary */
    io_write(bus, 0x40, 100, 1);
    io_write(bus, 0x40, 0, 1);          /* N = 100 loaded at tick 0 */
    fk.now = 10 * CPT;
    io_write(bus, 0x43, 0x00, 1);       /* latch counter 0 */
    fk.now = 50 * CPT;                  /* the latch holds the value of tick 10 */
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 90);
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 0);
    /* Unlatched: LSB then MSB of the live count, 100 - 50 = 50. */
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 50);
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 0);
    /* Mode 2 reloads: at tick 130 the count is 100 - 30 = 70. */
    fk.now = 130 * CPT;
    ck_assert_uint_eq(pit_count(&pit, 0), 70);
    /* OUT is low exactly for the clock at count 1 (tick 99 of each period). */
    fk.now = 199 * CPT;
    ck_assert(!pit_out(&pit, 0));
    fk.now = 200 * CPT;
    ck_assert(pit_out(&pit, 0));
}
END_TEST

START_TEST(test_irq0_periodic_edges)
{
    io_write(bus, 0x43, 0x34, 1);
    io_write(bus, 0x40, 0xE8, 1);
    io_write(bus, 0x40, 0x03, 1);       /* N = 1000 */
    ck_assert_uint_eq(fk.deadline[0], 1000 * CPT);
    fake_advance(3500 * CPT, fire, &pit);
    ck_assert_uint_eq(fk.isa_edges[0], 3);     /* ticks 1000, 2000, 3000 */
    ck_assert(!fk.isa_level[0]);
    ck_assert_uint_eq(fk.deadline[0], 4000 * CPT);
    /* The HPET's legacy route takes IRQ 0 away. */
    pit_set_irq0_enabled(&pit, false);
    ck_assert_uint_eq(fk.deadline[0], PC_NEVER);
}
END_TEST

START_TEST(test_mode3_square_wave)
{
    io_write(bus, 0x43, 0x36, 1);       /* counter 0, LSB/MSB, mode 3 */
    io_write(bus, 0x40, 10, 1);
    io_write(bus, 0x40, 0, 1);
    fk.now = 3 * CPT;                   /* counts by 2: 10 - 6 = 4 */
    ck_assert_uint_eq(pit_count(&pit, 0), 4);
    ck_assert(pit_out(&pit, 0));        /* first half (ticks 0-4) high */
    fk.now = 5 * CPT;
    ck_assert(!pit_out(&pit, 0));       /* second half low */
    fk.now = 10 * CPT;
    ck_assert(pit_out(&pit, 0));
}
END_TEST

START_TEST(test_mode0_counter2_on_port61)
{
    io_write(bus, 0x61, 0x01, 1);       /* gate 2 high, speaker off */
    io_write(bus, 0x43, 0xB0, 1);       /* counter 2, LSB/MSB, mode 0 (as pit_calibrate_tsc) */
    io_write(bus, 0x42, 0x00, 1);
    io_write(bus, 0x42, 0x30, 1);       /* N = 0x3000 = 12288 */
    ck_assert_uint_eq(io_read(bus, 0x61, 1) & 0x21, 0x01);   /* OUT low, gate bit reads back */
    fk.now = 12287 * CPT;
    ck_assert_uint_eq(io_read(bus, 0x61, 1) & 0x20, 0);
    ck_assert_uint_eq(pit_count(&pit, 2), 1);
    fk.now = 12288 * CPT;
    ck_assert_uint_eq(io_read(bus, 0x61, 1) & 0x20, 0x20);   /* terminal count: OUT high */
    fk.now = 12290 * CPT;                                      /* wraps through 0xFFFF */
    ck_assert_uint_eq(pit_count(&pit, 2), 0xFFFE);
    /* Counter 2 raises no interrupt. */
    ck_assert_uint_eq(fk.isa_edges[0], 0);
}
END_TEST

START_TEST(test_readback_and_lsb_only)
{
    io_write(bus, 0x43, 0x34, 1);
    io_write(bus, 0x40, 100, 1);
    io_write(bus, 0x40, 0, 1);
    fk.now = 10 * CPT;
    /* Read-back 11 1 0 001 0: latch the status of counter 0 only.  Status =
     * OUT(1) NULL(0) RW=11 MODE=010 BCD=0 = 1011 0100. */
    io_write(bus, 0x43, 0xE2, 1);
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 0xB4);
    /* Read-back of count and status: status first, then the count LSB, MSB. */
    io_write(bus, 0x43, 0xC2, 1);
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 0xB4);
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 90);
    ck_assert_uint_eq(io_read(bus, 0x40, 1), 0);
    /* A control word sets NULL COUNT until the count is written. */
    io_write(bus, 0x43, 0x50, 1);       /* counter 1, LSB only, mode 0 */
    io_write(bus, 0x43, 0xE4, 1);
    ck_assert_uint_eq(io_read(bus, 0x41, 1), 0x50);   /* OUT 0, NULL 1, RW 01, mode 0 */
    io_write(bus, 0x41, 0x20, 1);
    fk.now += 8 * CPT;
    ck_assert_uint_eq(io_read(bus, 0x41, 1), 0x18);   /* 0x20 - 8, LSB only */
    ck_assert_uint_eq(io_read(bus, 0x41, 1), 0x18);   /* no flip-flop in LSB mode */
    /* MSB only: a write of 2 loads 0x200. */
    io_write(bus, 0x43, 0x60, 1);
    io_write(bus, 0x41, 0x02, 1);
    ck_assert_uint_eq(pit_count(&pit, 1), 0x200);
    ck_assert_uint_eq(io_read(bus, 0x41, 1), 0x02);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pit8254");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode2_count_and_latch);
    tcase_add_test(tc, test_irq0_periodic_edges);
    tcase_add_test(tc, test_mode3_square_wave);
    tcase_add_test(tc, test_mode0_counter2_on_port61);
    tcase_add_test(tc, test_readback_and_lsb_only);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
