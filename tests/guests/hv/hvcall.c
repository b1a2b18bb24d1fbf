/* Hypercall helper library of the Hyper-V guest tests; see hvcall.h. */
#include "hvcall.h"

struct hv_info hv_info;
void *volatile hv_hypercall_pg;

u64 hv_call_regs(struct hv_regs *r, int load_xmm);   /* hvcall_asm.S */
u64 hv_sse_probe(void);

int hv_detect(struct hv_info *out)
{
    u32 a, b, c, d;
    struct hv_info h;
    memset(&h, 0, sizeof h);
    cpuid(1, 0, &a, &b, &c, &d);
    if (c & (1u << 31)) {
        cpuid(HV_CPUID_VENDOR, 0, &a, &b, &c, &d);
        h.max_leaf = a;
        memcpy(h.vendor, &b, 4);
        memcpy(h.vendor + 4, &c, 4);
        memcpy(h.vendor + 8, &d, 4);
        /* Linux's test (B-1.1): the 12-byte signature and a max leaf in range. */
        if (!memcmp(h.vendor, "Microsoft Hv", 12) && a >= HV_CPUID_LIMITS && a <= 0x4000FFFFu) {
            h.present = 1;
            cpuid(HV_CPUID_INTERFACE, 0, &h.interface, &b, &c, &d);
            cpuid(HV_CPUID_VERSION, 0, &h.build_eax, &h.build_ebx, &c, &d);
            cpuid(HV_CPUID_FEATURES, 0, &h.priv_eax, &h.priv_ebx, &h.priv_ecx, &h.priv_edx);
            cpuid(HV_CPUID_HINTS, 0, &h.hints_eax, &h.hints_ebx, &c, &d);
            cpuid(HV_CPUID_LIMITS, 0, &h.max_vps, &h.max_lps, &c, &d);
        }
    }
    hv_info = h;
    if (out)
        *out = h;
    return h.present;
}

const char *hv_status_name(unsigned s)
{
    switch (s) {
    case HV_STATUS_SUCCESS: return "SUCCESS";
    case HV_STATUS_INVALID_HYPERCALL_CODE: return "INVALID_HYPERCALL_CODE";
    case HV_STATUS_INVALID_HYPERCALL_INPUT: return "INVALID_HYPERCALL_INPUT";
    case HV_STATUS_INVALID_ALIGNMENT: return "INVALID_ALIGNMENT";
    case HV_STATUS_INVALID_PARAMETER: return "INVALID_PARAMETER";
    case HV_STATUS_ACCESS_DENIED: return "ACCESS_DENIED";
    }
    return "?";
}

/* ---- MSRs ---- */
int hv_rdmsr_safe(u32 msr, u64 *val)
{
    volatile u64 v = 0;
    int f = TRY(v = rdmsr(msr));
    if (!f)
        *val = v;
    return f;
}

int hv_wrmsr_safe(u32 msr, u64 val)
{
    return TRY(wrmsr(msr, val));
}

void hv_set_guest_os_id(u64 id) { wrmsr(HV_MSR_GUEST_OS_ID, id); }

void *hv_enable_hypercall_page(void)
{
    static void *page;
    if (!page)
        page = rt_alloc_page();
    /* Read-modify-write as Linux does (B-1.2): keep the RsvdP bits 11:2. */
    u64 v = rdmsr(HV_MSR_HYPERCALL);
    v = (v & 0xffcull) | (u64)(uintptr_t)page | HV_HYPERCALL_ENABLE;
    wrmsr(HV_MSR_HYPERCALL, v);
    hv_hypercall_pg = page;
    return page;
}

u32 hv_vp_index(void) { return (u32)rdmsr(HV_MSR_VP_INDEX); }

/* ---- calls ---- */
u64 hv_call(u64 control, const void *in, void *out)
{
    u64 rax;
    register u64 r8 __asm__("r8") = (u64)(uintptr_t)out;
    u64 rcx = control, rdx = (u64)(uintptr_t)in;
    __asm__ volatile("call *%[pg]"
                     : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8)
                     : [pg] "m"(hv_hypercall_pg)
                     : "memory", "cc", "r9", "r10", "r11");
    return rax;
}

u64 hv_call_fast(u64 control, u64 rdx, u64 r8v)
{
    u64 rax;
    register u64 r8 __asm__("r8") = r8v;
    u64 rcx = control | HV_CTL_FAST;
    __asm__ volatile("call *%[pg]"
                     : "=a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8)
                     : [pg] "m"(hv_hypercall_pg)
                     : "memory", "cc", "r9", "r10", "r11");
    return rax;
}

