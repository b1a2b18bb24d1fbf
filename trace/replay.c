/* The reference TLB model for offline replay (what it models: replay.h). */
#include "trace/replay.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct rentry {
    uint64_t base;          /* page-aligned linear address at the entry's size */
    uint64_t root;          /* CR3 root the entry was filled under */
    uint64_t stamp;         /* LRU: larger = more recent; 0 = invalid */
    uint16_t pcid;
    uint8_t size;           /* enum trace_page_size */
    bool global;
};

struct rstruct {
    uint32_t sets, ways;    /* sets == 0: structure absent */
    uint8_t page_size_mask;
    struct rentry *e;       /* sets * ways */
};

struct rvp {
    bool used;
    struct rstruct st[TRACE_ST_PSC];    /* PSC is not modelled */
    uint64_t root;
    uint64_t clock;
    bool victim_pending;                /* the last fill displaced an entry */
    uint8_t victim_struct;
    uint64_t victim_base;
    struct replay_counts c;
};

struct replay {
    struct trace_geometry_entry geom[TRACE_STRUCT_COUNT];
    struct rvp *vps;
    uint32_t n_vps;
};

static unsigned page_shift(unsigned size)
{
    return size == TRACE_PS_1G ? 30 : size == TRACE_PS_2M ? 21 : 12;
}

static uint64_t page_base(uint64_t va, unsigned size)
{
    return va & ~((1ull << page_shift(size)) - 1);
}

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

struct replay *replay_new(const struct trace_geometry_entry geom[TRACE_STRUCT_COUNT], char *err, size_t errlen)
{
    bool any = false;
    for (int s = 0; s < TRACE_ST_PSC; s++) {
        const struct trace_geometry_entry *g = &geom[s];
        if (!g->entries)
            continue;
        any = true;
        if (!g->ways || g->ways > g->entries || g->entries % g->ways) {
            fail(err, errlen, "replay: %s has %u entries in %u ways", trace_struct_name(s), g->entries, g->ways);
            return NULL;
        }
        if (!(g->page_size_mask & 7)) {
            fail(err, errlen, "replay: %s holds no page size", trace_struct_name(s));
            return NULL;
        }
    }
    if (!any) {
        fail(err, errlen, "replay: the trace header has no TLB geometry");
        return NULL;
    }
    struct replay *rp = calloc(1, sizeof *rp);
    if (!rp) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(rp->geom, geom, sizeof rp->geom);
    return rp;
}

static void free_vp(struct rvp *v)
{
    for (int s = 0; s < TRACE_ST_PSC; s++)
        free(v->st[s].e);
}

void replay_free(struct replay *rp)
{
    if (!rp)
        return;
    for (uint32_t i = 0; i < rp->n_vps; i++)
        free_vp(&rp->vps[i]);
    free(rp->vps);
    free(rp);
}

/* The VP's model, created on first use; NULL only when out of memory. */
static struct rvp *get_vp(struct replay *rp, uint16_t vp)
{
    if (vp >= rp->n_vps) {
        struct rvp *n = realloc(rp->vps, ((size_t)vp + 1) * sizeof *n);
        if (!n)
            return NULL;
        memset(n + rp->n_vps, 0, ((size_t)vp + 1 - rp->n_vps) * sizeof *n);
        rp->vps = n;
        rp->n_vps = (uint32_t)vp + 1;
    }
    struct rvp *v = &rp->vps[vp];
    if (!v->used) {
        for (int s = 0; s < TRACE_ST_PSC; s++) {
            const struct trace_geometry_entry *g = &rp->geom[s];
            if (!g->entries)
                continue;
            v->st[s].ways = g->ways;
            v->st[s].sets = g->entries / g->ways;
            v->st[s].page_size_mask = g->page_size_mask;
            v->st[s].e = calloc(g->entries, sizeof(struct rentry));
            if (!v->st[s].e)
                return NULL;
        }
        v->used = true;
    }
    return v;
}

