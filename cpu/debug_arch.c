/* The x86 debug architecture: DR0-DR7, instruction, data and I/O breakpoints,
 * single-step, and the host debugger's breakpoints, watchpoints and steps.
 * See cpu/debug_arch.h; the rules cited are SDM Vol. 3A ch. 17 unless noted.
 *
 * The order of events around one instruction (SDM Vol. 3A Table 6-2):
 *   host breakpoint (the debugger sees the instruction before the guest does)
 *   instruction breakpoint: a fault, unless RF = 1 (17.3.1.1); then RF is cleared
 *   the instruction (its own faults, or the events it raises: INT n, INT3, ...)
 *   its traps as one #DB: single-step (BS), data and I/O breakpoints (B0-B3);
 *     after MOV SS / POP SS they wait for the next instruction (6.8.3)
 *   NMI, then maskable interrupts, at the boundary (cpu/exec.c)
 */
#include "cpu/debug_arch.h"

#include "cpu/cpu.h"
#include "cpu/exception.h"
#include "cpu/handlers.h"
#include "cpu/mem.h"
#include "mmu/mmu.h"

/* Bytes covered by a DR7 LEN encoding: 00 1, 01 2, 10 8 (in every mode on the
 * processors modelled: 17.2.4 note), 11 4. */
static const uint8_t len_bytes[4] = { 1, 2, 8, 4 };

/* ---- the per-instruction condition -------------------------------------------------- */

static bool host_active(const struct dbg_state *d)
{
    return d->host && (d->host->n_bp || d->host->n_wp);
}

/* Set c->per_insn from the current inputs; turning it on ends the running block so
 * that the next instruction is already checked. */
static void recompute(struct cpu *c)
{
    const struct dbg_state *d = &c->dbg;
    bool per = (c->rflags & (FL_TF | FL_RF)) || d->exec_mask || d->data_mask || d->io_mask ||
               host_active(d) || d->host_step || d->held || d->stop;
    if (per && !c->per_insn)
        c->attention |= ATTN_BLOCK_END;
    c->per_insn = per;
}

/* The linear pages the fast-lookup cache must not hold: those of enabled data
 * breakpoints and of host watchpoints, so that every access to them reaches
 * dbg_mem_access() through the slow path. */
static void update_nofast(struct cpu *c)
{
    struct dbg_state *d = &c->dbg;
    uint64_t pages[MMU_MAX_NOFAST];
    unsigned n = 0;
    for (unsigned k = 0; k < 4; k++)
        if (d->data_mask & (1u << k))
            pages[n++] = d->lo[k] & ~0xfffull;         /* aligned, <= 8 bytes: one page */
    if (d->host) {
        for (unsigned w = 0; w < d->host->n_wp; w++) {
            const struct dbg_host_wp *wp = &d->host->wp[w];
            for (uint64_t p = wp->la & ~0xfffull; p <= ((wp->la + wp->len - 1) & ~0xfffull); p += 0x1000) {
                if (n < MMU_MAX_NOFAST)
                    pages[n++] = p;
            }
        }
    }
    if (c->mmu)
        mmu_set_nofast_pages(c->mmu, pages, n);
}

void dbg_update(struct cpu *c)
{
    struct dbg_state *d = &c->dbg;
    uint64_t dr7 = c->dr[7];
    d->exec_mask = d->data_mask = d->io_mask = 0;
    for (unsigned n = 0; n < 4; n++) {
        if (!DR7_ENABLED(dr7, n))
            continue;
        uint64_t len = len_bytes[DR7_LEN(dr7, n)];
        switch (DR7_RW(dr7, n)) {
        case DR7_RW_EXEC:
            /* LEN must be 00 for an instruction breakpoint (17.2.5); the address is
             * that of the instruction's first byte. */
            d->exec_mask |= (uint8_t)(1u << n);
            len = 1;
            break;
        case DR7_RW_IO:
            /* 10 means I/O only with CR4.DE = 1; otherwise it is undefined: no match. */
            if (!(c->cr4 & CR4_DE))
                continue;
            d->io_mask |= (uint8_t)(1u << n);
            break;
        default:
            d->data_mask |= (uint8_t)(1u << n);
            break;
        }
        /* Data and I/O addresses are aligned to the length: the low bits are ignored. */
        d->lo[n] = c->dr[n] & ~(len - 1);
        d->len[n] = len;
    }
    d->watch = d->data_mask || (d->host && d->host->n_wp);
    update_nofast(c);
    recompute(c);
}

void dbg_reset(struct cpu *c)
{
    for (unsigned n = 0; n < 4; n++)
        c->dr[n] = 0;
    c->dr[4] = c->dr[5] = 0;
    c->dr[6] = DR6_INIT;
    c->dr[7] = DR7_INIT;
    struct dbg_state *d = &c->dbg;
    d->held = 0;
    d->hits = 0;
    d->resume_block = NULL;
    c->nmi_blocked = 0;
    dbg_update(c);
}

