/* The HPET.  See devices/hpet.h. */
#include "devices/hpet.h"

#include <string.h>

static uint64_t raw_ticks(struct hpet *h)
{
    return pc_ratio_apply(h->tick, h->env.now(h->env.opaque));
}

static bool enabled(const struct hpet *h) { return h->config & HPET_CONF_ENABLE; }

bool hpet_legacy_route(const struct hpet *h)
{
    return (h->config & (HPET_CONF_ENABLE | HPET_CONF_LEGACY)) == (HPET_CONF_ENABLE | HPET_CONF_LEGACY);
}

uint64_t hpet_counter(struct hpet *h)
{
    return enabled(h) ? h->counter_offset + raw_ticks(h) : h->counter_frozen;
}

static bool is32(const struct hpet_timer *t) { return t->config & HPET_TN_32BIT; }

/* Where timer n's interrupt goes: ISA IRQ | 0x100 (legacy replacement, spec §2.3.9.2.2),
 * or an I/O APIC pin. */
static unsigned route(const struct hpet *h, unsigned n)
{
    if ((h->config & HPET_CONF_LEGACY) && n < 2)
        return 0x100 | (n == 0 ? 0 : 8);
    return (unsigned)(h->t[n].config >> HPET_TN_ROUTE_SHIFT) & 31;
}

static void drive(struct hpet *h, unsigned r, bool level)
{
    if (r & 0x100)
        h->env.set_isa_irq(h->env.opaque, r & 0xFF, level);
    else
        h->env.set_gsi(h->env.opaque, r, level);
}

static void lower_line(struct hpet *h, unsigned n)
{
    struct hpet_timer *t = &h->t[n];
    if (t->line) {
        t->line = false;
        drive(h, t->line_route, false);
    }
}

/* A comparator matched: interrupt per Tn_INT_TYPE_CNF (as QEMU's update_irq). */
static void raise(struct hpet *h, unsigned n)
{
    struct hpet_timer *t = &h->t[n];
    if (!(t->config & HPET_TN_ENABLE) || !enabled(h))
        return;
    unsigned r = route(h, n);
    if (t->config & HPET_TN_LEVEL) {
        h->isr |= 1ull << n;
        if (!t->line) {
            t->line = true;
            t->line_route = r;
            drive(h, r, true);
        }
    } else {
        drive(h, r, true);
        drive(h, r, false);
    }
}

/* Arm timer n for the next time the counter equals its comparator (after the
 * current tick: a comparator equal to the counter matches again after a wrap). */
static void arm(struct hpet *h, unsigned n)
{
    struct hpet_timer *t = &h->t[n];
    t->armed = false;
    uint64_t deadline = PC_NEVER;
    if (enabled(h)) {
        uint64_t raw = raw_ticks(h);
        uint64_t cnt = h->counter_offset + raw;
        uint64_t diff = is32(t) ? (uint32_t)((uint32_t)t->cmp - (uint32_t)cnt) : t->cmp - cnt;
        if (diff == 0)
            diff = is32(t) ? 1ull << 32 : UINT64_MAX;
        if (diff <= UINT64_MAX - raw) {
            t->match_raw = raw + diff;
            t->armed = true;
            deadline = pc_ratio_ceil_inverse(h->tick, t->match_raw);
        }
    }
    h->env.timer_arm(h->env.opaque, n, deadline);
}

void hpet_timer_event(struct hpet *h, unsigned n, uint64_t now)
{
    (void)now;
    struct hpet_timer *t = &h->t[n];
    if (!t->armed || raw_ticks(h) < t->match_raw) {
        arm(h, n);
        return;
    }
    raise(h, n);
    if ((t->config & HPET_TN_PERIODIC) && t->period) {
        /* The next multiple of the period after the counter (spec §2.3.9.2.2: the
         * comparator adds the last value written each time it matches). */
        uint64_t cnt = hpet_counter(h);
        uint64_t wrap_mask = is32(t) ? 0xFFFFFFFFull : UINT64_MAX;
        uint64_t period = t->period & wrap_mask;
        if (period) {
            uint64_t behind = (cnt - t->cmp) & wrap_mask;
            t->cmp = (t->cmp + (behind / period + 1) * period) & wrap_mask;
        }
    }
    arm(h, n);
}

void hpet_init(struct hpet *h, const struct pc_env *env)
{
    memset(h, 0, sizeof *h);
    h->env = *env;
    h->tick = pc_ratio_make(HPET_HZ, env->freq_hz);
    for (unsigned n = 0; n < HPET_TIMERS; n++) {
        struct hpet_timer *t = &h->t[n];
        t->config = HPET_TN_SIZE_CAP | (uint64_t)HPET_ROUTE_CAP << 32;
        if (n == 0)
            t->config |= HPET_TN_PER_CAP;
        t->cmp = UINT64_MAX;            /* spec: comparators reset to all ones */
    }
}

