/* TLB shootdown benchmark (TLB-MODEL.md B-(c) 4, issue 3 "Benchmark").
 *
 * VP 0 unmaps a page that VPs 1..k have in their TLBs and makes the unmap
 * visible to them, REPS times, with one of two mechanisms (command line):
 *   mode=hypercall  HvCallFlushVirtualAddressList (ListEx when a target is
 *                   >= 64) to {1..k}, slow convention, as Linux 6.1 does
 *                   (HV-SPEC B-5.2), plus INVLPG locally;
 *   mode=ipi        one fixed IPI per target (xAPIC ICR, physical destination)
 *                   whose handler does INVLPG and acknowledges; VP 0 spins until
 *                   all k acknowledged (Linux's native flush_tlb_multi).
 * Run with -smp k+1 and -append "k=K mode=M [pages=N]".  pages=N (default 1,
 * at most 64) unmaps N contiguous pages at once; as in Linux (HV-SPEC B-5.2,
 * TLB-MODEL B-(c) 4) more than 33 pages become a full flush: FlushVirtual-
 * AddressSpace with NON_GLOBAL_MAPPINGS_ONLY, or a CR3 reload in the IPI
 * handler; up to 33 pages are one List element (N-1 additional pages) or N
 * INVLPGs.
 *
 * Measured in the guest (RDTSC = virtual cycles of the VP that reads it):
 *   stall     initiator cycles from just before the PTE write to the point the
 *             unmap is visible everywhere (hypercall returned / all acks seen);
 *   target    cycles each target lost per shootdown: every target runs a timing
 *             loop and sums the part of each iteration gap above the loop's
 *             normal period, counting gaps over twice the period (interrupt
 *             delivery + handler + IRET in ipi mode, where nothing else
 *             interrupts; with many pages also the refill walks of the loop
 *             that re-reads them, in both modes).
 * Printed as one line that benchmarks/shootdown/run.sh parses:
 *   RESULT k=K pages=N mode=M reps=R stall_avg=.. stall_min=.. stall_max=.. target_avg=..
 * The refill misses come from the -stats file (run.sh).
 */
#include "rt.h"
#include "smp.h"
#include "../../tests/guests/hv/hvcall.h"

const char rt_test_name[] = "shootdown";

#define REPS 16
#define VEC 0xFB
#define SHARED_VA (TEST_VA_BASE + 0x200000)
#define WS_PAGES 8
#define MAX_PAGES 64
#define FULL_FLUSH_CEILING 33        /* Linux tlb_single_page_flush_ceiling */

static volatile int phase;            /* 0 run, 1 quiet (no touching SHARED_VA), 2 stop */
static volatile u64 quiet_ack, flush_ack;
static volatile u64 stolen[SMP_MAX_CPUS], gaps[SMP_MAX_CPUS], period[SMP_MAX_CPUS];
static unsigned k, npages;

static void local_flush(void)
{
    if (npages > FULL_FLUSH_CEILING) {
        write_cr3(read_cr3());
        return;
    }
    for (unsigned i = 0; i < npages; i++)
        invlpg_va(SHARED_VA + ((u64)i << 12));
}

static int shootdown_handler(struct trap_frame *f)
{
    local_flush();
    __atomic_add_fetch(&flush_ack, 1, __ATOMIC_SEQ_CST);
    apic_eoi();
    return 1;
}

static void target(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    volatile u64 *ws = (volatile u64 *)(TEST_VA_BASE + 0x1000000ull * me);
    u64 sum = 0, last, seen_quiet = 0;
    sti();
    /* Calibrate the loop's normal period (minimum over 64 iterations). */
    u64 per = ~0ull;
    last = rdtsc();
    for (int i = 0; i < 64; i++) {
        sum += *(volatile u64 *)SHARED_VA;
        for (int j = 0; j < WS_PAGES; j++)
            sum += ws[j * 512];
        u64 t = rdtsc();
        if (t - last < per)
            per = t - last;
        last = t;
    }
    period[me] = per;
    u64 lost = 0, ngaps = 0;
    while (phase != 2) {
        int ph = phase;
        if (ph == 0) {
            for (unsigned i = 0; i < npages; i++)
                sum += *(volatile u64 *)(SHARED_VA + ((u64)i << 12));
            seen_quiet = 0;
        } else if (ph == 1 && !seen_quiet) {
            seen_quiet = 1;
            __atomic_add_fetch(&quiet_ack, 1, __ATOMIC_SEQ_CST);
        }
        for (int j = 0; j < WS_PAGES; j++)
            sum += ws[j * 512];
        u64 t = rdtsc();
        /* Count only clear interruptions: more than twice the normal period. */
        if (t - last > 2 * per + 50) {
            lost += t - last - per;
            ngaps++;
        }
        last = t;
    }
    cli();
    stolen[me] = lost;
    gaps[me] = ngaps;
    (void)sum;
}

static u64 *in;

