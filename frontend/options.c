/* Command-line parsing.  Every error is one line naming the option and the problem;
 * the caller prints it with "hvemu: " in front and exits with status 2. */
#include "frontend/options.h"
#include "frontend/debug_log.h"
#include "hv/partition.h"
#include "hv/clock.h"
#include "hv/hyperv.h"
#include "devices/debug_exit.h"
#include "devices/cmos_rtc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* Unsigned integer (decimal, or 0x hex), whole string, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *v, const char **end)
{
    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    char *e;
    unsigned long long x = strtoull(s, &e, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    if (errno || e == s)
        return false;
    *v = x;
    *end = e;
    return true;
}

static bool mul_ok(uint64_t a, uint64_t b, uint64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

/* A count with an optional decimal suffix k/K, M, G (x1000): -max-insns 100M, -cpu-freq 3G. */
static bool parse_count(const char *s, uint64_t *v)
{
    const char *e;
    uint64_t x, mult = 1;
    if (!parse_u64(s, &x, &e))
        return false;
    switch (*e) {
    case 0: break;
    case 'k': case 'K': mult = 1000; e++; break;
    case 'M': mult = 1000000; e++; break;
    case 'G': mult = 1000000000; e++; break;
    default: return false;
    }
    return *e == 0 && mul_ok(x, mult, v);
}

/* QEMU's -m: a number of MiB, or with a binary suffix K, M, G, T (case-insensitive);
 * "size=" may prefix it; ",slots=..,maxmem=.." (memory hotplug) is not supported. */
static bool parse_ram(const char *s, uint64_t *v, char *err, size_t errlen)
{
    const char *arg = s;
    if (strncmp(s, "size=", 5) == 0)
        s += 5;
    const char *e;
    uint64_t x, mult = 1ull << 20;
    if (!parse_u64(s, &x, &e))
        return fail(err, errlen, "-m %s: not a memory size (e.g. 512, 512M, 2G)", arg);
    switch (toupper((unsigned char)*e)) {
    case 0: break;
    case 'K': mult = 1ull << 10; e++; break;
    case 'M': mult = 1ull << 20; e++; break;
    case 'G': mult = 1ull << 30; e++; break;
    case 'T': mult = 1ull << 40; e++; break;
    default: return fail(err, errlen, "-m %s: not a memory size (e.g. 512, 512M, 2G)", arg);
    }
    if (toupper((unsigned char)*e) == 'B')
        e++;
    if (*e == ',')
        return fail(err, errlen, "-m %s: only the size is supported", arg);
    if (*e)
        return fail(err, errlen, "-m %s: not a memory size (e.g. 512, 512M, 2G)", arg);
    if (!mul_ok(x, mult, v) || *v > OPT_MAX_RAM)
        return fail(err, errlen, "-m %s: more than the 1 TiB hvemu allows", arg);
    if (*v < OPT_MIN_RAM)
        return fail(err, errlen, "-m %s: too small, at least 2 MiB are needed", arg);
    if (*v & 0xfff)
        return fail(err, errlen, "-m %s: not a multiple of 4 KiB", arg);
    return true;
}

/* QEMU's -smp: "N" or "cpus=N" (sockets/cores/threads are not modelled). */
static bool parse_smp(const char *s, unsigned *n, char *err, size_t errlen)
{
    const char *arg = s, *e;
    uint64_t v;
    if (strncmp(s, "cpus=", 5) == 0)
        s += 5;
    if (!parse_u64(s, &v, &e) || *e)
        return fail(err, errlen, "-smp %s: expected a CPU count (1..%d)", arg, PARTITION_MAX_VPS);
    if (v < 1 || v > PARTITION_MAX_VPS)
        return fail(err, errlen, "-smp %s: the CPU count must be 1..%d", arg, PARTITION_MAX_VPS);
    *n = (unsigned)v;
    return true;
}

/* -device isa-debug-exit[,iobase=N][,iosize=N] (QEMU defaults: iobase=0x501, iosize=2). */
static bool parse_device(const char *s, struct options *o, char *err, size_t errlen)
{
    const char *name = "isa-debug-exit";
    size_t nlen = strlen(name);
    if (strncmp(s, name, nlen) != 0 || (s[nlen] && s[nlen] != ','))
        return fail(err, errlen, "-device %s: unknown device (hvemu has: isa-debug-exit)", s);
    if (o->n_debug_exit == OPT_MAX_DEBUG_EXITS)
        return fail(err, errlen, "-device %s: at most %d isa-debug-exit devices", s, OPT_MAX_DEBUG_EXITS);
    uint64_t iobase = DEBUG_EXIT_DEFAULT_IOBASE, iosize = DEBUG_EXIT_DEFAULT_IOSIZE;
    const char *p = s + nlen;
    while (*p == ',') {
        p++;
        const char *eq = strchr(p, '='), *comma = strchr(p, ',');
        size_t klen = comma ? (size_t)(comma - p) : strlen(p);
        if (!eq || (comma && eq > comma))
            return fail(err, errlen, "-device %s: expected key=value after ','", s);
        size_t keylen = (size_t)(eq - p);
        char val[32];
        size_t vlen = klen - keylen - 1;
        if (vlen >= sizeof val)
            return fail(err, errlen, "-device %s: value too long", s);
        memcpy(val, eq + 1, vlen);
        val[vlen] = 0;
        uint64_t *dst = NULL;
        if (keylen == 6 && strncmp(p, "iobase", 6) == 0)
            dst = &iobase;
        else if (keylen == 6 && strncmp(p, "iosize", 6) == 0)
            dst = &iosize;
        else
            return fail(err, errlen, "-device %s: unknown property '%.*s' (isa-debug-exit has iobase, iosize)",
                        s, (int)keylen, p);
        const char *e;
        if (!parse_u64(val, dst, &e) || *e)
            return fail(err, errlen, "-device %s: '%s' is not a number", s, val);
        p += klen;
    }
    if (iosize == 0 || iosize > 0x10000 || iobase > 0xffff || iobase + iosize > 0x10000)
        return fail(err, errlen, "-device %s: ports 0x%llx+0x%llx are outside the 64 KiB I/O space", s,
                    (unsigned long long)iobase, (unsigned long long)iosize);
    o->debug_exit[o->n_debug_exit++] = (struct debug_exit_opt){ (uint16_t)iobase, (uint32_t)iosize };
    return true;
}

static bool parse_serial(const char *s, struct options *o, char *err, size_t errlen)
{
    if (strcmp(s, "stdio") == 0) {
        o->serial = SERIAL_STDIO;
    } else if (strcmp(s, "none") == 0 || strcmp(s, "null") == 0) {
        o->serial = SERIAL_NONE;
    } else if (strncmp(s, "file:", 5) == 0 && s[5]) {
        o->serial = SERIAL_FILE;
        o->serial_path = s + 5;
    } else {
        return fail(err, errlen, "-serial %s: supported are stdio, file:PATH, none", s);
    }
    return true;
}

bool options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    trace_filter_default(&o->trace_filter);
    o->ram_size = OPT_DEFAULT_RAM;
    o->smp = 1;
    o->serial = SERIAL_STDIO;
    o->tlb_mode = TLB_MODEL_FAST;
    o->cpu_freq_hz = CLOCK_DEFAULT_HZ;
    o->rtc_base = RTC_DEFAULT_BASE;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == 0)
            return fail(err, errlen, "unexpected argument '%s' (options start with '-'; see --help)", a);
        const char *name = a + 1 + (a[1] == '-');   /* -opt and --opt alike, as QEMU */

        /* Options without a value. */
        if (!strcmp(name, "help") || !strcmp(name, "h")) { o->action = OPT_HELP; return true; }
        if (!strcmp(name, "version")) { o->action = OPT_VERSION; return true; }
        if (!strcmp(name, "nographic")) { o->nographic = true; continue; }
        if (!strcmp(name, "no-reboot")) { o->no_reboot = true; continue; }

        static const char *const with_value[] = {
            "kernel", "append", "initrd", "m", "smp", "serial", "display", "device", "tlb",
            "cpu", "rng-seed",
            "tlb-model", "stats", "cpu-freq", "max-insns", "max-cycles", "quantum",
            "hyperv", "tlb-lock", "trace", "trace-filter", "rtc", "watchdog", "d", "D", NULL };
        bool known = false;
        for (int k = 0; with_value[k]; k++)
            known |= strcmp(name, with_value[k]) == 0;
        if (!known)
            return fail(err, errlen, "unknown option '%s' (see --help)", a);
        if (i + 1 >= argc)
            return fail(err, errlen, "option '%s' needs a value", a);
        const char *v = argv[++i];

        if (!strcmp(name, "kernel")) {
            o->kernel = v;
        } else if (!strcmp(name, "append")) {
            o->append = v;
        } else if (!strcmp(name, "initrd")) {
            o->initrd = v;
        } else if (!strcmp(name, "m")) {
            if (!parse_ram(v, &o->ram_size, err, errlen))
                return false;
        } else if (!strcmp(name, "smp")) {
            if (!parse_smp(v, &o->smp, err, errlen))
                return false;
        } else if (!strcmp(name, "serial")) {
            if (!parse_serial(v, o, err, errlen))
                return false;
        } else if (!strcmp(name, "display")) {
            if (strcmp(v, "none") != 0)
                return fail(err, errlen, "-display %s: only 'none' is supported (the SDL console comes later)", v);
            o->display_none = true;
        } else if (!strcmp(name, "device")) {
            if (!parse_device(v, o, err, errlen))
                return false;
        } else if (!strcmp(name, "tlb")) {
            o->tlb_preset = v;      /* checked against the mmu's presets when the machine is built */
        } else if (!strcmp(name, "cpu")) {
            o->cpu_model = v;       /* checked against cpu/cpu_models.c when the machine is built */
        } else if (!strcmp(name, "rng-seed")) {
            const char *e;
            if (!parse_u64(v, &o->rng_seed, &e) || *e)
                return fail(err, errlen, "-rng-seed %s: expected an unsigned 64-bit number (decimal or 0x hex)", v);
        } else if (!strcmp(name, "rtc")) {
            /* QEMU's -rtc base=utc|localtime|DATE: hvemu never reads the host clock,
             * so utc means the fixed default date. */
            if (!strcmp(v, "base=utc") || !strcmp(v, "base=utc-fixed-default"))
                o->rtc_base = RTC_DEFAULT_BASE;
            else if (strncmp(v, "base=", 5) != 0 || !rtc_parse_base(v + 5, &o->rtc_base))
                return fail(err, errlen, "-rtc %s: expected base=YYYY-MM-DDTHH:MM:SS (1900-2999), "
                            "base=YYYY-MM-DD or base=utc", v);
        } else if (!strcmp(name, "watchdog")) {
            if (!parse_count(v, &o->watchdog_seconds) || o->watchdog_seconds == 0)
                return fail(err, errlen, "-watchdog %s: expected a positive number of seconds of virtual time", v);
        } else if (!strcmp(name, "tlb-model")) {
            if (!strcmp(v, "fast"))
                o->tlb_mode = TLB_MODEL_FAST;
            else if (!strcmp(v, "exact"))
                o->tlb_mode = TLB_MODEL_EXACT;
            else
                return fail(err, errlen, "-tlb-model %s: expected fast or exact", v);
        } else if (!strcmp(name, "trace")) {
            if (!v[0])
                return fail(err, errlen, "-trace: empty file name");
            o->trace_path = v;
        } else if (!strcmp(name, "trace-filter")) {
            char why[256];
            if (!trace_filter_parse(&o->trace_filter, v, why, sizeof why))
                return fail(err, errlen, "-trace-filter %s: %s", v, why);
            o->trace_filter_spec = v;
        } else if (!strcmp(name, "stats")) {
            if (!v[0])
                return fail(err, errlen, "-stats: empty file name");
            o->stats_path = v;
        } else if (!strcmp(name, "cpu-freq")) {
            /* 1 MHz .. 100 GHz: outside that, cycle costs quoted in ns make no sense. */
            if (!parse_count(v, &o->cpu_freq_hz) || o->cpu_freq_hz < 1000000 || o->cpu_freq_hz > 100000000000ull)
                return fail(err, errlen, "-cpu-freq %s: expected a frequency in Hz from 1M to 100G (e.g. 3000000000 or 3G)", v);
        } else if (!strcmp(name, "max-insns")) {
            if (!parse_count(v, &o->max_insns) || o->max_insns == 0)
                return fail(err, errlen, "-max-insns %s: expected a positive count (e.g. 1000000 or 1M)", v);
        } else if (!strcmp(name, "max-cycles")) {
            if (!parse_count(v, &o->max_cycles) || o->max_cycles == 0)
                return fail(err, errlen, "-max-cycles %s: expected a positive count (e.g. 3000000000 or 3G)", v);
        } else if (!strcmp(name, "quantum")) {
            /* Upper bound 1G: a larger slice would let one VP run seconds ahead. */
            if (!parse_count(v, &o->quantum) || o->quantum == 0 || o->quantum > 1000000000ull)
                return fail(err, errlen, "-quantum %s: expected a cycle count from 1 to 1G (e.g. 4096)", v);
        } else if (!strcmp(name, "hyperv")) {
            if (!hv_parse_hyperv_option(v, &o->hyperv, err, errlen))     /* hv/hyperv_options.c */
                return false;
        } else if (!strcmp(name, "tlb-lock")) {
            if (!hv_parse_tlb_lock_option(v, &o->hyperv, err, errlen))
                return false;
        } else if (!strcmp(name, "d")) {
            if (!debug_log_parse(v, &o->debug_mask, err, errlen))     /* frontend/debug_log.c */
                return false;
        } else if (!strcmp(name, "D")) {
            if (!v[0])
                return fail(err, errlen, "-D: empty file name");
            o->debug_path = v;
        }
    }
    if (!o->kernel)
        return fail(err, errlen, "no -kernel given (see --help)");
    if (o->trace_filter_spec && !o->trace_path)
        return fail(err, errlen, "-trace-filter %s: without -trace FILE there is nothing to filter", o->trace_filter_spec);
    return true;
}

