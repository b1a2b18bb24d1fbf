/* The mmu's side of the event trace (TLB-MODEL.md A-7, B-(b); record layout and
 * conventions in trace/trace_format.h).
 *
 * The mmu writes records only through these functions, and calls them only when
 * m->trace is set (one predictable branch per hook site; nothing on the fast-cache
 * hit path of cpu/mem.h: fast hits are added to the L1-hit count by trace_count when
 * mmu_stats_fold runs).  Cycle stamps come from *m->cycles (the VP's virtual cycle
 * counter, set by hv/partition.c).
 *
 * Order of the records of one translation, as the live TLB does it:
 *   L1 hit:    LOOKUP_L1_HIT
 *   STLB hit:  LOOKUP_STLB_HIT, FILL (L1) [, EVICT]
 *   miss:      MISS, WALK_START, WALK_STEP per entry read, WALK_DONE,
 *              then on success FILL (STLB) [, EVICT], FILL (L1) [, EVICT],
 *              on a fault INV_PF
 *   D=0 write: the lookup, INV_REFRESH, WALK_START .. FILL (the re-walk)
 * Invalidations write one record each (latency = entries removed), CR3/CR4 changes
 * a CTX_MARKER after their invalidation, and each Hyper-V flush entry point one
 * target-action record on the target VP.
 *
 * hv/ writes the hypercall records (caller side), IPIs and suspend/resume with the
 * mmu_trace_hv_* helpers below; they are no-ops when m->trace is NULL.
 */
#ifndef HVEMU_MMU_TRACE_HOOKS_H
#define HVEMU_MMU_TRACE_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/mmu.h"
#include "trace/trace_format.h"

/* --- for the partition: the header ------------------------------------------------ */

/* Geometry table and preset id of a TLB preset for the trace header.  Each array of
 * the preset goes to the trace structure of its level, side and smallest page size;
 * the PSC row holds the total PSC entries.  False for an unknown preset. */
bool mmu_trace_geometry(const char *preset, struct trace_geometry_entry g[TRACE_STRUCT_COUNT],
                        uint8_t *preset_id);

/* Attach the writer w to m (NULL detaches, after folding the counted hits into it),
 * and write the starting context (CTX_MARKER). */
struct trace_writer;
void mmu_set_trace(struct mmu *m, struct trace_writer *w);

/* --- for hv/: hypercall-level events (caller side) ----------------------------------- */

/* The flush hypercall on the caller (info bit 7 clear): type is TRACE_EV_HV_FLUSH_SPACE,
 * _SPACE_EX, _LIST or _LIST_EX; flags = the hypercall's flags (bits 0-2 kept);
 * address_space = the AddressSpace operand; targets = bitmap of target VPs 0-63;
 * stall = caller stall cycles (saturating at 65535).  The per-target actions are
 * written by the mmu's flush entry points themselves. */
void mmu_trace_hv_call(struct mmu *caller, unsigned type, uint64_t flags, uint64_t address_space,
                       uint64_t targets, uint32_t stall);
/* A synthetic cluster IPI: vector, bitmap of target VPs 0-63. */
void mmu_trace_hv_ipi(struct mmu *caller, uint32_t vector, uint64_t targets);
/* m's VP is suspended waiting on the TLB lock held by VP holder / runs again
 * (stall = cycles it waited, saturating). */
void mmu_trace_suspend(struct mmu *m, unsigned holder);
void mmu_trace_resume(struct mmu *m, uint32_t stall);

/* --- mmu-internal hooks (mmu.c; call only when m->trace != NULL) ---------------------- */

struct tlb_array;
struct tlb_entry;
struct walk_result;
struct inv_pred;

void th_lookup(struct mmu *m, unsigned type, uint64_t la, enum mmu_access acc, bool user,
               const struct tlb_entry *e, uint32_t latency);
void th_walk(struct mmu *m, uint64_t la, enum mmu_access acc, bool user, bool ok,
             const struct walk_result *res, uint32_t cycles);
/* A fill just made by tlb_fill (e = the entry it returned, NULL = none), followed by
 * the EVICT of its capacity victim when it displaced one. */
void th_fill(struct mmu *m, const struct tlb_entry *e, enum mmu_access acc, bool user);
/* An invalidation: removed = entries removed; everything = the conservative policy
 * flushed the whole VP (info bit 7). */
void th_inv(struct mmu *m, unsigned cause, const struct inv_pred *must, unsigned removed, bool everything);
/* A Hyper-V flush action on this VP (the target side). */
void th_hv_action(struct mmu *m, bool list, uint64_t flags, uint64_t root, uint64_t gva, uint64_t npages,
                  unsigned removed, bool everything);
void th_ctx(struct mmu *m);
/* Fast-cache hits folded as L1 hits (n of them). */
void th_count_hits(struct mmu *m, uint64_t n);

#endif
