/* -stats FILE.json: the run's statistics, written at the end of a run that started.
 *
 * Layout (keys in this order, integers unless noted):
 *   { "hvemu_version", "tlb_model" ("fast"|"exact"), "tlb_preset", "cpu_freq_hz",
 *     "exit_status", "stop_reason" (string),
 *     "vps": [ { "vp", "instructions", "cycles", "tlb": <mmu_stats_write_json> } ... ],
 *     "totals": { "instructions", "max_cycles", "virtual_seconds" (float),
 *                 "guest_mips_virtual" (float: instructions per virtual second / 1e6) },
 *     "hyperv": { hypercall counts per call / form / status, flush and IPI targets,
 *                 pages, stall_cycles, tlb_lock suspends and suspended cycles
 *                 (hv/hyperv_stats.c) },
 *     "host": { "wall_seconds", "host_mips" } }
 * Everything before "host" depends only on the inputs, so two runs give identical
 * bytes there; "host" (wall-clock figures) is last, so `jq 'del(.host)'` or cutting
 * at the line "  \"host\": {" leaves the deterministic part.
 * The file is written as PATH.tmp.PID and renamed over PATH only once complete. */
#ifndef HVEMU_FRONTEND_STATS_H
#define HVEMU_FRONTEND_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct partition;

struct run_summary {
    int exit_status;
    const char *stop_reason;
    double wall_seconds;
    const char *version;
};

bool stats_write_file(const char *path, struct partition *p, const struct run_summary *rs,
                      char *err, size_t errlen);

#endif
