/* The event trace written by a live mmu (mmu/trace_hooks.c): the records of each kind
 * of lookup, invalidation and context change, read back with trace_reader; the
 * summary's live counts against the mmu's own counters; offline replay
 * (trace/replay.c) of a long random stream reproducing the live hit/miss/fill/evict
 * counts and every recorded outcome, for an LRU preset (skylake) and a tree-PLRU
 * preset (goldencove); the refill-miss ("collateral damage") and per-CR3 counters.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mmu_test_pt.h"
#include "mmu/trace_hooks.h"
#include "trace/replay.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

#define A 0x40000000ull
#define B 0x40001000ull
#define L 0x60000000ull          /* 2M */
#define G 0x50000000ull          /* global 4K */

static struct physmem *pm;
static struct mmu m;
static struct ptb b;
static uint64_t root1, root2;
static uint64_t cyc, icnt;
static char path[256];

static void open_machine(const char *preset, const char *filter_spec)
{
    const char *err;
    pm = physmem_new(64 << 20, &err);
    ck_assert_ptr_nonnull(pm);
    ck_assert(mmu_init(&m, pm, 0, preset, TLB_MODEL_EXACT, &err));
    cyc = 1000;
    icnt = 0;
    m.cycles = &cyc;
    m.icount = &icnt;
    ptb_init(&b, pm, PT_POOL);
    root1 = ptb_alloc(&b);
    root2 = ptb_alloc(&b);

    struct trace_header_info info = { .vp_count = 1, .core_khz = 3000000, .exact_model = true,
                                      .inv_counts = true };
    ck_assert(mmu_trace_geometry(preset, info.geom, &info.preset_id));
    struct trace_filter f;
    char why[256];
    ck_assert_msg(trace_filter_parse(&f, filter_spec, why, sizeof why), "%s", why);
    snprintf(path, sizeof path, "/tmp/test_trace_live.%d.trace", (int)getpid());
    struct trace_writer *w = trace_open(path, &info, &f, why, sizeof why);
    ck_assert_msg(w != NULL, "%s", why);
    mmu_set_trace(&m, w);
}

static void close_trace(void)
{
    struct trace_writer *w = m.trace;
    mmu_set_trace(&m, NULL);
    ck_assert(trace_close(w));
}

static void close_machine(void)
{
    if (m.trace)
        close_trace();
    mmu_destroy(&m);
    physmem_free(pm);
    unlink(path);
}

static bool xl(uint64_t la, enum mmu_access acc)
{
    struct xlate x;
    return mmu_translate(&m, la, acc, &x);
}

