/* The run loop (DESIGN.md §2, STYLE.md lesson 3): cpu_run() executes decoded blocks,
 * cpu_step() one freshly decoded instruction.  Both share the instruction epilogue
 * (cycles, retired count, interrupt shadow, attention word), so they give the same
 * architectural results; interrupts are accepted at the same boundaries because the
 * block loop leaves a block as soon as an interrupt becomes deliverable.
 *
 * Faults: handlers call cpu_raise(), which longjmps to c->fault_jmp; the setjmp in
 * cpu_run()/cpu_step() delivers the exception and the loop goes on.
 */
#include "cpu/block.h"
#include "cpu/debug_hook.h"
#include "cpu/decode.h"
#include "cpu/exception.h"
#include "cpu/mem.h"
#include "mmu/physmem.h"

#define PAGE_SIZE 4096u

/* Interrupt acceptance at an instruction boundary (ATTN_INTR was set). */
static void check_interrupts(struct cpu *c)
{
    if (c->intr_shadow)
        return;
    if (cpu_poll_interrupts(c))
        return;
    /* Nothing deliverable: keep the bit only while IF = 0 masks something. */
    if (c->rflags & FL_IF)
        c->attention &= ~ATTN_INTR;
}

/* After an instruction that left attention bits or an interrupt shadow: handle the
 * shadow (it covers exactly the next instruction: SDM Vol. 3A 6.8.3) and say whether
 * the current block may go on.  *armed: a shadow was present before this instruction. */
static bool after_insn(struct cpu *c, bool *armed)
{
    if (c->intr_shadow) {
        if (*armed) {
            c->intr_shadow = 0;
            *armed = false;
        } else {
            *armed = true;
        }
    }
    uint32_t a = c->attention;
    if (a & (ATTN_STOP | ATTN_YIELD | ATTN_BLOCK_END))
        return false;
    /* A maskable interrupt waits while IF = 0 or under the shadow; anything else ends
     * the block.  (An NMI pending under IF = 0 waits for the block end, <= 32 insns.) */
    return !((a & ATTN_INTR) && (c->rflags & FL_IF) && !c->intr_shadow);
}

static inline void exec_insn(struct cpu *c, const struct insn *i)
{
    c->insn_rip = c->rip;
    c->rip += i->len;
    i->fn(c, i);
    c->cycles += i->cost;
    c->icount++;
}

/* Fetch up to 15 instruction bytes at la (physical pa) and decode; the second page
 * is translated only if the instruction really continues there (so a #PF on it is
 * raised only then, with CR2 = the second page: SDM Vol. 3A 4.7). */
static void decode_uncached(struct cpu *c, uint64_t la, uint64_t pa, struct insn *out)
{
    struct physmem *pm = c->mmu->pm;
    uint8_t buf[INSN_MAX_LEN];
    unsigned first = PAGE_SIZE - (unsigned)(pa & (PAGE_SIZE - 1));
    unsigned n = first < INSN_MAX_LEN ? first : INSN_MAX_LEN;
    const uint8_t *p = physmem_page_ptr(pm, pa, false);
    for (unsigned k = 0; k < n; k++)
        buf[k] = p ? p[(pa & (PAGE_SIZE - 1)) + k] : (uint8_t)physmem_read(pm, pa + k, 1);
    int r = decode_insn(out, buf, n, c->mode, c->model);
    if (r != DECODE_NEED_MORE)
        return;
    uint64_t la2 = (la | (PAGE_SIZE - 1)) + 1;
    if (c->mode != MODE_LONG64)
        la2 &= 0xffffffffull;
    uint64_t pa2 = mem_fetch_phys(c, la2);
    const uint8_t *p2 = physmem_page_ptr(pm, pa2, false);
    for (unsigned k = n; k < INSN_MAX_LEN; k++)
        buf[k] = p2 ? p2[(pa2 & (PAGE_SIZE - 1)) + k - n] : (uint8_t)physmem_read(pm, pa2 + k - n, 1);
    decode_insn(out, buf, INSN_MAX_LEN, c->mode, c->model);
}

/* -d in_asm / cpu (cpu/debug_hook.h): only reached when a bit is on. */
static __attribute__((noinline, cold)) void debug_block(struct cpu *c, uint64_t la, uint64_t pa,
                                                        const struct insn *insns, unsigned n)
{
    if ((cpu_debug_mask & CPU_DBG_IN_ASM) && pa != ~0ull)
        cpu_debug_hooks->block(c, la, pa, insns, n);
    if (cpu_debug_mask & CPU_DBG_CPU)
        cpu_debug_hooks->regs(c);
}

