/* Reading and validating an event trace (format in trace_format.h).
 *
 * Untrusted input: every length is checked against the file size and the
 * format's limits before it is used, and every chunk is inflated into a buffer
 * of exactly raw_len bytes with zlib's own checksum verified, so a truncated or
 * corrupt file gives a one-line error and never an out-of-bounds access.
 *
 * trace_reader_open() reads the header and walks every chunk header (seeking
 * over the data) so structural damage is found before any record is returned.
 */
#ifndef HVEMU_TRACE_TRACE_READER_H
#define HVEMU_TRACE_TRACE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace_format.h"

/* Accept a file without a summary chunk (a PATH.tmp left by a killed run);
 * it must still end on a chunk boundary. */
#define TRACE_READ_ALLOW_INCOMPLETE 1u

struct trace_chunk_info {
    uint64_t offset;                    /* file offset of the chunk header */
    struct trace_chunk_header h;
};

struct trace_reader;

struct trace_reader *trace_reader_open(const char *path, unsigned flags, char *err, size_t errlen);
void trace_reader_close(struct trace_reader *r);

const struct trace_header *trace_reader_header(const struct trace_reader *r);
const struct trace_geometry_entry *trace_reader_geometry(const struct trace_reader *r);
/* Value of a key of the header text ("preset", "filter", "build"), "" if absent. */
void trace_reader_meta(const struct trace_reader *r, const char *key, char *out, size_t outlen);
/* False when the summary chunk is missing (only with TRACE_READ_ALLOW_INCOMPLETE). */
bool trace_reader_complete(const struct trace_reader *r);

/* Record chunks only (the summary is not listed). */
size_t trace_reader_chunk_count(const struct trace_reader *r);
const struct trace_chunk_info *trace_reader_chunk(const struct trace_reader *r, size_t i);
/* Decode record chunk i; *recs stays valid until the next load/next/close. */
bool trace_reader_load_chunk(struct trace_reader *r, size_t i, const struct trace_record **recs,
                             uint32_t *n, char *err, size_t errlen);

/* Sequential iteration over all records: 1 = *out filled, 0 = end, -1 = error. */
int trace_reader_next(struct trace_reader *r, struct trace_record *out, char *err, size_t errlen);
void trace_reader_rewind(struct trace_reader *r);

/* Summary entries (live counts), n = 0 for an incomplete trace. */
const struct trace_summary_entry *trace_reader_summary(const struct trace_reader *r, size_t *n);

/* Decode one chunk held in memory (its 24-byte header + data) without any
 * file context: each chunk is an independent zlib stream. On success *raw is
 * malloc'ed (caller frees) and holds h->raw_len bytes: records for a record
 * chunk (see trace_chunk_records), summary entries for a summary chunk. */
bool trace_chunk_decode(const uint8_t *data, size_t len, struct trace_chunk_header *h,
                        uint8_t **raw, char *err, size_t errlen);
/* Validate and decode the raw bytes of a record chunk into records. */
bool trace_chunk_records(const struct trace_chunk_header *h, const uint8_t *raw,
                         struct trace_record *out, char *err, size_t errlen);

#endif
