/* MMX/SSE data movement, inserts/extracts, MOVBE, CRC32, and the shared helpers of
 * cpu/sse.h (memory operands, the MMX transition, the MXCSR commit).
 * Semantics: SDM Vol. 2 (each instruction's "Operation"); alignment: SDM Vol. 1 11.4.1.
 */
#pragma GCC target("sse4.2")
#include <stdio.h>
#include <stdlib.h>
#include "cpu/sse.h"
#include "cpu/handlers.h"

/* ------------------------------------------------------------------ helpers */

/* The SSE handlers execute host SSE4.2 instructions (cpu/sse.h); refuse to run on a
 * host without them rather than die of SIGILL in the middle of a guest. */
__attribute__((constructor)) static void sse_check_host(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("popcnt")) {
        fprintf(stderr, "hvemu: the host CPU lacks SSE4.2, which the SSE emulation uses (cpu/sse.h)\n");
        exit(1);
    }
}

void mmx_enter(struct cpu *c)
{
    if (c->cr0 & CR0_EM)
        cpu_raise_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, EXC_NO_ERROR);
    if (c->fpu.fsw & FSW_ES)                    /* a pending unmasked x87 exception */
        cpu_raise(c, EXC_MF, EXC_NO_ERROR);
    fpu_mmx_transition(c);          /* TOP = 0, all tags valid (SDM Vol. 1 9.5.1) */
}

static uint64_t m_ea(struct cpu *c, const struct insn *i, unsigned size, enum mmu_access acc, bool align16)
{
    uint64_t la = insn_ea(c, i, size, acc);
    if (align16 && (la & 15))
        cpu_raise_gp0(c);
    return la;
}

__m128i sse_read_m128(struct cpu *c, const struct insn *i, bool align16)
{
    uint64_t la = m_ea(c, i, 16, ACC_READ, align16);
    uint64_t q[2];
    if ((la & 0xfff) <= 0xff0) {
        q[0] = mem_read(c, la, 8);
        q[1] = mem_read(c, la + 8, 8);
    } else {
        mem_read_bytes(c, la, q, 16);
    }
    return _mm_loadu_si128((const __m128i *)q);
}

void sse_write_m128(struct cpu *c, const struct insn *i, __m128i v, bool align16)
{
    uint64_t la = m_ea(c, i, 16, ACC_WRITE, align16);
    uint64_t q[2];
    _mm_storeu_si128((__m128i *)q, v);
    if ((la & 0xfff) <= 0xff0) {      /* one page: the second half cannot fault differently */
        mem_write(c, la, q[0], 8);
        mem_write(c, la + 8, q[1], 8);
    } else {
        mem_write_bytes(c, la, q, 16);
    }
}

uint64_t sse_read_m(struct cpu *c, const struct insn *i, unsigned size)
{
    return mem_read(c, insn_ea(c, i, size, ACC_READ), size);
}

void sse_write_m(struct cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
    mem_write(c, insn_ea(c, i, size, ACC_WRITE), v, size);
}

void sse_fp_end(struct cpu *c, uint32_t host, uint32_t raised)
{
    if ((sse_host_getcsr() & ~MXCSR_FLAGS) != host)
        sse_host_setcsr(host);              /* the host's control bits (and no flags) */
    uint32_t unmasked = raised & ~(c->fpu.mxcsr >> 7) & MXCSR_FLAGS;
    uint32_t pre = raised & (MXCSR_IE | MXCSR_DE | MXCSR_ZE);
    if (unmasked & pre)
        raised = pre;
    c->fpu.mxcsr |= raised;
    if (unmasked) {
        if (c->cr4 & CR4_OSXMMEXCPT)
            cpu_raise(c, EXC_XM, EXC_NO_ERROR);
        cpu_raise_ud(c);
    }
}

/* --------------------------------------------------------------- XMM moves */

/* MOVUPS/MOVUPD/MOVSS/MOVSD loads: scalar loads from memory zero the rest, register
 * forms merge the low element. */
