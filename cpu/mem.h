/* Guest memory as an instruction sees it: linear-address loads and stores through
 * the VP's fast-lookup cache, falling back to the mmu (modelled TLB, page walk,
 * #PF) and to physmem (MMIO, ROM, self-modifying-code checks).  Segmentation
 * (base, limit, canonical checks) is applied by seg_linear() before these.
 * Faults longjmp out through cpu_raise_pf() (cpu/exception.h).
 */
#ifndef HVEMU_CPU_MEM_H
#define HVEMU_CPU_MEM_H

#include <stdint.h>
#include <string.h>
#include "cpu/cpu.h"
#include "mmu/mmu.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Slow paths (cpu/mem.c): page crossing, TLB miss, MMIO, code pages, faults. */
uint64_t mem_read_slow(struct cpu *c, uint64_t la, unsigned size, enum mmu_access acc);
void     mem_write_slow(struct cpu *c, uint64_t la, uint64_t val, unsigned size);

static inline uint64_t host_load(uintptr_t p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: { uint16_t v; memcpy(&v, (const void *)p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, (const void *)p, 4); return v; }
    default: { uint64_t v; memcpy(&v, (const void *)p, 8); return v; }
    }
}

static inline void host_store(uintptr_t p, uint64_t v, unsigned size)
{
    switch (size) {
    case 1: *(uint8_t *)p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy((void *)p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy((void *)p, &x, 4); break; }
    default: memcpy((void *)p, &v, 8); break;
    }
}

/* Load size (1, 2, 4, 8) bytes at linear address la, with the CPU's current privilege. */
static inline uint64_t mem_read(struct cpu *c, uint64_t la, unsigned size)
{
    struct mmu *m = c->mmu;
    const struct fast_entry *e = &m->fast_cur->e[ACC_READ][(la >> 12) & (FAST_ENTRIES - 1)];
    if (likely(e->tag == (la & ~0xfffull) && (la & 0xfff) <= 0x1000u - size)) {
#ifdef HVEMU_CHECK_INVARIANT
        mmu_check_fast_entry(m, la, ACC_READ);
#endif
        m->fast_hits[ACC_READ]++;
        return host_load(la + e->addend, size);
    }
    return mem_read_slow(c, la, size, ACC_READ);
}

static inline void mem_write(struct cpu *c, uint64_t la, uint64_t val, unsigned size)
{
    struct mmu *m = c->mmu;
    const struct fast_entry *e = &m->fast_cur->e[ACC_WRITE][(la >> 12) & (FAST_ENTRIES - 1)];
    if (likely(e->tag == (la & ~0xfffull) && (la & 0xfff) <= 0x1000u - size)) {
#ifdef HVEMU_CHECK_INVARIANT
        mmu_check_fast_entry(m, la, ACC_WRITE);
#endif
        m->fast_hits[ACC_WRITE]++;
        host_store(la + e->addend, val, size);
        return;
    }
    mem_write_slow(c, la, val, size);
}

/* Check that a write of size bytes at la would succeed (translating and setting D
 * bits), without writing: for read-modify-write and multi-part instructions that
 * must fault before changing anything. */
void mem_probe_write(struct cpu *c, uint64_t la, unsigned size);

/* Byte buffers (descriptors, 16-byte operands, string fast paths); may cross pages. */
void mem_read_bytes(struct cpu *c, uint64_t la, void *buf, unsigned len);
void mem_write_bytes(struct cpu *c, uint64_t la, const void *buf, unsigned len);

/* Implicit supervisor accesses (GDT/LDT/IDT/TSS reads, stack pushes during delivery
 * to CPL 0): checked as CPL 0 whatever the current CPL (SDM Vol. 3A 4.6). */
uint64_t mem_read_sys(struct cpu *c, uint64_t la, unsigned size);
void     mem_write_sys(struct cpu *c, uint64_t la, uint64_t val, unsigned size);

/* Segment offset -> linear address for an access of size bytes (acc = ACC_READ or
 * ACC_WRITE): applies the base, checks limits and types outside 64-bit mode (#GP or
 * #SS), canonical form in 64-bit mode (#GP(0), or #SS(0) for SS). */
uint64_t seg_linear(struct cpu *c, unsigned seg, uint64_t off, unsigned size, enum mmu_access acc);

/* Instruction fetch: the physical address of linear address la (ITLB path). */
uint64_t mem_fetch_phys(struct cpu *c, uint64_t la);

#endif
