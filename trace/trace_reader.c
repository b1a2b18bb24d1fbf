/* The trace reader: validate the structure up front, inflate chunks on demand. */
#include "trace/trace_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct trace_reader {
    FILE *f;
    uint64_t size;
    struct trace_header h;
    struct trace_geometry_entry geom[TRACE_STRUCT_COUNT];
    char *text;                         /* header key=value text, NUL-terminated */

    struct trace_chunk_info *chunks;    /* record chunks */
    size_t n_chunks;
    struct trace_summary_entry *summary;
    size_t n_summary;
    bool complete;

    struct trace_record *recs;          /* the loaded chunk */
    uint32_t n_recs;
    size_t loaded;                      /* index of the loaded chunk, SIZE_MAX = none */
    size_t it_chunk;                    /* iteration position */
    uint32_t it_rec;
};

static bool fail(char *err, size_t n, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Sanity checks shared by the file walk and the in-memory decoder. */
static bool check_chunk_header(const struct trace_chunk_header *c, uint64_t off, char *err, size_t n)
{
    if (c->kind > TRACE_CHUNK_SUMMARY)
        return fail(err, n, "corrupt chunk at offset %" PRIu64 ": unknown kind %u", off, c->kind);
    if (c->n_records > TRACE_CHUNK_MAX_RECORDS || (c->kind == TRACE_CHUNK_RECORDS && c->n_records == 0))
        return fail(err, n, "corrupt chunk at offset %" PRIu64 ": %" PRIu32 " records", off, c->n_records);
    if ((uint64_t)c->raw_len != (uint64_t)c->n_records * TRACE_RECORD_SIZE)
        return fail(err, n, "corrupt chunk at offset %" PRIu64 ": raw length %" PRIu32 " for %" PRIu32 " records",
                    off, c->raw_len, c->n_records);
    if (c->compressed_len == 0 || c->compressed_len > compressBound(c->raw_len))
        return fail(err, n, "corrupt chunk at offset %" PRIu64 ": compressed length %" PRIu32, off, c->compressed_len);
    return true;
}

static bool inflate_exact(const uint8_t *z, uint32_t zlen, uint32_t raw_len, uint8_t **raw,
                          uint64_t off, char *err, size_t n)
{
    uint8_t *out = malloc(raw_len ? raw_len : 1);
    if (!out)
        return fail(err, n, "out of memory");
    uLongf got = raw_len;
    uLong used = zlen;
    /* uncompress2 reports how much input it consumed: a stream that ends early
     * or leaves bytes over is as corrupt as one whose checksum fails. */
    int rc = uncompress2(out, &got, z, &used);
    if (rc != Z_OK || got != raw_len || used != zlen) {
        free(out);
        return fail(err, n, "corrupt chunk at offset %" PRIu64 ": zlib data does not inflate to %" PRIu32 " bytes",
                    off, raw_len);
    }
    *raw = out;
    return true;
}

bool trace_chunk_decode(const uint8_t *data, size_t len, struct trace_chunk_header *h,
                        uint8_t **raw, char *err, size_t errlen)
{
    if (len < TRACE_CHUNK_HEADER_SIZE)
        return fail(err, errlen, "truncated chunk header");
    trace_decode_chunk_header(data, h);
    if (!check_chunk_header(h, 0, err, errlen))
        return false;
    if (len - TRACE_CHUNK_HEADER_SIZE < h->compressed_len)
        return fail(err, errlen, "truncated chunk: %zu of %" PRIu32 " bytes", len - TRACE_CHUNK_HEADER_SIZE,
                    h->compressed_len);
    return inflate_exact(data + TRACE_CHUNK_HEADER_SIZE, h->compressed_len, h->raw_len, raw, 0, err, errlen);
}

bool trace_chunk_records(const struct trace_chunk_header *h, const uint8_t *raw,
                         struct trace_record *out, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < h->n_records; i++) {
        trace_decode_record(raw + (size_t)i * TRACE_RECORD_SIZE, &out[i]);
        if (out[i].type >= TRACE_EV_COUNT)
            return fail(err, errlen, "corrupt record %" PRIu32 ": type %u", i, out[i].type);
        if (h->vp != TRACE_CHUNK_VP_MIXED && out[i].vp != h->vp)
            return fail(err, errlen, "corrupt record %" PRIu32 ": vp %u in a chunk of vp %u", i, out[i].vp, h->vp);
    }
    if (h->n_records && out[0].cycle != h->first_cycle)
        return fail(err, errlen, "corrupt chunk: first cycle %" PRIu64 " but header says %" PRIu64,
                    out[0].cycle, h->first_cycle);
    return true;
}

static bool read_at(struct trace_reader *r, uint64_t off, void *buf, size_t len)
{
    if (off > (uint64_t)INT64_MAX || fseeko(r->f, (off_t)off, SEEK_SET) != 0)
        return false;
    return fread(buf, 1, len, r->f) == len;
}

