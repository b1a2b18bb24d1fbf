/* Saving and restoring the x87 environment and state: FNSTENV/FLDENV/FNSAVE/FRSTOR
 * (SDM Vol. 1 8.1.10, Figures 8-9..8-12), FXSAVE/FXRSTOR (Vol. 1 10.5.1, Table 10-2),
 * LDMXCSR/STMXCSR, XSAVE/XRSTOR/XSAVEOPT (Vol. 1 13.7-13.9, standard format only,
 * components 0 and 1), XGETBV/XSETBV (Vol. 1 13.3).
 */
#include "cpu/cpu_models.h"
#include "cpu/cpu_quirks.h"
#include "cpu/fpu.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

static void put16(uint8_t *b, unsigned v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *b, uint32_t v) { put16(b, v); put16(b + 2, v >> 16); }
static void put64(uint8_t *b, uint64_t v) { put32(b, (uint32_t)v); put32(b + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t get32(const uint8_t *b) { return get16(b) | (uint32_t)get16(b + 2) << 16; }
static uint64_t get64(const uint8_t *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }

/* FCW as software can load it: reserved bits 7 and 13-15 read 0, bit 6 reads 1
 * (checked on an Intel host: FLDCW 0 -> FNSTCW 0040, FLDCW FFFF -> 1F7F). */
static uint16_t fcw_load(uint32_t v) { return (uint16_t)((v & 0x1f3fu) | 0x40u); }

static bool real_format(const struct cpu *c)
{
    return c->mode == MODE_REAL || (c->rflags & FL_VM);
}

/* ---- FNSTENV / FLDENV / FNSAVE / FRSTOR ---- */

/* The environment image: 14 bytes (16-bit operand size) or 28 bytes, protected- or
 * real-mode layout.  Reserved words read FFFF (as the host writes them).  Real-mode
 * layouts hold the 20/32-bit linear FIP/FDP (selector * 16 + offset). */
static unsigned env_build(const struct cpu *c, bool o16, uint8_t *b)
{
    const struct fpu_state *f = &c->fpu;
    uint16_t ftw = fpu_tag_full(c, fpu_tag_abridged(f->ftw));
    uint32_t ip = (uint32_t)f->fip, dp = (uint32_t)f->fdp;
    if (real_format(c)) {
        ip += (uint32_t)f->fcs << 4;
        dp += (uint32_t)f->fds << 4;
    }
    if (o16) {
        put16(b, f->fcw); put16(b + 2, f->fsw); put16(b + 4, ftw);
        if (real_format(c)) {
            put16(b + 6, ip);
            put16(b + 8, ((ip >> 16) & 0xf) << 12 | (f->fop & 0x7ffu));
            put16(b + 10, dp);
            put16(b + 12, ((dp >> 16) & 0xf) << 12);
        } else {
            put16(b + 6, ip); put16(b + 8, f->fcs); put16(b + 10, dp); put16(b + 12, f->fds);
        }
        return 14;
    }
    put32(b, 0xffff0000u | f->fcw); put32(b + 4, 0xffff0000u | f->fsw); put32(b + 8, 0xffff0000u | ftw);
    if (real_format(c)) {
        put32(b + 12, 0xffff0000u | (ip & 0xffff));
        put32(b + 16, (ip >> 16) << 12 | (f->fop & 0x7ffu));
        put32(b + 20, 0xffff0000u | (dp & 0xffff));
        put32(b + 24, (dp >> 16) << 12);
    } else {
        put32(b + 12, ip);
        put32(b + 16, f->fcs | (uint32_t)(f->fop & 0x7ffu) << 16);
        put32(b + 20, dp);
        put32(b + 24, 0xffff0000u | f->fds);
    }
    return 28;
}

/* Load an environment image; only "empty or not" of the tag word is kept (P6+). */
static void env_load(struct cpu *c, bool o16, const uint8_t *b)
{
    struct fpu_state *f = &c->fpu;
    unsigned w = o16 ? 2 : 4;
    uint32_t v[7];
    for (unsigned k = 0; k < 7; k++)
        v[k] = o16 ? get16(b + k * w) : get32(b + k * w);
    f->fcw = fcw_load(v[0]);
    f->fsw = (uint16_t)v[1];
    f->ftw = fpu_tag_full(c, fpu_tag_abridged((uint16_t)v[2]));
    if (real_format(c)) {
        unsigned hi = o16 ? 4 : 16;
        f->fip = (v[3] & 0xffff) | ((v[4] >> 12) & ((1u << hi) - 1)) << 16;
        f->fop = v[4] & 0x7ff;
        f->fdp = (v[5] & 0xffff) | ((v[6] >> 12) & ((1u << hi) - 1)) << 16;
        f->fcs = f->fds = 0;
    } else {
        f->fip = v[3];
        f->fcs = (uint16_t)v[4];
        f->fop = o16 ? f->fop : (uint16_t)((v[4] >> 16) & 0x7ff);
        f->fdp = v[5];
        f->fds = (uint16_t)v[6];
    }
    /* ES/B follow the loaded flags and masks: the next waiting instruction faults
     * if an unmasked flag was loaded (SDM Vol. 2 FLDENV). */
    f->fsw = fpu_fsw_summary(f->fsw, f->fcw);
}

void h_fnstenv(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, false);
    uint8_t b[28];
    unsigned n = env_build(c, i->osize == 2, b);
    mem_write_bytes(c, insn_ea(c, i, n, ACC_WRITE), b, n);
    c->fpu.fcw |= FCW_MASKS;           /* FNSTENV masks every exception after saving */
    c->fpu.fsw = fpu_fsw_summary(c->fpu.fsw, c->fpu.fcw);
}

void h_fldenv(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, true);
    uint8_t b[28];
    unsigned n = i->osize == 2 ? 14 : 28;
    mem_read_bytes(c, insn_ea(c, i, n, ACC_READ), b, n);
    env_load(c, i->osize == 2, b);
}