u64 hv_call_xmm(u64 control, const u64 *in, unsigned n)
{
    struct hv_regs r;
    memset(&r, 0, sizeof r);
    if (n > HV_XMM_MAX_QWORDS)
        n = HV_XMM_MAX_QWORDS;
    r.rcx = control | HV_CTL_FAST;
    r.rdx = n > 0 ? in[0] : 0;
    r.r8 = n > 1 ? in[1] : 0;
    for (unsigned i = 2; i < n; i++)
        r.xmm[i - 2] = in[i];
    return hv_call_regs(&r, 1);
}

u64 hv_call_rep(u64 control, const void *in, void *out, unsigned *calls)
{
    unsigned count = (unsigned)((control >> 32) & 0xfff), n = 0;
    u64 r;
    for (;;) {
        r = hv_call(control, in, out);
        n++;
        /* Partial success: re-issue from reps completed (B-1.6, Linux's loop).
         * Bounded so a hypervisor that never progresses cannot hang the test. */
        if (hv_status(r) != HV_STATUS_SUCCESS || hv_reps_done(r) >= count || n >= 4096)
            break;
        control = (control & ~HV_CTL_REP_START_MASK) | HV_CTL_REP_START(hv_reps_done(r));
    }
    if (calls)
        *calls = n;
    return r;
}

u64 hv_call_rep_xmm(u64 control, const u64 *in, unsigned n, unsigned *calls)
{
    unsigned count = (unsigned)((control >> 32) & 0xfff), k = 0;
    u64 r;
    for (;;) {
        r = hv_call_xmm(control, in, n);
        k++;
        if (hv_status(r) != HV_STATUS_SUCCESS || hv_reps_done(r) >= count || k >= 4096)
            break;
        control = (control & ~HV_CTL_REP_START_MASK) | HV_CTL_REP_START(hv_reps_done(r));
    }
    if (calls)
        *calls = k;
    return r;
}

int hv_sse_init(void)
{
    /* SDM Vol. 3A 13.1: CR0.EM = 0, CR0.MP = 1, CR4.OSFXSR (bit 9), CR4.OSXMMEXCPT (bit 10). */
    write_cr0((read_cr0() & ~(1ull << 2)) | (1ull << 1));
    write_cr4(read_cr4() | (1ull << 9) | (1ull << 10));
    volatile u64 v = 0;
    int f = TRY(v = hv_sse_probe());
    return !f && v == 0x1234;
}

/* ---- per-VP pages ---- */
#define HV_MAX_VPS 128
static u64 *in_pages[HV_MAX_VPS], *out_pages[HV_MAX_VPS];

void hv_pages_prealloc(unsigned nr_vps)
{
    for (unsigned i = 0; i < nr_vps && i < HV_MAX_VPS; i++) {
        if (!in_pages[i])
            in_pages[i] = rt_alloc_page();
        if (!out_pages[i])
            out_pages[i] = rt_alloc_page();
    }
}

static u32 my_index(void)
{
    u64 v = 0;
    if (hv_rdmsr_safe(HV_MSR_VP_INDEX, &v) || v >= HV_MAX_VPS)
        return 0;
    return (u32)v;
}

u64 *hv_input_page(void)
{
    u32 i = my_index();
    if (!in_pages[i])
        in_pages[i] = rt_alloc_page();
    return in_pages[i];
}

u64 *hv_output_page(void)
{
    u32 i = my_index();
    if (!out_pages[i])
        out_pages[i] = rt_alloc_page();
    return out_pages[i];
}

/* ---- HV_VP_SET ---- */
unsigned hv_vpset_sparse(u64 *set, const unsigned *vps, unsigned n)
{
    u64 banks[64], mask = 0;
    memset(banks, 0, sizeof banks);
    for (unsigned i = 0; i < n; i++) {
        if (vps[i] >= 64 * 64)
            continue;
        banks[vps[i] / 64] |= 1ull << (vps[i] % 64);
        mask |= 1ull << (vps[i] / 64);
    }
    set[0] = HV_GENERIC_SET_SPARSE_4K;
    set[1] = mask;
    unsigned nb = 0;
    for (unsigned b = 0; b < 64; b++)
        if (mask & (1ull << b))
            set[2 + nb++] = banks[b];
    return nb;
}

unsigned hv_vpset_all(u64 *set)
{
    set[0] = HV_GENERIC_SET_ALL;
    set[1] = 0;
    return 0;
}
