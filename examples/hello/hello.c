/* The demo guest of the README: a freestanding Multiboot kernel (the runtime of
 * tests/guests) that greets on the serial port, tells what CPU it runs on, and
 * shows the modelled TLB keeping a stale translation until INVLPG removes it.
 * Exits through isa-debug-exit with 0x10 (status 33) when everything it saw
 * matched what a TLB that keeps stale entries must show. */
#include "rt.h"

const char rt_test_name[] = "hello";

static u64 rd(u64 va) { return *(volatile u64 *)va; }

void test_main(void)
{
    u32 a, b, c, d;
    char vendor[13];
    cpuid(0, 0, &a, &b, &c, &d);
    memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    printf("Hello from a 64-bit guest kernel.\n");
    printf("CPU vendor: %s, max basic leaf %u; CR0=%#llx CR4=%#llx\n", vendor, a,
           (unsigned long long)read_cr0(), (unsigned long long)read_cr4());

    /* Map one virtual page to page A, read it (the TLB keeps A), point the PTE at
     * page B without INVLPG, read again, then INVLPG and read once more. */
    u64 *pa = rt_alloc_page(), *pb = rt_alloc_page();
    pa[0] = 0xAAAAAAAAull;
    pb[0] = 0xBBBBBBBBull;
    u64 va = TEST_VA_BASE + 0x40000000ull;
    u64 *pte = pt_map_4k(rt_pml4(), va, (u64)(uintptr_t)pa, PTE_P | PTE_W);
    invlpg_va(va);
    u64 first = rd(va);
    *pte = (u64)(uintptr_t)pb | PTE_P | PTE_W;
    u64 stale = rd(va);
    invlpg_va(va);
    u64 fresh = rd(va);
    printf("read through the mapping:  %#llx\n", (unsigned long long)first);
    printf("PTE changed, no INVLPG:    %#llx  (%s)\n", (unsigned long long)stale,
           stale == pa[0] ? "stale: the TLB still holds the old translation" : "fresh");
    printf("after INVLPG:              %#llx\n", (unsigned long long)fresh);
    CHECK_EQ(first, pa[0], "first read");
    if (rt_strict_tlb)
        CHECK_EQ(stale, pa[0], "read before INVLPG (the modelled TLB keeps the entry)");
    CHECK_EQ(fresh, pb[0], "read after INVLPG");
    printf("Goodbye.\n");
    rt_finish();
}
