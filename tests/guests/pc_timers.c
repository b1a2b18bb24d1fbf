/* The PC timers and platform as a kernel uses them (issue 5, hv/platform.h):
 *   - the TSC calibrated against PIT counter 2 (mode 0, gated and read through
 *     port 0x61, as Linux's pit_calibrate_tsc), the ACPI PM timer (port 0x608,
 *     24 bits at 3.579545 MHz) and the HPET main counter (0xFED00000, period from
 *     its capabilities register), 50 ms each;
 *   - with "cpu-freq=HZ" on the command line (hvemu, run with the same -cpu-freq) all
 *     three must give HZ within 0.1 %; without it (QEMU, whose TCG TSC follows the
 *     host clock) they must agree with each other within 10 %;
 *   - the RTC date, which the command line gives as rtc=YYMMDDhhmm (BCD digits,
 *     run with -rtc base= of that minute): year, month, day, hour and minute exact,
 *     the seconds below 10;
 *   - the PCI host bridge and the PIIX4 PM function's IDs through 0xCF8/0xCFC;
 *   - interrupts through the I/O APIC (the 8259s masked), counted while halting and
 *     timed with the TSC: PIT counter 0 in mode 2 (10 ms) on pin 2, the RTC's
 *     1024 Hz periodic interrupt on pin 8 (acknowledged by reading register C), the
 *     HPET's timer 0 in periodic mode (10 ms) with the legacy replacement route on
 *     pin 2; each: 10 (RTC: 32) interrupts after getting in phase take that many
 *     periods, within 2 %;
 * then it prints PASS and powers off through PM1a_CNT (SLP_TYP 0 | SLP_EN, S5):
 * exit status 0 on hvemu and on QEMU (whose PIIX4 PM block is at 0x600 too, set
 * up by SeaBIOS, with S5 = SLP_TYP 0).  A failed check ends with the FAIL code.
 */
#include "smp.h"

const char rt_test_name[] = "pc_timers";

static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define PIT_HZ 1193182ull
#define PM_HZ  3579545ull
#define HPET   ((volatile u64 *)0xFED00000ull)

static u64 pit_calibrate(void)
{
    u32 latch = (u32)(PIT_HZ / 20);                 /* 50 ms */
    outb(0x61, (u8)((inb(0x61) & ~0x02) | 0x01));    /* gate 2 high, speaker off */
    outb(0x43, 0xB0);                               /* counter 2, LSB/MSB, mode 0 */
    outb(0x42, (u8)latch);
    outb(0x42, (u8)(latch >> 8));
    u64 t0 = rdtsc();
    u64 spins = 0;
    while (!(inb(0x61) & 0x20) && ++spins < 100000000)
        ;
    u64 t1 = rdtsc();
    CHECK(spins < 100000000, "PIT counter 2 OUT never went high");
    return (t1 - t0) * PIT_HZ / latch;
}

static u64 pm_calibrate(void)
{
    u32 start = inl(0x608) & 0xFFFFFF, now, ticks = 0;
    u64 t0 = rdtsc();
    u64 spins = 0;
    do {
        now = inl(0x608) & 0xFFFFFF;
        ticks = (now - start) & 0xFFFFFF;           /* 24-bit wrap */
    } while (ticks < PM_HZ / 20 && ++spins < 100000000);
    u64 t1 = rdtsc();
    CHECK(spins < 100000000, "the PM timer does not count");
    return (t1 - t0) * PM_HZ / ticks;
}

static u64 hpet_calibrate(void)
{
    u64 cap = HPET[0];
    u64 period_fs = cap >> 32;
    CHECK(period_fs > 0 && period_fs <= 100000000ull, "HPET period %llu fs out of range",
          (unsigned long long)period_fs);
    if (!period_fs || period_fs > 100000000ull)
        return 0;
    u64 hz = 1000000000000000ull / period_fs;
    HPET[2] = HPET[2] | 1;                          /* GEN_CONF.ENABLE_CNF (offset 0x10) */
    u64 c0 = HPET[30], c;                           /* main counter (offset 0xF0) */
    u64 t0 = rdtsc();
    u64 spins = 0;
    do
        c = HPET[30];
    while (c - c0 < hz / 20 && ++spins < 100000000);
    u64 t1 = rdtsc();
    CHECK(spins < 100000000, "the HPET main counter does not count");
    return c > c0 ? (t1 - t0) * hz / (c - c0) : 0;
}

