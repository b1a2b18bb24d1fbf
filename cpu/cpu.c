/* Processor life cycle: init, the power-on/reset state, the derived mode/CPL, stop
 * requests and the register dump.
 */
#include <inttypes.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/cpu_models.h"
#include "cpu/exception.h"
#include "cpu/fpu.h"
#include "cpu/flags.h"
#include "cpu/seg.h"
#include "mmu/mmu.h"

void cpu_init(struct cpu *c, struct mmu *m, const struct cpu_env *env, void *opaque)
{
    uint64_t freq = c->cpu_freq_hz;
    int vp = c->vp_index;
    const struct cpu_model *model = c->model;
    unsigned nr_vps = c->nr_vps;
    uint64_t rng_seed = c->rng_seed;
    memset(c, 0, sizeof *c);
    /* Configuration set by the caller before cpu_init survives it. */
    c->cpu_freq_hz = freq ? freq : 3000000000ull;
    c->vp_index = vp;
    cpu_set_model(c, model);
    c->nr_vps = nr_vps;
    c->rng_seed = rng_seed;
    cpu_rng_init(c);
    c->mmu = m;
    c->env = env;
    c->env_opaque = opaque;
    /* The x87/SSE power-on state is set here and not in cpu_reset, which also serves
     * INIT (hv/interrupts.c): INIT leaves the x87 FPU and SSE state unchanged (SDM
     * Vol. 3A 9.1 "Initialization overview", Vol. 1 11.6.4). */
    fpu_reset(c);
    cpu_reset(c);
}

/* SDM Vol. 3A Table 9-1 ("IA-32 and Intel 64 Processor States Following Power-up,
 * Reset, or INIT"). */
void cpu_reset(struct cpu *c)
{
    memset(c->gpr, 0, sizeof c->gpr);
    c->gpr[RDX] = cpuid_signature(c);          /* family/model/stepping, as CPUID.1:EAX */
    c->rip = 0xfff0;
    c->rflags = FL_FIXED1;
    memset(&c->lf, 0, sizeof c->lf);           /* LF_NONE: rflags is authoritative */
    c->attention = 0;
    c->intr_shadow = 0;
    c->halted = 0;
    c->insn_rip = c->rip;

    /* CS: selector F000, base FFFF0000, limit FFFF, present r/w accessed. */
    c->seg[SEG_CS] = (struct segment){ .base = 0xffff0000ull, .limit = 0xffff, .sel = 0xf000,
                                       .attr = SEG_ATTR_P | SEG_ATTR_S | ST_CODE | ST_READ | ST_ACCESSED };
    for (unsigned s = 0; s < SEG_COUNT; s++) {
        if (s != SEG_CS)
            c->seg[s] = (struct segment){ .base = 0, .limit = 0xffff, .sel = 0,
                                          .attr = SEG_ATTR_P | SEG_ATTR_S | ST_WRITE | ST_ACCESSED };
    }
    c->ldtr = (struct segment){ .limit = 0xffff, .attr = SEG_ATTR_P | DT_LDT };
    c->tr = (struct segment){ .limit = 0xffff, .attr = SEG_ATTR_P | DT_TSS_BUSY };
    c->gdtr = (struct dtr){ 0, 0xffff };
    c->idtr = (struct dtr){ 0, 0xffff };

    c->cr0 = 0x60000010ull;                    /* CD, NW, ET */
    c->cr2 = c->cr3 = c->cr4 = c->cr8 = 0;
    c->efer = 0;
    c->xcr0 = 1;

    uint64_t tsc_off = c->msr.tsc_offset;
    memset(&c->msr, 0, sizeof c->msr);
    c->msr.tsc_offset = tsc_off;               /* the TSC is not reset by INIT; power-on starts at cycles 0 */
    c->msr.pat = 0x0007040600070406ull;        /* SDM Vol. 3A 12.12.4 */
    /* APIC at FEE00000, globally enabled; BSP flag on VP 0 (SDM Vol. 3A 11.4.4). */
    c->msr.apic_base = 0xfee00000ull | (1ull << 11) | (c->vp_index == 0 ? 1ull << 8 : 0);
    c->msr.misc_enable = 1;                    /* fast-strings enable (SDM Vol. 4 Table 2-2) */
    /* MTRRCAP: 8 variable ranges (VCNT), fixed ranges (bit 8), write-combining (bit 10). */
    c->msr.mtrr_cap = 8 | (1u << 8) | (1u << 10);

    c->exc_nesting = -1;
    c->exc_vector = -1;
    c->exc_error = EXC_NO_ERROR;

    if (c->mmu) {
        mmu_set_efer(c->mmu, c->efer);
        mmu_set_cr4(c->mmu, c->cr4);
        mmu_set_cr3(c->mmu, c->cr3);
        mmu_set_cr0(c->mmu, c->cr0);
        mmu_set_cpl_ac(c->mmu, 0, false);
    }
    cpu_update_mode(c);
    dbg_reset(c);                              /* DR0-DR7 as in Table 9-1, no NMI blocking */
}