/* One instruction outside the block cache (page-crossing, MMIO, single step).
 * Returns true when the VP stops for the host debugger (cpu/debug_arch.h). */
static bool step_uncached(struct cpu *c, uint64_t la, uint64_t pa)
{
    struct insn in;
    bool armed = c->intr_shadow != 0;
    bool checked = c->per_insn;
    /* Breakpoints come before the fetch of the rest of the instruction (SDM Vol. 3A
     * Table 6-2); a stop here resumes with the same fetch (c->dbg.resume_*). */
    if (unlikely(checked) && !dbg_insn_begin(c)) {
        c->dbg.resume_uncached = 1;
        c->dbg.resume_pa = pa;
        c->dbg.resume_rip = c->rip;
        return true;
    }
    decode_uncached(c, la, pa, &in);
    if (CPU_DBG_ON(CPU_DBG_IN_ASM | CPU_DBG_CPU))
        debug_block(c, la, pa, &in, 1);
    /* SDM Vol. 3A 5.3: outside 64-bit mode every byte fetched must lie within the
     * CS limit (#GP(0)); run_loop sends instructions near the limit here. (modes) */
    if (c->mode != MODE_LONG64 && c->rip + in.len - 1 > c->seg[SEG_CS].limit)
        cpu_raise_gp0(c);
    exec_insn(c, &in);
    if (unlikely(checked))
        dbg_insn_end(c, &in);
    if (c->attention | c->intr_shadow)
        after_insn(c, &armed);
    return c->dbg.stop != DBG_STOP_NONE;
}

/* The hot loop: every instruction of block b, unless something needs attention. */
static inline void run_block(struct cpu *c, const struct block *b)
{
    const struct insn *i = b->insns, *e = i + b->n;
    bool armed = c->intr_shadow != 0;
    do {
        exec_insn(c, i);
        if (unlikely(c->attention | c->intr_shadow)) {
            if (!after_insn(c, &armed))
                return;
        }
    } while (++i < e);
}

/* The per-instruction path (docs/internals.md §10): the same decoded block as
 * run_block, so fetches are counted the same way, with the debug checks around each
 * instruction.  Returns true when the VP stops for the host debugger; the block then
 * goes on from c->dbg.resume_* when the VP runs again. */
static bool run_block_checked(struct cpu *c, const struct block *b, unsigned k, bool armed)
{
    for (; k < b->n; k++) {
        const struct insn *i = &b->insns[k];
        if (!dbg_insn_begin(c))
            goto stop;
        exec_insn(c, i);
        dbg_insn_end(c, i);
        bool go = !(c->attention | c->intr_shadow) || after_insn(c, &armed);
        if (c->dbg.stop) {
            k++;
            if (!go)
                return true;            /* the block ends here anyway */
            goto stop;
        }
        if (!go)
            return false;
    }
    return false;
stop:
    if (k < b->n) {
        c->dbg.resume_block = b;
        c->dbg.resume_index = (uint16_t)k;
        c->dbg.resume_armed = armed;
        c->dbg.resume_rip = c->rip;
    }
    return true;
}

/* Back from a stop for the host debugger: finish what was interrupted, exactly as
 * it would have gone on (same block, no second fetch), unless the debugger moved
 * RIP or wrote over the code.  Returns true when the VP stops again. */
static bool resume_after_stop(struct cpu *c)
{
    struct dbg_state *d = &c->dbg;
    const struct block *b = d->resume_block;
    bool uncached = d->resume_uncached;
    d->resume_block = NULL;
    d->resume_uncached = 0;
    if (d->resume_rip != c->rip)
        return false;
    if (uncached)
        return step_uncached(c, cpu_fetch_la(c), d->resume_pa);
    if (b && !b->dead)
        return run_block_checked(c, b, d->resume_index, d->resume_armed);
    return false;
}

/* Block-boundary checks.  Returns true (with *why) when the loop must return. */
static inline bool boundary(struct cpu *c, enum cpu_exit *why)
{
    uint32_t a = c->attention;
    if (unlikely(a)) {
        if (a & ATTN_STOP) {
            c->attention &= ~ATTN_STOP;       /* reported once; the caller decides what next */
            *why = c->exit_reason;
            return true;
        }
        if (a & ATTN_YIELD) {
            c->attention &= ~ATTN_YIELD;
            *why = CPU_EXIT_YIELD;
            return true;
        }
        c->attention &= ~ATTN_BLOCK_END;
        if (a & ATTN_INTR)
            check_interrupts(c);
    }
    if (unlikely(c->halted)) {
        *why = CPU_EXIT_HALT;
        return true;
    }
    return false;
}

