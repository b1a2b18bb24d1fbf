/* The slow paths of guest memory access (cpu/mem.h): TLB misses, page crossings,
 * MMIO/ROM, self-modifying-code pages, implicit supervisor accesses and faults.
 * Every translation goes through the mmu, which charges its cost (STLB hit, walk)
 * in x.cost; we add it to the VP's cycle counter here, in one place.
 *
 * Data breakpoints (cpu/debug_arch.h) are compared here: the pages they watch are
 * never in the fast-lookup cache, so every access to them comes this way.
 */
#include "cpu/mem.h"
#include "cpu/exception.h"
#include "mmu/physmem.h"

/* CPL value meaning "the current privilege" for xlate(). */
#define AS_CURRENT 0xffu

static uint64_t xlate(struct cpu *c, uint64_t la, enum mmu_access acc, unsigned as_cpl)
{
    struct xlate x;
    bool ok = as_cpl == AS_CURRENT ? mmu_translate(c->mmu, la, acc, &x)
                                   : mmu_translate_as(c->mmu, la, acc, as_cpl, &x);
    c->cycles += x.cost;
    if (!ok)
        cpu_raise_pf(c, la, x.pf_err);
    return x.pa;
}

/* One access within one page, at an already translated physical address. */
static uint64_t phys_load(struct cpu *c, uint64_t pa, unsigned size)
{
    uint8_t *p = physmem_page_ptr(c->mmu->pm, pa, false);
    if (p)
        return host_load((uintptr_t)(p + (pa & 0xfff)), size);
    return physmem_read(c->mmu->pm, pa, size);
}

static void phys_store(struct cpu *c, uint64_t pa, uint64_t val, unsigned size)
{
    /* With write = true physmem runs the code-write hook for pages holding decoded code. */
    uint8_t *p = physmem_page_ptr(c->mmu->pm, pa, true);
    if (p)
        host_store((uintptr_t)(p + (pa & 0xfff)), val, size);
    else
        physmem_write(c->mmu->pm, pa, val, size);
}

static inline bool crosses(uint64_t la, unsigned size)
{
    return (la & 0xfff) + size > 0x1000;
}

/* Little-endian split of a page-crossing access into [la, page end) and the rest,
 * each byte-sized part read at its own size class: parts are 1..7 bytes, so the
 * pieces are done byte by byte (rare, and MMIO never crosses pages). */
static uint64_t read_as(struct cpu *c, uint64_t la, unsigned size, enum mmu_access acc, unsigned as)
{
    if (unlikely(c->dbg.watch))
        dbg_mem_access(c, la, size, false);
    if (likely(!crosses(la, size)))
        return phys_load(c, xlate(c, la, acc, as), size);
    unsigned n1 = 0x1000 - (unsigned)(la & 0xfff);
    uint64_t pa1 = xlate(c, la, acc, as);
    uint64_t pa2 = xlate(c, la + n1, acc, as);     /* both translate before anything is read */
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++) {
        uint64_t pa = k < n1 ? pa1 + k : pa2 + (k - n1);
        v |= phys_load(c, pa, 1) << (8 * k);
    }
    return v;
}

static void write_as(struct cpu *c, uint64_t la, uint64_t val, unsigned size, unsigned as)
{
    if (unlikely(c->dbg.watch))
        dbg_mem_access(c, la, size, true);
    if (likely(!crosses(la, size))) {
        phys_store(c, xlate(c, la, ACC_WRITE, as), val, size);
        return;
    }
    /* Both pages translate (and may fault) before either is written: a fault leaves
     * memory unchanged (SDM Vol. 3A 6.5: faults are restartable). */
    unsigned n1 = 0x1000 - (unsigned)(la & 0xfff);
    uint64_t pa1 = xlate(c, la, ACC_WRITE, as);
    uint64_t pa2 = xlate(c, la + n1, ACC_WRITE, as);
    for (unsigned k = 0; k < size; k++) {
        uint64_t pa = k < n1 ? pa1 + k : pa2 + (k - n1);
        phys_store(c, pa, (val >> (8 * k)) & 0xff, 1);
    }
}

uint64_t mem_read_slow(struct cpu *c, uint64_t la, unsigned size, enum mmu_access acc)
{
    return read_as(c, la, size, acc, AS_CURRENT);
}

void mem_write_slow(struct cpu *c, uint64_t la, uint64_t val, unsigned size)
{
    write_as(c, la, val, size, AS_CURRENT);
}

void mem_probe_write(struct cpu *c, uint64_t la, unsigned size)
{
    xlate(c, la, ACC_WRITE, AS_CURRENT);
    if (crosses(la, size))
        xlate(c, (la | 0xfff) + 1, ACC_WRITE, AS_CURRENT);
}

void mem_read_bytes(struct cpu *c, uint64_t la, void *buf, unsigned len)
{
    uint8_t *out = buf;
    if (unlikely(c->dbg.watch))
        dbg_mem_access(c, la, len, false);
    while (len) {
        unsigned n = 0x1000 - (unsigned)(la & 0xfff);
        if (n > len)
            n = len;
        uint64_t pa = xlate(c, la, ACC_READ, AS_CURRENT);
        uint8_t *p = physmem_page_ptr(c->mmu->pm, pa, false);
        for (unsigned k = 0; k < n; k++)
            out[k] = p ? p[(pa & 0xfff) + k] : (uint8_t)physmem_read(c->mmu->pm, pa + k, 1);
        out += n;
        la += n;
        len -= n;
    }
}

void mem_write_bytes(struct cpu *c, uint64_t la, const void *buf, unsigned len)
{
    /* Translate every page first so that a fault writes nothing. */
    for (uint64_t a = la; a < la + len; a = (a | 0xfff) + 1)
        xlate(c, a, ACC_WRITE, AS_CURRENT);
    if (unlikely(c->dbg.watch))
        dbg_mem_access(c, la, len, true);
    const uint8_t *in = buf;
    while (len) {
        unsigned n = 0x1000 - (unsigned)(la & 0xfff);
        if (n > len)
            n = len;
        uint64_t pa = xlate(c, la, ACC_WRITE, AS_CURRENT);
        uint8_t *p = physmem_page_ptr(c->mmu->pm, pa, true);
        for (unsigned k = 0; k < n; k++) {
            if (p)
                p[(pa & 0xfff) + k] = in[k];
            else
                physmem_write(c->mmu->pm, pa + k, in[k], 1);
        }
        in += n;
        la += n;
        len -= n;
    }
}

uint64_t mem_read_sys(struct cpu *c, uint64_t la, unsigned size)
{
    return read_as(c, la, size, ACC_READ, 0);
}

void mem_write_sys(struct cpu *c, uint64_t la, uint64_t val, unsigned size)
{
    write_as(c, la, val, size, 0);
}

uint64_t mem_fetch_phys(struct cpu *c, uint64_t la)
{
    /* NX (XD) and SMEP are the mmu's checks for ACC_FETCH (SDM Vol. 3A 4.6). */
    return xlate(c, la, ACC_FETCH, AS_CURRENT);
}
