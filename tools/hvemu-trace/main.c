/* hvemu-trace: print, convert, summarise, plot and replay an hvemu event trace.
 * Bad input (missing file, not a trace, truncated or corrupt) is one line on
 * stderr and exit status 2. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char usage[] =
    "usage: hvemu-trace COMMAND FILE [options]\n"
    "  dump FILE            one line per record\n"
    "  csv FILE [-o OUT]    CSV with a header row\n"
    "  stats FILE [--json]  counts per type, VP and PCID (live counts from the summary)\n"
    "  plot FILE -o OUT.svg [--bins N]   misses and flushes over time, one row per VP\n"
    "  replay FILE          run the events through the reference TLB model and compare\n"
    "                       with the live counts; exit 1 on any difference\n"
    "options: --filter SPEC (dump, csv, stats, plot; syntax of -trace-filter)\n"
    "         --partial     accept a trace that was never closed (PATH.tmp)\n"
    "exit status: 0 ok, 1 replay mismatch, 2 bad input or usage\n";

void tool_error(const char *fmt, ...)
{
    va_list ap;
    fputs("hvemu-trace: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

FILE *tool_open_out(const struct tool_opts *o)
{
    if (!o->out || strcmp(o->out, "-") == 0)
        return stdout;
    FILE *f = fopen(o->out, "w");
    if (!f)
        tool_error("%s: %s", o->out, strerror(errno));
    return f;
}

bool tool_close_out(const struct tool_opts *o, FILE *f)
{
    bool ok = !ferror(f);
    if (f != stdout)
        ok = (fclose(f) == 0) && ok;
    else
        ok = (fflush(f) == 0) && ok;
    if (!ok)
        tool_error("%s: write failed", o->out ? o->out : "stdout");
    return ok;
}

bool tool_for_each(struct trace_reader *rd, const struct tool_opts *o, tool_record_fn fn, void *ctx)
{
    /* cr3= filters need the VP's current root, tracked here as the writer does. */
    static uint64_t roots[65536];
    memset(roots, 0, sizeof roots);
    trace_reader_rewind(rd);
    struct trace_record r;
    char err[300];
    int rc;
    while ((rc = trace_reader_next(rd, &r, err, sizeof err)) == 1) {
        if (r.type == TRACE_EV_CTX_MARKER || r.type == TRACE_EV_INV_CR3 || r.type == TRACE_EV_INV_CR3_NOFLUSH)
            roots[r.vp] = r.aux & TRACE_CR3_ROOT_MASK;
        if (o->has_filter && !trace_filter_match(&o->filter, &r, roots[r.vp]))
            continue;
        if (!fn(ctx, &r))
            return false;
    }
    if (rc < 0) {
        tool_error("%s: %s", o->file, err);
        return false;
    }
    return true;
}

static int parse_args(int argc, char **argv, struct tool_opts *o)
{
    memset(o, 0, sizeof *o);
    o->bins = 200;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--partial") == 0) {
            o->partial = true;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            o->out = argv[++i];
        } else if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
            char err[256];
            if (!trace_filter_parse(&o->filter, argv[++i], err, sizeof err)) {
                tool_error("%s", err);
                return EXIT_BAD;
            }
            o->has_filter = true;
        } else if (strcmp(a, "--bins") == 0 && i + 1 < argc) {
            char *end;
            unsigned long b = strtoul(argv[++i], &end, 10);
            if (*end || b < 1 || b > 100000) {
                tool_error("--bins wants 1..100000");
                return EXIT_BAD;
            }
            o->bins = (unsigned)b;
        } else if (a[0] == '-' && a[1]) {
            tool_error("unknown option '%s' (try --help)", a);
            return EXIT_BAD;
        } else if (!o->file) {
            o->file = a;
        } else {
            tool_error("one trace file only ('%s')", a);
            return EXIT_BAD;
        }
    }
    if (!o->file) {
        tool_error("no trace file given (try --help)");
        return EXIT_BAD;
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(struct trace_reader *, const struct tool_opts *); } cmds[] = {
        { "dump", cmd_dump }, { "csv", cmd_csv }, { "stats", cmd_stats },
        { "plot", cmd_plot }, { "replay", cmd_replay },
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_BAD : EXIT_OK;
    }
    int (*fn)(struct trace_reader *, const struct tool_opts *) = NULL;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) == 0)
            fn = cmds[i].fn;
    }
    if (!fn) {
        tool_error("unknown command '%s' (dump, csv, stats, plot, replay)", argv[1]);
        return EXIT_BAD;
    }
    struct tool_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != EXIT_OK)
        return rc;
    char err[400];
    struct trace_reader *rd = trace_reader_open(o.file, o.partial ? TRACE_READ_ALLOW_INCOMPLETE : 0, err, sizeof err);
    if (!rd) {
        tool_error("%s", err);
        return EXIT_BAD;
    }
    if (!trace_reader_complete(rd))
        tool_error("%s: warning: no summary chunk, the trace was not closed; live counts unknown", o.file);
    rc = fn(rd, &o);
    trace_reader_close(rd);
    return rc;
}
