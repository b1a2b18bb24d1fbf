/* PTE-swap TLB staleness across VPs (HV-SPEC.md B-6.1, B-6.6 item 1), the KVM
 * selftest hyperv_tlb_flush.c scenario on hvemu's modelled TLB.
 *
 * Workers on VP 2 and VP 65 (VP 65 is in bank 1 of a sparse VP set) read a test
 * page through their TLB in a loop.  VP 0 swaps the PTE between two frames
 * (TESTVAL1 / TESTVAL2), issues a flush hypercall, and only then publishes the
 * value the targeted workers must read.  A worker that reads anything else while
 * an expectation is published has used a stale translation: the test fails.
 *
 * Command line (one of):
 *   slow     the ten stages below with the memory (slow) convention
 *   xmm      the same stages with the XMM-fast convention (needs SSE and
 *            0x40000003.EDX bit 4)
 *   control  the same swaps with no flush at all: the workers must observe the
 *            stale value (the modelled TLB keeps entries, TLB-MODEL.md A-4), or
 *            the test could not fail
 * plus "strict-tlb" (required: only hvemu's modelled TLB makes control meaningful).
 * Needs -smp 66 or more.
 *
 * Prints HVSTAT claims (calls per code and convention, all SUCCESS) for
 * run_hv.sh stats.
 *
 * Stages (B-6.1): Space to VP 2; List to VP 2; Space ALL_PROCESSORS; List
 * ALL_PROCESSORS; SpaceEx {65}; ListEx {65}; SpaceEx {2,65}; ListEx {2,65};
 * SpaceEx SET_ALL; ListEx SET_ALL.
 */
#include "hvcall.h"
#include "smp.h"

const char rt_test_name[] = "hv_flush_stale";

#define W1 2
#define W2 65
#define NTRY 12
#define TESTVAL1 0x0101010101010101ull
#define TESTVAL2 0x0202020202020202ull
#define TEST_VA (TEST_VA_BASE + 0x300000)

/* Published expectation: seq changes on every update, so a worker checks a read
 * only if the expectation did not change around it (no ABA). */
static struct {
    volatile u64 seq;
    volatile u64 val[2];      /* per worker; 0 = not checked */
} pub __attribute__((aligned(64)));
static volatile int stop;
static struct worker {
    volatile u64 reads, checked, stale, first_bad, vp_index;
} wk[2] __attribute__((aligned(64)));

static void worker(void *arg)
{
    struct worker *w = &wk[(uintptr_t)arg];
    unsigned me = (unsigned)(uintptr_t)arg;
    w->vp_index = rdmsr(HV_MSR_VP_INDEX);
    while (!stop) {
        u64 s1 = pub.seq;
        barrier();
        u64 e = pub.val[me];
        u64 v = *(volatile u64 *)TEST_VA;
        barrier();
        u64 s2 = pub.seq;
        w->reads++;
        if (e && s1 == s2 && !(s1 & 1)) {
            w->checked++;
            if (v != e) {
                if (!w->stale)
                    w->first_bad = v;
                w->stale++;
            }
        }
    }
}

/* Sender side: odd seq while updating. */
static void publish(u64 v1, u64 v2)
{
    pub.seq++;
    barrier();
    pub.val[0] = v1;
    pub.val[1] = v2;
    barrier();
    pub.seq++;
}

enum form { SPACE, LIST, SPACE_EX, LIST_EX };
struct stage {
    const char *name;
    enum form form;
    int all;               /* ALL_PROCESSORS (non-Ex) or SET_ALL (Ex) */
    int t1, t2;            /* targets W1 / W2 */
};
static const struct stage stages[] = {
    { "Space {2}", SPACE, 0, 1, 0 },
    { "List {2}", LIST, 0, 1, 0 },
    { "Space ALL_PROCESSORS", SPACE, 1, 1, 1 },
    { "List ALL_PROCESSORS", LIST, 1, 1, 1 },
    { "SpaceEx {65}", SPACE_EX, 0, 0, 1 },
    { "ListEx {65}", LIST_EX, 0, 0, 1 },
    { "SpaceEx {2,65}", SPACE_EX, 0, 1, 1 },
    { "ListEx {2,65}", LIST_EX, 0, 1, 1 },
    { "SpaceEx SET_ALL", SPACE_EX, 1, 1, 1 },
    { "ListEx SET_ALL", LIST_EX, 1, 1, 1 },
};

