/* The per-VP memory-management unit: translation, the modelled TLB, the
 * paging-structure caches, the host fast-lookup cache and every invalidation
 * (DESIGN.md §2-3, TLB-MODEL.md Part A).
 *
 * The CPU tells the mmu about every control-state change through mmu_set_*(); the
 * mmu performs exactly the invalidations of TLB-MODEL.md B-1.4 and counts them.
 *
 * Fast-lookup cache (an accelerator only): per privilege context and access kind,
 * a direct-mapped table {tag = page-aligned linear address, addend = host - linear}.
 * Invariant: every fast entry is backed by an entry of the modelled TLB; every
 * eviction or invalidation in the model removes the fast entries it covers.
 * FAST_TAG_INVALID never matches a page-aligned address.
 */
#ifndef HVEMU_MMU_MMU_H
#define HVEMU_MMU_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>
#include <stdio.h>

struct physmem;
struct tlb;
struct trace_writer;
struct fast_aux;

enum mmu_access { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2, ACC_KINDS = 3 };

/* #PF error-code bits (SDM Vol. 3A 4.7) */
#define PFERR_P    (1u << 0)
#define PFERR_W    (1u << 1)
#define PFERR_U    (1u << 2)
#define PFERR_RSVD (1u << 3)
#define PFERR_I    (1u << 4)
#define PFERR_PK   (1u << 5)

#define FAST_BITS 10
#define FAST_ENTRIES (1u << FAST_BITS)
#define FAST_TAG_INVALID 1ull

#define MMU_MAX_NOFAST 40

struct fast_entry {
    uint64_t  tag;
    uintptr_t addend;       /* host address = linear address + addend */
};

/* One privilege context of the fast cache (user, supervisor, supervisor with AC under SMAP). */
struct fast_set {
    struct fast_entry e[ACC_KINDS][FAST_ENTRIES];
};
enum fast_ctx { FAST_SUP = 0, FAST_USER = 1, FAST_SUP_AC = 2, FAST_CTXS = 3 };

enum tlb_model_mode { TLB_MODEL_FAST = 0, TLB_MODEL_EXACT = 1 };

/* Invalidation policy (TLB-MODEL.md A-3): the SDM minimum, or a full flush of the VP's
 * TLB and PSCs on every CR3 write, INVLPG, INVPCID and Hyper-V flush (counted as
 * over-flushes). */
enum mmu_flush_policy { FLUSH_EXACT = 0, FLUSH_CONSERVATIVE = 1 };

/* Result of a translation. */
struct xlate {
    uint64_t pa;
    uint32_t cost;          /* cycles this lookup added (STLB hit, walk) */
    uint32_t pf_err;        /* valid when the return value says "fault" */
};

struct mmu {
    /* hot: used inline by cpu/mem.h */
    struct fast_set *fast_cur;      /* the set for the current CPL / AC / SMAP */
    uint64_t fast_hits[ACC_KINDS];  /* fast-cache hits since the last stats fold (count as L1 hits) */

    struct physmem *pm;
    int vp;
    enum tlb_model_mode model_mode;

    /* control state mirrored from the CPU (set only through mmu_set_*) */
    uint64_t cr0, cr3, cr4, efer;
    uint64_t a20_mask;              /* ~0, or ~(1 << 20) while the A20 gate is off (mmu_set_a20) */
    unsigned cpl;
    bool ac;

    struct fast_set fast[FAST_CTXS];
    struct tlb *tlb;                /* the modelled TLB (mmu/tlb.h), opaque here */
    struct fast_aux *fast_aux;      /* fill lists of the fast cache (mmu/fastcache.h) */
    enum mmu_flush_policy flush_policy;
    uint64_t last_pf_la;            /* page already invalidated for the last #PF (see mmu_note_page_fault) */
    bool paging_was_off;            /* fast hits since the last fold were unpaged accesses */
    struct trace_writer *trace;     /* optional event sink (trace/), NULL when off */
    /* The VP's virtual cycle counter and retired-instruction count (set by hv/partition.c;
     * NULL reads as 0): cycle stamps of trace records, the refill-miss window and the
     * per-CR3 instruction counts (mmu/trace_hooks.h, mmu/stats.h). */
    const uint64_t *cycles;
    const uint64_t *icount;
    /* With a trace that only counts L1 hits (the default), a hit is this increment,
     * handed to the writer at mmu_stats_fold (mmu/trace_hooks.h mmu_set_trace). */
    bool trace_log_hits;
    uint64_t trace_unlogged_hits;
    /* Linear pages whose data accesses must all take the slow path (the CPU's data
     * breakpoints and a debugger's watchpoints, cpu/debug_arch.h): never given a
     * read or write fast entry. */
    uint64_t nofast[MMU_MAX_NOFAST];
    unsigned n_nofast;
};

/* preset: "skylake", "goldencove", "zen2". Returns false with *err for an unknown preset. */
bool mmu_init(struct mmu *m, struct physmem *pm, int vp, const char *preset,
              enum tlb_model_mode mode, const char **err);
void mmu_destroy(struct mmu *m);

/* Translate linear address la for an access of kind acc at privilege cpl (0..3).
 * Returns true and fills x->pa, x->cost on success; false with x->pf_err on a #PF.
 * Fills the modelled TLB (and the fast cache when the page is plain RAM). */
