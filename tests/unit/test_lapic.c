/* The local APIC and the APIC bus (devices/lapic.c, devices/lapic_bus.c) alone,
 * against register semantics of SDM Vol. 3A chapter 11, with a fake clock and
 * recorded callbacks.  Expected values are written out by hand from the SDM. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/lapic.h"
#include "devices/lapic_bus.h"

static uint64_t fake_now, fake_tsc_off;
static struct apic_msg sent[8];
static unsigned nsent, nkicks, neoi, last_eoi;
static uint64_t last_arm;

static uint64_t f_now(void *o, unsigned vp) { return fake_now; }
static uint64_t f_tsc_off(void *o, unsigned vp) { return fake_tsc_off; }
static void f_arm(void *o, unsigned vp, uint64_t d) { last_arm = d; }
static void f_send(void *o, unsigned src, const struct apic_msg *m) { if (nsent < 8) sent[nsent] = *m; nsent++; }
static void f_kick(void *o, unsigned vp) { nkicks++; }
static void f_eoi(void *o, uint8_t v) { neoi++; last_eoi = v; }
static const struct lapic_ops ops = { f_now, f_tsc_off, f_arm, f_send, f_kick, f_eoi };

#define BASE_EN (LAPIC_DEFAULT_BASE | APIC_BASE_EN)

static void setup(struct lapic *l, unsigned vp)
{
    fake_now = 0; fake_tsc_off = 0; nsent = nkicks = neoi = 0; last_arm = 0;
    lapic_init(l, vp, BASE_EN, &ops, NULL);
}

static uint32_t rd(struct lapic *l, unsigned off) { return (uint32_t)lapic_mmio_read(l, off, 4); }
static void wr(struct lapic *l, unsigned off, uint32_t v) { lapic_mmio_write(l, off, v, 4); }

START_TEST(test_reset_state)
{
    struct lapic l;
    setup(&l, 3);
    ck_assert_uint_eq(rd(&l, LAPIC_ID), 3u << 24);          /* 11.4.6: ID in bits 31:24 */
    ck_assert_uint_eq(rd(&l, LAPIC_VER) & 0xff, 0x14);       /* integrated APIC */
    ck_assert_uint_eq((rd(&l, LAPIC_VER) >> 16) & 0xff, 6);  /* 7 LVT entries */
    ck_assert_uint_eq(rd(&l, LAPIC_SVR), 0xff);              /* 11.4.7.1 */
    ck_assert_uint_eq(rd(&l, LAPIC_DFR), 0xffffffffu);
    ck_assert_uint_eq(rd(&l, LAPIC_TPR), 0);
    ck_assert_uint_eq(rd(&l, LAPIC_LVT_TIMER), 0x10000);
    ck_assert_uint_eq(rd(&l, LAPIC_LVT_LINT0), 0x10000);
    /* Software-disabled: LVT masks cannot be cleared. */
    wr(&l, LAPIC_LVT_TIMER, 0x30);
    ck_assert_uint_eq(rd(&l, LAPIC_LVT_TIMER), 0x10030);
    wr(&l, LAPIC_SVR, 0x1ff);
    wr(&l, LAPIC_LVT_TIMER, 0x30);
    ck_assert_uint_eq(rd(&l, LAPIC_LVT_TIMER), 0x30);
    /* Byte reads see the register's bytes; offsets 4..15 are reserved. */
    ck_assert_uint_eq(lapic_mmio_read(&l, LAPIC_ID + 3, 1), 3);
    ck_assert_uint_eq(lapic_mmio_read(&l, LAPIC_ID + 4, 4), 0);
}
END_TEST

