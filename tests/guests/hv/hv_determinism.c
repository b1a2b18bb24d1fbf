/* Determinism (HV-SPEC.md B-6.6 item 7; issue 3 "same inputs -> byte-identical
 * serial output, stats and trace"): a 4-VP workload whose output depends on the
 * interleaving of the VPs, run twice by run_hv.sh (mode determinism), which
 * compares the serial output, the -stats JSON and the traces byte for byte.
 *
 * VPs 1..3 each walk their own pages and a shared page, bump shared counters
 * with LOCK XADD (the order of the increments is recorded), and every few
 * rounds flush the others' TLBs with a hypercall (Space, List, SpaceEx,
 * alternating) and send them an IPI; VP 0 prints the recorded order, the final
 * TSC of each VP and the per-VP interrupt counts.  Any host-time or
 * host-thread dependence in the scheduler, the flushes or the interrupts shows
 * up as a different line.
 */
#include "hvcall.h"
#include "smp.h"

const char rt_test_name[] = "hv_determinism";

#define NW 3
#define ROUNDS 200
#define VEC 0xFC

static volatile u64 order_pos;
static volatile u8 order[NW * ROUNDS];
static volatile u64 tsc_end[NW + 1], intrs[SMP_MAX_CPUS], flush_fail;
static u64 shared_va;

static int ipi_handler(struct trap_frame *f)
{
    intrs[smp_this_cpu()]++;
    apic_eoi();
    return 1;
}

static u64 xadd(volatile u64 *p, u64 v)
{
    __asm__ volatile("lock xaddq %0, %1" : "+r"(v), "+m"(*p) :: "memory");
    return v;
}

static void work(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    u64 base = TEST_VA_BASE + 0x1000000ull * me;
    u64 *in = hv_input_page();
    u64 others = 0;
    for (unsigned c = 1; c <= NW; c++)
        if (c != me)
            others |= 1ull << c;
    sti();
    for (unsigned r = 0; r < ROUNDS; r++) {
        volatile u64 *p = (volatile u64 *)(base + ((u64)(r % 32) << 12));
        *p += r;
        *(volatile u64 *)(shared_va + 8 * me) += 1;
        u64 pos = xadd(&order_pos, 1);
        if (pos < NW * ROUNDS)
            order[pos] = (u8)me;
        for (volatile unsigned k = 0; k < (me * 37 + r) % 97; k++)
            ;
        if (r % 16 == me) {
            memset(in, 0, 64);
            in[1] = HV_FLUSH_ALL_ADDRESS_SPACES;
            u64 res;
            switch ((r / 16) % 3) {
            case 0:
                in[2] = others;
                res = hv_call(HVCALL_FLUSH_VA_SPACE, in, 0);
                break;
            case 1:
                in[2] = others;
                in[3] = hv_gva(shared_va, 0);
                res = hv_call(HVCALL_FLUSH_VA_LIST | HV_CTL_REP_COUNT(1), in, 0);
                break;
            default: {
                unsigned vps[NW], n = 0;
                for (unsigned c = 1; c <= NW; c++)
                    if (c != me)
                        vps[n++] = c;
                unsigned nb = hv_vpset_sparse(in + 2, vps, n);
                res = hv_call(HVCALL_FLUSH_VA_SPACE_EX | HV_CTL_VARHEAD(nb), in, 0);
            }
            }
            if (hv_status(res) != HV_STATUS_SUCCESS)
                xadd(&flush_fail, 1);
            hv_call_fast(HVCALL_SEND_IPI, VEC, others);
        }
    }
    cli();
    tsc_end[me] = rdtsc();
}

void test_main(void)
{
    CHECK(hv_detect(NULL), "Hyper-V interface not detected");
    unsigned ncpu = smp_cpu_count();
    CHECK(ncpu == NW + 1, "needs -smp %d (have %u)", NW + 1, ncpu);
    if (rt_failures)
        return;
    hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
    hv_enable_hypercall_page();
    hv_pages_prealloc(ncpu);
    rt_set_handler(VEC, ipi_handler);
    shared_va = TEST_VA_BASE + 0x10000000ull;
    map_4k(shared_va, (u64)(uintptr_t)rt_alloc_page(), PTE_P | PTE_W);
    for (unsigned c = 1; c <= NW; c++)
        for (unsigned i = 0; i < 32; i++)
            map_4k(TEST_VA_BASE + 0x1000000ull * c + ((u64)i << 12), (u64)(uintptr_t)rt_alloc_page(), PTE_P | PTE_W);
    write_cr3(read_cr3());
    unsigned up = smp_start_aps();
    CHECK(up == ncpu, "only %u of %u CPUs came up", up, ncpu);
    if (rt_failures)
        return;
    for (unsigned c = 1; c <= NW; c++)
        smp_run_on(c, work, (void *)(uintptr_t)c);
    for (unsigned c = 1; c <= NW; c++)
        smp_wait(c);
    smp_delay_tsc(100000);
    CHECK_EQ(order_pos, NW * ROUNDS, "increments");
    CHECK_EQ(flush_fail, 0, "flush hypercalls that failed");
    printf("order:");
    for (unsigned i = 0; i < NW * ROUNDS; i++) {
        if (i % 100 == 0)
            printf("\n  ");
        printf("%u", order[i]);
    }
    printf("\n");
    for (unsigned c = 1; c <= NW; c++)
        printf("VP %u: end TSC %llu, interrupts %llu, shared counter %llu\n", c, tsc_end[c], intrs[c],
               *(volatile u64 *)(shared_va + 8 * c));
    /* Each worker is sent an IPI by the two others, ROUNDS/16-ish times each. */
    for (unsigned c = 1; c <= NW; c++)
        CHECK(intrs[c] > 0, "VP %u took no IPI", c);
}
