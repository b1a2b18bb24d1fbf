/* The per-VP mmu: translation through L1 -> L2 -> walk, the fast-cache fill rules,
 * and every control-state change and invalidation instruction with exactly the
 * invalidations of TLB-MODEL.md B-1.4 (SDM Vol. 3A 4.10.4).
 */
#include "mmu/mmu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mmu/fastcache.h"
#include "mmu/physmem.h"
#include "mmu/tlb.h"
#include "mmu/trace_hooks.h"
#include "mmu/walk.h"

#define CR0_PG    (1ull << 31)
#define CR0_WP    (1ull << 16)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_PGE   (1ull << 7)
#define CR4_LA57  (1ull << 12)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP  (1ull << 20)
#define CR4_SMAP  (1ull << 21)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)
#define CR3_ROOT_MASK (((1ull << WALK_MAXPHYADDR) - 1) & ~0xfffull)

static uint16_t cur_pcid(const struct mmu *m)
{
    return (m->cr4 & CR4_PCIDE) ? (uint16_t)(m->cr3 & 0xfff) : 0;   /* SDM 4.10.1 */
}

static uint64_t cur_root(const struct mmu *m) { return m->cr3 & CR3_ROOT_MASK; }

static bool canonical48(uint64_t la) { return (uint64_t)((int64_t)(la << 16) >> 16) == la; }

static uint64_t icount_of(const struct mmu *m) { return m->icount ? *m->icount : 0; }

/* Every entry leaving an L1 array takes the fast entries it backs with it. */
static void on_remove(void *opaque, const struct tlb_array *a, const struct tlb_entry *e)
{
    struct mmu *m = opaque;
    if (a->spec->level != LVL_L1)
        return;
    unsigned kinds = ((a->spec->sides & SIDE_I) ? 1u << ACC_FETCH : 0) |
                     ((a->spec->sides & SIDE_D) ? (1u << ACC_READ) | (1u << ACC_WRITE) : 0);
    fast_drop_range(m, kinds, e->vbase, PG_BIT(e->size));
}

/* Removal by an invalidation: remembered for the refill-miss count (mmu/stats.h). */
struct inv_ctx {
    struct mmu *m;
    enum inv_cause cause;
};

static void on_inv_remove(void *opaque, const struct tlb_array *a, const struct tlb_entry *e)
{
    struct inv_ctx *c = opaque;
    stats_refill_note(&c->m->tlb->stats, e->vbase, e->size, e->pcid, e->flags & TE_GLOBAL, c->cause,
                      icount_of(c->m));
    on_remove(c->m, a, e);
}

const char *mmu_preset_name(unsigned i)
{
    for (unsigned k = 0; tlb_presets[k]; k++)
        if (k == i)
            return tlb_presets[k]->name;
    return NULL;
}

bool mmu_init(struct mmu *m, struct physmem *pm, int vp, const char *preset,
              enum tlb_model_mode mode, const char **err)
{
    memset(m, 0, sizeof *m);
    const struct tlb_preset *p = tlb_find_preset(preset);
    if (!p) {
        *err = "unknown TLB preset (known: skylake, goldencove, zen2)";
        return false;
    }
    m->pm = pm;
    m->vp = vp;
    m->model_mode = mode;
    m->paging_was_off = true;
    m->a20_mask = ~0ull;        /* on: no firmware here turns it on, and Multiboot and Linux expect it on */
    m->tlb = tlb_new(p);
    if (!m->tlb || !fast_init(m)) {
        tlb_free(m->tlb);
        m->tlb = NULL;
        *err = "out of host memory for the TLB model";
        return false;
    }
    physmem_add_code_listener(pm, fast_code_listener, m);
    physmem_add_map_listener(pm, fast_map_listener, m);
    return true;
}

void mmu_destroy(struct mmu *m)
{
    if (m->pm) {
        physmem_remove_code_listener(m->pm, fast_code_listener, m);
        physmem_remove_map_listener(m->pm, fast_map_listener, m);
    }
    fast_destroy(m);
    tlb_free(m->tlb);
    m->tlb = NULL;
}