/* All records of the trace at path. */
static struct trace_record *read_all(size_t *n, struct trace_reader **rdp)
{
    char err[256];
    struct trace_reader *rd = trace_reader_open(path, 0, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s", err);
    size_t cap = 1024;
    struct trace_record *v = malloc(cap * sizeof *v);
    *n = 0;
    struct trace_record r;
    int rc;
    while ((rc = trace_reader_next(rd, &r, err, sizeof err)) == 1) {
        if (*n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = r;
    }
    ck_assert_int_eq(rc, 0);
    *rdp = rd;
    return v;
}

static uint64_t summary_seen(struct trace_reader *rd, unsigned type)
{
    size_t n;
    const struct trace_summary_entry *s = trace_reader_summary(rd, &n);
    for (size_t i = 0; i < n; i++)
        if (s[i].vp == 0 && s[i].type == type)
            return s[i].seen;
    return 0;
}

/* Index of the first record of type t at or after *i (fails if none). */
static const struct trace_record *next_of(const struct trace_record *v, size_t n, size_t *i, unsigned t)
{
    while (*i < n && v[*i].type != t)
        (*i)++;
    ck_assert_msg(*i < n, "no %s record", trace_event_name(t));
    return &v[(*i)++];
}

/* ---- the records of each event -------------------------------------------------- */

START_TEST(test_record_sequence)
{
    open_machine("skylake", "hits=all");
    ptb_map(&b, root1, A, 0x800000, 1, P_W | P_D);
    ptb_map(&b, root1, L, 0x400000, 2, P_W | P_D);
    ptb_map(&b, root1, G, 0x804000, 1, P_W | P_D | P_G);
    mmu_enter_long_mode(&m, root1, 0);

    cyc = 5000;
    ck_assert(xl(A + 0x10, ACC_READ));          /* miss, 4-level walk, fills STLB + L1D */
    cyc = 5100;
    ck_assert(xl(A + 0x20, ACC_READ));          /* L1 hit */
    ck_assert(xl(A, ACC_FETCH));                /* ITLB miss, STLB hit, fills L1I */
    cyc = 5200;
    mmu_invlpg(&m, A);                          /* removes the STLB, L1D and L1I entries */
    ck_assert(xl(L + 0x1234, ACC_WRITE));       /* a 2M page */
    ck_assert(xl(G, ACC_READ));
    cyc = 5300;
    mmu_set_cr3(&m, root1);                     /* non-global entries go, G stays */
    close_trace();

    size_t n, i = 0;
    struct trace_reader *rd;
    struct trace_record *v = read_all(&n, &rd);

    const struct trace_record *r = next_of(v, n, &i, TRACE_EV_MISS);
    ck_assert_uint_eq(r->cycle, 5000);
    ck_assert_uint_eq(r->vaddr, A + 0x10);
    ck_assert_uint_eq(TRACE_INFO_ACCESS(r->info), TRACE_ACC_R);
    ck_assert(r->pcid_flags & TRACE_PF_GUEST);
    r = next_of(v, n, &i, TRACE_EV_WALK_START);
    ck_assert_uint_eq(r->vaddr, A + 0x10);
    /* Four steps, top down, each the address of the entry the walker read. */
    for (int lvl = 4; lvl >= 1; lvl--) {
        ck_assert_uint_eq(v[i].type, TRACE_EV_WALK_STEP);
        ck_assert_uint_eq(TRACE_INFO_LEVEL(v[i].info), (unsigned)(lvl - 1));
        ck_assert_uint_eq(v[i].aux, ptb_entry(&b, root1, A, lvl));
        i++;
    }
    r = next_of(v, n, &i, TRACE_EV_WALK_DONE);
    ck_assert_uint_eq(r->aux, 0x800010);
    ck_assert_uint_eq(TRACE_INFO_LEVEL(r->info), 0);            /* ok */
    ck_assert_uint_eq(r->latency, 8 + 1 + 4 * 12);               /* skylake cold walk (tlb_presets.c) */
    r = next_of(v, n, &i, TRACE_EV_FILL);
    ck_assert_uint_eq(TRACE_INFO_STRUCT(r->info), TRACE_ST_STLB);
    ck_assert_uint_eq(r->vaddr, A);
    ck_assert_uint_eq(r->aux, 0x800000);
    ck_assert_uint_eq(v[i].type, TRACE_EV_FILL);
    ck_assert_uint_eq(TRACE_INFO_STRUCT(v[i].info), TRACE_ST_L1D_4K);
    r = next_of(v, n, &i, TRACE_EV_LOOKUP_L1_HIT);
    ck_assert_uint_eq(r->cycle, 5100);
    ck_assert_uint_eq(r->aux, 0x800020);
    ck_assert_uint_eq(TRACE_INFO_STRUCT(r->info), TRACE_ST_L1D_4K);
    r = next_of(v, n, &i, TRACE_EV_LOOKUP_STLB_HIT);
    ck_assert_uint_eq(TRACE_INFO_ACCESS(r->info), TRACE_ACC_X);
    ck_assert_uint_eq(r->latency, 8);
    ck_assert_uint_eq(v[i].type, TRACE_EV_FILL);
    ck_assert_uint_eq(TRACE_INFO_STRUCT(v[i].info), TRACE_ST_L1I_4K);
    r = next_of(v, n, &i, TRACE_EV_INV_INVLPG);
    ck_assert_uint_eq(r->cycle, 5200);
    ck_assert_uint_eq(r->vaddr, A);
    ck_assert_uint_eq(r->latency, 3);                           /* STLB + L1D + L1I */
    r = next_of(v, n, &i, TRACE_EV_FILL);                       /* the 2M page in the STLB */
    ck_assert_uint_eq(TRACE_PF_SIZE(r->pcid_flags), TRACE_PS_2M);
    ck_assert_uint_eq(r->vaddr, L);
    r = next_of(v, n, &i, TRACE_EV_FILL);
    ck_assert_uint_eq(TRACE_INFO_STRUCT(r->info), TRACE_ST_L1D_2M);
    r = next_of(v, n, &i, TRACE_EV_FILL);
    ck_assert(r->pcid_flags & TRACE_PF_GLOBAL);
    r = next_of(v, n, &i, TRACE_EV_INV_CR3);
    ck_assert_uint_eq(r->cycle, 5300);
    ck_assert_uint_eq(r->aux, root1);
    ck_assert_uint_eq(r->latency, 2);               /* L (STLB + L1D_2M); G is global, A gone already */
    r = next_of(v, n, &i, TRACE_EV_CTX_MARKER);
    ck_assert_uint_eq(r->aux, root1);

    /* Summary = the mmu's own counters. */
    struct mmu_counters *c = &m.tlb->stats.vp;
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_LOOKUP_L1_HIT), c->l1_hits[0] + c->l1_hits[1] + c->l1_hits[2]);
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_LOOKUP_STLB_HIT), c->l2_hits[0] + c->l2_hits[1] + c->l2_hits[2]);
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_MISS), c->walks[0] + c->walks[1] + c->walks[2]);
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_FILL), c->fills);
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_LOOKUP_L1_HIT), 1);
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_MISS), 3);
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_INV_INVLPG), 1);
    free(v);
    trace_reader_close(rd);
    close_machine();
}
END_TEST