void h_movu(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned col = sse_col(i);
    if (col <= COL_66) {
        xmm_set(c, i->reg, i->mod == 3 ? xmm_get(c, i->rm) : sse_read_m128(c, i, false));
        return;
    }
    unsigned sz = col == COL_F3 ? 4 : 8;
    if (i->mod != 3) {
        xmm_set(c, i->reg, _mm_cvtsi64_si128((long long)sse_read_m(c, i, sz)));
        return;
    }
    xmm_reg d = c->fpu.xmm[i->reg], s = c->fpu.xmm[i->rm];
    memcpy(&d, &s, sz);
    c->fpu.xmm[i->reg] = d;
}

void h_movu_st(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned col = sse_col(i);
    if (col <= COL_66) {
        if (i->mod == 3)
            xmm_set(c, i->rm, xmm_get(c, i->reg));
        else
            sse_write_m128(c, i, xmm_get(c, i->reg), false);
        return;
    }
    unsigned sz = col == COL_F3 ? 4 : 8;
    if (i->mod != 3) {
        sse_write_m(c, i, sz, c->fpu.xmm[i->reg].q[0] & size_mask(sz));
        return;
    }
    memcpy(&c->fpu.xmm[i->rm], &c->fpu.xmm[i->reg], sz);
}

/* MOVAPS/MOVAPD (and MOVNTPS/PD/DQ stores: no caches are modelled). */
void h_mova(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_set(c, i->reg, sse_src(c, i));
}

void h_mova_st(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    if (i->mod == 3)
        xmm_set(c, i->rm, xmm_get(c, i->reg));
    else
        sse_write_m128(c, i, xmm_get(c, i->reg), true);
}

void h_movdqa(struct cpu *c, const struct insn *i) { h_mova(c, i); }
void h_movdqa_st(struct cpu *c, const struct insn *i) { h_mova_st(c, i); }
/* MOVDQU (F3 0F 6F / 7F): unaligned 128-bit moves. */
void h_movdqu(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_set(c, i->reg, i->mod == 3 ? xmm_get(c, i->rm) : sse_read_m128(c, i, false));
}

void h_movdqu_st(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    if (i->mod == 3)
        xmm_set(c, i->rm, xmm_get(c, i->reg));
    else
        sse_write_m128(c, i, xmm_get(c, i->reg), false);
}

/* LDDQU and MOVNTDQA: LDDQU is unaligned, MOVNTDQA requires alignment. */
void h_lddqu(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_set(c, i->reg, sse_read_m128(c, i, false));
}

void h_movntdqa(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_set(c, i->reg, sse_read_m128(c, i, true));
}

/* MOVLPS m64 / MOVHLPS (register form): the low quadword. */
void h_movlps(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    c->fpu.xmm[i->reg].q[0] = i->mod == 3 ? c->fpu.xmm[i->rm].q[1] : sse_read_m(c, i, 8);
}

void h_movlpd(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    c->fpu.xmm[i->reg].q[0] = sse_read_m(c, i, 8);
}

/* MOVLPS/MOVLPD m64, xmm. */
void h_movlps_st(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    sse_write_m(c, i, 8, c->fpu.xmm[i->reg].q[0]);
}

/* MOVHPS m64 / MOVLHPS (register form): the high quadword. */
void h_movhps(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    c->fpu.xmm[i->reg].q[1] = i->mod == 3 ? c->fpu.xmm[i->rm].q[0] : sse_read_m(c, i, 8);
}

void h_movhpd(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    c->fpu.xmm[i->reg].q[1] = sse_read_m(c, i, 8);
}

void h_movhps_st(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    sse_write_m(c, i, 8, c->fpu.xmm[i->reg].q[1]);
}

/* SSE3 duplicating loads: the m128 forms of MOVSLDUP/MOVSHDUP are aligned, MOVDDUP reads m64. */
void h_movsldup(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_set(c, i->reg, _mm_shuffle_epi32(sse_src(c, i), 0xa0));
}