START_TEST(test_priorities_and_eoi)
{
    struct lapic l;
    setup(&l, 0);
    wr(&l, LAPIC_SVR, 0x1ff);
    lapic_accept_fixed(&l, 0x35, false);
    lapic_accept_fixed(&l, 0x61, false);
    ck_assert_uint_eq(rd(&l, LAPIC_IRR + 0x10), 1u << (0x35 - 32));
    ck_assert_uint_eq(rd(&l, LAPIC_IRR + 0x30), 1u << (0x61 - 96));
    wr(&l, LAPIC_TPR, 0x50);
    ck_assert_uint_eq(rd(&l, LAPIC_PPR), 0x50);
    ck_assert_int_eq(lapic_ack(&l), 0x61);
    ck_assert_uint_eq(rd(&l, LAPIC_ISR + 0x30), 1u << (0x61 - 96));
    ck_assert_uint_eq(rd(&l, LAPIC_IRR + 0x30), 0);
    ck_assert_uint_eq(rd(&l, LAPIC_PPR), 0x60);              /* ISRV class above TPR */
    lapic_accept_fixed(&l, 0x62, false);
    ck_assert_int_eq(lapic_pending_vector(&l), -1);          /* same class as PPR: held */
    lapic_accept_fixed(&l, 0x71, false);
    ck_assert_int_eq(lapic_ack(&l), 0x71);                   /* higher class nests */
    unsigned k = nkicks;
    wr(&l, LAPIC_EOI, 0);                                    /* ends 0x71 */
    ck_assert_uint_gt(nkicks, k);
    ck_assert_uint_eq(rd(&l, LAPIC_ISR + 0x30), 1u << (0x61 - 96));
    wr(&l, LAPIC_EOI, 0);                                    /* ends 0x61 */
    ck_assert_int_eq(lapic_pending_vector(&l), 0x62);
    wr(&l, LAPIC_TPR, 0x70);
    ck_assert_int_eq(lapic_pending_vector(&l), -1);
    lapic_set_cr8(&l, 2);                                    /* CR8 = TPR[7:4] */
    ck_assert_uint_eq(rd(&l, LAPIC_TPR), 0x20);
    ck_assert_uint_eq(lapic_get_cr8(&l), 2);
    ck_assert_int_eq(lapic_ack(&l), 0x62);
    ck_assert_int_eq(lapic_ack(&l), -1);                     /* 0x35 is below PPR 0x60 */
    wr(&l, LAPIC_EOI, 0);
    ck_assert_int_eq(lapic_ack(&l), 0x35);
    ck_assert_int_eq(lapic_ack(&l), -1);
    ck_assert_uint_eq(neoi, 0);                              /* all edge-triggered */
}
END_TEST

START_TEST(test_level_eoi_and_errors)
{
    struct lapic l;
    setup(&l, 0);
    lapic_accept_fixed(&l, 0x40, false);
    ck_assert_int_eq(lapic_pending_vector(&l), -1);          /* software-disabled: dropped */
    wr(&l, LAPIC_SVR, 0x1ff);
    lapic_accept_fixed(&l, 0x40, true);
    ck_assert_uint_eq(rd(&l, LAPIC_TMR + 0x20), 1u);
    ck_assert_int_eq(lapic_ack(&l), 0x40);
    wr(&l, LAPIC_EOI, 0);
    ck_assert_uint_eq(neoi, 1);
    ck_assert_uint_eq(last_eoi, 0x40);
    /* Suppress-EOI-broadcast (SVR bit 12). */
    wr(&l, LAPIC_SVR, 0x11ff);
    lapic_accept_fixed(&l, 0x41, true);
    lapic_ack(&l);
    wr(&l, LAPIC_EOI, 0);
    ck_assert_uint_eq(neoi, 1);
    /* Illegal vector received: ESR bit 6 after the latching write (11.5.3). */
    lapic_accept_fixed(&l, 7, false);
    ck_assert_uint_eq(rd(&l, LAPIC_ESR), 0);
    wr(&l, LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(&l, LAPIC_ESR), ESR_RECV_ILLEGAL);
    /* Illegal vector sent: nothing on the bus, ESR bit 5. */
    wr(&l, LAPIC_ICR_LO, 0x4005);
    ck_assert_uint_eq(nsent, 0);
    wr(&l, LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(&l, LAPIC_ESR), ESR_SEND_ILLEGAL);
    wr(&l, LAPIC_ESR, 0);
    ck_assert_uint_eq(rd(&l, LAPIC_ESR), 0);
}
END_TEST

