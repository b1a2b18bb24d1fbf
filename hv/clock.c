/* The virtual clock and its event queue.  A linear scan over at most
 * CLOCK_MAX_TIMERS entries: the queue is consulted once per scheduler quantum,
 * not per instruction, so a heap would buy nothing. */
#include "hv/clock.h"

#include <string.h>

#define CLOCK_MAX_FIRES_PER_RUN 4096

void clock_init(struct vclock *k, uint64_t freq_hz)
{
    memset(k, 0, sizeof *k);
    k->freq_hz = freq_hz ? freq_hz : CLOCK_DEFAULT_HZ;
}

int clock_timer_new(struct vclock *k, const char *name, clock_event_fn fn, void *opaque)
{
    if (k->ntimers == CLOCK_MAX_TIMERS)
        return -1;
    k->timers[k->ntimers] = (struct clock_timer){ CLOCK_NEVER, fn, opaque, name };
    return (int)k->ntimers++;
}

void clock_timer_arm(struct vclock *k, int id, uint64_t deadline)
{
    if (id >= 0 && (unsigned)id < k->ntimers)
        k->timers[id].deadline = deadline;
}

void clock_timer_disarm(struct vclock *k, int id)
{
    clock_timer_arm(k, id, CLOCK_NEVER);
}

bool clock_timer_armed(const struct vclock *k, int id)
{
    return id >= 0 && (unsigned)id < k->ntimers && k->timers[id].deadline != CLOCK_NEVER;
}

uint64_t clock_next_deadline(const struct vclock *k)
{
    uint64_t best = CLOCK_NEVER;
    for (unsigned i = 0; i < k->ntimers; i++)
        if (k->timers[i].deadline < best)
            best = k->timers[i].deadline;
    return best;
}

unsigned clock_run_due(struct vclock *k, uint64_t now)
{
    unsigned fired = 0;
    if (now > k->now)
        k->now = now;
    /* A callback that re-arms at or before now fires again; the cap keeps a device
     * with a zero period from hanging the emulator (the rest wait for the next call). */
    while (fired < CLOCK_MAX_FIRES_PER_RUN) {
        int due = -1;
        for (unsigned i = 0; i < k->ntimers; i++)
            if (k->timers[i].deadline <= now && (due < 0 || k->timers[i].deadline < k->timers[due].deadline))
                due = (int)i;
        if (due < 0)
            return fired;
        struct clock_timer *t = &k->timers[due];
        t->deadline = CLOCK_NEVER;
        fired++;
        if (t->fn)
            t->fn(t->opaque, now);
    }
    return fired;
}

uint64_t clock_ns_to_cycles(const struct vclock *k, uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * k->freq_hz / 1000000000u);
}

uint64_t clock_cycles_to_ns(const struct vclock *k, uint64_t cycles)
{
    return (uint64_t)((unsigned __int128)cycles * 1000000000u / k->freq_hz);
}
