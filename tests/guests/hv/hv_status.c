/* The hypercall status matrix (HV-SPEC.md B-6.6 item 2): the KVM hyperv_features
 * stages of B-6.2 with hvemu's strict-TLFS choices, plus the TLFS negatives,
 * the validation order of B-2.6, #UD at CPL 3 and before the guest OS ID is set,
 * the hypercall page and the result/register conventions (B-1.5).
 *
 * Runs on one VP (-smp 2: VP 1 exists but stays in WAIT_FOR_SIPI; it is a valid
 * flush target).  Command-line words select the feature profile the run expects,
 * and the guest first checks CPUID agrees, so a profile switch that does nothing
 * fails instead of silently testing the default:
 *   (none)          the default profile: flush, IPI, Ex and XMM input advertised
 *   no-tlbflush     0x40000004.EAX bit 2 clear: flush calls -> ACCESS_DENIED
 *   no-ipi          bit 10 clear: IPI calls -> ACCESS_DENIED
 *   no-ex           bit 11 clear: Ex calls -> ACCESS_DENIED
 *   no-xmm          0x40000003.EDX bit 4 clear: fast flush calls -> #UD
 *   kvm             -hyperv compat=kvm: KVM's leniencies of A-5 (mask 0 means
 *                   all processors, Ex format > 1 means all) instead of
 *                   INVALID_PARAMETER; everything else as strict
 * Every profile ends with a garbage run (the bad-input clause of issue 3): 3000
 * hypercalls with random control values, call codes, GPAs and input bytes must
 * each return one of the documented statuses with the reserved result bits 0
 * (or #UD for a fast call whose input needs XMM when XMM input is off), and the
 * machine must keep running.
 */
#include "hvcall.h"

const char rt_test_name[] = "hv_status";

static int want_flush = 1, want_ipi = 1, want_ex = 1, want_xmm = 1, kvm;

/* Expect a status from a result value. */
#define EXPECT_ST(r, st, what) do { u64 _r = (r); unsigned _s = hv_status(_r); rt_checks++; \
    if (_s != (unsigned)(st)) rt_check_fail(__FILE__, __LINE__, what, "status %#x (%s), expected %#x (%s), rax %#llx", \
        _s, hv_status_name(_s), (unsigned)(st), hv_status_name(st), _r); } while (0)

/* Runs stmt under TRY and expects #UD. */
#define EXPECT_UD(what, ...) do { rt_trap_reset(); int _f = TRY(__VA_ARGS__); \
    CHECK(_f && rt_last_trap.vector == VEC_UD, "%s: expected #UD, got %s (vector %lld)", what, \
          _f ? "a trap" : "no trap", (long long)rt_last_trap.vector); } while (0)

static u64 raw_vmcall(u64 rcx, u64 rdx, u64 r8v)
{
    u64 rax;
    register u64 r8 __asm__("r8") = r8v;
    __asm__ volatile("vmcall" : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8) :: "memory", "cc");
    return rax;
}

/* CPL 3: the hypercall page is supervisor-only, so user code executes VMCALL
 * itself; the TLFS says #UD either way (B-1.8). */
USER_TEXT static long user_vmcall(long arg)
{
    u64 rax, rcx = (u64)arg, rdx = 0;
    register u64 r8 __asm__("r8") = 0;
    __asm__ volatile("vmcall" : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8) :: "memory", "cc");
    return (long)rax;
}
static volatile int user_ud_seen;
static struct catch_ctx user_ud_ctx;
static int user_ud_handler(struct trap_frame *f)
{
    if ((f->cs & 3) != 3)
        return 0;
    user_ud_seen++;
    rt_catch_jump(&user_ud_ctx, 1);
}

static void check_cpuid(unsigned nr_vps)
{
    struct hv_info h;
    int present = hv_detect(&h);
    CHECK(present, "Hyper-V interface not detected (vendor \"%s\", max leaf %#x)", h.vendor, h.max_leaf);
    if (!present) {
        rt_finish();
    }
    CHECK_EQ(h.max_leaf, 0x40000005, "0x40000000.EAX (A-2)");
    CHECK_EQ(h.interface, HV_INTERFACE_HV1, "0x40000001.EAX \"Hv#1\"");
    CHECK_EQ(h.priv_ebx, 0, "0x40000003.EBX must be 0 (A-2; vpregs not enabled)");
    CHECK((h.priv_eax & (HV_PRIV_HYPERCALL_MSRS | HV_PRIV_VP_INDEX)) == (HV_PRIV_HYPERCALL_MSRS | HV_PRIV_VP_INDEX),
          "0x40000003.EAX %#x lacks bits 5/6", h.priv_eax);
    CHECK_EQ(h.hints_ebx, 0xFFFFFFFFu, "0x40000004.EBX");
    CHECK_EQ(h.max_vps, nr_vps, "0x40000005.EAX = number of VPs");
    CHECK_EQ(!!(h.hints_eax & HV_HINT_REMOTE_FLUSH), want_flush, "hint bit 2 (remote flush) as the profile says");
    CHECK_EQ(!!(h.hints_eax & HV_HINT_CLUSTER_IPI), want_ipi, "hint bit 10 (cluster IPI) as the profile says");
    CHECK_EQ(!!(h.hints_eax & HV_HINT_EX_PROC_MASKS), want_ex, "hint bit 11 (Ex masks) as the profile says");
    CHECK_EQ(!!(h.priv_edx & HV_FEAT_XMM_INPUT), want_xmm, "EDX bit 4 (XMM input) as the profile says");
    printf("cpuid: max %#x priv eax %#x ebx %#x edx %#x hints %#x vps %u\n", h.max_leaf, h.priv_eax,
           h.priv_ebx, h.priv_edx, h.hints_eax, h.max_vps);
}

