/* Helpers for the mmu unit tests: build 4-level page tables in a physmem from the test
 * itself, bring an mmu into 64-bit paging, and classify a lookup as L1 hit ('H'),
 * L2 hit ('S'), walk ('W') or fault ('F') from the counters (mmu/stats.h).
 */
#ifndef HVEMU_TESTS_MMU_TEST_PT_H
#define HVEMU_TESTS_MMU_TEST_PT_H

#include <check.h>
#include <stdint.h>
#include <string.h>
#include "mmu/mmu.h"
#include "mmu/physmem.h"
#include "mmu/tlb.h"

#define P_P   (1ull << 0)
#define P_W   (1ull << 1)
#define P_U   (1ull << 2)
#define P_A   (1ull << 5)
#define P_D   (1ull << 6)
#define P_PS  (1ull << 7)
#define P_G   (1ull << 8)
#define P_XD  (1ull << 63)

#define T_CR0_PE (1ull << 0)
#define T_CR0_WP (1ull << 16)
#define T_CR0_PG (1ull << 31)
#define T_CR4_PAE (1ull << 5)
#define T_CR4_PGE (1ull << 7)
#define T_CR4_PCIDE (1ull << 17)
#define T_CR4_SMEP (1ull << 20)
#define T_CR4_SMAP (1ull << 21)
#define T_EFER_LME (1ull << 8)
#define T_EFER_LMA (1ull << 10)
#define T_EFER_NXE (1ull << 11)

#define PT_POOL 0x100000ull     /* page-table pages are allocated from 1 MiB up */

struct ptb {
    struct physmem *pm;
    uint64_t next;              /* next free page-table page */
    uint64_t upper;             /* flags of newly created non-leaf entries */
};

static inline uint64_t ptb_alloc(struct ptb *b)
{
    uint64_t a = b->next;
    b->next += 4096;
    static const uint8_t zero[4096];
    physmem_write_bytes(b->pm, a, zero, sizeof zero);
    return a;
}

static inline void ptb_init(struct ptb *b, struct physmem *pm, uint64_t pool)
{
    b->pm = pm;
    b->next = pool;
    b->upper = P_P | P_W | P_U;
}

/* gpa of the entry at level lvl (4 = PML4E .. 1 = PTE) for la under root, creating
 * missing tables down to that level. */
static inline uint64_t ptb_entry(struct ptb *b, uint64_t root, uint64_t la, int lvl)
{
    uint64_t table = root;
    for (int l = 4;; l--) {
        uint64_t a = table + (((la >> (12 + 9 * (l - 1))) & 511) << 3);
        if (l == lvl)
            return a;
        uint64_t e = physmem_read(b->pm, a, 8);
        if (!(e & P_P)) {
            e = ptb_alloc(b) | b->upper;
            physmem_write(b->pm, a, e, 8);
        }
        table = e & 0x00003ffffffff000ull;
    }
}

/* Map la -> pa with leaf flags (P is added); size 4K (lvl 1), 2M (lvl 2) or 1G (lvl 3). */
static inline void ptb_map(struct ptb *b, uint64_t root, uint64_t la, uint64_t pa, int lvl, uint64_t flags)
{
    uint64_t a = ptb_entry(b, root, la, lvl);
    physmem_write(b->pm, a, pa | flags | P_P | (lvl > 1 ? P_PS : 0), 8);
}

static inline uint64_t pt_get(struct ptb *b, uint64_t root, uint64_t la, int lvl)
{
    return physmem_read(b->pm, ptb_entry(b, root, la, lvl), 8);
}

static inline void pt_set(struct ptb *b, uint64_t root, uint64_t la, int lvl, uint64_t v)
{
    physmem_write(b->pm, ptb_entry(b, root, la, lvl), v, 8);
}

/* Long mode, paging on, CR0.WP=1, EFER.NXE=1, CR4.PAE|PGE (+extra_cr4), CPL 0. */
static inline void mmu_enter_long_mode(struct mmu *m, uint64_t cr3, uint64_t extra_cr4)
{
    mmu_set_efer(m, T_EFER_LME | T_EFER_LMA | T_EFER_NXE);
    mmu_set_cr4(m, T_CR4_PAE | T_CR4_PGE | extra_cr4);
    mmu_set_cr3(m, cr3);
    mmu_set_cr0(m, T_CR0_PE | T_CR0_WP | T_CR0_PG);
    mmu_set_cpl_ac(m, 0, false);
}

/* 'H' L1 hit, 'S' L2 (STLB) hit, 'W' walk, 'F' fault; *pa set on success. */
static inline char lookup_kind(struct mmu *m, uint64_t la, enum mmu_access acc, uint64_t *pa)
{
    struct mmu_counters *c = &m->tlb->stats.vp;
    uint64_t h = c->l1_hits[acc], s = c->l2_hits[acc], w = c->walks[acc];
    struct xlate x;
    bool ok = mmu_translate(m, la, acc, &x);
    if (pa)
        *pa = ok ? x.pa : ~0ull;
    if (!ok)
        return 'F';
    if (c->walks[acc] != w)
        return 'W';
    if (c->l2_hits[acc] != s)
        return 'S';
    ck_assert_uint_eq(c->l1_hits[acc], h + 1);
    return 'H';
}

/* Run a sequence: each char of `expect` is the expected outcome of a read of las[i]. */
#define EXPECT_SEQ(m, acc, expect, ...)                                                     \
    do {                                                                                    \
        const uint64_t las_[] = { __VA_ARGS__ };                                            \
        const char *ex_ = (expect);                                                         \
        ck_assert_uint_eq(strlen(ex_), sizeof las_ / sizeof las_[0]);                       \
        for (unsigned i_ = 0; i_ < sizeof las_ / sizeof las_[0]; i_++) {                    \
            char got_ = lookup_kind((m), las_[i_], (acc), NULL);                            \
            ck_assert_msg(got_ == ex_[i_], "access %u (la %#llx): expected %c, got %c",     \
                          i_, (unsigned long long)las_[i_], ex_[i_], got_);                 \
        }                                                                                   \
    } while (0)

#endif