void cpu_update_mode(struct cpu *c)
{
    const struct segment *cs = &c->seg[SEG_CS];
    unsigned cpl;
    if (!(c->cr0 & CR0_PE)) {
        c->mode = MODE_REAL;
        cpl = 0;
    } else {
        if ((c->efer & EFER_LMA) && (cs->attr & SEG_ATTR_L))
            c->mode = MODE_LONG64;
        else
            c->mode = (cs->attr & SEG_ATTR_DB) ? MODE_PROT32 : MODE_PROT16;
        /* SS.DPL is always the CPL in protected mode (SDM Vol. 3A 5.5), and unlike
         * CS.RPL it is right in the instructions between setting CR0.PE and the far
         * jump that reloads CS. */
        cpl = (c->rflags & FL_VM) ? 3 : SEG_ATTR_DPL(c->seg[SEG_SS].attr);
    }
    c->cpl = (uint8_t)cpl;
    bool ac = (c->rflags & FL_AC) != 0;
    if (c->mmu && (c->mmu->cpl != cpl || c->mmu->ac != ac))
        mmu_set_cpl_ac(c->mmu, cpl, ac);
}

void cpu_request_stop(struct cpu *c, enum cpu_exit why, const char *msg)
{
    c->exit_reason = why;
    if (msg)
        snprintf(c->stop_msg, sizeof c->stop_msg, "%s", msg);
    else
        c->stop_msg[0] = 0;
    c->attention |= ATTN_STOP;
}

void cpu_dump_state(const struct cpu *c, FILE *out)
{
    static const char *const gname[16] = { "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                           "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15" };
    static const char *const sname[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    static const char *const mname[] = { "real", "prot16", "prot32", "long64" };

    fprintf(out, "VP %d  mode %s  CPL %u  halted %u  cycles %" PRIu64 "  insns %" PRIu64 "\n",
            c->vp_index, c->mode < 4 ? mname[c->mode] : "?", c->cpl, c->halted, c->cycles, c->icount);
    for (unsigned r = 0; r < 16; r++)
        fprintf(out, "%s=%016" PRIx64 "%s", gname[r], c->gpr[r], (r & 3) == 3 ? "\n" : " ");
    fprintf(out, "RIP=%016" PRIx64 " RFL=%08" PRIx64 " (insn at %016" PRIx64 ")\n",
            c->rip, flags_get(c), c->insn_rip);
    for (unsigned s = 0; s < SEG_COUNT; s++)
        fprintf(out, "%s =%04x %016" PRIx64 " %08x %03x\n", sname[s], c->seg[s].sel,
                c->seg[s].base, c->seg[s].limit, c->seg[s].attr);
    fprintf(out, "LDT=%04x %016" PRIx64 " %08x %03x\n", c->ldtr.sel, c->ldtr.base, c->ldtr.limit, c->ldtr.attr);
    fprintf(out, "TR =%04x %016" PRIx64 " %08x %03x\n", c->tr.sel, c->tr.base, c->tr.limit, c->tr.attr);
    fprintf(out, "GDT=     %016" PRIx64 " %08x\nIDT=     %016" PRIx64 " %08x\n",
            c->gdtr.base, c->gdtr.limit, c->idtr.base, c->idtr.limit);
    fprintf(out, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08" PRIx64 " CR8=%" PRIx64 "\n",
            c->cr0, c->cr2, c->cr3, c->cr4, c->cr8);
    fprintf(out, "EFER=%08" PRIx64 " DR6=%08" PRIx64 " DR7=%08" PRIx64 "\n", c->efer, c->dr[6], c->dr[7]);
}