static struct rentry *set_of(struct rstruct *st, uint64_t va, unsigned size)
{
    uint64_t set = (va >> page_shift(size)) % st->sets;
    return &st->e[set * st->ways];
}

/* The entry of st translating va for pcid, or NULL. */
static struct rentry *find(struct rstruct *st, uint64_t va, uint16_t pcid)
{
    if (!st->sets)
        return NULL;
    for (unsigned size = 0; size < 3; size++) {
        if (!(st->page_size_mask & (1u << size)))
            continue;
        struct rentry *set = set_of(st, va, size);
        for (uint32_t w = 0; w < st->ways; w++) {
            struct rentry *e = &set[w];
            if (e->stamp && e->size == size && e->base == page_base(va, size) && (e->global || e->pcid == pcid))
                return e;
        }
    }
    return NULL;
}

static struct rentry *find_in(struct rvp *v, const int *structs, int n, uint64_t va, uint16_t pcid)
{
    for (int i = 0; i < n; i++) {
        struct rentry *e = find(&v->st[structs[i]], va, pcid);
        if (e)
            return e;
    }
    return NULL;
}

static void lookup(struct rvp *v, const struct trace_record *r)
{
    static const int l1i[] = { TRACE_ST_L1I_4K, TRACE_ST_L1I_2M };
    static const int l1d[] = { TRACE_ST_L1D_4K, TRACE_ST_L1D_2M, TRACE_ST_L1D_1G };
    static const int stlb[] = { TRACE_ST_STLB, TRACE_ST_STLB_1G };
    uint16_t pcid = TRACE_PF_PCID(r->pcid_flags);
    bool fetch = TRACE_INFO_ACCESS(r->info) == TRACE_ACC_X;

    unsigned outcome;
    struct rentry *e = fetch ? find_in(v, l1i, 2, r->vaddr, pcid) : find_in(v, l1d, 3, r->vaddr, pcid);
    if (e) {
        outcome = TRACE_EV_LOOKUP_L1_HIT;
        v->c.l1_hits++;
    } else if ((e = find_in(v, stlb, 2, r->vaddr, pcid))) {
        outcome = TRACE_EV_LOOKUP_STLB_HIT;
        v->c.stlb_hits++;
    } else {
        outcome = TRACE_EV_MISS;
        v->c.misses++;
    }
    if (e)
        e->stamp = ++v->clock;
    if (outcome != r->type)
        v->c.lookup_mismatches++;
}

static void fill(struct rvp *v, const struct trace_record *r)
{
    unsigned s = TRACE_INFO_STRUCT(r->info);
    v->c.fills++;               /* PSC fills count (the live count has them) but are not modelled */
    v->victim_pending = false;
    if (s == TRACE_ST_PSC)
        return;
    struct rstruct *st = &v->st[s];
    unsigned size = TRACE_PF_SIZE(r->pcid_flags);
    if (!st->sets || size > TRACE_PS_1G || !(st->page_size_mask & (1u << size))) {
        v->c.bad_fills++;
        return;
    }
    uint64_t base = page_base(r->vaddr, size);
    uint16_t pcid = TRACE_PF_PCID(r->pcid_flags);
    bool global = r->pcid_flags & TRACE_PF_GLOBAL;
    struct rentry *set = set_of(st, r->vaddr, size);
    struct rentry *slot = NULL;
    for (uint32_t w = 0; w < st->ways && !slot; w++) {     /* a refill replaces in place */
        struct rentry *e = &set[w];
        if (e->stamp && e->size == size && e->base == base && e->pcid == pcid && e->global == global)
            slot = e;
    }
    for (uint32_t w = 0; w < st->ways && !slot; w++) {
        if (!set[w].stamp)
            slot = &set[w];
    }
    if (!slot) {
        slot = &set[0];
        for (uint32_t w = 1; w < st->ways; w++) {
            if (set[w].stamp < slot->stamp)
                slot = &set[w];
        }
        v->c.evictions++;
        v->victim_pending = true;
        v->victim_struct = (uint8_t)s;
        v->victim_base = slot->base;
    }
    *slot = (struct rentry){ .base = base, .root = v->root, .stamp = ++v->clock, .pcid = pcid,
                             .size = (uint8_t)size, .global = global };
}

