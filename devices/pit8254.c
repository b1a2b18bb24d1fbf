/* The 8254 PIT.  See devices/pit8254.h. */
#include "devices/pit8254.h"
#include "devices/io.h"

#include <string.h>

static uint64_t now_tick(struct pit8254 *pit)
{
    return pc_ratio_apply(pit->tick, pit->env.now(pit->env.opaque));
}

/* Ticks counted since the count was loaded; a counter without a count or (modes 0,
 * 2, 3, 4) with its gate low is not counting: we model that for gate 2 only by
 * restarting on the rising edge, as QEMU does. */
static uint64_t elapsed(struct pit8254 *pit, struct pit_channel *c)
{
    uint64_t t = now_tick(pit);
    return t > c->load_tick ? t - c->load_tick : 0;
}

/* The counting element now (datasheet "Mode definitions"): modes 0, 1, 4, 5 count
 * down once and wrap through 0xFFFF; mode 2 reloads N at 1; mode 3 decrements by 2
 * and reloads every half period (the reading sweeps N..2 twice per period). */
static uint16_t count_now(struct pit8254 *pit, struct pit_channel *c)
{
    if (!c->loaded)
        return 0;
    uint64_t d = elapsed(pit, c);
    uint64_t n = c->count;
    switch (c->mode) {
    case 2:
        return (uint16_t)(n - d % n);
    case 3:
        return (uint16_t)(n - (2 * d) % n);
    default:
        return (uint16_t)((n - d) & 0xFFFF);
    }
}

static bool out_now(struct pit8254 *pit, struct pit_channel *c)
{
    if (!c->loaded)
        return c->mode != 0;        /* after a control word: mode 0 low, others high */
    uint64_t d = elapsed(pit, c);
    uint64_t n = c->count;
    switch (c->mode) {
    case 0: case 1:
        return d >= n;              /* goes high at terminal count and stays */
    case 2:
        return !c->gate || d % n != n - 1;     /* low for the one clock at count 1 */
    case 3:
        return !c->gate || d % n < (n + 1) / 2; /* high the first half (odd N: one more) */
    default:                        /* 4, 5: a one-clock low strobe at terminal count */
        return d != n;
    }
}

/* Tick of counter 0's next rising OUT edge strictly after tick t, or PC_NEVER. */
static uint64_t next_edge(struct pit_channel *c, uint64_t t)
{
    if (!c->loaded || !c->gate)
        return PC_NEVER;
    uint64_t n = c->count;
    uint64_t d = t > c->load_tick ? t - c->load_tick : 0;
    switch (c->mode) {
    case 0: case 1:
        return d < n ? c->load_tick + n : PC_NEVER;
    case 2: case 3:                 /* OUT rises at d = k*N (mode 2: end of the low clock) */
        return c->load_tick + (d / n + 1) * n;
    default:
        return PC_NEVER;            /* modes 4/5 strobe low: no rising edge to raise IRQ 0 on */
    }
}

static void rearm_irq0(struct pit8254 *pit)
{
    uint64_t edge = pit->irq0_enabled ? next_edge(&pit->ch[0], now_tick(pit)) : PC_NEVER;
    pit->irq0_next_tick = edge;
    pit->env.timer_arm(pit->env.opaque, 0,
                       edge == PC_NEVER ? PC_NEVER : pc_ratio_ceil_inverse(pit->tick, edge));
}

void pit_init(struct pit8254 *pit, const struct pc_env *env)
{
    memset(pit, 0, sizeof *pit);
    pit->env = *env;
    pit->tick = pc_ratio_make(PIT_HZ, env->freq_hz);
    for (unsigned i = 0; i < 3; i++) {
        pit->ch[i].mode = 3;
        pit->ch[i].rw = 3;
        pit->ch[i].gate = i != 2;   /* gates 0 and 1 are tied high on the PC */
        pit->ch[i].count = 0x10000;
    }
    pit->irq0_next_tick = PC_NEVER;
    pit->irq0_enabled = true;
}

void pit_timer_event(struct pit8254 *pit, unsigned which, uint64_t now)
{
    (void)which;
    (void)now;
    if (pit->irq0_next_tick != PC_NEVER && now_tick(pit) >= pit->irq0_next_tick && pit->irq0_enabled) {
        pit->irq0_count++;
        pit->env.set_isa_irq(pit->env.opaque, PIT_IRQ, true);      /* an edge */
        pit->env.set_isa_irq(pit->env.opaque, PIT_IRQ, false);
    }
    rearm_irq0(pit);
}

void pit_set_irq0_enabled(struct pit8254 *pit, bool enabled)
{
    pit->irq0_enabled = enabled;
    rearm_irq0(pit);
}

uint16_t pit_count(struct pit8254 *pit, unsigned ch) { return count_now(pit, &pit->ch[ch]); }
bool pit_out(struct pit8254 *pit, unsigned ch) { return out_now(pit, &pit->ch[ch]); }

