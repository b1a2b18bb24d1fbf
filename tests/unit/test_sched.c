/* The deterministic scheduler (hv/sched.c) on a real partition: VPs run small
 * real-mode programs placed by hand (CS:IP set as a SIPI would).
 *   - lowest cycle count first, ties to the lowest index, at most one quantum
 *     per turn: with equal per-iteration costs the VPs take turns 0,1,2,3,0,...
 *     and no VP falls more than a quantum behind;
 *   - halt with an armed APIC timer: virtual time jumps to the event (the VP
 *     retires a handful of instructions, not a million);
 *   - determinism: two runs give byte-identical memory and cycle counts;
 *   - an IPI (fixed, through the APIC bus) wakes a halted VP at the sender's time
 *     and makes the sender yield its turn.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hv/partition.h"
#include "hv/sched.h"
#include "hv/interrupts.h"
#include "devices/lapic.h"
#include "mmu/physmem.h"

#define LOG_COUNT 0x0500u           /* word: number of log entries */
#define LOG_BASE  0x0600u           /* one byte per loop iteration: the VP index */
#define CODE(i)   (0x8000u + 0x100u * (i))

static struct partition *make(unsigned n)
{
    char err[160];
    struct partition_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ram_size = 16ull << 20;
    cfg.nr_vps = n;
    struct partition *p = partition_new(&cfg, err, sizeof err);
    ck_assert_msg(p != NULL, "partition_new: %s", err);
    return p;
}

/* Start VP i in real mode at physical 'at' (CS = at >> 4, IP = 0), runnable. */
static void start_at(struct partition *p, unsigned i, uint32_t at)
{
    struct cpu *c = &p->vps[i].cpu;
    c->seg[SEG_CS].sel = (uint16_t)(at >> 4);
    c->seg[SEG_CS].base = at;
    c->rip = 0;
    cpu_update_mode(c);
    p->vps[i].state = VP_RUNNABLE;
}

/* mov al, i; mov di, 1; xadd [0x500], di; mov [di+0x600], al; jmp back.
 * XADD takes a slot in one instruction, so a turn that ends between taking the
 * slot and filling it cannot make two VPs write the same entry. */
static void load_logger(struct partition *p, unsigned i)
{
    const uint8_t code[] = { 0xB0, (uint8_t)i, 0xBF, 0x01, 0x00, 0x0F, 0xC1, 0x3E, 0x00, 0x05,
                             0x88, 0x85, 0x00, 0x06, 0xEB, 0xF0 };
    physmem_write_bytes(p->pm, CODE(i), code, sizeof code);
    start_at(p, i, CODE(i));
}

struct run_result {
    uint8_t log[0x7000];
    unsigned n;
    uint64_t cycles[4], insns[4];
    int status;
};

static void run_loggers(struct run_result *r, uint64_t quantum, uint64_t max_cycles)
{
    struct partition *p = make(4);
    for (unsigned i = 0; i < 4; i++)
        load_logger(p, i);
    struct sched_limits lim = { .max_cycles = max_cycles, .quantum = quantum };
    r->status = sched_run(p, &lim, NULL);
    uint16_t n;
    physmem_read_bytes(p->pm, LOG_COUNT, &n, 2);
    r->n = n;
    ck_assert_uint_lt(n, sizeof r->log);
    physmem_read_bytes(p->pm, LOG_BASE, r->log, n);
    for (unsigned i = 0; i < 4; i++) {
        r->cycles[i] = p->vps[i].cpu.cycles;
        r->insns[i] = p->vps[i].cpu.icount;
    }
    partition_free(p);
}