void h_fnsave(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, false);
    uint8_t b[28 + 80];
    unsigned n = env_build(c, i->osize == 2, b), top = fpu_top(c);
    for (unsigned k = 0; k < 8; k++)
        memcpy(b + n + 10 * k, c->fpu.st[(top + k) & 7], 10);
    mem_write_bytes(c, insn_ea(c, i, n + 80, ACC_WRITE), b, n + 80);
    fpu_init_state(c);
}

void h_frstor(struct cpu *c, const struct insn *i)
{
    fpu_enter(c, true);
    uint8_t b[28 + 80];
    unsigned n = i->osize == 2 ? 14 : 28;
    mem_read_bytes(c, insn_ea(c, i, n + 80, ACC_READ), b, n + 80);
    uint16_t tags = (uint16_t)(i->osize == 2 ? get16(b + 4) : get32(b + 8));
    unsigned top = (get16(b + (i->osize == 2 ? 2 : 4)) >> FSW_TOP_SHIFT) & 7;
    for (unsigned k = 0; k < 8; k++)
        memcpy(c->fpu.st[(top + k) & 7], b + n + 10 * k, 10);
    env_load(c, i->osize == 2, b);
    c->fpu.ftw = fpu_tag_full(c, fpu_tag_abridged(tags));
}

/* ---- FXSAVE / FXRSTOR ---- */

/* XMM registers in the image: 16 in 64-bit mode, else 8 (SDM Vol. 1 Table 10-2). */
static unsigned xmm_count(const struct cpu *c) { return c->mode == MODE_LONG64 ? 16 : 8; }

/* The x87 part (bytes 0-23 and 32-159) of an FXSAVE image; rexw: FXSAVE64 layout
 * with 64-bit FIP/FDP, else 32-bit offsets with FCS/FDS. */
static void fx_put_x87(const struct cpu *c, uint8_t *b, bool rexw)
{
    const struct fpu_state *f = &c->fpu;
    put16(b, f->fcw);
    put16(b + 2, f->fsw);
    b[4] = fpu_tag_abridged(f->ftw);
    b[5] = 0;
    memset(b + 6, 0, 18);                       /* FOP, FIP, FCS, FDP, FDS and reserved */
    bool ptrs = !cpu_quirk(c, QUIRK_FXSAVE_PTRS_ON_ES) || (f->fsw & FSW_ES);
    if (ptrs) {
        put16(b + 6, f->fop & 0x7ffu);
        if (rexw) {
            put64(b + 8, f->fip);
            put64(b + 16, f->fdp);
        } else {
            put32(b + 8, (uint32_t)f->fip); put16(b + 12, f->fcs);
            put32(b + 16, (uint32_t)f->fdp); put16(b + 20, f->fds);
        }
    }
    unsigned top = fpu_top(c);
    for (unsigned k = 0; k < 8; k++) {
        memcpy(b + 32 + 16 * k, f->st[(top + k) & 7], 10);
        memset(b + 32 + 16 * k + 10, 0, 6);
    }
}

