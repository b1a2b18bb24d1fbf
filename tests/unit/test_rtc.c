/* The MC146818 RTC (devices/cmos_rtc.c) against the MC146818A datasheet and the PC
 * AT CMOS map: BCD/binary and 12/24-hour time registers, UIP in the last 244 us of a
 * second, register C flags and IRQ 8, SET, and the memory-size bytes QEMU writes.
 * The clock runs at 1 MHz, so a cycle is a microsecond. */
#include <check.h>
#include <stdlib.h>

#include "devices/cmos_rtc.h"
#include "devices/io.h"
#include "pc_fake_env.h"

#define HZ 1000000ull

static struct cmos_rtc rtc;
static struct io_bus *bus;

static void setup(void)
{
    struct pc_env env = fake_env(HZ);
    rtc_init(&rtc, &env, RTC_DEFAULT_BASE);
    bus = io_bus_new();
    ck_assert(rtc_attach(&rtc, bus));
}

static void teardown(void) { io_bus_free(bus); }

static void fire(void *d, unsigned w, uint64_t now) { rtc_timer_event(d, w, now); }

static uint8_t rd(uint8_t reg) { io_write(bus, 0x70, reg, 1); return (uint8_t)io_read(bus, 0x71, 1); }
static void wr(uint8_t reg, uint8_t v) { io_write(bus, 0x70, reg, 1); io_write(bus, 0x71, v, 1); }

START_TEST(test_default_date_bcd)
{
    /* 2026-01-01T00:00:00, a Thursday (day of week 5, Sunday = 1). */
    ck_assert_uint_eq(rd(0), 0x00);
    ck_assert_uint_eq(rd(2), 0x00);
    ck_assert_uint_eq(rd(4), 0x00);
    ck_assert_uint_eq(rd(6), 5);
    ck_assert_uint_eq(rd(7), 0x01);
    ck_assert_uint_eq(rd(8), 0x01);
    ck_assert_uint_eq(rd(9), 0x26);
    ck_assert_uint_eq(rd(0x32), 0x20);
    ck_assert_uint_eq(rd(0x0A), 0x26);
    ck_assert_uint_eq(rd(0x0B), 0x02);
    ck_assert_uint_eq(rd(0x0D), 0x80);
    /* 1 h 1 min 59.5 s later: 01:01:59. */
    fk.now = 3719 * HZ + HZ / 2;
    ck_assert_uint_eq(rd(4), 0x01);
    ck_assert_uint_eq(rd(2), 0x01);
    ck_assert_uint_eq(rd(0), 0x59);
    /* Binary (B.DM): 59 = 0x3B. */
    wr(0x0B, 0x06);
    ck_assert_uint_eq(rd(0), 59);
}
END_TEST

START_TEST(test_parse_base_and_12h)
{
    int64_t t;
    ck_assert(rtc_parse_base("2026-01-01T00:00:00", &t));
    ck_assert_int_eq(t, 1767225600);
    ck_assert(rtc_parse_base("2024-03-01", &t));
    ck_assert_int_eq(t, 1709251200);
    ck_assert(rtc_parse_base("2024-02-29T23:59:59", &t));
    ck_assert_int_eq(t, 1709251199);
    ck_assert(!rtc_parse_base("2023-02-29T00:00:00", &t));
    ck_assert(!rtc_parse_base("2026-13-01T00:00:00", &t));
    ck_assert(!rtc_parse_base("2026-01-01T24:00:00", &t));
    ck_assert(!rtc_parse_base("yesterday", &t));

    /* 13:05 in 12-hour BCD mode: hour register = PM bit | 0x01. */
    rtc.base_seconds = 1767225600 + 13 * 3600 + 5 * 60;
    wr(0x0B, 0x00);
    ck_assert_uint_eq(rd(4), 0x81);
    rtc.base_seconds = 1767225600;          /* 00:00 reads 12 AM */
    ck_assert_uint_eq(rd(4), 0x12);
}
END_TEST

START_TEST(test_uip_window)
{
    fk.now = 5 * HZ + 999700;               /* 300 us before the update: clear */
    ck_assert_uint_eq(rd(0x0A) & 0x80, 0);
    fk.now = 5 * HZ + 999800;               /* 200 us before: UIP */
    ck_assert_uint_eq(rd(0x0A) & 0x80, 0x80);
    fk.now = 6 * HZ;
    ck_assert_uint_eq(rd(0x0A) & 0x80, 0);
}
END_TEST

