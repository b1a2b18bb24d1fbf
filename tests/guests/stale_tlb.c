/* Stale-TLB visibility (TLB-MODEL.md A-4): page-table edits are not seen
 * until the translation is invalidated. With "strict-tlb" on the command line
 * (hvemu's modelled TLB keeps entries until an invalidation removes them) the
 * old translation is required; otherwise (QEMU TCG, which may or may not keep
 * it) either is accepted and reported. After INVLPG / MOV CR3 / a CR4.PGE
 * toggle the new translation is always required. */
#include "rt.h"

const char rt_test_name[] = "stale_tlb";

#define NPAGES 16
static u64 *oldp[NPAGES], *newp[NPAGES];
static int stale_seen, fresh_seen;

static u64 rd(u64 va) { return *(volatile u64 *)va; }

/* A read after an edit without invalidation: `old` under strict-tlb. */
static void expect_stale(u64 got, u64 old, u64 new, const char *what)
{
    if (got == old)
        stale_seen++;
    else if (got == new)
        fresh_seen++;
    if (rt_strict_tlb)
        CHECK(got == old, "%s: got %#llx, expected the stale %#llx (new would be %#llx)", what, got, old, new);
    else
        CHECK(got == old || got == new, "%s: got %#llx, neither old %#llx nor new %#llx", what, got, old, new);
    printf("  %-52s %s\n", what, got == old ? "stale (old mapping)" : got == new ? "fresh (new mapping)" : "??");
}

