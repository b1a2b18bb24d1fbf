/* The host fast-lookup cache (DESIGN.md §3, mmu/mmu.h): direct-mapped tables per
 * privilege context and access kind, {tag, addend}.  A subset of the modelled L1: each
 * fast entry is backed by the L1 entry the slow path just used, and every removal
 * from L1 drops the fast entries inside the removed range.  Full flushes walk a fill
 * list, so they cost O(entries filled since the last flush).
 */
#ifndef HVEMU_MMU_FASTCACHE_H
#define HVEMU_MMU_FASTCACHE_H

#include <stdint.h>
#include "mmu/mmu.h"

struct fast_aux {
    uint16_t list[FAST_CTXS][ACC_KINDS][FAST_ENTRIES];   /* filled slots */
    uint16_t n[FAST_CTXS][ACC_KINDS];
    uint8_t in_list[FAST_CTXS][ACC_KINDS][FAST_ENTRIES];
    uint64_t fills, drops, full_flushes;
};

bool fast_init(struct mmu *m);
void fast_destroy(struct mmu *m);
/* The context of an explicit access at (cpl, ac) with CR4.SMAP as in m->cr4. */
enum fast_ctx fast_ctx_of(const struct mmu *m, unsigned cpl, bool ac);
void fast_select(struct mmu *m);
void fast_fill(struct mmu *m, enum fast_ctx ctx, enum mmu_access acc, uint64_t la, uint8_t *host_page);
void fast_flush_all(struct mmu *m);
/* Drop entries of the kinds in kind_mask (1 << enum mmu_access) whose page lies in
 * [base, base + size), in every context. */
void fast_drop_range(struct mmu *m, unsigned kind_mask, uint64_t base, uint64_t size);
/* physmem code listener: drop write entries that point into host page `gpa_page`. */
void fast_code_listener(void *opaque, uint64_t gpa_page);
/* physmem map listener: a region was added, drop everything. */
void fast_map_listener(void *opaque);

#endif