static void before_os_id(void)
{
    CHECK_EQ(rdmsr(HV_MSR_GUEST_OS_ID), 0, "guest OS ID at reset");
    /* Enable is ignored while the OS ID is 0. */
    u64 page = (u64)(uintptr_t)rt_alloc_page();
    wrmsr(HV_MSR_HYPERCALL, page | HV_HYPERCALL_ENABLE);
    CHECK_EQ(rdmsr(HV_MSR_HYPERCALL) & HV_HYPERCALL_ENABLE, 0, "hypercall enable with OS ID 0");
    EXPECT_UD("VMCALL with OS ID 0", raw_vmcall(HVCALL_FLUSH_VA_SPACE, 0, 0));
}

static void check_page(const u8 *pg)
{
    int amd = !memcmp(rt_cpu.vendor, "AuthenticAMD", 12);
    static const u8 vmcall[4] = { 0x0F, 0x01, 0xC1, 0xC3 }, vmmcall[4] = { 0x0F, 0x01, 0xD9, 0xC3 };
    CHECK(!memcmp(pg, amd ? vmmcall : vmcall, 4), "hypercall page starts %02x %02x %02x %02x (A-1)",
          pg[0], pg[1], pg[2], pg[3]);
    int cc = 0;
    for (int i = 4; i < 4096; i++)
        cc += pg[i] == 0xCC;
    CHECK_EQ(cc, 4092, "bytes 4..4095 of the hypercall page are 0xCC");
    /* An overlay: a guest write does not change it (A-1; the TLFS allows #GP). */
    rt_trap_reset();
    int f = TRY(*(volatile u8 *)(pg + 100) = 0x90);
    CHECK(!f || rt_last_trap.vector == VEC_GP, "write to the page: vector %lld", (long long)rt_last_trap.vector);
    CHECK_EQ(((volatile u8 *)pg)[100], 0xCC, "hypercall page byte 100 after a guest write");
}

static u64 *in;

static void set_flush(u64 as, u64 flags, u64 mask) { memset(in, 0, 4096); in[0] = as; in[1] = flags; in[2] = mask; }

static void matrix_denied(void)
{
    /* Step 2 of B-2.6 comes before everything but #UD: ACCESS_DENIED even with
     * reserved control bits or a bad layout. */
    if (!want_flush) {
        set_flush(0, 0, 0);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE, in, 0), HV_STATUS_ACCESS_DENIED, "Space without hint 2");
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(1), in, 0), HV_STATUS_ACCESS_DENIED, "List without hint 2");
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE | (1ull << 31), in, 0), HV_STATUS_ACCESS_DENIED,
                  "Space without hint 2, reserved control bit 31");
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE_EX, in, 0), HV_STATUS_ACCESS_DENIED, "SpaceEx without hint 2");
    }
    if (!want_ex) {
        set_flush(0, 0, 0);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE_EX, in, 0), HV_STATUS_ACCESS_DENIED, "SpaceEx without hint 11");
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_LIST_EX | HV_CTL_REP_COUNT(1), in, 0), HV_STATUS_ACCESS_DENIED,
                  "ListEx without hint 11");
        EXPECT_ST(hv_call(HVCALL_SEND_IPI_EX, in, 0), HV_STATUS_ACCESS_DENIED, "SendIpiEx without hint 11");
    }
    if (!want_ipi) {
        memset(in, 0, 4096);
        in[0] = 0x40;
        in[1] = 1;
        EXPECT_ST(hv_call(HVCALL_SEND_IPI, in, 0), HV_STATUS_ACCESS_DENIED, "SendIpi without hint 10");
        EXPECT_ST(hv_call(HVCALL_SEND_IPI_EX, in, 0), HV_STATUS_ACCESS_DENIED, "SendIpiEx without hint 10");
    }
}