START_TEST(test_periodic_irq8)
{
    /* RS = 6: 1024 Hz, 32 ticks of 32.768 kHz = 976.5625 us -> the first event at 977. */
    wr(0x0B, 0x42);                         /* PIE, 24 h */
    ck_assert_uint_eq(fk.deadline[0], 977);
    fake_advance(1000, fire, &rtc);
    ck_assert(fk.isa_level[8]);
    ck_assert_uint_eq(fk.isa_edges[8], 1);
    ck_assert_uint_eq(rd(0x0C), 0xC0);      /* IRQF | PF */
    ck_assert(!fk.isa_level[8]);
    ck_assert_uint_eq(rd(0x0C), 0x00);      /* cleared by the read */
    ck_assert_uint_eq(fk.deadline[0], 1954);/* 64 ticks = 1953.125 us */
    /* PF without PIE: flag only, no IRQF. */
    wr(0x0B, 0x02);
    fk.now = 5000;
    ck_assert_uint_eq(rd(0x0C), 0x40);
    ck_assert_uint_eq(fk.isa_edges[8], 1);
}
END_TEST

START_TEST(test_update_and_alarm)
{
    wr(0x0A, 0x20);                         /* no periodic rate */
    wr(1, 0x03);                            /* alarm 00:00:03 */
    wr(3, 0x00);
    wr(5, 0x00);
    wr(0x0B, 0x22);                         /* AIE */
    ck_assert_uint_eq(fk.deadline[0], 1 * HZ);
    fake_advance(2 * HZ + 10, fire, &rtc);
    ck_assert(!fk.isa_level[8]);            /* seconds 1 and 2: no match */
    fake_advance(3 * HZ + 10, fire, &rtc);
    ck_assert(fk.isa_level[8]);
    ck_assert_uint_eq(rd(0x0C), 0xB0);      /* IRQF | AF | UF (UF set each second) */
    /* UIE: the next second boundary. */
    wr(0x0B, 0x12);
    ck_assert_uint_eq(fk.deadline[0], 4 * HZ);
    fake_advance(4 * HZ, fire, &rtc);
    ck_assert_uint_eq(rd(0x0C), 0x90);
    /* A don't-care alarm (0xC0-0xFF) matches every second. */
    wr(1, 0xFF); wr(3, 0xFF); wr(5, 0xFF);
    wr(0x0B, 0x22);
    fake_advance(5 * HZ, fire, &rtc);
    ck_assert_uint_eq(rd(0x0C) & 0xA0, 0xA0);
}
END_TEST

START_TEST(test_set_and_write_time)
{
    wr(0x0B, 0x82);                         /* SET: updates stop */
    wr(4, 0x12);
    wr(2, 0x34);
    wr(9, 0x27);
    fk.now = 10 * HZ;                       /* frozen while SET */
    ck_assert_uint_eq(rd(0), 0x00);
    ck_assert_uint_eq(rd(4), 0x12);
    wr(0x0B, 0x02);                         /* running again from 2027-01-01 12:34:00 */
    fk.now = 12 * HZ;
    ck_assert_uint_eq(rd(0), 0x02);
    ck_assert_uint_eq(rd(2), 0x34);
    ck_assert_uint_eq(rd(9), 0x27);
    ck_assert_uint_eq(rd(6), 6);            /* 2027-01-01 is a Friday */
}
END_TEST

START_TEST(test_memory_bytes)
{
    /* 128 MiB: extended memory capped at 0xFC00 KiB; above 16 MiB (128-16) MiB / 64 KiB = 0x0700. */
    rtc_set_memory(&rtc, 128ull << 20, 0, 2);
    ck_assert_uint_eq(rd(0x30), 0x00);
    ck_assert_uint_eq(rd(0x31), 0xFC);
    ck_assert_uint_eq(rd(0x34), 0x00);
    ck_assert_uint_eq(rd(0x35), 0x07);
    ck_assert_uint_eq(rd(0x5F), 1);
    /* 6 GiB: 3 GiB below 4 GiB, 3 GiB above = 0x0C000 units of 64 KiB. */
    rtc_set_memory(&rtc, 3ull << 30, 3ull << 30, 1);
    ck_assert_uint_eq(rd(0x5B), 0x00);
    ck_assert_uint_eq(rd(0x5C), 0xC0);
    ck_assert_uint_eq(rd(0x5D), 0x00);
    ck_assert_uint_eq(rd(0x34) | rd(0x35) << 8, 0xBF00);   /* (3072 - 16) MiB / 64 KiB */
    /* The NMI mask bit of 0x70 does not change the index. */
    io_write(bus, 0x70, 0x80 | 0x35, 1);
    ck_assert_uint_eq(io_read(bus, 0x71, 1), 0xBF);
    ck_assert(rtc.nmi_masked);
    /* Storage bytes keep what is written. */
    wr(0x40, 0xA5);
    ck_assert_uint_eq(rd(0x40), 0xA5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cmos_rtc");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_default_date_bcd);
    tcase_add_test(tc, test_parse_base_and_12h);
    tcase_add_test(tc, test_uip_window);
    tcase_add_test(tc, test_periodic_irq8);
    tcase_add_test(tc, test_update_and_alarm);
    tcase_add_test(tc, test_set_and_write_time);
    tcase_add_test(tc, test_memory_bytes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
