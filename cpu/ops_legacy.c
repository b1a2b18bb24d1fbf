/* The general-purpose instructions that exist only outside 64-bit mode (or, for the
 * far-pointer loads LSS/LFS/LGS, in every mode): PUSHA/POPA, the BCD adjustments
 * DAA/DAS/AAA/AAS/AAM/AAD, SALC, BOUND, ARPL and LES/LDS/LSS/LFS/LGS.
 * Semantics: SDM Vol. 2 for each (SALC: the undocumented D6 "set AL from carry",
 * which Intel and AMD processors execute outside 64-bit mode and Capstone decodes).
 *
 * Fault rule (as everywhere): read and check everything first, commit last.
 */
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

/* ---- PUSHA / POPA ------------------------------------------------------------------ */

/* SDM PUSHA/PUSHAD: pushes AX, CX, DX, BX, the original SP, BP, SI, DI.  Every slot is
 * translated and write-probed before the first store, so a #SS/#PF leaves the stack
 * and ESP unchanged. */
void h_pusha(struct cpu *c, const struct insn *i)
{
    unsigned os = i->osize, asz = stack_addr_size(c);
    uint64_t la[8];
    for (unsigned k = 0; k < 8; k++) {
        uint64_t off = (c->gpr[RSP] - (k + 1) * os) & size_mask(asz);
        la[k] = seg_ea(c, SEG_SS, off, os, ACC_WRITE);
        mem_probe_write(c, la[k], os);
    }
    for (unsigned k = 0; k < 8; k++)
        mem_write(c, la[k], c->gpr[k] & size_mask(os), os);    /* RAX..RDI in encoding order */
    gpr_write(c, RSP, asz, c->gpr[RSP] - 8 * os, false);
}

/* SDM POPA/POPAD: DI, SI, BP, (skip SP), BX, DX, CX, AX. */
void h_popa(struct cpu *c, const struct insn *i)
{
    unsigned os = i->osize;
    uint64_t v[8];
    for (unsigned k = 0; k < 8; k++)
        v[7 - k] = stack_peek(c, (uint64_t)k * os, os);
    stack_adjust(c, 8 * (int64_t)os);
    for (unsigned r = 0; r < 8; r++)
        if (r != RSP)
            gpr_write(c, r, os, v[r], false);
}

/* ---- BCD adjustments ------------------------------------------------------------- */

static void put_al(struct cpu *c, uint64_t al)
{
    gpr_write(c, RAX, 1, al, false);
}

/* SDM DAA.  OF is undefined: Intel hosts leave it as the OF of the last ADD of 6/60h;
 * we produce 0 (the differential test compares only the defined flags). */
void h_daa(struct cpu *c, const struct insn *i)
{
    unsigned al = c->gpr[RAX] & 0xff, old_al = al;
    bool old_cf = flags_cf(c), af = flags_af(c), cf = false;
    if ((al & 0xf) > 9 || af) {
        cf = old_cf || al + 6 > 0xff;
        al = (al + 6) & 0xff;
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al + 0x60) & 0xff;
        cf = true;
    } else {
        cf = false;
    }
    put_al(c, al);
    flags_put_arith(c, flags_szp(al, 1) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
}

