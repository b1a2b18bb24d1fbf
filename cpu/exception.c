/* Raising and delivering exceptions and interrupts (SDM Vol. 3A ch. 6).
 *
 * cpu_raise() records the fault and longjmps to the run loop, which calls
 * cpu_deliver_pending().  Delivery reads the gate, the target code descriptor and
 * the new stack, writes the whole frame, and only then commits registers: if any
 * of those accesses faults, cpu_raise() longjmps again with nothing half-changed,
 * and the next cpu_deliver_pending() applies the double-fault rules of SDM Vol. 3A
 * 6.15 (Table 6-5) using c->exc_nesting: #DF, and a triple fault (a clean stop with
 * CPU_EXIT_SHUTDOWN) when #DF delivery itself faults.
 *
 * RF in the frame (SDM Vol. 3A 17.3.1.1): 1 for a fault, except an instruction
 * breakpoint; otherwise the current RF (1 after an iteration of a repeated string
 * that is not the last one, cpu/ops_string.c).  An NMI blocks further NMIs until
 * the next IRET (6.7.1).
 *
 * Not modelled: task gates and task switches (a clean stop, cpu/gates.h), virtual-8086 mode.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cpu/exception.h"
#include "cpu/debug_hook.h"
#include "cpu/env.h"
#include "cpu/flags.h"
#include "cpu/gates.h"
#include "cpu/mem.h"
#include "cpu/seg.h"

/* Approximate cost of an exception/interrupt delivery through the IDT (gate and
 * descriptor reads, stack switch, frame writes), on top of the memory cost the mmu
 * charges.  Order of magnitude of the ~100-200 cycle same-privilege fault round
 * trips reported for Skylake-class cores; to be calibrated with the timing table. */
#define EXC_DELIVERY_CYCLES 100

/* c->exc_nesting while delivering something that is not a hardware exception
 * (external interrupt, NMI, INT n): such a first event is benign (Table 6-4). */
#define NEST_BENIGN 0x7f

struct event {
    int vec;
    uint32_t err;
    bool push_err;
    bool ext;           /* EXT bit of error codes raised while delivering (6.13) */
    bool software;      /* INT n, INT3, INTO: the gate DPL is checked against the CPL */
    bool fault;         /* raised by an instruction that did not complete */
    bool rf;            /* RF = 1 in the pushed RFLAGS image */
};

static bool vec_has_error(int v)
{
    /* SDM Vol. 3A Table 6-1: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP. */
    return v == EXC_DF || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP ||
           v == EXC_PF || v == EXC_AC || v == 21;
}

enum exc_class { CLS_BENIGN, CLS_CONTRIB, CLS_PF, CLS_DF };

static enum exc_class classify(int v)
{
    switch (v) {        /* SDM Vol. 3A Table 6-4 */
    case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP: return CLS_CONTRIB;
    case EXC_PF: return CLS_PF;
    case EXC_DF: return CLS_DF;
    default: return CLS_BENIGN;
    }
}

_Noreturn void cpu_raise(struct cpu *c, int vector, uint32_t err)
{
    c->rip = c->insn_rip;
    c->exc_vector = (int16_t)vector;
    c->exc_error = err;
    longjmp(c->fault_jmp, 1);
}

_Noreturn void cpu_raise_pf(struct cpu *c, uint64_t la, uint32_t err)
{
    c->cr2 = la;
    /* SDM Vol. 3A 4.10.4.1: a #PF invalidates the entries for la (TLB-MODEL.md B-1.4). */
    mmu_note_page_fault(c->mmu, la);
    cpu_raise(c, EXC_PF, err);
}

/* ---- stack writes of the frame ------------------------------------------------ */

/* Write to the stack of privilege new_cpl: an ordinary access at CPL 3 (then the
 * current CPL is already 3), a supervisor access for CPL 0-2 (SDM Vol. 3A 4.6). */
static void frame_write(struct cpu *c, uint64_t la, uint64_t v, unsigned size, unsigned new_cpl)
{
    if (new_cpl == 3)
        mem_write(c, la, v, size);
    else
        mem_write_sys(c, la, v, size);
}

