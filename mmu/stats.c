/* TLB statistics: per-PCID blocks, the walk-latency histogram, the JSON writer used by
 * --stats, and the conservation check of TLB-MODEL.md B-(c) 5.
 */
#include "mmu/stats.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include "mmu/mmu.h"
#include "mmu/fastcache.h"
#include "mmu/tlb.h"

const char *const inv_cause_name[INV_CAUSES] = {
    "invlpg", "invpcid_0", "invpcid_1", "invpcid_2", "invpcid_3",
    "mov_cr3", "mov_cr3_noflush", "cr4_pge_pcide", "cr4_pae_smep", "cr0_pg",
    "page_fault", "hv_flush_space", "hv_flush_gva", "dirty_refresh",
};

struct mmu_counters *stats_pcid(struct mmu_stats *s, uint16_t pcid)
{
    pcid &= 0xfff;
    if (!s->pcid[pcid]) {
        s->pcid[pcid] = calloc(1, sizeof(struct mmu_counters));
        if (!s->pcid[pcid]) {
            fprintf(stderr, "hvemu: out of memory for TLB statistics\n");
            abort();
        }
    }
    return s->pcid[pcid];
}

void stats_free(struct mmu_stats *s)
{
    for (int i = 0; i < 4096; i++) {
        free(s->pcid[i]);
        s->pcid[i] = NULL;
    }
}

void stats_walk_hist(struct mmu_stats *s, uint32_t cycles)
{
    unsigned b = 0;
    for (uint32_t lim = 16; b < WALK_HIST_BUCKETS - 1 && cycles >= lim; lim <<= 1)
        b++;
    s->walk_hist[b]++;
}

/* --- per-CR3 blocks and refill misses --------------------------------------------------- */

static struct cr3_counters *stats_cr3(struct mmu_stats *s, uint64_t root)
{
    for (unsigned i = 0; i < s->n_cr3; i++)
        if (s->cr3[i].root == root)
            return &s->cr3[i];
    if (s->n_cr3 < CR3_STATS_MAX) {
        s->cr3[s->n_cr3].root = root;
        return &s->cr3[s->n_cr3++];
    }
    return &s->cr3[CR3_STATS_MAX];
}

void stats_cr3_switch(struct mmu_stats *s, uint64_t root, uint64_t icount)
{
    if (s->cur_cr3)
        s->cur_cr3->instructions += icount - s->cr3_since;
    s->cr3_since = icount;
    s->cur_cr3 = stats_cr3(s, root);
}

static unsigned refill_index(uint64_t vbase, unsigned size)
{
    /* Fibonacci hashing of the page number: neighbouring pages land far apart. */
    uint64_t h = ((vbase >> pg_shift[size]) ^ ((uint64_t)size << 40)) * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> 54) % REFILL_SLOTS;
}

void stats_refill_note(struct mmu_stats *s, uint64_t vbase, unsigned size, uint16_t pcid, bool global,
                       unsigned cause, uint64_t icount)
{
    struct refill_slot *r = &s->refill[refill_index(vbase, size)];
    *r = (struct refill_slot){ .page = vbase | 1, .icount = icount, .pcid = pcid, .size = (uint8_t)size,
                               .cause = (uint8_t)cause, .global = global };
}

int stats_refill_miss(struct mmu_stats *s, uint64_t la, uint16_t pcid, uint64_t icount)
{
    for (unsigned size = 0; size < PG_SIZES; size++) {
        uint64_t page = la & ~PG_MASK(size);
        struct refill_slot *r = &s->refill[refill_index(page, size)];
        if (r->page != (page | 1) || r->size != size || (!r->global && r->pcid != pcid))
            continue;
        r->page = 0;            /* one refill per removed entry */
        if (icount - r->icount <= REFILL_WINDOW_INSNS)
            return r->cause;
    }
    return -1;
}

/* --- a tiny JSON emitter: objects of integers, one key per line ------------------------ */

struct jw {
    FILE *f;
    int indent;
    bool first[16];
    int depth;
};

static void jw_key(struct jw *w, const char *key)
{
    fprintf(w->f, "%s\n%*s\"%s\": ", w->first[w->depth] ? "" : ",", w->indent + 2 * w->depth, "", key);
    w->first[w->depth] = false;
}

