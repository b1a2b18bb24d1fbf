/* The HPET (devices/hpet.c) against the IA-PC HPET specification 1.0a: the
 * capabilities register, the main counter (enable, 32-bit halves, writes while
 * halted), one-shot and periodic comparators, edge and level interrupts with
 * GINTR_STA, the legacy replacement route and INT_ROUTE_CAP.  The core clock runs
 * at 3 GHz: 30 cycles per 100 MHz HPET tick. */
#include <check.h>
#include <stdlib.h>

#include "devices/hpet.h"
#include "pc_fake_env.h"

#define CPT 30ull

static struct hpet h;

static void setup(void)
{
    struct pc_env env = fake_env(3000000000ull);
    hpet_init(&h, &env);
}

static void fire(void *d, unsigned w, uint64_t now) { hpet_timer_event(d, w, now); }
static uint64_t rd(uint64_t off, unsigned size) { return hpet_mmio_read(&h, off, size); }
static void wr(uint64_t off, uint64_t v, unsigned size) { hpet_mmio_write(&h, off, v, size); }

START_TEST(test_capabilities)
{
    /* Period 10^7 fs in 63:32; 8086 vendor, LEG_RT_CAP, COUNT_SIZE_CAP, 3 timers, rev 1. */
    ck_assert_uint_eq(rd(0x000, 8), 0x0098968080860000ull | 0xA201);
    ck_assert_uint_eq(rd(0x004, 4), 10000000);
    ck_assert_uint_eq(rd(0x000, 4), 0x8086A201);
    /* Timer 0: periodic capable, 64-bit; routes 20-23. */
    ck_assert_uint_eq(rd(0x100, 8), 0x00F0000000000030ull);
    ck_assert_uint_eq(rd(0x120, 8), 0x00F0000000000020ull);
    ck_assert_uint_eq(rd(0x108, 8), UINT64_MAX);
}
END_TEST

START_TEST(test_main_counter)
{
    fk.now = 300;
    ck_assert_uint_eq(rd(0x0F0, 8), 0);     /* halted at reset */
    wr(0x010, 1, 4);                        /* ENABLE_CNF at cycle 300 */
    fk.now = 300 + 3000;
    ck_assert_uint_eq(rd(0x0F0, 8), 100);
    ck_assert_uint_eq(rd(0x0F0, 4), 100);
    ck_assert_uint_eq(rd(0x0F4, 4), 0);
    wr(0x010, 0, 4);                        /* halt: the counter holds */
    fk.now = 90000;
    ck_assert_uint_eq(rd(0x0F0, 8), 100);
    wr(0x0F4, 0x1, 4);                      /* write the upper half while halted */
    ck_assert_uint_eq(rd(0x0F0, 8), 0x100000064ull);
    wr(0x010, 1, 4);
    fk.now = 90000 + 30 * 5;
    ck_assert_uint_eq(rd(0x0F0, 8), 0x100000069ull);
}
END_TEST

START_TEST(test_oneshot_edge_gsi)
{
    wr(0x100, (20u << 9) | HPET_TN_ENABLE, 4);  /* edge, route to I/O APIC pin 20 */
    wr(0x108, 1000, 8);
    ck_assert_uint_eq(fk.deadline[0], PC_NEVER);   /* counter halted: nothing armed */
    wr(0x010, 1, 4);
    ck_assert_uint_eq(fk.deadline[0], 1000 * CPT);
    fake_advance(2000 * CPT, fire, &h);
    ck_assert_uint_eq(fk.gsi_edges[20], 1);
    ck_assert(!fk.gsi_level[20]);
    ck_assert_uint_eq(rd(0x020, 8), 0);     /* edge mode leaves GINTR_STA clear */
    /* One-shot in 64-bit mode: the next match is a 2^64 wrap away (never). */
    ck_assert_uint_eq(fk.deadline[0], PC_NEVER);
}
END_TEST

START_TEST(test_periodic)
{
    wr(0x010, 1, 4);
    /* Linux's sequence: PERIODIC | VAL_SET | ENABLE, comparator = now + delta, then delta. */
    wr(0x100, HPET_TN_PERIODIC | HPET_TN_VAL_SET | HPET_TN_ENABLE | (21u << 9), 4);
    wr(0x108, 500, 8);
    wr(0x108, 500, 8);
    ck_assert_uint_eq(rd(0x100, 4) & HPET_TN_VAL_SET, 0);
    ck_assert_uint_eq(fk.deadline[0], 500 * CPT);
    fake_advance(1600 * CPT, fire, &h);
    ck_assert_uint_eq(fk.gsi_edges[21], 3); /* ticks 500, 1000, 1500 */
    ck_assert_uint_eq(rd(0x108, 8), 2000);
    ck_assert_uint_eq(fk.deadline[0], 2000 * CPT);
}
END_TEST

START_TEST(test_level_and_status)
{
    wr(0x010, 1, 4);
    wr(0x140, HPET_TN_LEVEL | HPET_TN_ENABLE | HPET_TN_32BIT | (22u << 9), 4);  /* timer 2 */
    wr(0x148, 50, 4);
    fake_advance(60 * CPT, fire, &h);
    ck_assert(fk.gsi_level[22]);
    ck_assert_uint_eq(rd(0x020, 4), 0x4);
    wr(0x020, 0x4, 4);                      /* write 1 to clear */
    ck_assert(!fk.gsi_level[22]);
    ck_assert_uint_eq(rd(0x020, 4), 0);
    /* 32-bit mode: the next match is 2^32 ticks after 50. */
    ck_assert_uint_eq(fk.deadline[2], (50 + (1ull << 32)) * CPT);
}
END_TEST

START_TEST(test_legacy_route_and_cap)
{
    wr(0x010, HPET_CONF_ENABLE | HPET_CONF_LEGACY, 4);
    wr(0x100, HPET_TN_ENABLE, 4);
    wr(0x108, 10, 8);
    wr(0x120, HPET_TN_ENABLE | (20u << 9), 4);
    wr(0x128, 20, 8);
    fake_advance(30 * CPT, fire, &h);
    ck_assert_uint_eq(fk.isa_edges[0], 1);  /* timer 0 -> IRQ 0 */
    ck_assert_uint_eq(fk.isa_edges[8], 1);  /* timer 1 -> IRQ 8, not its route 20 */
    ck_assert_uint_eq(fk.gsi_edges[20], 0);
    ck_assert(hpet_legacy_route(&h));
    /* A route outside INT_ROUTE_CAP (pin 5) is not taken. */
    wr(0x140, (5u << 9), 4);
    ck_assert_uint_eq((rd(0x140, 4) >> 9) & 31, 0);
    wr(0x140, (23u << 9), 4);
    ck_assert_uint_eq((rd(0x140, 4) >> 9) & 31, 23);
    /* Only timer 0 can be periodic. */
    wr(0x120, HPET_TN_PERIODIC, 4);
    ck_assert_uint_eq(rd(0x120, 4) & HPET_TN_PERIODIC, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hpet");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_capabilities);
    tcase_add_test(tc, test_main_counter);
    tcase_add_test(tc, test_oneshot_edge_gsi);
    tcase_add_test(tc, test_periodic);
    tcase_add_test(tc, test_level_and_status);
    tcase_add_test(tc, test_legacy_route_and_cap);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
