/* Guest physical memory: the RAM layout of physmem.h, ROM and MMIO regions, and the
 * per-page "holds decoded code" marks used for self-modifying code.
 *
 * Everything here is a slow path: the fast path is the per-VP fast-lookup cache
 * (mmu/fastcache.c), which only ever points at plain RAM pages.
 */
#include "mmu/physmem.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 4096ull
#define GIB (1ull << 30)
#define LOW_RAM_MAX (3 * GIB)      /* QEMU pc: RAM above 3 GiB is moved to 4 GiB (PCI hole) */
#define HIGH_RAM_BASE (4 * GIB)
#define MAX_REGIONS 64
#define MAX_LISTENERS 64

struct region {
    uint64_t base, size;
    bool rom;
    uint8_t *rom_data;          /* ROM: a private copy, page-rounded */
    mmio_read_fn rd;
    mmio_write_fn wr;
    void *opaque;
    const char *name;
};

struct listener {
    code_write_fn fn;
    void *opaque;
};

struct map_listener {
    map_change_fn fn;
    void *opaque;
};

struct physmem {
    uint8_t *ram;
    uint64_t ram_size;
    uint64_t low_ram;           /* [0, low_ram) */
    uint64_t high_ram;          /* [4 GiB, 4 GiB + high_ram) */
    uint8_t *code;              /* one byte per RAM page (indexed by RAM offset) */
    struct region regions[MAX_REGIONS];
    unsigned nregions;
    code_write_fn code_hook;
    void *code_hook_opaque;
    struct listener listeners[MAX_LISTENERS];
    unsigned nlisteners;
    struct map_listener map_listeners[MAX_LISTENERS];
    unsigned nmap_listeners;
};

static void map_changed(struct physmem *pm)
{
    for (unsigned i = 0; i < pm->nmap_listeners; i++)
        pm->map_listeners[i].fn(pm->map_listeners[i].opaque);
}