void h_movshdup(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    xmm_set(c, i->reg, _mm_shuffle_epi32(sse_src(c, i), 0xf5));
}

void h_movddup(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    uint64_t v = i->mod == 3 ? c->fpu.xmm[i->rm].q[0] : sse_read_m(c, i, 8);
    c->fpu.xmm[i->reg].q[0] = v;
    c->fpu.xmm[i->reg].q[1] = v;
}

/* ---------------------------------------------------------- MOVD/MOVQ family */

/* MOVD/MOVQ mm/xmm, r/m32/64 (0F 6E, 66 0F 6E): zero-extends into the register. */
void h_movd_to(struct cpu *c, const struct insn *i)
{
    uint64_t v;
    if (sse_col(i) == COL_66) {
        sse_enter(c);
        v = opnd_read(c, i, 1);
        xmm_set(c, i->reg, _mm_cvtsi64_si128((long long)v));
    } else {
        mmx_enter(c);
        v = opnd_read(c, i, 1);
        mmx_set(c, i->reg, v);
    }
}

/* MOVD/MOVQ r/m32/64, mm/xmm (0F 7E, 66 0F 7E). */
void h_movd_from(struct cpu *c, const struct insn *i)
{
    if (sse_col(i) == COL_66) {
        sse_enter(c);
        opnd_write(c, i, 0, c->fpu.xmm[i->reg].q[0]);
    } else {
        mmx_enter(c);
        opnd_write(c, i, 0, mmx_get(c, i->reg));
    }
}

/* MOVQ mm, mm/m64 (0F 6F) and MOVQ mm/m64, mm (0F 7F). */
void h_movq_mm(struct cpu *c, const struct insn *i)
{
    mmx_enter(c);
    mmx_set(c, i->reg, mmx_src(c, i));
}

void h_movq_mm_st(struct cpu *c, const struct insn *i)
{
    mmx_enter(c);
    uint64_t v = mmx_get(c, i->reg);
    if (i->mod == 3)
        mmx_set(c, i->rm, v);
    else
        sse_write_m(c, i, 8, v);
}

/* MOVNTQ m64, mm. */
void h_movntq(struct cpu *c, const struct insn *i)
{
    mmx_enter(c);
    sse_write_m(c, i, 8, mmx_get(c, i->reg));
}

/* MOVQ xmm, xmm/m64 (F3 0F 7E): zero-extends. */
void h_movq_load(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    uint64_t v = i->mod == 3 ? c->fpu.xmm[i->rm].q[0] : sse_read_m(c, i, 8);
    xmm_set(c, i->reg, _mm_cvtsi64_si128((long long)v));
}

/* MOVQ xmm/m64, xmm (66 0F D6): the register form zero-extends the destination. */
void h_movq_st(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    uint64_t v = c->fpu.xmm[i->reg].q[0];
    if (i->mod == 3)
        xmm_set(c, i->rm, _mm_cvtsi64_si128((long long)v));
    else
        sse_write_m(c, i, 8, v);
}

/* MOVQ2DQ xmm, mm and MOVDQ2Q mm, xmm: register forms only. */
void h_movq2dq(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3)
        cpu_raise_ud(c);
    sse_enter(c);
    mmx_enter(c);
    xmm_set(c, i->reg, _mm_cvtsi64_si128((long long)mmx_get(c, i->rm)));
}

void h_movdq2q(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3)
        cpu_raise_ud(c);
    sse_enter(c);
    mmx_enter(c);
    mmx_set(c, i->reg, c->fpu.xmm[i->rm].q[0]);
}

/* ------------------------------------------------------------- mask moves */

