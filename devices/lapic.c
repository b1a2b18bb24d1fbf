/* The local APIC: registers, priorities, EOI and the timer.  See devices/lapic.h.
 * Section numbers are SDM Vol. 3A chapter 11 unless noted.
 */
#include "devices/lapic.h"

#include <string.h>

#define NEVER UINT64_MAX

/* Version register: version 0x14 (integrated APIC), max LVT entry 6 (CMCI at index
 * 6: 7 entries), bit 24: EOI-broadcast suppression supported (11.4.8, Fig. 11-7). */
#define LAPIC_VERSION (0x14u | ((LVT_COUNT - 1u) << 16) | (1u << 24))

/* Writable bits of each LVT entry (Fig. 11-8): vector, delivery mode, polarity,
 * trigger, mask; the timer has its mode bits instead of delivery mode. */
static const uint32_t lvt_writable[LVT_COUNT] = {
    [LVT_TIMER]   = 0xffu | LVT_MASKED | LVT_TIMER_MODE_MASK,
    [LVT_THERMAL] = 0xffu | (7u << 8) | LVT_MASKED,
    [LVT_PERF]    = 0xffu | (7u << 8) | LVT_MASKED,
    [LVT_LINT0]   = 0xffu | (7u << 8) | (1u << 13) | LVT_LEVEL | LVT_MASKED,
    [LVT_LINT1]   = 0xffu | (7u << 8) | (1u << 13) | LVT_LEVEL | LVT_MASKED,
    [LVT_ERROR]   = 0xffu | LVT_MASKED,
    [LVT_CMCI]    = 0xffu | (7u << 8) | LVT_MASKED,
};

static inline bool bit_test(const uint32_t *v, unsigned n) { return (v[n >> 5] >> (n & 31)) & 1; }
static inline void bit_set(uint32_t *v, unsigned n) { v[n >> 5] |= 1u << (n & 31); }
static inline void bit_clear(uint32_t *v, unsigned n) { v[n >> 5] &= ~(1u << (n & 31)); }

/* Highest set bit of a 256-bit register, or -1. */
static int highest(const uint32_t *v)
{
    for (int w = 7; w >= 0; w--)
        if (v[w])
            return w * 32 + 31 - __builtin_clz(v[w]);
    return -1;
}

static uint64_t now(const struct lapic *l) { return l->ops && l->ops->now ? l->ops->now(l->opaque, l->vp) : 0; }

static void kick(struct lapic *l)
{
    if (l->ops && l->ops->kick)
        l->ops->kick(l->opaque, l->vp);
}

static void arm(struct lapic *l, uint64_t deadline)
{
    l->timer_deadline = deadline;
    if (l->ops && l->ops->timer_arm)
        l->ops->timer_arm(l->opaque, l->vp, deadline);
}

/* x2APIC logical ID derived from the x2APIC ID (11.12.10.2): cluster in 31:16,
 * one bit of 16 in 15:0. */
static uint32_t x2apic_ldr(uint32_t id) { return ((id >> 4) << 16) | (1u << (id & 0xf)); }

static void reset_common(struct lapic *l)
{
    l->tpr = 0;
    l->ldr = 0;
    l->dfr = 0xffffffffu;           /* flat model */
    l->svr = 0xff;                  /* software-disabled, spurious vector FF */
    l->esr = l->esr_pending = 0;
    l->icr_lo = l->icr_hi = 0;
    for (unsigned i = 0; i < LVT_COUNT; i++)
        l->lvt[i] = LVT_MASKED;
    memset(l->irr, 0, sizeof l->irr);
    memset(l->isr, 0, sizeof l->isr);
    memset(l->tmr, 0, sizeof l->tmr);
    l->timer_icr = 0;
    l->timer_dcr = 0;
    l->timer_start = 0;
    l->tsc_deadline = 0;
    l->nmi_pending = false;
    arm(l, NEVER);
    if (lapic_x2apic(l))
        l->ldr = x2apic_ldr(l->id);
}

