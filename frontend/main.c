/* hvemu: parse the command line, build the machine, load the kernel, run, report.
 *
 * Everything that can be wrong with the user's input is found before the guest
 * starts and before anything is written (serial file, -stats file): one line on
 * stderr and exit status 2.  The exit statuses are listed in hv/partition.h and in
 * `hvemu --help`. */
#include "frontend/options.h"
#include "frontend/debug_log.h"
#include "frontend/stats.h"
#include "hv/partition.h"
#include "hv/sched.h"
#include "hv/platform.h"
#include "roms/multiboot.h"
#include "roms/linux.h"
#include "roms/elf.h"
#include "devices/uart16550.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef HVEMU_VERSION
#define HVEMU_VERSION "0.0.0"
#endif

#define ERRLEN 512

static int usage_error(const char *msg)
{
    fprintf(stderr, "hvemu: %s\n", msg);
    return HVEMU_EXIT_USAGE;
}

/* Read a whole file; at most limit bytes (more is an error naming what). */
static uint8_t *read_file(const char *what, const char *path, uint64_t limit, size_t *len,
                          char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            snprintf(err, errlen, "%s '%s': out of host memory", what, path);
            fclose(f);
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (n > limit)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s '%s': read error", what, path);
        free(buf);
        return NULL;
    }
    if (n > limit) {
        snprintf(err, errlen, "%s '%s' is larger than guest RAM (%llu MiB)", what, path,
                 (unsigned long long)(limit >> 20));
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static double now_seconds(void)
{
    /* Host time feeds only the "host" section of -stats, never the guest. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    static char err[ERRLEN];
    struct options o;

    if (!options_parse(argc, argv, &o, err, sizeof err))
        return usage_error(err);
    if (o.action == OPT_HELP) {
        options_print_help(stdout);
        return 0;
    }
    if (o.action == OPT_VERSION) {
        printf("hvemu %s\n", HVEMU_VERSION);
        return 0;
    }

    /* 1. The files: kernel and modules, wholly in host memory. */
    size_t klen = 0;
    uint8_t *kimg = read_file("kernel", o.kernel, o.ram_size, &klen, err, sizeof err);
    if (!kimg)
        return usage_error(err);
    if (klen == 0) {
        snprintf(err, sizeof err, "kernel '%s' is empty", o.kernel);
        return usage_error(err);
    }
    /* A Linux bzImage ("HdrS" at 0x202) or else a Multiboot kernel. */
    bool is_linux = linux_is_bzimage(kimg, klen);
    char *mod_entries[MB_MAX_MODULES];
    char *mod_storage = NULL;
    static struct mb_module mods[MB_MAX_MODULES];
    int nmods = 0;
    if (o.initrd) {
        nmods = options_split_initrd(o.initrd, mod_entries, MB_MAX_MODULES, &mod_storage);
        if (nmods < 0) {
            snprintf(err, sizeof err, "-initrd: more than %d modules", MB_MAX_MODULES);
            return usage_error(err);
        }
        if (is_linux && nmods != 1) {
            snprintf(err, sizeof err, "-initrd: a Linux kernel takes one initrd file, not %d", nmods);
            return usage_error(err);
        }
        for (int i = 0; i < nmods; i++) {
            /* The path is the entry up to the first space; the whole entry is the module's string. */
            char path[4096];
            size_t plen = is_linux ? strlen(mod_entries[i]) : strcspn(mod_entries[i], " ");
            if (plen == 0 || plen >= sizeof path) {
                snprintf(err, sizeof err, "-initrd: empty or overlong module path in '%s'", o.initrd);
                return usage_error(err);
            }
            memcpy(path, mod_entries[i], plen);
            path[plen] = 0;
            mods[i].data = read_file(is_linux ? "initrd" : "module", path, o.ram_size, &mods[i].len, err, sizeof err);
            if (!mods[i].data)
                return usage_error(err);
            mods[i].cmdline = mod_entries[i];
        }
    }

    /* 2. The machine. */
    char version_text[64];
    snprintf(version_text, sizeof version_text, "hvemu %s\n", HVEMU_VERSION);
    struct partition_config cfg = {
        .ram_size = o.ram_size,
        .nr_vps = o.smp,
        .tlb_preset = o.tlb_preset,
        .tlb_mode = o.tlb_mode,
        .cpu_freq_hz = o.cpu_freq_hz,
        .nographic = o.nographic || o.display_none,
        .version_text = version_text,
        .cpu_model = o.cpu_model,
        .rng_seed = o.rng_seed,
        .hyperv = o.hyperv,
    };
    struct partition *p = partition_new(&cfg, err, sizeof err);
    if (!p)
        return usage_error(err);
    platform_set_rtc_base(p, o.rtc_base);
    platform_set_no_reboot(p, o.no_reboot);
    if (o.watchdog_seconds && !platform_set_watchdog(p, o.watchdog_seconds, err, sizeof err))
        return usage_error(err);
    for (unsigned i = 0; i < o.n_debug_exit; i++)
        if (!partition_add_debug_exit(p, o.debug_exit[i].iobase, o.debug_exit[i].iosize, err, sizeof err))
            return usage_error(err);

    /* 3. The kernel.  A bzImage gets -append as it is (roms/linux.h). */
    const char *append = o.append ? o.append : "";
    if (is_linux) {
        struct linux_result lr;
        if (!linux_load(p->pm, p->nr_vps, kimg, klen, append, nmods ? mods[0].data : NULL,
                        nmods ? mods[0].len : 0, &lr, err, sizeof err)) {
            char line[ERRLEN + 64];
            snprintf(line, sizeof line, "kernel '%s': %s", o.kernel, err);
            return usage_error(line);
        }
        linux_enter(&p->vps[0].cpu, &lr);
    } else {
        struct mb_header mbh;
        if (mb_find_header(kimg, klen, &mbh) == MB_NOT_FOUND && !elf_is_elf(kimg, klen)) {
            snprintf(err, sizeof err, "kernel '%s': neither a Linux bzImage (no \"HdrS\" at 0x202) "
                     "nor a Multiboot kernel (no Multiboot header in the first %d bytes)", o.kernel, MB_SEARCH_BYTES);
            return usage_error(err);
        }
    }
    /* QEMU hands a Multiboot kernel "FILE APPEND" as its command line. */
    size_t cl_len = strlen(o.kernel) + 1 + strlen(append) + 1;
    char *cmdline = malloc(cl_len);
    if (!cmdline)
        return usage_error("out of host memory");
    snprintf(cmdline, cl_len, "%s %s", o.kernel, append);
    struct mb_result mb;
    if (!is_linux && !multiboot_load(p->pm, kimg, klen, cmdline, mods, (unsigned)nmods, &mb, err, sizeof err)) {
        char line[ERRLEN + 64];
        snprintf(line, sizeof line, "kernel '%s': %s", o.kernel, err);
        return usage_error(line);
    }
    if (!is_linux)
        multiboot_enter(&p->vps[0].cpu, &mb);
    free(kimg);
    for (int i = 0; i < nmods; i++)
        free((void *)mods[i].data);

    /* 4. The console: the file is opened last, so bad input never leaves an empty one. */
    if (!partition_add_uart(p, UART_COM1_BASE, NULL, err, sizeof err))
        return usage_error(err);
    FILE *serial_out = NULL;
    if (o.serial == SERIAL_STDIO) {
        serial_out = stdout;
    } else if (o.serial == SERIAL_FILE) {
        serial_out = fopen(o.serial_path, "w");
        if (!serial_out) {
            snprintf(err, sizeof err, "-serial file:%s: %s", o.serial_path, strerror(errno));
            return usage_error(err);
        }
    }
    uart_set_output(p->uart, serial_out);

    /* 5. The trace, last of all outputs: bad input above never leaves a trace file. */
    if (o.trace_path && !partition_open_trace(p, o.trace_path, &o.trace_filter, o.rng_seed, err, sizeof err))
        return usage_error(err);
    if (o.debug_mask && !debug_log_start(o.debug_mask, o.debug_path, p->io, err, sizeof err))
        return usage_error(err);

    /* 6. Run. */
    struct sched_limits lim = { .max_insns = o.max_insns, .max_cycles = o.max_cycles, .quantum = o.quantum };
    double t0 = now_seconds();
    int status = sched_run(p, &lim, stderr);
    double wall = now_seconds() - t0;
    fflush(stdout);
    debug_log_stop();
    /* However the run stopped (debug-exit, triple fault, limits), the trace is closed
     * here: summary written, FILE.tmp renamed to FILE. */
    if (!partition_close_trace(p, err, sizeof err)) {
        fprintf(stderr, "hvemu: %s\n", err);
        status = HVEMU_EXIT_HOST_ERROR;
    }

    if (o.stats_path) {
        struct run_summary rs = { status, p->exit_msg, wall, HVEMU_VERSION };
        if (!stats_write_file(o.stats_path, p, &rs, err, sizeof err)) {
            fprintf(stderr, "hvemu: %s\n", err);
            status = HVEMU_EXIT_HOST_ERROR;
        }
    }
    partition_free(p);      /* flushes the serial output */
    if (serial_out && serial_out != stdout)
        fclose(serial_out);
    free(cmdline);
    free(mod_storage);
    return status;
}
