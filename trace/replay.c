/* The reference TLB model for offline replay (what it models: replay.h). */
#include "trace/replay.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct rentry {
    uint64_t base;          /* page-aligned linear address at the entry's size */
    uint64_t root;          /* CR3 root the entry was filled under */
    uint64_t stamp;         /* LRU: larger = more recent */
    uint16_t pcid;
    uint8_t size;           /* enum trace_page_size of this (piece of a) page */
    uint8_t orig;           /* size of the mapping it came from: 0 4K, 1 2M, 2 1G, 3 4M */
    bool global;
    bool valid;
};

struct rstruct {
    uint32_t sets, ways;    /* sets == 0: structure absent */
    uint8_t page_size_mask;
    bool plru;              /* tree pseudo-LRU instead of LRU */
    struct rentry *e;       /* sets * ways */
    uint64_t *plru_bits;    /* per set, heap-ordered tree nodes (node 1 = root) */
};

struct rvp {
    bool used;
    struct rstruct st[TRACE_ST_PSC];    /* PSC is not modelled */
    uint64_t root;
    uint64_t *pcid_root;                /* [4096]: root last loaded with each PCID */
    uint64_t clock;
    bool victim_pending;                /* the last fill displaced an entry */
    uint8_t victim_struct;
    uint64_t victim_base;
    bool hit_pending;                   /* an STLB hit: the L1 fill that follows copies it */
    uint64_t hit_root;
    struct replay_counts c;
};

struct replay {
    struct trace_geometry_entry geom[TRACE_STRUCT_COUNT];
    struct rvp *vps;
    uint32_t n_vps;
    bool check_inv_counts;              /* TRACE_HF_INV_COUNTS: compare entries removed */
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

void replay_set_header_flags(struct replay *rp, unsigned flags)
{
    rp->check_inv_counts = flags & TRACE_HF_INV_COUNTS;
}

static void free_vp(struct rvp *v)
{
    for (int s = 0; s < TRACE_ST_PSC; s++) {
        free(v->st[s].e);
        free(v->st[s].plru_bits);
    }
    free(v->pcid_root);
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
            v->st[s].plru = g->policy == TRACE_REPL_PLRU;
            v->st[s].e = calloc(g->entries, sizeof(struct rentry));
            v->st[s].plru_bits = calloc(v->st[s].sets, sizeof(uint64_t));
            if (!v->st[s].e || !v->st[s].plru_bits)
                return NULL;
        }
        v->pcid_root = calloc(4096, sizeof(uint64_t));
        if (!v->pcid_root)
            return NULL;
        v->used = true;
    }
    return v;
}

/* Set index as the live TLB computes it (mmu/tlb.c tlb_set_of): the page number of
 * the low 48 address bits, modulo the set count (which need not be a power of two). */
static uint32_t set_index(const struct rstruct *st, uint64_t va, unsigned size)
{
    return (uint32_t)(((va & ((1ull << 48) - 1)) >> page_shift(size)) % st->sets);
}

static struct rentry *set_of(struct rstruct *st, uint64_t va, unsigned size)
{
    return &st->e[(uint64_t)set_index(st, va, size) * st->ways];
}

/* --- replacement: true LRU by time stamp, or tree PLRU ------------------------------
 * The tree PLRU is the one of mmu/tlb.c, written again here on purpose (the model
 * must not share code with what it checks): a tree over the next power of two of
 * the ways, node bits in a heap (node 1 = root), a bit says which half holds the
 * victim (0 left, 1 right); the victim search never enters a subtree without a real
 * way.  Both policies take a free (invalid) way first, the lowest-numbered. */
