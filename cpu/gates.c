/* Call gates for far JMP/CALL, and the clean stop for hardware task switches
 * (SDM Vol. 2 CALL and JMP, "CALL-GATE" / "TASK-GATE" paths; Vol. 3A 5.8.3-5.8.6).
 *
 * Order of work, as everywhere: every descriptor, the new stack and the frame
 * (with the copied parameters) are read, checked and write-probed first; registers
 * change only after the last access that can fault.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cpu/gates.h"
#include "cpu/exception.h"
#include "cpu/mem.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

_Noreturn void cpu_stop_unsupported(struct cpu *c, const char *fmt, ...)
{
    char why[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char msg[128];
    snprintf(msg, sizeof msg, "unsupported: %s", why);
    cpu_request_stop(c, CPU_EXIT_STOP, msg);
    /* Unwind like a fault that delivers nothing: cpu_deliver_pending() sees no vector. */
    c->rip = c->insn_rip;
    c->exc_vector = -1;
    c->exc_nesting = -1;
    longjmp(c->fault_jmp, 1);
}

bool gate_is_system(struct cpu *c, uint16_t sel)
{
    uint64_t d, addr;
    if (SEL_NULL(sel) || !desc_read(c, sel, &d, &addr))
        return false;
    return !(desc_attr(d) & SEG_ATTR_S);
}

/* Linear address of offset off in the stack segment ss (which need not be loaded
 * yet): the limit checks of SDM Vol. 3A 5.3 incl. expand-down, #SS(err); in
 * IA-32e mode only the canonical check. */
