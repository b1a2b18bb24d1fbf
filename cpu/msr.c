/* RDMSR/WRMSR storage and side effects for the MSRs the processor owns.
 * Sources: SDM Vol. 4 Table 2-2 (architectural MSRs) and the sections cited below.
 */
#include "cpu/msr.h"
#include "cpu/cpu.h"
#include "cpu/debug_hook.h"
#include "cpu/env.h"
#include "cpu/seg.h"
#include "mmu/mmu.h"

static bool mtrr_var_index(uint32_t msr, unsigned *k)
{
    if (msr >= MSR_MTRR_PHYSBASE0 && msr < MSR_MTRR_PHYSBASE0 + 16) {
        *k = msr - MSR_MTRR_PHYSBASE0;
        return true;
    }
    return false;
}

/* The 11 fixed-range MTRRs in struct cpu_msrs order. */
static bool mtrr_fixed_index(uint32_t msr, unsigned *k)
{
    if (msr == MSR_MTRR_FIX64K) { *k = 0; return true; }
    if (msr == MSR_MTRR_FIX16K_80000) { *k = 1; return true; }
    if (msr == MSR_MTRR_FIX16K_A0000) { *k = 2; return true; }
    if (msr >= MSR_MTRR_FIX4K_C0000 && msr <= MSR_MTRR_FIX4K_C0000 + 7) {
        *k = 3 + (msr - MSR_MTRR_FIX4K_C0000);
        return true;
    }
    return false;
}

bool cpu_msr_read(struct cpu *c, uint32_t msr, uint64_t *v)
{
    unsigned k;
    switch (msr) {
    case MSR_TSC:           *v = cpu_tsc(c); return true;
    case MSR_APIC_BASE:     *v = c->msr.apic_base; return true;
    case MSR_FEATURE_CONTROL: *v = 1; return true;   /* locked, VMX/SMX off (SDM Vol. 3C 23.7) */
    case MSR_SPEC_CTRL:     *v = c->msr.spec_ctrl; return true;
    case MSR_UCODE_REV:     *v = 0; return true;     /* no microcode update loaded */
    /* An interpreter predicts no branches, so IBRS is in effect whatever SPEC_CTRL
     * holds: "enhanced IBRS".  RDCL_NO and the other _NO bits stay clear on purpose:
     * Linux then keeps page-table isolation (PTI), whose CR3/PCID switches are what
     * the TLB model is for.  (Without this MSR Linux's Skylake tables print
     * "RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable".) */
    case MSR_ARCH_CAPABILITIES: *v = ARCH_CAP_IBRS_ALL; return true;
    case MSR_MTRRCAP:       *v = c->msr.mtrr_cap; return true;
    case MSR_SYSENTER_CS:   *v = c->msr.sysenter_cs; return true;
    case MSR_SYSENTER_ESP:  *v = c->msr.sysenter_esp; return true;
    case MSR_SYSENTER_EIP:  *v = c->msr.sysenter_eip; return true;
    case MSR_MISC_ENABLE:   *v = c->msr.misc_enable; return true;
    case MSR_PAT:           *v = c->msr.pat; return true;
    case MSR_MTRR_DEF_TYPE: *v = c->msr.mtrr_def_type; return true;
    case MSR_EFER:          *v = c->efer; return true;
    case MSR_STAR:          *v = c->msr.star; return true;
    case MSR_LSTAR:         *v = c->msr.lstar; return true;
    case MSR_CSTAR:         *v = c->msr.cstar; return true;
    case MSR_SFMASK:        *v = c->msr.sfmask; return true;
    case MSR_FS_BASE:       *v = c->seg[SEG_FS].base; return true;
    case MSR_GS_BASE:       *v = c->seg[SEG_GS].base; return true;
    case MSR_KERNEL_GS_BASE: *v = c->msr.kernel_gs_base; return true;
    case MSR_TSC_AUX:       *v = c->msr.tsc_aux; return true;
    default:
        break;
    }
    if (mtrr_var_index(msr, &k)) {
        if (k >= 2 * (c->msr.mtrr_cap & 0xff))
            return false;
        *v = c->msr.mtrr_var[k];
        return true;
    }
    if (mtrr_fixed_index(msr, &k)) {
        *v = c->msr.mtrr_fixed[k];
        return true;
    }
    if (c->env && c->env->msr_read && c->env->msr_read(c->env_opaque, c, msr, v))
        return true;
    if (CPU_DBG_ON(CPU_DBG_UNIMP))
        cpu_debug_hooks->msr(c, msr, false, 0);
    return false;
}

/* A memory type byte of PAT/MTRRs: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC- (PAT only);
 * 2 and 3 are reserved (SDM Vol. 3A Table 12-10). */