void h_movmskp(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3)
        cpu_raise_ud(c);
    sse_enter(c);
    __m128i v = xmm_get(c, i->rm);
    unsigned m = sse_col(i) == COL_66 ? (unsigned)_mm_movemask_pd(_mm_castsi128_pd(v))
                                      : (unsigned)_mm_movemask_ps(_mm_castsi128_ps(v));
    c->gpr[i->reg] = m;         /* 32- and 64-bit destinations: zero-extended either way */
}

void h_pmovmskb(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3)
        cpu_raise_ud(c);
    if (sse_col(i) == COL_66) {
        sse_enter(c);
        c->gpr[i->reg] = (uint32_t)_mm_movemask_epi8(xmm_get(c, i->rm));
    } else {
        mmx_enter(c);
        c->gpr[i->reg] = (uint32_t)_mm_movemask_epi8(_mm_cvtsi64_si128((long long)mmx_get(c, i->rm))) & 0xff;
    }
}

/* MASKMOVQ/MASKMOVDQU: byte-masked store to DS:rDI (segment override allowed), register
 * forms only.  Bytes are written one by one where the mask's top bit is set; the whole
 * range is probed first so that a fault writes nothing. */
void h_maskmov(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3)
        cpu_raise_ud(c);
    bool x = sse_col(i) == COL_66;
    unsigned n = x ? 16 : 8;
    uint8_t data[16], mask[16];
    if (x) {
        sse_enter(c);
        memcpy(data, &c->fpu.xmm[i->reg], 16);
        memcpy(mask, &c->fpu.xmm[i->rm], 16);
    } else {
        mmx_enter(c);
        uint64_t d = mmx_get(c, i->reg), m = mmx_get(c, i->rm);
        memcpy(data, &d, 8);
        memcpy(mask, &m, 8);
    }
    unsigned seg = (i->pfx & PFX_SEGOVR) ? i->seg : SEG_DS;
    uint64_t off = c->gpr[RDI] & size_mask(i->asize);
    uint64_t any = 0;
    for (unsigned k = 0; k < n; k++)
        any |= mask[k] & 0x80;
    if (!any)
        return;                 /* SDM: with an all-zero mask no fault is required; we do none */
    uint64_t la = seg_ea(c, seg, off, n, ACC_WRITE);
    mem_probe_write(c, la, n);
    for (unsigned k = 0; k < n; k++)
        if (mask[k] & 0x80)
            mem_write(c, la + k, data[k], 1);
}

/* ---------------------------------------------------------- inserts/extracts */

/* PINSRW mm/xmm, r32/m16, imm8. */
void h_pinsrw(struct cpu *c, const struct insn *i)
{
    uint16_t v;
    if (sse_col(i) == COL_66) {
        sse_enter(c);
        v = (uint16_t)(i->mod == 3 ? c->gpr[i->rm] : sse_read_m(c, i, 2));
        c->fpu.xmm[i->reg].w[i->imm & 7] = v;
    } else {
        mmx_enter(c);
        v = (uint16_t)(i->mod == 3 ? c->gpr[i->rm] : sse_read_m(c, i, 2));
        uint64_t m = mmx_get(c, i->reg);
        unsigned s = (unsigned)(i->imm & 3) * 16;
        m = (m & ~(0xffffull << s)) | (uint64_t)v << s;
        mmx_set(c, i->reg, m);
    }
}

/* PEXTRW r32, mm/xmm, imm8 (0F C5: register source only). */
void h_pextrw(struct cpu *c, const struct insn *i)
{
    if (i->mod != 3)
        cpu_raise_ud(c);
    if (sse_col(i) == COL_66) {
        sse_enter(c);
        c->gpr[i->reg] = c->fpu.xmm[i->rm].w[i->imm & 7];
    } else {
        mmx_enter(c);
        c->gpr[i->reg] = (mmx_get(c, i->rm) >> ((i->imm & 3) * 16)) & 0xffff;
    }
}

/* PEXTRB/PEXTRW/PEXTRD/PEXTRQ r/m, xmm, imm8 (66 0F 3A 14/15/16): register destinations
 * are zero-extended to 64 bits (SDM Vol. 2 PEXTRB). */
