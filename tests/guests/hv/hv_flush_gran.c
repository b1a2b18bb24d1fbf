/* Flush granularity (HV-SPEC.md A-6, B-6.6 item 6; TLB-MODEL.md B-(c) 3), on the
 * caller's own TLB (the target set may include the caller, B-2.2):
 *   1. NON_GLOBAL_MAPPINGS_ONLY keeps global entries (the stale global page is
 *      still read) and drops non-global ones; the same call without the flag
 *      drops the global entry too.
 *   2. A List element naming one 4K page inside a 2M mapping drops the whole 2M
 *      entry: both ends of the large page read the new frame.
 *   2b. The extended GVA range format (flag bit 3, EDX bit 14; B-2.3): an element
 *      with LargePage=1, PageSize=0 drops the 2M entry.
 *   2c. A simple List element with 3 additional pages drops exactly those 4
 *      pages: the page after them keeps its stale entry (exact, A-6).
 *   3. AddressSpace matching (CR4.PCIDE=1): entries filled under root R1 with
 *      PCIDs 1 and 2 are dropped by a flush of R1; the entry filled under root R2
 *      (PCID 3) stays (its stale value is still read).
 * Every case first proves the entry is cached (a stale read after the PTE edit,
 * which requires the modelled TLB: "strict-tlb" on the command line).
 *
 * The guest prints what the statistics must show, one line per claim:
 *   STAT vp=0 <cause> ops=N entries>=M over=0     (the VP's TLB counters)
 *   HVSTAT by_call.FlushVirtualAddressList == N   (the "hyperv" section)
 * and run_hv.sh stats checks them against the -stats JSON
 * (check_gran_stats.py), with under_flushes = 0.
 */
#include "hvcall.h"

const char rt_test_name[] = "hv_flush_gran";

static u64 *in;
static unsigned space_ops, gva_ops;       /* flush operations this guest caused on VP 0 */
static unsigned space_min_entries, gva_min_entries;

static u64 rd(u64 va) { return *(volatile u64 *)va; }

static u64 flush_space(u64 as, u64 flags)
{
    memset(in, 0, 64);
    in[0] = as;
    in[1] = flags;
    in[2] = 1;                              /* VP 0: ourselves */
    u64 r = hv_call(HVCALL_FLUSH_VA_SPACE, in, 0);
    CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "FlushVirtualAddressSpace status");
    space_ops++;
    return r;
}

static u64 flush_list1(u64 as, u64 flags, u64 gva)
{
    memset(in, 0, 64);
    in[0] = as;
    in[1] = flags;
    in[2] = 1;
    in[3] = hv_gva(gva, 0);
    u64 r = hv_call(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(1), in, 0);
    CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "FlushVirtualAddressList status");
    CHECK_EQ(hv_reps_done(r), 1, "FlushVirtualAddressList reps completed");
    gva_ops++;
    return r;
}

/* Two frames with recognisable contents. */
static u64 frame(u64 tag)
{
    u64 *p = rt_alloc_page();
    for (int i = 0; i < 512; i++)
        p[i] = tag + (u64)i;
    return (u64)(uintptr_t)p;
}

static void case_non_global(void)
{
    u64 va_g = TEST_VA_BASE + 0x100000, va_n = TEST_VA_BASE + 0x101000;
    u64 g_old = frame(0x6100), g_new = frame(0x6200), n_old = frame(0x6300), n_new = frame(0x6400);
    volatile u64 *pg = map_4k(va_g, g_old, PTE_P | PTE_W | PTE_G);
    volatile u64 *pn = map_4k(va_n, n_old, PTE_P | PTE_W);
    invlpg_va(va_g);
    invlpg_va(va_n);
    CHECK_EQ(rd(va_g), 0x6100, "global page, first read");
    CHECK_EQ(rd(va_n), 0x6300, "non-global page, first read");
    *pg = g_new | PTE_P | PTE_W | PTE_G;
    *pn = n_new | PTE_P | PTE_W;
    CHECK_EQ(rd(va_g), 0x6100, "global page is cached (stale before any flush)");
    CHECK_EQ(rd(va_n), 0x6300, "non-global page is cached (stale before any flush)");
    flush_space(0, HV_FLUSH_ALL_ADDRESS_SPACES | HV_FLUSH_NON_GLOBAL_ONLY);
    space_min_entries += 1;
    CHECK_EQ(rd(va_n), 0x6400, "NON_GLOBAL flush dropped the non-global entry");
    CHECK_EQ(rd(va_g), 0x6100, "NON_GLOBAL flush kept the global entry (exact policy, A-6)");
    flush_space(0, HV_FLUSH_ALL_ADDRESS_SPACES);
    space_min_entries += 2;                 /* at least the global entry and va_n's refill */
    CHECK_EQ(rd(va_g), 0x6200, "flush without NON_GLOBAL dropped the global entry");
}

