/* String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, with REP, REPE and
 * REPNE (SDM Vol. 2 "REP/REPE/REPZ/REPNE/REPNZ" and each instruction's page).
 *
 * Registers: rSI/rDI/rCX at the address size (SI/DI/CX keep the upper bits of their
 * 64-bit registers, ESI/EDI/ECX zero-extend).  Segments: the source is DS unless
 * overridden; the destination is always ES (no override).  Direction: RFLAGS.DF.
 *
 * Fault rule: one iteration does its memory (and port) accesses first and then
 * updates rSI/rDI/rCX together, so a fault in iteration k leaves the registers as
 * iteration k-1 left them and RIP at the instruction: resuming after the fault
 * handler continues the string where it stopped, as on hardware.
 *
 * Interruptibility: a REP string runs at most REP_CHUNK iterations per execution.
 * With iterations left, RIP is set back to the instruction (c->insn_rip), so the run
 * loop sees an instruction boundary, can deliver interrupts and keep to its cycle
 * budget, and then simply executes the same instruction again.  RF is set then
 * (SDM Vol. 3A 17.3.1.1: an event after an iteration that is not the last pushes
 * RF = 1, so an instruction breakpoint on the string does not fire again when it
 * resumes).  An iteration that matches a data or I/O breakpoint ends the execution
 * the same way, so that its #DB trap follows that very iteration (17.3.1.2).
 */
#include "cpu/cpu_quirks.h"
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/io.h"
#include "cpu/operand.h"

/* Iterations per execution of a REP string (see the header comment).  4096 byte
 * moves are about one quantum of the scheduler (DESIGN.md §4: a few thousand cycles). */
#define REP_CHUNK 4096u

/* Extra cycles per iteration, on top of the instruction's timing-table cost.  Rough
 * per-element throughputs of a recent Intel core for the fast-string microcode
 * (Agner Fog, "Instruction tables", Skylake: REP MOVS/STOS about one element per
 * cycle; REP LODS/CMPS/SCAS about 2-3 cycles per element) -- a cycle-approximate
 * figure, not a per-microarchitecture one. */
#define CYC_ITER_STORE 1u   /* MOVS, STOS */
#define CYC_ITER_LOAD  2u   /* LODS, CMPS, SCAS */
#define CYC_ITER_IO    1u   /* INS, OUTS (port cost itself: the device/env) */

/* What one execution of a string instruction works with. */
struct str_ctx {
    unsigned size;      /* element size: 1, 2, 4, 8 */
    unsigned asz;       /* address size: 2, 4, 8 */
    uint64_t amask;
    int64_t  delta;     /* +size, or -size with DF = 1 */
    unsigned sseg;      /* source segment (DS or the override) */
};

static inline void str_ctx_init(struct str_ctx *s, const struct cpu *c, const struct insn *i)
{
    s->size = i->osize;
    s->asz = i->asize;
    s->amask = size_mask(i->asize);
    s->delta = (c->rflags & FL_DF) ? -(int64_t)i->osize : (int64_t)i->osize;
    s->sseg = (i->pfx & PFX_SEGOVR) ? i->seg : SEG_DS;
}

static inline uint64_t src_la(struct cpu *c, const struct str_ctx *s, enum mmu_access acc)
{
    return seg_ea(c, s->sseg, c->gpr[RSI] & s->amask, s->size, acc);
}

static inline uint64_t dst_la(struct cpu *c, const struct str_ctx *s, enum mmu_access acc)
{
    return seg_ea(c, SEG_ES, c->gpr[RDI] & s->amask, s->size, acc);
}

/* rSI/rDI += delta at the address size. */
static inline void advance(struct cpu *c, unsigned r, const struct str_ctx *s)
{
    gpr_write(c, r, s->asz, c->gpr[r] + (uint64_t)s->delta, false);
}

/* ---- one iteration of each instruction; returns "equal" for CMPS/SCAS ---- */

typedef bool (*str_step)(struct cpu *c, const struct str_ctx *s);

static inline bool movs_step(struct cpu *c, const struct str_ctx *s)
{
    uint64_t v = mem_read(c, src_la(c, s, ACC_READ), s->size);
    mem_write(c, dst_la(c, s, ACC_WRITE), v, s->size);
    advance(c, RSI, s);
    advance(c, RDI, s);
    return true;
}

static inline bool stos_step(struct cpu *c, const struct str_ctx *s)
{
    mem_write(c, dst_la(c, s, ACC_WRITE), c->gpr[RAX] & size_mask(s->size), s->size);
    advance(c, RDI, s);
    return true;
}

static inline bool lods_step(struct cpu *c, const struct str_ctx *s)
{
    uint64_t v = mem_read(c, src_la(c, s, ACC_READ), s->size);
    gpr_write(c, RAX, s->size, v, false);
    advance(c, RSI, s);
    return true;
}

