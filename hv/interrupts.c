/* Interrupt routing of the partition.  See hv/interrupts.h. */
#include "hv/interrupts.h"
#include "hv/partition.h"
#include "hv/hyperv.h"
#include "devices/lapic.h"
#include "devices/lapic_bus.h"
#include "devices/ioapic.h"
#include "devices/pic8259.h"
#include "cpu/env.h"
#include "mmu/physmem.h"

#include <stdio.h>
#include <stdlib.h>

/* CPUID.1:ECX feature bits (SDM Vol. 2A Table 3-10). */
#define CPUID_1_ECX_X2APIC      (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define MSR_IA32_APIC_BASE      0x1bu

struct intr {
    struct lapic *lapics;       /* one per VP */
    struct lapic **lapic_ptrs;
    struct lapic_bus bus;
    int timer_id;               /* one clock event for all APIC timers: the earliest */
    struct ioapic ioapic;
    struct pic8259 pic;
};

static struct partition *part(void *opaque) { return opaque; }

/* "Now" for a VP woken or started by someone else: the time of the VP whose action
 * caused it (the running one), or the event time when a device timer did. */
static uint64_t global_now(struct partition *p)
{
    return p->running ? p->running->cpu.cycles : p->clock.now;
}

static void resume_at(struct vp *v, uint64_t t)
{
    if (v->cpu.cycles < t)
        v->cpu.cycles = t;      /* it slept (or waited for SIPI) until t */
}

/* --- lapic_ops --------------------------------------------------------------------- */

static uint64_t op_now(void *opaque, unsigned vp) { return part(opaque)->vps[vp].cpu.cycles; }
static uint64_t op_tsc_offset(void *opaque, unsigned vp) { return part(opaque)->vps[vp].cpu.msr.tsc_offset; }

/* The running VP's budget was cut at the deadline known when its turn began: it
 * must return to the scheduler for a new VP to run or an earlier event to count
 * (else a woken VP or a new timer could wait up to a whole -quantum). */
static void reschedule(struct partition *p)
{
    if (p->running)
        p->running->cpu.attention |= ATTN_YIELD;
}

static void rearm(struct partition *p)
{
    uint64_t best = CLOCK_NEVER;
    for (unsigned i = 0; i < p->nr_vps; i++)
        if (p->intr->lapics[i].timer_deadline < best)
            best = p->intr->lapics[i].timer_deadline;
    if (best < p->clock.timers[p->intr->timer_id].deadline)
        reschedule(p);
    clock_timer_arm(&p->clock, p->intr->timer_id, best);
}

static void op_timer_arm(void *opaque, unsigned vp, uint64_t deadline)
{
    struct partition *p = part(opaque);
    if (p->intr && p->intr->timer_id >= 0)
        rearm(p);
}

static void on_timer(void *opaque, uint64_t now)
{
    struct partition *p = opaque;
    for (unsigned i = 0; i < p->nr_vps; i++)
        if (p->intr->lapics[i].timer_deadline <= now)
            lapic_timer_expired(&p->intr->lapics[i], now);
    rearm(p);
}

/* An ICR write.  Without virtualization hardware a guest's IPI is an intercepted
 * APIC write: a VM exit and entry, then a post to each target.  It is charged with
 * the constants of the IPI hypercalls (hv_costs, HV-SPEC A-8), so the plain and the
 * enlightened paths are compared on one cost model (TLB-MODEL.md B-(c) 4: a sender
 * of k IPIs pays k exits, a flush hypercall one). */
static void op_send(void *opaque, unsigned src, const struct apic_msg *m)
{
    struct partition *p = part(opaque);
    unsigned n = lapic_bus_deliver(&p->intr->bus, src, m);
    if (src < p->nr_vps)
        p->vps[src].cpu.cycles += hv_costs.entry_exit + (uint64_t)n * hv_costs.per_ipi_target;
}

