/* The local APIC of one VP (SDM Vol. 3A ch. 11), in xAPIC (MMIO) and x2APIC (MSR)
 * modes.  The device knows nothing of VPs, the scheduler or the clock: it reaches
 * them through struct lapic_ops (hv/interrupts.c fills it in), so the unit tests can
 * drive it alone.  Interrupt messages between APICs (ICR writes, I/O APIC
 * redirections) go through devices/lapic_bus.c.
 *
 * Time: the timer counts the VP's core cycles (ops->now) divided by the divide
 * configuration, i.e. the APIC timer's input clock is the core clock
 * (lapic timer frequency = -cpu-freq).  TSC-deadline mode compares IA32_TSC_DEADLINE
 * with the TSC = cycles + ops->tsc_offset.
 */
#ifndef HVEMU_DEVICES_LAPIC_H
#define HVEMU_DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_DEFAULT_BASE 0xfee00000ull
#define LAPIC_MMIO_SIZE    0x1000u

/* IA32_APIC_BASE bits (SDM Vol. 3A 11.4.4, 11.12.1). */
#define APIC_BASE_BSP    (1ull << 8)
#define APIC_BASE_EXTD   (1ull << 10)     /* x2APIC mode */
#define APIC_BASE_EN     (1ull << 11)

#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_X2APIC_FIRST      0x800u
#define MSR_X2APIC_LAST       0x8ffu

/* Register offsets in the xAPIC page (SDM Vol. 3A Table 11-1); the x2APIC MSR is
 * 0x800 + offset / 16 (Table 11-6). */
enum {
    LAPIC_ID = 0x020, LAPIC_VER = 0x030, LAPIC_TPR = 0x080, LAPIC_APR = 0x090,
    LAPIC_PPR = 0x0a0, LAPIC_EOI = 0x0b0, LAPIC_RRD = 0x0c0, LAPIC_LDR = 0x0d0,
    LAPIC_DFR = 0x0e0, LAPIC_SVR = 0x0f0, LAPIC_ISR = 0x100, LAPIC_TMR = 0x180,
    LAPIC_IRR = 0x200, LAPIC_ESR = 0x280, LAPIC_LVT_CMCI = 0x2f0, LAPIC_ICR_LO = 0x300,
    LAPIC_ICR_HI = 0x310, LAPIC_LVT_TIMER = 0x320, LAPIC_LVT_THERMAL = 0x330,
    LAPIC_LVT_PERF = 0x340, LAPIC_LVT_LINT0 = 0x350, LAPIC_LVT_LINT1 = 0x360,
    LAPIC_LVT_ERROR = 0x370, LAPIC_TIMER_ICR = 0x380, LAPIC_TIMER_CCR = 0x390,
    LAPIC_TIMER_DCR = 0x3e0, LAPIC_SELF_IPI = 0x3f0,   /* x2APIC only */
};

/* Delivery modes of the ICR, LVT entries and I/O APIC redirections (Table 11-... / Fig. 11-12). */
enum apic_dm {
    APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
    APIC_DM_INIT = 5, APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7,
};

/* ICR destination shorthand (bits 19:18). */
enum apic_shorthand { APIC_SH_NONE = 0, APIC_SH_SELF = 1, APIC_SH_ALL = 2, APIC_SH_OTHERS = 3 };

/* LVT indices in struct lapic.lvt (Figure 11-8). */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_CMCI, LVT_COUNT };

#define LVT_MASKED      (1u << 16)
#define LVT_LEVEL       (1u << 15)      /* LINT0/1 trigger mode */
#define LVT_REMOTE_IRR  (1u << 14)
#define LVT_TIMER_ONESHOT  (0u << 17)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_TSCDL    (2u << 17)
#define LVT_TIMER_MODE_MASK (3u << 17)

#define SVR_APIC_ENABLED (1u << 8)
#define SVR_SUPPRESS_EOI (1u << 12)

/* ESR bits (Figure 11-9). */
#define ESR_SEND_ILLEGAL    (1u << 5)
#define ESR_RECV_ILLEGAL    (1u << 6)
#define ESR_ILLEGAL_REG     (1u << 7)

/* One interrupt message on the APIC bus (an ICR write or an I/O APIC redirection). */
struct apic_msg {
    uint8_t vector;
    uint8_t mode;           /* enum apic_dm */
    bool logical;           /* destination mode */
    bool level_trig;        /* trigger mode: level (sets TMR; EOI is broadcast) */
    bool assert;            /* level: assert (INIT de-assert is a no-op on modern CPUs) */
    uint8_t shorthand;      /* enum apic_shorthand */
    uint32_t dest;          /* 8 bits in xAPIC format, 32 in x2APIC format */
    bool x2apic_format;     /* dest is a 32-bit x2APIC destination */
};