static void matrix_kvm_stages(void)
{
    /* B-6.2 hypercall stages, strict column. */
    memset(in, 0, 4096);
    EXPECT_ST(hv_call(0xbeef, in, 0), HV_STATUS_INVALID_HYPERCALL_CODE, "code 0xbeef");
    EXPECT_ST(hv_call_fast(0xbeef, 0, 0), HV_STATUS_INVALID_HYPERCALL_CODE, "fast code 0xbeef");
    EXPECT_ST(hv_call(0x0001, in, 0), HV_STATUS_INVALID_HYPERCALL_CODE, "code 1 (not implemented)");
    if (want_flush) {
        set_flush(0, 0, 0);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE, in, 0), kvm ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER,
                  "all-zero FlushVirtualAddressSpace (strict: mask 0 without ALL; KVM: SUCCESS)");
        set_flush(0, HV_FLUSH_ALL_ADDRESS_SPACES, 1);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE, in, 0), HV_STATUS_SUCCESS, "Space, all spaces, VP 0");
        set_flush(read_cr3() & ~0xfffull, 0, 3);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE, in, 0), HV_STATUS_SUCCESS, "Space, this CR3, VPs 0-1");
        set_flush(0, HV_FLUSH_ALL_ADDRESS_SPACES | HV_FLUSH_ALL_PROCESSORS, 0);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE, in, 0), HV_STATUS_SUCCESS, "Space, ALL_PROCESSORS, mask 0");
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE, in, 0) , HV_STATUS_SUCCESS, "same call again");
    }
    if (want_flush && want_ex && !kvm) {     /* compat=kvm: A-5 does not say; not checked */
        set_flush(0, 0, 0);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE_EX, in, 0), HV_STATUS_INVALID_PARAMETER,
                  "all-zero FlushVirtualAddressSpaceEx (strict: empty sparse set; KVM: SUCCESS)");
    }
    if (want_flush && want_ex) {
        set_flush(0, HV_FLUSH_ALL_ADDRESS_SPACES, 0);
        hv_vpset_all(in + 2);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE_EX, in, 0), HV_STATUS_SUCCESS, "SpaceEx HV_GENERIC_SET_ALL");
        unsigned vps[2] = { 0, 1 };
        unsigned nb = hv_vpset_sparse(in + 2, vps, 2);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE_EX | HV_CTL_VARHEAD(nb), in, 0), HV_STATUS_SUCCESS,
                  "SpaceEx {0,1}, varhead 1");
    }
    if (want_ipi) {
        memset(in, 0, 4096);
        EXPECT_ST(hv_call(HVCALL_SEND_IPI, in, 0), HV_STATUS_INVALID_PARAMETER, "all-zero SendSyntheticClusterIpi (vector 0)");
    }
    if (want_ipi && want_ex && !kvm) {       /* compat=kvm: A-5 does not say; not checked */
        memset(in, 0, 4096);
        EXPECT_ST(hv_call(HVCALL_SEND_IPI_EX, in, 0), HV_STATUS_INVALID_PARAMETER,
                  "all-zero SendSyntheticClusterIpiEx (strict: vector 0 / empty set; KVM: SUCCESS)");
    }
    /* fast FlushVirtualAddressSpace: 24 bytes of input need XMM input (B-1.6). */
    if (want_flush) {
        if (want_xmm)
            EXPECT_ST(hv_call_fast(HVCALL_FLUSH_VA_SPACE, 0, HV_FLUSH_ALL_ADDRESS_SPACES | HV_FLUSH_ALL_PROCESSORS),
                      HV_STATUS_SUCCESS, "fast Space with XMM input advertised");
        else
            EXPECT_UD("fast Space without XMM input",
                      hv_call_fast(HVCALL_FLUSH_VA_SPACE, 0, HV_FLUSH_ALL_ADDRESS_SPACES | HV_FLUSH_ALL_PROCESSORS));
    }
}

