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

#include <stdint.h>
#include <stdio.h>

struct partition;

#define SCHED_DEFAULT_QUANTUM 4096  /* cycles: ~1.4 us at 3 GHz, well under an IPI round trip (TLB-MODEL.md) */

struct sched_limits {
    uint64_t max_insns;     /* 0: none. Instructions retired, summed over all VPs */
    uint64_t max_cycles;    /* 0: none. Virtual time, in cycles */
    uint64_t quantum;       /* 0: SCHED_DEFAULT_QUANTUM */
};

/* Run until something ends the run; returns the process exit status (see
 * hv/partition.h) and leaves a one-line reason in p->exit_msg.  Guest-caused
 * stops and limits print that line (and for a triple fault the register dump) on
 * diag; a debug-exit prints nothing. */
int sched_run(struct partition *p, const struct sched_limits *lim, FILE *diag);

#endif
