/* The modelled TLB arrays: lookup, fill (with smashing of page sizes a level does not
 * hold), replacement (true LRU by time stamp, or tree pseudo-LRU) and invalidation by
 * predicate.  Geometry comes from mmu/tlb_presets.c.  No host-speed shortcut lives
 * here: the fast-lookup cache is mmu/fastcache.c, kept a subset of L1 through the
 * eviction callback.
 */
#include "mmu/tlb.h"

#include <stdio.h>
#include <stdlib.h>

const unsigned pg_shift[PG_SIZES] = { 12, 21, 30 };

static unsigned pow2_ceil(unsigned n)
{
    unsigned p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

struct tlb *tlb_new(const struct tlb_preset *p)
{
    struct tlb *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->preset = p;
    t->narrays = p->narrays;
    for (unsigned i = 0; i < p->narrays; i++) {
        struct tlb_array *a = &t->arrays[i];
        a->spec = &p->arrays[i];
        a->e = calloc((size_t)a->spec->sets * a->spec->ways, sizeof *a->e);
        a->plru = calloc(a->spec->sets, sizeof *a->plru);
        if (!a->e || !a->plru) {
            tlb_free(t);
            return NULL;
        }
    }
    if (!psc_init(&t->psc, &p->psc)) {
        tlb_free(t);
        return NULL;
    }
    t->stats.cur = stats_pcid(&t->stats, 0);
    stats_cr3_switch(&t->stats, 0, 0);
    return t;
}

void tlb_free(struct tlb *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->narrays; i++) {
        free(t->arrays[i].e);
        free(t->arrays[i].plru);
    }
    psc_destroy(&t->psc);
    stats_free(&t->stats);
    free(t);
}

unsigned tlb_set_of(const struct tlb_array *a, uint64_t la, enum pg_size s)
{
    return (unsigned)(((la & ((1ull << 48) - 1)) >> pg_shift[s]) % a->spec->sets);
}

/* --- replacement ---------------------------------------------------------------- */

/* Tree PLRU over the next power of two of the ways; node bits live in a heap
 * (node 1 = root).  A bit says which half holds the victim (0 left, 1 right).  With
 * a way count that is not a power of two, the victim search never enters a subtree
 * that holds no real way. */
static void plru_touch(struct tlb_array *a, unsigned set, unsigned way)
{
    unsigned P = pow2_ceil(a->spec->ways);
    unsigned node = way + P;
    while (node > 1) {
        unsigned parent = node >> 1;
        bool from_left = (node & 1) == 0;
        if (from_left)
            a->plru[set] |= 1ull << parent;       /* victim now on the right */
        else
            a->plru[set] &= ~(1ull << parent);
        node = parent;
    }
}

static unsigned leftmost_leaf(unsigned node, unsigned P)
{
    while (node < P)
        node <<= 1;
    return node - P;
}

static unsigned plru_victim(const struct tlb_array *a, unsigned set)
{
    unsigned P = pow2_ceil(a->spec->ways);
    unsigned node = 1;
    while (node < P) {
        unsigned b = (a->plru[set] >> node) & 1;
        unsigned child = 2 * node + b;
        if (leftmost_leaf(child, P) >= a->spec->ways)
            child = 2 * node + (1 - b);
        node = child;
    }
    return node - P;
}

static void touch(struct tlb *t, struct tlb_array *a, unsigned set, unsigned way)
{
    if (a->spec->repl == REPL_PLRU)
        plru_touch(a, set, way);
    else
        a->e[set * a->spec->ways + way].stamp = ++t->clock;
}

unsigned tlb_victim_way(const struct tlb_array *a, unsigned set)
{
    const struct tlb_entry *s = &a->e[set * a->spec->ways];
    for (unsigned w = 0; w < a->spec->ways; w++)
        if (!(s[w].flags & TE_VALID))
            return w;                               /* a free way first */
    if (a->spec->repl == REPL_PLRU)
        return plru_victim(a, set);
    unsigned v = 0;
    for (unsigned w = 1; w < a->spec->ways; w++)
        if (s[w].stamp < s[v].stamp)
            v = w;
    return v;
}

/* --- lookup ----------------------------------------------------------------------- */

static bool matches(const struct tlb_entry *e, uint64_t la, uint16_t pcid)
{
    return (e->flags & TE_VALID) && ((la ^ e->vbase) & ~PG_MASK(e->size)) == 0 &&
           ((e->flags & TE_GLOBAL) || e->pcid == pcid);
}

