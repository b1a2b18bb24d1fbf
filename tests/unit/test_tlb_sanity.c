/* The sanity checks of TLB-MODEL.md B-(c): 1 (reach curve of a pointer chase), 2 (the
 * associativity cliff), 5 (conservation after random streams, and byte-identical JSON
 * from two identical runs).  Check 3 lives in test_invalidate.c. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include "mmu/fastcache.h"
#include "mmu_test_pt.h"

#define BASE 0x0000010000000000ull      /* 1 TiB: PML4 slot 2 */
#define FRAME 0x00800000ull

struct rig {
    struct physmem *pm;
    struct mmu m;
    struct ptb b;
    uint64_t root;
};

static void rig_new(struct rig *r, const char *preset, enum tlb_model_mode mode)
{
    const char *err;
    r->pm = physmem_new(16 << 20, &err);
    ck_assert_ptr_nonnull(r->pm);
    ck_assert(mmu_init(&r->m, r->pm, 0, preset, mode, &err));
    ptb_init(&r->b, r->pm, PT_POOL);
    r->root = ptb_alloc(&r->b);
    mmu_enter_long_mode(&r->m, r->root, 0);
}

static void rig_free(struct rig *r)
{
    mmu_destroy(&r->m);
    physmem_free(r->pm);
}

/* deterministic xorshift, so runs repeat exactly */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

struct chase { double l1_miss, l2_hit_of_miss, walk, cost; };

/* Map npages 4K pages (or the same range with 2M pages) at BASE, all to one frame (the
 * TLB does not care), chase them in a random cyclic order; measure rounds 2..4. */
