/* Accessed and dirty bits: a read sets A on the PTE and on every upper level
 * (PML4E, PDPTE, PDE) and leaves D clear; a write sets D; a first write sets
 * both; a fetch sets A; 2 MiB leaves get A and D the same way; a mapped but
 * untouched page keeps A = 0. */
#include "rt.h"

const char rt_test_name[] = "adbits";

static volatile u64 sink;

static void clear_ad_path(u64 va)
{
    for (int l = 4; l >= 2; l--) {
        volatile u64 *e = pt_entry(rt_pml4(), va, l);
        if (!(*e & PTE_PS))
            *e &= ~PTE_A;
    }
    int lvl;
    *(volatile u64 *)pt_leaf(rt_pml4(), va, &lvl) &= ~(PTE_A | PTE_D);
    invlpg_va(va);    /* drops the TLB entry and the paging-structure caches */
}

static void check_upper_a(u64 va, const char *what)
{
    static const char *names[] = { "", "PTE", "PDE", "PDPTE", "PML4E" };
    for (int l = 4; l >= 2; l--) {
        volatile u64 *e = pt_entry(rt_pml4(), va, l);
        if (*e & PTE_PS)
            break;
        CHECK(*e & PTE_A, "%s: A not set in the %s (%#llx)", what, names[l], *e);
    }
}

void test_main(void)
{
    u64 va = TEST_VA_BASE + 0x200000000ull;    /* own PDPTE, PDE and PT */
    volatile u64 *p1 = rt_alloc_page(), *p2 = rt_alloc_page(), *p3 = rt_alloc_page();
    volatile u64 *pte1 = map_4k(va, (u64)(uintptr_t)p1, PTE_P | PTE_W);
    volatile u64 *pte2 = map_4k(va + 0x1000, (u64)(uintptr_t)p2, PTE_P | PTE_W);
    volatile u64 *pte3 = map_4k(va + 0x2000, (u64)(uintptr_t)p3, PTE_P | PTE_W);
    p1[3] = 0x1234;

    /* Read: A on all levels, D stays clear. */
    clear_ad_path(va);
    CHECK_EQ(*pte1 & (PTE_A | PTE_D), 0, "A/D clear before the access");
    sink = *(volatile u64 *)(va + 24);
    CHECK_EQ(sink, 0x1234, "value read");
    CHECK(*pte1 & PTE_A, "read did not set A in the PTE (%#llx)", *pte1);
    CHECK(!(*pte1 & PTE_D), "read set D in the PTE (%#llx)", *pte1);
    check_upper_a(va, "read");
    CHECK(!(*pte2 & PTE_A), "untouched neighbour page got A (%#llx)", *pte2);

    /* Write after the read (the TLB entry has D=0): D gets set. */
    *(volatile u64 *)(va + 32) = 0x99;
    CHECK(*pte1 & PTE_D, "write did not set D in the PTE (%#llx)", *pte1);
    CHECK(*pte1 & PTE_A, "A lost after the write");
    CHECK_EQ(p1[4], 0x99, "written value in memory");

    /* First access is a write: A and D together, upper levels A. */
    clear_ad_path(va + 0x1000);
    *(volatile u64 *)(va + 0x1000) = 5;
    CHECK_EQ(*pte2 & (PTE_A | PTE_D), PTE_A | PTE_D, "first write sets A and D");
    check_upper_a(va + 0x1000, "write");
    CHECK(!(*pte3 & PTE_A), "untouched page 3 got A");

    /* Instruction fetch sets A, not D. */
    {
        const u8 ret[] = { 0xC3 };
        memcpy((u8 *)p3 + 0x80, ret, 1);
        clear_ad_path(va + 0x2000);
        ((void (*)(void))(va + 0x2080))();
        CHECK(*pte3 & PTE_A, "fetch did not set A (%#llx)", *pte3);
        CHECK(!(*pte3 & PTE_D), "fetch set D (%#llx)", *pte3);
        check_upper_a(va + 0x2000, "fetch");
    }

    /* A read-only page: a faulting write sets neither D nor (wrongly) changes the frame. */
    *pte1 &= ~PTE_W;
    clear_ad_path(va);
    rt_trap_reset();
    int f = TRY(*(volatile u64 *)(va + 8) = 1);
    CHECK(f && rt_last_trap.vector == VEC_PF, "write to read-only page did not fault");
    CHECK(!(*pte1 & PTE_D), "a faulting write set D (%#llx)", *pte1);

    /* 2 MiB leaf. */
    {
        u64 va2 = TEST_VA_BASE + 0x300000000ull;
        u8 *big = rt_alloc_pages(1024);
        u64 pa2 = ((u64)(uintptr_t)big + 0x1FFFFF) & ~0x1FFFFFull;
        volatile u64 *pde = map_2m(va2, pa2, PTE_P | PTE_W);
        clear_ad_path(va2);
        sink = *(volatile u64 *)(va2 + 0x10000);
        CHECK(*pde & PTE_A, "2M read did not set A (%#llx)", *pde);
        CHECK(!(*pde & PTE_D), "2M read set D (%#llx)", *pde);
        check_upper_a(va2, "2M read");
        *(volatile u64 *)(va2 + 0x1FF000) = 3;
        CHECK(*pde & PTE_D, "2M write did not set D (%#llx)", *pde);
    }
    printf("adbits: %d checks done\n", rt_checks);
}