struct tlb_entry *tlb_lookup(struct tlb *t, enum tlb_level lvl, unsigned side,
                             uint64_t la, uint16_t pcid, bool do_touch)
{
    for (unsigned i = 0; i < t->narrays; i++) {
        struct tlb_array *a = &t->arrays[i];
        if (a->spec->level != lvl || !(a->spec->sides & side))
            continue;
        for (int s = 0; s < PG_SIZES; s++) {
            if (!a->live[s])
                continue;           /* no entry of this size (or the array holds none) */
            unsigned set = tlb_set_of(a, la, (enum pg_size)s);
            struct tlb_entry *row = &a->e[set * a->spec->ways];
            for (unsigned w = 0; w < a->spec->ways; w++) {
                if (row[w].size == s && matches(&row[w], la, pcid)) {
                    if (do_touch)
                        touch(t, a, set, w);
                    return &row[w];
                }
            }
        }
    }
    return NULL;
}

/* --- fill ------------------------------------------------------------------------- */

/* A piece of a larger page-table mapping (smashed, or half of a 4M page): removing
 * any address of the original page must remove every piece, wherever it sits. */
static bool is_split(const struct tlb_entry *e)
{
    return e->orig_size != e->size || (e->flags & TE_4M);
}

struct tlb_entry *tlb_fill(struct tlb *t, enum tlb_level lvl, unsigned side, uint64_t la,
                           const struct tlb_entry *proto, tlb_evict_fn cb, void *opaque)
{
    /* The largest size <= the translation's that an array of this level holds. */
    struct tlb_array *a = NULL;
    int ps;
    for (ps = proto->size; ps >= 0 && !a; ps--) {
        for (unsigned i = 0; i < t->narrays; i++) {
            struct tlb_array *c = &t->arrays[i];
            if (c->spec->level == lvl && (c->spec->sides & side) && (c->spec->sizes & (1u << ps))) {
                a = c;
                break;
            }
        }
        if (a)
            break;
    }
    if (!a)
        return NULL;                /* this level does not serve the side */

    struct tlb_entry n = *proto;
    n.size = (uint8_t)ps;
    n.vbase = la & ~PG_MASK(ps);
    n.pbase = proto->pbase + ((la & PG_MASK(proto->size)) & ~PG_MASK(ps));
    n.flags |= TE_VALID;

    unsigned set = tlb_set_of(a, la, (enum pg_size)ps);
    unsigned way = tlb_victim_way(a, set);
    struct tlb_entry *slot = &a->e[set * a->spec->ways + way];
    t->fill_array = a;
    t->victim_valid = slot->flags & TE_VALID;
    if (slot->flags & TE_VALID) {
        t->victim_array = a;
        t->victim = *slot;
        a->c.evictions++;
        t->stats.vp.evictions++;
        stats_pcid(&t->stats, slot->pcid)->evictions++;
        if (cb)
            cb(opaque, a, slot);
    }
    if (t->victim_valid) {
        a->live[slot->size]--;
        if (is_split(slot))
            t->split_live--;
    }
    *slot = n;
    a->live[slot->size]++;
    if (is_split(slot))
        t->split_live++;
    a->c.fills++;
    t->stats.vp.fills++;
    stats_pcid(&t->stats, n.pcid)->fills++;
    touch(t, a, set, way);
    return slot;
}

/* --- invalidation ------------------------------------------------------------------ */

bool tlb_pred_match(const struct tlb *t, const struct inv_pred *p, const struct tlb_entry *e)
{
    if (!(e->flags & TE_VALID) || (p->how & INV_NONE))
        return false;
    /* Any address of the original mapping: every piece of a smashed page goes. */
    if (p->how & INV_BY_ADDR) {
        uint64_t orig_mask = (e->flags & TE_4M) ? (4ull << 20) - 1 : PG_MASK(e->orig_size);
        if (p->len <= 1) {
            if ((p->la ^ e->vbase) & ~orig_mask & ((1ull << 48) - 1))
                return false;
        } else {
            /* a range (Hyper-V List element): overlap with the original page */
            const uint64_t m48 = (1ull << 48) - 1;
            uint64_t ob = e->vbase & ~orig_mask & m48, lo = p->la & m48;
            if (!(ob < lo + p->len && lo < ob + orig_mask + 1))
                return false;
        }
    }
    bool g = e->flags & TE_GLOBAL;
    if (g && (p->how & INV_KEEP_GLOBAL))
        return false;
    if (g && (p->how & INV_GLOBAL_ANY))
        return true;
    if ((p->how & INV_BY_PCID) && e->pcid != p->pcid)
        return false;
    if ((p->how & INV_BY_ROOT) && !inv_root_match(e->root, e->pcid, t->pcid_root, p->root))
        return false;
    return true;
}