static void case_list_2m(void)
{
    /* Two 2M-aligned 2 MiB frames, each word tagged with its offset. */
    u64 raw = (u64)(uintptr_t)rt_alloc_pages(3 * 512);
    u64 f_old = (raw + 0x1FFFFF) & ~0x1FFFFFull, f_new = f_old + 0x200000;
    if (f_new + 0x200000 > raw + 3 * 0x200000) {
        CHECK(0, "2M frames do not fit");
        return;
    }
    *(u64 *)(f_old + 0x0) = 0xA000;
    *(u64 *)(f_old + 0x1FF000) = 0xA1FF;
    *(u64 *)(f_new + 0x0) = 0xB000;
    *(u64 *)(f_new + 0x1FF000) = 0xB1FF;
    u64 va = TEST_VA_BASE + 0x40000000ull;    /* 2M-aligned, a region of its own */
    volatile u64 *pde = map_2m(va, f_old, PTE_P | PTE_W);
    invlpg_va(va);
    CHECK_EQ(rd(va), 0xA000, "2M page, low end");
    CHECK_EQ(rd(va + 0x1FF000), 0xA1FF, "2M page, high end");
    *pde = f_new | PTE_P | PTE_W | PTE_PS;
    CHECK_EQ(rd(va), 0xA000, "2M entry cached (stale low end)");
    CHECK_EQ(rd(va + 0x1FF000), 0xA1FF, "2M entry cached (stale high end)");
    flush_list1(read_cr3() & ~0xfffull, 0, va + 0x123000);
    gva_min_entries += 1;
    CHECK_EQ(rd(va), 0xB000, "List of a page inside the 2M page: low end fresh");
    CHECK_EQ(rd(va + 0x1FF000), 0xB1FF, "List of a page inside the 2M page: high end fresh");
}

static void case_list_ext_2m(void)
{
    if (!(hv_info.priv_edx & HV_FEAT_EXT_GVA_RANGES)) {
        CHECK(0, "0x40000003.EDX bit 14 (extended GVA ranges) not advertised");
        return;
    }
    u64 raw = (u64)(uintptr_t)rt_alloc_pages(3 * 512);
    u64 f_old = (raw + 0x1FFFFF) & ~0x1FFFFFull, f_new = f_old + 0x200000;
    *(u64 *)(f_old + 0x10) = 0xC010;
    *(u64 *)(f_new + 0x10) = 0xD010;
    u64 va = TEST_VA_BASE + 0x40400000ull;
    volatile u64 *pde = map_2m(va, f_old, PTE_P | PTE_W);
    invlpg_va(va);
    CHECK_EQ(rd(va + 0x10), 0xC010, "ext: 2M page read");
    *pde = f_new | PTE_P | PTE_W | PTE_PS;
    CHECK_EQ(rd(va + 0x10), 0xC010, "ext: 2M entry cached");
    memset(in, 0, 64);
    in[0] = read_cr3() & ~0xfffull;
    in[1] = HV_FLUSH_EXTENDED_RANGE;
    in[2] = 1;
    in[3] = (va & ~0x1FFFFFull) | (1ull << 11);     /* LargePage=1, PageSize=0 (2M), 0 additional */
    u64 r = hv_call(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(1), in, 0);
    CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "List with an extended 2M range");
    gva_ops++;
    gva_min_entries += 1;
    CHECK_EQ(rd(va + 0x10), 0xD010, "extended 2M range dropped the 2M entry");
}

static void case_list_range(void)
{
    u64 va = TEST_VA_BASE + 0x400000;
    volatile u64 *pte[5];
    u64 old[5], new[5];
    for (int i = 0; i < 5; i++) {
        old[i] = frame(0x8000 + 0x100 * i);
        new[i] = frame(0x9000 + 0x100 * i);
        pte[i] = map_4k(va + ((u64)i << 12), old[i], PTE_P | PTE_W);
        invlpg_va(va + ((u64)i << 12));
        CHECK_EQ(rd(va + ((u64)i << 12)), 0x8000 + 0x100 * i, "range: first read");
    }
    for (int i = 0; i < 5; i++)
        *pte[i] = new[i] | PTE_P | PTE_W;
    for (int i = 0; i < 5; i++)
        CHECK_EQ(rd(va + ((u64)i << 12)), 0x8000 + 0x100 * i, "range: cached");
    flush_list1(read_cr3() & ~0xfffull, 0, va);
    /* flush_list1 sent 0 additional pages: only page 0 is fresh. */
    CHECK_EQ(rd(va), 0x9000, "range: page 0 after a 1-page List");
    CHECK_EQ(rd(va + 0x1000), 0x8100, "range: page 1 still stale after a 1-page List");
    memset(in, 0, 64);
    in[0] = read_cr3() & ~0xfffull;
    in[2] = 1;
    in[3] = hv_gva(va + 0x1000, 2);                   /* pages 1, 2, 3 */
    u64 r = hv_call(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(1), in, 0);
    CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "List of 1 element with 2 additional pages");
    gva_ops++;
    gva_min_entries += 3 + 1;
    for (int i = 1; i < 4; i++)
        CHECK_EQ(rd(va + ((u64)i << 12)), 0x9000 + 0x100 * i, "range: a page inside the element is fresh");
    CHECK_EQ(rd(va + 0x4000), 0x8400, "range: the page after the element keeps its stale entry (exact)");
}