static void flush_hypercall(void)
{
    memset(in, 0, 64);
    in[0] = read_cr3() & ~0xfffull;
    int full = npages > FULL_FLUSH_CEILING;
    in[1] = full ? HV_FLUSH_NON_GLOBAL_ONLY : 0;
    u64 control, r;
    if (k < 64) {
        in[2] = ((k == 63 ? ~0ull : (1ull << (k + 1)) - 1)) & ~1ull;    /* VPs 1..k */
        in[3] = hv_gva(SHARED_VA, npages - 1);
        control = full ? HVCALL_FLUSH_VA_SPACE : HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(1);
    } else {
        unsigned vps[SMP_MAX_CPUS];
        for (unsigned i = 0; i < k; i++)
            vps[i] = i + 1;
        unsigned nb = hv_vpset_sparse(in + 2, vps, k);
        in[4 + nb] = hv_gva(SHARED_VA, npages - 1);
        control = full ? HVCALL_FLUSH_VA_SPACE_EX | HV_CTL_VARHEAD(nb)
                       : HVCALL_FLUSH_VA_LIST_EX | HV_CTL_VARHEAD(nb) | HV_CTL_REP_COUNT(1);
    }
    r = hv_call(control, in, 0);
    if (hv_status(r) != HV_STATUS_SUCCESS) {
        printf("FAIL: flush hypercall status %#x (%s)\n", hv_status(r), hv_status_name(hv_status(r)));
        rt_exit(RT_EXIT_FAIL);
    }
    local_flush();
}

static void flush_ipi(void)
{
    flush_ack = 0;
    for (unsigned t = 1; t <= k; t++)
        apic_send_ipi(smp_cpus[t].apic_id, ICR_FIXED | ICR_ASSERT | VEC);
    local_flush();
    while (flush_ack < k)
        cpu_relax();
}

void test_main(void)
{
    k = (unsigned)rt_cmdline_num("k", 1);
    npages = (unsigned)rt_cmdline_num("pages", 1);
    int hyper = rt_cmdline_has("mode=hypercall"), ipi = rt_cmdline_has("mode=ipi");
    unsigned ncpu = smp_cpu_count();
    if (hyper + ipi != 1 || k < 1 || k + 1 > ncpu || npages < 1 || npages > MAX_PAGES) {
        printf("FAIL: usage: -smp K+1 -append \"k=K mode=hypercall|ipi [pages=1..64]\" (k=%u, %u CPUs)\n", k, ncpu);
        rt_exit(RT_EXIT_FAIL);
    }
    if (hyper) {
        if (!hv_detect(NULL) || !(hv_info.hints_eax & HV_HINT_REMOTE_FLUSH)) {
            printf("FAIL: no Hyper-V remote-flush hypercall (run with -hyperv on)\n");
            rt_exit(RT_EXIT_FAIL);
        }
        hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
        hv_enable_hypercall_page();
        in = hv_input_page();
    }
    rt_set_handler(VEC, shootdown_handler);
    u64 frames[2] = { (u64)(uintptr_t)rt_alloc_pages(npages), (u64)(uintptr_t)rt_alloc_pages(npages) };
    volatile u64 *pte[MAX_PAGES];
    for (unsigned i = 0; i < npages; i++)
        pte[i] = map_4k(SHARED_VA + ((u64)i << 12), frames[0] + ((u64)i << 12), PTE_P | PTE_W);
    for (unsigned t = 1; t <= k; t++)
        for (unsigned j = 0; j < WS_PAGES; j++)
            map_4k(TEST_VA_BASE + 0x1000000ull * t + ((u64)j << 12), (u64)(uintptr_t)rt_alloc_page(), PTE_P | PTE_W);
    write_cr3(read_cr3());
    if (smp_start_aps() != ncpu) {
        printf("FAIL: not every CPU came up\n");
        rt_exit(RT_EXIT_FAIL);
    }
    for (unsigned t = 1; t <= k; t++)
        smp_run_on(t, target, (void *)(uintptr_t)t);
    smp_delay_tsc(50000);

    u64 smin = ~0ull, smax = 0, ssum = 0;
    for (int r = 0; r < REPS; r++) {
        /* Targets stop touching the page (it is about to go away) but keep it in
         * their TLBs; wait until every one of them has seen that. */
        quiet_ack = 0;
        phase = 1;
        while (quiet_ack < k)
            cpu_relax();
        u64 t0 = rdtsc();
        for (unsigned i = 0; i < npages; i++)
            *pte[i] = 0;                             /* unmap */
        if (hyper)
            flush_hypercall();
        else
            flush_ipi();
        u64 stall = rdtsc() - t0;
        ssum += stall;
        if (stall < smin) smin = stall;
        if (stall > smax) smax = stall;
        for (unsigned i = 0; i < npages; i++)      /* map again (new frames) */
            *pte[i] = (frames[(r + 1) & 1] + ((u64)i << 12)) | PTE_P | PTE_W;
        phase = 0;
        smp_delay_tsc(20000);
    }
    phase = 2;
    for (unsigned t = 1; t <= k; t++)
        smp_wait(t);
    u64 lost = 0;
    for (unsigned t = 1; t <= k; t++)
        lost += stolen[t];
    printf("RESULT k=%u pages=%u mode=%s reps=%d stall_avg=%llu stall_min=%llu stall_max=%llu target_avg=%llu period=%llu\n",
           k, npages, hyper ? "hypercall" : "ipi", REPS, ssum / REPS, smin, smax, lost / ((u64)k * REPS), period[1]);
}