struct inv_run {
    struct tlb *t;
    const struct inv_pred *remove, *must;
    enum inv_cause cause;
    tlb_evict_fn cb;
    void *opaque;
    unsigned n, over;
};

static void inv_entry(struct inv_run *r, struct tlb_array *a, struct tlb_entry *e)
{
    struct tlb *t = r->t;
    if (!(e->flags & TE_VALID))
        return;
    bool rm = tlb_pred_match(t, r->remove, e);
    bool ms = tlb_pred_match(t, r->must, e);
    if (ms && !rm) {
        /* An under-invalidation would let the guest see a mapping the SDM says
         * is gone: never acceptable. */
        t->stats.under_flushes++;
        fprintf(stderr, "hvemu: mmu: under-invalidation (%s) of la %#llx pcid %u\n",
                inv_cause_name[r->cause], (unsigned long long)e->vbase, e->pcid);
        abort();
    }
    if (!rm)
        return;
    struct mmu_counters *pc = stats_pcid(&t->stats, e->pcid);
    a->c.invalidated++;
    t->stats.vp.invalidated++;
    pc->invalidated++;
    t->stats.vp.inv_entries[r->cause]++;
    pc->inv_entries[r->cause]++;
    if (!ms) {
        r->over++;
        t->stats.vp.inv_over_entries[r->cause]++;
        pc->inv_over_entries[r->cause]++;
    }
    if (r->cb)
        r->cb(r->opaque, a, e);
    a->live[e->size]--;
    if (is_split(e))
        t->split_live--;
    e->flags = 0;
    r->n++;
}

/* Pages a narrow invalidation may touch, at most: beyond this, scanning everything
 * is as cheap. */
#define INV_NARROW_MAX_PAGES 64

/* An address-limited invalidation (INVLPG, INVPCID 0, a #PF, a short Hyper-V List
 * range) with no split pages live: an entry can only sit in the set its own page
 * indexes, so only those sets are looked at.  Same result as the full scan. */
static bool inv_narrow(struct inv_run *r)
{
    const struct inv_pred *rm = r->remove, *ms = r->must;
    if (!(rm->how & INV_BY_ADDR) || r->t->split_live)
        return false;
    if (!(ms->how & (INV_BY_ADDR | INV_NONE)))
        return false;
    if ((ms->how & INV_BY_ADDR) && (ms->la != rm->la || ms->len != rm->len))
        return false;
    uint64_t len = rm->len <= 1 ? 1 : rm->len;
    if (len > (uint64_t)INV_NARROW_MAX_PAGES << 12)
        return false;
    struct tlb *t = r->t;
    for (unsigned i = 0; i < t->narrays; i++) {
        struct tlb_array *a = &t->arrays[i];
        for (int sz = 0; sz < PG_SIZES; sz++) {
            if (!(a->spec->sizes & (1u << sz)))
                continue;
            uint64_t pg = 1ull << pg_shift[sz];
            uint64_t first = rm->la & ~(pg - 1), last = (rm->la + len - 1) & ~(pg - 1);
            for (uint64_t v = first;; v += pg) {
                unsigned set = tlb_set_of(a, v, (enum pg_size)sz);
                struct tlb_entry *row = &a->e[set * a->spec->ways];
                for (unsigned w = 0; w < a->spec->ways; w++)
                    inv_entry(r, a, &row[w]);
                if (v == last)
                    break;
            }
        }
    }
    return true;
}

unsigned tlb_invalidate(struct tlb *t, const struct inv_pred *remove, const struct inv_pred *must,
                        enum inv_cause cause, tlb_evict_fn cb, void *opaque)
{
    struct inv_run r = { .t = t, .remove = remove, .must = must, .cause = cause, .cb = cb, .opaque = opaque };
    if (!inv_narrow(&r)) {
        for (unsigned i = 0; i < t->narrays; i++) {
            struct tlb_array *a = &t->arrays[i];
            unsigned cnt = a->spec->sets * a->spec->ways;
            for (unsigned k = 0; k < cnt; k++)
                inv_entry(&r, a, &a->e[k]);
        }
    }
    if (r.over)
        t->stats.over_flush_ops++;
    return r.n;
}

uint64_t tlb_occupancy(const struct tlb_array *a, int pcid)
{
    uint64_t n = 0;
    for (unsigned k = 0; k < a->spec->sets * a->spec->ways; k++)
        if ((a->e[k].flags & TE_VALID) && (pcid < 0 || a->e[k].pcid == pcid))
            n++;
    return n;
}
