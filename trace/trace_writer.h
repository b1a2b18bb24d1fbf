/* Writing the event trace (format in trace_format.h).
 *
 * The mmu, hv and scheduler call trace_emit() for every event; the writer
 * counts it (per VP and type, before any filter: the "live counts"), applies
 * the filter and the L1-hit policy, and appends the survivors to a buffer.
 * A full buffer becomes one independent zlib chunk. trace_close() writes the
 * last chunk and the summary chunk (the counts, including the hits that were
 * only counted) and renames PATH.tmp to PATH, so a file named PATH is always
 * complete. trace_flush_on_exit() closes every open writer; it is registered
 * with atexit() and the frontend also calls it on fatal stops.
 *
 * Single host thread (the deterministic scheduler); not async-signal-safe.
 */
#ifndef HVEMU_TRACE_TRACE_WRITER_H
#define HVEMU_TRACE_TRACE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace_filter.h"
#include "trace/trace_format.h"

#define TRACE_DEFAULT_CHUNK_RECORDS 4096    /* 128 KiB raw per chunk */

struct trace_header_info {
    uint8_t preset_id;                  /* enum trace_preset */
    const char *preset_name;            /* NULL = trace_preset_name(preset_id) */
    uint32_t core_khz;
    uint16_t vp_count;
    uint64_t seed;
    uint64_t build_id;
    const char *build_text;             /* free text, e.g. "hvemu 0.1.0 (abc123)"; may be NULL */
    bool exact_model;                   /* TLB in "exact" mode */
    bool inv_counts;                    /* invalidation records carry entries removed (TRACE_HF_INV_COUNTS) */
    struct trace_geometry_entry geom[TRACE_STRUCT_COUNT];
    uint32_t chunk_records;             /* records per chunk, 0 = default */
};

struct trace_writer;

/* Create PATH.tmp and write the header. filter NULL = default (everything,
 * L1 hits counted only). NULL with a one-line message in err on failure. */
struct trace_writer *trace_open(const char *path, const struct trace_header_info *info,
                                const struct trace_filter *filter, char *err, size_t errlen);

/* Count r and log it if the filter and the hit policy let it through. Cheap:
 * no I/O except when a chunk fills. w may be NULL (tracing off). */
void trace_emit(struct trace_writer *w, const struct trace_record *r);

/* Count n events of a type that were never emitted one by one (e.g. the
 * fast-cache L1 hits folded by mmu_stats_fold). They appear in the summary. */
void trace_count(struct trace_writer *w, uint16_t vp, unsigned type, uint64_t n);

/* Flush, write the summary, rename PATH.tmp -> PATH, free w. false with a
 * message if any write failed (the .tmp file is then left for inspection). */
bool trace_close_ex(struct trace_writer *w, char *err, size_t errlen);
/* As above; a failure is reported as one line on stderr. */
bool trace_close(struct trace_writer *w);

/* Close every writer still open (atexit, fatal stops). Idempotent. */
void trace_flush_on_exit(void);

/* Whether L1 hits are logged at all (hits=all or 1-in-N); when not, emitters may
 * count them with trace_count instead of building records. False for NULL. */
bool trace_logs_hits(const struct trace_writer *w);

/* Records logged so far (for tests and progress display). */
uint64_t trace_logged(const struct trace_writer *w);

#endif