static void op_kick(void *opaque, unsigned vp)
{
    struct partition *p = part(opaque);
    struct vp *v = &p->vps[vp];
    v->cpu.attention |= ATTN_INTR;
    if (v->state == VP_HALTED && intr_vp_wakeable(p, v)) {
        resume_at(v, global_now(p));
        v->cpu.halted = 0;
        v->state = VP_RUNNABLE;
        reschedule(p);
    }
}

static void op_eoi_broadcast(void *opaque, uint8_t vector)
{
    ioapic_eoi(&part(opaque)->intr->ioapic, vector);   /* clears remote IRR */
}

static const struct lapic_ops lapic_ops = {
    .now = op_now,
    .tsc_offset = op_tsc_offset,
    .timer_arm = op_timer_arm,
    .send = op_send,
    .kick = op_kick,
    .eoi_broadcast = op_eoi_broadcast,
};

/* --- INIT and SIPI (SDM Vol. 3A 9.4.4, 11.6.1) -------------------------------------- */

static void bus_init(void *opaque, unsigned vp)
{
    struct partition *p = opaque;
    struct vp *v = &p->vps[vp];
    if (p->running == v)
        return;     /* INIT to oneself (all-including-self): not modelled, ignored */
    if (v->state == VP_SUSPENDED)
        return;     /* a flush caller waiting on a TLB lock keeps its state (hv/tlb_lock.c) */
    struct cpu *c = &v->cpu;
    uint64_t base = c->msr.apic_base;
    cpu_reset(c);                       /* keeps the TSC offset */
    c->msr.apic_base = base;            /* INIT leaves IA32_APIC_BASE alone */
    mmu_invpcid(c->mmu, 2, 0, 0);       /* INIT flushes the TLBs, globals included */
    c->attention &= ~(ATTN_INTR | ATTN_YIELD);
    lapic_init_ipi_reset(&p->intr->lapics[vp]);
    v->state = VP_WAIT_SIPI;
}

static void bus_sipi(void *opaque, unsigned vp, uint8_t vector)
{
    struct partition *p = opaque;
    struct vp *v = &p->vps[vp];
    if (v->state != VP_WAIT_SIPI)
        return;     /* a SIPI is ignored unless the VP waits for one (SDM Vol. 3A 9.4.4.1) */
    struct cpu *c = &v->cpu;
    /* Real mode at CS:IP = (vector << 8):0000, i.e. physical vector << 12. */
    c->seg[SEG_CS].sel = (uint16_t)(vector << 8);
    c->seg[SEG_CS].base = (uint64_t)vector << 12;
    c->rip = 0;
    cpu_update_mode(c);
    resume_at(v, global_now(p));
    v->state = VP_RUNNABLE;
    reschedule(p);
}

static const struct lapic_bus_ops bus_ops = { .init = bus_init, .sipi = bus_sipi };

/* --- the I/O APIC and the 8259 pair ---------------------------------------------- */

static void ioapic_deliver(void *opaque, const struct apic_msg *m)
{
    struct partition *p = opaque;
    lapic_bus_deliver(&p->intr->bus, LAPIC_BUS_NO_SOURCE, m);
}

static const struct ioapic_ops ioapic_ops = { .deliver = ioapic_deliver };

/* The 8259's INT reaches the BSP when its APIC is globally disabled, or through
 * LINT0 unmasked in ExtINT mode (virtual wire, MP spec 3.6.2.2). */
static bool extint_ready(struct partition *p, unsigned vp)
{
    if (vp != 0 || !pic_output(&p->intr->pic))
        return false;
    const struct lapic *l = &p->intr->lapics[0];
    uint32_t lint0 = l->lvt[LVT_LINT0];
    return !lapic_hw_enabled(l) || (!(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7) == APIC_DM_EXTINT);
}

static void pic_output_changed(void *opaque)
{
    struct partition *p = opaque;
    if (p->intr && p->nr_vps && extint_ready(p, 0))
        op_kick(p, 0);
}