static void fx_get_x87(struct cpu *c, const uint8_t *b, bool rexw)
{
    struct fpu_state *f = &c->fpu;
    f->fcw = fcw_load(get16(b));
    f->fsw = get16(b + 2);
    f->fop = get16(b + 6) & 0x7ffu;
    if (rexw) {
        f->fip = get64(b + 8);
        f->fdp = get64(b + 16);
        f->fcs = f->fds = 0;          /* not in the 64-bit image */
    } else {
        f->fip = get32(b + 8); f->fcs = get16(b + 12);
        f->fdp = get32(b + 16); f->fds = get16(b + 20);
    }
    unsigned top = (f->fsw >> FSW_TOP_SHIFT) & 7;
    for (unsigned k = 0; k < 8; k++)
        memcpy(f->st[(top + k) & 7], b + 32 + 16 * k, 10);
    f->ftw = fpu_tag_full(c, b[4]);
    f->fsw = fpu_fsw_summary(f->fsw, f->fcw);
}

static void fx_put_sse(const struct cpu *c, uint8_t *b, bool mxcsr, bool regs)
{
    if (mxcsr) {
        put32(b + 24, c->fpu.mxcsr);
        put32(b + 28, cpu_model_of(c)->mxcsr_mask);
    }
    if (regs)
        memcpy(b + 160, c->fpu.xmm, 16 * xmm_count(c));
}

/* MXCSR from an image: reserved bits set -> #GP(0) (SDM Vol. 2 FXRSTOR, XRSTOR, LDMXCSR). */
static uint32_t mxcsr_check(struct cpu *c, uint32_t v)
{
    if (v & ~cpu_model_of(c)->mxcsr_mask)
        cpu_raise_gp0(c);
    return v;
}

/* #NM for CR0.TS or CR0.EM (SDM Vol. 2 FXSAVE "Protected Mode Exceptions"). */
static uint64_t fx_area(struct cpu *c, const struct insn *i, unsigned size, unsigned align, enum mmu_access acc)
{
    uint64_t la = insn_ea(c, i, size, acc);
    if (la & (align - 1))
        cpu_raise_gp0(c);
    return la;
}

void h_fxsave(struct cpu *c, const struct insn *i)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
    uint8_t b[512];
    uint64_t la = fx_area(c, i, 512, 16, ACC_WRITE);
    unsigned len = 160 + 16 * xmm_count(c);    /* bytes 416-511 are never written */
    mem_read_bytes(c, la, b, len);             /* keeps what FXSAVE does not write */
    bool rexw = c->mode == MODE_LONG64 && i->osize == 8;
    fx_put_x87(c, b, rexw);
    /* MXCSR and XMM only with CR4.OSFXSR (implementation-specific: SDM Vol. 2 FXSAVE;
     * as QEMU does, so guests behave alike on both). */
    bool sse = c->cr4 & CR4_OSFXSR;
    fx_put_sse(c, b, sse, sse);
    mem_write_bytes(c, la, b, len);
}

void h_fxrstor(struct cpu *c, const struct insn *i)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
    uint8_t b[512];
    uint64_t la = fx_area(c, i, 512, 16, ACC_READ);
    unsigned len = 160 + 16 * xmm_count(c);
    mem_read_bytes(c, la, b, len);
    bool sse = c->cr4 & CR4_OSFXSR;
    uint32_t mxcsr = sse ? mxcsr_check(c, get32(b + 24)) : c->fpu.mxcsr;
    fx_get_x87(c, b, c->mode == MODE_LONG64 && i->osize == 8);
    if (sse) {
        c->fpu.mxcsr = mxcsr;
        memcpy(c->fpu.xmm, b + 160, 16 * xmm_count(c));
    }
}

/* ---- LDMXCSR / STMXCSR (SSE availability rules: #UD for CR0.EM or !CR4.OSFXSR, #NM) ---- */

static void sse_avail(struct cpu *c)
{
    if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
        cpu_raise_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
}

void h_ldmxcsr(struct cpu *c, const struct insn *i)
{
    sse_avail(c);
    uint32_t v = (uint32_t)mem_read(c, insn_ea(c, i, 4, ACC_READ), 4);
    c->fpu.mxcsr = mxcsr_check(c, v);
}

void h_stmxcsr(struct cpu *c, const struct insn *i)
{
    sse_avail(c);
    mem_write(c, insn_ea(c, i, 4, ACC_WRITE), c->fpu.mxcsr, 4);
}

/* ---- XSAVE family ---- */

static void xsave_avail(struct cpu *c)
{
    if (!(c->cr4 & CR4_OSXSAVE))
        cpu_raise_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
}

/* XSAVE and XSAVEOPT (no init/modified optimisation: every requested component is
 * written and its XSTATE_BV bit set, which SDM Vol. 1 13.6 allows, "XINUSE[i] may be
 * 1 in the initial configuration"). */