START_TEST(test_timer_oneshot_periodic)
{
    struct lapic l;
    setup(&l, 0);
    wr(&l, LAPIC_SVR, 0x1ff);
    wr(&l, LAPIC_TIMER_DCR, 0xb);                  /* divide by 1 */
    wr(&l, LAPIC_LVT_TIMER, 0x30);                 /* one-shot, vector 0x30 */
    fake_now = 100;
    wr(&l, LAPIC_TIMER_ICR, 1000);
    ck_assert_uint_eq(last_arm, 1100);
    fake_now = 600;
    ck_assert_uint_eq(rd(&l, LAPIC_TIMER_CCR), 500);
    lapic_timer_expired(&l, 1099);                 /* early: nothing */
    ck_assert_int_eq(lapic_pending_vector(&l), -1);
    fake_now = 1100;
    lapic_timer_expired(&l, 1100);
    ck_assert_int_eq(lapic_pending_vector(&l), 0x30);
    ck_assert_uint_eq(rd(&l, LAPIC_TIMER_CCR), 0);
    ck_assert_uint_eq(last_arm, UINT64_MAX);
    lapic_ack(&l);
    wr(&l, LAPIC_EOI, 0);

    /* Periodic, divide by 16 (DCR = 0011b): period 16 * 50 = 800 cycles. */
    wr(&l, LAPIC_TIMER_DCR, 0x3);
    wr(&l, LAPIC_LVT_TIMER, 0x20031);
    fake_now = 2000;
    wr(&l, LAPIC_TIMER_ICR, 50);
    ck_assert_uint_eq(last_arm, 2800);
    fake_now = 2160;
    ck_assert_uint_eq(rd(&l, LAPIC_TIMER_CCR), 40);
    fake_now = 2810;
    lapic_timer_expired(&l, 2810);                 /* noticed late: next period from 2800 */
    ck_assert_uint_eq(last_arm, 3600);
    ck_assert_int_eq(lapic_pending_vector(&l), 0x31);
    /* Masked: the count goes on, nothing is raised. */
    lapic_ack(&l);
    wr(&l, LAPIC_EOI, 0);
    wr(&l, LAPIC_LVT_TIMER, 0x30031);
    lapic_timer_expired(&l, 3600);
    ck_assert_int_eq(lapic_pending_vector(&l), -1);
    ck_assert_uint_eq(last_arm, 4400);
    /* A periodic period below 256 cycles is stretched to 256 (lapic.c, as KVM
     * clamps): 10 ticks at divide-by-1 arms 256 cycles ahead. */
    wr(&l, LAPIC_TIMER_DCR, 0xb);
    fake_now = 5000;
    wr(&l, LAPIC_TIMER_ICR, 10);
    ck_assert_uint_eq(last_arm, 5256);
    /* Writing 0 to the initial count stops it. */
    wr(&l, LAPIC_TIMER_ICR, 0);
    ck_assert_uint_eq(last_arm, UINT64_MAX);
}
END_TEST

START_TEST(test_timer_tsc_deadline)
{
    struct lapic l;
    uint64_t v;
    setup(&l, 0);
    wr(&l, LAPIC_SVR, 0x1ff);
    fake_tsc_off = 1000;                           /* TSC = cycles + 1000 */
    wr(&l, LAPIC_LVT_TIMER, 0x40040);              /* TSC-deadline, vector 0x40 */
    fake_now = 500;
    ck_assert(lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 5000));
    ck_assert_uint_eq(last_arm, 4000);             /* cycles = 5000 - 1000 */
    ck_assert(lapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, &v));
    ck_assert_uint_eq(v, 5000);
    wr(&l, LAPIC_TIMER_ICR, 77);                   /* ignored in this mode */
    ck_assert_uint_eq(rd(&l, LAPIC_TIMER_ICR), 0);
    lapic_timer_expired(&l, 4000);
    ck_assert_int_eq(lapic_pending_vector(&l), 0x40);
    ck_assert(lapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, &v));
    ck_assert_uint_eq(v, 0);                       /* cleared when it fires */
    /* A deadline in the past fires at once; 0 disarms. */
    fake_now = 9000;
    lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 10);
    ck_assert_uint_eq(last_arm, 9000);
    lapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 0);
    ck_assert_uint_eq(last_arm, UINT64_MAX);
}
END_TEST

START_TEST(test_icr_xapic)
{
    struct lapic l;
    setup(&l, 1);
    wr(&l, LAPIC_SVR, 0x1ff);
    wr(&l, LAPIC_ICR_HI, 0x03000000);
    wr(&l, LAPIC_ICR_LO, 0x00004841);              /* fixed, logical, assert, vector 0x41 */
    ck_assert_uint_eq(nsent, 1);
    ck_assert_uint_eq(sent[0].vector, 0x41);
    ck_assert_uint_eq(sent[0].mode, APIC_DM_FIXED);
    ck_assert(sent[0].logical);
    ck_assert_uint_eq(sent[0].dest, 3);
    ck_assert(!sent[0].x2apic_format);
    ck_assert_uint_eq(rd(&l, LAPIC_ICR_LO) & (1u << 12), 0);   /* delivery status idle */
    wr(&l, LAPIC_ICR_LO, 0x000C4500);              /* INIT to all excluding self */
    ck_assert_uint_eq(sent[1].mode, APIC_DM_INIT);
    ck_assert_uint_eq(sent[1].shorthand, APIC_SH_OTHERS);
    wr(&l, LAPIC_ICR_LO, 0x0000069A);              /* SIPI vector 0x9A */
    ck_assert_uint_eq(sent[2].mode, APIC_DM_SIPI);
    ck_assert_uint_eq(sent[2].vector, 0x9A);
    /* x2APIC MSRs #GP while in xAPIC mode. */
    uint64_t v;
    ck_assert(!lapic_msr_read(&l, 0x802, &v));
}
END_TEST