static void jw_open(struct jw *w, const char *key)
{
    if (key)
        jw_key(w, key);
    fputc('{', w->f);
    w->first[++w->depth] = true;
}

static void jw_close(struct jw *w)
{
    w->depth--;
    fprintf(w->f, "\n%*s}", w->indent + 2 * w->depth, "");
}

static void jw_int(struct jw *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    fprintf(w->f, "%" PRIu64, v);
}

static const char *const kind_name[3] = { "read", "write", "fetch" };

static void jw_kinds(struct jw *w, const char *key, const uint64_t v[3])
{
    jw_open(w, key);
    for (int k = 0; k < 3; k++)
        jw_int(w, kind_name[k], v[k]);
    jw_close(w);
}

/* dtlb_load_misses / dtlb_store_misses / itlb_misses, as perf names them */
static void jw_hw_events(struct jw *w, const struct mmu_counters *c)
{
    static const char *const ev[3] = { "dtlb_load_misses", "dtlb_store_misses", "itlb_misses" };
    for (int k = 0; k < 3; k++) {
        jw_open(w, ev[k]);
        jw_int(w, "stlb_hit", c->l2_hits[k]);
        jw_int(w, "miss_causes_a_walk", c->walks[k]);
        jw_int(w, "walk_completed", c->walks_completed[k][0] + c->walks_completed[k][1] +
                                    c->walks_completed[k][2]);
        jw_int(w, "walk_completed_4k", c->walks_completed[k][0]);
        jw_int(w, "walk_completed_2m_4m", c->walks_completed[k][1]);
        jw_int(w, "walk_completed_1g", c->walks_completed[k][2]);
        jw_int(w, "walk_faulted", c->walks_faulted[k]);
        jw_int(w, "walk_active", c->walk_cycles[k]);
        jw_close(w);
    }
}

static void jw_counters(struct jw *w, const struct mmu_counters *c)
{
    jw_kinds(w, "accesses", c->accesses);
    jw_kinds(w, "user_accesses", c->user_accesses);
    jw_kinds(w, "l1_hits", c->l1_hits);
    jw_kinds(w, "l1_misses", c->l1_misses);
    jw_kinds(w, "stlb_hits", c->l2_hits);
    jw_kinds(w, "stlb_hit_cycles", c->l2_cycles);
    jw_kinds(w, "walks", c->walks);
    jw_kinds(w, "pte_reads", c->pte_reads);
    jw_kinds(w, "stale_entry_faults", c->stale_faults);
    jw_hw_events(w, c);
    jw_int(w, "dirty_rewalks", c->dirty_rewalks);
    jw_int(w, "fills", c->fills);
    jw_int(w, "evictions", c->evictions);
    jw_int(w, "invalidated", c->invalidated);
    jw_open(w, "invalidations");
    for (int i = 0; i < INV_CAUSES; i++) {
        jw_open(w, inv_cause_name[i]);
        jw_int(w, "ops", c->inv_ops[i]);
        jw_int(w, "entries", c->inv_entries[i]);
        jw_int(w, "over_flushed_entries", c->inv_over_entries[i]);
        jw_int(w, "refill_misses", c->refill_misses[i]);
        jw_close(w);
    }
    jw_close(w);
    uint64_t refills = 0;
    for (int i = 0; i < INV_CAUSES; i++)
        refills += c->refill_misses[i];
    jw_open(w, "refill_misses");
    jw_int(w, "window_instructions", REFILL_WINDOW_INSNS);
    jw_int(w, "l1_misses", refills);
    jw_int(w, "walks", c->refill_walks);
    jw_close(w);
}

/* Misses per kilo-instruction, written x1000 as an integer (the JSON holds integers
 * only): "mpki_x1000": 2500 means 2.5 MPKI.  0 when no instruction count is known. */
static uint64_t mpki_x1000(uint64_t misses, uint64_t insns)
{
    if (!insns)
        return 0;
    return (uint64_t)(((unsigned __int128)misses * 1000000u) / insns);
}