static enum cpu_exit run_loop(struct cpu *c, uint64_t end)
{
    struct block_cache *bc = c->bcache;
    enum cpu_exit why;
    if (unlikely(c->dbg.resume_block || c->dbg.resume_uncached) && resume_after_stop(c))
        return CPU_EXIT_DEBUG;
    for (;;) {
        if (boundary(c, &why))
            return why;
        if (c->cycles >= end)
            return CPU_EXIT_BUDGET;
        c->insn_rip = c->rip;           /* a fetch fault reports this instruction */
        /* Within a page of the CS limit (outside 64-bit mode), step one checked
         * instruction at a time: a block may not run past the limit. (modes) */
        if (unlikely(c->mode != MODE_LONG64) && c->rip + PAGE_SIZE > c->seg[SEG_CS].limit) {
            if (c->rip > c->seg[SEG_CS].limit)
                cpu_raise_gp0(c);
            uint64_t la = cpu_fetch_la(c);
            if (step_uncached(c, la, mem_fetch_phys(c, la)))
                return CPU_EXIT_DEBUG;
            continue;
        }
        uint64_t la = cpu_fetch_la(c);
        const struct block *b = NULL;
        /* Fast path: the fetch entry of the fast cache (backed by the modelled ITLB,
         * DESIGN.md §3) gives the host address, which keys the block directly. */
        struct mmu *m = c->mmu;
        const struct fast_entry *fe = &m->fast_cur->e[ACC_FETCH][(la >> 12) & (FAST_ENTRIES - 1)];
        if (likely(fe->tag == (la & ~0xfffull) && bc)) {
            b = block_find_host(bc, (const uint8_t *)(uintptr_t)(la + fe->addend), (enum cpu_mode)c->mode,
                                c->model);
            if (likely(b)) {
#ifdef HVEMU_CHECK_INVARIANT
                mmu_check_fast_entry(m, la, ACC_FETCH);
#endif
                m->fast_hits[ACC_FETCH]++;
            }
        }
        if (unlikely(!b)) {
            uint64_t pa = mem_fetch_phys(c, la);
            b = bc ? block_lookup(bc, pa, (enum cpu_mode)c->mode, c->model) : NULL;
            if (!b) {
                if (step_uncached(c, la, pa))
                    return CPU_EXIT_DEBUG;
                continue;
            }
            if (CPU_DBG_ON(CPU_DBG_IN_ASM))
                debug_block(c, la, pa, b->insns, b->n);
        }
        if (CPU_DBG_ON(CPU_DBG_CPU))
            debug_block(c, la, ~0ull, b->insns, b->n);
        if (unlikely(c->per_insn)) {
            if (run_block_checked(c, b, 0, c->intr_shadow != 0))
                return CPU_EXIT_DEBUG;
            continue;
        }
        run_block(c, b);
    }
}

enum cpu_exit cpu_run(struct cpu *c, uint64_t cycle_budget)
{
    /* Not modified after setjmp, so valid after a longjmp (C17 7.13.2.1). */
    const uint64_t end = c->cycles + cycle_budget;
    if (c->bcache)
        block_cache_set_running(c->bcache, c);
    enum cpu_exit why;
    if (setjmp(c->fault_jmp) != 0) {
        cpu_deliver_pending(c);
        if (unlikely(c->per_insn) && dbg_after_fault(c)) {
            why = CPU_EXIT_DEBUG;
            goto out;
        }
    }
    why = run_loop(c, end);
out:
    if (c->bcache)
        block_cache_set_running(c->bcache, NULL);
    return why;
}

enum cpu_exit cpu_step(struct cpu *c)
{
    enum cpu_exit why;
    if (setjmp(c->fault_jmp) != 0) {
        cpu_deliver_pending(c);
        goto done;
    }
    if (boundary(c, &why))
        return why;
    uint64_t la = cpu_fetch_la(c);
    c->insn_rip = c->rip;
    step_uncached(c, la, mem_fetch_phys(c, la));
done:
    if (c->attention & ATTN_STOP) {
        c->attention &= ~ATTN_STOP;
        return c->exit_reason;
    }
    return c->halted ? CPU_EXIT_HALT : CPU_EXIT_BUDGET;
}