void h_pextrb(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned sz = i->op == 0x314 ? 1 : i->op == 0x315 ? 2 : (i->osize == 8 ? 8 : 4);
    unsigned idx = (unsigned)i->imm & (16 / sz - 1);
    uint64_t v = 0;
    memcpy(&v, &c->fpu.xmm[i->reg].b[idx * sz], sz);
    if (i->mod == 3)
        c->gpr[i->rm] = v;
    else
        sse_write_m(c, i, sz, v);
}

/* PINSRB/PINSRD/PINSRQ xmm, r/m, imm8 (66 0F 3A 20/22). */
void h_pinsrb(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned sz = i->op == 0x320 ? 1 : (i->osize == 8 ? 8 : 4);
    unsigned idx = (unsigned)i->imm & (16 / sz - 1);
    uint64_t v = i->mod == 3 ? c->gpr[i->rm] : sse_read_m(c, i, sz);
    memcpy(&c->fpu.xmm[i->reg].b[idx * sz], &v, sz);
}

/* EXTRACTPS r/m32, xmm, imm8: a register destination gets the dword zero-extended. */
void h_extractps(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    uint32_t v = c->fpu.xmm[i->reg].d[i->imm & 3];
    if (i->mod == 3)
        c->gpr[i->rm] = v;
    else
        sse_write_m(c, i, 4, v);
}

/* INSERTPS xmm, xmm/m32, imm8: imm[7:6] source element (register form), imm[5:4]
 * destination element, imm[3:0] zero mask. */
void h_insertps(struct cpu *c, const struct insn *i)
{
    sse_enter(c);
    unsigned imm = (unsigned)i->imm;
    uint32_t v = i->mod == 3 ? c->fpu.xmm[i->rm].d[(imm >> 6) & 3] : (uint32_t)sse_read_m(c, i, 4);
    xmm_reg *d = &c->fpu.xmm[i->reg];
    d->d[(imm >> 4) & 3] = v;
    for (unsigned k = 0; k < 4; k++)
        if (imm & (1u << k))
            d->d[k] = 0;
}

/* ------------------------------------------------------------ MOVBE, CRC32 */

/* MOVBE Gv, Mv / Mv, Gv: a load or store with the bytes reversed.  Not an SSE
 * instruction: no CR0/CR4 checks. */
void h_movbe(struct cpu *c, const struct insn *i)
{
    uint64_t v = opnd_read(c, i, 1);
    switch (i->osize) {
    case 2: v = __builtin_bswap16((uint16_t)v); break;
    case 4: v = __builtin_bswap32((uint32_t)v); break;
    default: v = __builtin_bswap64(v); break;
    }
    opnd_write(c, i, 0, v);
}

/* CRC32 Gy, Eb/Ev: CRC-32C (Castagnoli), bit-reflected, as SDM Vol. 2 CRC32 specifies;
 * computed with the host instruction.  The source size is 1 (F0) or 2/4/8 by the
 * operand-size prefix or REX.W (F1). */
void h_crc32(struct cpu *c, const struct insn *i)
{
    unsigned ssz = i->op == 0x2f0 ? 1 : (i->osize == 8 ? 8 : (i->pfx & PFX_OPSIZE) ? 2 : 4);
    uint64_t src = opnd_read_sz(c, i, 1, ssz);
    uint32_t crc = (uint32_t)c->gpr[i->reg];
    switch (ssz) {
    case 1: crc = _mm_crc32_u8(crc, (uint8_t)src); break;
    case 2: crc = _mm_crc32_u16(crc, (uint16_t)src); break;
    case 4: crc = _mm_crc32_u32(crc, (uint32_t)src); break;
    default: crc = (uint32_t)_mm_crc32_u64(crc, src); break;
    }
    c->gpr[i->reg] = crc;       /* 32-bit result zero-extended to 64 in both forms */
}
