/* The mmu's trace records (conventions: mmu/trace_hooks.h, trace/trace_format.h). */
#include "mmu/trace_hooks.h"

#include <string.h>

#include "mmu/tlb.h"
#include "mmu/walk.h"
#include "trace/trace_writer.h"

#define CR4_PCIDE (1ull << 17)

static uint16_t pcid_now(const struct mmu *m)
{
    return (m->cr4 & CR4_PCIDE) ? (uint16_t)(m->cr3 & 0xfff) : 0;   /* SDM 4.10.1 */
}

static void emit(struct mmu *m, unsigned type, uint64_t va, uint64_t aux, uint16_t pf, uint8_t info,
                 uint64_t latency)
{
    struct trace_record r = {
        .cycle = m->cycles ? *m->cycles : 0,
        .vaddr = va,
        .aux = aux,
        .vp = (uint16_t)m->vp,
        .pcid_flags = (uint16_t)(pf | TRACE_PF_GUEST),     /* every VP is a guest */
        .type = (uint8_t)type,
        .info = info,
        .latency = (uint16_t)(latency > 0xFFFF ? 0xFFFF : latency),
    };
    trace_emit(m->trace, &r);
}

static unsigned access_code(enum mmu_access acc)
{
    return acc == ACC_FETCH ? TRACE_ACC_X : acc == ACC_WRITE ? TRACE_ACC_W : TRACE_ACC_R;
}

/* The trace structure of an array: by level, side and smallest page size held. */
static unsigned struct_of(const struct tlb_array_spec *s)
{
    if (s->level == LVL_L2)
        return s->sizes == (1u << PG_1G) ? TRACE_ST_STLB_1G : TRACE_ST_STLB;
    if (s->sides & SIDE_I)
        return (s->sizes & (1u << PG_4K)) ? TRACE_ST_L1I_4K : TRACE_ST_L1I_2M;
    if (s->sizes & (1u << PG_4K))
        return TRACE_ST_L1D_4K;
    return (s->sizes & (1u << PG_2M)) ? TRACE_ST_L1D_2M : TRACE_ST_L1D_1G;
}

bool mmu_trace_geometry(const char *preset, struct trace_geometry_entry g[TRACE_STRUCT_COUNT], uint8_t *preset_id)
{
    const struct tlb_preset *p = tlb_find_preset(preset);
    if (!p)
        return false;
    for (unsigned i = 0; i < TRACE_STRUCT_COUNT; i++)
        g[i] = (struct trace_geometry_entry){ 0 };
    for (unsigned i = 0; i < p->narrays; i++) {
        const struct tlb_array_spec *s = &p->arrays[i];
        g[struct_of(s)] = (struct trace_geometry_entry){
            .entries = (uint16_t)(s->sets * s->ways),
            .ways = (uint16_t)s->ways,
            .policy = s->repl == REPL_PLRU ? TRACE_REPL_PLRU : TRACE_REPL_LRU,
            .page_size_mask = (uint8_t)s->sizes,        /* enum pg_size == enum trace_page_size */
            .hit_latency = (uint16_t)(s->level == LVL_L2 ? p->l2_latency : 0),
        };
    }
    unsigned psc = 0;
    for (int l = 0; l < PSC_LEVELS; l++)
        psc += p->psc.sets[l] * p->psc.ways[l];
    g[TRACE_ST_PSC] = (struct trace_geometry_entry){
        .entries = (uint16_t)psc, .ways = (uint16_t)psc, .policy = TRACE_REPL_LRU,
        .page_size_mask = 0, .hit_latency = (uint16_t)p->psc_latency,
    };
    *preset_id = !strcmp(p->name, "skylake") ? TRACE_PRESET_SKYLAKE
               : !strcmp(p->name, "goldencove") ? TRACE_PRESET_GOLDENCOVE
               : !strcmp(p->name, "zen2") ? TRACE_PRESET_ZEN2 : TRACE_PRESET_CUSTOM;
    return true;
}