static uint32_t pow2_ceil(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static void touch(struct rvp *v, struct rstruct *st, struct rentry *e)
{
    uint64_t idx = (uint64_t)(e - st->e);
    if (!st->plru) {
        e->stamp = ++v->clock;
        return;
    }
    uint32_t set = (uint32_t)(idx / st->ways), way = (uint32_t)(idx % st->ways);
    uint32_t node = way + pow2_ceil(st->ways);
    while (node > 1) {
        uint32_t parent = node >> 1;
        if ((node & 1) == 0)
            st->plru_bits[set] |= 1ull << parent;      /* touched left: victim on the right */
        else
            st->plru_bits[set] &= ~(1ull << parent);
        node = parent;
    }
}

static uint32_t victim_way(const struct rstruct *st, uint32_t set)
{
    const struct rentry *row = &st->e[(uint64_t)set * st->ways];
    for (uint32_t w = 0; w < st->ways; w++)
        if (!row[w].valid)
            return w;
    if (!st->plru) {
        uint32_t vw = 0;
        for (uint32_t w = 1; w < st->ways; w++)
            if (row[w].stamp < row[vw].stamp)
                vw = w;
        return vw;
    }
    uint32_t P = pow2_ceil(st->ways), node = 1;
    while (node < P) {
        uint32_t child = 2 * node + (uint32_t)((st->plru_bits[set] >> node) & 1);
        uint32_t leaf = child;
        while (leaf < P)
            leaf <<= 1;
        if (leaf - P >= st->ways)           /* the subtree holds no real way */
            child ^= 1;
        node = child;
    }
    return node - P;
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
            if (e->valid && e->size == size && e->base == page_base(va, size) && (e->global || e->pcid == pcid))
                return e;
        }
    }
    return NULL;
}

