/* Control, debug and model-specific registers: MOV CRn/DRn, LMSW/SMSW/CLTS, INVLPG,
 * INVPCID, RDMSR/WRMSR, RDTSC/RDTSCP/RDPMC, CPUID.  Every control-state change is
 * passed to the mmu (mmu_set_*), which performs the TLB invalidations of
 * TLB-MODEL.md B-1.4; the CPU itself never touches TLB state.
 */
#include "cpu/cpu_models.h"
#include "cpu/cpuid.h"
#include "cpu/env.h"
#include "cpu/exception.h"
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/msr.h"
#include "cpu/operand.h"
#include "cpu/seg.h"
#include "mmu/walk.h"   /* WALK_MAXPHYADDR: CR3 reserved bits */

static inline void need_cpl0(struct cpu *c)
{
    if (c->cpl != 0)
        cpu_raise_gp0(c);
}

/* CR0 bits software can write; the rest of CR0[31:0] is reserved and ignored
 * (writes of 1 to bits 63:32 are #GP): SDM Vol. 3A 2.5. */
#define CR0_WRITABLE (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG)
/* CR4 bits of features CPUID advertises (plus OSFXSR/OSXMMEXCPT, harmless storage
 * until SSE arrives); anything else is reserved: #GP (SDM MOV CR). */
#define CR4_WRITABLE (CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | \
                      CR4_OSXMMEXCPT | CR4_UMIP | CR4_PCIDE | CR4_SMEP | CR4_SMAP | \
                      CR4_FSGSBASE | CR4_OSXSAVE)

/* CR0 (SDM Vol. 3A 10.8.5 for IA-32e activation): EFER.LMA = PG & LME. */
static void write_cr0(struct cpu *c, uint64_t v)
{
    if (v >> 32)
        cpu_raise_gp0(c);
    v = (v & CR0_WRITABLE) | CR0_ET;
    if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
        cpu_raise_gp0(c);
    bool pg_on = (v & CR0_PG) && !(c->cr0 & CR0_PG);
    bool pg_off = !(v & CR0_PG) && (c->cr0 & CR0_PG);
    if (pg_on && (c->efer & EFER_LME) && (!(c->cr4 & CR4_PAE) || (c->seg[SEG_CS].attr & SEG_ATTR_L)))
        cpu_raise_gp0(c);
    if (pg_off && (c->mode == MODE_LONG64 || (c->cr4 & CR4_PCIDE)))
        cpu_raise_gp0(c);

    c->cr0 = v;
    uint64_t efer = (c->efer & ~EFER_LMA) | (((v & CR0_PG) && (c->efer & EFER_LME)) ? EFER_LMA : 0);
    if (efer != c->efer) {
        c->efer = efer;
        mmu_set_efer(c->mmu, efer);
    }
    mmu_set_cr0(c->mmu, v);
    cpu_update_mode(c);
    c->attention |= ATTN_BLOCK_END;
}

static void write_cr3(struct cpu *c, uint64_t v)
{
    uint64_t hint = 0;
    if (c->efer & EFER_LMA) {
        if (c->cr4 & CR4_PCIDE)
            hint = v & (1ull << 63);            /* no-flush hint: passed to the mmu, not stored */
        if ((v & ~hint) >> WALK_MAXPHYADDR)
            cpu_raise_gp0(c);
    } else {
        v &= 0xffffffffull;
    }
    c->cr3 = v & ~hint;
    mmu_set_cr3(c->mmu, v);
}

static void write_cr4(struct cpu *c, uint64_t v)
{
    if (v & ~(uint64_t)CR4_WRITABLE)
        cpu_raise_gp0(c);
    if ((c->efer & EFER_LMA) && !(v & CR4_PAE))
        cpu_raise_gp0(c);
    /* Setting PCIDE needs IA-32e mode and CR3[11:0] = 0 (SDM MOV CR). */
    if ((v & CR4_PCIDE) && !(c->cr4 & CR4_PCIDE) && (!(c->efer & EFER_LMA) || (c->cr3 & 0xfff)))
        cpu_raise_gp0(c);
    uint64_t old = c->cr4;
    c->cr4 = v;
    mmu_set_cr4(c->mmu, v);
    c->attention |= ATTN_BLOCK_END;
    if ((old ^ v) & CR4_DE)
        dbg_update(c);                          /* DR7 R/W = 10 means I/O only with DE */
}

void h_mov_cr(struct cpu *c, const struct insn *i)
{
    unsigned n = i->reg;
    bool to_cr = i->opnd[0] == OPK_CREG;
    if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
        cpu_raise_ud(c);
    if (n == 8 && c->mode != MODE_LONG64)
        cpu_raise_ud(c);
    need_cpl0(c);
    unsigned os = c->mode == MODE_LONG64 ? 8 : 4;
    if (!to_cr) {
        uint64_t v = n == 0 ? c->cr0 : n == 2 ? c->cr2 : n == 3 ? c->cr3 : n == 4 ? c->cr4 : c->cr8;
        gpr_write(c, i->rm, os, v, false);
        return;
    }
    uint64_t v = c->gpr[i->rm] & size_mask(os);
    switch (n) {
    case 0: write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: write_cr3(c, v); break;
    case 4: write_cr4(c, v); break;
    case 8:
        if (v & ~0xfull)
            cpu_raise_gp0(c);
        c->cr8 = v;
        if (c->env && c->env->tpr_write)
            c->env->tpr_write(c->env_opaque, c, v);
        c->attention |= ATTN_INTR;              /* a lower TPR may unmask a pending interrupt */
        break;
    }
}

