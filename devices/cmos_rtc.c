/* The MC146818 RTC and CMOS memory.  See devices/cmos_rtc.h. */
#include "devices/cmos_rtc.h"
#include "devices/io.h"

#include <stdio.h>
#include <string.h>

/* The divider chain's 32.768 kHz time base (register A DV = 010) drives the
 * periodic interrupt; UIP is set 244 us before the update (datasheet fig. 16). */
#define RTC_XTAL_HZ 32768ull
#define RTC_UIP_NS  244000ull

/* --- civil dates (H. Hinnant, "chrono-compatible low-level date algorithms") ------ */

int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void rtc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool rtc_parse_base(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 && s[n] == 0)
        ;
    else if (n = 0, sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && s[n] == 0)
        h = mi = sec = 0;
    else
        return false;
    static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > (int)mdays[mo - 1]
        || h > 23 || mi > 59 || sec > 59 || h < 0 || mi < 0 || sec < 0)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    *out = rtc_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* --- time --------------------------------------------------------------------- */

static uint64_t now_cycles(struct cmos_rtc *r) { return r->env.now(r->env.opaque); }

static int64_t seconds_at(struct cmos_rtc *r, uint64_t cycles)
{
    if (r->set_frozen)
        return r->frozen_seconds;
    return r->base_seconds + (int64_t)(cycles / r->freq_hz);
}

static bool divider_running(struct cmos_rtc *r) { return ((r->mem[RTC_REG_A] >> 4) & 7) == 2; }

static bool binary(struct cmos_rtc *r) { return r->mem[RTC_REG_B] & RTC_B_DM; }