void lapic_init(struct lapic *l, unsigned vp, uint64_t base_msr, const struct lapic_ops *ops, void *opaque)
{
    memset(l, 0, sizeof *l);
    l->vp = vp;
    l->id = vp;
    l->base_msr = base_msr;
    l->ops = ops;
    l->opaque = opaque;
    reset_common(l);
}

void lapic_init_ipi_reset(struct lapic *l)
{
    reset_common(l);
}

void lapic_set_base(struct lapic *l, uint64_t base_msr)
{
    bool was_en = lapic_hw_enabled(l), was_x2 = lapic_x2apic(l);
    l->base_msr = base_msr;
    if (was_en && !lapic_hw_enabled(l)) {
        /* Global disable: the APIC returns to its power-on state (11.4.3). */
        reset_common(l);
    } else if (!was_x2 && lapic_x2apic(l)) {
        l->ldr = x2apic_ldr(l->id);     /* LDR becomes read-only, derived (11.12.10.2) */
    } else if (was_x2 && !lapic_x2apic(l)) {
        reset_common(l);
    }
}

/* --- priorities (11.8.3.1) ----------------------------------------------------- */

uint32_t lapic_ppr(const struct lapic *l)
{
    int isrv = highest(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

int lapic_pending_vector(const struct lapic *l)
{
    if (!lapic_hw_enabled(l))
        return -1;
    int v = highest(l->irr);
    if (v < 0)
        return -1;
    if (((uint32_t)v & 0xf0) <= (lapic_ppr(l) & 0xf0))
        return -1;
    return v;
}

int lapic_ack(struct lapic *l)
{
    int v = lapic_pending_vector(l);
    if (v < 0)
        return -1;
    bit_clear(l->irr, (unsigned)v);
    bit_set(l->isr, (unsigned)v);
    return v;
}

static void set_tpr(struct lapic *l, uint32_t v)
{
    uint32_t old = l->tpr;
    l->tpr = v & 0xff;
    if (l->tpr < old)
        kick(l);        /* lowering the TPR may unmask a pending vector */
}

void lapic_set_cr8(struct lapic *l, uint64_t cr8) { set_tpr(l, (uint32_t)(cr8 & 0xf) << 4); }
uint64_t lapic_get_cr8(const struct lapic *l) { return (l->tpr >> 4) & 0xf; }

/* --- acceptance ---------------------------------------------------------------- */

static void error(struct lapic *l, uint32_t esr_bit)
{
    l->esr_pending |= esr_bit;
    uint32_t lvt = l->lvt[LVT_ERROR];
    if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16) {
        bit_set(l->irr, lvt & 0xff);
        bit_clear(l->tmr, lvt & 0xff);
        kick(l);
    }
}

void lapic_accept_fixed(struct lapic *l, uint8_t vector, bool level_trig)
{
    if (!lapic_hw_enabled(l) || !lapic_sw_enabled(l))
        return;         /* a software-disabled APIC holds no new fixed interrupts (KVM does the same) */
    if (vector < 16) {
        error(l, ESR_RECV_ILLEGAL);     /* vectors 0-15 are illegal (11.5.2) */
        return;
    }
    bit_set(l->irr, vector);
    if (level_trig)
        bit_set(l->tmr, vector);
    else
        bit_clear(l->tmr, vector);
    kick(l);
}

void lapic_accept_nmi(struct lapic *l)
{
    if (!lapic_hw_enabled(l))
        return;
    l->nmi_pending = true;
    kick(l);
}

static void eoi(struct lapic *l)
{
    int v = highest(l->isr);
    if (v < 0)
        return;
    bit_clear(l->isr, (unsigned)v);
    if (bit_test(l->tmr, (unsigned)v)) {
        bit_clear(l->tmr, (unsigned)v);
        if (!(l->svr & SVR_SUPPRESS_EOI) && l->ops && l->ops->eoi_broadcast)
            l->ops->eoi_broadcast(l->opaque, (uint8_t)v);
    }
    kick(l);
}

/* --- the timer (11.5.4) -------------------------------------------------------- */

static unsigned timer_shift(const struct lapic *l)
{
    /* DCR bits 3,1:0: 000 = /2 ... 110 = /128, 111 = /1 (Fig. 11-10). */
    unsigned v = ((l->timer_dcr >> 1) & 4) | (l->timer_dcr & 3);
    return (v + 1) & 7;
}

static uint32_t timer_mode(const struct lapic *l) { return l->lvt[LVT_TIMER] & LVT_TIMER_MODE_MASK; }

/* The shortest periodic period in cycles.  A guest asking for a 1-cycle period
 * would make every scheduler quantum one cycle long; KVM clamps periodic timers
 * for the same reason (its min_timer_period_us, 200 us).  Ours is far below any
 * period a real OS programs, so no guest we run notices. */
#define LAPIC_MIN_PERIOD 256u

static void timer_start_count(struct lapic *l, uint64_t t)
{
    l->timer_start = t;
    if (l->timer_icr == 0 || timer_mode(l) == LVT_TIMER_TSCDL) {
        arm(l, NEVER);
        return;
    }
    uint64_t period = (uint64_t)l->timer_icr << timer_shift(l);
    if (timer_mode(l) == LVT_TIMER_PERIODIC && period < LAPIC_MIN_PERIOD)
        period = LAPIC_MIN_PERIOD;
    arm(l, t + period);
}

static uint32_t timer_current(const struct lapic *l)
{
    if (timer_mode(l) == LVT_TIMER_TSCDL || l->timer_deadline == NEVER)
        return 0;
    uint64_t t = now(l);
    if (t >= l->timer_deadline)
        return 0;
    uint64_t left = (l->timer_deadline - t + (1ull << timer_shift(l)) - 1) >> timer_shift(l);
    return left < l->timer_icr ? (uint32_t)left : l->timer_icr;     /* a stretched period */
}

static uint64_t tsc_offset(const struct lapic *l)
{
    return l->ops && l->ops->tsc_offset ? l->ops->tsc_offset(l->opaque, l->vp) : 0;
}

static void tsc_deadline_arm(struct lapic *l)
{
    if (timer_mode(l) != LVT_TIMER_TSCDL || l->tsc_deadline == 0) {
        if (timer_mode(l) == LVT_TIMER_TSCDL)
            arm(l, NEVER);
        return;
    }
    /* TSC = cycles + offset: the deadline in cycles (a past deadline fires at once). */
    uint64_t off = tsc_offset(l), t = now(l);
    uint64_t cyc = l->tsc_deadline - off;
    if (l->tsc_deadline < off || cyc < t)
        cyc = t;
    arm(l, cyc);
}

void lapic_timer_expired(struct lapic *l, uint64_t t)
{
    if (l->timer_deadline == NEVER || t < l->timer_deadline)
        return;
    uint64_t due = l->timer_deadline;
    arm(l, NEVER);
    uint32_t lvt = l->lvt[LVT_TIMER];
    switch (timer_mode(l)) {
    case LVT_TIMER_PERIODIC:
        /* The next period starts where this one ended, not when we noticed. */
        timer_start_count(l, due);
        break;
    case LVT_TIMER_TSCDL:
        l->tsc_deadline = 0;        /* reads 0 once it has fired (11.5.4.1) */
        break;
    default:
        break;
    }
    if (!(lvt & LVT_MASKED) && lapic_sw_enabled(l))
        lapic_accept_fixed(l, lvt & 0xff, false);
}

/* --- ICR ----------------------------------------------------------------------- */

static void send_ipi(struct lapic *l, uint32_t lo, uint32_t dest, bool x2)
{
    struct apic_msg m = {
        .vector = (uint8_t)lo,
        .mode = (lo >> 8) & 7,
        .logical = (lo >> 11) & 1,
        .assert = (lo >> 14) & 1,
        .level_trig = (lo >> 15) & 1,
        .shorthand = (lo >> 18) & 3,
        .dest = dest,
        .x2apic_format = x2,
    };
    if (x2)
        m.assert = true;            /* no level bit in x2APIC mode: INIT always asserts */
    if ((m.mode == APIC_DM_FIXED || m.mode == APIC_DM_LOWEST) && m.vector < 16) {
        error(l, ESR_SEND_ILLEGAL);
        return;
    }
    if (m.mode == APIC_DM_FIXED || m.mode == APIC_DM_LOWEST)
        m.level_trig = false;       /* IPIs are edge-triggered */
    if (l->ops && l->ops->send)
        l->ops->send(l->opaque, l->vp, &m);
}

/* --- register access (common to xAPIC and x2APIC) ------------------------------ */

/* Read register at offset (16-byte aligned); false if there is none. */
static bool reg_read(struct lapic *l, unsigned off, uint32_t *v)
{
    if (off >= LAPIC_ISR && off < LAPIC_ISR + 0x80) { *v = l->isr[(off - LAPIC_ISR) >> 4]; return true; }
    if (off >= LAPIC_TMR && off < LAPIC_TMR + 0x80) { *v = l->tmr[(off - LAPIC_TMR) >> 4]; return true; }
    if (off >= LAPIC_IRR && off < LAPIC_IRR + 0x80) { *v = l->irr[(off - LAPIC_IRR) >> 4]; return true; }
    switch (off) {
    case LAPIC_ID:      *v = lapic_x2apic(l) ? l->id : l->id << 24; return true;
    case LAPIC_VER:     *v = LAPIC_VERSION; return true;
    case LAPIC_TPR:     *v = l->tpr; return true;
    case LAPIC_APR:     *v = 0; return true;
    case LAPIC_PPR:     *v = lapic_ppr(l); return true;
    case LAPIC_LDR:     *v = l->ldr; return true;
    case LAPIC_DFR:     *v = l->dfr; return true;
    case LAPIC_SVR:     *v = l->svr; return true;
    case LAPIC_ESR:     *v = l->esr; return true;
    case LAPIC_ICR_LO:  *v = l->icr_lo & ~(1u << 12); return true;   /* delivery is instant: idle */
    case LAPIC_ICR_HI:  *v = l->icr_hi; return true;
    case LAPIC_LVT_TIMER: *v = l->lvt[LVT_TIMER]; return true;
    case LAPIC_LVT_THERMAL: *v = l->lvt[LVT_THERMAL]; return true;
    case LAPIC_LVT_PERF: *v = l->lvt[LVT_PERF]; return true;
    case LAPIC_LVT_LINT0: *v = l->lvt[LVT_LINT0]; return true;
    case LAPIC_LVT_LINT1: *v = l->lvt[LVT_LINT1]; return true;
    case LAPIC_LVT_ERROR: *v = l->lvt[LVT_ERROR]; return true;
    case LAPIC_LVT_CMCI: *v = l->lvt[LVT_CMCI]; return true;
    case LAPIC_TIMER_ICR: *v = l->timer_icr; return true;
    case LAPIC_TIMER_CCR: *v = timer_current(l); return true;
    case LAPIC_TIMER_DCR: *v = l->timer_dcr; return true;
    case LAPIC_EOI:     *v = 0; return true;
    default:            return false;
    }
}

static void write_lvt(struct lapic *l, unsigned i, uint32_t v)
{
    uint32_t old = l->lvt[i];
    v &= lvt_writable[i];
    if (!lapic_sw_enabled(l))
        v |= LVT_MASKED;            /* masks cannot be cleared while software-disabled (11.4.7.2) */
    l->lvt[i] = v | (old & LVT_REMOTE_IRR);
    if (i == LVT_TIMER && ((old ^ v) & LVT_TIMER_MODE_MASK)) {
        /* A mode change stops the timer (11.5.4.1: switching to/from TSC-deadline disarms). */
        if (timer_mode(l) == LVT_TIMER_TSCDL || (old & LVT_TIMER_MODE_MASK) == LVT_TIMER_TSCDL) {
            l->timer_icr = 0;
            l->tsc_deadline = 0;
            arm(l, NEVER);
        }
    }
}

/* Write register; false if it is read-only or absent (x2APIC: #GP). */
static bool reg_write(struct lapic *l, unsigned off, uint32_t v)
{
    bool x2 = lapic_x2apic(l);
    switch (off) {
    case LAPIC_ID:
        if (x2)
            return false;
        l->id = v >> 24;            /* writable in xAPIC mode (11.4.6) */
        return true;
    case LAPIC_TPR:     set_tpr(l, v); return true;
    case LAPIC_EOI:     eoi(l); return true;
    case LAPIC_LDR:
        if (x2)
            return false;
        l->ldr = v & 0xff000000u;
        return true;
    case LAPIC_DFR:
        if (x2)
            return false;
        l->dfr = v | 0x0fffffffu;
        return true;
    case LAPIC_SVR: {
        l->svr = v & (0xffu | SVR_APIC_ENABLED | SVR_SUPPRESS_EOI);
        if (!lapic_sw_enabled(l))
            for (unsigned i = 0; i < LVT_COUNT; i++)
                l->lvt[i] |= LVT_MASKED;    /* software disable masks every LVT entry */
        else
            kick(l);
        return true;
    }
    case LAPIC_ESR:
        /* A write latches the errors seen since the last write (11.5.3). */
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        return true;
    case LAPIC_ICR_LO:
        l->icr_lo = v & 0x000cdfffu;
        send_ipi(l, l->icr_lo, l->icr_hi >> 24, false);
        return true;
    case LAPIC_ICR_HI:
        if (x2)
            return false;
        l->icr_hi = v & 0xff000000u;
        return true;
    case LAPIC_LVT_TIMER: write_lvt(l, LVT_TIMER, v); return true;
    case LAPIC_LVT_THERMAL: write_lvt(l, LVT_THERMAL, v); return true;
    case LAPIC_LVT_PERF: write_lvt(l, LVT_PERF, v); return true;
    case LAPIC_LVT_LINT0: write_lvt(l, LVT_LINT0, v); return true;
    case LAPIC_LVT_LINT1: write_lvt(l, LVT_LINT1, v); return true;
    case LAPIC_LVT_ERROR: write_lvt(l, LVT_ERROR, v); return true;
    case LAPIC_LVT_CMCI: write_lvt(l, LVT_CMCI, v); return true;
    case LAPIC_TIMER_ICR:
        if (timer_mode(l) == LVT_TIMER_TSCDL)
            return true;            /* ignored in TSC-deadline mode */
        l->timer_icr = v;
        timer_start_count(l, now(l));
        return true;
    case LAPIC_TIMER_DCR:
        l->timer_dcr = v & 0xb;
        return true;
    case LAPIC_SELF_IPI:
        if (!x2)
            return false;
        send_ipi(l, (v & 0xff) | (APIC_SH_SELF << 18), 0, true);
        return true;
    default:
        /* Read-only registers: xAPIC ignores the write, x2APIC raises #GP. */
        return !x2 && off < LAPIC_MMIO_SIZE;
    }
}

/* --- xAPIC MMIO ---------------------------------------------------------------- */

uint64_t lapic_mmio_read(struct lapic *l, uint64_t offset, unsigned size)
{
    uint32_t v = 0;
    unsigned reg = (unsigned)offset & 0xff0;
    if (lapic_x2apic(l) || !reg_read(l, reg, &v))
        v = 0;
    unsigned shift = 8 * ((unsigned)offset & 0xf);
    if (shift >= 32)
        return 0;                   /* bytes 4-15 of each register are reserved */
    uint64_t r = (uint64_t)v >> shift;
    return size >= 8 ? r : r & ((1ull << (8 * size)) - 1);
}

void lapic_mmio_write(struct lapic *l, uint64_t offset, uint64_t val, unsigned size)
{
    /* Only aligned 32-bit (or wider) writes reach a register: 11.4.1 says the other
     * forms are undefined; we drop them. */
    if ((offset & 0xf) || size < 4 || lapic_x2apic(l))
        return;
    reg_write(l, (unsigned)offset & 0xff0, (uint32_t)val);
}

/* --- x2APIC MSRs (11.12.1.2) and IA32_TSC_DEADLINE ----------------------------- */

bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val)
{
    if (msr == MSR_IA32_TSC_DEADLINE) {
        *val = timer_mode(l) == LVT_TIMER_TSCDL ? l->tsc_deadline : 0;
        return true;
    }
    if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_x2apic(l))
        return false;
    unsigned off = (msr - MSR_X2APIC_FIRST) << 4;
    if (off == LAPIC_ICR_LO) {
        *val = ((uint64_t)l->icr_hi << 32) | (l->icr_lo & ~(1u << 12));
        return true;
    }
    /* Write-only or absent in x2APIC mode: EOI, SELF IPI, DFR, ICR high, APR, RRD. */
    if (off == LAPIC_EOI || off == LAPIC_SELF_IPI || off == LAPIC_DFR || off == LAPIC_ICR_HI
        || off == LAPIC_APR || off == LAPIC_RRD)
        return false;
    uint32_t v;
    if (!reg_read(l, off, &v))
        return false;
    *val = v;
    return true;
}

bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val)
{
    if (msr == MSR_IA32_TSC_DEADLINE) {
        l->tsc_deadline = val;      /* stored in any mode; acts only in TSC-deadline mode */
        if (timer_mode(l) == LVT_TIMER_TSCDL)
            tsc_deadline_arm(l);
        return true;
    }
    if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST || !lapic_x2apic(l))
        return false;
    unsigned off = (msr - MSR_X2APIC_FIRST) << 4;
    if (off == LAPIC_ICR_LO) {
        /* One 64-bit write sends: destination in 63:32 (11.12.9). */
        if (val & 0xfff32000ull & 0xffffffffull)
            return false;       /* reserved bits of the low half */
        l->icr_hi = (uint32_t)(val >> 32);
        l->icr_lo = (uint32_t)val & 0x000cdfffu;
        send_ipi(l, l->icr_lo, l->icr_hi, true);
        return true;
    }
    if (val >> 32)
        return false;           /* every other x2APIC register is 32 bits */
    if (off == LAPIC_EOI && val != 0)
        return false;           /* non-zero EOI write: #GP (11.12.1.2) */
    if (off == LAPIC_TPR && (val & ~0xffull))
        return false;
    if (off == LAPIC_SELF_IPI && (val & ~0xffull))
        return false;
    return reg_write(l, off, (uint32_t)val);
}

/* --- destinations (11.6.2) ----------------------------------------------------- */

bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical, bool x2apic_format)
{
    if (lapic_x2apic(l) || x2apic_format) {
        if (dest == 0xffffffffu)
            return true;                    /* broadcast */
        if (!logical)
            return l->id == dest;
        uint32_t ldr = lapic_x2apic(l) ? l->ldr : x2apic_ldr(l->id);
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff) != 0;
    }
    dest &= 0xff;
    if (!logical)
        return dest == 0xff || (l->id & 0xff) == dest;
    uint32_t ldr = l->ldr >> 24;
    if ((l->dfr >> 28) == 0xf)
        return (ldr & dest) != 0;           /* flat model: 8-bit mask */
    /* Cluster model: cluster in 7:4 (15 = all clusters), member bits in 3:0. */
    if ((dest >> 4) != 0xf && (dest >> 4) != (ldr >> 4))
        return false;
    return (dest & ldr & 0xf) != 0;
}