static bool read_chunk_raw(struct trace_reader *r, const struct trace_chunk_info *ci, uint8_t **raw,
                           char *err, size_t n)
{
    uint8_t *z = malloc(ci->h.compressed_len);
    if (!z)
        return fail(err, n, "out of memory");
    bool ok = read_at(r, ci->offset + TRACE_CHUNK_HEADER_SIZE, z, ci->h.compressed_len);
    if (!ok)
        fail(err, n, "read error at offset %" PRIu64, ci->offset);
    else
        ok = inflate_exact(z, ci->h.compressed_len, ci->h.raw_len, raw, ci->offset, err, n);
    free(z);
    return ok;
}

static bool load_summary(struct trace_reader *r, const struct trace_chunk_info *ci, char *err, size_t n)
{
    uint8_t *raw;
    if (!read_chunk_raw(r, ci, &raw, err, n))
        return false;
    r->summary = calloc(ci->h.n_records ? ci->h.n_records : 1, sizeof *r->summary);
    if (!r->summary) {
        free(raw);
        return fail(err, n, "out of memory");
    }
    for (uint32_t i = 0; i < ci->h.n_records; i++) {
        trace_decode_summary_entry(raw + (size_t)i * TRACE_SUMMARY_ENTRY_SIZE, &r->summary[i]);
        if (r->summary[i].type >= TRACE_EV_COUNT || r->summary[i].logged > r->summary[i].seen) {
            free(raw);
            return fail(err, n, "corrupt summary entry %" PRIu32, i);
        }
    }
    r->n_summary = ci->h.n_records;
    free(raw);
    return true;
}

/* Walk the chunk headers: every chunk inside the file, the summary last. */
static bool scan_chunks(struct trace_reader *r, unsigned flags, char *err, size_t n)
{
    uint64_t off = TRACE_HEADER_SIZE + (uint64_t)r->h.ext_len;
    size_t cap = 0;
    while (off < r->size) {
        uint8_t hb[TRACE_CHUNK_HEADER_SIZE];
        struct trace_chunk_info ci = { .offset = off };
        if (r->size - off < TRACE_CHUNK_HEADER_SIZE || !read_at(r, off, hb, sizeof hb))
            return fail(err, n, "truncated: chunk header at offset %" PRIu64 " is cut off", off);
        trace_decode_chunk_header(hb, &ci.h);
        if (!check_chunk_header(&ci.h, off, err, n))
            return false;
        uint64_t end = off + TRACE_CHUNK_HEADER_SIZE + ci.h.compressed_len;
        if (end > r->size)
            return fail(err, n, "truncated: chunk at offset %" PRIu64 " needs %" PRIu64 " bytes, file has %" PRIu64,
                        off, end - off, r->size - off);
        if (ci.h.kind == TRACE_CHUNK_SUMMARY) {
            if (end != r->size)
                return fail(err, n, "corrupt: %" PRIu64 " bytes after the summary chunk", r->size - end);
            if (!load_summary(r, &ci, err, n))
                return false;
            r->complete = true;
        } else {
            if (r->n_chunks == cap) {
                cap = cap ? 2 * cap : 64;
                struct trace_chunk_info *c = realloc(r->chunks, cap * sizeof *c);
                if (!c)
                    return fail(err, n, "out of memory");
                r->chunks = c;
            }
            r->chunks[r->n_chunks++] = ci;
        }
        off = end;
    }
    if (!r->complete && !(flags & TRACE_READ_ALLOW_INCOMPLETE))
        return fail(err, n, "truncated: no summary chunk (the run did not close the trace)");
    return true;
}

static bool read_header(struct trace_reader *r, char *err, size_t n)
{
    uint8_t hb[TRACE_HEADER_SIZE];
    if (r->size < TRACE_HEADER_SIZE || !read_at(r, 0, hb, sizeof hb))
        return fail(err, n, "not an hvemu trace: shorter than the %d-byte header", TRACE_HEADER_SIZE);
    if (memcmp(hb, TRACE_MAGIC, TRACE_MAGIC_LEN) != 0)
        return fail(err, n, "not an hvemu trace: bad magic");
    trace_decode_header(hb, &r->h);
    if (r->h.version != TRACE_VERSION)
        return fail(err, n, "unsupported trace version %u (this reader knows %d)", r->h.version, TRACE_VERSION);
    if (r->h.header_size != TRACE_HEADER_SIZE)
        return fail(err, n, "corrupt header: header size %u", r->h.header_size);
    if (r->h.ext_len < TRACE_GEOMETRY_SIZE || r->h.ext_len > TRACE_EXT_MAX)
        return fail(err, n, "corrupt header: variable part of %" PRIu32 " bytes", r->h.ext_len);
    if (r->size - TRACE_HEADER_SIZE < r->h.ext_len)
        return fail(err, n, "truncated: header says %" PRIu32 " more bytes", r->h.ext_len);

    uint8_t *ext = malloc(r->h.ext_len);
    r->text = malloc(r->h.ext_len - TRACE_GEOMETRY_SIZE + 1);
    if (!ext || !r->text) {
        free(ext);
        return fail(err, n, "out of memory");
    }
    if (!read_at(r, TRACE_HEADER_SIZE, ext, r->h.ext_len)) {
        free(ext);
        return fail(err, n, "read error in header");
    }
    trace_decode_geometry(ext, r->geom);
    size_t tlen = r->h.ext_len - TRACE_GEOMETRY_SIZE;
    memcpy(r->text, ext + TRACE_GEOMETRY_SIZE, tlen);
    r->text[tlen] = '\0';
    free(ext);
    return true;
}