/* L1 hits are counted, not logged, by default; the fast-cache hits folded by
 * mmu_stats_fold reach the count too. */
START_TEST(test_hits_counted_not_logged)
{
    open_machine("skylake", NULL);
    ptb_map(&b, root1, A, 0x800000, 1, P_W | P_D);
    mmu_enter_long_mode(&m, root1, 0);
    ck_assert(xl(A, ACC_READ));
    ck_assert(xl(A, ACC_READ));
    ck_assert(xl(A, ACC_READ));
    m.fast_hits[ACC_READ] += 5;                 /* as cpu/mem.h counts fast hits */
    close_trace();

    size_t n;
    struct trace_reader *rd;
    struct trace_record *v = read_all(&n, &rd);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_ne(v[i].type, TRACE_EV_LOOKUP_L1_HIT);
    ck_assert_uint_eq(summary_seen(rd, TRACE_EV_LOOKUP_L1_HIT), 2 + 5);
    ck_assert_uint_eq(m.tlb->stats.vp.l1_hits[ACC_READ], 2 + 5);
    free(v);
    trace_reader_close(rd);
    close_machine();
}
END_TEST

/* ---- replay of a long random stream ---------------------------------------------- */

#define NPAGES 2500
#define N2M 24
#define BIG 0x8000000000ull     /* a 1G page */

static uint64_t lcg_state;
static uint32_t rnd(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg_state >> 33);
}

static uint64_t page_la(uint32_t i) { return A + (uint64_t)i * 4096; }

