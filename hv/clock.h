/* Virtual time (DESIGN.md §4): time is counted in guest core cycles at the
 * configured frequency (-cpu-freq), and devices schedule timers on a small event
 * queue in those cycles.  Nothing here reads the host clock. */
#ifndef HVEMU_HV_CLOCK_H
#define HVEMU_HV_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_MAX_TIMERS 32         /* one or two per device: a PC has about a dozen */
#define CLOCK_NEVER UINT64_MAX
#define CLOCK_DEFAULT_HZ 3000000000ull  /* 3 GHz, the middle of TLB-MODEL.md's 3-4 GHz cost range */

typedef void (*clock_event_fn)(void *opaque, uint64_t now);

struct clock_timer {
    uint64_t deadline;      /* in cycles; CLOCK_NEVER when disarmed */
    clock_event_fn fn;
    void *opaque;
    const char *name;
};

struct vclock {
    uint64_t freq_hz;
    uint64_t now;           /* the latest time events were run for */
    unsigned ntimers;
    struct clock_timer timers[CLOCK_MAX_TIMERS];
};

void clock_init(struct vclock *k, uint64_t freq_hz);

/* Returns a timer id, or -1 if the queue is full. The timer starts disarmed. */
int  clock_timer_new(struct vclock *k, const char *name, clock_event_fn fn, void *opaque);
void clock_timer_arm(struct vclock *k, int id, uint64_t deadline);
void clock_timer_disarm(struct vclock *k, int id);
bool clock_timer_armed(const struct vclock *k, int id);

/* The earliest armed deadline, or CLOCK_NEVER. */
uint64_t clock_next_deadline(const struct vclock *k);

/* Fire every timer whose deadline is <= now, earliest first (ties by id, so the order
 * is deterministic).  A timer is disarmed before its callback runs; the callback may
 * re-arm it.  Returns the number of events fired. */
unsigned clock_run_due(struct vclock *k, uint64_t now);

/* Conversions (rounded down), exact for any 64-bit input. */
uint64_t clock_ns_to_cycles(const struct vclock *k, uint64_t ns);
uint64_t clock_cycles_to_ns(const struct vclock *k, uint64_t cycles);

#endif