/* CMPS: temp = [src] - ES:[rDI], flags as CMP (SDM CMPS). */
static inline bool cmps_step(struct cpu *c, const struct str_ctx *s)
{
    uint64_t m = size_mask(s->size);
    uint64_t a = mem_read(c, src_la(c, s, ACC_READ), s->size);
    uint64_t b = mem_read(c, dst_la(c, s, ACC_READ), s->size);
    flags_set(c, LF_SUB, s->size, (a - b) & m, a, b);
    advance(c, RSI, s);
    advance(c, RDI, s);
    return a == b;
}

/* SCAS: temp = rAX - ES:[rDI], flags as CMP (SDM SCAS). */
static inline bool scas_step(struct cpu *c, const struct str_ctx *s)
{
    uint64_t m = size_mask(s->size);
    uint64_t a = c->gpr[RAX] & m;
    uint64_t b = mem_read(c, dst_la(c, s, ACC_READ), s->size);
    flags_set(c, LF_SUB, s->size, (a - b) & m, a, b);
    advance(c, RDI, s);
    return a == b;
}

/* INS: the destination is probed before the port is read, so a #PF does not consume
 * a device read that the restarted instruction would repeat. */
static inline bool ins_step(struct cpu *c, const struct str_ctx *s)
{
    uint64_t la = dst_la(c, s, ACC_WRITE);
    mem_probe_write(c, la, s->size);
    uint32_t v = cpu_io_in(c, (uint16_t)c->gpr[RDX], s->size);
    mem_write(c, la, v & size_mask(s->size), s->size);
    advance(c, RDI, s);
    return true;
}

static inline bool outs_step(struct cpu *c, const struct str_ctx *s)
{
    uint64_t v = mem_read(c, src_la(c, s, ACC_READ), s->size);
    cpu_io_out(c, (uint16_t)c->gpr[RDX], (uint32_t)v, s->size);
    advance(c, RSI, s);
    return true;
}

/* ---- the REP driver ---- */

/* What ends a repeated string besides rCX = 0. */
enum rep_stop { STOP_NEVER, STOP_IF_NE /* REPE */, STOP_IF_EQ /* REPNE */ };

/* Count one finished iteration: rCX-- at the address size, plus its cycles. */
static inline void rep_retire(struct cpu *c, const struct str_ctx *s, uint64_t n, unsigned cyc)
{
    gpr_write(c, RCX, s->asz, c->gpr[RCX] - n, false);
    c->cycles += n * cyc;
}

/* Stop before the next iteration: the instruction resumes from here (header comment). */
static void rep_pause(struct cpu *c)
{
    c->rip = c->insn_rip;
    c->attention |= ATTN_BLOCK_END;     /* the block must not run on past us */
    flags_write(c, FL_RF, FL_RF);
}

/* Run a (possibly bulk-accelerated) repeated string.  bulk, if not NULL, may do
 * several iterations at once and returns how many it did (0: take the slow step).
 * Bulk iterations never touch a watched page (the fast cache does not hold them). */
static inline __attribute__((always_inline)) void
rep_run(struct cpu *c, const struct str_ctx *s, str_step step, enum rep_stop stop, unsigned cyc,
        uint64_t (*bulk)(struct cpu *c, const struct str_ctx *s, uint64_t max))
{
    uint64_t done = 0;
    while (c->gpr[RCX] & s->amask) {
        if (done >= REP_CHUNK || (unlikely(c->per_insn) && dbg_iteration_hit(&c->dbg))) {
            rep_pause(c);
            return;
        }
        if (bulk) {
            uint64_t n = bulk(c, s, REP_CHUNK - done);
            if (n) {
                done += n;
                continue;
            }
        }
        bool eq = step(c, s);
        rep_retire(c, s, 1, cyc);
        done++;
        if ((stop == STOP_IF_NE && !eq) || (stop == STOP_IF_EQ && eq))
            return;
    }
}

static inline bool has_rep(const struct insn *i)
{
    return (i->pfx & (PFX_REP | PFX_REPNE)) != 0;
}

/* With QUIRK_REP_A32_ZERO_WRITES (Intel), a REP string with a 32-bit address size in
 * 64-bit mode writes ECX even when the count is already zero (RCX[63:32] cleared),
 * and REP MOVS / REP STOS also write the ESI/EDI they use; REP LODS/CMPS/SCAS leave
 * RSI/RDI alone then.  Not in the SDM: measured on Intel hosts.  AMD parts write
 * nothing for a zero count (measured on Zen 5).  tests/unit/test_quirks.c pins both.
 * When the count is non-zero every iteration writes these registers anyway. */