/* ---- MOV DR ------------------------------------------------------------------------- */

/* The checks every MOV DR makes, in the order Bochs takes them (the SDM lists the
 * exceptions without an order): CPL > 0 -> #GP(0) (real mode has CPL 0); DR7.GD ->
 * #DB with BD, a fault, before the instruction (17.2.4); DR4/DR5 with CR4.DE ->
 * #UD, else they alias DR6/DR7 (17.2.2).  Returns the register actually meant. */
static unsigned mov_dr_checks(struct cpu *c, unsigned n)
{
    if (n >= 8)
        cpu_raise_ud(c);                        /* DR8-DR15 (REX.R) */
    if (c->cpl != 0)
        cpu_raise_gp0(c);
    if (c->dr[7] & DR7_GD) {
        c->dr[6] |= DR6_BD;
        cpu_raise(c, EXC_DB, EXC_NO_ERROR);
    }
    if (n == 4 || n == 5) {
        if (c->cr4 & CR4_DE)
            cpu_raise_ud(c);
        n |= 2;                                 /* DR4 -> DR6, DR5 -> DR7 */
    }
    return n;
}

uint64_t dbg_read_dr(struct cpu *c, unsigned n)
{
    return c->dr[mov_dr_checks(c, n)];
}

void dbg_write_dr(struct cpu *c, unsigned n, uint64_t v)
{
    n = mov_dr_checks(c, n);
    if (n >= 6 && (v >> 32))
        cpu_raise_gp0(c);                       /* bits 63:32 of DR6 and DR7 must be 0 */
    if (n == 6)
        v = (v & DR6_WRITABLE) | DR6_FIXED1;
    else if (n == 7)
        v = (v & DR7_WRITABLE) | DR7_FIXED1;
    c->dr[n % 8] = v;                           /* (n < 8: GCC 12 cannot see it through the raises) */
    if (n != 6)
        dbg_update(c);
}

/* ---- around one instruction --------------------------------------------------------- */

static bool host_bp_at(const struct dbg_host *h, uint64_t la)
{
    for (unsigned k = 0; k < h->n_bp; k++)
        if (h->bp[k] == la)
            return true;
    return false;
}

bool dbg_insn_begin(struct cpu *c)
{
    struct dbg_state *d = &c->dbg;
    if (d->stop)
        return false;                   /* a watchpoint hit while an event was delivered */
    d->hits = 0;
    d->delivered = 0;
    uint64_t la = cpu_fetch_la(c);
    if (d->host && d->host->n_bp) {
        if (d->host_skip && d->host_skip_la == la) {
            d->host_skip = 0;           /* the debugger resumes from this breakpoint */
        } else if (host_bp_at(d->host, la)) {
            d->stop = DBG_STOP_BREAK;
            d->stop_addr = la;
            return false;
        }
    }
    d->host_skip = 0;
    if (d->exec_mask && !(c->rflags & FL_RF)) {
        uint64_t b = 0;
        for (unsigned n = 0; n < 4; n++)
            if ((d->exec_mask & (1u << n)) && d->lo[n] == la)
                b |= DR6_B(n);
        if (b) {
            /* An instruction breakpoint is a fault: RIP stays on the instruction and
             * the frame's RF is the current one, 0 (17.3.1.1). */
            c->dr[6] = (c->dr[6] & ~DR6_BMASK) | b;
            c->insn_rip = c->rip;
            d->code_bp_fault = 1;
            cpu_raise(c, EXC_DB, EXC_NO_ERROR);
        }
    }
    c->rflags &= ~(uint64_t)FL_RF;      /* "cleared at the start of the instruction after
                                         * the check for code breakpoint" (17.3.1.1) */
    d->tf_start = (c->rflags & FL_TF) != 0;
    d->shadow_start = c->intr_shadow;
    return true;
}

/* A SYSCALL whose SFMASK clears TF takes no single-step trap: the kernel is not
 * entered with a #DB (QEMU rechecks TF after SYSCALL and SYSRET; Linux has no
 * handling for such a trap).  Its counterpart, SYSRET restoring TF, traps at once
 * (dbg_sysret_trap).  Every other instruction traps when TF was set at its start,
 * so POPF or IRET setting TF trap only after the following instruction (17.3.1.4);
 * SYSENTER and SYSEXIT leave TF as it was. */
static bool tf_after_rule(const struct insn *i)
{
    return i->fn == h_syscall || i->fn == h_sysret;
}