static uint64_t read_reg(struct hpet *h, uint64_t reg)
{
    switch (reg) {
    case HPET_GCAP_ID: return HPET_PERIOD_FS << 32 | HPET_ID;
    case HPET_GEN_CONF: return h->config;
    case HPET_GINTR_STA: return h->isr;
    case HPET_MAIN_CNT: h->reads++; return hpet_counter(h);
    }
    if (reg >= 0x100 && reg < 0x100 + 0x20 * HPET_TIMERS) {
        const struct hpet_timer *t = &h->t[(reg - 0x100) / 0x20];
        switch ((reg - 0x100) % 0x20) {
        case 0x00: return t->config;
        case 0x08: return is32(t) ? (uint32_t)t->cmp : t->cmp;
        default: return 0;              /* FSB route: not offered */
        }
    }
    return 0;
}

/* A write of 'val' to the bytes of 'mask' of the 64-bit register reg. */
static void write_reg(struct hpet *h, uint64_t reg, uint64_t val, uint64_t mask)
{
    if (reg == HPET_GEN_CONF) {
        uint64_t old = h->config;
        uint64_t v = ((old & ~mask) | (val & mask)) & (HPET_CONF_ENABLE | HPET_CONF_LEGACY);
        if ((old ^ v) & HPET_CONF_ENABLE) {
            uint64_t raw = raw_ticks(h);
            if (v & HPET_CONF_ENABLE)
                h->counter_offset = h->counter_frozen - raw;
            else
                h->counter_frozen = h->counter_offset + raw;
        }
        if ((old ^ v) & (HPET_CONF_LEGACY | HPET_CONF_ENABLE))
            for (unsigned n = 0; n < HPET_TIMERS; n++)
                lower_line(h, n);       /* the route changes: do not leave a line high */
        h->config = v;
        for (unsigned n = 0; n < HPET_TIMERS; n++)
            arm(h, n);
        return;
    }
    if (reg == HPET_GINTR_STA) {
        uint64_t clear = val & mask & h->isr;
        for (unsigned n = 0; n < HPET_TIMERS; n++)
            if (clear & (1ull << n)) {
                h->isr &= ~(1ull << n);
                lower_line(h, n);
            }
        return;
    }
    if (reg == HPET_MAIN_CNT) {
        uint64_t cur = hpet_counter(h);
        uint64_t v = (cur & ~mask) | (val & mask);
        if (enabled(h))
            h->counter_offset = v - raw_ticks(h);
        else
            h->counter_frozen = v;
        for (unsigned n = 0; n < HPET_TIMERS; n++)
            arm(h, n);
        return;
    }
    if (reg < 0x100 || reg >= 0x100 + 0x20 * HPET_TIMERS)
        return;
    unsigned n = (unsigned)(reg - 0x100) / 0x20;
    struct hpet_timer *t = &h->t[n];
    switch ((reg - 0x100) % 0x20) {
    case 0x00: {
        uint64_t writable = HPET_TN_LEVEL | HPET_TN_ENABLE | HPET_TN_VAL_SET | HPET_TN_32BIT
            | (31ull << HPET_TN_ROUTE_SHIFT);
        if (t->config & HPET_TN_PER_CAP)
            writable |= HPET_TN_PERIODIC;
        uint64_t v = (t->config & ~(mask & writable)) | (val & mask & writable);
        /* An I/O APIC pin outside INT_ROUTE_CAP is not taken: the route stays. */
        unsigned r = (unsigned)(v >> HPET_TN_ROUTE_SHIFT) & 31;
        if (!(HPET_ROUTE_CAP & (1u << r)))
            v = (v & ~(31ull << HPET_TN_ROUTE_SHIFT)) | (t->config & (31ull << HPET_TN_ROUTE_SHIFT));
        if ((v ^ t->config) & (HPET_TN_LEVEL | HPET_TN_ENABLE | (31ull << HPET_TN_ROUTE_SHIFT))) {
            lower_line(h, n);
            h->isr &= ~(1ull << n);
        }
        t->config = v;
        if (is32(t)) {                  /* 32-bit mode: the upper halves read 0 (QEMU) */
            t->cmp = (uint32_t)t->cmp;
            t->period = (uint32_t)t->period;
        }
        break;
    }
    case 0x08: {
        if (is32(t))
            mask &= 0xFFFFFFFFull;
        /* Periodic mode: a write sets the increment, and the comparator only with
         * VAL_SET (spec §2.3.9.2.2; QEMU's hpet_ram_write). */
        bool periodic = t->config & HPET_TN_PERIODIC;
        if (!periodic || (t->config & HPET_TN_VAL_SET))
            t->cmp = (t->cmp & ~mask) | (val & mask);
        if (periodic)
            t->period = (t->period & ~mask) | (val & mask);
        t->config &= ~(uint64_t)HPET_TN_VAL_SET;
        break;
    }
    default:
        return;
    }
    arm(h, n);
}

uint64_t hpet_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct hpet *h = opaque;
    unsigned shift = (unsigned)(offset & 7) * 8;
    uint64_t v = read_reg(h, offset & ~7ull) >> shift;
    return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void hpet_mmio_write(void *opaque, uint64_t offset, uint64_t val, unsigned size)
{
    struct hpet *h = opaque;
    unsigned shift = (unsigned)(offset & 7) * 8;
    uint64_t mask = size >= 8 ? UINT64_MAX : ((1ull << (8 * size)) - 1) << shift;
    write_reg(h, offset & ~7ull, val << shift, mask);
}