static void map_space(uint64_t root)
{
    for (uint32_t i = 0; i < NPAGES; i++) {
        uint64_t fl = (i % 13 == 0) ? 0 : P_W;              /* some read-only pages */
        if (i % 7 == 0)
            fl |= P_G;
        ptb_map(&b, root, page_la(i), 0x1000000 + (uint64_t)i * 4096, 1, fl);   /* D=0: refresh on write */
    }
    for (uint32_t i = 0; i < N2M; i++)
        ptb_map(&b, root, L + ((uint64_t)i << 21), 0x2000000 + ((uint64_t)i << 21), 2, P_W | P_D);
    ptb_map(&b, root, BIG, 0x40000000, 3, P_W | P_D);
}

static uint64_t random_la(void)
{
    uint32_t r = rnd() % 100;
    if (r < 60)
        return page_la(rnd() % 40) + (rnd() & 0xff8);          /* hot */
    if (r < 85)
        return page_la(rnd() % NPAGES) + (rnd() & 0xff8);
    if (r < 97)
        return L + ((uint64_t)(rnd() % N2M) << 21) + (rnd() & 0x1ffff8);
    return BIG + ((uint64_t)(rnd() % 4096) << 18);
}

static void run_random_stream(unsigned steps)
{
    map_space(root1);
    map_space(root2);
    mmu_enter_long_mode(&m, root1 | 1, T_CR4_PCIDE);
    bool on2 = false;
    for (unsigned k = 0; k < steps; k++) {
        cyc += 3;
        icnt += 1;
        uint32_t r = rnd() % 1000;
        if (r < 900) {
            enum mmu_access acc = (enum mmu_access)(rnd() % 3);
            xl(random_la(), acc);
        } else if (r < 920) {
            mmu_invlpg(&m, random_la());
        } else if (r < 940) {
            on2 = !on2;
            /* root2 runs under PCID 2, or reuses PCID 1: then Space flushes of root1
             * must still find PCID 1's entries through the PCID's current root. */
            uint64_t v = on2 ? root2 | (rnd() % 4 == 0 ? 1 : 2) : root1 | 1;
            if (rnd() & 1)
                v |= 1ull << 63;                                /* no flush */
            mmu_set_cr3(&m, v);
        } else if (r < 950) {
            ck_assert(mmu_invpcid(&m, rnd() % 4, (uint16_t)(1 + rnd() % 2), random_la() & ((1ull << 47) - 1)));
        } else if (r < 958) {
            static const uint64_t fl[] = { 0, MMU_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY,
                                           MMU_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES };
            ck_assert(mmu_flush_address_space(&m, (rnd() & 1) ? root1 : root2, fl[rnd() % 3]));
        } else if (r < 966) {
            ck_assert(mmu_flush_gva_range(&m, (rnd() & 1) ? root1 : root2, random_la(), 1 + rnd() % 20,
                                          (rnd() % 4 == 0) ? MMU_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES : 0));
        } else if (r < 985) {
            /* The guest clears a D bit: the next write through a cached D=1 entry is
             * fine, through a D=0 entry re-walks (INV_REFRESH). */
            uint64_t la = page_la(rnd() % 40);                 /* the hot pages */
            uint64_t root = on2 ? root2 : root1;
            pt_set(&b, root, la, 1, pt_get(&b, root, la, 1) & ~P_D);
        } else if (r < 988) {
            uint64_t cr4 = T_CR4_PAE | T_CR4_PCIDE;
            mmu_set_cr4(&m, cr4);                               /* PGE off: flush everything */
            mmu_set_cr4(&m, cr4 | T_CR4_PGE);
        } else if (r < 990) {
            mmu_note_page_fault(&m, random_la());
        } else {
            mmu_set_cpl_ac(&m, (rnd() & 1) ? 3 : 0, false);
        }
    }
}

