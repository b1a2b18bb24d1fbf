/* TLB lock and caller suspend (HV-SPEC.md A-7, B-3, B-6.4, B-6.6 item 4).
 *
 * Mode "vpregs" (-hyperv vpregs=on, -smp 4): VP 0 sets and clears TlbLocked
 * (bit 1 of HvRegisterInterceptSuspend, B-3.1) of other VPs with
 * HvCallSetVpRegisters; flushers on VPs 1 and 3 flush a locked VP:
 *   A. one locker, one flusher: the flusher stays inside its VMCALL while the
 *      lock is held (no return, and an IPI sent to it is not taken), then
 *      returns exactly once with SUCCESS.  The IPI, pending at the resumed
 *      VMCALL boundary with IF=1, is taken there: its frame shows RIP = the
 *      VMCALL in the hypercall page, RAX and RCX as they were before the call
 *      (nothing was written while suspended, B-3.2).
 *   B. two flushers on one lock: both blocked, both return once after release.
 *   C. two locks: the flusher of {2,3} is still blocked after VP 2's lock is
 *      released and returns only after VP 3's.
 *   D. a locked VP flushing itself is not suspended (A-7 "other than the
 *      caller"); a flush that does not target the locked VP is not suspended.
 *   GetVpRegisters reads TlbLocked back.
 * Mode "sched" (-tlb-lock vp=2,at=AT,for=FOR, -append "sched at=AT for=FOR"):
 *   the command-line schedule locks VP 2 from cycle AT for FOR cycles; VP 1
 *   flushes {2} after AT and must return no earlier than AT + FOR.
 *
 * Both modes print HVSTAT claims on the "hyperv" statistics section (locks,
 * suspends, suspended cycles per VP within what the guest measured around its
 * blocked calls), which run_hv.sh stats checks.
 *
 * HvCallGetVpRegisters / SetVpRegisters layouts (TLFS; Linux
 * include/asm-generic/hyperv-tlfs.h struct hv_get/set_vp_registers_input):
 * header {PartitionId u64, VpIndex u32, InputVtl u8, pad[3]} (16 bytes); Get:
 * rep list of u32 register names, output 16-byte values; Set: rep list of
 * HV_REGISTER_ASSOC {Name u32, Reserved u32, Reserved u64, Value 16 bytes}.
 */
#include "hvcall.h"
#include "smp.h"

const char rt_test_name[] = "hv_tlb_lock";

#define HV_PARTITION_ID_SELF (~0ull)
#define VEC 0xFD
#define LOCK_WAIT 400000ull       /* cycles a blocked flusher is watched for */

static volatile struct intr_seen {
    u64 count, rip, rax, rcx;
} seen[SMP_MAX_CPUS];

static int ipi_handler(struct trap_frame *f)
{
    volatile struct intr_seen *s = &seen[smp_this_cpu()];
    if (!s->count) {
        s->rip = f->rip;
        s->rax = f->rax;
        s->rcx = f->rcx;
    }
    s->count++;
    apic_eoi();
    return 1;
}

static u64 set_locked(unsigned vp, int locked)
{
    u64 *in = hv_input_page();
    memset(in, 0, 64);
    in[0] = HV_PARTITION_ID_SELF;
    ((u32 *)in)[2] = vp;
    ((u32 *)in)[4] = HV_REG_INTERCEPT_SUSPEND;
    in[4] = locked ? HV_INTERCEPT_SUSPEND_TLB_LOCKED : 0;
    return hv_call(HVCALL_SET_VP_REGISTERS | HV_CTL_REP_COUNT(1), in, 0);
}

static u64 get_suspend(unsigned vp, u64 *val)
{
    u64 *in = hv_input_page(), *out = hv_output_page();
    memset(in, 0, 64);
    memset(out, 0xEE, 64);
    in[0] = HV_PARTITION_ID_SELF;
    ((u32 *)in)[2] = vp;
    ((u32 *)in)[4] = HV_REG_INTERCEPT_SUSPEND;
    u64 r = hv_call(HVCALL_GET_VP_REGISTERS | HV_CTL_REP_COUNT(1), in, out);
    *val = out[0];
    return r;
}

/* A flusher: flushes the VPs in its mask with interrupts enabled. */
static struct flusher {
    u64 mask;
    volatile u64 returns, rax, rcx_in, t_call, t_ret;
} fl[SMP_MAX_CPUS];

static void flusher(void *arg)
{
    struct flusher *f = arg;
    u64 *in = hv_input_page();
    memset(in, 0, 64);
    in[0] = 0;
    in[1] = HV_FLUSH_ALL_ADDRESS_SPACES;
    in[2] = f->mask;
    struct hv_regs r;
    memset(&r, 0, sizeof r);
    r.rcx = HVCALL_FLUSH_VA_SPACE;
    r.rdx = (u64)(uintptr_t)in;
    f->rcx_in = r.rcx;
    f->t_call = rdtsc();
    sti();
    u64 rax = hv_call_regs(&r, 0);
    cli();
    f->t_ret = rdtsc();
    f->rax = rax;
    f->returns++;
}

