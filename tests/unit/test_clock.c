/* The virtual clock's event queue: order, re-arming, disarming, the fire cap and
 * the cycle/ns conversions (hv/clock.h). */
#include <check.h>
#include <stdlib.h>

#include "hv/clock.h"

static int log_ids[64], nlog;
static struct vclock *rearm_clock;
static int rearm_id;

static void record(void *opaque, uint64_t now)
{
    if (nlog < 64)
        log_ids[nlog++] = (int)(intptr_t)opaque;
}

static void rearm_later(void *opaque, uint64_t now)
{
    record(opaque, now);
    clock_timer_arm(rearm_clock, rearm_id, now + 100);
}

static void rearm_now(void *opaque, uint64_t now)
{
    nlog++;
    clock_timer_arm(rearm_clock, rearm_id, now);    /* a zero period */
}

START_TEST(test_order_and_ties)
{
    struct vclock k;
    clock_init(&k, 1000000000);
    nlog = 0;
    int a = clock_timer_new(&k, "a", record, (void *)1);
    int b = clock_timer_new(&k, "b", record, (void *)2);
    int c = clock_timer_new(&k, "c", record, (void *)3);
    ck_assert_uint_eq(clock_next_deadline(&k), CLOCK_NEVER);
    clock_timer_arm(&k, c, 50);
    clock_timer_arm(&k, b, 70);
    clock_timer_arm(&k, a, 70);
    ck_assert_uint_eq(clock_next_deadline(&k), 50);
    ck_assert_uint_eq(clock_run_due(&k, 49), 0);
    ck_assert_uint_eq(clock_run_due(&k, 100), 3);
    ck_assert_int_eq(nlog, 3);
    ck_assert_int_eq(log_ids[0], 3);     /* earliest first */
    ck_assert_int_eq(log_ids[1], 1);     /* equal deadlines: lower id first */
    ck_assert_int_eq(log_ids[2], 2);
    ck_assert(!clock_timer_armed(&k, a));
    ck_assert_uint_eq(clock_next_deadline(&k), CLOCK_NEVER);
}
END_TEST

START_TEST(test_rearm_and_disarm)
{
    struct vclock k;
    clock_init(&k, 0);
    ck_assert_uint_eq(k.freq_hz, CLOCK_DEFAULT_HZ);
    nlog = 0;
    rearm_clock = &k;
    rearm_id = clock_timer_new(&k, "periodic", rearm_later, (void *)7);
    int d = clock_timer_new(&k, "dropped", record, (void *)8);
    clock_timer_arm(&k, rearm_id, 10);
    clock_timer_arm(&k, d, 20);
    clock_timer_disarm(&k, d);
    ck_assert_uint_eq(clock_run_due(&k, 10), 1);
    ck_assert_uint_eq(clock_next_deadline(&k), 110);
    ck_assert_uint_eq(clock_run_due(&k, 109), 0);
    ck_assert_uint_eq(clock_run_due(&k, 110), 1);
    ck_assert_int_eq(nlog, 2);
    ck_assert_int_eq(log_ids[1], 7);
}
END_TEST

START_TEST(test_zero_period_is_capped)
{
    struct vclock k;
    clock_init(&k, 1000);
    nlog = 0;
    rearm_clock = &k;
    rearm_id = clock_timer_new(&k, "zero", rearm_now, NULL);
    clock_timer_arm(&k, rearm_id, 5);
    unsigned fired = clock_run_due(&k, 5);      /* returns instead of spinning forever */
    ck_assert_uint_gt(fired, 1);
    ck_assert_uint_eq(fired, (unsigned)nlog);
    ck_assert(clock_timer_armed(&k, rearm_id));
}
END_TEST

START_TEST(test_conversions)
{
    struct vclock k;
    clock_init(&k, 3000000000ull);
    ck_assert_uint_eq(clock_ns_to_cycles(&k, 1), 3);
    ck_assert_uint_eq(clock_ns_to_cycles(&k, 1000000000ull), 3000000000ull);
    ck_assert_uint_eq(clock_cycles_to_ns(&k, 3000000000ull), 1000000000ull);
    ck_assert_uint_eq(clock_cycles_to_ns(&k, 2), 0);                  /* rounds down */
    /* no overflow for large values: 2^63 cycles at 3 GHz */
    ck_assert_uint_eq(clock_cycles_to_ns(&k, 1ull << 63), (uint64_t)(((unsigned __int128)1 << 63) * 1000000000u / 3000000000ull));
    struct vclock s;
    clock_init(&s, 1000000);                    /* 1 MHz: a cycle is 1000 ns */
    ck_assert_uint_eq(clock_cycles_to_ns(&s, 7), 7000);
    ck_assert_uint_eq(clock_ns_to_cycles(&s, 999), 0);
}
END_TEST

static Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_order_and_ties);
    tcase_add_test(tc, test_rearm_and_disarm);
    tcase_add_test(tc, test_zero_period_is_capped);
    tcase_add_test(tc, test_conversions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(clock_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
