/* Descriptor-table and segment instructions: LGDT/LIDT/SGDT/SIDT, LLDT/SLDT,
 * LTR/STR, MOV/PUSH/POP Sreg, LAR/LSL/VERR/VERW, and the far transfers JMP/CALL
 * ptr16:xx / m16:xx and RETF (SDM Vol. 2 for each; protection rules Vol. 3A ch. 5).
 *
 * A far JMP/CALL to a system descriptor (call gate, task gate, TSS) goes to
 * cpu/gates.c: call gates are emulated, task switches stop the VP cleanly.
 */
#include "cpu/exception.h"
#include "cpu/flags.h"
#include "cpu/cpu_models.h"
#include "cpu/gates.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

static inline void need_cpl0(struct cpu *c)
{
    if (c->cpl != 0)
        cpu_raise_gp0(c);
}

static inline void need_prot(struct cpu *c)
{
    if (c->mode == MODE_REAL || (c->rflags & FL_VM))
        cpu_raise_ud(c);
}

/* ---- GDTR / IDTR --------------------------------------------------------------- */

/* The pseudo-descriptor: 2-byte limit, then an 8-byte base in 64-bit mode, else a
 * 4-byte base of which a 16-bit operand size keeps 24 bits (SDM LGDT/LIDT). */
static void load_dtr(struct cpu *c, const struct insn *i, struct dtr *d)
{
    need_cpl0(c);
    unsigned bsize = c->mode == MODE_LONG64 ? 8 : 4;
    uint64_t la = insn_ea(c, i, 2 + bsize, ACC_READ);
    uint16_t limit = (uint16_t)mem_read(c, la, 2);
    uint64_t base = mem_read(c, la + 2, bsize);
    if (bsize == 4 && i->osize == 2)
        base &= 0xffffff;
    if (bsize == 8 && !canonical48(base))
        cpu_raise_gp0(c);
    d->limit = limit;
    d->base = base;
}

/* UMIP (SDM Vol. 3A 2.5, CR4.UMIP): SGDT, SIDT, SLDT, SMSW and STR at CPL > 0 are #GP(0).
 * Shared with h_smsw (cpu/ops_msr.c). */
void umip_check(struct cpu *c)
{
    if ((c->cr4 & CR4_UMIP) && c->cpl > 0)
        cpu_raise_gp0(c);
}

static void store_dtr(struct cpu *c, const struct insn *i, const struct dtr *d)
{
    umip_check(c);
    unsigned bsize = c->mode == MODE_LONG64 ? 8 : 4;
    uint64_t la = insn_ea(c, i, 2 + bsize, ACC_WRITE);
    mem_probe_write(c, la, 2 + bsize);
    mem_write(c, la, d->limit, 2);
    mem_write(c, la + 2, d->base & size_mask(bsize), bsize);
}

void h_lgdt(struct cpu *c, const struct insn *i) { load_dtr(c, i, &c->gdtr); }
void h_lidt(struct cpu *c, const struct insn *i) { load_dtr(c, i, &c->idtr); }
void h_sgdt(struct cpu *c, const struct insn *i) { store_dtr(c, i, &c->gdtr); }
void h_sidt(struct cpu *c, const struct insn *i) { store_dtr(c, i, &c->idtr); }

/* ---- LDTR / TR ------------------------------------------------------------------- */

/* A system descriptor in the GDT (LDT or TSS): 16 bytes in IA-32e mode, whose upper
 * half supplies base[63:32] (SDM Vol. 3A 7.2.3, Figure 8-4). */
static uint64_t sys_desc_read(struct cpu *c, uint16_t sel, uint64_t *addr, uint64_t *base)
{
    uint64_t d;
    if (sel & SEL_TI)
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if (!desc_read(c, sel, &d, addr))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    *base = desc_base(d);
    if (c->efer & EFER_LMA) {
        if ((sel & 0xfff8u) + 15 > c->gdtr.limit)
            cpu_raise(c, EXC_GP, SEL_ERR(sel));
        uint64_t hi = mem_read_sys(c, *addr + 8, 8);
        *base |= (hi & 0xffffffffull) << 32;
        if (!canonical48(*base))
            cpu_raise(c, EXC_GP, SEL_ERR(sel));
    }
    return d;
}