void mmu_set_flush_policy(struct mmu *m, enum mmu_flush_policy p) { m->flush_policy = p; }

/* --- invalidation core -------------------------------------------------------------- */

enum psc_op { PSC_KEEP = -1 };

/* Perform one invalidation operation: `must` is the SDM minimum; with the conservative
 * policy and a flushable operation, everything goes (counted as over-flush). */
static unsigned invalidate(struct mmu *m, enum inv_cause cause, struct inv_pred must, int psc_how,
                           bool conservative_applies)
{
    struct tlb *t = m->tlb;
    struct inv_pred remove = must;
    bool all = conservative_applies && m->flush_policy == FLUSH_CONSERVATIVE;
    if (all) {
        remove.how = 0;
        psc_how = PSC_INV_ALL;
    }
    struct inv_ctx ctx = { m, cause };
    unsigned n = tlb_invalidate(t, &remove, &must, cause, on_inv_remove, &ctx);
    if (psc_how != PSC_KEEP)
        t->stats.psc_invalidated += psc_invalidate(&t->psc, (enum psc_inv)psc_how, must.pcid, must.root,
                                                   must.la, t->pcid_root);
    STAT_ADD(&t->stats, inv_ops[cause], 1);
    if (m->trace)
        th_inv(m, cause, &must, n, all);
    return n;
}

/* The #PF on la: drop la's translation (current PCID, or global) and the PSC entries
 * that could have served it, so the fault does not recur from stale caches. */
static void invalidate_for_pf(struct mmu *m, uint64_t la)
{
    struct inv_pred p = { .how = INV_BY_ADDR | INV_BY_PCID | INV_GLOBAL_ANY, .la = la, .pcid = cur_pcid(m) };
    invalidate(m, INV_PF, p, PSC_INV_PCID_LA, false);
    m->last_pf_la = (la & ~0xfffull) | 1;
}

void mmu_note_page_fault(struct mmu *m, uint64_t la)
{
    if (m->last_pf_la == ((la & ~0xfffull) | 1)) {
        m->last_pf_la = 0;      /* mmu_translate already did it when it reported the fault */
        return;
    }
    invalidate_for_pf(m, la);
    m->last_pf_la = 0;
}

/* --- translation ---------------------------------------------------------------------- */

static bool do_walk(struct mmu *m, const struct walk_req *r, bool counted, struct tlb_entry **out,
                    struct xlate *x)
{
    struct tlb *t = m->tlb;
    struct mmu_stats *s = &t->stats;
    const struct tlb_preset *p = t->preset;
    struct walk_result res;
    unsigned side = r->acc == ACC_FETCH ? SIDE_I : SIDE_D;

    if (r->mode == WALK_LONG4)
        s->psc_probes++;            /* legacy walks use no PSCs */
    bool ok = walk(m->pm, &t->psc, r, &res, &s->psc_evictions, &s->psc_fills);
    uint32_t cyc = p->l2_latency + p->psc_latency + res.reads * p->pte_latency;
    x->cost += cyc;
    s->cur_cr3->walk_cycles += cyc;
    if (m->trace)
        th_walk(m, r->la, r->acc, r->user, ok, &res, cyc);
    if (res.psc_level >= 0)
        s->psc_hits[res.psc_level]++;
    STAT_ADD(s, walk_cycles[r->acc], cyc);
    STAT_ADD(s, pte_reads[r->acc], res.reads);
    stats_walk_hist(s, cyc);
    if (!ok) {
        if (counted)
            STAT_ADD(s, walks_faulted[r->acc], 1);
        x->pf_err = res.pf_err;
        invalidate_for_pf(m, r->la);
        return false;
    }
    if (counted)
        STAT_ADD(s, walks_completed[r->acc][res.size], 1);
    struct tlb_entry proto = {
        .vbase = r->la & ~PG_MASK(res.size), .pbase = res.pbase, .root = r->root, .pcid = r->pcid,
        .size = res.size, .orig_size = res.size,
        .flags = (uint8_t)((res.w ? TE_W : 0) | (res.u ? TE_U : 0) | (res.xd ? TE_XD : 0) |
                           (res.dirty ? TE_DIRTY : 0) | (res.global ? TE_GLOBAL : 0) |
                           (res.is_4m ? TE_4M : 0)),
    };
    /* fill policy (TLB-MODEL.md (a)): a walk fills L2 and L1 */
    struct tlb_entry *e2 = tlb_fill(t, LVL_L2, side, r->la, &proto, on_remove, m);
    if (m->trace)
        th_fill(m, e2, r->acc, r->user);
    *out = tlb_fill(t, LVL_L1, side, r->la, &proto, on_remove, m);
    if (m->trace)
        th_fill(m, *out, r->acc, r->user);
    return true;
}