/* Per VP: cycles from just before to just after the blocked calls, and how many. */
static u64 blocked_sum[SMP_MAX_CPUS], blocked_n[SMP_MAX_CPUS];
static unsigned n_locks, n_unlocks, n_set, n_get;
#define SLACK 20000     /* per blocked call: the first VMCALL, the re-executed one, an IPI handler */

static void start_flusher(unsigned cpu, u64 mask)
{
    fl[cpu].mask = mask;
    fl[cpu].returns = 0;
    fl[cpu].rax = ~0ull;
    smp_run_on(cpu, flusher, (void *)&fl[cpu]);
}

static void lock(unsigned vp, int on)
{
    u64 r = set_locked(vp, on);
    n_set++;
    if (on)
        n_locks++;
    else
        n_unlocks++;
    CHECK(hv_status(r) == HV_STATUS_SUCCESS, "SetVpRegisters(VP %u, TlbLocked=%d): status %#x (%s)", vp, on,
          hv_status(r), hv_status_name(hv_status(r)));
}

static void expect_blocked(unsigned cpu, const char *what)
{
    CHECK(fl[cpu].returns == 0, "%s: flusher on VP %u returned (status %#llx) while a target's TLB is locked",
          what, cpu, fl[cpu].rax);
}

static void expect_one_return(unsigned cpu, const char *what)
{
    smp_wait(cpu);
    blocked_sum[cpu] += fl[cpu].t_ret - fl[cpu].t_call;
    blocked_n[cpu]++;
    CHECK(fl[cpu].returns == 1, "%s: flusher on VP %u returned %llu times", what, cpu, fl[cpu].returns);
    CHECK(hv_status(fl[cpu].rax) == HV_STATUS_SUCCESS, "%s: flusher on VP %u got status %#llx", what, cpu,
          fl[cpu].rax);
}

static void mode_vpregs(void)
{
    CHECK(hv_info.priv_ebx & HV_PRIV_ACCESS_VP_REGS, "0x40000003.EBX bit 17 (AccessVpRegisters) not advertised");
    u64 v = ~0ull;
    u64 r = get_suspend(2, &v);
    n_get++;
    CHECK(hv_status(r) == HV_STATUS_SUCCESS, "GetVpRegisters: status %#x (%s)", hv_status(r), hv_status_name(hv_status(r)));
    CHECK_EQ(v & HV_INTERCEPT_SUSPEND_TLB_LOCKED, 0, "TlbLocked of VP 2 at start");
    if (rt_failures)
        return;

    /* A. one locker, one flusher; the IPI shows the suspended state. */
    lock(2, 1);
    r = get_suspend(2, &v);
    n_get++;
    CHECK_EQ(v & HV_INTERCEPT_SUSPEND_TLB_LOCKED, HV_INTERCEPT_SUSPEND_TLB_LOCKED, "TlbLocked of VP 2 reads back");
    seen[1].count = 0;
    start_flusher(1, 1ull << 2);
    smp_delay_tsc(LOCK_WAIT);
    expect_blocked(1, "A");
    apic_send_ipi(smp_cpus[1].apic_id, ICR_FIXED | ICR_ASSERT | VEC);
    smp_delay_tsc(LOCK_WAIT);
    expect_blocked(1, "A after an IPI");
    CHECK_EQ(seen[1].count, 0, "A: interrupts taken by the suspended VP");
    lock(2, 0);
    expect_one_return(1, "A");
    CHECK_EQ(seen[1].count, 1, "A: the pending IPI was taken once after the release");
    u64 vmcall_va = (u64)(uintptr_t)hv_hypercall_pg;
    CHECK(seen[1].rip == vmcall_va, "A: IPI frame RIP %#llx, expected the VMCALL at %#llx (not advanced while suspended)",
          seen[1].rip, vmcall_va);
    CHECK(seen[1].rax == vmcall_va, "A: IPI frame RAX %#llx, expected the pre-call %#llx (no status written)",
          seen[1].rax, vmcall_va);
    CHECK(seen[1].rcx == fl[1].rcx_in, "A: IPI frame RCX %#llx, expected the control %#llx", seen[1].rcx, fl[1].rcx_in);
    printf("A: flusher blocked for %llu cycles, returned once with %#llx\n", fl[1].t_ret - fl[1].t_call, fl[1].rax);

    /* B. two flushers, one lock. */
    lock(2, 1);
    start_flusher(1, 1ull << 2);
    start_flusher(3, 1ull << 2);
    smp_delay_tsc(LOCK_WAIT);
    expect_blocked(1, "B");
    expect_blocked(3, "B");
    lock(2, 0);
    expect_one_return(1, "B");
    expect_one_return(3, "B");

    /* C. two locks: one release is not enough. */
    lock(2, 1);
    lock(3, 1);
    start_flusher(1, (1ull << 2) | (1ull << 3));
    smp_delay_tsc(LOCK_WAIT);
    expect_blocked(1, "C");
    lock(2, 0);
    smp_delay_tsc(LOCK_WAIT);
    expect_blocked(1, "C after releasing only VP 2");
    lock(3, 0);
    expect_one_return(1, "C");

    /* D. the caller's own lock does not block it; an untargeted lock does not either. */
    lock(2, 1);
    start_flusher(2, 1ull << 2);
    smp_delay_tsc(LOCK_WAIT);
    CHECK_EQ(fl[2].returns, 1, "D: a locked VP flushing itself returned");
    smp_wait(2);
    start_flusher(1, 1ull << 3);
    smp_delay_tsc(LOCK_WAIT);
    CHECK_EQ(fl[1].returns, 1, "D: a flush of VP 3 while VP 2 is locked returned");
    smp_wait(1);
    lock(2, 0);

    /* What the statistics must say: A, B (two) and C suspended a caller once each;
     * D none.  A blocked flush is counted once per VMCALL executed (B-3.2: the
     * suspended one and the re-executed one), the D flushes once. */
    unsigned nblocked = (unsigned)(blocked_n[1] + blocked_n[3]);
    printf("HVSTAT tlb_lock.locks == %u\n", n_locks);
    printf("HVSTAT tlb_lock.unlocks == %u\n", n_unlocks);
    printf("HVSTAT tlb_lock.suspends == %u\n", nblocked);
    printf("HVSTAT tlb_lock.resumes == %u\n", nblocked);
    printf("HVSTAT by_call.SetVpRegisters == %u\n", n_set);
    printf("HVSTAT by_call.GetVpRegisters == %u\n", n_get);
    printf("HVSTAT flush.calls == %u\n", nblocked + 2);
    for (unsigned c = 1; c <= 3; c += 2) {
        printf("HVSTAT suspended_cycles_per_vp.%u <= %llu\n", c, blocked_sum[c]);
        printf("HVSTAT suspended_cycles_per_vp.%u >= %llu\n", c, blocked_sum[c] - SLACK * blocked_n[c]);
    }
    printf("HVSTAT suspended_cycles_per_vp.0 == 0\n");
    printf("HVSTAT suspended_cycles_per_vp.2 == 0\n");
}