void test_main(void)
{
    u64 base = TEST_VA_BASE + 0x500000000ull;
    for (int i = 0; i < NPAGES; i++) {
        oldp[i] = rt_alloc_page();
        newp[i] = rt_alloc_page();
        for (int j = 0; j < 512; j++) {
            oldp[i][j] = 0x01D0000000ull + ((u64)i << 12) + (u64)j;
            newp[i][j] = 0x0E30000000ull + ((u64)i << 12) + (u64)j;
        }
    }
    u64 O = (u64)(uintptr_t)oldp[0], N = (u64)(uintptr_t)newp[0];
    printf("strict-tlb: %s\n", rt_strict_tlb ? "yes (stale translations required)" : "no (either accepted)");

    /* 1. Remap without INVLPG, then INVLPG. */
    u64 va = base;
    volatile u64 *pte = map_4k(va, O, PTE_P | PTE_W);
    invlpg_va(va);
    CHECK_EQ(rd(va + 8), oldp[0][1], "first read through the new mapping");
    *pte = N | PTE_P | PTE_W;
    expect_stale(rd(va + 8), oldp[0][1], newp[0][1], "remap, no INVLPG");
    invlpg_va(va);
    CHECK_EQ(rd(va + 8), newp[0][1], "after INVLPG the new page is seen");

    /* 2. Unmap (P=0) without INVLPG: the stale entry still translates, no #PF. */
    *pte = 0;
    rt_trap_reset();
    volatile u64 got = 0;
    int f = TRY(got = rd(va + 16));
    if (f) {
        CHECK(!rt_strict_tlb, "unmap without INVLPG faulted (vector %llu error %#llx), expected the stale entry",
              rt_last_trap.vector, rt_last_trap.error);
        CHECK(rt_last_trap.vector == VEC_PF && rt_last_trap.error == 0, "not a not-present #PF");
        printf("  %-52s fresh (#PF, not present)\n", "unmap, no INVLPG");
        fresh_seen++;
    } else {
        CHECK_EQ(got, newp[0][2], "stale read after unmap sees the last page");
        printf("  %-52s stale (old mapping)\n", "unmap, no INVLPG");
        stale_seen++;
    }
    invlpg_va(va);
    rt_trap_reset();
    f = TRY(got = rd(va + 16));
    CHECK(f && rt_last_trap.vector == VEC_PF, "after INVLPG the unmapped page faults");
    CHECK_EQ(rt_last_trap.error, 0, "not-present #PF error code");
    CHECK_EQ(rt_last_trap.cr2, va + 16, "CR2");

    /* 3. Writes go through the stale translation too. */
    *pte = O | PTE_P | PTE_W;
    *(volatile u64 *)(va + 24) = 0x77;          /* fills with D=1 */
    *pte = N | PTE_P | PTE_W;
    *(volatile u64 *)(va + 32) = 0x88;
    if (rt_strict_tlb) {
        CHECK_EQ(oldp[0][4], 0x88, "stale write lands in the old page");
        CHECK(newp[0][4] != 0x88, "stale write must not reach the new page");
    } else {
        CHECK(oldp[0][4] == 0x88 || newp[0][4] == 0x88, "write went somewhere");
    }
    invlpg_va(va);
    *(volatile u64 *)(va + 40) = 0x99;
    CHECK_EQ(newp[0][5], 0x99, "after INVLPG writes reach the new page");
    oldp[0][4] = 0x01D0000004ull;
    newp[0][4] = 0x0E30000004ull;

    /* 4. MOV CR3 (CR4.PCIDE=0) drops non-global entries. */
    *pte = O | PTE_P | PTE_W;
    invlpg_va(va);
    CHECK_EQ(rd(va), oldp[0][0], "read old");
    *pte = N | PTE_P | PTE_W;
    write_cr3(read_cr3());
    CHECK_EQ(rd(va), newp[0][0], "after MOV CR3 the new page is seen");

    /* 5. Many pages stale at once; INVLPG of one page leaves the others stale. */
    volatile u64 *ptes[NPAGES];
    for (int i = 0; i < NPAGES; i++) {
        ptes[i] = map_4k(base + 0x10000 + ((u64)i << 12), (u64)(uintptr_t)oldp[i], PTE_P | PTE_W);
        invlpg_va(base + 0x10000 + ((u64)i << 12));
    }
    for (int i = 0; i < NPAGES; i++)
        CHECK_EQ(rd(base + 0x10000 + ((u64)i << 12) + 64), oldp[i][8], "fill read");
    for (int i = 0; i < NPAGES; i++)
        *ptes[i] = (u64)(uintptr_t)newp[i] | PTE_P | PTE_W;
    invlpg_va(base + 0x10000 + (3ull << 12));
    int nstale = 0;
    for (int i = 0; i < NPAGES; i++) {
        u64 g = rd(base + 0x10000 + ((u64)i << 12) + 64);
        if (i == 3) {
            CHECK_EQ(g, newp[i][8], "the INVLPG'd page is fresh");
            continue;
        }
        if (g == oldp[i][8])
            nstale++;
        if (rt_strict_tlb)
            CHECK_EQ(g, oldp[i][8], "other pages stay stale after INVLPG of page 3");
        else
            CHECK(g == oldp[i][8] || g == newp[i][8], "page %d: %#llx is neither", i, g);
    }
    printf("  %-52s %d of %d stale\n", "16 pages remapped, INVLPG of page 3", nstale, NPAGES - 1);
    write_cr3(read_cr3());
    for (int i = 0; i < NPAGES; i++)
        CHECK_EQ(rd(base + 0x10000 + ((u64)i << 12) + 64), newp[i][8], "after MOV CR3 all are fresh");

    /* 6. Global pages survive MOV CR3; INVLPG and a CR4.PGE toggle remove them. */
    if (rt_cpu.pge) {
        write_cr4(read_cr4() | CR4_PGE);
        u64 gva = base + 0x100000;
        volatile u64 *gpte = map_4k(gva, O, PTE_P | PTE_W | PTE_G);
        invlpg_va(gva);
        CHECK_EQ(rd(gva), oldp[0][0], "global page read");
        *gpte = N | PTE_P | PTE_W | PTE_G;
        write_cr3(read_cr3());
        expect_stale(rd(gva), oldp[0][0], newp[0][0], "global page remapped, MOV CR3");
        invlpg_va(gva);
        CHECK_EQ(rd(gva), newp[0][0], "INVLPG removes a global entry");
        *gpte = O | PTE_P | PTE_W | PTE_G;
        write_cr3(read_cr3());
        expect_stale(rd(gva), newp[0][0], oldp[0][0], "global page remapped back, MOV CR3");
        write_cr4(read_cr4() & ~CR4_PGE);
        write_cr4(read_cr4() | CR4_PGE);
        CHECK_EQ(rd(gva), oldp[0][0], "CR4.PGE toggle removes global entries");
        write_cr4(read_cr4() & ~CR4_PGE);
    } else {
        SKIP("global pages: CPUID.1:EDX.PGE is 0");
    }
    printf("stale_tlb: stale %d, fresh %d (%s), %d checks\n", stale_seen, fresh_seen,
           rt_strict_tlb ? "strict" : "lenient", rt_checks);
}