static bool mem_type_ok(unsigned t, bool pat)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

static bool efer_write(struct cpu *c, uint64_t v)
{
    if (v & ~(EFER_WRITABLE | EFER_LMA))
        return false;
    /* LME may not change while paging is on (SDM Vol. 3A 10.8.5). */
    if ((c->cr0 & CR0_PG) && ((v ^ c->efer) & EFER_LME))
        return false;
    c->efer = (v & EFER_WRITABLE) | (c->efer & EFER_LMA);   /* LMA is read-only */
    mmu_set_efer(c->mmu, c->efer);
    return true;
}

bool cpu_msr_write(struct cpu *c, uint32_t msr, uint64_t v)
{
    unsigned k;
    switch (msr) {
    case MSR_TSC:
        c->msr.tsc_offset = v - c->cycles;      /* TSC = cycles + offset (DESIGN.md §4) */
        return true;
    case MSR_APIC_BASE:
        /* Bits 0-7, 9 and those above MAXPHYADDR are reserved; BSP (bit 8) is read-only. */
        if (v & (0xffull | (1ull << 9) | ~((1ull << 46) - 1)))
            return false;
        c->msr.apic_base = (v & ~(1ull << 8)) | (c->msr.apic_base & (1ull << 8));
        /* The local APIC (devices/) learns of relocation/enable/x2APIC through the env. */
        if (c->env && c->env->msr_write)
            c->env->msr_write(c->env_opaque, c, msr, c->msr.apic_base);
        return true;
    case MSR_SPEC_CTRL:
        if (v & ~7ull)          /* IBRS, STIBP, SSBD */
            return false;
        c->msr.spec_ctrl = v;
        return true;
    case MSR_PRED_CMD:
        return (v & ~1ull) == 0;                 /* IBPB: nothing to predict */
    case MSR_UCODE_REV:
        return true;                             /* Linux writes 0 before reading the revision */
    case MSR_SYSENTER_CS:   c->msr.sysenter_cs = v & 0xffff; return true;
    case MSR_SYSENTER_ESP:
        if (!canonical48(v)) return false;
        c->msr.sysenter_esp = v; return true;
    case MSR_SYSENTER_EIP:
        if (!canonical48(v)) return false;
        c->msr.sysenter_eip = v; return true;
    case MSR_MISC_ENABLE:
        c->msr.misc_enable = v;
        return true;
    case MSR_PAT:
        for (unsigned b = 0; b < 8; b++)
            if (!mem_type_ok((v >> (8 * b)) & 0xff, true))
                return false;
        c->msr.pat = v;
        return true;
    case MSR_MTRR_DEF_TYPE:
        /* Type in bits 7:0, FE (10), E (11); the rest is reserved. */
        if ((v & ~0xcffull) || !mem_type_ok(v & 0xff, false))
            return false;
        c->msr.mtrr_def_type = v;
        return true;
    case MSR_EFER:
        return efer_write(c, v);
    case MSR_STAR:          c->msr.star = v; return true;
    case MSR_LSTAR:
        if (!canonical48(v)) return false;
        c->msr.lstar = v; return true;
    case MSR_CSTAR:
        if (!canonical48(v)) return false;
        c->msr.cstar = v; return true;
    case MSR_SFMASK:        c->msr.sfmask = v & 0xffffffffull; return true;
    case MSR_FS_BASE:
        if (!canonical48(v)) return false;
        c->seg[SEG_FS].base = v; return true;
    case MSR_GS_BASE:
        if (!canonical48(v)) return false;
        c->seg[SEG_GS].base = v; return true;
    case MSR_KERNEL_GS_BASE:
        if (!canonical48(v)) return false;
        c->msr.kernel_gs_base = v; return true;
    case MSR_TSC_AUX:
        if (v >> 32) return false;
        c->msr.tsc_aux = v; return true;
    default:
        break;
    }
    if (mtrr_var_index(msr, &k)) {
        if (k >= 2 * (c->msr.mtrr_cap & 0xff))
            return false;
        c->msr.mtrr_var[k] = v;
        return true;
    }
    if (mtrr_fixed_index(msr, &k)) {
        for (unsigned b = 0; b < 8; b++)
            if (!mem_type_ok((v >> (8 * b)) & 0xff, false))
                return false;
        c->msr.mtrr_fixed[k] = v;
        return true;
    }
    if (c->env && c->env->msr_write && c->env->msr_write(c->env_opaque, c, msr, v))
        return true;
    if (CPU_DBG_ON(CPU_DBG_UNIMP))
        cpu_debug_hooks->msr(c, msr, true, v);
    return false;
}