static void jw_mpki(struct jw *w, const uint64_t l1_misses[3], const uint64_t walks[3], uint64_t insns)
{
    jw_open(w, "mpki_x1000");
    jw_int(w, "l1_itlb", mpki_x1000(l1_misses[2], insns));
    jw_int(w, "l1_dtlb", mpki_x1000(l1_misses[0] + l1_misses[1], insns));
    jw_int(w, "stlb", mpki_x1000(walks[0] + walks[1] + walks[2], insns));
    jw_close(w);
}

void mmu_stats_write_json(struct mmu *m, FILE *f, int indent)
{
    mmu_stats_write_json_insns(m, f, indent, m->icount ? *m->icount : 0);
}

void mmu_stats_write_json_insns(struct mmu *m, FILE *f, int indent, uint64_t insns)
{
    mmu_stats_fold(m);
    struct tlb *t = m->tlb;
    struct mmu_stats *s = &t->stats;
    struct jw w = { .f = f, .indent = indent };
    fprintf(f, "%*s{", indent, "");
    w.depth = 1;                    /* top-level keys sit two spaces in */
    w.first[1] = true;
    jw_int(&w, "vp", (uint64_t)m->vp);
    /* integers only: the preset name and model mode are written by the caller (frontend) */
    jw_int(&w, "model_exact", m->model_mode == TLB_MODEL_EXACT);
    jw_int(&w, "flush_conservative", m->flush_policy == FLUSH_CONSERVATIVE);
    jw_int(&w, "l2_latency", t->preset->l2_latency);
    jw_int(&w, "pte_latency", t->preset->pte_latency);
    jw_int(&w, "instructions", insns);
    jw_counters(&w, &s->vp);
    jw_mpki(&w, s->vp.l1_misses, s->vp.walks, insns);

    static const char *const hist[WALK_HIST_BUCKETS] = {
        "lt16", "lt32", "lt64", "lt128", "lt256", "lt512", "lt1024", "ge1024" };
    jw_open(&w, "walk_latency_hist");
    for (int i = 0; i < WALK_HIST_BUCKETS; i++)
        jw_int(&w, hist[i], s->walk_hist[i]);
    jw_close(&w);

    jw_open(&w, "psc");
    jw_int(&w, "probes", s->psc_probes);
    jw_int(&w, "hits_pml4e", s->psc_hits[0]);
    jw_int(&w, "hits_pdpte", s->psc_hits[1]);
    jw_int(&w, "hits_pde", s->psc_hits[2]);
    jw_int(&w, "fills", s->psc_fills);
    jw_int(&w, "evictions", s->psc_evictions);
    jw_int(&w, "invalidated", s->psc_invalidated);
    jw_int(&w, "occupancy", psc_occupancy(&t->psc));
    jw_close(&w);

    jw_open(&w, "arrays");
    for (unsigned i = 0; i < t->narrays; i++) {
        const struct tlb_array *a = &t->arrays[i];
        jw_open(&w, a->spec->name);
        jw_int(&w, "entries", (uint64_t)a->spec->sets * a->spec->ways);
        jw_int(&w, "ways", a->spec->ways);
        jw_int(&w, "fills", a->c.fills);
        jw_int(&w, "evictions", a->c.evictions);
        jw_int(&w, "invalidated", a->c.invalidated);
        jw_int(&w, "occupancy", tlb_occupancy(a, -1));
        jw_close(&w);
    }
    jw_close(&w);

    jw_int(&w, "over_flush_ops", s->over_flush_ops);
    jw_int(&w, "under_flushes", s->under_flushes);
    jw_int(&w, "unpaged_accesses", s->unpaged_accesses);
    /* The host accelerator, named so nobody mistakes it for a TLB (TLB-MODEL.md B-2, Spike #398). */
    jw_open(&w, "host_fast_cache");
    jw_int(&w, "fills", m->fast_aux->fills);
    jw_int(&w, "drops", m->fast_aux->drops);
    jw_int(&w, "full_flushes", m->fast_aux->full_flushes);
    jw_close(&w);

    jw_open(&w, "pcids");
    for (int p = 0; p < 4096; p++) {
        char key[8];
        if (!s->pcid[p])
            continue;
        snprintf(key, sizeof key, "%d", p);
        jw_open(&w, key);
        jw_counters(&w, s->pcid[p]);
        jw_close(&w);
    }
    jw_close(&w);

    /* Per address space: the instructions of the current root run up to now. */
    if (s->cur_cr3)
        stats_cr3_switch(s, s->cur_cr3->root, insns);
    jw_open(&w, "cr3s");
    for (unsigned i = 0; i <= CR3_STATS_MAX; i++) {
        const struct cr3_counters *c = &s->cr3[i];
        char key[32];
        if (i == CR3_STATS_MAX) {
            if (!c->instructions && !c->l1_misses[0] && !c->l1_misses[1] && !c->l1_misses[2])
                continue;
            snprintf(key, sizeof key, "other");
        } else if (i < s->n_cr3) {
            snprintf(key, sizeof key, "0x%" PRIx64, c->root);
        } else {
            continue;
        }
        jw_open(&w, key);
        jw_int(&w, "instructions", c->instructions);
        jw_kinds(&w, "l1_misses", c->l1_misses);
        jw_kinds(&w, "stlb_hits", c->stlb_hits);
        jw_kinds(&w, "walks", c->walks);
        jw_int(&w, "walk_cycles", c->walk_cycles);
        jw_int(&w, "refill_misses", c->refill_misses);
        jw_mpki(&w, c->l1_misses, c->walks, c->instructions);
        jw_close(&w);
    }
    jw_close(&w);
    fprintf(f, "\n%*s}", indent, "");
}