int options_split_initrd(const char *list, char **entries, int max, char **storage)
{
    size_t len = strlen(list);
    char *buf = malloc(len + 1);
    *storage = buf;
    if (!buf)
        return -1;
    int n = 0;
    char *w = buf;
    entries[n++] = w;
    for (const char *r = list; *r; r++) {
        if (*r == ',' && r[1] == ',') {     /* ",," is a comma inside a module string */
            *w++ = ',';
            r++;
        } else if (*r == ',') {
            *w++ = 0;
            if (n == max)
                return -1;
            entries[n++] = w;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return n;
}

void options_print_help(FILE *f)
{
    fputs(
"usage: hvemu -kernel FILE [options]\n"
"\n"
"hvemu emulates an x86-64 PC (an interpreter with a modelled TLB and a Hyper-V\n"
"interface) and boots a Linux bzImage or a Multiboot v1 kernel, as\n"
"qemu-system-x86_64 -kernel does.\n"
"Options take one or two dashes.  QEMU's spelling is used where the meaning is\n"
"the same.\n"
"\n"
"Machine:\n"
"  -kernel FILE          Linux bzImage (boot protocol >= 2.12, \"HdrS\" at 0x202):\n"
"                        64-bit entry with boot_params, e820 and ACPI tables; or a\n"
"                        Multiboot v1 kernel (ELF32, or a.out kludge); entered in\n"
"                        32-bit protected mode, paging off, EAX=0x2BADB002, EBX=info\n"
"  -append STRING        kernel command line (a Multiboot kernel sees \"FILE STRING\",\n"
"                        as QEMU; Linux sees STRING, at most its cmdline_size)\n"
"  -initrd F1[,F2...]    Linux: one initrd file.  Multiboot: modules, page-aligned\n"
"                        after the kernel; each entry\n"
"                        is \"path [args]\" and is the module's string (,, = a comma)\n"
"  -m SIZE               guest RAM: MiB, or with a K/M/G/T suffix (default 128M;\n"
"                        2M .. 1T)\n"
"  -smp N                number of VPs, 1..128 (also cpus=N).  VP 0 boots; the APs\n"
"                        wait for INIT/SIPI, which the local APIC brings in issue 3,\n"
"                        so for now they never run\n"
"  -cpu MODEL            what CPUID reports (vendor, signature, brand, caches, TLB\n"
"                        leaves): skylake (default; GenuineIntel), goldencove\n"
"                        (GenuineIntel), zen2 (AuthenticAMD).  Every model advertises\n"
"                        the same implemented features.  Its TLB leaves describe the\n"
"                        -tlb preset of the same name: -tlb defaults to it, -tlb P\n"
"                        alone selects -cpu P, another model's preset is refused\n"
"  -rng-seed N           seed of the RDRAND/RDSEED streams (default 0); each VP has\n"
"                        its own stream, identical on every run with the same seed\n"
"  -cpu-freq HZ          virtual core frequency (default 3G): TSC and every guest-\n"
"                        visible time derive from virtual cycles at this rate\n"
"\n"
"Devices and console:\n"
"  -serial stdio|file:PATH|none\n"
"                        where the 16550 UART at 0x3F8 writes (default stdio)\n"
"  -nographic            accepted for QEMU compatibility (there is no display)\n"
"  -display none         accepted for QEMU compatibility (only 'none')\n"
"  -device isa-debug-exit[,iobase=N][,iosize=N]\n"
"                        a write of v to these ports ends hvemu with status\n"
"                        (v << 1) | 1; QEMU's defaults iobase=0x501,iosize=2 apply\n"
"                        when omitted (test guests use iobase=0xf4,iosize=4)\n"
"  -no-reboot            a guest reset (port 0xCF9, the i8042 0xFE pulse, port 0x92)\n"
"                        ends the run with status 0, as QEMU's -no-reboot; without\n"
"                        it hvemu stops with status 6 (it does not reboot).  A triple\n"
"                        fault always stops hvemu (status 3)\n"
"  -rtc base=DATE        the RTC's date at time 0: YYYY-MM-DDTHH:MM:SS, YYYY-MM-DD or\n"
"                        utc (= the fixed default 2026-01-01T00:00:00; the host\n"
"                        clock is never read)\n"
"  -watchdog SECONDS     stop a run still going after SECONDS of virtual time, with a\n"
"                        register dump of every VP (status 8)\n"
"  fw_cfg (QEMU's firmware configuration interface) is always at ports 0x510/0x511.\n"
"\n"
"TLB model and measurement:\n"
"  -tlb PRESET           TLB geometry and latencies: skylake (default), goldencove,\n"
"                        zen2\n"
"  -tlb-model fast|exact fast (default): host fast-lookup cache hits count as L1 hits;\n"
"                        exact: every access is a modelled lookup.  Both deterministic\n"
"  -stats FILE.json      at the end of a run that started, write statistics (mode,\n"
"                        preset, frequency, per VP instructions, cycles and TLB\n"
"                        counters, totals).  Written to a temporary file and renamed,\n"
"                        so FILE.json is complete or absent.  Everything outside its\n"
"                        \"host\" section (wall-clock time, host MIPS) is identical\n"
"                        across runs with the same inputs\n"
"  -trace FILE           write the binary TLB event trace (TLB-MODEL.md B-(b)): fills,\n"
"                        evictions, STLB hits, misses, walks, every invalidation by\n"
"                        cause, hypercall flushes; L1 hits are counted, not logged.\n"
"                        Written to FILE.tmp and renamed when the run ends, however it\n"
"                        ends; read it with hvemu-trace (dump, csv, stats, plot, replay)\n"
"  -trace-filter SPEC    which records reach the file: vp=N|LO-HI, pcid=.., cr3=..,\n"
"                        va=LO-HI, cycles=LO-HI, events=NAME[:NAME..] (names of\n"
"                        hvemu-trace dump, or groups lookup, walk, tlb, inv, hv, sched),\n"
"                        hits=none|all|N (log L1 hits: none, all, or 1 in N); clauses\n"
"                        separated by ',' or ';', values by '+' or ':'\n"
"  -d ITEM[,ITEM..]      debug log (QEMU's names): in_asm (new blocks, disassembled),\n"
"                        int (exceptions/interrupts: vector, error, RIP, CR2), cpu\n"
"                        (registers at every block: short runs), unimp (decoder #UDs,\n"
"                        unknown MSRs, unclaimed ports; first 64 of each kind)\n"
"  -D FILE               write the -d log to FILE (default stderr)\n"
"  -max-insns N          stop after N instructions (all VPs together); K/M/G suffixes\n"
"                        are decimal\n"
"  -max-cycles N         stop when virtual time reaches N cycles\n"
"  -hyperv on|off|NAME=on|off|compat=kvm|tlfs[,...]\n"
"                        the Hyper-V interface (default on, strict TLFS statuses); NAME:\n"
"                        reftime tscpage frequencies tscinvariant xmm extgva tlbflush\n"
"                        exmasks ipi vpregs (vpregs, i.e. AccessVpRegisters, is off)\n"
"  -tlb-lock vp=V,at=C,for=D\n"
"                        lock VP V's TLB from cycle C for D cycles (repeatable): flush\n"
"                        hypercalls that target it suspend their caller until then\n"
"  -quantum N            scheduler time slice in cycles (default 4096): the runnable VP\n"
"                        with the lowest cycle count runs at most N cycles at a time\n"
"\n"
"  -h, --help            this text\n"
"  --version             the version\n"
"\n"
"Exit status:\n"
"  (v << 1) | 1   the guest wrote v to an isa-debug-exit port (host keeps 8 bits)\n"
"  0              clean power-off (ACPI S5: \"ACPI power-off\" on stderr), a guest\n"
"                 reset with -no-reboot, or --help / --version\n"
"  1              host error during the run (e.g. the -stats file cannot be written)\n"
"  2              bad input: unknown option or value, unknown preset, missing,\n"
"                 truncated or unknown kernel, a bzImage too old for the 64-bit\n"
"                 entry, initrd or command line too large, segments outside RAM, -m too\n"
"                 small or too large, unreadable module; one line on stderr, and\n"
"                 nothing is written (no serial file, no -stats file)\n"
"  3              the guest stopped the machine: triple fault (a register dump\n"
"                 follows the line), or every VP halted with nothing to wake it\n"
"  4              -max-insns or -max-cycles reached (one line on stderr)\n"
"  6              the guest reset the machine without -no-reboot (one line)\n"
"  8              -watchdog expired (one line and a register dump per VP)\n",
        f);
}