struct physmem *physmem_new(uint64_t ram_size, const char **err)
{
    struct physmem *pm = calloc(1, sizeof *pm);
    if (!pm) {
        *err = "out of host memory for the physmem descriptor";
        return NULL;
    }
    ram_size = (ram_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    pm->ram_size = ram_size;
    pm->low_ram = ram_size < LOW_RAM_MAX ? ram_size : LOW_RAM_MAX;
    pm->high_ram = ram_size - pm->low_ram;
    /* calloc: untouched pages stay shared zero pages on the host */
    pm->ram = ram_size ? calloc(1, ram_size) : NULL;
    pm->code = calloc(1, ram_size / PAGE_SIZE + 1);
    if ((ram_size && !pm->ram) || !pm->code) {
        free(pm->ram);
        free(pm->code);
        free(pm);
        *err = "cannot allocate guest RAM on the host";
        return NULL;
    }
    return pm;
}

void physmem_free(struct physmem *pm)
{
    if (!pm)
        return;
    for (unsigned i = 0; i < pm->nregions; i++)
        free(pm->regions[i].rom_data);
    free(pm->ram);
    free(pm->code);
    free(pm);
}

uint64_t physmem_ram_size(const struct physmem *pm) { return pm->ram_size; }

/* RAM offset of gpa, or UINT64_MAX if gpa is not in the RAM layout (regions ignored). */
static uint64_t ram_offset(const struct physmem *pm, uint64_t gpa)
{
    if (gpa < pm->low_ram)
        return gpa;
    if (gpa >= HIGH_RAM_BASE && gpa - HIGH_RAM_BASE < pm->high_ram)
        return pm->low_ram + (gpa - HIGH_RAM_BASE);
    return UINT64_MAX;
}

static const struct region *find_region(const struct physmem *pm, uint64_t gpa)
{
    for (unsigned i = 0; i < pm->nregions; i++) {
        const struct region *r = &pm->regions[i];
        if (gpa - r->base < r->size)
            return r;
    }
    return NULL;
}

/* True if any region overlaps [base, base+size). */
static bool overlaps_region(const struct physmem *pm, uint64_t base, uint64_t size)
{
    for (unsigned i = 0; i < pm->nregions; i++) {
        const struct region *r = &pm->regions[i];
        if (base < r->base + r->size && r->base < base + size)
            return true;
    }
    return false;
}

static struct region *new_region(struct physmem *pm, uint64_t base, uint64_t size)
{
    if (size == 0 || base + size < base || pm->nregions == MAX_REGIONS ||
        overlaps_region(pm, base, size))
        return NULL;
    struct region *r = &pm->regions[pm->nregions++];
    memset(r, 0, sizeof *r);
    r->base = base;
    r->size = size;
    return r;
}

bool physmem_add_mmio(struct physmem *pm, uint64_t base, uint64_t size,
                      mmio_read_fn rd, mmio_write_fn wr, void *opaque, const char *name)
{
    struct region *r = new_region(pm, base, size);
    if (!r)
        return false;
    r->rd = rd;
    r->wr = wr;
    r->opaque = opaque;
    r->name = name;
    map_changed(pm);
    return true;
}

bool physmem_add_rom(struct physmem *pm, uint64_t base, const void *data, uint64_t size, const char *name)
{
    uint8_t *copy = calloc(1, (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
    if (!copy)
        return false;
    struct region *r = new_region(pm, base, size);
    if (!r) {
        free(copy);
        return false;
    }
    memcpy(copy, data, size);
    r->rom = true;
    r->rom_data = copy;
    r->name = name;
    map_changed(pm);
    return true;
}

/* (hv/) MMIO regions only: a ROM's host copy may still key decoded blocks. */
bool physmem_remove_mmio(struct physmem *pm, uint64_t base)
{
    for (unsigned i = 0; i < pm->nregions; i++) {
        struct region *r = &pm->regions[i];
        if (r->base != base || r->rom)
            continue;
        memmove(r, r + 1, (pm->nregions - i - 1) * sizeof *r);
        pm->nregions--;
        map_changed(pm);
        return true;
    }
    return false;
}

uint8_t *physmem_ram_page(struct physmem *pm, uint64_t gpa)
{
    uint64_t page = gpa & ~(PAGE_SIZE - 1);
    uint64_t off = ram_offset(pm, page);
    if (off == UINT64_MAX || overlaps_region(pm, page, PAGE_SIZE))
        return NULL;
    return pm->ram + off;
}

uint8_t *physmem_page_ptr(struct physmem *pm, uint64_t gpa, bool write)
{
    uint64_t page = gpa & ~(PAGE_SIZE - 1);
    uint8_t *p = physmem_ram_page(pm, page);
    if (p) {
        /* A write through the slow path to a code page: let the decoder drop its
         * blocks before the caller stores (physmem.h). */
        if (write && pm->code[(p - pm->ram) / PAGE_SIZE] && pm->code_hook)
            pm->code_hook(pm->code_hook_opaque, page);
        return p;
    }
    if (write)
        return NULL;
    const struct region *r = find_region(pm, page);
    if (r && r->rom && page >= r->base && page + PAGE_SIZE <= r->base + ((r->size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)))
        return r->rom_data + (page - r->base);
    return NULL;
}

bool physmem_is_ram(const struct physmem *pm, uint64_t gpa, uint64_t len)
{
    for (uint64_t a = gpa & ~(PAGE_SIZE - 1); a < gpa + len; a += PAGE_SIZE) {
        if (ram_offset(pm, a) == UINT64_MAX || overlaps_region(pm, a, PAGE_SIZE))
            return false;
        if (a + PAGE_SIZE < a)
            break;
    }
    return true;
}

static void code_written(struct physmem *pm, uint64_t off, uint64_t gpa)
{
    if (pm->code[off / PAGE_SIZE] && pm->code_hook)
        pm->code_hook(pm->code_hook_opaque, gpa & ~(PAGE_SIZE - 1));
}

uint64_t physmem_read(struct physmem *pm, uint64_t gpa, unsigned size)
{
    const struct region *r = find_region(pm, gpa);
    uint64_t v = 0;
    if (r) {
        if (r->rom) {
            uint64_t off = gpa - r->base;
            unsigned n = off + size <= r->size ? size : (unsigned)(r->size - off);
            memcpy(&v, r->rom_data + off, n);
            if (n < size)
                v |= ~0ull << (8 * n);
        } else {
            v = r->rd ? r->rd(r->opaque, gpa - r->base, size) : ~0ull;
        }
    } else {
        uint64_t off = ram_offset(pm, gpa);
        if (off == UINT64_MAX)
            return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;   /* nothing there: all ones */
        memcpy(&v, pm->ram + off, size);
    }
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void physmem_write(struct physmem *pm, uint64_t gpa, uint64_t val, unsigned size)
{
    const struct region *r = find_region(pm, gpa);
    if (r) {
        if (!r->rom && r->wr)
            r->wr(r->opaque, gpa - r->base, val, size);
        return;                                 /* ROM writes are dropped */
    }
    uint64_t off = ram_offset(pm, gpa);
    if (off == UINT64_MAX)
        return;                                 /* nothing there: dropped */
    code_written(pm, off, gpa);
    memcpy(pm->ram + off, &val, size);
}

void physmem_read_bytes(struct physmem *pm, uint64_t gpa, void *buf, size_t len)
{
    uint8_t *b = buf;
    while (len) {
        size_t n = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        uint8_t *p = physmem_page_ptr(pm, gpa, false);
        if (p) {
            memcpy(b, p + (gpa & (PAGE_SIZE - 1)), n);
        } else {
            for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)physmem_read(pm, gpa + i, 1);
        }
        b += n;
        gpa += n;
        len -= n;
    }
}

void physmem_write_bytes(struct physmem *pm, uint64_t gpa, const void *buf, size_t len)
{
    const uint8_t *b = buf;
    while (len) {
        size_t n = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        uint8_t *p = physmem_page_ptr(pm, gpa, true);      /* runs the code hook */
        if (p) {
            memcpy(p + (gpa & (PAGE_SIZE - 1)), b, n);
        } else {
            for (size_t i = 0; i < n; i++)
                physmem_write(pm, gpa + i, b[i], 1);
        }
        b += n;
        gpa += n;
        len -= n;
    }
}

void physmem_set_code_hook(struct physmem *pm, code_write_fn fn, void *opaque)
{
    pm->code_hook = fn;
    pm->code_hook_opaque = opaque;
}

void physmem_mark_code(struct physmem *pm, uint64_t gpa)
{
    uint64_t page = gpa & ~(PAGE_SIZE - 1);
    uint64_t off = ram_offset(pm, page);
    if (off == UINT64_MAX || pm->code[off / PAGE_SIZE])
        return;
    pm->code[off / PAGE_SIZE] = 1;
    /* each VP's fast cache must stop writing to this page directly */
    for (unsigned i = 0; i < pm->nlisteners; i++)
        pm->listeners[i].fn(pm->listeners[i].opaque, page);
}

void physmem_clear_code(struct physmem *pm, uint64_t gpa)
{
    uint64_t off = ram_offset(pm, gpa & ~(PAGE_SIZE - 1));
    if (off != UINT64_MAX)
        pm->code[off / PAGE_SIZE] = 0;
}

bool physmem_is_code(const struct physmem *pm, uint64_t gpa)
{
    uint64_t off = ram_offset(pm, gpa & ~(PAGE_SIZE - 1));
    return off != UINT64_MAX && pm->code[off / PAGE_SIZE];
}

void physmem_add_code_listener(struct physmem *pm, code_write_fn fn, void *opaque)
{
    if (pm->nlisteners < MAX_LISTENERS)
        pm->listeners[pm->nlisteners++] = (struct listener){ fn, opaque };
}

void physmem_remove_code_listener(struct physmem *pm, code_write_fn fn, void *opaque)
{
    for (unsigned i = 0; i < pm->nlisteners; i++) {
        if (pm->listeners[i].fn == fn && pm->listeners[i].opaque == opaque) {
            pm->listeners[i] = pm->listeners[--pm->nlisteners];
            return;
        }
    }
}

void physmem_add_map_listener(struct physmem *pm, map_change_fn fn, void *opaque)
{
    if (pm->nmap_listeners < MAX_LISTENERS)
        pm->map_listeners[pm->nmap_listeners++] = (struct map_listener){ fn, opaque };
}

void physmem_remove_map_listener(struct physmem *pm, map_change_fn fn, void *opaque)
{
    for (unsigned i = 0; i < pm->nmap_listeners; i++) {
        if (pm->map_listeners[i].fn == fn && pm->map_listeners[i].opaque == opaque) {
            pm->map_listeners[i] = pm->map_listeners[--pm->nmap_listeners];
            return;
        }
    }
}
