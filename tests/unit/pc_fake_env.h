/* A fake machine for the PC device unit tests (devices/pc_env.h): a settable clock,
 * recorded interrupt lines (level and rising-edge counts), armed timer deadlines and
 * machine requests.  fake_advance() moves time and fires due device timers, the way
 * hv/clock.c would. */
#ifndef HVEMU_TESTS_PC_FAKE_ENV_H
#define HVEMU_TESTS_PC_FAKE_ENV_H

#include "devices/pc_env.h"
#include <string.h>

static struct fake {
    uint64_t now;
    uint64_t deadline[4];
    bool isa_level[16];
    unsigned isa_edges[16];
    bool gsi_level[24];
    unsigned gsi_edges[24];
    unsigned power_offs, resets;
    bool a20;
    unsigned a20_calls;
} fk;

static uint64_t fake_now(void *o) { (void)o; return fk.now; }
static void fake_isa(void *o, unsigned irq, bool level)
{
    (void)o;
    if (level && !fk.isa_level[irq])
        fk.isa_edges[irq]++;
    fk.isa_level[irq] = level;
}
static void fake_gsi(void *o, unsigned gsi, bool level)
{
    (void)o;
    if (level && !fk.gsi_level[gsi])
        fk.gsi_edges[gsi]++;
    fk.gsi_level[gsi] = level;
}
static void fake_arm(void *o, unsigned which, uint64_t deadline) { (void)o; fk.deadline[which] = deadline; }
static void fake_power_off(void *o) { (void)o; fk.power_offs++; }
static void fake_reset(void *o, const char *why) { (void)o; (void)why; fk.resets++; }
static void fake_a20(void *o, bool on) { (void)o; fk.a20 = on; fk.a20_calls++; }

static struct pc_env fake_env(uint64_t freq_hz)
{
    memset(&fk, 0, sizeof fk);
    for (unsigned i = 0; i < 4; i++)
        fk.deadline[i] = PC_NEVER;
    return (struct pc_env){ NULL, freq_hz, fake_now, fake_isa, fake_gsi, fake_arm,
                            fake_power_off, fake_reset, fake_a20 };
}

/* Move the clock to t, firing every due timer in deadline order at its deadline. */
typedef void (*fake_fire_fn)(void *dev, unsigned which, uint64_t now);
static inline void fake_advance(uint64_t t, fake_fire_fn fire, void *dev)
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < 4; i++)
            if (fk.deadline[i] <= t && (best < 0 || fk.deadline[i] < fk.deadline[best]))
                best = i;
        if (best < 0)
            break;
        fk.now = fk.deadline[best];
        fk.deadline[best] = PC_NEVER;       /* disarmed before the callback, as hv/clock.c */
        fire(dev, (unsigned)best, fk.now);
    }
    fk.now = t;
}

#endif