static void check_evict(struct rvp *v, const struct trace_record *r)
{
    bool same = v->victim_pending && v->victim_struct == TRACE_INFO_STRUCT(r->info) &&
                v->victim_base == page_base(r->vaddr, TRACE_PF_SIZE(r->pcid_flags));
    if (!same)
        v->c.victim_mismatches++;
    v->victim_pending = false;
}

/* What an invalidation removes. */
struct inv {
    bool by_page;               /* only entries containing [lo, hi] pages */
    uint64_t lo, hi;
    bool by_pcid;               /* non-global entries must have this PCID */
    uint16_t pcid;
    bool by_root;               /* non-global entries must have this root */
    uint64_t root;
    bool keep_global;           /* global entries survive */
    bool global_by_page_only;   /* globals go only if they contain a listed page */
};

static bool inv_hits(const struct inv *iv, const struct rentry *e)
{
    uint64_t end = e->base + (1ull << page_shift(e->size)) - 1;
    if (iv->by_page && (e->base > iv->hi || end < iv->lo))
        return false;
    if (e->global)
        return !iv->keep_global;
    if (iv->by_pcid && e->pcid != iv->pcid)
        return false;
    if (iv->by_root && e->root != iv->root)
        return false;
    return true;
}

static void invalidate(struct rvp *v, const struct inv *iv)
{
    for (int s = 0; s < TRACE_ST_PSC; s++) {
        struct rstruct *st = &v->st[s];
        for (uint64_t i = 0; i < (uint64_t)st->sets * st->ways; i++) {
            if (st->e[i].stamp && inv_hits(iv, &st->e[i]))
                st->e[i].stamp = 0;
        }
    }
}

static void hv_flush(struct rvp *v, const struct trace_record *r)
{
    if (!(r->info & TRACE_HV_TARGET_ACTION))
        return;                 /* the caller's record: the targets get their own */
    bool all_spaces = r->info & TRACE_HV_ALL_SPACES;
    struct inv iv = { .by_root = !all_spaces, .root = r->aux & TRACE_CR3_ROOT_MASK };
    if (r->type == TRACE_EV_HV_FLUSH_LIST || r->type == TRACE_EV_HV_FLUSH_LIST_EX) {
        uint64_t pages = (r->aux & 0xFFF) + 1;
        iv.by_page = true;
        iv.lo = r->vaddr & ~0xFFFull;
        iv.hi = iv.lo + pages * 4096 - 1;
        if (iv.hi < iv.lo)
            iv.hi = UINT64_MAX;
    } else {
        /* Without NON_GLOBAL a Space flush is a full flush: globals go too. */
        iv.keep_global = r->info & TRACE_HV_NON_GLOBAL_ONLY;
    }
    invalidate(v, &iv);
}

