/* The scheduler loop.  See hv/sched.h. */
#include "hv/sched.h"
#include "hv/partition.h"
#include "cpu/block.h"
#include "hv/interrupts.h"

#include <stdarg.h>
#include <string.h>

/* An interrupt a halted VP could take (its APIC has a deliverable vector and
 * IF = 1, or an NMI).  Interrupts sent while the VP is halted wake it at once
 * (hv/interrupts.c); this catches what device events left pending. */
static bool vp_has_pending_interrupt(struct partition *p, struct vp *v)
{
    return intr_vp_wakeable(p, v);
}

static int stop(struct partition *p, int status, FILE *diag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int stop(struct partition *p, int status, FILE *diag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->exit_msg, sizeof p->exit_msg, fmt, ap);
    va_end(ap);
    p->exit_requested = true;
    p->exit_status = status;
    if (diag)
        fprintf(diag, "hvemu: %s\n", p->exit_msg);
    return status;
}

static struct vp *pick(struct partition *p)
{
    struct vp *best = NULL;
    for (unsigned i = 0; i < p->nr_vps; i++) {
        struct vp *v = &p->vps[i];
        if (v->state == VP_RUNNABLE && (!best || v->cpu.cycles < best->cpu.cycles))
            best = v;
    }
    return best;
}

/* Wake halted VPs that have an interrupt to take, at virtual time 'now'. */
static void wake_halted(struct partition *p, uint64_t now)
{
    for (unsigned i = 0; i < p->nr_vps; i++) {
        struct vp *v = &p->vps[i];
        if (v->state == VP_HALTED && vp_has_pending_interrupt(p, v)) {
            if (v->cpu.cycles < now)
                v->cpu.cycles = now;        /* it slept until now */
            v->cpu.halted = 0;
            v->state = VP_RUNNABLE;
        }
    }
}

/* No VP can run: jump to the next device event, or explain why the run is over. */
static int idle(struct partition *p, const struct sched_limits *lim, FILE *diag, bool *again)
{
    uint64_t next = clock_next_deadline(&p->clock);
    bool any_halted = false, all_if_clear = true;
    for (unsigned i = 0; i < p->nr_vps; i++) {
        if (p->vps[i].state == VP_SUSPENDED) {
            any_halted = true;          /* a TLB unlock (a clock event) may wake it */
            all_if_clear = false;
            continue;
        }
        if (p->vps[i].state != VP_HALTED)
            continue;
        any_halted = true;
        if (p->vps[i].cpu.rflags & FL_IF)
            all_if_clear = false;
    }
    *again = false;
    if (!any_halted)
        return stop(p, HVEMU_EXIT_GUEST_STOP, diag, "no VP can run (all wait for INIT/SIPI)");
    if (all_if_clear)
        return stop(p, HVEMU_EXIT_GUEST_STOP, diag, "all VPs halted with interrupts disabled");
    if (next == CLOCK_NEVER)
        return stop(p, HVEMU_EXIT_GUEST_STOP, diag, "all VPs halted and no device event is pending");
    if (lim->max_cycles && next >= lim->max_cycles)
        return stop(p, HVEMU_EXIT_LIMIT, diag, "cycle limit reached (%llu cycles)",
                    (unsigned long long)lim->max_cycles);
    /* Halted VPs sleep through the gap: their clocks move to the event. */
    for (unsigned i = 0; i < p->nr_vps; i++)
        if (p->vps[i].state == VP_HALTED && p->vps[i].cpu.cycles < next)
            p->vps[i].cpu.cycles = next;
    clock_run_due(&p->clock, next);
    wake_halted(p, next);
    *again = true;
    return 0;
}

/* cpu_run for one slice of VP v that ends at cycle 'end', with the stops of a host
 * debugger inside it: the debugger holds the machine, then the same VP goes on to
 * the same end, exactly as if it had not stopped. */