/* --- conservation (TLB-MODEL.md B-(c) 5) ------------------------------------------------- */

static bool check_block(const struct mmu_counters *c, uint64_t occupancy, const char *who,
                        char *why, size_t n)
{
    for (int k = 0; k < 3; k++) {
        if (c->accesses[k] != c->l1_hits[k] + c->l1_misses[k]) {
            snprintf(why, n, "%s %s: accesses %" PRIu64 " != L1 hits %" PRIu64 " + L1 misses %" PRIu64,
                     who, kind_name[k], c->accesses[k], c->l1_hits[k], c->l1_misses[k]);
            return false;
        }
        if (c->l1_misses[k] != c->l2_hits[k] + c->walks[k]) {
            snprintf(why, n, "%s %s: L1 misses %" PRIu64 " != L2 hits %" PRIu64 " + walks %" PRIu64,
                     who, kind_name[k], c->l1_misses[k], c->l2_hits[k], c->walks[k]);
            return false;
        }
    }
    if (c->fills - c->evictions - c->invalidated != occupancy) {
        snprintf(why, n, "%s: fills %" PRIu64 " - evictions %" PRIu64 " - invalidated %" PRIu64
                 " != occupancy %" PRIu64, who, c->fills, c->evictions, c->invalidated, occupancy);
        return false;
    }
    return true;
}

bool mmu_stats_check_conservation(struct mmu *m, char *why, size_t n)
{
    mmu_stats_fold(m);
    struct tlb *t = m->tlb;
    struct mmu_stats *s = &t->stats;
    uint64_t occ = 0;
    for (unsigned i = 0; i < t->narrays; i++) {
        const struct tlb_array *a = &t->arrays[i];
        uint64_t o = tlb_occupancy(a, -1);
        occ += o;
        if (a->c.fills - a->c.evictions - a->c.invalidated != o) {
            snprintf(why, n, "array %s: fills - evictions - invalidated != occupancy %" PRIu64,
                     a->spec->name, o);
            return false;
        }
    }
    if (s->under_flushes) {
        snprintf(why, n, "%" PRIu64 " under-invalidations", s->under_flushes);
        return false;
    }
    if (!check_block(&s->vp, occ, "vp", why, n))
        return false;
    for (int p = 0; p < 4096; p++) {
        if (!s->pcid[p])
            continue;
        uint64_t o = 0;
        for (unsigned i = 0; i < t->narrays; i++)
            o += tlb_occupancy(&t->arrays[i], p);
        char who[16];
        snprintf(who, sizeof who, "pcid %d", p);
        if (!check_block(s->pcid[p], o, who, why, n))
            return false;
    }
    return true;
}
