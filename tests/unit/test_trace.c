/* The event trace: format round trip, filters, chunk independence, bad files,
 * determinism, crash safety and the offline replay model. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace/replay.h"
#include "trace/trace_filter.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_trace.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *tmp_path(const char *name)
{
    static char buf[4][320];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
    return buf[i];
}

/* A tiny geometry whose sets the replay test can reason about by hand. */
static struct trace_header_info small_info(uint32_t chunk_records)
{
    struct trace_header_info info = {
        .preset_id = TRACE_PRESET_CUSTOM,
        .preset_name = "test",
        .core_khz = 3000000,
        .vp_count = 4,
        .seed = 42,
        .build_id = 0x1234,
        .build_text = "test_trace",
        .exact_model = true,
        .chunk_records = chunk_records,
    };
    info.geom[TRACE_ST_L1D_4K] = (struct trace_geometry_entry){ 4, 2, TRACE_REPL_LRU, 1u << TRACE_PS_4K, 0 };
    info.geom[TRACE_ST_L1I_4K] = (struct trace_geometry_entry){ 4, 2, TRACE_REPL_LRU, 1u << TRACE_PS_4K, 0 };
    info.geom[TRACE_ST_STLB] = (struct trace_geometry_entry){ 8, 2, TRACE_REPL_LRU,
                                                              (1u << TRACE_PS_4K) | (1u << TRACE_PS_2M), 8 };
    return info;
}

/* A deterministic pseudo-random record stream: every type, 4 VPs. */
static struct trace_record synth(unsigned i)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    struct trace_record r = {
        .cycle = 10ull * i,
        .vaddr = (x & 0xFFFFF) << 12,
        .aux = x >> 7,
        .vp = (uint16_t)(i % 4),
        .pcid_flags = TRACE_MAKE_PF(x % 5, (x >> 5) & 1, 0, 1),
        .type = (uint8_t)((x >> 11) % TRACE_EV_COUNT),
        .info = (uint8_t)(x >> 17),
        .latency = (uint16_t)(x >> 23),
    };
    return r;
}

static bool rec_eq(const struct trace_record *a, const struct trace_record *b)
{
    return a->cycle == b->cycle && a->vaddr == b->vaddr && a->aux == b->aux && a->vp == b->vp &&
           a->pcid_flags == b->pcid_flags && a->type == b->type && a->info == b->info && a->latency == b->latency;
}