static void maybe_fill_fast(struct mmu *m, uint64_t la, uint64_t pa, enum mmu_access acc)
{
    if (m->model_mode != TLB_MODEL_FAST)
        return;                 /* exact: every access is a modelled lookup */
    uint8_t *host = physmem_ram_page(m->pm, pa);
    if (!host)
        return;                 /* MMIO, ROM, nothing: always the slow path */
    if (acc == ACC_WRITE && physmem_is_code(m->pm, pa))
        return;                 /* stores to code pages must reach the code hook */
    if (m->n_nofast && acc != ACC_FETCH) {
        for (unsigned k = 0; k < m->n_nofast; k++)
            if (m->nofast[k] == (la & ~0xfffull))
                return;         /* a watched page: every access is compared */
    }
    fast_fill(m, fast_ctx_of(m, m->cpl, m->ac), acc, la, host);
}

static void fold_if_user_changes(struct mmu *m, unsigned new_cpl);

static bool translate(struct mmu *m, uint64_t la, enum mmu_access acc, unsigned cpl, bool implicit,
                      bool fill_fast, struct xlate *x)
{
    x->cost = 0;
    x->pf_err = 0;
    if (!(m->cr0 & CR0_PG)) {
        /* paging off: identity, 32-bit wrap outside long mode; the TLB is not used */
        x->pa = (m->efer & EFER_LMA) ? la : (la & 0xffffffffull & m->a20_mask);
        m->tlb->stats.unpaged_accesses++;
        if (fill_fast)
            maybe_fill_fast(m, la, x->pa, acc);
        return true;
    }
    enum walk_mode mode = (m->efer & EFER_LMA) ? WALK_LONG4 : (m->cr4 & CR4_PAE) ? WALK_PAE : WALK_32;
    if (mode == WALK_LONG4 && (m->cr4 & CR4_LA57)) {
        /* CPUID does not advertise LA57, so MOV CR4 should have refused it */
        fprintf(stderr, "hvemu: mmu: 5-level paging is not implemented (vp %d)\n", m->vp);
        abort();
    }
    if (mode != WALK_LONG4)
        la &= 0xffffffffull;

    struct tlb *t = m->tlb;
    struct mmu_stats *s = &t->stats;
    uint16_t pcid = cur_pcid(m);
    unsigned side = acc == ACC_FETCH ? SIDE_I : SIDE_D;
    bool user = cpl == 3;
    struct walk_req r = {
        .la = la, .mode = mode, .pse = m->cr4 & CR4_PSE, .acc = acc, .user = user,
        .implicit = implicit && !user, .ac = !implicit && m->ac, .wp = m->cr0 & CR0_WP,
        .nxe = (m->efer & EFER_NXE) && mode != WALK_32,     /* no XD in 32-bit paging */
        .smep = m->cr4 & CR4_SMEP, .smap = m->cr4 & CR4_SMAP, .pge = m->cr4 & CR4_PGE,
        .root = mode == WALK_PAE ? (m->cr3 & 0xffffffe0ull) : cur_root(m),   /* PAE: CR3[31:5] */
        .pcid = pcid,
    };

    STAT_ADD(s, accesses[acc], 1);
    if (user)
        STAT_ADD(s, user_accesses[acc], 1);
    struct tlb_entry *e = tlb_lookup(t, LVL_L1, side, la, pcid, true);
    if (e) {
        STAT_ADD(s, l1_hits[acc], 1);
        if (m->trace) {
            if (m->trace_log_hits)
                th_lookup(m, TRACE_EV_LOOKUP_L1_HIT, la, acc, user, e, 0);
            else
                m->trace_unlogged_hits++;
        }
    } else {
        STAT_ADD(s, l1_misses[acc], 1);
        s->cur_cr3->l1_misses[acc]++;
        int refill = stats_refill_miss(s, la, pcid, icount_of(m));
        if (refill >= 0) {
            STAT_ADD(s, refill_misses[refill], 1);
            s->cur_cr3->refill_misses++;
        }
        struct tlb_entry *e2 = tlb_lookup(t, LVL_L2, side, la, pcid, true);
        if (e2) {
            STAT_ADD(s, l2_hits[acc], 1);
            STAT_ADD(s, l2_cycles[acc], t->preset->l2_latency);
            s->cur_cr3->stlb_hits[acc]++;
            x->cost += t->preset->l2_latency;
            if (m->trace)
                th_lookup(m, TRACE_EV_LOOKUP_STLB_HIT, la, acc, user, e2, t->preset->l2_latency);
            struct tlb_entry copy = *e2;
            e = tlb_fill(t, LVL_L1, side, la, &copy, on_remove, m);   /* an L2 hit fills L1 */
            if (m->trace)
                th_fill(m, e, acc, user);
        } else {
            STAT_ADD(s, walks[acc], 1);
            s->cur_cr3->walks[acc]++;
            if (refill >= 0)
                STAT_ADD(s, refill_walks, 1);
            if (m->trace)
                th_lookup(m, TRACE_EV_MISS, la, acc, user, NULL, 0);
            if (!do_walk(m, &r, true, &e, x))
                return false;
        }
    }

    /* Rights come from the cached entry: a stale entry with fewer rights faults
     * (the "spurious #PF" of SDM 4.10.4.3), and the fault invalidates it. */
    uint32_t err = walk_check_rights(&r, e->flags & TE_W, e->flags & TE_U, e->flags & TE_XD);
    if (err) {
        STAT_ADD(s, stale_faults[acc], 1);
        x->pf_err = err;
        invalidate_for_pf(m, la);
        return false;
    }
    if (acc == ACC_WRITE && !(e->flags & TE_DIRTY)) {
        /* SDM 4.8: a write through an entry with D=0 walks again to set D in memory */
        STAT_ADD(s, dirty_rewalks, 1);
        struct inv_pred p = { .how = INV_BY_ADDR | INV_BY_PCID | INV_GLOBAL_ANY, .la = la, .pcid = pcid };
        unsigned removed = tlb_invalidate(t, &p, &p, INV_REFRESH, on_remove, m);
        STAT_ADD(s, inv_ops[INV_REFRESH], 1);
        if (m->trace)
            th_inv(m, INV_REFRESH, &p, removed, false);
        if (!do_walk(m, &r, false, &e, x))
            return false;
    }
    x->pa = e->pbase + (la & PG_MASK(e->size));
    if (!(m->efer & EFER_LMA))
        x->pa &= m->a20_mask;
    m->last_pf_la = 0;
    if (fill_fast)
        maybe_fill_fast(m, la, x->pa, acc);
    return true;
}

