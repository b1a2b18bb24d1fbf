/* PCID and CR3 bit 63 (TLB-MODEL.md B-1.4, B-(c) 3). With CR4.PCIDE=1:
 *  - A -> B -> A with bit 63 set keeps A's stale (edited, not flushed) entry;
 *  - the same with bit 63 clear on the return to A drops it;
 *  - INVLPG acts on the current PCID only (and on globals under any PCID);
 *  - global entries are used under every PCID and survive MOV CR3;
 *  - INVPCID types 0-3 when CPUID advertises INVPCID.
 * "strict-tlb" requires the stale translations; otherwise either is accepted.
 * Skipped, with the reason, when CPUID.1:ECX.PCID is 0 (QEMU TCG). */
#include "rt.h"

const char rt_test_name[] = "pcid";

static u64 *P1, *P2, A, B;
static volatile u64 *pte;
static u64 va;

static u64 rd(void) { return *(volatile u64 *)va; }
static u64 v1(void) { return P1[0]; }
static u64 v2(void) { return P2[0]; }

static void expect(u64 want_strict, u64 other, const char *what)
{
    u64 got = rd();
    const char *how = got == want_strict ? "as modelled" : got == other ? "other" : "??";
    if (rt_strict_tlb)
        CHECK(got == want_strict, "%s: got %#llx, expected %#llx", what, got, want_strict);
    else
        CHECK(got == want_strict || got == other, "%s: got %#llx, neither %#llx nor %#llx", what, got,
              want_strict, other);
    printf("  %-58s %s\n", what, how);
}
#define MUST(want, what) CHECK_EQ(rd(), (want), what)

static void invpcid(u64 type, u64 pcid, u64 addr)
{
    struct { u64 pcid, addr; } d = { pcid, addr };
    __asm__ volatile("invpcid %0, %1" :: "m"(d), "r"(type) : "memory");
}

#define MAP(p, extra) (*pte = (u64)(uintptr_t)(p) | PTE_P | PTE_W | (extra))