START_TEST(test_x2apic)
{
    struct lapic l;
    uint64_t v;
    setup(&l, 0x23);
    lapic_set_base(&l, BASE_EN | APIC_BASE_EXTD);
    ck_assert(lapic_msr_read(&l, 0x802, &v));
    ck_assert_uint_eq(v, 0x23);                    /* full 32-bit ID */
    ck_assert(lapic_msr_read(&l, 0x80d, &v));
    ck_assert_uint_eq(v, (2u << 16) | (1u << 3));   /* LDR: cluster 2, bit 3 (11.12.10.2) */
    ck_assert(!lapic_msr_write(&l, 0x80d, 0));     /* LDR read-only */
    ck_assert(!lapic_msr_read(&l, 0x80e, &v));     /* no DFR */
    ck_assert(!lapic_msr_read(&l, 0x80b, &v));     /* EOI write-only */
    ck_assert(!lapic_msr_write(&l, 0x80b, 1));     /* non-zero EOI */
    ck_assert(lapic_msr_write(&l, 0x80f, 0x1ff));
    ck_assert(lapic_msr_write(&l, 0x830, (7ull << 32) | 0x4055));
    ck_assert_uint_eq(nsent, 1);
    ck_assert_uint_eq(sent[0].dest, 7);
    ck_assert(sent[0].x2apic_format);
    ck_assert(!lapic_msr_write(&l, 0x830, 1u << 13));   /* reserved bit */
    ck_assert(lapic_msr_write(&l, 0x83f, 0x66));   /* SELF IPI */
    ck_assert_uint_eq(sent[1].shorthand, APIC_SH_SELF);
    ck_assert_uint_eq(sent[1].vector, 0x66);
    ck_assert(lapic_msr_write(&l, 0x808, 0x30));
    ck_assert_uint_eq(lapic_get_cr8(&l), 3);
    ck_assert(!lapic_msr_write(&l, 0x808, 1ull << 32));
    /* MMIO is not the APIC in x2APIC mode. */
    ck_assert_uint_eq(rd(&l, LAPIC_TPR), 0);
    /* Globally disabling resets it. */
    lapic_set_base(&l, LAPIC_DEFAULT_BASE);
    ck_assert(!lapic_msr_read(&l, 0x802, &v));
    ck_assert_uint_eq(l.svr, 0xff);
}
END_TEST

START_TEST(test_destinations)
{
    struct lapic l;
    setup(&l, 5);
    ck_assert(lapic_match_dest(&l, 5, false, false));
    ck_assert(!lapic_match_dest(&l, 4, false, false));
    ck_assert(lapic_match_dest(&l, 0xff, false, false));          /* broadcast */
    wr(&l, LAPIC_LDR, 0x24000000);
    ck_assert(lapic_match_dest(&l, 0x04, true, false));           /* flat: mask */
    ck_assert(lapic_match_dest(&l, 0x30, true, false));
    ck_assert(!lapic_match_dest(&l, 0x0b, true, false));
    wr(&l, LAPIC_DFR, 0x0fffffff);                                /* cluster model */
    ck_assert(lapic_match_dest(&l, 0x24, true, false));           /* cluster 2, member 4 */
    ck_assert(lapic_match_dest(&l, 0x2f, true, false));
    ck_assert(!lapic_match_dest(&l, 0x34, true, false));          /* other cluster */
    ck_assert(lapic_match_dest(&l, 0xf4, true, false));           /* all clusters */
    lapic_set_base(&l, BASE_EN | APIC_BASE_EXTD);                 /* x2APIC: ID 5, cluster 0, bit 5 */
    ck_assert(lapic_match_dest(&l, 0x00000020, true, true));
    ck_assert(!lapic_match_dest(&l, 0x00010020, true, true));
    ck_assert(lapic_match_dest(&l, 0xffffffff, false, true));
    ck_assert(lapic_match_dest(&l, 5, false, true));
}
END_TEST