/* SDM DAS (no "else CF <- 0" in the second step: a borrow of the first stays). */
void h_das(struct cpu *c, const struct insn *i)
{
    unsigned al = c->gpr[RAX] & 0xff, old_al = al;
    bool old_cf = flags_cf(c), af = flags_af(c), cf = false;
    if ((al & 0xf) > 9 || af) {
        cf = old_cf || al < 6;
        al = (al - 6) & 0xff;
        af = true;
    } else {
        af = false;
    }
    if (old_al > 0x99 || old_cf) {
        al = (al - 0x60) & 0xff;
        cf = true;
    }
    put_al(c, al);
    flags_put_arith(c, flags_szp(al, 1) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
}

/* SDM AAA/AAS (current form: AX +/- 106h, i.e. AH is adjusted with AL's carry).
 * Only AF and CF are defined; SF/ZF/PF are given from the new AL and OF = 0. */
static void aaa_aas(struct cpu *c, bool sub)
{
    uint64_t ax = c->gpr[RAX] & 0xffff;
    bool adj = (ax & 0xf) > 9 || flags_af(c);
    if (adj)
        ax = sub ? ax - 6 - 0x100 : ax + 0x106;
    ax &= 0xff0f;
    gpr_write(c, RAX, 2, ax, false);
    flags_put_arith(c, flags_szp(ax & 0xff, 1) | (adj ? FL_CF | FL_AF : 0));
}

void h_aaa(struct cpu *c, const struct insn *i) { aaa_aas(c, false); }
void h_aas(struct cpu *c, const struct insn *i) { aaa_aas(c, true); }

/* SDM AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE for 0.  SF, ZF, PF from AL;
 * OF, AF, CF undefined (0 here). */
void h_aam(struct cpu *c, const struct insn *i)
{
    unsigned base = i->imm & 0xff, al = c->gpr[RAX] & 0xff;
    if (base == 0)
        cpu_raise(c, EXC_DE, EXC_NO_ERROR);
    unsigned ax = ((al / base) << 8) | (al % base);
    gpr_write(c, RAX, 2, ax, false);
    flags_put_arith(c, flags_szp(ax & 0xff, 1));
}

/* SDM AAD imm8: AL = (AL + AH * imm8) & FFh, AH = 0.  SF, ZF, PF from AL; the
 * undefined OF, AF, CF are those of the byte addition (as Intel hosts do). */
void h_aad(struct cpu *c, const struct insn *i)
{
    unsigned al = c->gpr[RAX] & 0xff, ah = (c->gpr[RAX] >> 8) & 0xff;
    unsigned prod = (ah * (unsigned)(i->imm & 0xff)) & 0xff;
    unsigned res = (al + prod) & 0xff;
    gpr_write(c, RAX, 2, res, false);
    flags_set(c, LF_ADD, 1, res, al, prod);
}

/* D6 (SALC): AL = CF ? FFh : 0; flags unchanged. */
void h_salc(struct cpu *c, const struct insn *i)
{
    put_al(c, flags_cf(c) ? 0xff : 0);
}

/* ---- BOUND, ARPL --------------------------------------------------------------------- */

/* SDM BOUND r16/32, m16&16 / m32&32: #BR (a fault) when the signed index is below the
 * lower or above the upper bound. */
void h_bound(struct cpu *c, const struct insn *i)
{
    unsigned os = i->osize;
    uint64_t la = insn_ea(c, i, 2 * os, ACC_READ);
    int64_t lo = sext(mem_read(c, la, os), os);
    int64_t hi = sext(mem_read(c, la + os, os), os);
    int64_t idx = sext(gpr_read(c, i->reg, os, false), os);
    if (idx < lo || idx > hi)
        cpu_raise(c, EXC_BR, EXC_NO_ERROR);
}

/* SDM ARPL r/m16, r16: #UD in real and virtual-8086 mode; raises the RPL of the
 * destination to that of the source and says so in ZF. */
void h_arpl(struct cpu *c, const struct insn *i)
{
    if (c->mode == MODE_REAL || (c->rflags & FL_VM))
        cpu_raise_ud(c);
    uint64_t dst = opnd_read_sz(c, i, 0, 2);
    uint64_t src = opnd_read_sz(c, i, 1, 2);
    bool adj = (dst & 3) < (src & 3);
    if (adj)
        opnd_write_sz(c, i, 0, 2, (dst & ~3ull) | (src & 3));
    flags_write(c, adj ? FL_ZF : 0, FL_ZF);
}

/* ---- LES / LDS / LSS / LFS / LGS --------------------------------------------------- */

/* SDM "LDS/LES/LFS/LGS/LSS—Load Far Pointer": m16:16/32/64 (offset first, then the
 * selector).  The segment load is done with every check of the mode (seg_load),
 * before the register is written, so a faulting load leaves both unchanged. */
void h_lfp(struct cpu *c, const struct insn *i)
{
    unsigned seg;
    switch (i->op) {
    case 0x0c4: seg = SEG_ES; break;
    case 0x0c5: seg = SEG_DS; break;
    case 0x1b2: seg = SEG_SS; break;
    case 0x1b4: seg = SEG_FS; break;
    case 0x1b5: seg = SEG_GS; break;
    default:    cpu_raise_ud(c);
    }
    unsigned os = i->osize;
    uint64_t la = insn_ea(c, i, os + 2, ACC_READ);
    uint64_t off = mem_read(c, la, os);
    uint16_t sel = (uint16_t)mem_read(c, la + os, 2);
    seg_load(c, seg, sel);
    gpr_write(c, i->reg, os, off, false);
    if (seg == SEG_SS)
        cpu_update_mode(c);             /* SS.DPL is the CPL; the stack size may change */
}