bool mmu_translate(struct mmu *m, uint64_t la, enum mmu_access acc, struct xlate *x);
/* (Added by D for cpu/mem.c.)  Like mmu_translate, but as an access at privilege cpl
 * instead of m->cpl: cpl 0 is an *implicit supervisor* access (GDT/LDT/IDT/TSS reads,
 * descriptor accessed/busy-bit writes, stack pushes during delivery to CPL 0), which
 * SDM Vol. 3A 4.6 checks as supervisor whatever the CPL, with SMAP applying to user
 * pages regardless of RFLAGS.AC.  It must not fill the fast cache of another
 * privilege context (m->fast_cur belongs to m->cpl).
 * (mmu: cpl 1..2 are implicit supervisor accesses too; cpl 3 is a user access; the
 * lookup is counted like any other and never fills the fast cache.) */
bool mmu_translate_as(struct mmu *m, uint64_t la, enum mmu_access acc, unsigned cpl, struct xlate *x);

/* Control-state changes: each performs the SDM-minimum invalidation and counts it. */
void mmu_set_cr0(struct mmu *m, uint64_t cr0);
void mmu_set_cr3(struct mmu *m, uint64_t cr3_written);   /* the value written, bit 63 included */
void mmu_set_cr4(struct mmu *m, uint64_t cr4);
void mmu_set_efer(struct mmu *m, uint64_t efer);
void mmu_set_cpl_ac(struct mmu *m, unsigned cpl, bool ac);
/* The A20 gate (port 0x92, the i8042 output port): while it is off, physical
 * address bit 20 reads as 0 outside IA-32e mode, so real-mode addresses wrap at
 * 1 MiB as on an 8086.  Page-table reads are not masked (no guest pages with the
 * gate off). */
void mmu_set_a20(struct mmu *m, bool enabled);

/* Invalidation instructions. */
void mmu_invlpg(struct mmu *m, uint64_t la);
/* Returns false if the descriptor is invalid for this type (the CPU raises #GP(0)). */
bool mmu_invpcid(struct mmu *m, unsigned type, uint16_t pcid, uint64_t la);
/* A #PF was delivered for la: drop its translation and the PSC entries used. */
void mmu_note_page_fault(struct mmu *m, uint64_t la);

/* Hyper-V flush entry points (HV-SPEC.md A-6, TLB-MODEL.md B-1.5), applied to this VP.
 * cr3_root: the AddressSpace (a CR3 value; PCID bits and bit 63 are ignored).
 * Entries are tagged with the CR3 root they were filled under; an entry also matches
 * when its PCID was last loaded with cr3_root.  A GVA inside a large page removes the
 * whole large page (and every smashed piece of it).  Return false for flags the call
 * must reject (reserved bits; NON_GLOBAL_MAPPINGS_ONLY on the GVA/List form). */
#define MMU_HV_FLUSH_ALL_PROCESSORS            (1ull << 0)    /* ignored here: the caller picks VPs */
#define MMU_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES (1ull << 1)
#define MMU_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY  (1ull << 2)
#define MMU_HV_FLUSH_USE_EXTENDED_RANGE_FORMAT (1ull << 3)
bool mmu_flush_address_space(struct mmu *m, uint64_t cr3_root, uint64_t flags);
bool mmu_flush_gva(struct mmu *m, uint64_t cr3_root, uint64_t gva, uint64_t flags);
/* One List element: npages (1..4096) pages from gva, in one pass over the arrays; counted
 * as one hv_flush_gva operation. */
bool mmu_flush_gva_range(struct mmu *m, uint64_t cr3_root, uint64_t gva, uint64_t npages, uint64_t flags);

void mmu_set_flush_policy(struct mmu *m, enum mmu_flush_policy p);

/* The linear pages (page-aligned, at most MMU_MAX_NOFAST) that the fast cache must
 * not serve reads and writes of; their entries leave it now.  The modelled TLB is
 * not touched: only which accesses take the slow path changes. */
void mmu_set_nofast_pages(struct mmu *m, const uint64_t *pages, unsigned n);

/* Fold fast-cache hits into the model's counters (before reading statistics). */
void mmu_stats_fold(struct mmu *m);
/* One JSON object with this VP's counters (deterministic key order, integers only);
 * indent = number of spaces before each line. Folds first. */
void mmu_stats_write_json(struct mmu *m, FILE *f, int indent);
/* As above, with the VP's retired instructions for the MPKI rates (the frontend passes
 * cpu.icount; mmu_stats_write_json uses *m->icount, or 0 = no rates). */
void mmu_stats_write_json_insns(struct mmu *m, FILE *f, int indent, uint64_t instructions);
/* TLB-MODEL.md B-(c) check 5, per VP and per PCID: accesses = L1 hits + L1 misses;
 * L1 misses = L2 hits + walks; fills - evictions - invalidated = occupancy.
 * Returns false with a one-line reason in why. */
bool mmu_stats_check_conservation(struct mmu *m, char *why, size_t n);

/* Preset names (NULL-terminated) for --help. */
const char *mmu_preset_name(unsigned i);

#ifdef HVEMU_CHECK_INVARIANT
/* Abort with a message if the fast entry for (la, acc) is not backed by the model. */
void mmu_check_fast_entry(struct mmu *m, uint64_t la, enum mmu_access acc);
#endif

#endif