/* MOV DRn: the checks and the register semantics are the debug architecture's
 * (cpu/debug_arch.c).  Outside 64-bit mode the operand is 32 bits. */
void h_mov_dr(struct cpu *c, const struct insn *i)
{
    unsigned os = c->mode == MODE_LONG64 ? 8 : 4;
    if (i->opnd[0] == OPK_DREG)
        dbg_write_dr(c, i->reg, c->gpr[i->rm] & size_mask(os));
    else
        gpr_write(c, i->rm, os, dbg_read_dr(c, i->reg), false);
}

void h_lmsw(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    uint64_t v = opnd_read_sz(c, i, 0, 2) & 0xf;
    /* LMSW changes PE, MP, EM, TS only, and cannot clear PE (SDM LMSW). */
    write_cr0(c, (c->cr0 & ~0xeull) | v | (c->cr0 & CR0_PE));
}

void h_smsw(struct cpu *c, const struct insn *i)
{
    umip_check(c);      /* cpu/ops_desc.c */
    if (i->opnd[0] == OPK_RM && i->mod == 3)
        opnd_write(c, i, 0, c->cr0 & size_mask(i->osize));
    else
        opnd_write_sz(c, i, 0, 2, c->cr0 & 0xffff);
}

void h_clts(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    c->cr0 &= ~CR0_TS;
    mmu_set_cr0(c->mmu, c->cr0);
}

/* INVLPG m: no segment checks; a non-canonical address in 64-bit mode is a NOP
 * (TLB-MODEL.md B-1.4). */
void h_invlpg(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    uint64_t off = insn_offset(c, i);
    uint64_t la;
    if (c->mode == MODE_LONG64) {
        la = off + ((i->seg == SEG_FS || i->seg == SEG_GS) ? c->seg[i->seg].base : 0);
        if (!canonical48(la))
            return;
    } else {
        la = (c->seg[i->seg < SEG_COUNT ? i->seg : SEG_DS].base + off) & 0xffffffffull;
    }
    mmu_invlpg(c->mmu, la);
}

/* INVPCID r, m128: descriptor = PCID in bits 11:0 (63:12 must be 0), linear address
 * in the second quadword (SDM INVPCID). */
void h_invpcid(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    uint64_t type = c->gpr[i->reg] & size_mask(c->mode == MODE_LONG64 ? 8 : 4);
    uint64_t la_d = insn_ea(c, i, 16, ACC_READ);
    uint64_t lo = mem_read(c, la_d, 8);
    uint64_t la = mem_read(c, la_d + 8, 8);
    if (type > 3 || (lo >> 12))
        cpu_raise_gp0(c);
    uint16_t pcid = (uint16_t)(lo & 0xfff);
    if (type == 0 && !canonical48(la))
        cpu_raise_gp0(c);
    if (type <= 1 && !(c->cr4 & CR4_PCIDE) && pcid != 0)
        cpu_raise_gp0(c);
    if (!mmu_invpcid(c->mmu, (unsigned)type, pcid, la))
        cpu_raise_gp0(c);
}

void h_rdmsr(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    uint64_t v;
    if (!cpu_msr_read(c, (uint32_t)c->gpr[RCX], &v))
        cpu_raise_gp0(c);
    c->gpr[RAX] = (uint32_t)v;
    c->gpr[RDX] = v >> 32;
}

void h_wrmsr(struct cpu *c, const struct insn *i)
{
    need_cpl0(c);
    uint64_t v = ((uint64_t)(uint32_t)c->gpr[RDX] << 32) | (uint32_t)c->gpr[RAX];
    if (!cpu_msr_write(c, (uint32_t)c->gpr[RCX], v))
        cpu_raise_gp0(c);
    c->attention |= ATTN_BLOCK_END;             /* EFER and friends may change decoding/paging */
}

static void tsd_check(struct cpu *c)
{
    if ((c->cr4 & CR4_TSD) && c->cpl != 0)
        cpu_raise_gp0(c);
}

void h_rdtsc(struct cpu *c, const struct insn *i)
{
    tsd_check(c);
    uint64_t t = cpu_tsc(c);
    c->gpr[RAX] = (uint32_t)t;
    c->gpr[RDX] = t >> 32;
}

void h_rdtscp(struct cpu *c, const struct insn *i)
{
    tsd_check(c);
    uint64_t t = cpu_tsc(c);
    c->gpr[RAX] = (uint32_t)t;
    c->gpr[RDX] = t >> 32;
    c->gpr[RCX] = (uint32_t)c->msr.tsc_aux;
}

/* No performance counters are implemented: any counter index is invalid. */
void h_rdpmc(struct cpu *c, const struct insn *i)
{
    cpu_raise_gp0(c);
}

void h_cpuid(struct cpu *c, const struct insn *i)
{
    uint32_t o[4];
    cpu_cpuid(c, (uint32_t)c->gpr[RAX], (uint32_t)c->gpr[RCX], o);
    c->gpr[RAX] = o[0];
    c->gpr[RBX] = o[1];
    c->gpr[RCX] = o[2];
    c->gpr[RDX] = o[3];
}