START_TEST(test_lowest_cycle_first_and_quantum)
{
    static struct run_result r;
    const uint64_t q = 400, max = 8000;
    run_loggers(&r, q, max);
    ck_assert_int_eq(r.status, HVEMU_EXIT_LIMIT);
    ck_assert_uint_gt(r.n, 100);
    /* Turns: maximal runs of the same index.  Equal costs -> strict rotation. */
    unsigned turns = 0, expect = 0, len = 0, minlen = ~0u, maxlen = 0;
    unsigned all_turns = 0;
    for (unsigned k = 1; k < r.n; k++)
        all_turns += r.log[k] != r.log[k - 1];
    for (unsigned k = 0; k < r.n; k++) {
        if (k == 0 || r.log[k] != r.log[k - 1]) {
            /* Turn lengths; the last turn of each VP is cut by -max-cycles. */
            if (k && turns + 4 <= all_turns) {
                if (len < minlen) minlen = len;
                if (len > maxlen) maxlen = len;
            }
            ck_assert_msg(r.log[k] == expect, "turn %u went to VP %u, expected VP %u", turns, r.log[k], expect);
            expect = (expect + 1) % 4;
            turns++;
            len = 0;
        }
        len++;
    }
    ck_assert_uint_ge(turns, 4 * (max / q) - 4);
    /* A turn is at most one quantum (plus the block that crosses its end); the
     * loop is 5 instructions (its cost per iteration is measured). */
    uint64_t iters = r.insns[0] / 5, cyc_per_iter = (r.cycles[0] + iters - 1) / iters;
    ck_assert_uint_le(maxlen * (cyc_per_iter - 1), q + cyc_per_iter);
    ck_assert_uint_ge((minlen + 1) * cyc_per_iter, q);
    /* Nobody falls behind by more than a quantum. */
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_ge(r.cycles[i] + q + 16, max);
        ck_assert_uint_le(r.cycles[i], max + q);
    }
}
END_TEST

START_TEST(test_determinism)
{
    static struct run_result a, b;
    run_loggers(&a, 333, 8000);
    run_loggers(&b, 333, 8000);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert(memcmp(a.log, b.log, a.n) == 0);
    ck_assert(memcmp(a.cycles, b.cycles, sizeof a.cycles) == 0);
    ck_assert(memcmp(a.insns, b.insns, sizeof a.insns) == 0);
    /* A different quantum gives a different interleaving (the test can fail). */
    static struct run_result c;
    run_loggers(&c, 500, 8000);
    ck_assert(c.n != a.n || memcmp(a.log, c.log, a.n) != 0);
}
END_TEST

/* sti; hlt; mov byte [0x500], 1; cli; hlt -- and the vector-0x40 handler: iret. */
static void load_sleeper(struct partition *p, unsigned i, uint32_t at)
{
    const uint8_t code[] = { 0xFB, 0xF4, 0xC6, 0x06, 0x00, 0x05, 0x01, 0xFA, 0xF4 };
    physmem_write_bytes(p->pm, at, code, sizeof code);
    const uint8_t iret = 0xCF;
    physmem_write_bytes(p->pm, 0x7000, &iret, 1);
    const uint16_t ivt[2] = { 0x0000, 0x0700 };        /* 0700:0000 */
    physmem_write_bytes(p->pm, 0x40 * 4, ivt, 4);
    start_at(p, i, at);
}

START_TEST(test_halt_jumps_to_timer)
{
    struct partition *p = make(2);
    load_sleeper(p, 0, CODE(0));
    struct lapic *l = intr_lapic(p, 0);
    ck_assert_ptr_nonnull(l);
    lapic_mmio_write(l, LAPIC_SVR, 0x1ff, 4);
    lapic_mmio_write(l, LAPIC_TIMER_DCR, 0xb, 4);       /* divide by 1 */
    lapic_mmio_write(l, LAPIC_LVT_TIMER, 0x40, 4);
    lapic_mmio_write(l, LAPIC_TIMER_ICR, 50000000, 4);  /* 50M cycles */
    struct sched_limits lim = { 0 };
    int status = sched_run(p, &lim, NULL);
    ck_assert_int_eq(status, HVEMU_EXIT_GUEST_STOP);    /* halted with IF = 0 at the end */
    uint8_t flag;
    physmem_read_bytes(p->pm, 0x500, &flag, 1);
    ck_assert_uint_eq(flag, 1);
    ck_assert_uint_ge(p->vps[0].cpu.cycles, 50000000);
    ck_assert_uint_lt(p->vps[0].cpu.cycles, 50000000 + 1000);
    ck_assert_uint_le(p->vps[0].cpu.icount, 8);          /* sti hlt (int: iret) mov cli hlt */
    ck_assert_int_eq(p->vps[1].state, VP_WAIT_SIPI);
    partition_free(p);
}
END_TEST