bool mmu_translate(struct mmu *m, uint64_t la, enum mmu_access acc, struct xlate *x)
{
    return translate(m, la, acc, m->cpl, false, true, x);
}

bool mmu_translate_as(struct mmu *m, uint64_t la, enum mmu_access acc, unsigned cpl, struct xlate *x)
{
    return translate(m, la, acc, cpl, cpl < 3, false, x);
}

/* --- control state ----------------------------------------------------------------------- */

void mmu_set_cr0(struct mmu *m, uint64_t cr0)
{
    uint64_t old = m->cr0;
    if ((old ^ cr0) & CR0_PG)
        mmu_stats_fold(m);
    m->cr0 = cr0;
    if ((old & CR0_PG) && !(cr0 & CR0_PG)) {
        /* SDM 4.10.4.1: clearing CR0.PG invalidates all TLB entries and PSCs (B-1.4's
         * "may flush" for MOV CR0 covers it otherwise) */
        struct inv_pred all = { .how = 0 };
        invalidate(m, INV_CR0_PG, all, PSC_INV_ALL, false);
    }
    m->paging_was_off = !(cr0 & CR0_PG);
    if ((old ^ cr0) & (CR0_PG | CR0_WP))
        fast_flush_all(m);      /* rights of the fast entries were computed under the old bits */
}

