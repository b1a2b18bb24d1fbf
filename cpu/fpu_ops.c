/* x87 instruction handlers (D8-DF, WAIT): the computing forms run on the host x87
 * (cpu/fpu_host.c, see cpu/fpu.h), the control instructions are written out here.
 * The rows that bind them are in cpu/decode_tables_x87.c.
 */
#include "cpu/fpu.h"
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

void fpu_enter(struct cpu *c, bool waiting)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
    if (waiting && (c->fpu.fsw & FSW_ES) && (c->cr0 & CR0_NE))
        cpu_raise(c, EXC_MF, EXC_NO_ERROR);
}

uint16_t fpu_tag_full(const struct cpu *c, uint8_t abridged)
{
    uint16_t ftw = 0;
    for (unsigned n = 0; n < 8; n++) {
        const uint8_t *r = c->fpu.st[n];
        unsigned exp = (r[9] & 0x7fu) << 8 | r[8], tag;
        uint64_t mant;
        memcpy(&mant, r, 8);
        if (!(abridged & (1u << n)))
            tag = 3;
        else if (exp == 0x7fff || (exp == 0 && mant) || (exp && !(mant >> 63)))
            tag = 2;                  /* NaN/infinity, denormal, unnormal */
        else if (exp == 0)
            tag = 1;
        else
            tag = 0;
        ftw |= (uint16_t)(tag << (2 * n));
    }
    return ftw;
}

void fpu_init_state(struct cpu *c)
{
    struct fpu_state *f = &c->fpu;
    f->fcw = FCW_INIT;
    f->fsw = 0;
    f->ftw = 0xffff;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

void fpu_reset(struct cpu *c)
{
    memset(&c->fpu, 0, sizeof c->fpu);
    c->fpu.fcw = FCW_POWERON;
    c->fpu.ftw = 0x5555;
    c->fpu.mxcsr = MXCSR_RESET;
    c->xcr0 = XCR0_X87;
}

/* The ModRM byte of a decoded x87 instruction (the decoder keeps its fields). */
static unsigned modrm_of(const struct insn *i)
{
    return (unsigned)i->mod << 6 | (i->reg & 7u) << 3 | (i->rm & 7u);
}

/* Memory operand size of D8+k /reg (SDM Vol. 2 Table A-7..A-21: m32fp/m32int/m64fp/
 * m16int/m80). 0: not a host-executed memory form. */
static unsigned mem_size(unsigned opc, unsigned reg)
{
    static const uint8_t size[8][8] = {
        { 4, 4, 4, 4, 4, 4, 4, 4 },      /* D8: arithmetic m32fp */
        { 4, 0, 4, 4, 0, 0, 0, 0 },      /* D9: FLD/FST/FSTP m32fp */
        { 4, 4, 4, 4, 4, 4, 4, 4 },      /* DA: arithmetic m32int */
        { 4, 4, 4, 4, 0, 10, 0, 10 },    /* DB: FILD/FISTTP/FIST/FISTP m32int, FLD/FSTP m80 */
        { 8, 8, 8, 8, 8, 8, 8, 8 },      /* DC: arithmetic m64fp */
        { 8, 8, 8, 8, 0, 0, 0, 0 },      /* DD: FLD/FISTTP/FST/FSTP m64 */
        { 2, 2, 2, 2, 2, 2, 2, 2 },      /* DE: arithmetic m16int */
        { 2, 2, 2, 2, 10, 8, 10, 8 },    /* DF: m16int forms, FBLD, FILD m64, FBSTP, FISTP m64 */
    };
    return size[(opc - 0xd8) & 7][reg & 7];
}

/* FOP/FIP/FCS (and FDP/FDS for memory forms): the last non-control instruction
 * (SDM Vol. 1 8.1.8, 8.1.9).  Always updated (we do not advertise FDP_EXCPTN_ONLY
 * nor the FCS/FDS deprecation of CPUID.7.0:EBX[6,13]). */
static void set_pointers(struct cpu *c, const struct insn *i)
{
    struct fpu_state *f = &c->fpu;
    f->fop = (uint16_t)(((i->op & 7u) << 8) | modrm_of(i));
    f->fip = c->insn_rip;
    f->fcs = c->seg[SEG_CS].sel;
    if (i->mod != 3) {
        f->fdp = insn_offset(c, i);
        f->fds = c->seg[i->seg < SEG_COUNT ? i->seg : SEG_DS].sel;
    }
}

/* Every computing x87 form without a memory destination. */
void h_fpu(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, true);
    uint8_t buf[16] = { 0 };
    unsigned opc = i->op & 0xff, modrm = modrm_of(i);
    if (i->mod != 3) {
        unsigned sz = mem_size(opc, i->reg);
        mem_read_bytes(c, insn_ea(c, i, sz, ACC_READ), buf, sz);
    }
    /* FCMOVcc (DA/DB C0-DF) reads CF/ZF/PF; FCOMI/FUCOMI(P) (DB/DF E8-F7) write
     * ZF/PF/CF and clear OF/SF/AF (SDM Vol. 2 FCOMI). */
    bool reads = i->mod == 3 && (opc == 0xda || opc == 0xdb) && (i->reg & 7) < 4;
    bool writes = i->mod == 3 && (opc == 0xdb || opc == 0xdf) && ((i->reg & 7) == 5 || (i->reg & 7) == 6);
    uint64_t fl = reads ? flags_get(c) : 0;
    fpu_host_exec(c, opc, modrm, i->mod != 3 ? buf : NULL, &fl);
    if (writes)
        flags_put_arith(c, fl);
    set_pointers(c, i);
}