void replay_event(struct replay *rp, const struct trace_record *r)
{
    struct rvp *v = get_vp(rp, r->vp);
    if (!v)
        return;
    uint16_t pcid = TRACE_PF_PCID(r->pcid_flags);
    uint64_t page = r->vaddr & ~0xFFFull;
    struct inv iv = { 0 };

    switch (r->type) {
    case TRACE_EV_LOOKUP_L1_HIT:
    case TRACE_EV_LOOKUP_STLB_HIT:
    case TRACE_EV_MISS:
        lookup(v, r);
        return;
    case TRACE_EV_FILL:
        fill(v, r);
        return;
    case TRACE_EV_EVICT:
        check_evict(v, r);
        return;
    case TRACE_EV_CTX_MARKER:
        v->root = r->aux & TRACE_CR3_ROOT_MASK;
        return;
    case TRACE_EV_INV_CR3_NOFLUSH:
        v->root = r->aux & TRACE_CR3_ROOT_MASK;
        return;
    case TRACE_EV_INV_INVLPG:       /* the page, current PCID + globals of any PCID */
    case TRACE_EV_INV_PF:
        iv = (struct inv){ .by_page = true, .lo = page, .hi = page + 0xFFF, .by_pcid = true, .pcid = pcid };
        break;
    case TRACE_EV_INV_INVPCID0:     /* (PCID, page), non-global */
        iv = (struct inv){ .by_page = true, .lo = page, .hi = page + 0xFFF, .by_pcid = true, .pcid = pcid,
                           .keep_global = true };
        break;
    case TRACE_EV_INV_INVPCID1:     /* all non-global of the PCID */
        iv = (struct inv){ .by_pcid = true, .pcid = pcid, .keep_global = true };
        break;
    case TRACE_EV_INV_INVPCID2:     /* everything */
        break;
    case TRACE_EV_INV_INVPCID3:     /* all non-global, all PCIDs */
        iv.keep_global = true;
        break;
    case TRACE_EV_INV_CR3:          /* non-global of the new PCID */
        v->root = r->aux & TRACE_CR3_ROOT_MASK;
        iv = (struct inv){ .by_pcid = true, .pcid = pcid, .keep_global = true };
        break;
    case TRACE_EV_INV_CR4:
        if (r->info & TRACE_CR4_CURRENT_PCID_ONLY)
            iv = (struct inv){ .by_pcid = true, .pcid = pcid, .keep_global = true };
        break;              /* else: everything, globals included */
    case TRACE_EV_HV_FLUSH_SPACE:
    case TRACE_EV_HV_FLUSH_SPACE_EX:
    case TRACE_EV_HV_FLUSH_LIST:
    case TRACE_EV_HV_FLUSH_LIST_EX:
        hv_flush(v, r);
        return;
    default:
        return;             /* walks, IPIs, shootdowns, scheduling: no TLB effect */
    }
    invalidate(v, &iv);
}

uint32_t replay_vp_count(const struct replay *rp)
{
    return rp->n_vps;
}

struct replay_counts replay_vp_counts(const struct replay *rp, uint32_t vp)
{
    struct replay_counts zero = { 0 };
    return vp < rp->n_vps ? rp->vps[vp].c : zero;
}

static uint64_t live(const struct trace_summary_entry *s, size_t n, uint32_t vp, unsigned type)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].vp == vp && s[i].type == type)
            return s[i].seen;
    }
    return 0;
}

static size_t diff(FILE *out, uint32_t vp, const char *what, uint64_t model, uint64_t live_count)
{
    if (model == live_count)
        return 0;
    if (out)
        fprintf(out, "mismatch: vp %" PRIu32 " %s: replay %" PRIu64 ", live %" PRIu64 "\n", vp, what, model,
                live_count);
    return 1;
}

size_t replay_compare(const struct replay *rp, const struct trace_summary_entry *s, size_t n, FILE *out)
{
    uint32_t n_vps = rp->n_vps;
    for (size_t i = 0; i < n; i++) {
        if ((uint32_t)s[i].vp + 1 > n_vps)
            n_vps = (uint32_t)s[i].vp + 1;
    }
    size_t bad = 0;
    for (uint32_t vp = 0; vp < n_vps; vp++) {
        struct replay_counts c = replay_vp_counts(rp, vp);
        bad += diff(out, vp, "l1_hit", c.l1_hits, live(s, n, vp, TRACE_EV_LOOKUP_L1_HIT));
        bad += diff(out, vp, "stlb_hit", c.stlb_hits, live(s, n, vp, TRACE_EV_LOOKUP_STLB_HIT));
        bad += diff(out, vp, "miss", c.misses, live(s, n, vp, TRACE_EV_MISS));
        bad += diff(out, vp, "fill", c.fills, live(s, n, vp, TRACE_EV_FILL));
        bad += diff(out, vp, "evict", c.evictions, live(s, n, vp, TRACE_EV_EVICT));
        bad += diff(out, vp, "lookups classified differently", c.lookup_mismatches, 0);
        bad += diff(out, vp, "evicted a different entry", c.victim_mismatches, 0);
        bad += diff(out, vp, "fills into absent structures", c.bad_fills, 0);
    }
    return bad;
}