static void check_replay(const char *preset)
{
    open_machine(preset, "hits=all");
    lcg_state = 12345;
    run_random_stream(200000);
    close_trace();

    char err[256];
    struct trace_reader *rd = trace_reader_open(path, 0, err, sizeof err);
    ck_assert_msg(rd != NULL, "%s", err);
    struct replay *rp = replay_new(trace_reader_geometry(rd), err, sizeof err);
    ck_assert_msg(rp != NULL, "%s", err);
    replay_set_header_flags(rp, trace_reader_header(rd)->flags);
    ck_assert(trace_reader_header(rd)->flags & TRACE_HF_INV_COUNTS);
    struct trace_record rec;
    while (trace_reader_next(rd, &rec, err, sizeof err) == 1)
        replay_event(rp, &rec);
    size_t ns;
    const struct trace_summary_entry *s = trace_reader_summary(rd, &ns);
    ck_assert_uint_eq(replay_compare(rp, s, ns, stderr), 0);

    /* The model's counts are the live TLB's own counters (not only the summary). */
    struct replay_counts c = replay_vp_counts(rp, 0);
    struct mmu_counters *lc = &m.tlb->stats.vp;
    ck_assert_uint_eq(c.l1_hits, lc->l1_hits[0] + lc->l1_hits[1] + lc->l1_hits[2]);
    ck_assert_uint_eq(c.stlb_hits, lc->l2_hits[0] + lc->l2_hits[1] + lc->l2_hits[2]);
    ck_assert_uint_eq(c.misses, lc->walks[0] + lc->walks[1] + lc->walks[2]);
    ck_assert_uint_eq(c.fills, lc->fills);
    ck_assert_uint_eq(c.evictions, lc->evictions);
    /* The stream must exercise what it claims to. */
    ck_assert_uint_gt(c.evictions, 200);
    ck_assert_uint_gt(c.stlb_hits, 1000);
    ck_assert_uint_gt(lc->dirty_rewalks, 100);
    ck_assert_uint_gt(lc->inv_entries[INV_HV_GVA], 0);
    ck_assert_uint_gt(lc->inv_entries[INV_HV_SPACE], 0);
    ck_assert_uint_gt(lc->stale_faults[ACC_WRITE] + lc->walks_faulted[ACC_WRITE], 0);

    /* A corrupted copy (one L1 hit recorded as a miss) must be caught. */
    replay_free(rp);
    rp = replay_new(trace_reader_geometry(rd), err, sizeof err);
    replay_set_header_flags(rp, trace_reader_header(rd)->flags);
    trace_reader_rewind(rd);
    bool flipped = false;
    while (trace_reader_next(rd, &rec, err, sizeof err) == 1) {
        if (!flipped && rec.type == TRACE_EV_LOOKUP_L1_HIT && rec.cycle > cyc / 2) {
            rec.type = TRACE_EV_MISS;
            flipped = true;
        }
        replay_event(rp, &rec);
    }
    ck_assert(flipped);
    ck_assert_uint_gt(replay_compare(rp, s, ns, NULL), 0);
    replay_free(rp);
    trace_reader_close(rd);
    close_machine();
}

START_TEST(test_replay_skylake_lru) { check_replay("skylake"); }
END_TEST

START_TEST(test_replay_goldencove_plru) { check_replay("goldencove"); }
END_TEST

/* ---- refill misses and per-CR3 counters ------------------------------------------- */