static void case_address_space(void)
{
    if (!rt_cpu.pcid) {
        CHECK(0, "CPUID reports no PCID; AddressSpace matching needs it");
        return;
    }
    u64 boot = read_cr3() & ~0xfffull;
    u64 r1 = (u64)(uintptr_t)pt_clone_pml4(rt_pml4()), r2 = (u64)(uintptr_t)pt_clone_pml4(rt_pml4());
    u64 va = TEST_VA_BASE + 0x200000;         /* tables shared by both clones */
    u64 f_old = frame(0x7100), f_new = frame(0x7200);
    volatile u64 *pte = map_4k(va, f_old, PTE_P | PTE_W);
    invlpg_va(va);
    write_cr4(read_cr4() | CR4_PCIDE);
    /* Fill: R1/PCID 1, R1/PCID 2, R2/PCID 3 (each CR3 load keeps the others: bit 63). */
    write_cr3(r1 | 1);
    CHECK_EQ(rd(va), 0x7100, "R1/1 fill");
    write_cr3(r1 | 2);
    CHECK_EQ(rd(va), 0x7100, "R1/2 fill");
    write_cr3(r2 | 3);
    CHECK_EQ(rd(va), 0x7100, "R2/3 fill");
    *pte = f_new | PTE_P | PTE_W;
    write_cr3_noflush(r1 | 1);
    CHECK_EQ(rd(va), 0x7100, "R1/1 cached");
    write_cr3_noflush(r1 | 2);
    CHECK_EQ(rd(va), 0x7100, "R1/2 cached");
    write_cr3_noflush(r2 | 3);
    CHECK_EQ(rd(va), 0x7100, "R2/3 cached");
    /* Flush R1 only (AddressSpace = R1's root, no ALL_ADDRESS_SPACES), from R2. */
    flush_space(r1, 0);
    space_min_entries += 2;
    CHECK_EQ(rd(va), 0x7100, "R2/3 kept: AddressSpace R1 must not touch root R2 (exact, A-6)");
    write_cr3_noflush(r1 | 1);
    CHECK_EQ(rd(va), 0x7200, "R1/1 dropped by the AddressSpace flush");
    write_cr3_noflush(r1 | 2);
    CHECK_EQ(rd(va), 0x7200, "R1/2 dropped by the AddressSpace flush (every PCID of the root)");
    write_cr3_noflush(r2 | 3);
    CHECK_EQ(rd(va), 0x7100, "R2/3 still stale");
    /* Back to the boot tables, PCID 0 (CR4.PCIDE can only be cleared with PCID 0). */
    write_cr3(boot);
    write_cr4(read_cr4() & ~CR4_PCIDE);
}

void test_main(void)
{
    if (!rt_strict_tlb) {
        CHECK(0, "needs strict-tlb (the modelled TLB keeps stale entries)");
        return;
    }
    CHECK(hv_detect(NULL), "Hyper-V interface not detected");
    if (!hv_info.present)
        return;
    hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
    hv_enable_hypercall_page();
    in = hv_input_page();
    write_cr4(read_cr4() | CR4_PGE);
    case_non_global();
    case_list_2m();
    case_list_ext_2m();
    case_list_range();
    case_address_space();
    printf("STAT vp=0 hv_flush_space ops=%u entries>=%u over=0\n", space_ops, space_min_entries);
    printf("STAT vp=0 hv_flush_gva ops=%u entries>=%u over=0\n", gva_ops, gva_min_entries);
    printf("STAT vp=1 hv_flush_space ops=0 entries>=0 over=0\n");
    printf("STAT vp=1 hv_flush_gva ops=0 entries>=0 over=0\n");
    /* Every hypercall this guest made: the Space and List calls above, all slow,
     * all SUCCESS, each to VP 0 alone. */
    printf("HVSTAT hypercalls == %u\n", space_ops + gva_ops);
    printf("HVSTAT by_call.FlushVirtualAddressSpace == %u\n", space_ops);
    printf("HVSTAT by_call.FlushVirtualAddressList == %u\n", gva_ops);
    printf("HVSTAT by_form.slow == %u\n", space_ops + gva_ops);
    printf("HVSTAT by_status.success == %u\n", space_ops + gva_ops);
    printf("HVSTAT flush.calls == %u\n", space_ops + gva_ops);
    printf("HVSTAT flush.targets == %u\n", space_ops + gva_ops);
}
