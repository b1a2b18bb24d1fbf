/* The IPI hypercall matrix (HV-SPEC.md B-6.3, B-6.6 item 3), after the KVM
 * selftest hyperv_ipi.c: receivers VP 2 and VP 65, vector 0xFE; after each send
 * exactly the targeted receivers' counters go up by one and nobody else's.
 *
 * Command line: "slow" = SendSyntheticClusterIpi slow and fast (RDX = vector,
 * R8 = mask) to {2}, SendSyntheticClusterIpiEx slow to {2}, {65}, {2,65} and
 * HV_GENERIC_SET_ALL (every VP, the sender included); "xmm" = the Ex sends with
 * the XMM-fast convention (needs SSE and 0x40000003.EDX bit 4).  Needs -smp 66+.
 *
 * Receivers are idle APs of the SMP runtime (STI;HLT); the sender takes its own
 * SET_ALL interrupt when it opens an STI window.
 */
#include "hvcall.h"
#include "smp.h"

const char rt_test_name[] = "hv_ipi";

#define VEC 0xFE
#define R1 2
#define R2 65

static volatile u64 hits[SMP_MAX_CPUS];
static unsigned ncpu;
static int xmm_mode;

static int ipi_handler(struct trap_frame *f)
{
    hits[smp_this_cpu()]++;
    apic_eoi();
    return 1;
}

/* Waits, then checks that exactly the CPUs in want[] got one more interrupt. */
static void expect_hits(const char *what, const u64 *before, const unsigned *want, unsigned n)
{
    smp_delay_tsc(100000);
    /* The sender's own interrupt (SET_ALL): an STI window lets it in. */
    sti();
    smp_delay_tsc(1000);
    cli();
    unsigned wrong = 0;
    for (unsigned c = 0; c < ncpu; c++) {
        u64 w = 0;
        for (unsigned k = 0; k < n; k++)
            w += want[k] == c;
        u64 d = hits[c] - before[c];
        if (d != w) {
            if (wrong++ < 4)
                printf("  %s: CPU %u got %llu interrupt(s), expected %llu\n", what, c, d, w);
        }
    }
    CHECK(wrong == 0, "%s: %u CPU(s) with the wrong interrupt count", what, wrong);
}

static void snap(u64 *b)
{
    for (unsigned c = 0; c < ncpu; c++)
        b[c] = hits[c];
}

static u64 send_ex(const unsigned *vps, unsigned n, int all)
{
    u64 *in = hv_input_page();
    memset(in, 0, 128);
    ((u32 *)in)[0] = VEC;                 /* vector, TargetVtl 0, padding 0 (B-2.5) */
    unsigned nb = all ? hv_vpset_all(in + 1) : hv_vpset_sparse(in + 1, vps, n);
    u64 control = HVCALL_SEND_IPI_EX | HV_CTL_VARHEAD(nb);
    return xmm_mode ? hv_call_xmm(control, in, 3 + nb) : hv_call(control, in, 0);
}

void test_main(void)
{
    xmm_mode = rt_cmdline_has("xmm");
    CHECK(xmm_mode + rt_cmdline_has("slow") == 1, "give one of slow, xmm");
    CHECK(hv_detect(NULL), "Hyper-V interface not detected");
    if (rt_failures)
        return;
    CHECK(hv_info.hints_eax & HV_HINT_CLUSTER_IPI, "hint bit 10 (cluster IPI) not advertised");
    CHECK(hv_info.hints_eax & HV_HINT_EX_PROC_MASKS, "hint bit 11 (Ex masks) not advertised");
    if (xmm_mode) {
        CHECK(hv_info.priv_edx & HV_FEAT_XMM_INPUT, "0x40000003.EDX bit 4 (XMM input) not advertised");
        CHECK(hv_sse_init(), "SSE moves fault: the XMM-fast convention cannot be used");
    }
    ncpu = smp_cpu_count();
    CHECK(ncpu > R2, "needs -smp %d or more (have %u)", R2 + 1, ncpu);
    if (rt_failures)
        return;
    hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
    hv_enable_hypercall_page();
    hv_pages_prealloc(ncpu);
    rt_set_handler(VEC, ipi_handler);
    unsigned up = smp_start_aps();
    CHECK(up == ncpu, "only %u of %u CPUs came up", up, ncpu);
    if (rt_failures)
        return;
    smp_delay_tsc(100000);

    static u64 b[SMP_MAX_CPUS];
    static const unsigned r1[] = { R1 }, r2[] = { R2 }, both[] = { R1, R2 };
    static unsigned everyone[SMP_MAX_CPUS];
    for (unsigned c = 0; c < ncpu; c++)
        everyone[c] = c;

    if (!xmm_mode) {
        u64 *in = hv_input_page();
        memset(in, 0, 64);
        ((u32 *)in)[0] = VEC;
        in[1] = 1ull << R1;
        snap(b);
        u64 r = hv_call(HVCALL_SEND_IPI, in, 0);
        CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "slow SendSyntheticClusterIpi {2}");
        expect_hits("slow SendSyntheticClusterIpi {2}", b, r1, 1);

        snap(b);
        r = hv_call_fast(HVCALL_SEND_IPI, VEC, 1ull << R1);
        CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "fast SendSyntheticClusterIpi {2}");
        expect_hits("fast SendSyntheticClusterIpi {2}", b, r1, 1);

        snap(b);
        r = hv_call_fast(HVCALL_SEND_IPI, VEC, (1ull << R1) | 1);
        CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "fast SendSyntheticClusterIpi {0,2}");
        static const unsigned self_r1[] = { 0, R1 };
        expect_hits("fast SendSyntheticClusterIpi {0,2} (self included)", b, self_r1, 2);
    }

    const char *conv = xmm_mode ? "XMM-fast" : "slow";
    static const struct { const unsigned *v; unsigned n; const char *name; } sets[] = {
        { r1, 1, "{2}" }, { r2, 1, "{65}" }, { both, 2, "{2,65}" },
    };
    for (unsigned i = 0; i < 3; i++) {
        char what[64];
        snap(b);
        u64 r = send_ex(sets[i].v, sets[i].n, 0);
        CHECK(hv_status(r) == HV_STATUS_SUCCESS, "%s SendSyntheticClusterIpiEx %s: status %#x (%s)", conv,
              sets[i].name, hv_status(r), hv_status_name(hv_status(r)));
        memcpy(what, "SendSyntheticClusterIpiEx ", 27);
        memcpy(what + 26, sets[i].name, strlen(sets[i].name) + 1);
        expect_hits(what, b, sets[i].v, sets[i].n);
    }
    snap(b);
    u64 r = send_ex(0, 0, 1);
    CHECK(hv_status(r) == HV_STATUS_SUCCESS, "%s SendSyntheticClusterIpiEx SET_ALL: status %#x (%s)", conv,
          hv_status(r), hv_status_name(hv_status(r)));
    expect_hits("SendSyntheticClusterIpiEx HV_GENERIC_SET_ALL", b, everyone, ncpu);

    u64 total = 0;
    for (unsigned c = 0; c < ncpu; c++)
        total += hits[c];
    printf("%s: %llu interrupts delivered in all (VP 2: %llu, VP 65: %llu, VP 0: %llu)\n", conv, total,
           hits[R1], hits[R2], hits[0]);
}