/* --- lookups, walks, fills ------------------------------------------------------------ */

void th_lookup(struct mmu *m, unsigned type, uint64_t la, enum mmu_access acc, bool user,
               const struct tlb_entry *e, uint32_t latency)
{
    unsigned st = 0;
    uint16_t pf = TRACE_MAKE_PF(pcid_now(m), 0, 0, 0);
    uint64_t pa = 0;
    if (e) {
        const struct tlb_array *a = NULL;
        for (unsigned i = 0; i < m->tlb->narrays && !a; i++) {
            const struct tlb_array *c = &m->tlb->arrays[i];
            if (e >= c->e && e < c->e + (size_t)c->spec->sets * c->spec->ways)
                a = c;
        }
        st = a ? struct_of(a->spec) : 0;
        pa = e->pbase + (la & PG_MASK(e->size));
        pf = TRACE_MAKE_PF(pcid_now(m), e->flags & TE_GLOBAL, e->size, 0);
    }
    emit(m, type, la, pa, pf, TRACE_MAKE_INFO(access_code(acc), user, st, 0), latency);
}

void th_walk(struct mmu *m, uint64_t la, enum mmu_access acc, bool user, bool ok,
             const struct walk_result *res, uint32_t cycles)
{
    uint16_t pf = TRACE_MAKE_PF(pcid_now(m), 0, 0, 0);
    unsigned a = access_code(acc);
    emit(m, TRACE_EV_WALK_START, la, 0, pf, TRACE_MAKE_INFO(a, user, TRACE_ST_PSC,
         res->psc_level >= 0 ? (unsigned)res->psc_level : 0), 0);
    for (uint32_t i = 0; i < res->reads && i < 4; i++)
        emit(m, TRACE_EV_WALK_STEP, la, res->step_addr[i], pf,
             TRACE_MAKE_INFO(a, user, 0, res->step_level[i] - 1u), 0);
    uint64_t pa = ok ? res->pbase + (la & PG_MASK(res->size)) : 0;
    uint16_t pfd = ok ? TRACE_MAKE_PF(pcid_now(m), res->global, res->size, 0) : pf;
    emit(m, TRACE_EV_WALK_DONE, la, pa, pfd, TRACE_MAKE_INFO(a, user, 0, ok ? 0 : 1), cycles);
}

static unsigned orig_code(const struct tlb_entry *e)
{
    return (e->flags & TE_4M) ? 3u : e->orig_size;
}

void th_fill(struct mmu *m, const struct tlb_entry *e, enum mmu_access acc, bool user)
{
    struct tlb *t = m->tlb;
    if (!e)
        return;                 /* the level serves no such side: nothing was filled */
    unsigned a = access_code(acc);
    emit(m, TRACE_EV_FILL, e->vbase, e->pbase,
         TRACE_MAKE_PF(e->pcid, e->flags & TE_GLOBAL, e->size, 0),
         TRACE_MAKE_INFO(a, user, struct_of(t->fill_array->spec), orig_code(e)), 0);
    if (t->victim_valid) {
        const struct tlb_entry *v = &t->victim;
        emit(m, TRACE_EV_EVICT, v->vbase, v->pbase,
             TRACE_MAKE_PF(v->pcid, v->flags & TE_GLOBAL, v->size, 0),
             TRACE_MAKE_INFO(a, user, struct_of(t->victim_array->spec), orig_code(v)), 0);
        t->victim_valid = false;
    }
}

/* --- invalidations and context ---------------------------------------------------------- */