struct trace_reader *trace_reader_open(const char *path, unsigned flags, char *err, size_t errlen)
{
    struct trace_reader *r = calloc(1, sizeof *r);
    if (!r) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    r->loaded = SIZE_MAX;
    r->f = fopen(path, "rb");
    if (!r->f) {
        fail(err, errlen, "%s: %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    char e[256] = "";
    bool ok = fseeko(r->f, 0, SEEK_END) == 0;
    off_t sz = ok ? ftello(r->f) : -1;
    if (sz < 0)
        ok = fail(e, sizeof e, "cannot determine the file size");
    r->size = (uint64_t)sz;
    ok = ok && read_header(r, e, sizeof e) && scan_chunks(r, flags, e, sizeof e);
    if (!ok) {
        fail(err, errlen, "%s: %s", path, e);
        trace_reader_close(r);
        return NULL;
    }
    return r;
}

void trace_reader_close(struct trace_reader *r)
{
    if (!r)
        return;
    if (r->f)
        fclose(r->f);
    free(r->text);
    free(r->chunks);
    free(r->summary);
    free(r->recs);
    free(r);
}

const struct trace_header *trace_reader_header(const struct trace_reader *r) { return &r->h; }
const struct trace_geometry_entry *trace_reader_geometry(const struct trace_reader *r) { return r->geom; }
bool trace_reader_complete(const struct trace_reader *r) { return r->complete; }
size_t trace_reader_chunk_count(const struct trace_reader *r) { return r->n_chunks; }

const struct trace_chunk_info *trace_reader_chunk(const struct trace_reader *r, size_t i)
{
    return i < r->n_chunks ? &r->chunks[i] : NULL;
}

void trace_reader_meta(const struct trace_reader *r, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    if (outlen)
        out[0] = '\0';
    for (const char *p = r->text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            snprintf(out, outlen, "%.*s", (int)(len - klen - 1), p + klen + 1);
            return;
        }
        p += len + (eol != NULL);
    }
}

const struct trace_summary_entry *trace_reader_summary(const struct trace_reader *r, size_t *n)
{
    *n = r->n_summary;
    return r->summary;
}

bool trace_reader_load_chunk(struct trace_reader *r, size_t i, const struct trace_record **recs,
                             uint32_t *n, char *err, size_t errlen)
{
    if (i >= r->n_chunks)
        return fail(err, errlen, "no chunk %zu", i);
    if (r->loaded != i) {
        const struct trace_chunk_info *ci = &r->chunks[i];
        uint8_t *raw;
        char e[200];
        r->loaded = SIZE_MAX;
        if (!read_chunk_raw(r, ci, &raw, e, sizeof e))
            return fail(err, errlen, "%s", e);
        struct trace_record *rec = realloc(r->recs, (size_t)ci->h.n_records * sizeof *rec);
        if (!rec) {
            free(raw);
            return fail(err, errlen, "out of memory");
        }
        r->recs = rec;
        bool ok = trace_chunk_records(&ci->h, raw, rec, e, sizeof e);
        free(raw);
        if (!ok)
            return fail(err, errlen, "chunk at offset %" PRIu64 ": %s", ci->offset, e);
        r->n_recs = ci->h.n_records;
        r->loaded = i;
    }
    *recs = r->recs;
    *n = r->n_recs;
    return true;
}

int trace_reader_next(struct trace_reader *r, struct trace_record *out, char *err, size_t errlen)
{
    while (r->it_chunk < r->n_chunks) {
        const struct trace_record *recs = NULL;     /* set on success; = NULL keeps gcc -O2 quiet */
        uint32_t n = 0;
        if (!trace_reader_load_chunk(r, r->it_chunk, &recs, &n, err, errlen))
            return -1;
        if (r->it_rec < n) {
            *out = recs[r->it_rec++];
            return 1;
        }
        r->it_chunk++;
        r->it_rec = 0;
    }
    return 0;
}

void trace_reader_rewind(struct trace_reader *r)
{
    r->it_chunk = 0;
    r->it_rec = 0;
}