static void do_xsave(struct cpu *c, const struct insn *i)
{
    xsave_avail(c);
    uint64_t rfbm = c->xcr0 & ((c->gpr[RDX] & 0xffffffffull) << 32 | (c->gpr[RAX] & 0xffffffffull));
    uint8_t b[XSAVE_AREA_SIZE];
    uint64_t la = fx_area(c, i, XSAVE_AREA_SIZE, 64, ACC_WRITE);
    mem_read_bytes(c, la, b, XSAVE_AREA_SIZE);   /* bytes of components not saved stay */
    bool rexw = c->mode == MODE_LONG64 && i->osize == 8;
    if (rfbm & XCR0_X87) {
        uint8_t mx[8];
        memcpy(mx, b + 24, 8);                   /* MXCSR belongs to component 1 */
        fx_put_x87(c, b, rexw);
        memcpy(b + 24, mx, 8);
    }
    if (rfbm & XCR0_SSE)
        fx_put_sse(c, b, true, true);
    put64(b + 512, get64(b + 512) | (rfbm & XCR0_SUPPORTED));
    mem_write_bytes(c, la, b, XSAVE_AREA_SIZE);
}

void h_xsave(struct cpu *c, const struct insn *i) { do_xsave(c, i); }
void h_xsaveopt(struct cpu *c, const struct insn *i) { do_xsave(c, i); }

/* XRSTOR, standard form (SDM Vol. 1 13.8.1).  #GP: misaligned, XSTATE_BV bits outside
 * XCR0, XCOMP_BV or header bytes 16-23 non-zero (the compacted form needs XSAVEC, not
 * advertised), reserved MXCSR bits.  MXCSR is loaded whenever RFBM[1] is set. */
void h_xrstor(struct cpu *c, const struct insn *i)
{
    xsave_avail(c);
    uint64_t rfbm = c->xcr0 & ((c->gpr[RDX] & 0xffffffffull) << 32 | (c->gpr[RAX] & 0xffffffffull));
    uint8_t b[XSAVE_AREA_SIZE];
    uint64_t la = fx_area(c, i, XSAVE_AREA_SIZE, 64, ACC_READ);
    mem_read_bytes(c, la, b, XSAVE_AREA_SIZE);
    uint64_t xstate_bv = get64(b + 512);
    if ((xstate_bv & ~c->xcr0) || get64(b + 520) || get64(b + 528))
        cpu_raise_gp0(c);
    uint32_t mxcsr = (rfbm & XCR0_SSE) ? mxcsr_check(c, get32(b + 24)) : c->fpu.mxcsr;
    if (rfbm & XCR0_X87) {
        if (xstate_bv & XCR0_X87) {
            fx_get_x87(c, b, c->mode == MODE_LONG64 && i->osize == 8);
        } else {
            fpu_init_state(c);
            memset(c->fpu.st, 0, sizeof c->fpu.st);
        }
    }
    if (rfbm & XCR0_SSE) {
        c->fpu.mxcsr = mxcsr;
        if (xstate_bv & XCR0_SSE)
            memcpy(c->fpu.xmm, b + 160, 16 * xmm_count(c));
        else
            memset(c->fpu.xmm, 0, 16 * xmm_count(c));
    }
}

/* XGETBV: #UD without CR4.OSXSAVE, #GP for ECX != 0 (XGETBV with ECX = 1 is not
 * advertised: CPUID.(0DH,1):EAX[2] = 0). */
void h_xgetbv(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!(c->cr4 & CR4_OSXSAVE))
        cpu_raise_ud(c);
    if ((uint32_t)c->gpr[RCX] != 0)
        cpu_raise_gp0(c);
    c->gpr[RAX] = (uint32_t)c->xcr0;
    c->gpr[RDX] = (uint32_t)(c->xcr0 >> 32);
}

/* XSETBV (SDM Vol. 2 XSETBV): #UD without CR4.OSXSAVE; #GP at CPL > 0, ECX != 0,
 * bit 0 clear, or a bit we do not support. */
void h_xsetbv(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!(c->cr4 & CR4_OSXSAVE))
        cpu_raise_ud(c);
    uint64_t v = (c->gpr[RDX] & 0xffffffffull) << 32 | (c->gpr[RAX] & 0xffffffffull);
    if (c->cpl != 0 || (uint32_t)c->gpr[RCX] != 0 || !(v & XCR0_X87) || (v & ~(uint64_t)XCR0_SUPPORTED))
        cpu_raise_gp0(c);
    c->xcr0 = v;
}
