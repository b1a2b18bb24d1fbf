/* The ACPI PM block (devices/acpi_pm.c) against ACPI 6.4 §4.8: the 24-bit PM timer
 * at 3.579545 MHz, TMR_STS on bit 23 changes, PM1_STS write-1-to-clear, SCI_EN and
 * the SMI command port, the SCI on IRQ 9, S5 through SLP_TYP/SLP_EN, GPE0 storage.
 * The clock runs at 100 cycles per PM timer tick. */
#include <check.h>
#include <stdlib.h>

#include "devices/acpi_pm.h"
#include "devices/io.h"
#include "pc_fake_env.h"

#define CPT 100ull

static struct acpi_pm pm;
static struct io_bus *bus;

static void setup(void)
{
    struct pc_env env = fake_env(ACPI_PM_TIMER_HZ * CPT);
    acpi_pm_init(&pm, &env);
    bus = io_bus_new();
    ck_assert(acpi_pm_attach(&pm, bus));
}

static void teardown(void) { io_bus_free(bus); }
static void fire(void *d, unsigned w, uint64_t now) { acpi_pm_timer_event(d, w, now); }

START_TEST(test_pm_timer)
{
    fk.now = 123456 * CPT + 99;
    ck_assert_uint_eq(io_read(bus, 0x608, 4), 123456);
    fk.now = ((1ull << 24) + 5) * CPT;     /* 24 bits: wraps */
    ck_assert_uint_eq(io_read(bus, 0x608, 4), 5);
    ck_assert_uint_eq(io_read(bus, 0x608, 2), 5);
    fk.now = 0xABCDEF * CPT;
    ck_assert_uint_eq(io_read(bus, 0x60A, 1), 0xAB);
    ck_assert_uint_eq(io_read(bus, 0x60B, 1), 0x00);
}
END_TEST

START_TEST(test_tmr_sts_and_sci)
{
    ck_assert_uint_eq(io_read(bus, 0x600, 2) & PM1_TMR_STS, 0);
    fk.now = (1ull << 23) * CPT;           /* bit 23 goes 0 -> 1 */
    ck_assert_uint_eq(io_read(bus, 0x600, 2) & PM1_TMR_STS, PM1_TMR_STS);
    io_write(bus, 0x600, PM1_TMR_STS, 2);  /* write 1 to clear */
    ck_assert_uint_eq(io_read(bus, 0x600, 2) & PM1_TMR_STS, 0);
    /* TMR_EN: an SCI at the next change of bit 23 (tick 2^24). */
    io_write(bus, 0x602, PM1_TMR_STS, 2);
    ck_assert_uint_eq(io_read(bus, 0x602, 2), PM1_TMR_STS);
    ck_assert_uint_eq(fk.deadline[0], (1ull << 24) * CPT);
    ck_assert(!fk.isa_level[ACPI_SCI_IRQ]);
    fake_advance((1ull << 24) * CPT + 10, fire, &pm);
    ck_assert(fk.isa_level[ACPI_SCI_IRQ]);
    io_write(bus, 0x600, PM1_TMR_STS, 2);
    ck_assert(!fk.isa_level[ACPI_SCI_IRQ]);
    /* SCI_EN off (ACPI_DISABLE through the SMI port): no SCI. */
    ck_assert_uint_eq(io_read(bus, 0x604, 2) & PM1_SCI_EN, PM1_SCI_EN);
    io_write(bus, ACPI_SMI_CMD, ACPI_DISABLE_VALUE, 1);
    ck_assert_uint_eq(io_read(bus, 0x604, 2) & PM1_SCI_EN, 0);
    fk.now = (3ull << 23) * CPT;
    io_write(bus, 0x602, PM1_TMR_STS, 2);
    ck_assert(!fk.isa_level[ACPI_SCI_IRQ]);
    io_write(bus, ACPI_SMI_CMD, ACPI_ENABLE_VALUE, 1);
    ck_assert(fk.isa_level[ACPI_SCI_IRQ]);
}
END_TEST

START_TEST(test_s5_power_off)
{
    /* SLP_TYP = 1 (not S5 here) with SLP_EN: ignored. */
    io_write(bus, 0x604, (1u << 10) | PM1_SLP_EN | PM1_SCI_EN, 2);
    ck_assert_uint_eq(fk.power_offs, 0);
    /* SLP_EN reads 0; SLP_TYP is kept. */
    ck_assert_uint_eq(io_read(bus, 0x604, 2), (1u << 10) | PM1_SCI_EN);
    /* S5: SLP_TYP 0 (QEMU's PIIX4 \_S5) | SLP_EN = 0x2000, as Linux writes it. */
    ck_assert_int_eq(ACPI_PM_S5_SLP_TYP, 0);
    io_write(bus, 0x604, 0x2000 | PM1_SCI_EN, 2);
    ck_assert_uint_eq(fk.power_offs, 1);
}
END_TEST

/* PM1_EN keeps RTC_EN (bit 10, ACPI 6.4 table 4.17): Linux's rtc_cmos enables the
 * fixed RTC event and reads the bit back ("Could not enable RealTimeClock event"). */
START_TEST(test_pm1_en_rtc)
{
    io_write(bus, 0x602, 0x0400 | 0x0100, 2);
    ck_assert_uint_eq(io_read(bus, 0x602, 2), 0x0500);
    io_write(bus, 0x603, 0x04, 1);
    ck_assert_uint_eq(io_read(bus, 0x602, 2), 0x0400);
    io_write(bus, 0x602, 0x0200, 2);        /* bit 9 is reserved: reads 0 */
    ck_assert_uint_eq(io_read(bus, 0x602, 2), 0);
    ck_assert(!fk.isa_level[ACPI_SCI_IRQ]);  /* no RTC_STS: no SCI */
}
END_TEST

START_TEST(test_gpe0_storage)
{
    ck_assert_uint_eq(io_read(bus, ACPI_GPE0_BLK, 4), 0);
    io_write(bus, ACPI_GPE0_BLK + 2, 0x0F, 1);
    ck_assert_uint_eq(io_read(bus, ACPI_GPE0_BLK + 2, 1), 0x0F);
    pm.gpe_sts[0] = 0x02;                  /* a GPE no device raises here: set by hand */
    io_write(bus, ACPI_GPE0_BLK + 3, 0, 1);     /* any write re-evaluates the SCI */
    ck_assert(fk.isa_level[ACPI_SCI_IRQ]);
    io_write(bus, ACPI_GPE0_BLK, 0x02, 1); /* write 1 to clear */
    ck_assert_uint_eq(io_read(bus, ACPI_GPE0_BLK, 1), 0);
    ck_assert(!fk.isa_level[ACPI_SCI_IRQ]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acpi_pm");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pm_timer);
    tcase_add_test(tc, test_tmr_sts_and_sci);
    tcase_add_test(tc, test_s5_power_off);
    tcase_add_test(tc, test_gpe0_storage);
    tcase_add_test(tc, test_pm1_en_rtc);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