static void matrix_tlfs_negatives(void)
{
    if (!want_flush)
        return;
    u64 sp = HVCALL_FLUSH_VA_SPACE, li = HVCALL_FLUSH_VA_LIST;
    u64 ok_flags = HV_FLUSH_ALL_ADDRESS_SPACES;

    /* Reserved control bits (B-1.4): 30:27, 31, 47:44, 63:60. */
    static const int rsvd[] = { 27, 30, 31, 44, 47, 60, 63 };
    for (unsigned i = 0; i < sizeof rsvd / sizeof rsvd[0]; i++) {
        set_flush(0, ok_flags, 1);
        EXPECT_ST(hv_call(sp | (1ull << rsvd[i]), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "reserved control bit");
    }
    /* Order (B-2.6): reserved control bits (3) before unknown code (5). */
    EXPECT_ST(hv_call(0xbeef | (1ull << 31), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "0xbeef + bit 31");

    /* Rep / varhead shape (B-1.6). */
    set_flush(0, ok_flags, 1);
    EXPECT_ST(hv_call(sp | HV_CTL_REP_COUNT(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "rep count on a simple call");
    EXPECT_ST(hv_call(sp | HV_CTL_REP_START(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "rep start on a simple call");
    EXPECT_ST(hv_call(sp | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "varhead on Space (non-variable)");
    in[3] = hv_gva(TEST_VA_BASE, 0);
    EXPECT_ST(hv_call(li, in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "List with rep count 0");
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(1) | HV_CTL_REP_START(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
              "rep start == rep count");
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(1) | HV_CTL_REP_START(5), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
              "rep start > rep count");
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(1) | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
              "varhead on List (non-variable)");

    /* GPA checks (B-1.6): 8-byte alignment, page straddle, outside the GPA space. */
    u8 *b = (u8 *)in;
    u64 *mis = (u64 *)(b + 4);
    mis[0] = 0; mis[1] = ok_flags; mis[2] = 1;
    EXPECT_ST(hv_call(sp, mis, 0), HV_STATUS_INVALID_ALIGNMENT, "input GPA not 8-byte aligned");
    u64 *strad = (u64 *)(b + 4096 - 16);      /* 24 bytes: the last qword crosses into the next page */
    strad[0] = 0; strad[1] = ok_flags;
    EXPECT_ST(hv_call(sp, strad, 0), HV_STATUS_INVALID_ALIGNMENT, "24-byte input straddles a page");
    set_flush(0, ok_flags, 1);
    in[3] = hv_gva(TEST_VA_BASE, 0);
    /* A List with 2 elements starting 8 bytes before the end: the input block is
     * the header + 2 GVAs = 40 bytes from (page end - 40) is fine; 48 straddles. */
    u64 *tail = (u64 *)(b + 4096 - 40);
    tail[0] = 0; tail[1] = ok_flags; tail[2] = 1; tail[3] = hv_gva(TEST_VA_BASE, 0); tail[4] = hv_gva(TEST_VA_BASE + 4096, 0);
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(2), tail, 0), HV_STATUS_SUCCESS, "List block ending exactly at the page end");
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(3), tail, 0), HV_STATUS_INVALID_ALIGNMENT, "List whose 3rd element crosses the page");
    EXPECT_ST(hv_call(sp, (void *)(uintptr_t)(64ull << 30), 0), HV_STATUS_INVALID_ALIGNMENT, "input GPA 64 GiB (no RAM there)");
    EXPECT_ST(hv_call(sp, (void *)(uintptr_t)(1ull << 52), 0), HV_STATUS_INVALID_ALIGNMENT, "input GPA beyond MAXPHYADDR");
    /* Order: rep shape (6) before alignment (7). */
    EXPECT_ST(hv_call(li, mis, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "List rep count 0 and misaligned: shape first");

    /* INVALID_PARAMETER (B-2.1, B-2.6 item 9). */
    set_flush(0, ok_flags | HV_FLUSH_NON_GLOBAL_ONLY, 1);
    in[3] = hv_gva(TEST_VA_BASE, 0);
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(1), in, 0), HV_STATUS_INVALID_PARAMETER, "NON_GLOBAL on a List call");
    set_flush(0, ok_flags | HV_FLUSH_NON_GLOBAL_ONLY, 1);
    EXPECT_ST(hv_call(sp, in, 0), HV_STATUS_SUCCESS, "NON_GLOBAL on a Space call is fine");
    static const int rsvd_flags[] = { 4, 5, 8, 9, 31, 32, 63 };
    for (unsigned i = 0; i < sizeof rsvd_flags / sizeof rsvd_flags[0]; i++) {
        set_flush(0, ok_flags | (1ull << rsvd_flags[i]), 1);
        EXPECT_ST(hv_call(sp, in, 0), HV_STATUS_INVALID_PARAMETER, "reserved flag bit");
    }
    set_flush(0, ok_flags | HV_FLUSH_EXTENDED_RANGE, 1);
    EXPECT_ST(hv_call(sp, in, 0), HV_STATUS_INVALID_PARAMETER, "EXTENDED_RANGE on a Space call");
    set_flush(0, ok_flags | HV_FLUSH_EXTENDED_RANGE, 1);
    in[3] = hv_gva(TEST_VA_BASE, 0);
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(1), in, 0),
              (hv_info.priv_edx & HV_FEAT_EXT_GVA_RANGES) ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER,
              "EXTENDED_RANGE on a List call (depends on EDX bit 14)");
    unsigned mask0 = kvm ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER;
    set_flush(0, ok_flags, 0);
    EXPECT_ST(hv_call(sp, in, 0), mask0, "mask 0 without ALL_PROCESSORS (compat=kvm: all processors)");
    set_flush(0, ok_flags, 0);
    in[3] = hv_gva(TEST_VA_BASE, 0);
    EXPECT_ST(hv_call(li | HV_CTL_REP_COUNT(1), in, 0), mask0, "List, mask 0 without ALL_PROCESSORS");

    if (want_ex) {
        u64 se = HVCALL_FLUSH_VA_SPACE_EX;
        set_flush(0, ok_flags, 2);        /* format 2 */
        in[3] = 1; in[4] = 1;
        EXPECT_ST(hv_call(se | HV_CTL_VARHEAD(1), in, 0), kvm ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER,
                  "Ex format 2 (compat=kvm: all processors)");
        set_flush(0, ok_flags, HV_GENERIC_SET_SPARSE_4K);
        in[3] = 0x3; in[4] = 1; in[5] = 0;    /* two banks */
        EXPECT_ST(hv_call(se | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "varhead 1 != popcount 2");
        EXPECT_ST(hv_call(se | HV_CTL_VARHEAD(3), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "varhead 3 != popcount 2");
        EXPECT_ST(hv_call(se | HV_CTL_VARHEAD(2), in, 0), HV_STATUS_SUCCESS, "varhead 2 == popcount 2");
        in[1] = ok_flags | (1ull << 4);
        EXPECT_ST(hv_call(se | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT,
                  "varhead mismatch before reserved flags (B-2.6 8 before 9)");
        set_flush(0, ok_flags, HV_GENERIC_SET_SPARSE_4K);
        in[3] = 1; in[4] = 0;                 /* one present bank, empty */
        if (!kvm)       /* KVM flushes nobody and succeeds (B-2.4); compat=kvm may too */
            EXPECT_ST(hv_call(se | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_PARAMETER, "sparse set with only an empty bank");
        set_flush(0, ok_flags, HV_GENERIC_SET_SPARSE_4K);
        in[3] = 1; in[4] = 1; in[5] = hv_gva(TEST_VA_BASE, 0);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_LIST_EX | HV_CTL_VARHEAD(1) | HV_CTL_REP_COUNT(1), in, 0), HV_STATUS_SUCCESS,
                  "ListEx {0}");
        in[1] = ok_flags | HV_FLUSH_NON_GLOBAL_ONLY;
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_LIST_EX | HV_CTL_VARHEAD(1) | HV_CTL_REP_COUNT(1), in, 0),
                  HV_STATUS_INVALID_PARAMETER, "NON_GLOBAL on ListEx");
        /* Alignment (7) before varhead (8). */
        u64 *m = (u64 *)((u8 *)in + 2052);
        m[0] = 0; m[1] = ok_flags; m[2] = 0; m[3] = 1; m[4] = 1;
        EXPECT_ST(hv_call(se | HV_CTL_VARHEAD(2), m, 0), HV_STATUS_INVALID_ALIGNMENT, "misaligned + bad varhead: alignment first");
    }
}