static struct rentry *find_in(struct rvp *v, const int *structs, int n, uint64_t va, uint16_t pcid,
                              struct rstruct **where)
{
    for (int i = 0; i < n; i++) {
        struct rentry *e = find(&v->st[structs[i]], va, pcid);
        if (e) {
            *where = &v->st[structs[i]];
            return e;
        }
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
    struct rstruct *where = NULL;
    struct rentry *e = fetch ? find_in(v, l1i, 2, r->vaddr, pcid, &where) : find_in(v, l1d, 3, r->vaddr, pcid, &where);
    v->hit_pending = false;
    if (e) {
        outcome = TRACE_EV_LOOKUP_L1_HIT;
        v->c.l1_hits++;
    } else if ((e = find_in(v, stlb, 2, r->vaddr, pcid, &where))) {
        outcome = TRACE_EV_LOOKUP_STLB_HIT;
        v->c.stlb_hits++;
        v->hit_pending = true;          /* the L1 fill copies this entry, root included */
        v->hit_root = e->root;
    } else {
        outcome = TRACE_EV_MISS;
        v->c.misses++;
    }
    if (e)
        touch(v, where, e);
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
    /* An L1 fill right after an STLB hit is a copy of that entry: it keeps the
     * root it was filled under; a walk's fills take the current root. */
    bool l1 = s != TRACE_ST_STLB && s != TRACE_ST_STLB_1G;
    uint64_t root = (l1 && v->hit_pending) ? v->hit_root : v->root;
    if (l1)
        v->hit_pending = false;
    struct rentry *set = set_of(st, r->vaddr, size);
    struct rentry *slot = &set[victim_way(st, set_index(st, r->vaddr, size))];
    if (slot->valid) {
        v->c.evictions++;
        v->victim_pending = true;
        v->victim_struct = (uint8_t)s;
        v->victim_base = slot->base;
    }
    *slot = (struct rentry){ .base = base, .root = root, .pcid = pcid, .size = (uint8_t)size,
                             .orig = (uint8_t)TRACE_INFO_LEVEL(r->info), .global = global, .valid = true };
    touch(v, st, slot);
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

/* Bytes of the mapping an entry came from (a smashed piece goes with its whole
 * original page, SDM 4.10.4.1; a 2M half of a 4M page with the 4M page). */
static uint64_t orig_bytes(const struct rentry *e)
{
    if (e->orig == 3)
        return 4ull << 20;
    unsigned o = e->orig > e->size ? e->orig : e->size;
    return 1ull << page_shift(o);
}

static bool inv_hits(const struct rvp *v, const struct inv *iv, const struct rentry *e)
{
    uint64_t obase = e->base & ~(orig_bytes(e) - 1);
    uint64_t end = obase + orig_bytes(e) - 1;
    if (iv->by_page && (obase > iv->hi || end < iv->lo))
        return false;
    if (e->global)
        return !iv->keep_global;
    if (iv->by_pcid && e->pcid != iv->pcid)
        return false;
    /* An entry belongs to an address space by the root it was filled under, or by
     * the root its PCID was last loaded with (mmu/tlb.c INV_BY_ROOT). */
    if (iv->by_root && e->root != iv->root && v->pcid_root[e->pcid & 0xFFF] != iv->root)
        return false;
    return true;
}

static uint64_t invalidate(struct rvp *v, const struct inv *iv)
{
    uint64_t n = 0;
    for (int s = 0; s < TRACE_ST_PSC; s++) {
        struct rstruct *st = &v->st[s];
        for (uint64_t i = 0; i < (uint64_t)st->sets * st->ways; i++) {
            if (st->e[i].valid && inv_hits(v, iv, &st->e[i])) {
                st->e[i].valid = false;
                n++;
            }
        }
    }
    return n;
}

/* The record says how many entries the live TLB removed (TRACE_HF_INV_COUNTS). */
static void check_removed(struct replay *rp, struct rvp *v, const struct trace_record *r, uint64_t n)
{
    if (rp->check_inv_counts && (n < 0xFFFF ? n : 0xFFFF) != r->latency)
        v->c.inv_mismatches++;
}

static void hv_flush(struct replay *rp, struct rvp *v, const struct trace_record *r)
{
    if (!(r->info & TRACE_HV_TARGET_ACTION))
        return;                 /* the caller's record: the targets get their own */
    if (r->info & TRACE_HV_EVERYTHING) {
        check_removed(rp, v, r, invalidate(v, &(struct inv){ 0 }));
        return;
    }
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
    check_removed(rp, v, r, invalidate(v, &iv));
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
        v->pcid_root[pcid] = v->root;
        return;
    case TRACE_EV_INV_CR3_NOFLUSH:
        v->root = r->aux & TRACE_CR3_ROOT_MASK;
        v->pcid_root[pcid] = v->root;
        check_removed(rp, v, r, 0);
        return;
    case TRACE_EV_INV_INVLPG:       /* the page, current PCID + globals of any PCID */
    case TRACE_EV_INV_PF:
    case TRACE_EV_INV_REFRESH:
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
        v->pcid_root[pcid] = v->root;
        iv = (struct inv){ .by_pcid = true, .pcid = pcid, .keep_global = true };
        break;
    case TRACE_EV_INV_CR4:
        /* PCID only (PAE change, SMEP set): the PCID's entries and, as mmu/mmu.c
         * does, the globals that would serve it; else everything. */
        if (r->info & TRACE_CR4_CURRENT_PCID_ONLY)
            iv = (struct inv){ .by_pcid = true, .pcid = pcid };
        break;
    case TRACE_EV_INV_CR0:          /* CR0.PG cleared: everything */
        break;
    case TRACE_EV_HV_FLUSH_SPACE:
    case TRACE_EV_HV_FLUSH_SPACE_EX:
    case TRACE_EV_HV_FLUSH_LIST:
    case TRACE_EV_HV_FLUSH_LIST_EX:
        hv_flush(rp, v, r);
        return;
    default:
        return;             /* walks, IPIs, shootdowns, scheduling: no TLB effect */
    }
    if (r->info & TRACE_INV_EVERYTHING)     /* the conservative policy flushed it all */
        iv = (struct inv){ 0 };
    check_removed(rp, v, r, invalidate(v, &iv));
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
        bad += diff(out, vp, "invalidations that removed a different number of entries", c.inv_mismatches, 0);
    }
    return bad;
}