static uint8_t status_byte(struct pit8254 *pit, struct pit_channel *c)
{
    /* Read-back status (datasheet fig. 10): OUT, NULL COUNT, RW1 RW0, M2 M1 M0, BCD. */
    return (uint8_t)((out_now(pit, c) ? 0x80 : 0) | (c->loaded ? 0 : 0x40)
                     | c->rw << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
}

static void latch_count(struct pit8254 *pit, struct pit_channel *c)
{
    if (c->latched_bytes)
        return;                     /* a second latch before the read is ignored */
    c->latched_count = count_now(pit, c);
    c->latched_bytes = c->rw == 3 ? 2 : 1;
}

static void control_word(struct pit8254 *pit, uint8_t v)
{
    unsigned sc = v >> 6;
    if (sc == 3) {                  /* read-back: bit 5 = !COUNT, bit 4 = !STATUS */
        for (unsigned i = 0; i < 3; i++) {
            if (!(v & (2u << i)))
                continue;
            struct pit_channel *c = &pit->ch[i];
            if (!(v & 0x20))
                latch_count(pit, c);
            if (!(v & 0x10) && !c->status_latched) {
                c->latched_status = status_byte(pit, c);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &pit->ch[sc];
    unsigned rw = (v >> 4) & 3;
    if (rw == 0) {
        latch_count(pit, c);
        return;
    }
    c->rw = (uint8_t)rw;
    c->mode = (v >> 1) & 7;
    if (c->mode > 5)
        c->mode -= 4;               /* 6 and 7 are aliases of 2 and 3 */
    c->bcd = v & 1;
    c->loaded = false;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->latched_bytes = 0;
    c->status_latched = false;
    if (sc == 0)
        rearm_irq0(pit);
}

static void load(struct pit8254 *pit, unsigned i, uint32_t value)
{
    struct pit_channel *c = &pit->ch[i];
    c->count = value ? value : 0x10000;
    c->load_tick = now_tick(pit);
    c->loaded = true;
    if (i == 0)
        rearm_irq0(pit);
}

static void data_write(struct pit8254 *pit, unsigned i, uint8_t v)
{
    struct pit_channel *c = &pit->ch[i];
    switch (c->rw) {
    case 1: load(pit, i, v); break;
    case 2: load(pit, i, (uint32_t)v << 8); break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = v;
            c->write_msb_next = true;
        } else {
            c->write_msb_next = false;
            load(pit, i, c->write_lsb | (uint32_t)v << 8);
        }
    }
}

static uint8_t data_read(struct pit8254 *pit, unsigned i)
{
    struct pit_channel *c = &pit->ch[i];
    if (c->status_latched) {
        c->status_latched = false;
        return c->latched_status;
    }
    if (c->latched_bytes) {
        uint8_t b;
        if (c->rw == 2)
            b = (uint8_t)(c->latched_count >> 8);
        else if (c->rw == 1 || c->latched_bytes == 2)
            b = (uint8_t)c->latched_count;
        else
            b = (uint8_t)(c->latched_count >> 8);
        c->latched_bytes--;
        return b;
    }
    uint16_t n = count_now(pit, c);
    switch (c->rw) {
    case 1: return (uint8_t)n;
    case 2: return (uint8_t)(n >> 8);
    default:
        c->read_msb_next = !c->read_msb_next;
        return c->read_msb_next ? (uint8_t)n : (uint8_t)(n >> 8);
    }
}

uint32_t pit_read(void *opaque, uint16_t offset, unsigned size)
{
    (void)size;
    struct pit8254 *pit = opaque;
    return offset < 3 ? data_read(pit, offset) : 0xFF;     /* the control port is write-only */
}

void pit_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    (void)size;
    struct pit8254 *pit = opaque;
    if (offset == 3)
        control_word(pit, (uint8_t)val);
    else
        data_write(pit, offset, (uint8_t)val);
}

/* Port 0x61 (PC AT system control port B): bit 0 timer 2 gate, bit 1 speaker data,
 * bit 4 toggles with each DRAM refresh (every 15.085 us: 18 PIT ticks), bit 5 is
 * timer 2's OUT. */
uint32_t pit_port61_read(void *opaque, uint16_t offset, unsigned size)
{
    (void)offset;
    (void)size;
    struct pit8254 *pit = opaque;
    bool refresh = (now_tick(pit) / 18) & 1;
    return (pit->port61 & 3) | (refresh ? 0x10 : 0) | (out_now(pit, &pit->ch[2]) ? 0x20 : 0);
}

void pit_port61_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    (void)offset;
    (void)size;
    struct pit8254 *pit = opaque;
    struct pit_channel *c = &pit->ch[2];
    bool gate = val & 1;
    if (gate && !c->gate && c->mode != 0 && c->mode != 4)
        c->load_tick = now_tick(pit);   /* a rising gate restarts modes 1, 2, 3, 5 */
    c->gate = gate;
    pit->port61 = (uint8_t)(val & 3);
}

bool pit_attach(struct pit8254 *pit, struct io_bus *bus)
{
    return io_register(bus, PIT_BASE, 4, pit_read, pit_write, pit, "pit8254")
        && io_register(bus, PIT_PORT61, 1, pit_port61_read, pit_port61_write, pit, "port61");
}
