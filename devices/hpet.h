/* The HPET at 0xFED00000 (IA-PC HPET specification 1.0a, October 2004), laid out as
 * QEMU's: 3 comparators, a 64-bit main counter of 100 MHz (period 10 000 000 fs, so
 * Linux prints the same "64-bit 100.000000 MHz counter"), vendor 8086, legacy
 * replacement route capable, timer 0 periodic capable, every comparator 64-bit.
 *
 * The main counter is derived from virtual cycles (value = offset + ticks(now)
 * while ENABLE_CNF is set), so reading it is one multiply/divide.  Comparators fire
 * through pc_env timers: edge mode pulses the line, level mode sets the timer's
 * GINTR_STA bit and holds the line until the guest writes 1 to it.  With LEG_RT_CNF
 * timer 0 drives ISA IRQ 0 (I/O APIC pin 2) and timer 1 ISA IRQ 8 (the PIT and RTC
 * lose those lines: hv/platform.c); otherwise Tn_INT_ROUTE_CNF picks the I/O APIC
 * pin among Tn_INT_ROUTE_CAP.  FSB (MSI) delivery is not offered.
 */
#ifndef HVEMU_DEVICES_HPET_H
#define HVEMU_DEVICES_HPET_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/pc_env.h"

#define HPET_BASE        0xFED00000ull
#define HPET_SIZE        0x400
#define HPET_TIMERS      3
#define HPET_PERIOD_FS   10000000ull        /* 100 MHz */
#define HPET_HZ          (1000000000000000ull / HPET_PERIOD_FS)
/* GCAP_ID low half: rev 1, 3 timers (NUM_TIM_CAP = 2), COUNT_SIZE_CAP, LEG_RT_CAP,
 * vendor 8086 -- QEMU's 0x8086a201 (Linux prints it as "HPET id"). */
#define HPET_ID          0x8086A201u
/* I/O APIC pins a comparator may be routed to without legacy replacement: 20-23
 * (free on the PC: ISA uses 0-15, PCI INTx 16-19 where routed there). */
#define HPET_ROUTE_CAP   0x00F00000u

/* Register offsets and bits (spec 1.0a §2.3) */
#define HPET_GCAP_ID     0x000
#define HPET_GEN_CONF    0x010
#define HPET_GINTR_STA   0x020
#define HPET_MAIN_CNT    0x0F0
#define HPET_TN_CONF(n)  (0x100 + 0x20 * (n))
#define HPET_TN_CMP(n)   (0x108 + 0x20 * (n))
#define HPET_CONF_ENABLE 0x1
#define HPET_CONF_LEGACY 0x2
#define HPET_TN_LEVEL    (1u << 1)
#define HPET_TN_ENABLE   (1u << 2)
#define HPET_TN_PERIODIC (1u << 3)
#define HPET_TN_PER_CAP  (1u << 4)
#define HPET_TN_SIZE_CAP (1u << 5)
#define HPET_TN_VAL_SET  (1u << 6)
#define HPET_TN_32BIT    (1u << 8)
#define HPET_TN_ROUTE_SHIFT 9

struct hpet_timer {
    uint64_t config;
    uint64_t cmp;           /* the comparator (64-bit; 32-bit mode compares the low half) */
    uint64_t period;        /* periodic mode: the increment */
    uint64_t match_raw;     /* raw tick (ticks since cycle 0) of the next match, if armed */
    bool armed;
    bool line;              /* the line this timer drives is high (level mode) */
    unsigned line_route;    /* where the high line is: ISA IRQ | 0x100, or a GSI */
};

struct hpet {
    struct pc_env env;
    struct pc_ratio tick;           /* cycles -> HPET ticks */
    uint64_t config;
    uint64_t isr;                   /* GINTR_STA */
    uint64_t counter_offset;        /* counter = offset + ticks(now) while enabled */
    uint64_t counter_frozen;        /* the counter while disabled */
    struct hpet_timer t[HPET_TIMERS];
    uint64_t reads;                 /* main counter reads (stats) */
};

/* env is copied; timer n of env is comparator n. */
void hpet_init(struct hpet *h, const struct pc_env *env);
uint64_t hpet_counter(struct hpet *h);
/* LEG_RT_CNF and ENABLE_CNF are set: the PIT and the RTC lose IRQ 0 and IRQ 8. */
bool hpet_legacy_route(const struct hpet *h);
void hpet_timer_event(struct hpet *h, unsigned which, uint64_t now);

/* MMIO handlers (physmem signature; offsets from HPET_BASE). */
uint64_t hpet_mmio_read(void *opaque, uint64_t offset, unsigned size);
void hpet_mmio_write(void *opaque, uint64_t offset, uint64_t val, unsigned size);

#endif