static uint64_t stack_slot(struct cpu *c, const struct segment *ss, bool lma, uint64_t off,
                           unsigned size, uint32_t err)
{
    if (lma) {
        if (!canonical48(off) || !canonical48(off + size - 1))
            cpu_raise(c, EXC_SS, err);
        return off;
    }
    uint64_t last = off + size - 1;
    if (ss->attr & ST_EXPDOWN) {
        uint64_t upper = (ss->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
        if (off <= ss->limit || last > upper)
            cpu_raise(c, EXC_SS, err);
    } else if (last > ss->limit) {
        cpu_raise(c, EXC_SS, err);
    }
    return (ss->base + off) & 0xffffffffull;
}

/* The inner stack of privilege level dpl from the current TSS (SDM Vol. 3A 5.8.5):
 * checks of the SS descriptor give #TS(ss) / #SS(ss). */
static void tss_stack(struct cpu *c, unsigned dpl, bool lma, struct segment *ss, uint64_t *sp,
                      uint64_t *ss_addr, uint64_t *ss_desc)
{
    unsigned tt = c->tr.attr & 0xf;
    if (lma) {
        /* 64-bit TSS: RSPn at 4 + 8n; SS becomes a null selector with RPL = n. */
        uint64_t off = 4 + 8 * (uint64_t)dpl;
        if ((tt != DT_TSS_AVAIL && tt != DT_TSS_BUSY) || off + 7 > c->tr.limit)
            cpu_raise(c, EXC_TS, SEL_ERR(c->tr.sel));
        *sp = mem_read_sys(c, c->tr.base + off, 8);
        if (!canonical48(*sp))
            cpu_raise(c, EXC_SS, 0);
        *ss = (struct segment){ .sel = (uint16_t)dpl,
                                .attr = (uint16_t)((dpl << 5) | SEG_ATTR_S | ST_WRITE | ST_ACCESSED) };
        *ss_addr = 0;
        return;
    }
    bool tss32 = tt == DT_TSS_AVAIL || tt == DT_TSS_BUSY;
    uint64_t sp_off = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl;
    uint64_t ss_off = tss32 ? 8 + 8 * dpl : 4 + 4 * dpl;
    if (ss_off + 1 > c->tr.limit)
        cpu_raise(c, EXC_TS, SEL_ERR(c->tr.sel));
    *sp = mem_read_sys(c, c->tr.base + sp_off, tss32 ? 4 : 2);
    uint16_t nss = (uint16_t)mem_read_sys(c, c->tr.base + ss_off, 2);
    if (SEL_NULL(nss) || SEL_RPL(nss) != dpl || !desc_read(c, nss, ss_desc, ss_addr))
        cpu_raise(c, EXC_TS, SEL_ERR(nss));
    uint16_t sa = desc_attr(*ss_desc);
    if (!attr_is_data(sa) || !(sa & ST_WRITE) || SEG_ATTR_DPL(sa) != dpl)
        cpu_raise(c, EXC_TS, SEL_ERR(nss));
    if (!(sa & SEG_ATTR_P))
        cpu_raise(c, EXC_SS, SEL_ERR(nss));
    seg_from_desc(ss, nss, *ss_desc);
    *sp &= (ss->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
}

void gate_far_transfer(struct cpu *c, uint16_t sel, bool call)
{
    uint64_t g, gaddr;
    if (!desc_read(c, sel, &g, &gaddr))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    uint16_t ga = desc_attr(g);
    unsigned type = ga & 0xf;
    bool lma = (c->efer & EFER_LMA) != 0;

    if (!lma && (type == DT_TASKGATE || type == DT_TSS16_AVAIL || type == DT_TSS_AVAIL))
        cpu_stop_unsupported(c, "far %s to %s %#x: hardware task switch", call ? "CALL" : "JMP",
                             type == DT_TASKGATE ? "task gate" : "TSS", sel);
    if (!(type == DT_CALLGATE || (type == DT_CALLGATE16 && !lma)))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    unsigned gdpl = SEG_ATTR_DPL(ga);
    if (gdpl < c->cpl || gdpl < SEL_RPL(sel))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if (!(ga & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(sel));

    uint16_t tsel = (uint16_t)(g >> 16);
    uint64_t off = (g & 0xffff) | (type == DT_CALLGATE ? (g >> 32) & 0xffff0000ull : 0);
    unsigned pcount = lma ? 0 : (g >> 32) & 0x1f;
    if (lma) {
        /* 16-byte gate: offset[63:32], and a zero type field in the upper half
         * (SDM Vol. 3A 5.8.3.1, Figure 5-9). */
        uint64_t limit = (sel & SEL_TI) ? c->ldtr.limit : c->gdtr.limit;
        if ((sel & 0xfff8u) + 15 > limit)
            cpu_raise(c, EXC_GP, SEL_ERR(sel));
        uint64_t hi = mem_read_sys(c, gaddr + 8, 8);
        if ((hi >> 40) & 0x1f)
            cpu_raise(c, EXC_GP, SEL_ERR(sel));
        off |= (hi & 0xffffffffull) << 32;
    }

    /* The target code segment. */
    uint64_t d, daddr;
    if (SEL_NULL(tsel))
        cpu_raise_gp0(c);
    if (!desc_read(c, tsel, &d, &daddr))
        cpu_raise(c, EXC_GP, SEL_ERR(tsel));
    uint16_t a = desc_attr(d);
    unsigned dpl = SEG_ATTR_DPL(a);
    if (!attr_is_code(a) || dpl > c->cpl)
        cpu_raise(c, EXC_GP, SEL_ERR(tsel));
    if (lma && (!(a & SEG_ATTR_L) || (a & SEG_ATTR_DB)))
        cpu_raise(c, EXC_GP, SEL_ERR(tsel));
    bool conforming = (a & ST_CONFORM) != 0;
    if (!call && !conforming && dpl != c->cpl)
        cpu_raise(c, EXC_GP, SEL_ERR(tsel));
    if (!(a & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(tsel));
    struct segment cs;
    seg_from_desc(&cs, tsel, d);
    seg_check_rip(c, &cs, lma, off);

    bool inner = call && !conforming && dpl < c->cpl;
    unsigned new_cpl = inner ? dpl : c->cpl;
    if (!call) {
        desc_set_accessed(c, daddr, &d);
        c->rip = off;
        seg_load_cs(c, tsel, d, new_cpl);
        return;
    }

    /* The frame: [SS, rSP, parameters...,] CS, rIP in slots of the gate's size. */
    unsigned w = lma ? 8 : type == DT_CALLGATE ? 4 : 2;
    uint64_t vals[4 + 31];
    unsigned n = 0;
    struct segment ss = c->seg[SEG_SS];
    uint64_t sp, ss_addr = 0, ss_desc = 0;
    uint32_t ss_err = 0;
    if (inner) {
        tss_stack(c, dpl, lma, &ss, &sp, &ss_addr, &ss_desc);
        ss_err = SEL_ERR(ss.sel);
        vals[n++] = c->seg[SEG_SS].sel;
        vals[n++] = c->gpr[RSP];
        /* Parameters from the caller's stack, read at its privilege (SDM CALL:
         * "FOR i <- ParamCount - 1 DOWN TO 0: Push(parameter[i])"). */
        unsigned asz = stack_addr_size(c);
        for (unsigned k = pcount; k-- > 0;) {
            uint64_t poff = (c->gpr[RSP] + (uint64_t)k * w) & size_mask(asz);
            vals[n++] = mem_read(c, seg_ea(c, SEG_SS, poff, w, ACC_READ), w);
        }
    } else {
        sp = c->gpr[RSP] & size_mask(stack_addr_size(c));
    }
    vals[n++] = c->seg[SEG_CS].sel;
    vals[n++] = c->rip;
    uint64_t mask = (lma && (inner || c->mode == MODE_LONG64)) ? ~0ull
                  : (ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
    /* Slots are written top-down; a fault on one leaves only bytes below the
     * old and new stack pointers changed, and no register. */
    bool flat = lma && (inner || c->mode == MODE_LONG64);
    uint64_t p = sp;
    for (unsigned k = 0; k < n; k++) {
        p = (p - w) & mask;
        uint64_t la = stack_slot(c, &ss, flat, p, w, ss_err);
        uint64_t v = vals[k] & size_mask(w);
        if (inner)
            mem_write_sys(c, la, v, w);     /* new CPL < 3: supervisor accesses (SDM Vol. 3A 4.6) */
        else
            mem_write(c, la, v, w);
    }

    /* Commit. */
    if (inner) {
        if (ss_addr)
            desc_set_accessed(c, ss_addr, &ss_desc);
        ss.attr |= ST_ACCESSED;
        c->seg[SEG_SS] = ss;
    }
    desc_set_accessed(c, daddr, &d);
    if (flat)
        c->gpr[RSP] = p;
    else
        gpr_write(c, RSP, (ss.attr & SEG_ATTR_DB) ? 4 : 2, p, false);
    c->rip = off;
    seg_load_cs(c, tsel, d, new_cpl);
}