static u8 cmos(u8 reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static void check_rtc(void)
{
    u64 want = rt_cmdline_num("rtc", 0);            /* YYMMDDhhmm as hex = BCD digits */
    if (!want) {
        SKIP("no rtc= on the command line");
        return;
    }
    u64 spins = 0;
    while ((cmos(0x0A) & 0x80) && ++spins < 10000000)     /* wait out the update */
        ;
    CHECK_EQ(cmos(0x0B) & 0x04, 0, "register B: BCD mode");
    CHECK_EQ(cmos(0x09), (want >> 32) & 0xFF, "RTC year");
    CHECK_EQ(cmos(0x08), (want >> 24) & 0xFF, "RTC month");
    CHECK_EQ(cmos(0x07), (want >> 16) & 0xFF, "RTC day");
    CHECK_EQ(cmos(0x04), (want >> 8) & 0xFF, "RTC hour");
    CHECK_EQ(cmos(0x02), want & 0xFF, "RTC minute");
    u8 sec = cmos(0x00);
    CHECK(sec < 0x10, "RTC seconds %#x: more than 10 s after the base", sec);
}

static u32 pci_read(u32 devfn, u32 reg)
{
    outl(0xCF8, 0x80000000u | devfn << 8 | reg);
    return inl(0xCFC);
}

static u64 diff(u64 a, u64 b) { return a > b ? a - b : b - a; }

/* ---- interrupts through the I/O APIC ---- */

#define IOAPIC ((volatile u32 *)0xFEC00000ull)
#define VEC_DEV 0x41

static volatile u32 irqs;
static int rtc_ack;

static int on_dev_irq(struct trap_frame *f)
{
    (void)f;
    irqs++;
    if (rtc_ack)
        cmos(0x0C);                     /* the RTC holds IRQ 8 until C is read */
    apic_eoi();
    return 1;
}

static void ioapic_route(unsigned pin, u32 low)
{
    IOAPIC[0] = 0x10 + 2 * pin + 1;
    IOAPIC[4] = apic_id() << 24;        /* physical destination: this CPU */
    IOAPIC[0] = 0x10 + 2 * pin;
    IOAPIC[4] = low;
}

/* Halt until n interrupts came; the TSC ticks it took, or 0 on a timeout.  Two
 * interrupts are taken first to get in phase: an edge that came while the pin was
 * masked may be delivered at once when it is unmasked (QEMU's I/O APIC keeps it),
 * then the next is the device's next period boundary. */
static u64 wait_irqs(u32 n, u64 tsc_hz)
{
    irqs = 0;
    u64 s0 = rdtsc();
    while (irqs < 2 && rdtsc() - s0 < tsc_hz)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    irqs = 0;
    u64 t0 = rdtsc(), t;
    while (irqs < n && (t = rdtsc()) - t0 < tsc_hz)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    return irqs >= n ? rdtsc() - t0 : 0;
}

/* n interrupts of 'period_ns' nanoseconds, counted from an interrupt: n periods,
 * with 2 % slack. */
static void check_rate(const char *what, u64 ticks, u32 n, u64 period_ns, u64 tsc_hz)
{
    u64 per = tsc_hz / 1000 * period_ns / 1000000;
    u64 lo = per * n * 98 / 100, hi = per * n * 102 / 100;
    CHECK(ticks >= lo && ticks <= hi, "%s: %u interrupts in %llu TSC ticks, expected %llu..%llu",
          what, n, (unsigned long long)ticks, (unsigned long long)lo, (unsigned long long)hi);
}

static void check_interrupts(u64 tsc_hz)
{
    outb(0x21, 0xFF);                   /* both 8259s masked: the I/O APIC only */
    outb(0xA1, 0xFF);
    apic_write(0xF0, apic_read(0xF0) | 0x1FF);     /* SVR: APIC on, spurious 0xFF */
    rt_set_handler(VEC_DEV, on_dev_irq);

    /* PIT counter 0, mode 2, 11932 ticks = 10.000 ms; ISA IRQ 0 is I/O APIC pin 2. */
    ioapic_route(2, VEC_DEV);           /* edge, active high, unmasked */
    outb(0x43, 0x34);
    outb(0x40, (u8)11932);
    outb(0x40, (u8)(11932 >> 8));
    check_rate("PIT IRQ 0", wait_irqs(10, tsc_hz), 10, 10000000, tsc_hz);
    outb(0x43, 0x30);                   /* mode 0, no count: no more edges */
    ioapic_route(2, 1u << 16);

    /* RTC: periodic interrupt at 1024 Hz (976.5625 us), ISA IRQ 8 = pin 8. */
    cmos(0x0C);
    outb(0x70, 0x0A); outb(0x71, 0x26);
    outb(0x70, 0x0B); outb(0x71, (u8)(inb(0x71) | 0x40));     /* PIE */
    rtc_ack = 1;
    ioapic_route(8, VEC_DEV);
    check_rate("RTC IRQ 8", wait_irqs(32, tsc_hz), 32, 976563, tsc_hz);
    outb(0x70, 0x0B); outb(0x71, (u8)(inb(0x71) & ~0x40));
    cmos(0x0C);
    rtc_ack = 0;
    ioapic_route(8, 1u << 16);

    /* HPET timer 0, periodic 10 ms, legacy replacement route: pin 2. */
    u64 hz = 1000000000000000ull / (HPET[0] >> 32);
    HPET[2] = 0;                                   /* halt */
    HPET[30] = 0;                                  /* main counter = 0 */
    HPET[32] = (1u << 2) | (1u << 3) | (1u << 6);  /* T0: enable, periodic, VAL_SET */
    HPET[33] = hz / 100;                           /* first match */
    HPET[33] = hz / 100;                           /* period */
    ioapic_route(2, VEC_DEV);
    HPET[2] = 3;                                   /* ENABLE_CNF | LEG_RT_CNF */
    check_rate("HPET timer 0 (legacy route)", wait_irqs(10, tsc_hz), 10, 10000000, tsc_hz);
    HPET[32] = 0;
    HPET[2] = 1;
    ioapic_route(2, 1u << 16);
}

void test_main(void)
{
    check_rtc();
    CHECK_EQ(pci_read(0x00, 0), 0x12378086, "00:00.0 i440FX IDs");
    CHECK_EQ(pci_read(0x0B, 0), 0x71138086, "00:01.3 PIIX4 PM IDs");
    CHECK_EQ(pci_read(0x0B, 0x40) & 0xFFC0, 0x600, "PIIX4 PMBA");

    u64 pit = pit_calibrate(), pm = pm_calibrate(), hpet = hpet_calibrate();
    rt_printf("TSC: PIT %llu Hz, PM timer %llu Hz, HPET %llu Hz\n",
              (unsigned long long)pit, (unsigned long long)pm, (unsigned long long)hpet);
    u64 freq = rt_cmdline_num("cpu-freq", 0);
    if (freq) {
        CHECK(diff(pit, freq) <= freq / 1000, "PIT calibration %llu Hz, -cpu-freq %llu",
              (unsigned long long)pit, (unsigned long long)freq);
        CHECK(diff(pm, freq) <= freq / 1000, "PM timer calibration %llu Hz, -cpu-freq %llu",
              (unsigned long long)pm, (unsigned long long)freq);
        CHECK(diff(hpet, freq) <= freq / 1000, "HPET calibration %llu Hz, -cpu-freq %llu",
              (unsigned long long)hpet, (unsigned long long)freq);
    } else {
        CHECK(diff(pit, pm) <= pm / 10, "PIT and PM timer disagree");
        CHECK(diff(hpet, pm) <= pm / 10, "HPET and PM timer disagree");
    }
    check_interrupts(pm);
    if (rt_failures) {
        rt_finish();
        return;
    }
    rt_printf("PASS: %s (%llu checks)\n", rt_test_name, (unsigned long long)rt_checks);
    outw(0x604, 0x2000);                            /* PM1a_CNT: SLP_TYP 0 (S5) | SLP_EN */
    /* hvemu stops at the next instruction; QEMU's main loop takes the shutdown
     * request a little later: give it a second of PM timer time. */
    u32 start = inl(0x608) & 0xFFFFFF, waited = 0, last = start;
    while (waited < PM_HZ) {
        u32 now = inl(0x608) & 0xFFFFFF;
        waited += (now - last) & 0xFFFFFF;
        last = now;
    }
    rt_printf("FAIL: still running 1 s after the S5 write\n");
    rt_exit(RT_EXIT_FAIL);
}