static enum cpu_exit run_slice(struct partition *p, const struct sched_limits *lim, struct vp *v, uint64_t end)
{
    struct cpu *c = &v->cpu;
    for (;;) {
        p->running = v;
        block_cache_set_running(p->bc, c);     /* self-modifying stores stop this VP's block */
        enum cpu_exit why = cpu_run(c, end > c->cycles ? end - c->cycles : 0);
        block_cache_set_running(p->bc, NULL);
        p->running = NULL;
        if (why != CPU_EXIT_DEBUG)
            return why;
        const struct sched_debugger *d = lim->debugger;
        if (!d || !d->stopped(d->opaque, p, v))
            return CPU_EXIT_STOP;
    }
}

int sched_run(struct partition *p, const struct sched_limits *lim, FILE *diag)
{
    uint64_t quantum = lim->quantum ? lim->quantum : SCHED_DEFAULT_QUANTUM;
    const struct sched_debugger *dbg = lim->debugger;
    unsigned poll_in = 0;           /* slices until the debugger is asked again */

    for (;;) {
        if (dbg && poll_in-- == 0) {
            poll_in = SCHED_DEBUG_POLL_SLICES - 1;
            if (dbg->want_stop(dbg->opaque) && !dbg->stopped(dbg->opaque, p, NULL))
                return p->exit_status;
        }
        if (p->exit_requested)
            return p->exit_status;

        uint64_t insns = partition_total_insns(p);
        if (lim->max_insns && insns >= lim->max_insns)
            return stop(p, HVEMU_EXIT_LIMIT, diag, "instruction limit reached (%llu instructions)",
                        (unsigned long long)insns);

        struct vp *v = pick(p);
        if (!v) {
            bool again;
            int status = idle(p, lim, diag, &again);
            if (!again)
                return status;
            continue;
        }
        struct cpu *c = &v->cpu;
        if (lim->max_cycles && c->cycles >= lim->max_cycles)
            return stop(p, HVEMU_EXIT_LIMIT, diag, "cycle limit reached (%llu cycles)",
                        (unsigned long long)lim->max_cycles);

        if (clock_run_due(&p->clock, c->cycles)) {
            wake_halted(p, c->cycles);
            if (p->exit_requested)
                continue;
        }

        uint64_t budget = quantum;
        uint64_t next = clock_next_deadline(&p->clock);
        if (next != CLOCK_NEVER && next - c->cycles < budget)
            budget = next - c->cycles;
        if (lim->max_cycles && lim->max_cycles - c->cycles < budget)
            budget = lim->max_cycles - c->cycles;
        /* Every instruction costs at least one cycle, so a budget of the remaining
         * instruction count cannot run past -max-insns by more than one block. */
        if (lim->max_insns && lim->max_insns - insns < budget)
            budget = lim->max_insns - insns;
        if (budget == 0)
            budget = 1;

        enum cpu_exit why = run_slice(p, lim, v, c->cycles + budget);

        switch (why) {
        case CPU_EXIT_BUDGET:
        case CPU_EXIT_YIELD:
        case CPU_EXIT_DEBUG:
            break;
        case CPU_EXIT_HALT:
            v->state = VP_HALTED;
            break;
        case CPU_EXIT_SHUTDOWN: {
            v->state = VP_STOPPED;      /* the shutdown state (SDM Vol. 3A 6.15, #DF) */
            /* The CPU's reason may repeat "triple fault: "; say it once. */
            const char *why_msg = c->stop_msg;
            if (strncmp(why_msg, "triple fault: ", 14) == 0)
                why_msg += 14;
            stop(p, HVEMU_EXIT_GUEST_STOP, diag, "triple fault on VP %u%s%s", v->index,
                 why_msg[0] ? ": " : "", why_msg);
            if (diag)
                cpu_dump_state(c, diag);
            return HVEMU_EXIT_GUEST_STOP;
        }
        case CPU_EXIT_STOP:
            if (p->exit_requested)
                return p->exit_status;
            /* A stop nobody in hv/ asked for: the CPU gave up on something. */
            v->state = VP_STOPPED;
            return stop(p, HVEMU_EXIT_GUEST_STOP, diag, "VP %u stopped: %s", v->index,
                        c->stop_msg[0] ? c->stop_msg : "no reason given");
        }
    }
}
