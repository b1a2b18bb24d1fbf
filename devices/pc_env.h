/* What a PC platform device (devices/pit8254.c, cmos_rtc.c, hpet.c, acpi_pm.c,
 * i8042.c, reset.c) needs from the machine: the virtual time, its interrupt lines
 * and one-shot timers.  hv/platform.c fills it in for a partition; unit tests fill
 * it with a fake clock, so every device can be checked against its datasheet
 * without building a partition.
 *
 * Time is in virtual core cycles at freq_hz (hv/clock.h); nothing here reads the
 * host clock.
 */
#ifndef HVEMU_DEVICES_PC_ENV_H
#define HVEMU_DEVICES_PC_ENV_H

#include <stdbool.h>
#include <stdint.h>

#define PC_NEVER UINT64_MAX         /* = CLOCK_NEVER: a disarmed timer */

struct pc_env {
    void *opaque;
    uint64_t freq_hz;                                   /* virtual cycles per second */
    uint64_t (*now)(void *opaque);                      /* virtual time, cycles */
    void (*set_isa_irq)(void *opaque, unsigned irq, bool level);   /* 8259 + I/O APIC */
    void (*set_gsi)(void *opaque, unsigned gsi, bool level);       /* I/O APIC pin */
    /* Arm the device's timer 'which' (0..3) at an absolute cycle, PC_NEVER disarms;
     * the machine then calls the device's *_timer(dev, which, now). */
    void (*timer_arm)(void *opaque, unsigned which, uint64_t deadline);
    /* Machine-level requests: power-off (ACPI S5) and reset (0xCF9, i8042, 0x92). */
    void (*power_off)(void *opaque);
    void (*reset)(void *opaque, const char *why);
    void (*set_a20)(void *opaque, bool enabled);
};

/* A rate conversion between the core clock and a device clock: value * num / den,
 * rounded down, exact for any 64-bit value (num/den reduced by their gcd, so the
 * common case of a device rate that divides the core rate is one 64-bit division). */
struct pc_ratio {
    uint64_t num, den;
};

static inline uint64_t pc_gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static inline struct pc_ratio pc_ratio_make(uint64_t num, uint64_t den)
{
    uint64_t g = pc_gcd(num, den);
    return (struct pc_ratio){ num / g, den / g };
}

static inline uint64_t pc_ratio_apply(struct pc_ratio r, uint64_t v)
{
    if (r.num == 1)
        return v / r.den;
    unsigned __int128 x = (unsigned __int128)v * r.num;
    if (!(x >> 64))
        return (uint64_t)x / r.den;
    x /= r.den;
    return x >> 64 ? UINT64_MAX : (uint64_t)x;
}

/* The smallest v with pc_ratio_apply(r, v) >= t (t ticks -> the cycle they are
 * reached at); saturates at PC_NEVER. */
static inline uint64_t pc_ratio_ceil_inverse(struct pc_ratio r, uint64_t t)
{
    unsigned __int128 x = (unsigned __int128)t * r.den + r.num - 1;
    x /= r.num;
    return x >> 64 ? PC_NEVER : (uint64_t)x;
}

#endif