void h_lldt(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    need_cpl0(c);
    uint16_t sel = (uint16_t)opnd_read_sz(c, i, 0, 2);
    if (SEL_NULL(sel)) {
        c->ldtr = (struct segment){ .sel = sel };        /* unusable */
        return;
    }
    uint64_t addr, base;
    uint64_t d = sys_desc_read(c, sel, &addr, &base);
    uint16_t a = desc_attr(d);
    if ((a & SEG_ATTR_S) || (a & 0xf) != DT_LDT)
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if (!(a & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(sel));
    seg_from_desc(&c->ldtr, sel, d);
    c->ldtr.base = base;
}

void h_ltr(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    need_cpl0(c);
    uint16_t sel = (uint16_t)opnd_read_sz(c, i, 0, 2);
    if (SEL_NULL(sel))
        cpu_raise_gp0(c);
    uint64_t addr, base;
    uint64_t d = sys_desc_read(c, sel, &addr, &base);
    uint16_t a = desc_attr(d);
    unsigned type = a & 0xf;
    /* An available TSS (a 16-bit one only outside IA-32e mode). */
    bool ok = !(a & SEG_ATTR_S) &&
              (type == DT_TSS_AVAIL || (type == DT_TSS16_AVAIL && !(c->efer & EFER_LMA)));
    if (!ok)
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if (!(a & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(sel));
    /* Mark it busy in the GDT (type bit 1), an implicit supervisor write. */
    d |= 2ull << 40;
    mem_write_sys(c, addr + 5, (d >> 40) & 0xff, 1);
    seg_from_desc(&c->tr, sel, d);
    c->tr.base = base;
}

/* SLDT/STR/SMSW-style stores: a register gets the operand size (zero-extended),
 * memory gets 16 bits. */
static void store_sel(struct cpu *c, const struct insn *i, uint16_t v)
{
    if (i->opnd[0] == OPK_RM && i->mod == 3)
        opnd_write(c, i, 0, v);
    else
        opnd_write_sz(c, i, 0, 2, v);
}

void h_sldt(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    umip_check(c);
    store_sel(c, i, c->ldtr.sel);
}

void h_str(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    umip_check(c);
    store_sel(c, i, c->tr.sel);
}

/* ---- MOV / PUSH / POP Sreg ----------------------------------------------------------- */

void h_mov_sreg(struct cpu *c, const struct insn *i)
{
    unsigned s = i->reg & 7;
    if (s >= SEG_COUNT)
        cpu_raise_ud(c);
    if (i->opnd[0] == OPK_SREG) {
        if (s == SEG_CS)
            cpu_raise_ud(c);                    /* SDM MOV: loading CS is #UD */
        uint16_t sel = (uint16_t)opnd_read_sz(c, i, 1, 2);
        seg_load(c, s, sel);
        if (s == SEG_SS) {
            c->intr_shadow = SHADOW_MOV_SS;     /* SDM MOV: inhibits interrupts (and debug
                                                 * exceptions) for one instruction */
            cpu_update_mode(c);
        }
    } else {
        store_sel(c, i, c->seg[s].sel);
    }
}

void h_push_sreg(struct cpu *c, const struct insn *i)
{
    stack_push(c, c->seg[i->reg & 7].sel, i->osize);
}

void h_pop_sreg(struct cpu *c, const struct insn *i)
{
    unsigned s = i->reg & 7;
    if (s == SEG_CS || s >= SEG_COUNT)
        cpu_raise_ud(c);
    /* Load first (it may fault), then move rSP: a fault leaves rSP as it was. */
    uint16_t sel = (uint16_t)stack_peek(c, 0, i->osize);
    seg_load(c, s, sel);
    stack_adjust(c, i->osize);
    if (s == SEG_SS) {
        c->intr_shadow = SHADOW_MOV_SS;
        cpu_update_mode(c);
    }
}

/* ---- LAR / LSL / VERR / VERW --------------------------------------------------------- */

/* The descriptor if it is visible at the current CPL and the selector's RPL (SDM LAR:
 * conforming code skips the privilege check). */
static bool desc_visible(struct cpu *c, uint16_t sel, uint64_t *d)
{
    uint64_t addr;
    if (SEL_NULL(sel) || !desc_read(c, sel, d, &addr))
        return false;
    uint16_t a = desc_attr(*d);
    if (attr_is_code(a) && (a & ST_CONFORM))
        return true;
    unsigned dpl = SEG_ATTR_DPL(a);
    return dpl >= c->cpl && dpl >= SEL_RPL(sel);
}

/* System types LAR (lar = true) or LSL accept: SDM LAR/LSL tables; IA-32e mode
 * keeps only LDT and the 64-bit TSS (and call gates for LAR). */
static bool sys_type_ok(const struct cpu *c, unsigned t, bool lar)
{
    if (c->efer & EFER_LMA)
        return t == DT_LDT || t == DT_TSS_AVAIL || t == DT_TSS_BUSY || (lar && t == DT_CALLGATE);
    switch (t) {
    case DT_TSS16_AVAIL: case DT_LDT: case DT_TSS16_BUSY: case DT_TSS_AVAIL: case DT_TSS_BUSY:
        return true;
    case DT_CALLGATE16: case DT_TASKGATE: case DT_CALLGATE:
        return lar;
    default:
        return false;
    }
}

static void set_zf(struct cpu *c, bool z)
{
    flags_write(c, z ? FL_ZF : 0, FL_ZF);
}

void h_lar(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    uint16_t sel = (uint16_t)opnd_read_sz(c, i, 1, 2);
    uint64_t d;
    bool ok = desc_visible(c, sel, &d);
    if (ok && !(desc_attr(d) & SEG_ATTR_S))
        ok = sys_type_ok(c, desc_attr(d) & 0xf, true);
    if (ok)
        opnd_write(c, i, 0, (d >> 32) & (i->osize == 2 ? 0xff00u : 0x00f0ff00u));
    set_zf(c, ok);
}

void h_lsl(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    uint16_t sel = (uint16_t)opnd_read_sz(c, i, 1, 2);
    uint64_t d;
    bool ok = desc_visible(c, sel, &d);
    if (ok && !(desc_attr(d) & SEG_ATTR_S))
        ok = sys_type_ok(c, desc_attr(d) & 0xf, false);
    if (ok)
        opnd_write(c, i, 0, desc_limit(d) & size_mask(i->osize));
    set_zf(c, ok);
}

void h_verr(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    uint64_t d;
    bool ok = desc_visible(c, (uint16_t)opnd_read_sz(c, i, 0, 2), &d);
    uint16_t a = desc_attr(d);
    set_zf(c, ok && (a & SEG_ATTR_S) && (!(a & ST_CODE) || (a & ST_READ)));
}

void h_verw(struct cpu *c, const struct insn *i)
{
    need_prot(c);
    uint64_t d;
    bool ok = desc_visible(c, (uint16_t)opnd_read_sz(c, i, 0, 2), &d);
    uint16_t a = desc_attr(d);
    set_zf(c, ok && attr_is_data(a) && (a & ST_WRITE));
}

/* ---- far JMP / CALL / RET ---------------------------------------------------------- */

/* The far pointer: ptr16:16/32 immediate, or m16:16/32/64 (offset first). */
static void far_operand(struct cpu *c, const struct insn *i, uint16_t *sel, uint64_t *off)
{
    unsigned os = i->osize;
    if (i->opnd[0] == OPK_FARPTR) {
        *off = i->imm & size_mask(os);
        *sel = i->imm2;
        return;
    }
    uint64_t la = insn_ea(c, i, os + 2, ACC_READ);
    *off = mem_read(c, la, os);
    *sel = (uint16_t)mem_read(c, la + os, 2);
}

/* Check a JMP/CALL target code segment at the current CPL (SDM Vol. 3A 5.8.1):
 * conforming needs DPL <= CPL; non-conforming needs RPL <= CPL and DPL = CPL. */
static uint64_t far_code(struct cpu *c, uint16_t sel, uint64_t off, bool *to64)
{
    uint64_t addr;
    uint64_t d = seg_check_code(c, sel, &addr);      /* call/task gates, TSS: #GP(sel) */
    uint16_t a = desc_attr(d);
    unsigned dpl = SEG_ATTR_DPL(a);
    if ((a & ST_CONFORM) ? dpl > c->cpl : (SEL_RPL(sel) > c->cpl || dpl != c->cpl))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if ((c->efer & EFER_LMA) && (a & SEG_ATTR_L) && (a & SEG_ATTR_DB))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if (!(a & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(sel));
    *to64 = (c->efer & EFER_LMA) && (a & SEG_ATTR_L);
    struct segment cs;
    seg_from_desc(&cs, sel, d);
    seg_check_rip(c, &cs, *to64, off);
    desc_set_accessed(c, addr, &d);
    return d;
}

static bool real_like(const struct cpu *c)
{
    return c->mode == MODE_REAL || (c->rflags & FL_VM);
}

void h_jmpf(struct cpu *c, const struct insn *i)
{
    uint16_t sel;
    uint64_t off;
    far_operand(c, i, &sel, &off);
    if (real_like(c)) {
        if (off > c->seg[SEG_CS].limit)
            cpu_raise_gp0(c);
        seg_load_real(c, SEG_CS, sel);
        c->rip = off;
        return;
    }
    if (gate_is_system(c, sel)) {
        gate_far_transfer(c, sel, false);       /* call gate, or a task switch (stop) */
        return;
    }
    bool to64;
    uint64_t d = far_code(c, sel, off, &to64);
    c->rip = off;
    /* This is how a multiboot entry enters 64-bit mode: ljmp $sel64, $start64 once
     * EFER.LMA is set.  seg_load_cs recomputes the mode. */
    seg_load_cs(c, sel, d, c->cpl);
}

void h_callf(struct cpu *c, const struct insn *i)
{
    uint16_t sel;
    uint64_t off;
    far_operand(c, i, &sel, &off);
    if (!real_like(c) && gate_is_system(c, sel)) {
        gate_far_transfer(c, sel, true);
        return;
    }
    unsigned os = i->osize;
    unsigned asz = stack_addr_size(c);
    uint64_t sp1 = (c->gpr[RSP] - os) & size_mask(asz);
    uint64_t sp2 = (c->gpr[RSP] - 2 * os) & size_mask(asz);
    bool to64 = false;
    uint64_t d = 0;
    if (real_like(c)) {
        if (off > c->seg[SEG_CS].limit)
            cpu_raise_gp0(c);
    } else {
        d = far_code(c, sel, off, &to64);
    }
    /* Push CS then the return offset; both writes precede any register change. */
    uint64_t la1 = seg_ea(c, SEG_SS, sp1, os, ACC_WRITE);
    uint64_t la2 = seg_ea(c, SEG_SS, sp2, os, ACC_WRITE);
    mem_probe_write(c, la1, os);
    mem_probe_write(c, la2, os);
    mem_write(c, la1, c->seg[SEG_CS].sel, os);
    mem_write(c, la2, c->rip & size_mask(os), os);
    gpr_write(c, RSP, asz, sp2, false);
    c->rip = off;
    if (real_like(c))
        seg_load_real(c, SEG_CS, sel);
    else
        seg_load_cs(c, sel, d, c->cpl);
}

/* RETF [imm16]: same privilege, or to an outer level popping SS:rSP too
 * (SDM RET, "RETURN-TO-OUTER-PRIVILEGE-LEVEL"). */
void h_retf(struct cpu *c, const struct insn *i)
{
    unsigned os = i->osize;
    uint64_t imm = i->opnd[0] == OPK_IMM ? (i->imm & 0xffff) : 0;
    uint64_t off = stack_peek(c, 0, os);
    uint16_t sel = (uint16_t)stack_peek(c, os, os);

    if (real_like(c)) {
        if (off > c->seg[SEG_CS].limit)
            cpu_raise_gp0(c);
        stack_adjust(c, (int64_t)(2 * os + imm));
        seg_load_real(c, SEG_CS, sel);
        c->rip = off;
        return;
    }
    unsigned rpl = SEL_RPL(sel);
    uint64_t addr;
    uint64_t d = seg_check_code(c, sel, &addr);
    uint16_t a = desc_attr(d);
    unsigned dpl = SEG_ATTR_DPL(a);
    if (rpl < c->cpl || ((a & ST_CONFORM) ? dpl > rpl : dpl != rpl))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    bool lma = (c->efer & EFER_LMA) != 0;
    if (lma && (a & SEG_ATTR_L) && (a & SEG_ATTR_DB))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if (!(a & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(sel));
    bool to64 = lma && (a & SEG_ATTR_L);
    struct segment cs;
    seg_from_desc(&cs, sel, d);
    seg_check_rip(c, &cs, to64, off);

    if (rpl == c->cpl) {
        desc_set_accessed(c, addr, &d);
        stack_adjust(c, (int64_t)(2 * os + imm));
        c->rip = off;
        seg_load_cs(c, sel, d, rpl);
        return;
    }
    /* Outer level: SS:rSP follow the parameters that imm16 skips. */
    uint64_t new_sp = stack_peek(c, 2 * os + imm, os);
    uint16_t ss_sel = (uint16_t)stack_peek(c, 3 * os + imm, os);
    struct segment ss = seg_check_return_ss(c, ss_sel, rpl, to64);
    desc_set_accessed(c, addr, &d);
    c->seg[SEG_SS] = ss;
    unsigned nasz = to64 ? 8 : (ss.attr & SEG_ATTR_DB) ? 4 : 2;
    gpr_write(c, RSP, nasz, new_sp + imm, false);
    c->rip = off;
    seg_load_cs(c, sel, d, rpl);
    seg_null_outer(c);
}