static int xmm_mode, control_mode;
static u64 cr3_root;
static unsigned bad_status;

/* Builds the input stream of the stage's call; returns the qword count and the
 * control value (code, varhead, rep count). */
static unsigned build(const struct stage *s, u64 *in, u64 *control)
{
    unsigned n = 0, nb = 0;
    /* slow: this address space; XMM: AddressSpace 0 + ALL_ADDRESS_SPACES (as B-6.1). */
    in[n++] = xmm_mode ? 0 : cr3_root;
    in[n++] = (xmm_mode ? HV_FLUSH_ALL_ADDRESS_SPACES : 0) |
              (s->all && (s->form == SPACE || s->form == LIST) ? HV_FLUSH_ALL_PROCESSORS : 0);
    if (s->form == SPACE || s->form == LIST) {
        in[n++] = s->all ? 0 : (1ull << W1);
    } else if (s->all) {
        hv_vpset_all(in + n);
        n += 2;
    } else {
        unsigned vps[2], k = 0;
        if (s->t1) vps[k++] = W1;
        if (s->t2) vps[k++] = W2;
        nb = hv_vpset_sparse(in + n, vps, k);
        n += 2 + nb;
    }
    u64 code = s->form == SPACE ? HVCALL_FLUSH_VA_SPACE : s->form == LIST ? HVCALL_FLUSH_VA_LIST :
               s->form == SPACE_EX ? HVCALL_FLUSH_VA_SPACE_EX : HVCALL_FLUSH_VA_LIST_EX;
    *control = code | HV_CTL_VARHEAD(nb);
    if (s->form == LIST || s->form == LIST_EX) {
        in[n++] = hv_gva(TEST_VA, 0);
        *control |= HV_CTL_REP_COUNT(1);
    }
    return n;
}

static void flush(const struct stage *s)
{
    u64 *in = hv_input_page(), control;
    memset(in, 0, 256);
    unsigned n = build(s, in, &control);
    u64 r = xmm_mode ? hv_call_xmm(control, in, n) : hv_call(control, in, 0);
    if (hv_status(r) != HV_STATUS_SUCCESS || ((control >> 32) & 0xfff) != hv_reps_done(r)) {
        if (bad_status++ < 5)
            printf("  %s: status %#x (%s), reps %u, control %#llx\n", s->name, hv_status(r),
                   hv_status_name(hv_status(r)), hv_reps_done(r), control);
    }
}