void test_main(void)
{
    printf("pcid %d invpcid %d pge %d strict-tlb %d\n", rt_cpu.pcid, rt_cpu.invpcid, rt_cpu.pge, rt_strict_tlb);
    if (!rt_cpu.pcid) {
        SKIP("PCID: CPUID.1:ECX[17] is 0 on this machine (QEMU TCG does not implement PCIDs)");
        CHECK(!(read_cr4() & CR4_PCIDE), "CR4.PCIDE is off");
        return;
    }
    P1 = rt_alloc_page();
    P2 = rt_alloc_page();
    P1[0] = 0xAAAA0001;
    P2[0] = 0xBBBB0002;
    va = TEST_VA_BASE + 0x600000000ull;
    pte = map_4k(va, (u64)(uintptr_t)P1, PTE_P | PTE_W);
    A = (u64)(uintptr_t)rt_pml4();
    B = (u64)(uintptr_t)pt_clone_pml4(rt_pml4());   /* shares the test tables */

    /* PCIDE can only be set with CR3[11:0] = 0. */
    write_cr3(A | 5);                                 /* PCIDE=0: low bits are PWT/PCD/ignored */
    rt_trap_reset();
    int f = TRY(write_cr4(read_cr4() | CR4_PCIDE));
    CHECK(f && rt_last_trap.vector == VEC_GP, "CR4.PCIDE with CR3[11:0] != 0 must #GP");
    write_cr3(A);
    write_cr4(read_cr4() | CR4_PCIDE);
    CHECK(read_cr4() & CR4_PCIDE, "CR4.PCIDE set");

    /* 1. A -> B -> A with bit 63 set keeps A's entry. */
    write_cr3(A | 1);
    MAP(P1, 0);
    invlpg_va(va);
    MUST(v1(), "A: first read");
    MAP(P2, 0);                                        /* edit, no flush */
    write_cr3(B | 2);                                  /* bit 63 clear: PCID 2 flushed */
    MUST(v2(), "B: PCID 2 has no entry, walks the edited table");
    CHECK_EQ(read_cr3() & 0xFFF, 2, "CR3[11:0] is the PCID");
    write_cr3_noflush(A | 1);
    CHECK(!(read_cr3() & CR3_NOFLUSH), "bit 63 is not stored in CR3");
    expect(v1(), v2(), "A again, bit 63 set: A's stale entry kept");
    write_cr3_noflush(B | 2);
    write_cr3(A | 1);                                  /* bit 63 clear */
    MUST(v2(), "A again, bit 63 clear: A's entries dropped");

    /* 2. INVLPG acts on the current PCID only. */
    MAP(P1, 0);
    write_cr3(A | 1);
    MUST(v1(), "A: fill P1");
    write_cr3(B | 2);
    MUST(v1(), "B: fill P1");
    MAP(P2, 0);
    invlpg_va(va);                                     /* in B: PCID 2 only */
    MUST(v2(), "B: after INVLPG");
    write_cr3_noflush(A | 1);
    expect(v1(), v2(), "A (bit 63): INVLPG under PCID 2 left PCID 1's entry");
    invlpg_va(va);
    MUST(v2(), "A: after its own INVLPG");

    /* 3. Globals: used under every PCID, survive MOV CR3, INVLPG drops them anywhere. */
    if (rt_cpu.pge) {
        write_cr4(read_cr4() | CR4_PGE);
        MAP(P1, PTE_G);
        invlpg_va(va);
        MUST(v1(), "A: global fill");
        MAP(P2, PTE_G);
        write_cr3(B | 2);                              /* bit 63 clear: non-global only */
        expect(v1(), v2(), "B: global entry from PCID 1 used under PCID 2");
        invlpg_va(va);
        MUST(v2(), "B: INVLPG removed the global entry");
        write_cr3_noflush(A | 1);
        MUST(v2(), "A: the global entry is gone under PCID 1 as well");
        write_cr4(read_cr4() & ~CR4_PGE);              /* flushes everything */
    } else {
        SKIP("global pages: CPUID.1:EDX.PGE is 0");
    }

    /* 4. INVPCID. */
    if (rt_cpu.invpcid) {
        /* type 0: (PCID, address), issued from another PCID */
        MAP(P1, 0);
        write_cr3(A | 1);
        MUST(v1(), "A: fill");
        MAP(P2, 0);
        write_cr3_noflush(B | 2);
        invpcid(0, 1, va);
        write_cr3_noflush(A | 1);
        MUST(v2(), "INVPCID type 0 on PCID 1 from PCID 2");
        /* type 1: single context */
        MAP(P1, 0);
        write_cr3(A | 1);
        MUST(v1(), "A: fill");
        MAP(P2, 0);
        write_cr3_noflush(B | 2);
        invpcid(1, 3, 0);                              /* another PCID: A untouched */
        write_cr3_noflush(A | 1);
        expect(v1(), v2(), "INVPCID type 1 on PCID 3 keeps PCID 1");
        write_cr3_noflush(B | 2);
        invpcid(1, 1, 0);
        write_cr3_noflush(A | 1);
        MUST(v2(), "INVPCID type 1 on PCID 1");
        if (rt_cpu.pge) {
            write_cr4(read_cr4() | CR4_PGE);
            MAP(P1, PTE_G);
            invlpg_va(va);
            MUST(v1(), "global fill");
            MAP(P2, PTE_G);
            invpcid(3, 0, 0);                          /* all contexts, keep globals */
            expect(v1(), v2(), "INVPCID type 3 keeps the global entry");
            invpcid(2, 0, 0);                          /* all contexts incl. globals */
            MUST(v2(), "INVPCID type 2 drops the global entry");
            write_cr4(read_cr4() & ~CR4_PGE);
        }
        /* type 0 with a non-canonical address is #GP(0); type > 3 is #GP(0). */
        rt_trap_reset();
        f = TRY(invpcid(4, 0, 0));
        CHECK(f && rt_last_trap.vector == VEC_GP, "INVPCID type 4 must #GP");
    } else {
        SKIP("INVPCID: CPUID.(EAX=7,ECX=0):EBX[10] is 0");
    }

    /* Clearing PCIDE needs CR3[11:0] = 0; it flushes everything. */
    write_cr3(A);
    write_cr4(read_cr4() & ~CR4_PCIDE);
    CHECK(!(read_cr4() & CR4_PCIDE), "CR4.PCIDE cleared");
    printf("pcid: %d checks done\n", rt_checks);
}