void th_inv(struct mmu *m, unsigned cause, const struct inv_pred *must, unsigned removed, bool everything)
{
    unsigned type;
    uint64_t aux = 0;
    uint8_t info = everything ? TRACE_INV_EVERYTHING : 0;
    switch (cause) {
    case INV_INVLPG:      type = TRACE_EV_INV_INVLPG; break;
    case INV_INVPCID0:    type = TRACE_EV_INV_INVPCID0; break;
    case INV_INVPCID1:    type = TRACE_EV_INV_INVPCID1; break;
    case INV_INVPCID2:    type = TRACE_EV_INV_INVPCID2; break;
    case INV_INVPCID3:    type = TRACE_EV_INV_INVPCID3; break;
    case INV_CR3:         type = TRACE_EV_INV_CR3; aux = m->cr3; break;
    case INV_CR3_NOFLUSH: type = TRACE_EV_INV_CR3_NOFLUSH; aux = m->cr3; break;
    case INV_CR4_ALL:     type = TRACE_EV_INV_CR4; aux = m->cr4; break;
    case INV_CR4_PCID:    type = TRACE_EV_INV_CR4; aux = m->cr4; info |= TRACE_CR4_CURRENT_PCID_ONLY; break;
    case INV_CR0_PG:      type = TRACE_EV_INV_CR0; aux = m->cr0; break;
    case INV_PF:          type = TRACE_EV_INV_PF; break;
    case INV_REFRESH:     type = TRACE_EV_INV_REFRESH; break;
    default:              return;       /* the Hyper-V causes write th_hv_action */
    }
    emit(m, type, must->la, aux, TRACE_MAKE_PF(must->pcid, 0, 0, 0), info, removed);
}

void th_hv_action(struct mmu *m, bool list, uint64_t flags, uint64_t root, uint64_t gva, uint64_t npages,
                  unsigned removed, bool everything)
{
    uint8_t info = (uint8_t)((flags & 7u) | TRACE_HV_TARGET_ACTION | (everything ? TRACE_HV_EVERYTHING : 0));
    uint64_t aux = root & TRACE_CR3_ROOT_MASK;
    if (list)
        aux |= (npages - 1) & 0xFFF;
    emit(m, list ? TRACE_EV_HV_FLUSH_LIST : TRACE_EV_HV_FLUSH_SPACE, list ? gva & ~0xFFFull : 0, aux,
         0, info, removed);
}

void th_ctx(struct mmu *m)
{
    emit(m, TRACE_EV_CTX_MARKER, m->cr4, m->cr3, TRACE_MAKE_PF(pcid_now(m), 0, 0, 0), 0, 0);
}

void mmu_set_trace(struct mmu *m, struct trace_writer *w)
{
    if (m->trace)
        mmu_stats_fold(m);          /* counted hits and fast hits reach the old writer */
    m->trace = w;
    m->trace_unlogged_hits = 0;
    m->trace_log_hits = trace_logs_hits(w);
    if (w)
        th_ctx(m);                  /* the starting context, for cr3= filters and replay */
}

void th_count_hits(struct mmu *m, uint64_t n)
{
    trace_count(m->trace, (uint16_t)m->vp, TRACE_EV_LOOKUP_L1_HIT, n);
}

/* --- hv/ helpers --------------------------------------------------------------------------- */

void mmu_trace_hv_call(struct mmu *caller, unsigned type, uint64_t flags, uint64_t address_space,
                       uint64_t targets, uint32_t stall)
{
    if (!caller->trace)
        return;
    emit(caller, type, address_space, targets, 0, (uint8_t)(flags & 7u), stall);
}

void mmu_trace_hv_ipi(struct mmu *caller, uint32_t vector, uint64_t targets)
{
    if (caller->trace)
        emit(caller, TRACE_EV_HV_IPI, vector, targets, 0, 0, 0);
}

void mmu_trace_suspend(struct mmu *m, unsigned holder)
{
    if (m->trace)
        emit(m, TRACE_EV_SUSPEND, 0, holder, 0, 0, 0);
}

void mmu_trace_resume(struct mmu *m, uint32_t stall)
{
    if (m->trace)
        emit(m, TRACE_EV_RESUME, 0, 0, 0, 0, stall);
}
