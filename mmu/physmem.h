/* Guest physical memory: RAM, ROM and MMIO regions (DESIGN.md §1, mmu/).
 *
 * RAM is one host allocation.  Guest-physical layout (as QEMU's pc machine):
 *   [0, low_ram)            RAM, low_ram = min(ram_size, 3 GiB)   (holes may be overlaid by MMIO/ROM)
 *   [4 GiB, 4 GiB + rest)   the remaining RAM
 * Regions registered with physmem_add_mmio / physmem_add_rom take precedence over RAM.
 * Accesses to nothing read all-ones and drop writes.  ROM writes are dropped.
 *
 * Self-modifying code: physmem keeps one "holds decoded code" mark per 4 KiB RAM page.
 * The decoder marks pages (physmem_mark_code); a write through the slow path to a marked
 * page calls the code-write hook, which invalidates the decoded blocks of that page.
 * The fast cache never holds write entries for marked pages.
 */
#ifndef HVEMU_MMU_PHYSMEM_H
#define HVEMU_MMU_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*mmio_read_fn)(void *opaque, uint64_t offset, unsigned size);
typedef void     (*mmio_write_fn)(void *opaque, uint64_t offset, uint64_t val, unsigned size);
typedef void     (*code_write_fn)(void *opaque, uint64_t gpa_page);

struct physmem;

/* Returns NULL (and sets *err to a one-line reason) if the RAM cannot be allocated. */
struct physmem *physmem_new(uint64_t ram_size, const char **err);
void physmem_free(struct physmem *pm);
uint64_t physmem_ram_size(const struct physmem *pm);

/* Register regions; they must not overlap each other. Return false on overlap. */
bool physmem_add_mmio(struct physmem *pm, uint64_t base, uint64_t size,
                      mmio_read_fn rd, mmio_write_fn wr, void *opaque, const char *name);
bool physmem_add_rom(struct physmem *pm, uint64_t base, const void *data, uint64_t size, const char *name);
/* (hv/, for the movable Hyper-V hypercall-page overlay.)  Remove the MMIO region that
 * starts at base; RAM under it shows again.  False if no MMIO region starts there. */
bool physmem_remove_mmio(struct physmem *pm, uint64_t base);

/* Host pointer to the START of the 4 KiB page holding gpa if it is RAM (or ROM when
 * !write), else NULL (add gpa & 0xfff yourself).  With write = true on a page marked
 * as code, the code-write hook runs first: this is "a write through the slow path". */
uint8_t *physmem_page_ptr(struct physmem *pm, uint64_t gpa, bool write);
/* mmu-internal: the start of gpa's page if it is plain RAM (no region overlays any
 * byte of it), else NULL.  Never runs hooks: what the fast cache may point at. */
uint8_t *physmem_ram_page(struct physmem *pm, uint64_t gpa);
/* True if [gpa, gpa+len) is entirely RAM (what loaders check before placing images). */
bool physmem_is_ram(const struct physmem *pm, uint64_t gpa, uint64_t len);

/* Slow-path accesses of 1, 2, 4 or 8 bytes within one page (MMIO dispatch, ROM, nothing). */
uint64_t physmem_read(struct physmem *pm, uint64_t gpa, unsigned size);
void     physmem_write(struct physmem *pm, uint64_t gpa, uint64_t val, unsigned size);
/* Bulk copies for loaders and devices (any length, may cross pages). */
void physmem_read_bytes(struct physmem *pm, uint64_t gpa, void *buf, size_t len);
void physmem_write_bytes(struct physmem *pm, uint64_t gpa, const void *buf, size_t len);

/* Self-modifying-code tracking. */
void physmem_set_code_hook(struct physmem *pm, code_write_fn fn, void *opaque);
void physmem_mark_code(struct physmem *pm, uint64_t gpa);
bool physmem_is_code(const struct physmem *pm, uint64_t gpa);
/* Drop the mark (the decoder calls this once it has no blocks left on the page). */
void physmem_clear_code(struct physmem *pm, uint64_t gpa);
/* Registered by each VP's mmu: called when a page becomes code, so fast write
 * entries pointing at it are dropped (fn(opaque, gpa_page)). */
void physmem_add_code_listener(struct physmem *pm, code_write_fn fn, void *opaque);
void physmem_remove_code_listener(struct physmem *pm, code_write_fn fn, void *opaque);
/* Called after a region is added (physmem_add_mmio / physmem_add_rom), so each VP's fast
 * cache forgets host pointers into RAM that the new region now overlays. */
typedef void (*map_change_fn)(void *opaque);
void physmem_add_map_listener(struct physmem *pm, map_change_fn fn, void *opaque);
void physmem_remove_map_listener(struct physmem *pm, map_change_fn fn, void *opaque);

#endif