void mmu_set_cr3(struct mmu *m, uint64_t v)
{
    mmu_stats_fold(m);          /* fast hits belong to the old PCID */
    struct tlb *t = m->tlb;
    uint16_t old_pcid = cur_pcid(m);
    bool pcide = m->cr4 & CR4_PCIDE;
    bool noflush = pcide && (v >> 63);
    m->cr3 = v & ~(1ull << 63);          /* bit 63 is not stored (SDM 4.10.4.1) */
    uint16_t pcid = cur_pcid(m);
    t->pcid_root[pcid] = cur_root(m);
    t->stats.cur = stats_pcid(&t->stats, pcid);
    if (noflush) {
        struct inv_pred none = { .how = INV_NONE, .pcid = pcid };
        invalidate(m, INV_CR3_NOFLUSH, none, PSC_KEEP, true);
    } else {
        /* PCIDE=0: PCID 000H; PCIDE=1: the new PCID.  Non-global entries and PSCs. */
        struct inv_pred p = { .how = INV_BY_PCID | INV_KEEP_GLOBAL, .pcid = pcid };
        invalidate(m, INV_CR3, p, PSC_INV_PCID, true);
    }
    stats_cr3_switch(&t->stats, cur_root(m), icount_of(m));
    if (m->trace)
        th_ctx(m);
    if (pcid != old_pcid)
        fast_flush_all(m);      /* fast tags carry no PCID */
}

void mmu_set_cr4(struct mmu *m, uint64_t cr4)
{
    uint64_t old = m->cr4, ch = old ^ cr4;
    if (ch & CR4_PCIDE)
        mmu_stats_fold(m);
    uint16_t pcid_before = cur_pcid(m);
    m->cr4 = cr4;
    if ((ch & CR4_PGE) || ((old & CR4_PCIDE) && !(cr4 & CR4_PCIDE))) {
        struct inv_pred all = { .how = 0 };
        invalidate(m, INV_CR4_ALL, all, PSC_INV_ALL, false);
    } else if ((ch & CR4_PAE) || (!(old & CR4_SMEP) && (cr4 & CR4_SMEP))) {
        /* "all TLB entries and PSCs for the current PCID": globals that would match it too */
        struct inv_pred p = { .how = INV_BY_PCID | INV_GLOBAL_ANY, .pcid = pcid_before };
        invalidate(m, INV_CR4_PCID, p, PSC_INV_PCID, false);
    }
    if (ch & CR4_PCIDE) {
        struct tlb *t = m->tlb;
        uint16_t pcid = cur_pcid(m);
        t->pcid_root[pcid] = cur_root(m);
        t->stats.cur = stats_pcid(&t->stats, pcid);
    }
    if (ch & (CR4_PGE | CR4_PCIDE | CR4_PAE | CR4_SMEP | CR4_SMAP | CR4_LA57))
        fast_flush_all(m);
    fast_select(m);             /* SMAP decides whether AC selects FAST_SUP_AC */
    if (ch && m->trace)
        th_ctx(m);
}

void mmu_set_efer(struct mmu *m, uint64_t efer)
{
    uint64_t ch = m->efer ^ efer;
    m->efer = efer;
    if (ch & (EFER_NXE | EFER_LMA))
        fast_flush_all(m);
}

static void fold_if_user_changes(struct mmu *m, unsigned new_cpl)
{
    if ((m->cpl == 3) != (new_cpl == 3))
        mmu_stats_fold(m);      /* keep user_accesses exact */
}

void mmu_set_a20(struct mmu *m, bool enabled)
{
    uint64_t mask = enabled ? ~0ull : ~(1ull << 20);
    if (mask == m->a20_mask)
        return;
    m->a20_mask = mask;
    fast_flush_all(m);          /* its host pointers were computed under the old mask */
}

