/* The deterministic scheduler (DESIGN.md §2 step 1, §4).
 *
 * Each round runs the runnable VP with the lowest cycle count (ties: lowest VP
 * index) for at most one quantum, cut short so that it stops at the next device
 * event and at the -max-cycles / -max-insns limits.  Device events fire between
 * quanta, at the virtual time of the VP about to run.  HALTED VPs wait for an
 * interrupt; when no VP can run, virtual time jumps to the next device event (so
 * an idle guest costs no host CPU); with no event pending the run stops with a
 * one-line reason.  APs stay in VP_WAIT_SIPI until the local APIC delivers
 * INIT/SIPI (issue 3).  Only virtual cycles decide anything: the same inputs give
 * the same interleaving.
 */
#ifndef HVEMU_HV_SCHED_H
#define HVEMU_HV_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct partition;

#define SCHED_DEFAULT_QUANTUM 4096  /* cycles: ~1.4 us at 3 GHz, well under an IPI round trip (TLB-MODEL.md) */

struct vp;
struct sched_debugger;

struct sched_limits {
    uint64_t max_insns;     /* 0: none. Instructions retired, summed over all VPs */
    uint64_t max_cycles;    /* 0: none. Virtual time, in cycles */
    uint64_t quantum;       /* 0: SCHED_DEFAULT_QUANTUM */
    const struct sched_debugger *debugger;     /* NULL: none */
};

/* A host debugger (frontend/gdb_stub.c) holds the machine between slices
 * (docs/internals.md §10).  While it does, no VP runs and virtual time stands
 * still; what it does in the meantime (reading registers and memory through
 * side-effect-free paths) changes nothing, so a run that is stopped and continued
 * goes on exactly as one that is not: same output, same statistics.
 *
 * A VP stops for the debugger inside its slice (cpu_run returns CPU_EXIT_DEBUG: a
 * host breakpoint, step or watchpoint); when the debugger resumes, the same VP
 * finishes the same slice (same end of budget) before anything else happens.  A
 * stop the debugger asks for itself (a Ctrl-C, a new connection) is taken between
 * two slices. */
struct sched_debugger {
    void *opaque;
    /* Asked between slices, every SCHED_DEBUG_POLL_SLICES slices (and before the
     * first): true when the machine must stop now.  Host input decides only
     * *whether* the machine stops between two slices, never what a VP does. */
    bool (*want_stop)(void *opaque);
    /* The machine is stopped: v is the VP that stopped (v->cpu.dbg.stop says why)
     * or NULL for a stop the debugger asked for.  Serves the debugger until it
     * resumes.  Returns false when the run must end (p->exit_requested is set). */
    bool (*stopped)(void *opaque, struct partition *p, struct vp *v);
};
#define SCHED_DEBUG_POLL_SLICES 64

/* Run until something ends the run; returns the process exit status (see
 * hv/partition.h) and leaves a one-line reason in p->exit_msg.  Guest-caused
 * stops and limits print that line (and for a triple fault the register dump) on
 * diag; a debug-exit prints nothing. */
int sched_run(struct partition *p, const struct sched_limits *lim, FILE *diag);

#endif