START_TEST(test_refill_misses)
{
    open_machine("skylake", NULL);
    ptb_map(&b, root1, A, 0x800000, 1, P_W | P_D);
    ptb_map(&b, root1, B, 0x801000, 1, P_W | P_D);
    mmu_enter_long_mode(&m, root1, 0);
    struct mmu_counters *c = &m.tlb->stats.vp;
    ck_assert(xl(A, ACC_READ));
    ck_assert(xl(B, ACC_READ));
    icnt = 1000;
    mmu_invlpg(&m, A);
    icnt = 1000 + REFILL_WINDOW_INSNS;          /* at the edge of the window: counts */
    ck_assert(xl(A, ACC_READ));
    ck_assert(xl(B, ACC_READ));                 /* not invalidated: an L1 hit */
    ck_assert_uint_eq(c->refill_misses[INV_INVLPG], 1);
    ck_assert_uint_eq(c->refill_walks, 1);
    ck_assert(xl(A + 8, ACC_FETCH));            /* ITLB miss but the removal was counted once */
    ck_assert_uint_eq(c->refill_misses[INV_INVLPG], 1);

    mmu_invlpg(&m, A);
    icnt += REFILL_WINDOW_INSNS + 1;            /* outside the window */
    ck_assert(xl(A, ACC_READ));
    ck_assert_uint_eq(c->refill_misses[INV_INVLPG], 1);

    mmu_flush_address_space(&m, root1, 0);      /* a Hyper-V flush: its own cause */
    ck_assert(xl(B, ACC_WRITE));
    ck_assert_uint_eq(c->refill_misses[INV_HV_SPACE], 1);

    /* Capacity evictions are not collateral damage: 100 pages through a 64-entry DTLB. */
    for (uint32_t i = 0; i < 100; i++)
        ptb_map(&b, root1, 0x70000000ull + i * 4096ull, 0x900000 + i * 4096ull, 1, P_W | P_D);
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < 100; i++)
            ck_assert(xl(0x70000000ull + i * 4096ull, ACC_READ));
    uint64_t total = 0;
    for (int k = 0; k < INV_CAUSES; k++)
        total += c->refill_misses[k];
    ck_assert_uint_eq(total, 2);
    close_machine();
}
END_TEST

START_TEST(test_cr3_stats)
{
    open_machine("skylake", NULL);
    ptb_map(&b, root1, A, 0x800000, 1, P_W | P_D);
    ptb_map(&b, root2, A, 0x801000, 1, P_W | P_D);
    icnt = 100;
    mmu_enter_long_mode(&m, root1, 0);
    ck_assert(xl(A, ACC_READ));                 /* a walk under root1 */
    icnt = 400;
    mmu_set_cr3(&m, root2);
    ck_assert(xl(A, ACC_READ));                 /* a walk under root2 */
    ck_assert(xl(A, ACC_WRITE));                /* an L1 hit */
    icnt = 1400;
    mmu_set_cr3(&m, root1);
    icnt = 1500;

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mmu_stats_write_json_insns(&m, f, 0, icnt);
    fclose(f);
    /* root1: 100..400 and 1400..1500 = 400 instructions, 1 walk -> 2.5 MPKI;
     * root2: 400..1400 = 1000 instructions, 1 walk -> 1 MPKI. */
    char key[64];
    snprintf(key, sizeof key, "\"0x%llx\": {", (unsigned long long)root1);
    char *r1 = strstr(buf, key);
    ck_assert_msg(r1 != NULL, "%s", buf);
    ck_assert_ptr_nonnull(strstr(r1, "\"instructions\": 400,"));
    ck_assert_ptr_nonnull(strstr(r1, "\"stlb\": 2500"));
    snprintf(key, sizeof key, "\"0x%llx\": {", (unsigned long long)root2);
    char *r2 = strstr(buf, key);
    ck_assert_ptr_nonnull(r2);
    ck_assert_ptr_nonnull(strstr(r2, "\"instructions\": 1000,"));
    ck_assert_ptr_nonnull(strstr(r2, "\"stlb\": 1000"));
    /* VP totals: 2 walks in 1500 instructions = 1.333 MPKI. */
    ck_assert_ptr_nonnull(strstr(buf, "\"stlb\": 1333"));
    ck_assert_ptr_null(strchr(buf, '.'));       /* integers only */
    free(buf);
    close_machine();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trace_live");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_record_sequence);
    tcase_add_test(tc, test_hits_counted_not_logged);
    tcase_add_test(tc, test_replay_skylake_lru);
    tcase_add_test(tc, test_replay_goldencove_plru);
    tcase_add_test(tc, test_refill_misses);
    tcase_add_test(tc, test_cr3_stats);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