static struct chase pointer_chase(const char *preset, unsigned npages, bool large)
{
    struct rig r;
    rig_new(&r, preset, TLB_MODEL_EXACT);
    if (large) {
        for (uint64_t a = 0; a < (uint64_t)npages * 4096; a += 1ull << 21)
            ptb_map(&r.b, r.root, BASE + a, 0x200000, 2, P_W);
    } else {
        for (unsigned i = 0; i < npages; i++)
            ptb_map(&r.b, r.root, BASE + (uint64_t)i * 4096, FRAME, 1, P_W);
    }
    unsigned *perm = malloc(npages * sizeof *perm);
    for (unsigned i = 0; i < npages; i++)
        perm[i] = i;
    rng_state = 0x9e3779b97f4a7c15ull;
    for (unsigned i = npages - 1; i > 0; i--) {
        unsigned j = (unsigned)(rnd() % (i + 1));
        unsigned t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    struct mmu_counters *c = &r.m.tlb->stats.vp;
    struct mmu_counters before = { 0 };
    uint64_t cost = 0;
    for (int round = 0; round < 4; round++) {
        if (round == 1) {
            before = *c;
            cost = 0;
        }
        for (unsigned i = 0; i < npages; i++) {
            struct xlate x;
            ck_assert(mmu_translate(&r.m, BASE + (uint64_t)perm[i] * 4096 + 64 * (i & 63), ACC_READ, &x));
            cost += x.cost;
        }
    }
    double n = (double)(c->accesses[ACC_READ] - before.accesses[ACC_READ]);
    double miss = (double)(c->l1_misses[ACC_READ] - before.l1_misses[ACC_READ]);
    struct chase res = {
        .l1_miss = miss / n,
        .l2_hit_of_miss = miss ? (double)(c->l2_hits[ACC_READ] - before.l2_hits[ACC_READ]) / miss : 0,
        .walk = (double)(c->walks[ACC_READ] - before.walks[ACC_READ]) / n,
        .cost = (double)cost / n,
    };
    if (getenv("HVEMU_TEST_VERBOSE"))
        fprintf(stderr, "chase %-10s N=%-5u %s: L1 miss %.3f, STLB hit/miss %.3f, walks %.3f, cost %.2f\n",
                preset, npages, large ? "2M" : "4K", res.l1_miss, res.l2_hit_of_miss, res.walk, res.cost);
    free(perm);
    rig_free(&r);
    return res;
}

START_TEST(reach_curve_skylake)
{
    struct chase s;
    /* N <= 64: within L1 DTLB reach */
    s = pointer_chase("skylake", 32, false);
    ck_assert_msg(s.l1_miss == 0 && s.cost == 0, "N=32: miss %f cost %f", s.l1_miss, s.cost);
    s = pointer_chase("skylake", 64, false);
    ck_assert_msg(s.l1_miss == 0, "N=64: miss %f", s.l1_miss);
    /* 64 < N <= 1536: every access misses L1 and hits the STLB, +8 cycles */
    static const unsigned ns[] = { 128, 256, 512, 1024, 1536 };
    for (unsigned i = 0; i < 5; i++) {
        unsigned n = ns[i];
        s = pointer_chase("skylake", n, false);
        ck_assert_msg(s.l1_miss > 0.95 && s.l2_hit_of_miss > 0.99, "N=%u: L1 miss %f, STLB hit %f",
                      n, s.l1_miss, s.l2_hit_of_miss);
        ck_assert_msg(s.cost > 7.5 && s.cost < 8.5, "N=%u: cost %f", n, s.cost);
    }
    /* N >> 1536: STLB misses -> 1, cost = a walk with the PDE cache hitting (8+1+12) */
    s = pointer_chase("skylake", 8192, false);
    ck_assert_msg(s.walk > 0.95, "N=8192: walks %f", s.walk);
    ck_assert_msg(s.cost >= 20 && s.cost <= 30, "N=8192: cost %f", s.cost);
    /* the same buffer with 2M pages: the misses collapse */
    s = pointer_chase("skylake", 8192, true);
    ck_assert_msg(s.l1_miss == 0, "N=8192 on 2M pages: L1 miss %f", s.l1_miss);
}
END_TEST

START_TEST(reach_curve_zen2_and_goldencove)
{
    struct chase s = pointer_chase("zen2", 64, false);
    ck_assert_msg(s.l1_miss == 0, "zen2 N=64: %f", s.l1_miss);
    s = pointer_chase("zen2", 1024, false);
    ck_assert_msg(s.l1_miss > 0.95 && s.l2_hit_of_miss > 0.99, "zen2 N=1024: %f %f", s.l1_miss, s.l2_hit_of_miss);
    s = pointer_chase("zen2", 8192, false);
    ck_assert_msg(s.walk > 0.95, "zen2 N=8192: %f", s.walk);
    s = pointer_chase("goldencove", 96, false);
    ck_assert_msg(s.l1_miss == 0, "goldencove N=96: %f", s.l1_miss);
    s = pointer_chase("goldencove", 2048, false);
    ck_assert_msg(s.l2_hit_of_miss > 0.99, "goldencove N=2048: %f", s.l2_hit_of_miss);
}
END_TEST

/* B-(c) 2: W+1 pages in one L1 DTLB-4K set miss every time with LRU, W pages never. */
static double cliff(const char *preset, unsigned npages, uint64_t stride)
{
    struct rig r;
    rig_new(&r, preset, TLB_MODEL_EXACT);
    for (unsigned i = 0; i < npages; i++)
        ptb_map(&r.b, r.root, BASE + i * stride, FRAME, 1, P_W);
    struct mmu_counters *c = &r.m.tlb->stats.vp;
    uint64_t a0 = 0, m0 = 0;
    for (int round = 0; round < 50; round++) {
        if (round == 1) {
            a0 = c->accesses[ACC_READ];
            m0 = c->l1_misses[ACC_READ];
        }
        for (unsigned i = 0; i < npages; i++) {
            struct xlate x;
            ck_assert(mmu_translate(&r.m, BASE + i * stride, ACC_READ, &x));
        }
    }
    double rate = (double)(c->l1_misses[ACC_READ] - m0) / (double)(c->accesses[ACC_READ] - a0);
    rig_free(&r);
    return rate;
}

START_TEST(associativity_cliff)
{
    const uint64_t skl_stride = 16 * 4096;          /* 16 sets x 4 KiB */
    ck_assert(cliff("skylake", 4, skl_stride) == 0.0);
    ck_assert(cliff("skylake", 5, skl_stride) == 1.0);
    /* zen2's fully associative L1: no cliff until more than 64 pages */
    ck_assert(cliff("zen2", 5, skl_stride) == 0.0);
    ck_assert(cliff("zen2", 64, skl_stride) == 0.0);
    ck_assert(cliff("zen2", 65, skl_stride) == 1.0);
    /* goldencove: 16 sets x 6 ways */
    ck_assert(cliff("goldencove", 6, skl_stride) == 0.0);
    ck_assert(cliff("goldencove", 7, skl_stride) > 0.0);
}
END_TEST

/* --- B-(c) 5: random streams ------------------------------------------------------------- */

#define NPAGES 96

/* The cpu/mem.h inline path, so fast hits and folding are exercised as in a real run. */
static bool cpu_like_access(struct mmu *m, uint64_t la, enum mmu_access acc)
{
    const struct fast_entry *e = &m->fast_cur->e[acc][(la >> 12) & (FAST_ENTRIES - 1)];
    if (e->tag == (la & ~0xfffull)) {
#ifdef HVEMU_CHECK_INVARIANT
        mmu_check_fast_entry(m, la, acc);
#endif
        m->fast_hits[acc]++;
        return true;
    }
    struct xlate x;
    return mmu_translate(m, la, acc, &x);
}

static char *random_run(const char *preset, enum tlb_model_mode mode, enum mmu_flush_policy pol,
                        unsigned ops, size_t *len)
{
    struct rig r;
    rig_new(&r, preset, mode);
    mmu_set_flush_policy(&r.m, pol);
    uint64_t roots[2] = { r.root, ptb_alloc(&r.b) };
    uint64_t la[NPAGES];
    for (int s = 0; s < 2; s++) {
        for (unsigned i = 0; i < NPAGES; i++) {
            la[i] = BASE + (uint64_t)(i % 32) * 4096 * 17 + (uint64_t)(i / 32) * (1ull << 30);
            uint64_t fl = P_W | P_U | ((i % 7) == 0 ? P_G : 0) | ((i % 11) == 0 ? P_XD : 0);
            ptb_map(&r.b, roots[s], la[i], FRAME + (i % 8) * 4096, 1, fl);
        }
        ptb_map(&r.b, roots[s], BASE + (10ull << 30), 0x200000, 2, P_W | P_U);           /* 2M */
        ptb_map(&r.b, roots[s], BASE + (20ull << 30), 0x40000000, 3, P_W | P_U);         /* 1G */
    }
    mmu_set_cr4(&r.m, T_CR4_PAE | T_CR4_PGE | T_CR4_PCIDE);
    mmu_set_cr3(&r.m, roots[0] | 1);
    rng_state = 12345;
    char why[256];
    for (unsigned op = 0; op < ops; op++) {
        uint64_t x = rnd();
        unsigned k = (unsigned)(x % 1000);
        uint64_t a;
        switch ((x >> 8) % 4) {
        case 0:  a = BASE + (10ull << 30) + ((x >> 16) % (1u << 21)); break;
        case 1:  a = BASE + (20ull << 30) + ((x >> 16) % (1u << 30)); break;
        default: a = la[(x >> 16) % NPAGES] + ((x >> 40) & 0xff8); break;
        }
        if (k < 960) {
            cpu_like_access(&r.m, a, (enum mmu_access)((x >> 32) % 3));
        } else if (k < 970) {
            mmu_set_cpl_ac(&r.m, ((x >> 24) & 1) ? 3 : 0, (x >> 25) & 1);
        } else if (k < 974) {
            mmu_invlpg(&r.m, a);
        } else if (k < 977) {
            mmu_invpcid(&r.m, (unsigned)((x >> 24) % 4), (uint16_t)(1 + (x >> 28) % 3), a & ~0xfffull);
        } else if (k < 983) {
            unsigned pcid = 1 + (unsigned)((x >> 24) % 3);
            mmu_set_cr3(&r.m, roots[pcid & 1] | pcid | (((x >> 30) & 1) ? 1ull << 63 : 0));
        } else if (k < 985) {
            uint64_t cr4 = T_CR4_PAE | T_CR4_PCIDE | (((x >> 24) & 1) ? T_CR4_PGE : 0) |
                           (((x >> 25) & 1) ? T_CR4_SMAP : 0);
            mmu_set_cr4(&r.m, cr4);
        } else if (k < 987) {
            mmu_flush_address_space(&r.m, roots[(x >> 24) & 1], ((x >> 25) & 3) << 1);
        } else if (k < 990) {
            mmu_flush_gva(&r.m, roots[(x >> 24) & 1], a, ((x >> 25) & 1) << 1);
        } else if (k < 993) {
            mmu_note_page_fault(&r.m, a);
        } else {
            /* edit a PTE without invalidating: stale entries and spurious faults */
            unsigned i = (unsigned)((x >> 24) % NPAGES);
            uint64_t pte = pt_get(&r.b, roots[(x >> 40) & 1], la[i], 1);
            pt_set(&r.b, roots[(x >> 40) & 1], la[i], 1, pte ^ (((x >> 30) & 1) ? P_W : P_U));
        }
        if (op % 997 == 0)
            ck_assert_msg(mmu_stats_check_conservation(&r.m, why, sizeof why), "op %u: %s", op, why);
    }
    ck_assert_msg(mmu_stats_check_conservation(&r.m, why, sizeof why), "end: %s", why);
    ck_assert_uint_eq(r.m.tlb->stats.under_flushes, 0);
    /* the stream really exercised what it is meant to */
    struct mmu_counters *c = &r.m.tlb->stats.vp;
    if (getenv("HVEMU_TEST_VERBOSE"))
        mmu_stats_write_json(&r.m, stderr, 0);
    if (ops >= 10000) {
        ck_assert_uint_gt(c->stale_faults[ACC_WRITE] + c->stale_faults[ACC_READ], 0);
        ck_assert_uint_gt(c->dirty_rewalks, 0);
        if (pol == FLUSH_EXACT)     /* conservative flushes too often to fill a set */
            ck_assert_msg(c->evictions > 0, "%s mode %d: no evictions", preset, mode);
        ck_assert_uint_gt(c->walks_completed[ACC_READ][PG_2M], 0);
        ck_assert_uint_gt(c->walks_completed[ACC_FETCH][PG_1G], 0);
        if (mode == TLB_MODEL_FAST)
            ck_assert_uint_gt(r.m.fast_aux->fills, 0);
        else
            ck_assert_uint_eq(r.m.fast_aux->fills, 0);
    }
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    mmu_stats_write_json(&r.m, f, 2);
    fclose(f);
    rig_free(&r);
    return buf;
}

START_TEST(conservation_and_determinism)
{
    static const char *const presets[] = { "skylake", "goldencove", "zen2" };
    for (int p = 0; p < 3; p++) {
        for (int mode = 0; mode < 2; mode++) {
            for (int pol = 0; pol < 2; pol++) {
                size_t n1, n2;
                char *j1 = random_run(presets[p], mode, pol, 40000, &n1);
                char *j2 = random_run(presets[p], mode, pol, 40000, &n2);
                ck_assert_msg(n1 == n2 && memcmp(j1, j2, n1) == 0, "%s mode %d: JSON differs", presets[p], mode);
                ck_assert_ptr_nonnull(strstr(j1, "\"under_flushes\": 0"));
                ck_assert_ptr_nonnull(strstr(j1, "\"dtlb_load_misses\""));
                if (pol == FLUSH_EXACT)
                    ck_assert_ptr_nonnull(strstr(j1, "\"over_flush_ops\": 0"));
                free(j1);
                free(j2);
            }
        }
    }
}
END_TEST

START_TEST(json_shape)
{
    size_t n;
    char *j = random_run("skylake", TLB_MODEL_FAST, FLUSH_EXACT, 3000, &n);
    /* balanced braces, integers only (no strings, no floats), ends with '}' */
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        depth += j[i] == '{';
        depth -= j[i] == '}';
        ck_assert_int_ge(depth, 0);
        ck_assert_msg(j[i] != '.', "no floats in the stats JSON");
        if (j[i] == ':')
            ck_assert_msg(j[i + 2] == '{' || (j[i + 2] >= '0' && j[i + 2] <= '9'), "non-integer value at %zu", i);
    }
    ck_assert_int_eq(depth, 0);
    ck_assert_int_eq(j[n - 1], '}');
    ck_assert_ptr_nonnull(strstr(j, "\"model_exact\": 0"));
    ck_assert_ptr_nonnull(strstr(j, "\"l2_latency\": 8"));
    ck_assert_ptr_nonnull(strstr(j, "\"walk_completed_2m_4m\""));
    ck_assert_ptr_nonnull(strstr(j, "\"pcids\""));
    ck_assert_ptr_nonnull(strstr(j, "\"1\": {"));
    free(j);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tlb_sanity");
    TCase *t = tcase_create("sanity");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, reach_curve_skylake);
    tcase_add_test(t, reach_curve_zen2_and_goldencove);
    tcase_add_test(t, associativity_cliff);
    tcase_add_test(t, conservation_and_determinism);
    tcase_add_test(t, json_shape);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