static uint8_t to_reg(struct cmos_rtc *r, unsigned v)
{
    return binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned from_reg(struct cmos_rtc *r, uint8_t v)
{
    return binary(r) ? v : (v >> 4) * 10u + (v & 15);
}

static uint8_t hour_reg(struct cmos_rtc *r, unsigned hour)
{
    if (r->mem[RTC_REG_B] & RTC_B_24H)
        return to_reg(r, hour);
    unsigned h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(to_reg(r, h12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned hour_from_reg(struct cmos_rtc *r, uint8_t v)
{
    if (r->mem[RTC_REG_B] & RTC_B_24H)
        return from_reg(r, v) % 24;
    unsigned h = from_reg(r, v & 0x7F) % 12;
    return (v & 0x80) ? h + 12 : h;
}

struct civil {
    int64_t year;
    unsigned month, day, hour, min, sec, dow;   /* dow 1 = Sunday (PC AT convention) */
};

static struct civil civil_of(int64_t t)
{
    struct civil c;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    rtc_civil_from_days(days, &c.year, &c.month, &c.day);
    c.hour = (unsigned)(rem / 3600);
    c.min = (unsigned)(rem / 60 % 60);
    c.sec = (unsigned)(rem % 60);
    c.dow = (unsigned)(((days % 7) + 7 + 4) % 7) + 1;     /* 1970-01-01 was a Thursday */
    return c;
}

static int64_t seconds_of(const struct civil *c)
{
    return rtc_days_from_civil(c->year, c->month, c->day) * 86400
        + c->hour * 3600 + c->min * 60 + c->sec;
}

/* A candidate second matches the alarm; alarm bytes 0xC0-0xFF are "don't care". */
static bool alarm_matches(struct cmos_rtc *r, int64_t t)
{
    struct civil c = civil_of(t);
    uint8_t s = r->mem[1], m = r->mem[3], h = r->mem[5];
    return (s >= 0xC0 || s == to_reg(r, c.sec))
        && (m >= 0xC0 || m == to_reg(r, c.min))
        && (h >= 0xC0 || h == hour_reg(r, c.hour));
}

/* The periodic rate in 32.768 kHz ticks (datasheet table 3: RS 1 and 2 repeat 8, 9). */
static uint64_t periodic_ticks(struct cmos_rtc *r)
{
    unsigned rs = r->mem[RTC_REG_A] & 15;
    if (!rs || !divider_running(r))
        return 0;
    return rs <= 2 ? 1ull << (rs + 6) : 1ull << (rs - 1);
}

static uint64_t xtal_ticks(struct cmos_rtc *r, uint64_t cycles)
{
    return pc_ratio_apply(pc_ratio_make(RTC_XTAL_HZ, r->freq_hz), cycles);
}

/* PF, UF, AF for what happened in (from, to]. */
static uint8_t flags_between(struct cmos_rtc *r, uint64_t from, uint64_t to)
{
    uint8_t f = 0;
    uint64_t p = periodic_ticks(r);
    if (p && xtal_ticks(r, to) / p > xtal_ticks(r, from) / p)
        f |= RTC_C_PF;
    if (!r->set_frozen && divider_running(r)) {
        int64_t a = seconds_at(r, from), b = seconds_at(r, to);
        if (b > a)
            f |= RTC_C_UF;
        /* A day holds every alarm time: checking more seconds than that adds nothing. */
        for (int64_t t = b; t > a && t > b - 86400 - 1; t--)
            if (alarm_matches(r, t)) {
                f |= RTC_C_AF;
                break;
            }
    }
    return f;
}

static uint8_t irqf(struct cmos_rtc *r, uint8_t c)
{
    uint8_t b = r->mem[RTC_REG_B];
    bool on = ((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE))
        || ((c & RTC_C_UF) && (b & RTC_B_UIE));
    return on ? RTC_C_IRQF : 0;
}

static void set_irq(struct cmos_rtc *r, bool level)
{
    if (level != r->irq_level) {
        r->irq_level = level;
        r->env.set_isa_irq(r->env.opaque, RTC_IRQ, level);
    }
}

/* Arm the event for the next flag that can raise IRQF (nothing while IRQF is up:
 * the line stays high until register C is read). */
static void rearm(struct cmos_rtc *r)
{
    uint64_t now = now_cycles(r), next = PC_NEVER;
    uint8_t b = r->mem[RTC_REG_B];
    if (!r->irq_level) {
        uint64_t p = periodic_ticks(r);
        if ((b & RTC_B_PIE) && p) {
            uint64_t k = xtal_ticks(r, now) / p + 1;
            next = pc_ratio_ceil_inverse(pc_ratio_make(RTC_XTAL_HZ, r->freq_hz), k * p);
        }
        if ((b & (RTC_B_UIE | RTC_B_AIE)) && !r->set_frozen && divider_running(r)) {
            uint64_t s = (now / r->freq_hz + 1) * r->freq_hz;
            if (s < next)
                next = s;
        }
    }
    r->env.timer_arm(r->env.opaque, 0, next);
}

void rtc_timer_event(struct cmos_rtc *r, unsigned which, uint64_t now)
{
    (void)which;
    r->reg_c |= flags_between(r, r->last_c_read, now);
    if (irqf(r, r->reg_c))
        set_irq(r, true);
    rearm(r);
}

/* --- registers ------------------------------------------------------------------ */

static uint8_t read_reg(struct cmos_rtc *r, unsigned i)
{
    uint64_t now = now_cycles(r);
    struct civil c = civil_of(seconds_at(r, now));
    switch (i) {
    case 0: return to_reg(r, c.sec);
    case 2: return to_reg(r, c.min);
    case 4: return hour_reg(r, c.hour);
    case 6: return to_reg(r, c.dow);
    case 7: return to_reg(r, c.day);
    case 8: return to_reg(r, c.month);
    case 9: return to_reg(r, (unsigned)(c.year % 100));
    case 0x32: return to_reg(r, (unsigned)(c.year / 100));
    case RTC_REG_A: {
        uint8_t a = r->mem[RTC_REG_A] & 0x7F;
        uint64_t uip_cycles = RTC_UIP_NS * r->freq_hz / 1000000000ull;
        if (!r->set_frozen && divider_running(r) && now % r->freq_hz >= r->freq_hz - uip_cycles)
            a |= RTC_A_UIP;
        return a;
    }
    case RTC_REG_C: {
        uint8_t f = r->reg_c | flags_between(r, r->last_c_read, now);
        f |= irqf(r, f);
        r->reg_c = 0;
        r->last_c_read = now;
        set_irq(r, false);
        rearm(r);
        return f;
    }
    case RTC_REG_D: return 0x80;        /* VRT: the battery is good */
    default: return r->mem[i];
    }
}

static void write_time(struct cmos_rtc *r, unsigned i, uint8_t v)
{
    uint64_t now = now_cycles(r);
    struct civil c = civil_of(seconds_at(r, now));
    switch (i) {
    case 0: c.sec = from_reg(r, v) % 60; break;
    case 2: c.min = from_reg(r, v) % 60; break;
    case 4: c.hour = hour_from_reg(r, v); break;
    case 7: c.day = from_reg(r, v) % 32; if (!c.day) c.day = 1; break;
    case 8: c.month = from_reg(r, v) % 13; if (!c.month) c.month = 1; break;
    case 9: c.year = c.year / 100 * 100 + from_reg(r, v) % 100; break;
    case 0x32: c.year = from_reg(r, v) * 100 + c.year % 100; break;
    default: return;                    /* day of week: computed from the date */
    }
    int64_t t = seconds_of(&c);
    if (r->set_frozen)
        r->frozen_seconds = t;
    else
        r->base_seconds = t - (int64_t)(now / r->freq_hz);
}

static void write_reg(struct cmos_rtc *r, unsigned i, uint8_t v)
{
    switch (i) {
    case 0: case 2: case 4: case 6: case 7: case 8: case 9: case 0x32:
        write_time(r, i, v);
        break;
    case RTC_REG_A:
        r->mem[i] = v & 0x7F;           /* UIP is read-only */
        break;
    case RTC_REG_B: {
        uint64_t now = now_cycles(r);
        bool set = v & RTC_B_SET;
        if (set && !r->set_frozen) {
            r->frozen_seconds = seconds_at(r, now);
            r->set_frozen = true;
        } else if (!set && r->set_frozen) {
            r->set_frozen = false;
            r->base_seconds = r->frozen_seconds - (int64_t)(now / r->freq_hz);
        }
        r->mem[i] = v;
        break;
    }
    case RTC_REG_C: case RTC_REG_D:
        break;                          /* read-only */
    default:
        r->mem[i] = v;
    }
    rearm(r);
}

uint32_t rtc_read(void *opaque, uint16_t offset, unsigned size)
{
    (void)size;
    struct cmos_rtc *r = opaque;
    if (offset == 0)
        return 0xFF;                    /* the index port is write-only on the PC AT */
    return read_reg(r, r->index);
}

void rtc_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    (void)size;
    struct cmos_rtc *r = opaque;
    if (offset == 0) {
        r->index = val & 0x7F;
        r->nmi_masked = val & 0x80;
    } else {
        write_reg(r, r->index, (uint8_t)val);
    }
}

void rtc_init(struct cmos_rtc *r, const struct pc_env *env, int64_t base_unix_seconds)
{
    memset(r, 0, sizeof *r);
    r->env = *env;
    r->freq_hz = env->freq_hz;
    r->base_seconds = base_unix_seconds;
    r->mem[RTC_REG_A] = 0x26;           /* DV = 010 (32.768 kHz), RS = 0110 (1024 Hz) */
    r->mem[RTC_REG_B] = RTC_B_24H;      /* BCD, 24-hour, no interrupts */
    r->mem[RTC_REG_D] = 0x80;
    r->last_c_read = now_cycles(r);
}

void rtc_set_memory(struct cmos_rtc *r, uint64_t below_4g, uint64_t above_4g, unsigned nr_cpus)
{
    r->mem[0x15] = 640 & 0xFF;          /* base memory in KiB */
    r->mem[0x16] = 640 >> 8;
    uint64_t ext = below_4g > (1u << 20) ? (below_4g - (1u << 20)) >> 10 : 0;
    if (ext > 0xFC00)
        ext = 0xFC00;                   /* QEMU: 63 MiB at most */
    r->mem[0x17] = r->mem[0x30] = (uint8_t)ext;
    r->mem[0x18] = r->mem[0x31] = (uint8_t)(ext >> 8);
    uint64_t above16 = below_4g > (16u << 20) ? (below_4g - (16u << 20)) >> 16 : 0;
    if (above16 > 0xFFFF)
        above16 = 0xFFFF;
    r->mem[0x34] = (uint8_t)above16;
    r->mem[0x35] = (uint8_t)(above16 >> 8);
    uint64_t high = above_4g >> 16;
    r->mem[0x5B] = (uint8_t)high;
    r->mem[0x5C] = (uint8_t)(high >> 8);
    r->mem[0x5D] = (uint8_t)(high >> 16);
    r->mem[0x5F] = (uint8_t)(nr_cpus - 1);
}

bool rtc_attach(struct cmos_rtc *r, struct io_bus *bus)
{
    return io_register(bus, RTC_BASE, 2, rtc_read, rtc_write, r, "cmos-rtc");
}
