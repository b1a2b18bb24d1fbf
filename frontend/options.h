/* The hvemu command line.  QEMU's spelling where the meaning is the same (options
 * take one or two leading dashes, as in QEMU); see options_print_help() for the
 * full list and the exit statuses. */
#ifndef HVEMU_FRONTEND_OPTIONS_H
#define HVEMU_FRONTEND_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu/mmu.h"
#include "trace/trace_filter.h"
#include "hv/hyperv.h"

#define OPT_MIN_RAM   (2ull << 20)    /* a Multiboot kernel at 1 MiB needs RAM above it */
#define OPT_MAX_RAM   (1ull << 40)    /* 1 TiB: beyond this the request is a typo */
#define OPT_DEFAULT_RAM (128ull << 20)  /* QEMU's default -m */
#define OPT_MAX_DEBUG_EXITS 4

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };
enum opt_action { OPT_RUN, OPT_HELP, OPT_VERSION };

struct debug_exit_opt {
    uint16_t iobase;
    uint32_t iosize;
};

struct options {
    enum opt_action action;
    const char *kernel;
    const char *append;             /* NULL when not given */
    const char *initrd;             /* the raw comma-separated list */
    uint64_t ram_size;
    unsigned smp;
    enum serial_kind serial;
    const char *serial_path;        /* SERIAL_FILE */
    bool nographic, display_none, no_reboot;
    struct debug_exit_opt debug_exit[OPT_MAX_DEBUG_EXITS];
    unsigned n_debug_exit;
    const char *tlb_preset;         /* NULL: the -cpu model's */
    const char *cpu_model;          /* -cpu; NULL: skylake, or the -tlb preset's model */
    uint64_t rng_seed;              /* -rng-seed (default 0) */
    enum tlb_model_mode tlb_mode;
    const char *stats_path;
    uint64_t cpu_freq_hz;
    uint64_t max_insns, max_cycles;
    uint64_t quantum;               /* 0: SCHED_DEFAULT_QUANTUM */
    const char *trace_path;         /* -trace FILE, NULL = off */
    const char *trace_filter_spec;  /* -trace-filter SPEC as given */
    struct trace_filter trace_filter;   /* parsed (trace/trace_filter.h), default when not given */
    struct hv_config hyperv;        /* -hyperv, -tlb-lock */
    int64_t rtc_base;               /* -rtc base=: Unix seconds (default RTC_DEFAULT_BASE) */
    uint64_t watchdog_seconds;      /* -watchdog S of virtual time; 0 = off */
    unsigned debug_mask;            /* -d in_asm,int,cpu,unimp (cpu/debug_hook.h bits); 0 = off */
    const char *debug_path;         /* -D FILE; NULL = stderr */
};

/* Fill o from argv.  False with a one-line reason in err (exit status 2). */
bool options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);

void options_print_help(FILE *f);

/* Split QEMU's -initrd list: modules separated by ',' (",," is a literal comma);
 * each entry is "path [arguments]" and the whole entry is the module's string.
 * Returns the number of entries (at most max) or -1 if there are too many; the
 * strings are allocated in *storage, which the caller frees. */
int options_split_initrd(const char *list, char **entries, int max, char **storage);

#endif