struct lapic_ops {
    uint64_t (*now)(void *opaque, unsigned vp);             /* the VP's cycle counter */
    uint64_t (*tsc_offset)(void *opaque, unsigned vp);      /* TSC = cycles + offset */
    void (*timer_arm)(void *opaque, unsigned vp, uint64_t deadline);  /* UINT64_MAX: disarm */
    void (*send)(void *opaque, unsigned src_vp, const struct apic_msg *m);  /* ICR write */
    void (*kick)(void *opaque, unsigned vp);                /* something may be deliverable */
    void (*eoi_broadcast)(void *opaque, uint8_t vector);    /* EOI of a level-triggered vector */
};

struct lapic {
    unsigned vp;                /* dense VP index: the initial APIC ID */
    uint64_t base_msr;          /* IA32_APIC_BASE as last seen */
    uint32_t id;                /* APIC ID (x2APIC: 32 bits; xAPIC: bits 31:24 of the register) */
    uint32_t tpr, ldr, dfr, svr, esr, esr_pending;
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[LVT_COUNT];
    uint32_t irr[8], isr[8], tmr[8];
    /* Timer (SDM Vol. 3A 11.5.4). */
    uint32_t timer_icr, timer_dcr;
    uint64_t timer_start;       /* cycle count when the current period began */
    uint64_t timer_deadline;    /* cycles; UINT64_MAX when not armed */
    uint64_t tsc_deadline;      /* IA32_TSC_DEADLINE as the guest wrote it (0: disarmed) */
    bool nmi_pending;
    const struct lapic_ops *ops;
    void *opaque;
};

/* Power-on state (SDM Vol. 3A 11.4.7.1) for VP vp; base_msr is IA32_APIC_BASE. */
void lapic_init(struct lapic *l, unsigned vp, uint64_t base_msr, const struct lapic_ops *ops, void *opaque);
/* INIT (SDM Vol. 3A 11.4.7.3): as power-on except the APIC ID and the base MSR. */
void lapic_init_ipi_reset(struct lapic *l);

/* IA32_APIC_BASE was written (cpu/msr.c already validated and stored it). */
void lapic_set_base(struct lapic *l, uint64_t base_msr);
static inline bool lapic_hw_enabled(const struct lapic *l) { return (l->base_msr & APIC_BASE_EN) != 0; }
static inline bool lapic_x2apic(const struct lapic *l) { return (l->base_msr & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD); }
static inline bool lapic_sw_enabled(const struct lapic *l) { return (l->svr & SVR_APIC_ENABLED) != 0; }

/* xAPIC MMIO (offset within the 4 KiB page).  Registers are 32 bits on 16-byte
 * boundaries; other accesses read the covered bytes / are ignored on write. */
uint64_t lapic_mmio_read(struct lapic *l, uint64_t offset, unsigned size);
void lapic_mmio_write(struct lapic *l, uint64_t offset, uint64_t val, unsigned size);

/* x2APIC MSRs and IA32_TSC_DEADLINE.  False: #GP (x2APIC off, reserved register,
 * write-only/read-only violation, reserved bits). */
bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val);
bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val);

/* CR8 <-> TPR (SDM Vol. 3A 10.8.6.1: CR8[3:0] = TPR[7:4]). */
void lapic_set_cr8(struct lapic *l, uint64_t cr8);
uint64_t lapic_get_cr8(const struct lapic *l);

/* Delivery into this APIC from the bus: a fixed/lowest-priority vector. */
void lapic_accept_fixed(struct lapic *l, uint8_t vector, bool level_trig);
void lapic_accept_nmi(struct lapic *l);

/* The highest-priority deliverable vector (IRRV > PPR), or -1.  lapic_ack moves it
 * from IRR to ISR (the CPU's INTA cycle). */
int lapic_pending_vector(const struct lapic *l);
int lapic_ack(struct lapic *l);
uint32_t lapic_ppr(const struct lapic *l);

/* The timer's clock event for this VP came due at cycle 'now'. */
void lapic_timer_expired(struct lapic *l, uint64_t now);

/* Does this APIC accept a message with destination dest (no shorthand)? */
bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical, bool x2apic_format);

#endif