/* FST/FSTP/FIST/FISTP/FISTTP/FBSTP to memory: the write is checked before the x87
 * state changes; an unmasked IE/DE/ZE/OE/UE leaves memory unchanged (SDM Vol. 1
 * 4.9.1, 8.5.x: "the destination operand is not changed"), an unmasked PE does not. */
void h_fpu_st(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, true);
    uint8_t buf[16] = { 0 };
    unsigned opc = i->op & 0xff, sz = mem_size(opc, i->reg);
    uint64_t la = insn_ea(c, i, sz, ACC_WRITE);
    mem_probe_write(c, la, sz);
    uint64_t fl = 0;
    uint16_t raised = fpu_host_exec(c, opc, modrm_of(i), buf, &fl) & FSW_EXC;
    if (!(raised & ~c->fpu.fcw & (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE)))
        mem_write_bytes(c, la, buf, sz);
    set_pointers(c, i);
}

/* FNSTSW m16 (DD /7) and FNSTSW AX (DF E0): no wait. */
void h_fnstsw(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, false);
    if (i->mod == 3)
        c->gpr[RAX] = (c->gpr[RAX] & ~0xffffull) | c->fpu.fsw;
    else
        mem_write(c, insn_ea(c, i, 2, ACC_WRITE), c->fpu.fsw, 2);
}

void h_fnstcw(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, false);
    mem_write(c, insn_ea(c, i, 2, ACC_WRITE), c->fpu.fcw, 2);
}

/* FLDCW: bits 13-15 and 7 are reserved (read 0), bit 6 reads 1 (checked on hardware:
 * FLDCW 0 -> FNSTCW 0040, FLDCW FFFF -> 1F7F).  Unmasking a pending flag sets ES. */
static uint16_t fcw_sanitise(uint32_t v)
{
    return (uint16_t)((v & 0x1f3fu) | 0x40u);
}

void h_fldcw(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, true);
    uint16_t v = (uint16_t)mem_read(c, insn_ea(c, i, 2, ACC_READ), 2);
    c->fpu.fcw = fcw_sanitise(v);
    c->fpu.fsw = fpu_fsw_summary(c->fpu.fsw, c->fpu.fcw);
}

void h_fninit(struct cpu *c, const struct insn *i)
{
    (void)i;
    fpu_enter(c, false);
    fpu_init_state(c);
}

/* FNCLEX: clears the exception flags, SF, ES and B (SDM Vol. 2 FCLEX). */
void h_fnclex(struct cpu *c, const struct insn *i)
{
    (void)i;
    fpu_enter(c, false);
    c->fpu.fsw &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

/* FNENI/FNDISI/FNSETPM (DB E0/E1/E4): 8087/287 leftovers, no operation on 387 and
 * later (SDM Vol. 2 Table A-?: "FNOP on IA-32"), no wait. */
void h_fnnop(struct cpu *c, const struct insn *i)
{
    (void)i;
    fpu_enter(c, false);
}

/* WAIT/FWAIT: #NM only with CR0.MP and CR0.TS (SDM Vol. 3A Table 2-2), then #MF. */
void h_fwait(struct cpu *c, const struct insn *i)
{
    (void)i;
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
    if ((c->fpu.fsw & FSW_ES) && (c->cr0 & CR0_NE))
        cpu_raise(c, EXC_MF, EXC_NO_ERROR);
}

/* EMMS (0F 77): all tags empty (SDM Vol. 2 EMMS); #UD with CR0.EM, #NM, #MF. */
void h_emms(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->cr0 & CR0_EM)
        cpu_raise_ud(c);
    fpu_enter(c, true);
    c->fpu.ftw = 0xffff;
}
