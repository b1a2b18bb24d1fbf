/* Benchmark: pointer chase over a random cyclic permutation of N 4 KiB pages
 * (Sattolo's algorithm), one 64-byte line per page, every load depending on the
 * previous one (TLB-MODEL.md B-(c) 1). The pages are mapped with 4K PTEs in a
 * region of their own. pages=N (default 4096 = 16 MiB), steps=S (default 50M:
 * about 150M instructions, 3 per step). Prints TSC ticks per step: under hvemu
 * these are virtual cycles and include the modelled TLB costs. */
#include "rt.h"

const char rt_test_name[] = "ptrchase";

void test_main(void)
{
    u64 pages = rt_cmdline_num("pages", 4096), steps = rt_cmdline_num("steps", 50000000);
    u64 base = TEST_VA_BASE + 0x1000000000ull;
    u8 *mem = rt_alloc_pages(pages);
    u32 *perm = rt_alloc_pages((pages * 4 + 4095) / 4096);

    for (u64 i = 0; i < pages; i++) {
        map_4k(base + i * 4096, (u64)(uintptr_t)mem + i * 4096, PTE_P | PTE_W | PTE_NX * rt_cpu.nx);
        perm[i] = (u32)i;
    }
    write_cr3(read_cr3());
    /* Sattolo: a single cycle through all pages. */
    rt_srand(12345);
    for (u64 i = pages - 1; i > 0; i--) {
        u64 j = rt_rand() % i;
        u32 t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    /* Page perm[k] points to page perm[k+1]; the line within a page varies. */
    for (u64 k = 0; k < pages; k++) {
        u64 from = perm[k], to = perm[(k + 1) % pages];
        u64 *slot = (u64 *)(base + from * 4096 + ((from * 7) % 64) * 64);
        *slot = base + to * 4096 + ((to * 7) % 64) * 64;
    }
    u64 p = base + perm[0] * 4096 + ((perm[0] * 7) % 64) * 64, n = steps;
    /* warm-up: one lap */
    for (u64 k = 0; k < pages; k++)
        p = *(volatile u64 *)p;
    u64 t0 = rdtsc();
    __asm__ volatile("1:\n\tmov (%0), %0\n\tdec %1\n\tjnz 1b" : "+r"(p), "+r"(n) :: "memory", "cc");
    u64 t1 = rdtsc();
    u64 per100 = (t1 - t0) * 100 / (steps ? steps : 1);
    printf("ptrchase: %llu pages (%llu KiB), %llu steps, end %#llx\n", pages, pages * 4, steps, p);
    printf("ptrchase: %llu TSC ticks, %llu.%02llu ticks per step\n", t1 - t0, per100 / 100, per100 % 100);
    CHECK(p >= base && p < base + pages * 4096, "the chase stayed in the region");
}