START_TEST(test_ipi_wakes_halted_vp)
{
    struct partition *p = make(2);
    load_sleeper(p, 1, CODE(1));
    for (unsigned i = 0; i < 2; i++)
        lapic_mmio_write(intr_lapic(p, i), LAPIC_SVR, 0x1ff, 4);
    /* VP 0 spins; VP 1 sleeps.  Run a while, then VP 0's APIC sends vector 0x40
     * to VP 1 (as an ICR write in VP 0's context would). */
    const uint8_t spin[] = { 0xEB, 0xFE };
    physmem_write_bytes(p->pm, CODE(0), spin, sizeof spin);
    start_at(p, 0, CODE(0));
    struct sched_limits lim = { .max_cycles = 100000 };
    ck_assert_int_eq(sched_run(p, &lim, NULL), HVEMU_EXIT_LIMIT);
    ck_assert_int_eq(p->vps[1].state, VP_HALTED);
    uint64_t t_sender = p->vps[0].cpu.cycles;
    ck_assert_uint_lt(p->vps[1].cpu.cycles, 1000);      /* it slept */
    p->running = &p->vps[0];
    lapic_mmio_write(intr_lapic(p, 0), LAPIC_ICR_HI, 1u << 24, 4);
    lapic_mmio_write(intr_lapic(p, 0), LAPIC_ICR_LO, 0x4040, 4);
    p->running = NULL;
    ck_assert_int_eq(p->vps[1].state, VP_RUNNABLE);
    ck_assert_uint_eq(p->vps[1].cpu.cycles, t_sender);  /* woken at the sender's time */
    /* The sender returns to the scheduler, so the woken VP runs before it goes on. */
    ck_assert(p->vps[0].cpu.attention & ATTN_YIELD);
    partition_free(p);
}
END_TEST

/* A triple fault: the VP enters the shutdown state (VP_STOPPED), the run ends with
 * the guest-stop status, and the other VPs are left as they were.  Real mode with an
 * IDT limit of 0: INT3 -> #GP -> #DF -> shutdown (SDM Vol. 3A 6.15, 20.1.4). */
START_TEST(test_triple_fault_stops_the_vp)
{
    struct partition *p = make(2);
    static const uint8_t zero_idt[6] = { 0 };
    physmem_write_bytes(p->pm, 0x700, zero_idt, sizeof zero_idt);
    const uint8_t code[] = { 0x0F, 0x01, 0x1E, 0x00, 0x07,   /* lidt [0x700] */
                             0xCC };                          /* int3 */
    physmem_write_bytes(p->pm, CODE(0), code, sizeof code);
    start_at(p, 0, CODE(0));
    struct sched_limits lim = { .max_cycles = 1000000 };
    int status = sched_run(p, &lim, NULL);
    ck_assert_int_eq(status, HVEMU_EXIT_GUEST_STOP);
    ck_assert_int_eq(p->vps[0].state, VP_STOPPED);
    ck_assert_int_eq(p->vps[1].state, VP_WAIT_SIPI);
    partition_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lowest_cycle_first_and_quantum);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_halt_jumps_to_timer);
    tcase_add_test(tc, test_ipi_wakes_halted_vp);
    tcase_add_test(tc, test_triple_fault_stops_the_vp);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
