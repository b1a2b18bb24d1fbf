/* NX, SMEP and SMAP: fetch from XD pages (leaf and upper level), supervisor
 * fetch from a user page with CR4.SMEP, supervisor data access to a user page
 * with CR4.SMAP, and STAC/CLAC (EFLAGS.AC) opening and closing the window.
 * Each part is skipped, with the reason, when CPUID does not advertise it. */
#include "rt.h"

const char rt_test_name[] = "nx_smep_smap";

static volatile u64 sink;
typedef int (*fn_t)(void);

#define EXPECT_PF(stmt, addr, err, what) do { \
    rt_trap_reset(); \
    int _f = TRY(stmt); \
    CHECK(_f && rt_last_trap.vector == VEC_PF, "%s: no #PF (vector %lld)", what, (long long)rt_last_trap.vector); \
    CHECK_EQ(rt_last_trap.error, (err), what); \
    CHECK_EQ(rt_last_trap.cr2, (addr), what); \
} while (0)
#define EXPECT_OK(stmt, what) do { \
    rt_trap_reset(); \
    int _f = TRY(stmt); \
    CHECK(!_f, "%s: unexpected trap %lld error %#llx", what, (long long)rt_last_trap.vector, rt_last_trap.error); \
} while (0)

static u64 code_page(u64 va, u64 flags, volatile u64 **pte)
{
    u8 *p = rt_alloc_page();
    const u8 insns[] = { 0xB8, 0x42, 0x00, 0x00, 0x00, 0xC3 };   /* mov $0x42, %eax; ret */
    memcpy(p, insns, sizeof(insns));
    *pte = map_4k(va, (u64)(uintptr_t)p, flags);
    invlpg_va(va);
    return va;
}

void test_main(void)
{
    volatile u64 *pte;
    volatile int r = 0;
    printf("features: nx %d smep %d smap %d\n", rt_cpu.nx, rt_cpu.smep, rt_cpu.smap);

    /* ---- NX ---- */
    if (rt_cpu.nx) {
        CHECK(rdmsr(MSR_EFER) & EFER_NXE, "EFER.NXE is on");
        u64 va = code_page(TEST_VA_BASE + 0x400000000ull, PTE_P | PTE_W | PTE_NX, &pte);
        EXPECT_PF(r = ((fn_t)va)(), va, PFE_P | PFE_I, "fetch from XD page");
        EXPECT_OK(sink = *(volatile u64 *)va, "read from XD page");
        *pte &= ~PTE_NX;
        invlpg_va(va);
        EXPECT_OK(r = ((fn_t)va)(), "fetch after clearing XD");
        CHECK_EQ(r, 0x42, "code ran");
        /* XD in the PDE applies to every page below it. */
        volatile u64 *pde = pt_entry(rt_pml4(), va, 2);
        *pde |= PTE_NX;
        invlpg_va(va);
        EXPECT_PF(r = ((fn_t)va)(), va, PFE_P | PFE_I, "fetch with XD in the PDE");
        *pde &= ~PTE_NX;
        invlpg_va(va);
        EXPECT_OK(r = ((fn_t)va)(), "fetch after clearing XD in the PDE");
    } else {
        SKIP("NX: CPUID.80000001H:EDX[20] is 0");
    }

    /* ---- SMEP ---- */
    if (rt_cpu.smep) {
        u64 va = code_page(TEST_VA_BASE + 0x400200000ull, PTE_P | PTE_W | PTE_U, &pte);
        EXPECT_OK(r = ((fn_t)va)(), "supervisor fetch from a user page, SMEP off");
        write_cr4(read_cr4() | CR4_SMEP);
        CHECK(read_cr4() & CR4_SMEP, "CR4.SMEP set");
        EXPECT_PF(r = ((fn_t)va)(), va, PFE_P | PFE_I, "supervisor fetch from a user page, SMEP on");
        *pte &= ~PTE_U;
        invlpg_va(va);
        EXPECT_OK(r = ((fn_t)va)(), "supervisor fetch from a supervisor page, SMEP on");
        write_cr4(read_cr4() & ~CR4_SMEP);
    } else {
        SKIP("SMEP: CPUID.(EAX=7,ECX=0):EBX[7] is 0");
    }

    /* ---- SMAP ---- */
    if (rt_cpu.smap) {
        u64 *page = rt_alloc_page();
        u64 va = TEST_VA_BASE + 0x400400000ull;
        page[1] = 0x5A5A;
        pte = map_4k(va, (u64)(uintptr_t)page, PTE_P | PTE_W | PTE_U);
        invlpg_va(va);
        EXPECT_OK(sink = *(volatile u64 *)(va + 8), "supervisor read of a user page, SMAP off");
        write_cr4(read_cr4() | CR4_SMAP);
        clac();
        EXPECT_PF(sink = *(volatile u64 *)(va + 8), va + 8, PFE_P, "supervisor read of a user page, SMAP on");
        EXPECT_PF(*(volatile u64 *)(va + 16) = 1, va + 16, PFE_P | PFE_W, "supervisor write of a user page, SMAP on");
        stac();
        EXPECT_OK(sink = *(volatile u64 *)(va + 8), "read with EFLAGS.AC=1 (STAC)");
        CHECK_EQ(sink, 0x5A5A, "value read under STAC");
        EXPECT_OK(*(volatile u64 *)(va + 16) = 2, "write with EFLAGS.AC=1 (STAC)");
        clac();
        EXPECT_PF(sink = *(volatile u64 *)(va + 8), va + 8, PFE_P, "read after CLAC");
        /* Supervisor pages are not affected. */
        *pte &= ~PTE_U;
        invlpg_va(va);
        EXPECT_OK(sink = *(volatile u64 *)(va + 8), "supervisor page under SMAP");
        write_cr4(read_cr4() & ~CR4_SMAP);
    } else {
        SKIP("SMAP (and STAC/CLAC): CPUID.(EAX=7,ECX=0):EBX[20] is 0");
    }
    printf("nx_smep_smap: %d checks done\n", rt_checks);
}
