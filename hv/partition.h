/* The machine: guest physical memory, N virtual processors (each a struct cpu with
 * its own struct mmu), one decoded-block cache shared by all VPs, the port-I/O
 * device registry, the virtual clock and the exit status (DESIGN.md §1, §5).
 * hv/partition.c also implements struct cpu_env, the CPU's window on all this.
 *
 * Process exit statuses (documented in `hvemu --help` too):
 *   (v << 1) | 1  the guest wrote v to an isa-debug-exit port
 *   0             clean power-off (ACPI S5), or a guest reset with -no-reboot
 *   1             host error during the run (e.g. the -stats file cannot be written)
 *   2             bad user input: option, value, preset, kernel or module file, -m
 *   3             guest-caused stop: triple fault, or every VP halted for good
 *   4             -max-insns / -max-cycles reached
 *   6, 8          a guest reset without -no-reboot, -watchdog (hv/platform.h)
 */
#ifndef HVEMU_HV_PARTITION_H
#define HVEMU_HV_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "mmu/mmu.h"
#include "hv/clock.h"
#include "hv/hyperv.h"

#define HVEMU_EXIT_POWEROFF   0
#define HVEMU_EXIT_HOST_ERROR 1
#define HVEMU_EXIT_USAGE      2
#define HVEMU_EXIT_GUEST_STOP 3
#define HVEMU_EXIT_LIMIT      4

#define PARTITION_MAX_VPS 128
#define PARTITION_MAX_DEBUG_EXITS 4

struct physmem;
struct block_cache;
struct io_bus;
struct uart16550;
struct fw_cfg;
struct debug_exit;
struct intr;

enum vp_state {
    VP_RUNNABLE,
    VP_HALTED,          /* HLT: waits for an interrupt */
    VP_SUSPENDED,       /* a flush caller waiting on TLB locks (hv/tlb_lock.c) */
    VP_WAIT_SIPI,       /* an AP before INIT/SIPI, or after INIT */
    VP_STOPPED,         /* shut down (triple fault) or given up on (an unsupported
                         * operation): it never runs again; the run ends with it */
};

struct vp {
    struct cpu cpu;
    struct mmu mmu;
    enum vp_state state;
    unsigned index;
};

struct partition_config {
    uint64_t ram_size;
    unsigned nr_vps;                /* 1..PARTITION_MAX_VPS */
    const char *tlb_preset;         /* NULL: the CPU model's preset */
    const char *cpu_model;          /* -cpu (cpu/cpu_models.h); NULL: "skylake" */
    uint64_t rng_seed;              /* -rng-seed: RDRAND/RDSEED streams */
    enum tlb_model_mode tlb_mode;
    uint64_t cpu_freq_hz;           /* 0: CLOCK_DEFAULT_HZ */
    bool nographic;
    const char *version_text;       /* the content of fw_cfg "etc/hvemu/version" */
    struct hv_config hyperv;        /* all-zero: the Hyper-V interface on, defaults */
};

struct partition {
    struct partition_config cfg;
    struct physmem *pm;
    struct block_cache *bc;
    struct io_bus *io;
    struct vclock clock;
    uint64_t time_floor;            /* the latest time any VP has read (cpu_now) */
    unsigned nr_vps;
    struct vp *vps;                 /* nr_vps entries; VP 0 is the bootstrap processor */
    struct vp *running;             /* the VP inside cpu_run, or NULL */
    struct intr *intr;              /* local APICs and interrupt routing (hv/interrupts.c) */
    struct hyperv *hv;              /* the Hyper-V interface (hv/hyperv.h) */
    struct trace_writer *trace;     /* -trace: the event trace, NULL when off (trace) */
    struct platform *platform;      /* the PC devices (hv/platform.h) */

    struct uart16550 *uart;
    struct fw_cfg *fw_cfg;
    struct debug_exit *debug_exit[PARTITION_MAX_DEBUG_EXITS];
    unsigned n_debug_exit;

    /* Why the run ended (set by partition_request_exit or the scheduler). */
    bool exit_requested;
    int exit_status;
    char exit_msg[160];
};

/* Build the machine: RAM, VPs (VP 0 runnable at reset, APs in VP_WAIT_SIPI),
 * block cache, port bus with fw_cfg at 0x510.  NULL with a one-line reason in err
 * (unknown preset, RAM allocation failure, bad VP count). */
struct partition *partition_new(const struct partition_config *cfg, char *err, size_t errlen);
void partition_free(struct partition *p);

/* Devices of the command line.  False with a one-line reason in err. */
bool partition_add_uart(struct partition *p, uint16_t base, FILE *out, char *err, size_t errlen);
bool partition_add_debug_exit(struct partition *p, uint16_t iobase, uint32_t iosize,
                              char *err, size_t errlen);

/* End the run with a process exit status (device callbacks: debug-exit, power-off).
 * The running VP leaves cpu_run at the next instruction boundary. */
void partition_request_exit(struct partition *p, int status, const char *msg);

/* -trace FILE (trace): open the event trace with the run's header (preset geometry,
 * frequency, VP count, seed) and give every VP's mmu the writer.  filter NULL = the
 * default.  Call last before the run, so bad input never leaves a trace file.
 * partition_close_trace folds the fast-cache hits into the counts, writes the
 * summary and renames FILE.tmp to FILE; after every run, however it stopped
 * (partition_free does it too).  False with a one-line reason in err. */
struct trace_filter;
bool partition_open_trace(struct partition *p, const char *path, const struct trace_filter *filter,
                          uint64_t seed, char *err, size_t errlen);
bool partition_close_trace(struct partition *p, char *err, size_t errlen);

/* The A20 gate, for the devices that drive it (port 0x92, the i8042 output port):
 * every VP's mmu masks physical address bit 20 while it is off (mmu_set_a20). */
void partition_set_a20(struct partition *p, bool enabled);

/* Totals over all VPs. */
uint64_t partition_total_insns(const struct partition *p);
uint64_t partition_max_cycles(const struct partition *p);

/* The hooks partition VPs run with (exported for tests that build their own VPs). */
extern const struct cpu_env partition_cpu_env;

#endif