void mmu_set_cpl_ac(struct mmu *m, unsigned cpl, bool ac)
{
    fold_if_user_changes(m, cpl);
    m->cpl = cpl;
    m->ac = ac;
    fast_select(m);
}

/* --- invalidation instructions --------------------------------------------------------------- */

void mmu_invlpg(struct mmu *m, uint64_t la)
{
    if ((m->efer & EFER_LMA) && !canonical48(la))
        return;                 /* a NOP in 64-bit mode (SDM INVLPG) */
    /* this page under the current PCID, global entries for it under any PCID, and all
     * PSC entries of the current PCID */
    struct inv_pred p = { .how = INV_BY_ADDR | INV_BY_PCID | INV_GLOBAL_ANY, .la = la, .pcid = cur_pcid(m) };
    invalidate(m, INV_INVLPG, p, PSC_INV_PCID, true);
}

bool mmu_invpcid(struct mmu *m, unsigned type, uint16_t pcid, uint64_t la)
{
    if (type > 3)
        return false;
    if (type <= 1 && !(m->cr4 & CR4_PCIDE) && pcid != 0)
        return false;           /* PCIDE=0: types 0/1 only with PCID 0 */
    if (pcid > 0xfff)
        return false;
    if (type == 0 && !canonical48(la))
        return false;
    struct inv_pred p;
    int psc;
    switch (type) {
    case 0:  p = (struct inv_pred){ .how = INV_BY_ADDR | INV_BY_PCID | INV_KEEP_GLOBAL, .la = la, .pcid = pcid }; psc = PSC_INV_PCID; break;
    case 1:  p = (struct inv_pred){ .how = INV_BY_PCID | INV_KEEP_GLOBAL, .pcid = pcid }; psc = PSC_INV_PCID; break;
    case 2:  p = (struct inv_pred){ .how = 0 }; psc = PSC_INV_ALL;  break;
    default: p = (struct inv_pred){ .how = INV_KEEP_GLOBAL }; psc = PSC_INV_ALL;  break;
    }
    invalidate(m, (enum inv_cause)(INV_INVPCID0 + type), p, psc, true);
    return true;
}

/* --- Hyper-V flush entry points ----------------------------------------------------------------- */

#define HV_FLAGS_KNOWN 0xfull

bool mmu_flush_address_space(struct mmu *m, uint64_t cr3_root, uint64_t flags)
{
    if (flags & ~HV_FLAGS_KNOWN)
        return false;
    bool all_spaces = flags & MMU_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
    bool non_global = flags & MMU_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY;
    struct inv_pred p = { .how = (all_spaces ? 0 : INV_BY_ROOT) |
                          (non_global ? INV_KEEP_GLOBAL : INV_GLOBAL_ANY), .la = 0, .pcid = 0, .root = cr3_root & CR3_ROOT_MASK };
    unsigned n = invalidate(m, INV_HV_SPACE, p, all_spaces ? PSC_INV_ALL : PSC_INV_ROOT, true);
    if (m->trace)
        th_hv_action(m, false, flags, cr3_root, 0, 0, n, m->flush_policy == FLUSH_CONSERVATIVE);
    return true;
}

bool mmu_flush_gva_range(struct mmu *m, uint64_t cr3_root, uint64_t gva, uint64_t npages, uint64_t flags)
{
    if ((flags & ~HV_FLAGS_KNOWN) || (flags & MMU_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY) || npages == 0)
        return false;
    bool all_spaces = flags & MMU_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
    /* every (large) page overlapping the range, global or not */
    struct inv_pred p = { .how = INV_BY_ADDR | (all_spaces ? 0 : INV_BY_ROOT) | INV_GLOBAL_ANY,
                          .la = gva & ~0xfffull, .root = cr3_root & CR3_ROOT_MASK, .len = npages << 12 };
    unsigned n = invalidate(m, INV_HV_GVA, p, all_spaces ? PSC_INV_ALL : PSC_INV_ROOT, true);
    if (m->trace)
        th_hv_action(m, true, flags, cr3_root, gva, npages, n, m->flush_policy == FLUSH_CONSERVATIVE);
    return true;
}