static void matrix_ipi(void)
{
    if (!want_ipi)
        return;
    /* VP 1 is in WAIT_FOR_SIPI: a valid target that never runs here. */
    static const u32 bad_vectors[] = { 0x0, 0x0F, 0x100, 0xFFFFFFFF };
    for (unsigned i = 0; i < 4; i++) {
        memset(in, 0, 4096);
        ((u32 *)in)[0] = bad_vectors[i];
        in[1] = 2;
        EXPECT_ST(hv_call(HVCALL_SEND_IPI, in, 0), HV_STATUS_INVALID_PARAMETER, "IPI with a bad vector (slow)");
        EXPECT_ST(hv_call_fast(HVCALL_SEND_IPI, bad_vectors[i], 2), HV_STATUS_INVALID_PARAMETER, "IPI with a bad vector (fast)");
    }
    memset(in, 0, 4096);
    ((u32 *)in)[0] = 0x40;
    ((u8 *)in)[4] = 0x11;                     /* TargetVtl: UseTargetVtl + VTL 1 */
    in[1] = 2;
    EXPECT_ST(hv_call(HVCALL_SEND_IPI, in, 0), HV_STATUS_INVALID_PARAMETER, "IPI with a non-zero TargetVtl");
    ((u8 *)in)[4] = 0;
    ((u8 *)in)[6] = 1;
    EXPECT_ST(hv_call(HVCALL_SEND_IPI, in, 0), HV_STATUS_INVALID_PARAMETER, "IPI with non-zero padding");
    EXPECT_ST(hv_call_fast(HVCALL_SEND_IPI, 0x40 | (1ull << 40), 2), HV_STATUS_INVALID_PARAMETER,
              "fast IPI with RDX[63:32] != 0");
    memset(in, 0, 4096);
    ((u32 *)in)[0] = 0x40;
    if (!kvm)           /* KVM: no targets, SUCCESS; compat=kvm may too */
        EXPECT_ST(hv_call(HVCALL_SEND_IPI, in, 0), HV_STATUS_INVALID_PARAMETER, "IPI with mask 0");
    EXPECT_ST(hv_call(HVCALL_SEND_IPI | HV_CTL_REP_COUNT(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "IPI with a rep count");
    EXPECT_ST(hv_call(HVCALL_SEND_IPI | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "IPI (non-Ex) with varhead");
    if (want_ex) {
        memset(in, 0, 4096);
        ((u32 *)in)[0] = 0x40;
        in[1] = HV_GENERIC_SET_SPARSE_4K; in[2] = 1; in[3] = 2;
        EXPECT_ST(hv_call(HVCALL_SEND_IPI_EX | HV_CTL_VARHEAD(0), in, 0), HV_STATUS_INVALID_HYPERCALL_INPUT, "IpiEx varhead 0 != 1");
        in[1] = 2;
        if (!kvm)       /* KVM: format != 0 means all; compat=kvm may too */
            EXPECT_ST(hv_call(HVCALL_SEND_IPI_EX | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_PARAMETER, "IpiEx format 2");
        in[1] = HV_GENERIC_SET_SPARSE_4K;
        ((u32 *)in)[0] = 0x0F;
        EXPECT_ST(hv_call(HVCALL_SEND_IPI_EX | HV_CTL_VARHEAD(1), in, 0), HV_STATUS_INVALID_PARAMETER, "IpiEx vector 0x0F");
    }
}

static void check_conventions(void)
{
    if (!want_flush)
        return;
    /* Rep call result: reps completed is absolute (B-1.5): start 1, count 3 -> 3. */
    set_flush(0, HV_FLUSH_ALL_ADDRESS_SPACES, 1);
    for (int i = 0; i < 3; i++)
        in[3 + i] = hv_gva(TEST_VA_BASE + ((u64)i << 12), 0);
    struct hv_regs r;
    memset(&r, 0, sizeof r);
    r.rcx = HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(3);
    r.rdx = (u64)(uintptr_t)in;
    r.r8 = 0x1000;                      /* unused output GPA: ignored (B-1.6) */
    u64 rax = hv_call_regs(&r, 0);
    EXPECT_ST(rax, HV_STATUS_SUCCESS, "List of 3");
    CHECK_EQ(hv_reps_done(rax), 3, "reps completed of a List of 3");
    CHECK_EQ(rax & ~0xfff0000ffffull, 0, "reserved result bits are 0");
    CHECK_EQ(r.rdx, (u64)(uintptr_t)in, "RDX preserved");
    CHECK_EQ(r.r8, 0x1000, "R8 preserved");
    CHECK_EQ(r.rbx, HV_SENTINEL(1), "RBX untouched");
    CHECK_EQ(r.rsi, HV_SENTINEL(2), "RSI untouched");
    CHECK_EQ(r.rdi, HV_SENTINEL(3), "RDI untouched");
    CHECK_EQ(r.r9, HV_SENTINEL(4), "R9 untouched");
    CHECK_EQ(r.r10, HV_SENTINEL(5), "R10 untouched");
    CHECK_EQ(r.r11, HV_SENTINEL(6), "R11 untouched");
    CHECK_EQ(r.r12, HV_SENTINEL(7), "R12 untouched");
    r.rcx = HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(3) | HV_CTL_REP_START(1);
    rax = hv_call_regs(&r, 0);
    EXPECT_ST(rax, HV_STATUS_SUCCESS, "List start 1 count 3");
    CHECK_EQ(hv_reps_done(rax), 3, "reps completed is absolute (start 1, count 3)");
    /* A simple call leaves RCX alone. */
    set_flush(0, HV_FLUSH_ALL_ADDRESS_SPACES, 1);
    r.rcx = HVCALL_FLUSH_VA_SPACE;
    rax = hv_call_regs(&r, 0);
    EXPECT_ST(rax, HV_STATUS_SUCCESS, "Space via hv_call_regs");
    CHECK_EQ(r.rcx, HVCALL_FLUSH_VA_SPACE, "RCX after a simple call");
    CHECK_EQ(hv_reps_done(rax), 0, "reps completed of a simple call");
    /* XMM fast (B-1.6): the mask really comes from XMM0, and RDX, R8 and
     * XMM0-5 are preserved. */
    if (want_xmm) {
        CHECK(hv_sse_init(), "SSE moves fault: the XMM-fast convention cannot be used");
        memset(&r, 0, sizeof r);
        r.rcx = HVCALL_FLUSH_VA_SPACE | HV_CTL_FAST;
        r.rdx = 0;
        r.r8 = HV_FLUSH_ALL_ADDRESS_SPACES;
        r.xmm[0] = 0;                        /* mask 0, no ALL_PROCESSORS */
        for (int i = 1; i < 12; i++)
            r.xmm[i] = 0x1111111111111111ull * (u64)i;
        EXPECT_ST(hv_call_regs(&r, 1), kvm ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER,
                  "XMM-fast Space with XMM0 = mask 0");
        r.rcx = HVCALL_FLUSH_VA_SPACE | HV_CTL_FAST;
        r.xmm[0] = 1;
        EXPECT_ST(hv_call_regs(&r, 1), HV_STATUS_SUCCESS, "XMM-fast Space with XMM0 = mask {0}");
        CHECK_EQ(r.rdx, 0, "RDX preserved by an XMM-fast call");
        CHECK_EQ(r.r8, HV_FLUSH_ALL_ADDRESS_SPACES, "R8 preserved by an XMM-fast call");
        CHECK_EQ(r.xmm[0], 1, "XMM0 low preserved");
        for (int i = 1; i < 12; i++)
            CHECK_EQ(r.xmm[i], 0x1111111111111111ull * (u64)i, "XMM0-5 preserved");
        /* A List whose GVA sits in XMM1 high: 14 qwords is the most that fits. */
        u64 q[HV_XMM_MAX_QWORDS] = { 0, HV_FLUSH_ALL_ADDRESS_SPACES, 1 };
        for (int i = 3; i < HV_XMM_MAX_QWORDS; i++)
            q[i] = hv_gva(TEST_VA_BASE + ((u64)i << 12), 0);
        u64 x = hv_call_xmm(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(11), q, HV_XMM_MAX_QWORDS);
        EXPECT_ST(x, HV_STATUS_SUCCESS, "XMM-fast List of 11 (112 bytes of input)");
        CHECK_EQ(hv_reps_done(x), 11, "XMM-fast List of 11 reps");
        x = hv_call_xmm(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(12), q, HV_XMM_MAX_QWORDS);
        EXPECT_ST(x, HV_STATUS_INVALID_HYPERCALL_INPUT, "XMM-fast List of 12 (120 bytes: does not fit)");
    }
    /* The helper's continuation loop: a long List completes. */
    set_flush(0, HV_FLUSH_ALL_ADDRESS_SPACES, 1);
    for (int i = 0; i < 500; i++)
        in[3 + i] = hv_gva(TEST_VA_BASE + ((u64)i << 12), 0);
    unsigned calls = 0;
    rax = hv_call_rep(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(500), in, 0, &calls);
    EXPECT_ST(rax, HV_STATUS_SUCCESS, "List of 500");
    CHECK_EQ(hv_reps_done(rax), 500, "List of 500 completes");
    printf("List of 500 took %u VMCALL(s) from the guest's view\n", calls);
}

/* Garbage: random hypercalls never crash, never hang, and return documented
 * statuses (issue 3 "Bad input"). */
static void garbage(void)
{
    static const u16 codes[] = { HVCALL_FLUSH_VA_SPACE, HVCALL_FLUSH_VA_LIST, HVCALL_SEND_IPI,
                                 HVCALL_FLUSH_VA_SPACE_EX, HVCALL_FLUSH_VA_LIST_EX, HVCALL_SEND_IPI_EX,
                                 HVCALL_GET_VP_REGISTERS, HVCALL_SET_VP_REGISTERS, 0x0001, 0xffff };
    u8 *buf = rt_alloc_pages(2);
    unsigned bad = 0, ud = 0, by_status[7] = { 0 };
    rt_srand(0x4856);
    for (int i = 0; i < 3000; i++) {
        u64 rnd = rt_rand();
        u64 code = codes[rnd % 10];
        u64 control = code;
        switch ((rnd >> 8) % 4) {
        case 0: break;                                           /* plain */
        case 1: control |= rt_rand() & 0x0fff0fff07fe0000ull; break;  /* random varhead/reps, no rsvd */
        case 2: control |= rt_rand() & ~0xffffull; break;        /* anything, incl. reserved bits */
        case 3: control |= HV_CTL_REP_COUNT(rt_rand() % 4096) | HV_CTL_VARHEAD(rt_rand() % 70); break;
        }
        /* Input: random bytes with plausible headers now and then; the GPA
         * anywhere in two pages (misaligned, straddling), far away, or absurd. */
        for (int j = 0; j < 8192 / 8; j++)
            ((u64 *)buf)[j] = (rnd & (1ull << 20)) ? rt_rand() : (rt_rand() & 0x1ff);
        u64 gpa;
        switch ((rnd >> 12) % 5) {
        case 0: gpa = (u64)(uintptr_t)buf; break;
        case 1: gpa = (u64)(uintptr_t)buf + (rt_rand() % 8192); break;
        case 2: gpa = (u64)(uintptr_t)buf + 4096 - 8 * (1 + rt_rand() % 8); break;
        case 3: gpa = rt_rand() & 0x000ffffffffff8ull; break;
        default: gpa = rt_rand(); break;
        }
        u64 out = (rnd & (1ull << 30)) ? (u64)(uintptr_t)buf + 4096 : rt_rand();
        u64 r = 0;
        rt_trap_reset();
        int f = (control & HV_CTL_FAST) ? TRY(r = hv_call_fast(control, gpa, out))
                                        : TRY(r = hv_call(control, (void *)(uintptr_t)gpa, (void *)(uintptr_t)out));
        if (f) {
            /* Only #UD is documented, and only for a fast flush / Ex call without XMM input. */
            if (rt_last_trap.vector == VEC_UD && !want_xmm)
                ud++;
            else if (bad++ < 5)
                printf("  garbage %d: control %#llx gpa %#llx: trap %llu\n", i, control, gpa, rt_last_trap.vector);
            continue;
        }
        unsigned st = hv_status(r);
        int known = st == HV_STATUS_SUCCESS || (st >= HV_STATUS_INVALID_HYPERCALL_CODE && st <= HV_STATUS_ACCESS_DENIED);
        unsigned reps = hv_reps_done(r), count = (unsigned)((control >> 32) & 0xfff);
        if (!known || (r & ~0xfff0000ffffull) || reps > count) {
            if (bad++ < 5)
                printf("  garbage %d: control %#llx gpa %#llx: result %#llx\n", i, control, gpa, r);
            continue;
        }
        by_status[st]++;
    }
    printf("garbage: SUCCESS %u, CODE %u, INPUT %u, ALIGNMENT %u, PARAMETER %u, DENIED %u, #UD %u\n", by_status[0],
           by_status[2], by_status[3], by_status[4], by_status[5], by_status[6], ud);
    CHECK_EQ(bad, 0, "garbage hypercalls with an undocumented outcome");
    /* The machine still works: a valid call succeeds. */
    if (want_flush) {
        set_flush(0, HV_FLUSH_ALL_ADDRESS_SPACES, 1);
        EXPECT_ST(hv_call(HVCALL_FLUSH_VA_SPACE, in, 0), HV_STATUS_SUCCESS, "a valid flush after the garbage");
    }
}

static void check_cpl3(void)
{
    user_ud_seen = 0;
    rt_set_handler(VEC_UD, user_ud_handler);
    if (rt_setjmp(&user_ud_ctx) == 0)
        rt_user_call(user_vmcall, HVCALL_FLUSH_VA_SPACE, 0);
    rt_set_handler(VEC_UD, 0);
    CHECK_EQ(user_ud_seen, 1, "VMCALL at CPL 3 raises #UD");
}

static void check_os_id_zero_again(void)
{
    /* Writing 0 to the OS ID disables the page (B-1.2) and VMCALL #UDs again. */
    wrmsr(HV_MSR_GUEST_OS_ID, 0);
    CHECK_EQ(rdmsr(HV_MSR_HYPERCALL) & HV_HYPERCALL_ENABLE, 0, "hypercall enable after OS ID := 0");
    EXPECT_UD("VMCALL after OS ID := 0", raw_vmcall(HVCALL_FLUSH_VA_SPACE, 0, 0));
}

void test_main(void)
{
    want_flush = !rt_cmdline_has("no-tlbflush");
    want_ipi = !rt_cmdline_has("no-ipi");
    want_ex = !rt_cmdline_has("no-ex");
    want_xmm = !rt_cmdline_has("no-xmm");
    kvm = rt_cmdline_has("kvm");
    check_cpuid((unsigned)rt_cmdline_num("vps", 2));
    before_os_id();
    hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
    CHECK_EQ(rdmsr(HV_MSR_GUEST_OS_ID), HV_GUEST_OS_ID_TEST, "guest OS ID reads back");
    u8 *pg = hv_enable_hypercall_page();
    u64 v = rdmsr(HV_MSR_HYPERCALL);
    CHECK_EQ(v & HV_HYPERCALL_ENABLE, 1, "hypercall page enabled");
    CHECK_EQ(v & ~0xfffull, (u64)(uintptr_t)pg, "hypercall MSR GPA");
    check_page(pg);
    in = hv_input_page();
    matrix_denied();
    matrix_kvm_stages();
    matrix_tlfs_negatives();
    matrix_ipi();
    check_conventions();
    garbage();
    check_cpl3();
    check_os_id_zero_again();
}