/* --- the bus ------------------------------------------------------------------ */

static unsigned inits[8], sipis[8], sipi_vec;
static void b_init(void *o, unsigned vp) { inits[vp]++; }
static void b_sipi(void *o, unsigned vp, uint8_t v) { sipis[vp]++; sipi_vec = v; }
static const struct lapic_bus_ops bops = { b_init, b_sipi };

START_TEST(test_bus)
{
    struct lapic a[4], *pa[4];
    for (unsigned i = 0; i < 4; i++) {
        setup(&a[i], i);
        wr(&a[i], LAPIC_SVR, 0x1ff);
        pa[i] = &a[i];
    }
    memset(inits, 0, sizeof inits);
    memset(sipis, 0, sizeof sipis);
    struct lapic_bus bus = { pa, 4, &bops, NULL, 0 };
    struct apic_msg m = { .vector = 0x50, .mode = APIC_DM_FIXED, .shorthand = APIC_SH_OTHERS };
    ck_assert_uint_eq(lapic_bus_deliver(&bus, 1, &m), 3);
    ck_assert_int_eq(lapic_pending_vector(&a[1]), -1);
    ck_assert_int_eq(lapic_pending_vector(&a[0]), 0x50);
    ck_assert_int_eq(lapic_pending_vector(&a[3]), 0x50);
    m.shorthand = APIC_SH_SELF; m.vector = 0x51;
    ck_assert_uint_eq(lapic_bus_deliver(&bus, 2, &m), 1);
    ck_assert_int_eq(lapic_pending_vector(&a[2]), 0x51);
    /* Lowest priority among 1..3 (flat logical, LDR bit = 1 << i): lowest TPR,
     * ties to the lowest index. */
    for (unsigned i = 0; i < 4; i++)
        wr(&a[i], LAPIC_LDR, (1u << i) << 24);
    wr(&a[1], LAPIC_TPR, 0x40);
    wr(&a[2], LAPIC_TPR, 0x20);
    wr(&a[3], LAPIC_TPR, 0x20);
    m = (struct apic_msg){ .vector = 0x90, .mode = APIC_DM_LOWEST, .logical = true, .dest = 0x0e };
    ck_assert_uint_eq(lapic_bus_deliver(&bus, 0, &m), 1);
    ck_assert_int_eq(lapic_pending_vector(&a[2]), 0x90);
    ck_assert_int_eq(lapic_pending_vector(&a[3]), 0x50);
    /* NMI, INIT (de-assert is ignored), SIPI. */
    m = (struct apic_msg){ .mode = APIC_DM_NMI, .dest = 3 };
    lapic_bus_deliver(&bus, 0, &m);
    ck_assert(a[3].nmi_pending && !a[2].nmi_pending);
    m = (struct apic_msg){ .mode = APIC_DM_INIT, .level_trig = true, .assert = false, .shorthand = APIC_SH_ALL };
    ck_assert_uint_eq(lapic_bus_deliver(&bus, 0, &m), 0);
    m = (struct apic_msg){ .mode = APIC_DM_INIT, .assert = true, .shorthand = APIC_SH_OTHERS };
    lapic_bus_deliver(&bus, 0, &m);
    m = (struct apic_msg){ .mode = APIC_DM_SIPI, .vector = 8, .dest = 2 };
    lapic_bus_deliver(&bus, 0, &m);
    ck_assert_uint_eq(inits[0], 0);
    ck_assert_uint_eq(inits[1] + inits[2] + inits[3], 3);
    ck_assert_uint_eq(sipis[2], 1);
    ck_assert_uint_eq(sipis[1] + sipis[3], 0);
    ck_assert_uint_eq(sipi_vec, 8);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lapic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_reset_state);
    tcase_add_test(tc, test_priorities_and_eoi);
    tcase_add_test(tc, test_level_eoi_and_errors);
    tcase_add_test(tc, test_timer_oneshot_periodic);
    tcase_add_test(tc, test_timer_tsc_deadline);
    tcase_add_test(tc, test_icr_xapic);
    tcase_add_test(tc, test_x2apic);
    tcase_add_test(tc, test_destinations);
    tcase_add_test(tc, test_bus);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