bool mmu_flush_gva(struct mmu *m, uint64_t cr3_root, uint64_t gva, uint64_t flags)
{
    return mmu_flush_gva_range(m, cr3_root, gva, 1, flags);
}

/* --- statistics glue --------------------------------------------------------------------------------- */

void mmu_set_nofast_pages(struct mmu *m, const uint64_t *pages, unsigned n)
{
    if (n > MMU_MAX_NOFAST)
        n = MMU_MAX_NOFAST;
    if (n == m->n_nofast && memcmp(pages, m->nofast, n * sizeof *pages) == 0)
        return;
    for (unsigned k = 0; k < n; k++) {
        m->nofast[k] = pages[k] & ~0xfffull;
        fast_drop_range(m, (1u << ACC_READ) | (1u << ACC_WRITE), m->nofast[k], 0x1000);
    }
    m->n_nofast = n;
}

void mmu_stats_fold(struct mmu *m)
{
    struct mmu_stats *s = &m->tlb->stats;
    if (m->trace && m->trace_unlogged_hits) {
        th_count_hits(m, m->trace_unlogged_hits);
        m->trace_unlogged_hits = 0;
    }
    for (int k = 0; k < ACC_KINDS; k++) {
        uint64_t n = m->fast_hits[k];
        if (!n)
            continue;
        if (m->paging_was_off) {
            s->unpaged_accesses += n;
        } else {
            STAT_ADD(s, accesses[k], n);
            STAT_ADD(s, l1_hits[k], n);         /* a fast hit is an L1 hit (DESIGN.md §3) */
            if (m->trace)
                th_count_hits(m, n);
            if (m->cpl == 3)
                STAT_ADD(s, user_accesses[k], n);
        }
        m->fast_hits[k] = 0;
    }
}

#ifdef HVEMU_CHECK_INVARIANT
void mmu_check_fast_entry(struct mmu *m, uint64_t la, enum mmu_access acc)
{
    const struct fast_entry *fe = &m->fast_cur->e[acc][(la >> 12) & (FAST_ENTRIES - 1)];
    uintptr_t host = (uintptr_t)((la & ~0xfffull) + fe->addend);
    const char *why = NULL;
    uint64_t pa;
    if (!(m->cr0 & CR0_PG)) {
        pa = (m->efer & EFER_LMA) ? la : (la & 0xffffffffull);
    } else {
        unsigned side = acc == ACC_FETCH ? SIDE_I : SIDE_D;
        struct tlb_entry *e = tlb_lookup(m->tlb, LVL_L1, side, la, cur_pcid(m), false);
        if (!e) {
            why = "no L1 entry backs it";
            goto bad;
        }
        pa = e->pbase + (la & PG_MASK(e->size));
        struct walk_req r = {
            .la = la, .acc = acc, .user = m->cpl == 3, .ac = m->ac, .wp = m->cr0 & CR0_WP,
            .nxe = (m->efer & EFER_NXE) && (m->efer & EFER_LMA || m->cr4 & CR4_PAE),
            .smep = m->cr4 & CR4_SMEP, .smap = m->cr4 & CR4_SMAP,
        };
        if (walk_check_rights(&r, e->flags & TE_W, e->flags & TE_U, e->flags & TE_XD)) {
            why = "the L1 entry does not grant this access";
            goto bad;
        }
        if (acc == ACC_WRITE && !(e->flags & TE_DIRTY)) {
            why = "write entry while the L1 entry has D=0";
            goto bad;
        }
    }
    if (acc == ACC_WRITE && physmem_is_code(m->pm, pa)) {
        why = "write entry to a code page";
        goto bad;
    }
    uint8_t *page = physmem_ram_page(m->pm, pa);
    if (!page || (uintptr_t)page != host) {
        why = "frame differs from the model";
        goto bad;
    }
    return;
bad:
    fprintf(stderr, "hvemu: fast-cache invariant broken (vp %d, la %#llx, kind %d): %s\n",
            m->vp, (unsigned long long)la, acc, why);
    abort();
}
#endif