static const struct pic_ops pic_ops = { .output_changed = pic_output_changed };

static uint64_t ioapic_read(void *opaque, uint64_t off, unsigned size)
{
    return ioapic_mmio_read(&part(opaque)->intr->ioapic, off, size);
}

static void ioapic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ioapic_mmio_write(&part(opaque)->intr->ioapic, off, val, size);
}

void intr_set_isa_irq(struct partition *p, unsigned irq, bool level)
{
    if (!p->intr || irq >= 16)
        return;
    pic_set_irq(&p->intr->pic, irq, level);
    /* ISA IRQ 0 is wired to I/O APIC pin 2 (the usual interrupt source override). */
    ioapic_set_irq(&p->intr->ioapic, irq == 0 ? 2 : irq, level);
}

void intr_set_gsi(struct partition *p, unsigned gsi, bool level)
{
    if (p->intr)
        ioapic_set_irq(&p->intr->ioapic, gsi, level);
}

/* --- the APIC page: the accessing VP's APIC -------------------------------------- */

static struct lapic *mmio_target(struct partition *p)
{
    struct vp *v = p->running;
    if (!v)
        return NULL;
    uint64_t b = v->cpu.msr.apic_base;
    /* Only while that VP's APIC is enabled in xAPIC mode at the default base; a
     * relocated APIC is not routed (no guest we run relocates it). */
    if ((b & (APIC_BASE_EN | APIC_BASE_EXTD)) != APIC_BASE_EN || (b & ~0xfffull & ((1ull << 52) - 1)) != LAPIC_DEFAULT_BASE)
        return NULL;
    return &p->intr->lapics[v->index];
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    struct lapic *l = mmio_target(opaque);
    if (!l)
        return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    return lapic_mmio_read(l, off, size);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct partition *p = opaque;
    struct lapic *l = mmio_target(p);
    if (!l)
        return;
    lapic_mmio_write(l, off, val, size);
    p->running->cpu.cr8 = lapic_get_cr8(l);     /* CR8 mirrors TPR[7:4] */
}

/* --- construction ---------------------------------------------------------------- */

bool intr_init(struct partition *p, char *err, size_t errlen)
{
    struct intr *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of host memory");
        return false;
    }
    p->intr = in;
    in->timer_id = -1;
    in->lapics = calloc(p->nr_vps, sizeof *in->lapics);
    in->lapic_ptrs = calloc(p->nr_vps, sizeof *in->lapic_ptrs);
    if (!in->lapics || !in->lapic_ptrs) {
        snprintf(err, errlen, "out of host memory for %u APICs", p->nr_vps);
        return false;
    }
    for (unsigned i = 0; i < p->nr_vps; i++) {
        lapic_init(&in->lapics[i], i, p->vps[i].cpu.msr.apic_base, &lapic_ops, p);
        in->lapic_ptrs[i] = &in->lapics[i];
    }
    /* The BSP's LINT0 starts in ExtINT mode, unmasked (virtual wire), as firmware
     * leaves it and as QEMU resets it, so the 8259 works without APIC setup. */
    in->lapics[0].lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
    in->bus = (struct lapic_bus){ .apics = in->lapic_ptrs, .nr = p->nr_vps, .ops = &bus_ops, .opaque = p };
    ioapic_init(&in->ioapic, &ioapic_ops, p);
    pic_init(&in->pic, &pic_ops, p);
    if (!pic_attach(&in->pic, p->io)) {
        snprintf(err, errlen, "cannot claim the 8259 ports (0x20, 0xA0, 0x4D0)");
        return false;
    }
    if (!physmem_add_mmio(p->pm, IOAPIC_DEFAULT_BASE, 0x1000, ioapic_read, ioapic_write, p, "ioapic")) {
        snprintf(err, errlen, "cannot map the I/O APIC at %#llx", (unsigned long long)IOAPIC_DEFAULT_BASE);
        return false;
    }
    in->timer_id = clock_timer_new(&p->clock, "lapic-timer", on_timer, p);
    if (in->timer_id < 0) {
        snprintf(err, errlen, "no clock event left for the APIC timers");
        return false;
    }
    if (!physmem_add_mmio(p->pm, LAPIC_DEFAULT_BASE, LAPIC_MMIO_SIZE, mmio_read, mmio_write, p, "lapic")) {
        snprintf(err, errlen, "cannot map the local APIC page at %#llx", (unsigned long long)LAPIC_DEFAULT_BASE);
        return false;
    }
    return true;
}