void test_main(void)
{
    xmm_mode = rt_cmdline_has("xmm");
    control_mode = rt_cmdline_has("control");
    CHECK(rt_strict_tlb, "needs strict-tlb on the command line");
    CHECK(xmm_mode + control_mode + rt_cmdline_has("slow") == 1, "give exactly one of slow, xmm, control");
    CHECK(hv_detect(NULL), "Hyper-V interface not detected");
    if (rt_failures)
        return;
    CHECK(hv_info.hints_eax & HV_HINT_REMOTE_FLUSH, "hint bit 2 (remote flush) not advertised");
    CHECK(hv_info.hints_eax & HV_HINT_EX_PROC_MASKS, "hint bit 11 (Ex masks) not advertised");
    if (xmm_mode) {
        CHECK(hv_info.priv_edx & HV_FEAT_XMM_INPUT, "0x40000003.EDX bit 4 (XMM input) not advertised");
        CHECK(hv_sse_init(), "SSE moves fault: the XMM-fast convention cannot be used");
    }
    hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
    hv_enable_hypercall_page();
    unsigned ncpu = smp_cpu_count();
    CHECK(ncpu > W2, "needs -smp %d or more, the machine has %u CPUs", W2 + 1, ncpu);
    if (rt_failures)
        return;
    hv_pages_prealloc(ncpu);
    cr3_root = read_cr3() & ~0xfffull;

    u64 *p1 = rt_alloc_page(), *p2 = rt_alloc_page();
    for (int i = 0; i < 512; i++) {
        p1[i] = TESTVAL1;
        p2[i] = TESTVAL2;
    }
    volatile u64 *pte = map_4k(TEST_VA, (u64)(uintptr_t)p1, PTE_P | PTE_W);
    invlpg_va(TEST_VA);

    unsigned up = smp_start_aps();
    CHECK(up == ncpu, "only %u of %u CPUs came up", up, ncpu);
    if (rt_failures)
        return;
    smp_run_on(W1, worker, (void *)0);
    smp_run_on(W2, worker, (void *)1);
    smp_delay_tsc(200000);

    u64 cur = TESTVAL1;
    u64 per_stage_stale[10][2];
    for (unsigned si = 0; si < sizeof stages / sizeof stages[0]; si++) {
        const struct stage *s = &stages[si];
        u64 st0[2] = { wk[0].stale, wk[1].stale }, ck0[2] = { wk[0].checked, wk[1].checked };
        for (int it = 0; it < NTRY; it++) {
            publish(0, 0);
            smp_delay_tsc(20000);
            u64 next = cur == TESTVAL1 ? TESTVAL2 : TESTVAL1;
            *pte = (u64)(uintptr_t)(next == TESTVAL1 ? p1 : p2) | PTE_P | PTE_W;
            cur = next;
            if (!control_mode)
                flush(s);
            publish(s->t1 ? cur : 0, s->t2 ? cur : 0);
            smp_delay_tsc(40000);
        }
        per_stage_stale[si][0] = wk[0].stale - st0[0];
        per_stage_stale[si][1] = wk[1].stale - st0[1];
        printf("stage %-22s VP %d: %llu checked, %llu stale; VP %d: %llu checked, %llu stale\n", s->name,
               W1, wk[0].checked - ck0[0], per_stage_stale[si][0], W2, wk[1].checked - ck0[1],
               per_stage_stale[si][1]);
        if (!control_mode) {
            CHECK(!s->t1 || wk[0].checked > ck0[0], "%s: VP %d never checked a read", s->name, W1);
            CHECK(!s->t2 || wk[1].checked > ck0[1], "%s: VP %d never checked a read", s->name, W2);
            CHECK(per_stage_stale[si][0] == 0 && per_stage_stale[si][1] == 0,
                  "%s (%s): stale reads after the flush returned (VP %d: %llu, VP %d: %llu)", s->name,
                  xmm_mode ? "XMM fast" : "slow", W1, per_stage_stale[si][0], W2, per_stage_stale[si][1]);
        }
    }
    publish(0, 0);
    stop = 1;
    smp_wait(W1);
    smp_wait(W2);
    CHECK_EQ(wk[0].vp_index, W1, "VP index MSR on CPU 2");
    CHECK_EQ(wk[1].vp_index, W2, "VP index MSR on CPU 65");
    CHECK_EQ(bad_status, 0, "flush hypercalls that did not return SUCCESS with all reps");
    printf("totals: VP %d %llu reads, %llu checked, %llu stale; VP %d %llu reads, %llu checked, %llu stale\n",
           W1, wk[0].reads, wk[0].checked, wk[0].stale, W2, wk[1].reads, wk[1].checked, wk[1].stale);
    unsigned calls[4] = { 0 };
    for (unsigned si = 0; si < sizeof stages / sizeof stages[0]; si++)
        calls[stages[si].form] += control_mode ? 0 : NTRY;
    unsigned total = calls[0] + calls[1] + calls[2] + calls[3];
    printf("HVSTAT hypercalls == %u\n", total);
    printf("HVSTAT by_call.FlushVirtualAddressSpace == %u\n", calls[SPACE]);
    printf("HVSTAT by_call.FlushVirtualAddressList == %u\n", calls[LIST]);
    printf("HVSTAT by_call.FlushVirtualAddressSpaceEx == %u\n", calls[SPACE_EX]);
    printf("HVSTAT by_call.FlushVirtualAddressListEx == %u\n", calls[LIST_EX]);
    printf("HVSTAT by_form.%s == %u\n", xmm_mode ? "xmm_fast" : "slow", total);
    printf("HVSTAT by_form.%s == 0\n", xmm_mode ? "slow" : "xmm_fast");
    printf("HVSTAT by_status.success == %u\n", total);
    if (control_mode) {
        /* Without flushes the swaps must be invisible to both workers at times. */
        CHECK(wk[0].stale > 0, "control: VP %d never read a stale value without a flush", W1);
        CHECK(wk[1].stale > 0, "control: VP %d never read a stale value without a flush", W2);
    }
}