static void deliver_trap(struct cpu *c, uint64_t dr6)
{
    /* B0-B3 report the breakpoints of this exception; BS, BD, BT are sticky (17.2.3). */
    if (dr6 & DR6_BMASK)
        c->dr[6] = (c->dr[6] & ~DR6_BMASK) | (dr6 & DR6_BMASK);
    c->dr[6] |= dr6 & (DR6_BD | DR6_BS | DR6_BT);
    c->insn_rip = c->rip;               /* a fault while delivering reports this boundary */
    cpu_interrupt(c, EXC_DB, INTR_DEBUG_TRAP);
}

void dbg_insn_end(struct cpu *c, const struct insn *i)
{
    struct dbg_state *d = &c->dbg;
    uint64_t dr6 = d->hits;
    d->hits = 0;
    /* An instruction that delivers an event (INT n, INT3, INTO, INT1) enters the
     * handler with TF clear; its own single-step trap is not taken (Bochs: "traps
     * will resume upon return"). */
    if (!d->delivered && (tf_after_rule(i) ? (c->rflags & FL_TF) != 0 : d->tf_start))
        dr6 |= DR6_BS;
    if ((c->intr_shadow & SHADOW_MOV_SS) && !(d->shadow_start & SHADOW_MOV_SS)) {
        d->held |= dr6;                 /* MOV SS / POP SS: after the next instruction */
        dr6 = 0;
    } else {
        dr6 |= d->held;
        d->held = 0;
    }
    if (d->host_step && !d->stop)
        d->stop = DBG_STOP_STEP;
    if (dr6)
        deliver_trap(c, dr6);
    recompute(c);
}

void dbg_sysret_trap(struct cpu *c)
{
    /* Linux arch/x86/entry/common.c: SYSRET "can restore TF, but unlike IRET,
     * restoring TF results in a trap from userspace immediately after SYSRET". */
    deliver_trap(c, DR6_BS);
}

bool dbg_after_fault(struct cpu *c)
{
    struct dbg_state *d = &c->dbg;
    if (d->host_step && !d->stop)
        d->stop = DBG_STOP_STEP;        /* a step that faults ends in the handler */
    recompute(c);
    return d->stop != DBG_STOP_NONE;
}

void dbg_note_delivery(struct cpu *c, int vector, bool fault)
{
    struct dbg_state *d = &c->dbg;
    d->delivered = 1;
    if (fault) {
        /* The instruction did not complete: its breakpoint matches and the traps
         * MOV SS held back are dropped (Bochs discards pending traps on an event). */
        d->hits = 0;
        d->held = 0;
    }
    if (vector == EXC_DB)
        c->dr[7] &= ~DR7_GD;            /* "cleared upon entering the debug exception
                                         * handler", so the handler may use MOV DR */
}

uint64_t dbg_take_delivery_hits(struct cpu *c, int vector)
{
    struct dbg_state *d = &c->dbg;
    uint64_t h = d->hits;
    d->hits = 0;
    /* Accesses of the #DB delivery itself are not reported again: hardware would
     * deliver #DB forever; the guest gets the first one. */
    return vector == EXC_DB ? 0 : h;
}

void dbg_trap_after_delivery(struct cpu *c, uint64_t dr6)
{
    deliver_trap(c, dr6);
}

/* ---- memory and I/O accesses -------------------------------------------------------- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

void dbg_mem_access(struct cpu *c, uint64_t la, unsigned size, bool write)
{
    struct dbg_state *d = &c->dbg;
    for (unsigned n = 0; n < 4; n++) {
        if (!(d->data_mask & (1u << n)))
            continue;
        /* R/W 01: writes only; 11: reads and writes, not fetches (17.2.4). */
        if (!write && DR7_RW(c->dr[7], n) == DR7_RW_WRITE)
            continue;
        if (overlaps(la, size, d->lo[n], d->len[n]))
            d->hits |= DR6_B(n);
    }
    const struct dbg_host *h = d->host;
    if (!h || d->stop)
        return;
    for (unsigned w = 0; w < h->n_wp; w++) {
        const struct dbg_host_wp *wp = &h->wp[w];
        bool kind_ok = write ? (wp->kind & DBG_WATCH_WRITE) : (wp->kind & DBG_WATCH_READ);
        if (kind_ok && overlaps(la, size, wp->la, wp->len)) {
            d->stop = DBG_STOP_WATCH;
            d->stop_kind = wp->kind;
            d->stop_addr = wp->la;
            return;
        }
    }
}

void dbg_io_access(struct cpu *c, uint16_t port, unsigned size)
{
    struct dbg_state *d = &c->dbg;
    for (unsigned n = 0; n < 4; n++)
        if ((d->io_mask & (1u << n)) && overlaps(port, size, d->lo[n] & 0xffff, d->len[n]))
            d->hits |= DR6_B(n);
}