static inline void rep_addr32_zext(struct cpu *c, const struct str_ctx *s, bool src, bool dst)
{
    if (s->asz != 4 || c->mode != MODE_LONG64 || !cpu_quirk(c, QUIRK_REP_A32_ZERO_WRITES))
        return;
    c->gpr[RCX] = (uint32_t)c->gpr[RCX];
    if (src)
        c->gpr[RSI] = (uint32_t)c->gpr[RSI];
    if (dst)
        c->gpr[RDI] = (uint32_t)c->gpr[RDI];
}

/* ---- host fast path for REP MOVS / REP STOS (64-bit mode, 64-bit addresses) ----
 *
 * When the current source and destination pages are in the fast-lookup cache, the
 * iterations that stay inside those pages are done on host memory directly.  The
 * fast cache holds only plain RAM, and never a write entry for a page that holds
 * decoded code (mmu/physmem.h), so skipping mem_write here cannot miss MMIO or
 * self-modifying code.  Anything else (first touch of a page, page crossing,
 * non-canonical address, 16/32-bit addressing with its wrap-around and limits) takes
 * the one-element slow step, which also faults precisely. */

static inline bool canonical_la(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Host address of la if its page is in the fast cache for acc, else 0. */
static inline uintptr_t fast_host(struct cpu *c, uint64_t la, enum mmu_access acc)
{
    const struct fast_entry *e = &c->mmu->fast_cur->e[acc][(la >> 12) & (FAST_ENTRIES - 1)];
    if (e->tag != (la & ~0xfffull))
        return 0;
#ifdef HVEMU_CHECK_INVARIANT
    mmu_check_fast_entry(c->mmu, la, acc);
#endif
    return (uintptr_t)(la + e->addend);
}

/* How many elements starting at la, walking in the direction of delta, stay in la's page. */
static inline uint64_t fit_in_page(uint64_t la, const struct str_ctx *s)
{
    uint64_t in = la & 0xfff;
    if (in + s->size > 0x1000)
        return 0;
    return s->delta > 0 ? (0x1000 - in) / s->size : in / s->size + 1;
}

static inline bool bulk_ok(const struct cpu *c, const struct str_ctx *s)
{
    return c->mode == MODE_LONG64 && s->asz == 8;
}

static uint64_t movs_bulk(struct cpu *c, const struct str_ctx *s, uint64_t max)
{
    uint64_t n = c->gpr[RCX] < max ? c->gpr[RCX] : max;
    uint64_t src = c->gpr[RSI] + (s->sseg == SEG_FS || s->sseg == SEG_GS ? c->seg[s->sseg].base : 0);
    uint64_t dst = c->gpr[RDI];
    uint64_t f = fit_in_page(src, s);
    if (f < n) n = f;
    f = fit_in_page(dst, s);
    if (f < n) n = f;
    if (n < 2 || !canonical_la(src) || !canonical_la(dst))
        return 0;
    uintptr_t hs = fast_host(c, src, ACC_READ);
    uintptr_t hd = fast_host(c, dst, ACC_WRITE);
    if (!hs || !hd)
        return 0;

    size_t bytes = (size_t)n * s->size;
    uintptr_t lo_s = s->delta > 0 ? hs : hs - bytes + s->size;
    uintptr_t lo_d = s->delta > 0 ? hd : hd - bytes + s->size;
    /* Element-by-element copying equals one memmove unless the destination lies
     * ahead of the source in the direction of travel and overlaps it (then the
     * hardware replicates the first elements, as a byte-wise loop does). */
    bool replicate = s->delta > 0 ? (hd > hs && hd < hs + bytes) : (hd < hs && hd + bytes > hs);
    if (!replicate) {
        memmove((void *)lo_d, (const void *)lo_s, bytes);
    } else {
        for (uint64_t k = 0; k < n; k++)
            memmove((void *)(hd + (uintptr_t)((int64_t)k * s->delta)),
                    (const void *)(hs + (uintptr_t)((int64_t)k * s->delta)), s->size);
    }
    c->mmu->fast_hits[ACC_READ] += n;
    c->mmu->fast_hits[ACC_WRITE] += n;
    c->gpr[RSI] += (uint64_t)((int64_t)n * s->delta);
    c->gpr[RDI] += (uint64_t)((int64_t)n * s->delta);
    rep_retire(c, s, n, CYC_ITER_STORE);
    return n;
}

static uint64_t stos_bulk(struct cpu *c, const struct str_ctx *s, uint64_t max)
{
    uint64_t n = c->gpr[RCX] < max ? c->gpr[RCX] : max;
    uint64_t dst = c->gpr[RDI];
    uint64_t f = fit_in_page(dst, s);
    if (f < n) n = f;
    if (n < 2 || !canonical_la(dst))
        return 0;
    uintptr_t hd = fast_host(c, dst, ACC_WRITE);
    if (!hd)
        return 0;

    size_t bytes = (size_t)n * s->size;
    uintptr_t lo_d = s->delta > 0 ? hd : hd - bytes + s->size;
    uint64_t v = c->gpr[RAX];
    if (s->size == 1) {
        memset((void *)lo_d, (int)(v & 0xff), bytes);
    } else {
        for (uint64_t k = 0; k < n; k++)
            host_store(lo_d + k * s->size, v, s->size);
    }
    c->mmu->fast_hits[ACC_WRITE] += n;
    c->gpr[RDI] += (uint64_t)((int64_t)n * s->delta);
    rep_retire(c, s, n, CYC_ITER_STORE);
    return n;
}

/* ---- handlers ---- */

void h_movs(struct cpu *c, const struct insn *i)
{
    struct str_ctx s;
    str_ctx_init(&s, c, i);
    if (!has_rep(i)) {
        movs_step(c, &s);
        return;
    }
    /* REPNE MOVS repeats like REP: the ZF test applies to CMPS and SCAS only. */
    rep_addr32_zext(c, &s, true, true);
    rep_run(c, &s, movs_step, STOP_NEVER, CYC_ITER_STORE, bulk_ok(c, &s) ? movs_bulk : NULL);
}

void h_stos(struct cpu *c, const struct insn *i)
{
    struct str_ctx s;
    str_ctx_init(&s, c, i);
    if (!has_rep(i)) {
        stos_step(c, &s);
        return;
    }
    rep_addr32_zext(c, &s, false, true);
    rep_run(c, &s, stos_step, STOP_NEVER, CYC_ITER_STORE, bulk_ok(c, &s) ? stos_bulk : NULL);
}

void h_lods(struct cpu *c, const struct insn *i)
{
    struct str_ctx s;
    str_ctx_init(&s, c, i);
    if (!has_rep(i)) {
        lods_step(c, &s);
        return;
    }
    rep_addr32_zext(c, &s, false, false);
    rep_run(c, &s, lods_step, STOP_NEVER, CYC_ITER_LOAD, NULL);
}

/* F3 = REPE (stop when ZF = 0), F2 = REPNE (stop when ZF = 1). */
static enum rep_stop cmp_stop(const struct insn *i)
{
    return (i->pfx & PFX_REPNE) ? STOP_IF_EQ : STOP_IF_NE;
}

void h_cmps(struct cpu *c, const struct insn *i)
{
    struct str_ctx s;
    str_ctx_init(&s, c, i);
    if (!has_rep(i)) {
        cmps_step(c, &s);
        return;
    }
    rep_addr32_zext(c, &s, false, false);
    rep_run(c, &s, cmps_step, cmp_stop(i), CYC_ITER_LOAD, NULL);
}

void h_scas(struct cpu *c, const struct insn *i)
{
    struct str_ctx s;
    str_ctx_init(&s, c, i);
    if (!has_rep(i)) {
        scas_step(c, &s);
        return;
    }
    rep_addr32_zext(c, &s, false, false);
    rep_run(c, &s, scas_step, cmp_stop(i), CYC_ITER_LOAD, NULL);
}

/* INS/OUTS move at most 4 bytes per port access (a REX.W form is still a doubleword). */
static void io_ctx_init(struct str_ctx *s, const struct cpu *c, const struct insn *i)
{
    str_ctx_init(s, c, i);
    if (s->size == 8) {
        s->size = 4;
        s->delta = s->delta > 0 ? 4 : -4;
    }
}

/* The I/O permission check (cpu/io.h) is made once, before the first iteration: the
 * port (DX) and size do not change during a repeated INS/OUTS.  A REP form with a
 * zero count does no access and so is not checked. */
static void io_check(struct cpu *c, const struct insn *i, const struct str_ctx *s)
{
    if (has_rep(i) && (c->gpr[RCX] & s->amask) == 0)
        return;
    if (!cpu_io_allowed(c, (uint16_t)c->gpr[RDX], s->size))
        cpu_raise_gp0(c);
}

void h_ins(struct cpu *c, const struct insn *i)
{
    struct str_ctx s;
    io_ctx_init(&s, c, i);
    io_check(c, i, &s);
    if (!has_rep(i)) {
        ins_step(c, &s);
        return;
    }
    rep_addr32_zext(c, &s, false, false);
    rep_run(c, &s, ins_step, STOP_NEVER, CYC_ITER_IO, NULL);
}

void h_outs(struct cpu *c, const struct insn *i)
{
    struct str_ctx s;
    io_ctx_init(&s, c, i);
    io_check(c, i, &s);
    if (!has_rep(i)) {
        outs_step(c, &s);
        return;
    }
    rep_addr32_zext(c, &s, false, false);
    rep_run(c, &s, outs_step, STOP_NEVER, CYC_ITER_IO, NULL);
}