static void write_trace(const char *path, const struct trace_header_info *info, const char *filter_spec,
                        unsigned n, struct trace_record (*gen)(unsigned))
{
    struct trace_filter f;
    char err[256];
    ck_assert_msg(trace_filter_parse(&f, filter_spec, err, sizeof err), "%s", err);
    struct trace_writer *w = trace_open(path, info, &f, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (unsigned i = 0; i < n; i++) {
        struct trace_record r = gen(i);
        trace_emit(w, &r);
    }
    ck_assert(trace_close_ex(w, err, sizeof err));
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* ---- round trip with filters ------------------------------------------------ */

/* The filter "vp=0+2;events=fill,evict,miss,ctx;cycles=100-80000", spelled out. */
static bool expected_kept(const struct trace_record *r)
{
    bool ev = r->type == TRACE_EV_FILL || r->type == TRACE_EV_EVICT || r->type == TRACE_EV_MISS ||
              r->type == TRACE_EV_CTX_MARKER;
    return (r->vp == 0 || r->vp == 2) && ev && r->cycle >= 100 && r->cycle <= 80000;
}

START_TEST(test_round_trip_filtered)
{
    make_tmpdir();
    const char *path = tmp_path("rt.trace");
    struct trace_header_info info = small_info(64);
    write_trace(path, &info, "vp=0+2;events=fill,evict,miss,ctx;cycles=100-80000", 20000, synth);

    char err[256];
    struct trace_reader *r = trace_reader_open(path, 0, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    const struct trace_header *h = trace_reader_header(r);
    ck_assert_uint_eq(h->version, TRACE_VERSION);
    ck_assert_uint_eq(h->vp_count, 4);
    ck_assert_uint_eq(h->seed, 42);
    ck_assert_uint_eq(h->core_khz, 3000000);
    ck_assert_uint_eq(h->l1d_entries, 4);
    ck_assert_uint_eq(h->stlb_entries, 8);
    ck_assert(h->flags & TRACE_HF_FILTERED);
    ck_assert_uint_ne(h->filter_hash, 0);
    ck_assert_uint_eq(trace_reader_geometry(r)[TRACE_ST_STLB].ways, 2);
    char meta[128];
    trace_reader_meta(r, "filter", meta, sizeof meta);
    ck_assert_str_eq(meta, "vp=0+2;cycles=100-80000;events=miss+fill+evict+ctx");
    trace_reader_meta(r, "preset", meta, sizeof meta);
    ck_assert_str_eq(meta, "test");

    unsigned i = 0, kept = 0;
    struct trace_record got;
    int rc;
    uint64_t logged[4][TRACE_EV_COUNT] = { { 0 } }, seen[4][TRACE_EV_COUNT] = { { 0 } };
    while ((rc = trace_reader_next(r, &got, err, sizeof err)) == 1) {
        struct trace_record want;
        do {    /* the next record the filter keeps */
            ck_assert_uint_lt(i, 20000);
            want = synth(i++);
        } while (!expected_kept(&want));
        ck_assert_msg(rec_eq(&got, &want), "record %u differs", kept);
        kept++;
    }
    ck_assert_msg(rc == 0, "%s", err);
    while (i < 20000) {
        struct trace_record want = synth(i++);
        ck_assert(!expected_kept(&want));
    }
    ck_assert_uint_gt(kept, 500);
    ck_assert_uint_gt(trace_reader_chunk_count(r), 5);

    /* The summary has the live counts of everything, logged or not. */
    for (unsigned k = 0; k < 20000; k++) {
        struct trace_record s = synth(k);
        seen[s.vp][s.type]++;
        logged[s.vp][s.type] += expected_kept(&s);
    }
    size_t n;
    const struct trace_summary_entry *sum = trace_reader_summary(r, &n);
    size_t nonzero = 0;
    for (unsigned vp = 0; vp < 4; vp++)
        for (unsigned t = 0; t < TRACE_EV_COUNT; t++)
            nonzero += seen[vp][t] != 0;
    ck_assert_uint_eq(n, nonzero);
    for (size_t k = 0; k < n; k++) {
        ck_assert_uint_eq(sum[k].seen, seen[sum[k].vp][sum[k].type]);
        ck_assert_uint_eq(sum[k].logged, logged[sum[k].vp][sum[k].type]);
    }
    trace_reader_close(r);
    remove_tmpdir();
}
END_TEST

/* L1 hits: counted only by default, all with hits=all, 1-in-N when sampled. */
static struct trace_record hit_gen(unsigned i)
{
    struct trace_record r = { .cycle = i, .vaddr = 0x1000, .vp = 1, .type = TRACE_EV_LOOKUP_L1_HIT };
    if (i % 10 == 9)
        r.type = TRACE_EV_MISS;
    return r;
}

static uint64_t count_records(const char *path, unsigned type)
{
    char err[256];
    struct trace_reader *r = trace_reader_open(path, 0, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    struct trace_record rec;
    uint64_t n = 0;
    while (trace_reader_next(r, &rec, err, sizeof err) == 1)
        n += rec.type == type;
    trace_reader_close(r);
    return n;
}

START_TEST(test_hits_counted_not_logged)
{
    make_tmpdir();
    struct trace_header_info info = small_info(0);
    write_trace(tmp_path("a"), &info, NULL, 1000, hit_gen);
    write_trace(tmp_path("b"), &info, "hits=all", 1000, hit_gen);
    write_trace(tmp_path("c"), &info, "hits=4", 1000, hit_gen);
    ck_assert_uint_eq(count_records(tmp_path("a"), TRACE_EV_LOOKUP_L1_HIT), 0);
    ck_assert_uint_eq(count_records(tmp_path("a"), TRACE_EV_MISS), 100);
    ck_assert_uint_eq(count_records(tmp_path("b"), TRACE_EV_LOOKUP_L1_HIT), 900);
    ck_assert_uint_eq(count_records(tmp_path("c"), TRACE_EV_LOOKUP_L1_HIT), 225);

    char err[256];
    struct trace_reader *r = trace_reader_open(tmp_path("a"), 0, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(trace_reader_header(r)->event_mask & (1ull << TRACE_EV_LOOKUP_L1_HIT), 0);
    size_t n;
    const struct trace_summary_entry *s = trace_reader_summary(r, &n);
    bool found = false;
    for (size_t k = 0; k < n; k++) {
        if (s[k].vp == 1 && s[k].type == TRACE_EV_LOOKUP_L1_HIT) {
            ck_assert_uint_eq(s[k].seen, 900);
            ck_assert_uint_eq(s[k].logged, 0);
            found = true;
        }
    }
    ck_assert(found);
    trace_reader_close(r);
    remove_tmpdir();
}
END_TEST

/* ---- chunk independence ------------------------------------------------------ */

static struct trace_record seq_gen(unsigned i)
{
    struct trace_record r = { .cycle = 1000 + i, .vaddr = (uint64_t)i << 12, .aux = i, .vp = (uint16_t)(i / 40 % 2),
                              .type = TRACE_EV_FILL, .info = TRACE_MAKE_INFO(0, 0, TRACE_ST_L1D_4K, 0) };
    return r;
}

START_TEST(test_chunk_independence)
{
    make_tmpdir();
    const char *path = tmp_path("chunks.trace");
    struct trace_header_info info = small_info(16);
    write_trace(path, &info, NULL, 100, seq_gen);

    char err[256];
    struct trace_reader *r = trace_reader_open(path, 0, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_uint_eq(trace_reader_chunk_count(r), 7);     /* 6 x 16 + 4 */
    const struct trace_chunk_info *ci = trace_reader_chunk(r, 3);
    ck_assert_uint_eq(ci->h.n_records, 16);
    ck_assert_uint_eq(ci->h.first_cycle, 1000 + 48);
    ck_assert_uint_eq(ci->h.vp, 1);                          /* records 48..63: all vp 1 */
    ck_assert_uint_eq(trace_reader_chunk(r, 2)->h.vp, TRACE_CHUNK_VP_MIXED);
    uint64_t off = ci->offset;
    size_t clen = TRACE_CHUNK_HEADER_SIZE + ci->h.compressed_len;
    trace_reader_close(r);

    /* Decode the middle chunk from a copy of its bytes only. */
    size_t len;
    uint8_t *file = slurp(path, &len);
    uint8_t *alone = malloc(clen);
    memcpy(alone, file + off, clen);
    free(file);
    struct trace_chunk_header h;
    uint8_t *raw;
    ck_assert_msg(trace_chunk_decode(alone, clen, &h, &raw, err, sizeof err), "%s", err);
    struct trace_record recs[16];
    ck_assert_msg(trace_chunk_records(&h, raw, recs, err, sizeof err), "%s", err);
    for (unsigned i = 0; i < 16; i++) {
        struct trace_record want = seq_gen(48 + i);
        ck_assert(rec_eq(&recs[i], &want));
    }
    free(raw);
    /* One byte short is a clean error. */
    ck_assert(!trace_chunk_decode(alone, clen - 1, &h, &raw, err, sizeof err));
    free(alone);
    remove_tmpdir();
}
END_TEST

/* ---- bad files ------------------------------------------------------------------ */

/* Open and read everything; true if the file is accepted. Must never crash. */
static bool read_fully(const char *path, char *err, size_t n)
{
    struct trace_reader *r = trace_reader_open(path, 0, err, n);
    if (!r)
        return false;
    struct trace_record rec;
    int rc;
    while ((rc = trace_reader_next(r, &rec, err, n)) == 1)
        ;
    trace_reader_close(r);
    return rc == 0;
}

START_TEST(test_truncated_and_corrupt)
{
    make_tmpdir();
    const char *path = tmp_path("good.trace");
    const char *bad = tmp_path("bad.trace");
    struct trace_header_info info = small_info(8);
    write_trace(path, &info, NULL, 40, seq_gen);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    char err[256];
    ck_assert_msg(read_fully(path, err, sizeof err), "%s", err);

    /* Every truncation is rejected with a message. */
    for (size_t cut = 0; cut < len; cut++) {
        spit(bad, buf, cut);
        err[0] = '\0';
        ck_assert_msg(!read_fully(bad, err, sizeof err), "accepted a file cut at %zu of %zu", cut, len);
        ck_assert_msg(err[0] != '\0', "no message for a cut at %zu", cut);
    }
    spit(bad, buf, 10);
    ck_assert(!read_fully(bad, err, sizeof err));
    ck_assert_msg(strstr(err, "not an hvemu trace") != NULL, "%s", err);

    /* Not a trace at all. */
    spit(bad, (const uint8_t *)"#!/bin/sh\necho this is not a trace, just a longer text file ..........\n", 72);
    ck_assert(!read_fully(bad, err, sizeof err));
    ck_assert_msg(strstr(err, "bad magic") != NULL, "%s", err);

    /* Missing file. */
    ck_assert(!read_fully(tmp_path("nonexistent"), err, sizeof err));
    ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);

    /* Wrong version. */
    uint8_t *copy = malloc(len);
    memcpy(copy, buf, len);
    copy[8] = 99;
    spit(bad, copy, len);
    ck_assert(!read_fully(bad, err, sizeof err));
    ck_assert_msg(strstr(err, "version") != NULL, "%s", err);

    /* Every single-byte corruption is either rejected or harmless; mostly rejected. */
    unsigned rejected = 0;
    for (size_t pos = 0; pos < len; pos++) {
        memcpy(copy, buf, len);
        copy[pos] ^= 0x5A;
        spit(bad, copy, len);
        rejected += !read_fully(bad, err, sizeof err);
    }
    ck_assert_uint_gt(rejected, len / 3);
    /* Garbage appended after the summary. */
    uint8_t *longer = malloc(len + 5);
    memcpy(longer, buf, len);
    memset(longer + len, 0xEE, 5);
    spit(bad, longer, len + 5);
    ck_assert(!read_fully(bad, err, sizeof err));
    free(longer);
    free(copy);
    free(buf);
    remove_tmpdir();
}
END_TEST

/* ---- filter parsing ---------------------------------------------------------- */

static void parse_ok(struct trace_filter *f, const char *spec)
{
    char err[256];
    ck_assert_msg(trace_filter_parse(f, spec, err, sizeof err), "'%s': %s", spec, err);
}

static void expect_canonical(const char *spec, const char *canon)
{
    struct trace_filter f;
    char out[512];
    parse_ok(&f, spec);
    trace_filter_format(&f, out, sizeof out);
    ck_assert_msg(strcmp(out, canon) == 0, "'%s' -> '%s', want '%s'", spec, out, canon);
}

START_TEST(test_filter_parse_good)
{
    expect_canonical(NULL, "");
    expect_canonical("", "");
    /* The two spellings of the docs mean the same. */
    expect_canonical("vp=0,2-3;events=fill,evict", "vp=0+2-3;events=fill+evict");
    expect_canonical("vp=0+2-3,events=fill:evict", "vp=0+2-3;events=fill+evict");
    expect_canonical("vp=1,pcid=3-5,cr3=0x12345fff,va=0x1000-0x1fff,events=inv,cycles=10-20",
                     "vp=1;pcid=3-5;cr3=0x12345000;va=0x1000-0x1fff;cycles=10-20;"
                     "events=invlpg+invpcid0+invpcid1+invpcid2+invpcid3+cr3+cr3_noflush+cr4+pf+cr0+dirty_refresh");
    expect_canonical("events=LOOKUP_L1_HIT+hv_flush_list;hits=all", "events=l1_hit+hv_flush_list;hits=all");
    expect_canonical("hits=16;", "hits=16");
    expect_canonical("events=all", "");

    struct trace_filter f;
    parse_ok(&f, "va=0x1000-0x1fff,vp=1");
    struct trace_record r = { .vp = 1, .vaddr = 0x1800, .type = TRACE_EV_FILL };
    ck_assert(trace_filter_match(&f, &r, 0));
    r.vaddr = 0x2000;
    ck_assert(!trace_filter_match(&f, &r, 0));
    r.type = TRACE_EV_SUSPEND;              /* no address: va= does not apply */
    ck_assert(trace_filter_match(&f, &r, 0));
    r.vp = 0;
    ck_assert(!trace_filter_match(&f, &r, 0));
    /* A List flush passes when its range overlaps. */
    r = (struct trace_record){ .vp = 1, .vaddr = 0x0, .aux = 0x5000 | 0, .type = TRACE_EV_HV_FLUSH_LIST,
                               .info = TRACE_HV_TARGET_ACTION };
    ck_assert(!trace_filter_match(&f, &r, 0));
    r.aux = 0x5000 | 1;                     /* 1 additional page: 0x0 and 0x1000 */
    ck_assert(trace_filter_match(&f, &r, 0));

    parse_ok(&f, "cr3=0x5000");
    r = (struct trace_record){ .type = TRACE_EV_MISS };
    ck_assert(trace_filter_match(&f, &r, 0x5000));
    ck_assert(!trace_filter_match(&f, &r, 0x6000));
    r.type = TRACE_EV_HV_IPI;               /* not a TLB event: cr3= does not apply */
    ck_assert(trace_filter_match(&f, &r, 0x6000));
}
END_TEST

START_TEST(test_filter_parse_bad)
{
    static const char *const bad[] = {
        "vp=", "foo=1", "vp=3-1", "pcid=4096", "events=bogus", "hits=0", "hits=some", "1,2",
        "va=0x-1", "vp=70000", "cycles=1-", "vp=-3", "vp=1x", "cycles=99999999999999999999",
        "vp=0+1+2+3+4+5+6+7+8+9+10+11+12+13+14+15+16",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct trace_filter f;
        char err[256] = "";
        ck_assert_msg(!trace_filter_parse(&f, bad[i], err, sizeof err), "accepted '%s'", bad[i]);
        ck_assert_msg(strncmp(err, "trace filter: ", 14) == 0, "'%s': message '%s'", bad[i], err);
    }
}
END_TEST

/* ---- determinism and crash safety -------------------------------------------- */

START_TEST(test_determinism)
{
    make_tmpdir();
    struct trace_header_info info = small_info(100);
    write_trace(tmp_path("1"), &info, "hits=3", 5000, synth);
    write_trace(tmp_path("2"), &info, "hits=3", 5000, synth);
    size_t l1, l2;
    uint8_t *a = slurp(tmp_path("1"), &l1), *b = slurp(tmp_path("2"), &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(a, b, l1) == 0);
    free(a);
    free(b);
    remove_tmpdir();
}
END_TEST

START_TEST(test_tmp_then_rename_and_exit_flush)
{
    make_tmpdir();
    const char *path = tmp_path("x.trace");
    struct trace_header_info info = small_info(0);
    char err[256];
    struct trace_writer *w = trace_open(path, &info, NULL, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    struct trace_record r = seq_gen(0);
    trace_emit(w, &r);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);               /* not there until closed */
    ck_assert_int_eq(stat(tmp_path("x.trace.tmp"), &st), 0);
    trace_flush_on_exit();                              /* as a fatal stop would */
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_ne(stat(tmp_path("x.trace.tmp"), &st), 0);
    ck_assert_uint_eq(count_records(path, TRACE_EV_FILL), 1);

    /* A process that exits without closing still leaves a complete trace. */
    const char *path2 = tmp_path("y.trace");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct trace_writer *w2 = trace_open(path2, &info, NULL, err, sizeof err);
        if (!w2)
            _exit(3);
        for (unsigned i = 0; i < 10000; i++) {
            struct trace_record rr = seq_gen(i);
            trace_emit(w2, &rr);
        }
        exit(0);            /* no trace_close: the atexit handler must do it */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_uint_eq(count_records(path2, TRACE_EV_FILL), 10000);

    /* A writer into a missing directory fails cleanly. */
    ck_assert_ptr_null(trace_open(tmp_path("no/such/dir/z.trace"), &info, NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "cannot create") != NULL, "%s", err);
    remove_tmpdir();
}
END_TEST

/* ---- replay -------------------------------------------------------------------- */

/* Geometry of small_info(): L1D 2 sets x 2 ways, STLB 4 sets x 2 ways.
 * A = 0x1000, B = 0x3000, C = 0x5000 share L1D set 1; STLB sets 1, 3, 1. */
#define PG_A 0x1000
#define PG_B 0x3000
#define PG_C 0x5000
#define PG_D 0x2000
#define L1D TRACE_MAKE_INFO(TRACE_ACC_R, 0, TRACE_ST_L1D_4K, 0)
#define STLB TRACE_MAKE_INFO(TRACE_ACC_R, 0, TRACE_ST_STLB, 0)
#define RD TRACE_MAKE_INFO(TRACE_ACC_R, 0, 0, 0)

static const struct trace_record replay_stream[] = {
    { .type = TRACE_EV_MISS, .vaddr = PG_A, .info = RD },                 /* miss 1 */
    { .type = TRACE_EV_FILL, .vaddr = PG_A, .info = L1D },
    { .type = TRACE_EV_FILL, .vaddr = PG_A, .info = STLB },
    { .type = TRACE_EV_LOOKUP_L1_HIT, .vaddr = PG_A + 8, .info = RD },    /* l1 hit 1 */
    { .type = TRACE_EV_MISS, .vaddr = PG_B, .info = RD },                 /* miss 2 */
    { .type = TRACE_EV_FILL, .vaddr = PG_B, .info = L1D },
    { .type = TRACE_EV_FILL, .vaddr = PG_B, .info = STLB },
    { .type = TRACE_EV_MISS, .vaddr = PG_C, .info = RD },                 /* miss 3 */
    { .type = TRACE_EV_FILL, .vaddr = PG_C, .info = L1D },                /* evicts A (LRU) */
    { .type = TRACE_EV_EVICT, .vaddr = PG_A, .info = L1D },
    { .type = TRACE_EV_FILL, .vaddr = PG_C, .info = STLB },               /* STLB set 1: A, C */
    { .type = TRACE_EV_LOOKUP_STLB_HIT, .vaddr = PG_A, .info = RD },      /* stlb hit 1 */
    { .type = TRACE_EV_FILL, .vaddr = PG_A, .info = L1D },                /* evicts B */
    { .type = TRACE_EV_EVICT, .vaddr = PG_B, .info = L1D },
    { .type = TRACE_EV_INV_INVLPG, .vaddr = PG_A },                       /* A gone from L1 and STLB */
    { .type = TRACE_EV_MISS, .vaddr = PG_A, .info = RD },                 /* miss 4 */
    { .type = TRACE_EV_LOOKUP_STLB_HIT, .vaddr = PG_B, .info = RD },      /* stlb hit 2: B still in STLB */
    /* A global page filled under PCID 1 survives a CR3 load and INVPCID 3 ... */
    { .type = TRACE_EV_FILL, .vaddr = PG_D, .info = L1D, .pcid_flags = TRACE_MAKE_PF(1, 1, 0, 1) },
    { .type = TRACE_EV_CTX_MARKER, .aux = 0x9000 | 2, .pcid_flags = 2 },
    { .type = TRACE_EV_INV_CR3, .aux = 0x9000 | 2, .pcid_flags = 2 },
    { .type = TRACE_EV_LOOKUP_L1_HIT, .vaddr = PG_D, .info = RD, .pcid_flags = 2 },  /* l1 hit 2 */
    { .type = TRACE_EV_INV_INVPCID3 },
    { .type = TRACE_EV_LOOKUP_L1_HIT, .vaddr = PG_D, .info = RD, .pcid_flags = 5 },  /* l1 hit 3 */
    /* ... but not INVPCID 2. */
    { .type = TRACE_EV_INV_INVPCID2 },
    { .type = TRACE_EV_MISS, .vaddr = PG_D, .info = RD, .pcid_flags = 2 },           /* miss 5 */
    /* A non-global page of PCID 2 under root 0x9000; a Space flush of another root keeps it,
     * a Space flush of root 0x9000 drops it. */
    { .type = TRACE_EV_FILL, .vaddr = PG_D, .info = STLB, .pcid_flags = 2 },
    { .type = TRACE_EV_HV_FLUSH_SPACE, .aux = 0x7000, .info = TRACE_HV_TARGET_ACTION | TRACE_HV_NON_GLOBAL_ONLY },
    { .type = TRACE_EV_LOOKUP_STLB_HIT, .vaddr = PG_D, .info = RD, .pcid_flags = 2 }, /* stlb hit 3 */
    { .type = TRACE_EV_HV_FLUSH_LIST, .vaddr = 0x0, .aux = 0x9000 | 2, .info = TRACE_HV_TARGET_ACTION },
    { .type = TRACE_EV_MISS, .vaddr = PG_D, .info = RD, .pcid_flags = 2 },           /* miss 6 */
};
#define N_REPLAY (sizeof replay_stream / sizeof replay_stream[0])

static struct trace_record replay_gen(unsigned i)
{
    struct trace_record r = replay_stream[i];
    r.cycle = 100 + i;
    return r;
}

/* The same stream on VP 1 with one lookup recorded wrongly. */
static struct trace_record replay_gen_bad(unsigned i)
{
    struct trace_record r = replay_gen(i);
    r.vp = 1;
    if (i == 3)
        r.type = TRACE_EV_MISS;     /* the model says L1 hit */
    return r;
}

static size_t replay_file(const char *path, struct replay_counts *c, uint16_t vp)
{
    char err[256];
    struct trace_reader *r = trace_reader_open(path, 0, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    struct replay *rp = replay_new(trace_reader_geometry(r), err, sizeof err);
    ck_assert_msg(rp != NULL, "%s", err);
    struct trace_record rec;
    while (trace_reader_next(r, &rec, err, sizeof err) == 1)
        replay_event(rp, &rec);
    size_t n;
    const struct trace_summary_entry *s = trace_reader_summary(r, &n);
    size_t bad = replay_compare(rp, s, n, NULL);
    *c = replay_vp_counts(rp, vp);
    replay_free(rp);
    trace_reader_close(r);
    return bad;
}

START_TEST(test_replay_counts)
{
    make_tmpdir();
    struct trace_header_info info = small_info(0);
    write_trace(tmp_path("r.trace"), &info, "hits=all", N_REPLAY, replay_gen);
    struct replay_counts c;
    ck_assert_uint_eq(replay_file(tmp_path("r.trace"), &c, 0), 0);
    ck_assert_uint_eq(c.l1_hits, 3);
    ck_assert_uint_eq(c.stlb_hits, 3);
    ck_assert_uint_eq(c.misses, 6);
    ck_assert_uint_eq(c.fills, 9);
    ck_assert_uint_eq(c.evictions, 2);
    ck_assert_uint_eq(c.lookup_mismatches, 0);
    ck_assert_uint_eq(c.victim_mismatches, 0);

    write_trace(tmp_path("bad.trace"), &info, "hits=all", N_REPLAY, replay_gen_bad);
    ck_assert_uint_gt(replay_file(tmp_path("bad.trace"), &c, 1), 0);
    ck_assert_uint_eq(c.lookup_mismatches, 1);
    ck_assert_uint_eq(c.l1_hits, 3);        /* the model's view, not the record's */

    /* Geometry the model cannot hold is refused. */
    struct trace_geometry_entry g[TRACE_STRUCT_COUNT] = { { 0 } };
    char err[128];
    ck_assert_ptr_null(replay_new(g, err, sizeof err));
    g[TRACE_ST_STLB] = (struct trace_geometry_entry){ 10, 4, 0, 1, 0 };
    ck_assert_ptr_null(replay_new(g, err, sizeof err));
    remove_tmpdir();
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip_filtered);
    tcase_add_test(tc, test_hits_counted_not_logged);
    tcase_add_test(tc, test_chunk_independence);
    tcase_add_test(tc, test_truncated_and_corrupt);
    tcase_add_test(tc, test_filter_parse_good);
    tcase_add_test(tc, test_filter_parse_bad);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_tmp_then_rename_and_exit_flush);
    tcase_add_test(tc, test_replay_counts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(trace_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