void intr_free(struct partition *p)
{
    if (!p->intr)
        return;
    free(p->intr->lapics);
    free(p->intr->lapic_ptrs);
    free(p->intr);
    p->intr = NULL;
}

struct lapic *intr_lapic(struct partition *p, unsigned vp)
{
    return p->intr && vp < p->nr_vps ? &p->intr->lapics[vp] : NULL;
}

/* --- the CPU side ---------------------------------------------------------------- */

bool intr_vp_wakeable(struct partition *p, struct vp *v)
{
    if (!p->intr)
        return false;
    struct lapic *l = &p->intr->lapics[v->index];
    if (l->nmi_pending && !v->cpu.nmi_blocked)
        return true;            /* a blocked NMI stays latched until IRET (SDM Vol. 3A 6.7.1) */
    return (v->cpu.rflags & FL_IF) && (lapic_pending_vector(l) >= 0 || extint_ready(p, v->index));
}

void intr_send_fixed(struct partition *p, unsigned vp, uint8_t vector)
{
    if (p->intr && vp < p->nr_vps)
        lapic_accept_fixed(&p->intr->lapics[vp], vector, false);
}

int intr_env_ack(void *opaque, struct cpu *c)
{
    struct partition *p = opaque;
    if (!p->intr)
        return -1;
    int v = lapic_ack(&p->intr->lapics[c->vp_index]);
    if (v < 0 && extint_ready(p, (unsigned)c->vp_index))
        v = pic_ack(&p->intr->pic);     /* ExtINT: the vector comes from the 8259 */
    return v;
}

bool intr_env_nmi_ack(void *opaque, struct cpu *c)
{
    struct partition *p = opaque;
    if (!p->intr)
        return false;
    struct lapic *l = &p->intr->lapics[c->vp_index];
    if (!l->nmi_pending)
        return false;
    l->nmi_pending = false;
    return true;
}

void intr_env_tpr_write(void *opaque, struct cpu *c, uint64_t tpr)
{
    struct partition *p = opaque;
    if (p->intr)
        lapic_set_cr8(&p->intr->lapics[c->vp_index], tpr);
}

bool intr_msr_read(struct partition *p, struct cpu *c, uint32_t msr, uint64_t *val, bool *ok)
{
    if (!p->intr || !(msr == MSR_IA32_TSC_DEADLINE || (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)))
        return false;
    *ok = lapic_msr_read(&p->intr->lapics[c->vp_index], msr, val);
    return true;
}

bool intr_msr_write(struct partition *p, struct cpu *c, uint32_t msr, uint64_t val, bool *ok)
{
    if (!p->intr)
        return false;
    struct lapic *l = &p->intr->lapics[c->vp_index];
    if (msr == MSR_IA32_APIC_BASE) {
        lapic_set_base(l, val);     /* cpu/msr.c stored it; this is the notification */
        *ok = true;
        return true;
    }
    if (!(msr == MSR_IA32_TSC_DEADLINE || (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)))
        return false;
    *ok = lapic_msr_write(l, msr, val);
    c->cr8 = lapic_get_cr8(l);
    return true;
}

void intr_cpuid(struct partition *p, struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    if (leaf == 1 && p->intr)
        out[2] |= CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE;
}