/* Linear address of SS-relative offset off for a frame of size bytes in segment ss
 * (legacy protected and real mode): the limit checks of 5.3, expand-down included
 * (valid offsets limit+1 .. FFFFh or FFFFFFFFh by the B bit), #SS(err). */
static uint64_t frame_la(struct cpu *c, const struct segment *ss, uint64_t off, unsigned size, uint32_t err)
{
    if (ss->attr & ST_EXPDOWN) {
        uint64_t upper = (ss->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
        if (off <= ss->limit || off + size - 1 > upper)
            cpu_raise(c, EXC_SS, err);
    } else if (off + size - 1 > ss->limit) {
        cpu_raise(c, EXC_SS, err);
    }
    return (ss->base + off) & 0xffffffffull;
}

static uint64_t rflags_now(struct cpu *c)
{
    flags_materialise(c);
    return c->rflags;
}

/* The RFLAGS image of the frame. */
static uint64_t frame_rflags(struct cpu *c, const struct event *ev)
{
    return rflags_now(c) | (ev->rf ? FL_RF : 0);
}

/* ---- the three delivery paths ---------------------------------------------------- */

/* Real-address mode: the IVT at IDTR.base, 4-byte far pointers (SDM Vol. 3A 20.1.4). */
static void deliver_real(struct cpu *c, const struct event *ev)
{
    uint64_t off = (uint64_t)ev->vec * 4;
    if (off + 3 > c->idtr.limit)
        cpu_raise(c, EXC_GP, (uint32_t)(ev->vec * 8 + 2 + ev->ext));
    uint64_t ip = mem_read_sys(c, c->idtr.base + off, 2);
    uint16_t cs = (uint16_t)mem_read_sys(c, c->idtr.base + off + 2, 2);

    const struct segment *ss = &c->seg[SEG_SS];
    uint64_t mask = (ss->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
    uint64_t sp = c->gpr[RSP];
    uint64_t fl = rflags_now(c);
    uint64_t vals[3] = { fl & 0xffff, c->seg[SEG_CS].sel, c->rip & 0xffff };
    for (unsigned k = 0; k < 3; k++) {
        sp = (sp - 2) & mask;
        mem_write(c, frame_la(c, ss, sp, 2, 0), vals[k], 2);
    }
    c->gpr[RSP] = (c->gpr[RSP] & ~mask) | sp;
    c->rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
    seg_load_real(c, SEG_CS, cs);
    c->rip = ip;
    cpu_update_mode(c);
}

/* The gate's target code segment (common to 32- and 64-bit delivery, 6.12.1). */
static uint64_t gate_target_cs(struct cpu *c, uint16_t sel, uint32_t ext)
{
    uint64_t d, addr;
    if (SEL_NULL(sel))
        cpu_raise(c, EXC_GP, ext);
    if (!desc_read(c, sel, &d, &addr))
        cpu_raise(c, EXC_GP, SEL_ERR(sel) | ext);
    uint16_t a = desc_attr(d);
    if (!attr_is_code(a) || SEG_ATTR_DPL(a) > c->cpl)
        cpu_raise(c, EXC_GP, SEL_ERR(sel) | ext);
    if (!(a & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(sel) | ext);
    return d;
}

static void commit_flags(struct cpu *c, bool trap_gate)
{
    /* SDM Vol. 3A 6.12.1.3: TF, NT, RF, VM cleared; an interrupt gate also clears IF. */
    c->rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
    if (!trap_gate)
        c->rflags &= ~(uint64_t)FL_IF;
}

/* Protected mode (not IA-32e): 8-byte interrupt/trap gates, 16- and 32-bit,
 * same privilege or an inner level with the stack from the TSS (6.12.1). */
static void deliver_prot(struct cpu *c, const struct event *ev)
{
    uint32_t ext = ev->ext;
    uint32_t idt_err = (uint32_t)ev->vec * 8 + 2 + ext;
    if ((uint64_t)ev->vec * 8 + 7 > c->idtr.limit)
        cpu_raise(c, EXC_GP, idt_err);
    uint64_t g = mem_read_sys(c, (c->idtr.base + (uint64_t)ev->vec * 8) & 0xffffffffull, 8);
    unsigned type = (g >> 40) & 0x1f;        /* includes S, which must be 0 */
    if (type != DT_INTGATE && type != DT_TRAPGATE && type != DT_INTGATE16 && type != DT_TRAPGATE16 &&
        type != DT_TASKGATE)
        cpu_raise(c, EXC_GP, idt_err);
    if (ev->software && ((g >> 45) & 3) < c->cpl)
        cpu_raise(c, EXC_GP, idt_err);
    if (!(g & (1ull << 47)))
        cpu_raise(c, EXC_NP, idt_err);
    if (type == DT_TASKGATE)
        cpu_stop_unsupported(c, "task gate in the IDT for vector %d: hardware task switch", ev->vec);
    bool gate32 = type & 8;
    uint16_t sel = (uint16_t)(g >> 16);
    uint64_t target = (g & 0xffff) | (gate32 ? (g >> 32) & 0xffff0000ull : 0);
    uint64_t d = gate_target_cs(c, sel, ext);
    uint16_t a = desc_attr(d);
    unsigned new_cpl = (a & ST_CONFORM) ? c->cpl : SEG_ATTR_DPL(a);
    if (target > desc_limit(d))
        cpu_raise(c, EXC_GP, ext);

    unsigned w = gate32 ? 4 : 2;
    struct segment ss = c->seg[SEG_SS];
    uint64_t sp = c->gpr[RSP] & ((ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull);
    uint64_t vals[6];
    unsigned n = 0;
    if (new_cpl < c->cpl) {
        /* Inner privilege: SS:ESP for new_cpl from the 32-bit (or 16-bit) TSS (7.2.1). */
        unsigned tss_type = c->tr.attr & 0xf;
        bool tss32 = tss_type == DT_TSS_AVAIL || tss_type == DT_TSS_BUSY;
        uint64_t sp_off = tss32 ? 4 + 8 * new_cpl : 2 + 4 * new_cpl;
        uint64_t ss_off = tss32 ? 8 + 8 * new_cpl : 4 + 4 * new_cpl;
        if (ss_off + 1 > c->tr.limit)
            cpu_raise(c, EXC_TS, SEL_ERR(c->tr.sel) | ext);
        uint64_t nsp = mem_read_sys(c, c->tr.base + sp_off, tss32 ? 4 : 2);
        uint16_t nss = (uint16_t)mem_read_sys(c, c->tr.base + ss_off, 2);
        uint64_t sd, saddr;
        if (SEL_NULL(nss) || SEL_RPL(nss) != new_cpl || !desc_read(c, nss, &sd, &saddr))
            cpu_raise(c, EXC_TS, SEL_ERR(nss) | ext);
        uint16_t sa = desc_attr(sd);
        if (!attr_is_data(sa) || !(sa & ST_WRITE) || SEG_ATTR_DPL(sa) != new_cpl)
            cpu_raise(c, EXC_TS, SEL_ERR(nss) | ext);
        if (!(sa & SEG_ATTR_P))
            cpu_raise(c, EXC_SS, SEL_ERR(nss) | ext);
        desc_set_accessed(c, saddr, &sd);
        vals[n++] = c->seg[SEG_SS].sel;
        vals[n++] = c->gpr[RSP];
        seg_from_desc(&ss, nss, sd);
        sp = nsp & ((ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull);
    }
    vals[n++] = frame_rflags(c, ev);
    vals[n++] = c->seg[SEG_CS].sel;
    vals[n++] = c->rip;
    if (ev->push_err)
        vals[n++] = ev->err;
    uint64_t mask = (ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
    for (unsigned k = 0; k < n; k++) {
        sp = (sp - w) & mask;
        frame_write(c, frame_la(c, &ss, sp, w, ext), vals[k] & (w == 4 ? 0xffffffffull : 0xffff), w, new_cpl);
    }

    /* Commit. */
    c->seg[SEG_SS] = ss;
    c->gpr[RSP] = (c->gpr[RSP] & ~mask) | sp;
    commit_flags(c, type & 1);
    c->rip = target;
    seg_load_cs(c, sel, d, new_cpl);            /* recomputes the mode and CPL */
}

/* IA-32e mode: 16-byte gates, 64-bit code segments only, IST, RSP0-2 from the
 * 64-bit TSS, 16-byte aligned frame of 8-byte slots (6.14). */
static void deliver_long(struct cpu *c, const struct event *ev)
{
    uint32_t ext = ev->ext;
    uint32_t idt_err = (uint32_t)ev->vec * 8 + 2 + ext;
    if ((uint64_t)ev->vec * 16 + 15 > c->idtr.limit)
        cpu_raise(c, EXC_GP, idt_err);
    uint64_t lo = mem_read_sys(c, c->idtr.base + (uint64_t)ev->vec * 16, 8);
    uint64_t hi = mem_read_sys(c, c->idtr.base + (uint64_t)ev->vec * 16 + 8, 8);
    unsigned type = (lo >> 40) & 0x1f;
    if (type != DT_INTGATE && type != DT_TRAPGATE)
        cpu_raise(c, EXC_GP, idt_err);
    if (ev->software && ((lo >> 45) & 3) < c->cpl)
        cpu_raise(c, EXC_GP, idt_err);
    if (!(lo & (1ull << 47)))
        cpu_raise(c, EXC_NP, idt_err);
    uint16_t sel = (uint16_t)(lo >> 16);
    uint64_t target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | (hi << 32);
    unsigned ist = (lo >> 32) & 7;
    uint64_t d = gate_target_cs(c, sel, ext);
    uint16_t a = desc_attr(d);
    if (!(a & SEG_ATTR_L) || (a & SEG_ATTR_DB))
        cpu_raise(c, EXC_GP, SEL_ERR(sel) | ext);
    unsigned new_cpl = (a & ST_CONFORM) ? c->cpl : SEG_ATTR_DPL(a);
    if (!canonical48(target))
        cpu_raise(c, EXC_GP, ext);

    uint64_t rsp = c->gpr[RSP];
    if (ist || new_cpl < c->cpl) {
        /* 64-bit TSS: RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1) (SDM Vol. 3A Figure 8-11). */
        uint64_t off = ist ? 0x24 + 8 * (uint64_t)(ist - 1) : 4 + 8 * (uint64_t)new_cpl;
        unsigned tt = c->tr.attr & 0xf;
        if ((tt != DT_TSS_AVAIL && tt != DT_TSS_BUSY) || off + 7 > c->tr.limit)
            cpu_raise(c, EXC_TS, SEL_ERR(c->tr.sel) | ext);
        rsp = mem_read_sys(c, c->tr.base + off, 8);
        if (!canonical48(rsp))
            cpu_raise(c, EXC_SS, ext);
    }
    rsp &= ~0xfull;
    uint64_t vals[6] = { c->seg[SEG_SS].sel, c->gpr[RSP], frame_rflags(c, ev), c->seg[SEG_CS].sel, c->rip, ev->err };
    unsigned n = ev->push_err ? 6 : 5;
    for (unsigned k = 0; k < n; k++)
        frame_write(c, rsp - 8 * (k + 1), vals[k], 8, new_cpl);

    /* Commit. */
    if (new_cpl < c->cpl) {
        /* SS becomes a null selector with RPL = new CPL (6.14.4); its cache keeps DPL = CPL. */
        c->seg[SEG_SS] = (struct segment){ .sel = (uint16_t)new_cpl, .base = 0, .limit = 0,
                                           .attr = (uint16_t)((new_cpl << 5) | SEG_ATTR_S | ST_WRITE | ST_ACCESSED) };
    }
    c->gpr[RSP] = rsp - 8 * n;
    commit_flags(c, type & 1);
    c->rip = target;
    seg_load_cs(c, sel, d, new_cpl);
}

static void deliver(struct cpu *c, const struct event *ev, int nesting)
{
    if (CPU_DBG_ON(CPU_DBG_INT))
        cpu_debug_hooks->event(c, ev->vec, ev->err, ev->push_err,
                               nesting != NEST_BENIGN ? CPU_DBG_EXC :
                               ev->software ? CPU_DBG_SOFTINT : CPU_DBG_EXTINT);
    dbg_note_delivery(c, ev->vec, ev->fault);
    c->exc_nesting = (int8_t)nesting;
    c->cycles += EXC_DELIVERY_CYCLES;
    if (!(c->cr0 & CR0_PE))
        deliver_real(c, ev);
    else if (c->efer & EFER_LMA)
        deliver_long(c, ev);
    else
        deliver_prot(c, ev);
    c->exc_nesting = -1;
    c->halted = 0;
    c->intr_shadow = 0;
    c->attention |= ATTN_BLOCK_END;
    if (unlikely(c->dbg.hits)) {
        uint64_t dr6 = dbg_take_delivery_hits(c, ev->vec);
        if (dr6)
            dbg_trap_after_delivery(c, dr6);
    }
}

void cpu_deliver_pending(struct cpu *c)
{
    int vec = c->exc_vector;
    uint32_t err = c->exc_error;
    c->exc_vector = -1;
    if (vec < 0)
        return;

    int first = c->exc_nesting;
    c->exc_nesting = -1;
    if (first >= 0 && first != NEST_BENIGN) {
        enum exc_class f = classify(first), s = classify(vec);
        if (f == CLS_DF) {
            char msg[128];
            snprintf(msg, sizeof msg, "triple fault: exception %d while delivering #DF at RIP %#" PRIx64,
                     vec, c->rip);
            cpu_request_stop(c, CPU_EXIT_SHUTDOWN, msg);
            return;
        }
        /* Table 6-5: contributory after contributory, or #PF/contributory after #PF. */
        if ((f == CLS_CONTRIB && s == CLS_CONTRIB) || (f == CLS_PF && s != CLS_BENIGN)) {
            vec = EXC_DF;
            err = 0;
        }
    }
    /* RF = 1 in the frame of a fault; #DF is an abort, an instruction breakpoint
     * pushes the RF it saw (17.3.1.1). */
    bool code_bp = vec == EXC_DB && c->dbg.code_bp_fault;
    c->dbg.code_bp_fault = 0;
    struct event ev = {
        .vec = vec, .err = err == EXC_NO_ERROR ? 0 : err, .push_err = vec_has_error(vec),
        .ext = true, .software = false, .fault = true, .rf = vec != EXC_DF && !code_bp,
    };
    deliver(c, &ev, vec);
}

void cpu_interrupt(struct cpu *c, int vector, enum intr_source src)
{
    struct event ev = {
        .vec = vector & 0xff, .err = 0, .push_err = false,
        .ext = src == INTR_EXTERNAL || src == INTR_NMI || src == INTR_ICEBP || src == INTR_DEBUG_TRAP,
        .software = src == INTR_SOFTWARE || src == INTR_SOFTWARE_EXC,
    };
    /* INT3/INTO are exceptions raised by an instruction (benign class); INT n and
     * external interrupts are not exceptions at all: both nest as benign. */
    deliver(c, &ev, NEST_BENIGN);
}

bool cpu_poll_interrupts(struct cpu *c)
{
    if (c->intr_shadow || !c->env)
        return false;
    c->insn_rip = c->rip;       /* a fault during delivery reports this boundary */
    /* While an NMI handler runs, a new NMI stays latched (one, in the local APIC)
     * until IRET (SDM Vol. 3A 6.7.1). */
    if (!c->nmi_blocked && c->env->nmi_ack && c->env->nmi_ack(c->env_opaque, c)) {
        cpu_interrupt(c, EXC_NMI, INTR_NMI);
        c->nmi_blocked = 1;
        return true;
    }
    if ((c->rflags & FL_IF) && c->env->intr_ack) {
        int v = c->env->intr_ack(c->env_opaque, c);
        if (v >= 0) {
            cpu_interrupt(c, v, INTR_EXTERNAL);
            return true;
        }
    }
    return false;
}
