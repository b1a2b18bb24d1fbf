/* Shared pieces of the hvemu-trace subcommands. */
#ifndef HVEMU_TOOLS_TRACE_TOOL_H
#define HVEMU_TOOLS_TRACE_TOOL_H

#include <stdbool.h>
#include <stdio.h>

#include "trace/trace_filter.h"
#include "trace/trace_reader.h"

/* Exit codes: 0 fine, 1 replay found differences, 2 bad input or usage. */
enum { EXIT_OK = 0, EXIT_MISMATCH = 1, EXIT_BAD = 2 };

struct tool_opts {
    const char *file;
    const char *out;            /* -o FILE (csv, plot); NULL = stdout */
    bool json;                  /* stats --json */
    bool partial;               /* --partial: accept a trace without summary (PATH.tmp) */
    bool has_filter;            /* --filter SPEC: show only matching records */
    struct trace_filter filter;
    unsigned bins;              /* plot --bins N */
};

/* Iterate the records that pass opts->filter. fn returns false to stop with an
 * error already printed. Returns false (after printing one line) on a bad file. */
typedef bool (*tool_record_fn)(void *ctx, const struct trace_record *r);
bool tool_for_each(struct trace_reader *rd, const struct tool_opts *o, tool_record_fn fn, void *ctx);

/* One line "hvemu-trace: FILE: message" on stderr. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open -o FILE or stdout; NULL after an error message. */
FILE *tool_open_out(const struct tool_opts *o);
bool tool_close_out(const struct tool_opts *o, FILE *f);

int cmd_dump(struct trace_reader *rd, const struct tool_opts *o);
int cmd_csv(struct trace_reader *rd, const struct tool_opts *o);
int cmd_stats(struct trace_reader *rd, const struct tool_opts *o);
int cmd_plot(struct trace_reader *rd, const struct tool_opts *o);
int cmd_replay(struct trace_reader *rd, const struct tool_opts *o);

#endif