static void mode_sched(void)
{
    u64 at = rt_cmdline_num("at", 0), len = rt_cmdline_num("for", 0);
    CHECK(at && len, "sched mode needs at= and for= on the command line");
    if (rt_failures)
        return;
    CHECK(rdtsc() < at, "the APs were up only at cycle %llu, after the lock began (raise at=)", rdtsc());
    if (rt_failures)
        return;
    /* Start the flush a little after the lock begins (TSC = virtual cycles). */
    while (rdtsc() < at + 1000)
        cpu_relax();
    start_flusher(1, 1ull << 2);
    smp_wait(1);
    CHECK_EQ(fl[1].returns, 1, "sched: flusher returned once");
    CHECK(hv_status(fl[1].rax) == HV_STATUS_SUCCESS, "sched: status %#llx", fl[1].rax);
    CHECK(fl[1].t_call < at + len, "sched: the flush started at %llu, after the lock ended (%llu)", fl[1].t_call, at + len);
    CHECK(fl[1].t_ret >= at + len, "sched: the flush returned at %llu, before the lock ended at %llu", fl[1].t_ret, at + len);
    printf("sched: lock [%llu, %llu), flush called at %llu, returned at %llu\n", at, at + len, fl[1].t_call, fl[1].t_ret);
    /* Suspended from the VMCALL (after t_call) to the end of the lock. */
    printf("HVSTAT tlb_lock.suspends == 1\n");
    printf("HVSTAT tlb_lock.resumes == 1\n");
    printf("HVSTAT suspended_cycles_per_vp.1 <= %llu\n", at + len - fl[1].t_call);
    printf("HVSTAT suspended_cycles_per_vp.1 >= %llu\n", at + len - fl[1].t_call - SLACK);
}

void test_main(void)
{
    int sched = rt_cmdline_has("sched");
    CHECK(sched + rt_cmdline_has("vpregs") == 1, "give one of vpregs, sched");
    CHECK(hv_detect(NULL), "Hyper-V interface not detected");
    if (rt_failures)
        return;
    unsigned ncpu = smp_cpu_count();
    CHECK(ncpu >= 4, "needs -smp 4 (have %u)", ncpu);
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
    if (sched)
        mode_sched();
    else
        mode_vpregs();
}
