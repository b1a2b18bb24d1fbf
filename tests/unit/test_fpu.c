/* Unit tests of the x87/FXSAVE/XSAVE family (cpu/fpu_*.c) on the test machine (flat
 * 64-bit mode, CPL 0; exception vector v halts in TM_EXC_STUB(v)): the #NM and #MF
 * rules, the FXSAVE, FNSTENV and XSAVE image layouts, XSETBV/XGETBV rules, the MMX
 * aliasing helpers.  Expected values are worked out by hand from the SDM (cited).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/fpu.h"
#include "cpu/seg.h"
#include "mmu/physmem.h"
#include "tests/support/test_machine.h"

#define CODE TM_CODE_BASE
#define DATA TM_DATA_BASE           /* 4 KiB aligned, so 16- and 64-byte aligned */

static struct test_machine *tm;

static void setup(void)
{
    tm = tm_new(16u << 20);
    tm->cpu.gpr[RSP] = TM_STACK_TOP - 0x1000;
    tm->cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
}

static void teardown(void)
{
    tm_free(tm);
    tm = NULL;
}

/* Run code (a HLT is appended); returns the exception vector or -1. */
static int run(const uint8_t *code, unsigned len)
{
    uint8_t buf[256];
    memcpy(buf, code, len);
    buf[len] = 0xf4;
    tm_load(tm, CODE, buf, len + 1);
    tm_run(tm, CODE, 64);
    return tm_exception_vector(tm);
}

static uint64_t rd(uint64_t gpa, unsigned size)
{
    uint64_t v = 0;
    physmem_read_bytes(tm->pm, gpa, &v, size);
    return v;
}

#define ABS(a) 0x25, (uint8_t)(a), (uint8_t)((a) >> 8), (uint8_t)((a) >> 16), (uint8_t)((a) >> 24)
#define FNINIT 0xdb, 0xe3
#define FLD1   0xd9, 0xe8
#define FLDZ   0xd9, 0xee
#define FLDPI  0xd9, 0xeb
#define FDIVP  0xde, 0xf9
#define FNSTSW_AX 0xdf, 0xe0
#define FWAIT  0x9b
#define FXSAVE64(a) 0x48, 0x0f, 0xae, 0x04, ABS(a)
#define FXSAVE(a)   0x0f, 0xae, 0x04, ABS(a)
#define FXRSTOR64(a) 0x48, 0x0f, 0xae, 0x0c, ABS(a)
#define FLDCW(a)    0xd9, 0x2c, ABS(a)
#define FNSTENV(a)  0xd9, 0x34, ABS(a)
#define XSAVE(a)    0x0f, 0xae, 0x24, ABS(a)
#define XRSTOR(a)   0x0f, 0xae, 0x2c, ABS(a)
#define XGETBV 0x0f, 0x01, 0xd0
#define XSETBV 0x0f, 0x01, 0xd1
#define MOV_EAX(v) 0xb8, (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)
#define MOV_ECX(v) 0xb9, (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)
#define XOR_EDX 0x31, 0xd2

/* ---- #NM (SDM Vol. 3A 2.5 CR0.EM/TS/MP, Table 2-2) ---- */

START_TEST(nm_ts_em)
{
    const uint8_t c1[] = { FLD1 };
    tm->cpu.cr0 |= CR0_TS;
    ck_assert_int_eq(run(c1, sizeof c1), EXC_NM);
    tm->cpu.cr0 = (tm->cpu.cr0 & ~CR0_TS) | CR0_EM;
    ck_assert_int_eq(run(c1, sizeof c1), EXC_NM);
    /* FXSAVE also #NM with EM (SDM Vol. 2 FXSAVE). */
    const uint8_t c2[] = { FXSAVE64(DATA) };
    ck_assert_int_eq(run(c2, sizeof c2), EXC_NM);
    tm->cpu.cr0 &= ~CR0_EM;
    ck_assert_int_eq(run(c1, sizeof c1), -1);
}
END_TEST

/* Power-on state (SDM Vol. 3A Table 10-1): FCW 0040 (every exception unmasked), FTW
 * 5555 (all registers +0, not empty), MXCSR 1F80, XCR0 1.  So a push overflows the
 * stack with IE unmasked, and the next x87 instruction takes #MF. */
START_TEST(power_on_state)
{
    ck_assert_uint_eq(tm->cpu.fpu.fcw, 0x0040);
    ck_assert_uint_eq(tm->cpu.fpu.mxcsr, 0x1f80);
    ck_assert_uint_eq(tm->cpu.xcr0, 1);
    const uint8_t c[] = { FLD1, FLD1 };
    ck_assert_int_eq(run(c, sizeof c), EXC_MF);
    /* IE | SF | C1 (overflow: SDM Vol. 1 8.5.1.1) | ES | B */
    ck_assert_uint_eq(tm->cpu.fpu.fsw & 0x82ff, 0x8000 | 0x200 | 0x80 | 0x40 | 0x01);
}
END_TEST

/* INIT (cpu_reset, as hv/interrupts.c uses it) leaves the x87 and SSE state alone
 * (SDM Vol. 3A 9.1: "during an INIT ... x87 FPU state [is] left unchanged"). */
START_TEST(init_keeps_state)
{
    struct cpu *c = &tm->cpu;
    c->fpu.fcw = 0x027f;
    c->fpu.mxcsr = 0x9fc0;
    c->fpu.xmm[3].q[1] = 0x1122334455667788ull;
    cpu_reset(c);
    ck_assert_uint_eq(c->fpu.fcw, 0x027f);
    ck_assert_uint_eq(c->fpu.mxcsr, 0x9fc0);
    ck_assert_uint_eq(c->fpu.xmm[3].q[1], 0x1122334455667788ull);
}
END_TEST

START_TEST(nm_wait)
{
    const uint8_t c[] = { FWAIT };
    tm->cpu.cr0 = (tm->cpu.cr0 | CR0_TS) & ~CR0_MP;   /* TS without MP: WAIT runs */
    ck_assert_int_eq(run(c, sizeof c), -1);
    tm->cpu.cr0 |= CR0_MP;                             /* MP and TS: #NM */
    ck_assert_int_eq(run(c, sizeof c), EXC_NM);
    tm->cpu.cr0 = (tm->cpu.cr0 & ~(CR0_TS | CR0_MP)) | CR0_EM;  /* EM does not affect WAIT */
    ck_assert_int_eq(run(c, sizeof c), -1);
}
END_TEST

/* ---- #MF (SDM Vol. 1 8.6, 8.7) ---- */

/* FCW 037B: ZM clear.  1/0 raises ZE: FSW gets ZE (bit 2), ES and B; the division itself
 * does not fault, FNSTSW (no-wait) does not, FWAIT does. */
START_TEST(mf_deferred)
{
    uint16_t cw = 0x037b;
    physmem_write_bytes(tm->pm, DATA, &cw, 2);
    const uint8_t c[] = { FNINIT, FLDCW(DATA), FLD1, FLDZ, FDIVP, FNSTSW_AX, FWAIT };
    ck_assert_int_eq(run(c, sizeof c), EXC_MF);
    /* TOP: 0 -> 7 (FLD1) -> 6 (FLDZ); an unmasked ZE leaves the operands and the stack
     * as they were (SDM Vol. 1 8.5.3, 4.9.2: no result, no pop): TOP stays 6 (0x3000).
     * ZE 0x4, ES 0x80, B 0x8000. */
    ck_assert_uint_eq(tm->cpu.gpr[RAX] & 0xffff, 0x8000 | 0x3000 | 0x80 | 0x04);
    /* The #MF points at the FWAIT (fault): the instruction after FNSTSW. */
    ck_assert_uint_eq(rd(TM_STACK_TOP - 0x1000 - 40, 8), CODE + sizeof c - 1);
}
END_TEST

START_TEST(mf_ne_clear_ignored)
{
    uint16_t cw = 0x037b;
    physmem_write_bytes(tm->pm, DATA, &cw, 2);
    tm->cpu.cr0 &= ~CR0_NE;     /* legacy FERR#: not modelled, pending exception ignored */
    const uint8_t c[] = { FNINIT, FLDCW(DATA), FLD1, FLDZ, FDIVP, FWAIT, FLD1 };
    ck_assert_int_eq(run(c, sizeof c), -1);
    ck_assert_uint_eq(tm->cpu.fpu.fsw & (FSW_ZE | FSW_ES), FSW_ZE | FSW_ES);
}
END_TEST

START_TEST(mf_emms)
{
    uint16_t cw = 0x037b;
    physmem_write_bytes(tm->pm, DATA, &cw, 2);
    const uint8_t c[] = { FNINIT, FLDCW(DATA), FLD1, FLDZ, FDIVP, 0x0f, 0x77 };
    ck_assert_int_eq(run(c, sizeof c), EXC_MF);
}
END_TEST

/* ---- FXSAVE layout (SDM Vol. 1 Table 10-2) ---- */

START_TEST(fxsave64_layout)
{
    const uint8_t c[] = { FNINIT, FLD1, FLDPI, FXSAVE64(DATA) };
    ck_assert_int_eq(run(c, sizeof c), -1);
    ck_assert_uint_eq(rd(DATA + 0, 2), 0x037f);             /* FCW after FNINIT */
    ck_assert_uint_eq(rd(DATA + 2, 2), 6u << 11);           /* TOP = 6 after two pushes */
    ck_assert_uint_eq(rd(DATA + 4, 1), 0xc0);               /* R7 and R6 not empty */
    ck_assert_uint_eq(rd(DATA + 6, 2), 0x1eb);              /* FOP of D9 EB: (D9 & 7) << 8 | EB */
    ck_assert_uint_eq(rd(DATA + 8, 8), CODE + 4);           /* 64-bit FIP: the FLDPI */
    ck_assert_uint_eq(rd(DATA + 24, 4), 0x1f80);            /* MXCSR */
    ck_assert_uint_eq(rd(DATA + 28, 4), 0xffff);            /* MXCSR_MASK (DAZ supported) */
    /* ST0 = pi rounded to 64 bits: C90FDAA2 2168C234 C4.. -> ...C235, exponent 4000. */
    ck_assert_uint_eq(rd(DATA + 32, 8), 0xc90fdaa22168c235ull);
    ck_assert_uint_eq(rd(DATA + 40, 2), 0x4000);
    ck_assert_uint_eq(rd(DATA + 48, 8), 0x8000000000000000ull);   /* ST1 = 1.0 */
    ck_assert_uint_eq(rd(DATA + 56, 2), 0x3fff);
}
END_TEST

START_TEST(fxsave32_layout)
{
    const uint8_t c[] = { FNINIT, FLD1, FXSAVE(DATA) };
    ck_assert_int_eq(run(c, sizeof c), -1);
    ck_assert_uint_eq(rd(DATA + 8, 4), CODE + 2);           /* FIP offset */
    ck_assert_uint_eq(rd(DATA + 12, 2), TM_SEL_CODE64);     /* FCS */
}
END_TEST

START_TEST(fxsave_faults)
{
    const uint8_t c1[] = { FXSAVE64(DATA + 8) };            /* not 16-byte aligned: #GP(0) */
    ck_assert_int_eq(run(c1, sizeof c1), EXC_GP);
    /* FXRSTOR of an image with MXCSR bit 16 set (reserved): #GP(0). */
    uint8_t img[512] = { 0 };
    uint32_t bad = 0x11f80;
    memcpy(img + 24, &bad, 4);
    physmem_write_bytes(tm->pm, DATA, img, sizeof img);
    const uint8_t c2[] = { FXRSTOR64(DATA) };
    ck_assert_int_eq(run(c2, sizeof c2), EXC_GP);
}
END_TEST

/* FXRSTOR then FXSAVE gives back the image (pointer fields included, reserved bytes of
 * the register slots read as zero). */
START_TEST(fxrstor_round_trip)
{
    uint8_t img[512], out[512];
    for (unsigned k = 0; k < 512; k++)
        img[k] = (uint8_t)(k * 7 + 3);
    uint16_t fcw = 0x027f, fsw = 0x3000;                    /* FLDCW-able FCW, TOP 6, no flags */
    uint32_t mxcsr = 0x9fc0, mask = 0xffff;
    memcpy(img, &fcw, 2);
    memcpy(img + 2, &fsw, 2);
    img[4] = 0xc3; img[5] = 0;
    img[6] = 0x23; img[7] = 0x05;                           /* FOP 0x523 (11 bits) */
    memcpy(img + 24, &mxcsr, 4);
    memcpy(img + 28, &mask, 4);
    for (unsigned k = 0; k < 8; k++)
        memset(img + 32 + 16 * k + 10, 0, 6);
    physmem_write_bytes(tm->pm, DATA, img, 512);
    const uint8_t c[] = { FXRSTOR64(DATA), FXSAVE64(DATA + 0x400) };
    ck_assert_int_eq(run(c, sizeof c), -1);
    physmem_read_bytes(tm->pm, DATA + 0x400, out, 512);
    ck_assert_mem_eq(out, img, 416);
    ck_assert_uint_eq(tm->cpu.fpu.mxcsr, 0x9fc0);
}
END_TEST

/* FNSTENV, 32-bit protected-mode format (SDM Vol. 1 Figure 8-9): full tags from the
 * contents, reserved halves FFFF, and all exceptions masked afterwards. */
START_TEST(fnstenv_format)
{
    uint16_t cw = 0x0360;                                   /* all exceptions unmasked but PE */
    physmem_write_bytes(tm->pm, DATA + 0x100, &cw, 2);
    const uint8_t c[] = { FNINIT, FLDCW(DATA + 0x100), FLD1, FLDZ, FNSTENV(DATA) };
    ck_assert_int_eq(run(c, sizeof c), -1);
    ck_assert_uint_eq(rd(DATA + 0, 4), 0xffff0360);
    ck_assert_uint_eq(rd(DATA + 4, 4), 0xffff0000 | 6u << 11);
    /* R7 = 1.0 valid (00), R6 = +0 zero (01), R5..R0 empty (11): 0001 1111 1111 1111. */
    ck_assert_uint_eq(rd(DATA + 8, 4), 0xffff1fff);
    ck_assert_uint_eq(rd(DATA + 12, 4), CODE + 11);         /* FIP: FLDZ (FNINIT 2 + FLDCW 7 + FLD1 2) */
    ck_assert_uint_eq(rd(DATA + 16, 4), TM_SEL_CODE64 | 0x1eeu << 16);   /* FCS, FOP D9 EE */
    ck_assert_uint_eq(tm->cpu.fpu.fcw, 0x037f);            /* 0360 | 3F */
}
END_TEST

/* Real mode: FIP/FDP are stored as 20/32-bit linear addresses split around the opcode
 * (SDM Vol. 1 Figures 8-10 and 8-12).  CS = 1000h (base 10000h), DS = 2000h. */
static void enter_real_mode(void)
{
    struct cpu *c = &tm->cpu;
    c->cr0 = CR0_ET | CR0_NE;
    c->cr4 = 0;
    c->efer = 0;
    mmu_set_cr0(&tm->mmu, c->cr0);
    mmu_set_cr4(&tm->mmu, c->cr4);
    mmu_set_efer(&tm->mmu, c->efer);
    uint16_t data = 0x3 | SEG_ATTR_S | SEG_ATTR_P, code = 0xb | SEG_ATTR_S | SEG_ATTR_P;
    c->seg[SEG_CS] = (struct segment){ .base = 0x10000, .limit = 0xffff, .sel = 0x1000, .attr = code };
    c->seg[SEG_DS] = (struct segment){ .base = 0x20000, .limit = 0xffff, .sel = 0x2000, .attr = data };
    c->seg[SEG_SS] = (struct segment){ .base = 0x30000, .limit = 0xffff, .sel = 0x3000, .attr = data };
    c->gpr[RSP] = 0xfff0;
    cpu_update_mode(c);
    ck_assert_int_eq(c->mode, MODE_REAL);
}

START_TEST(fnstenv_real_mode)
{
    enter_real_mode();
    /* 0100: fninit; 0102: fld1 dword [0x0500]; then FNSTENV (14 bytes) at DS:0200,
     * 66 FNSTENV (28 bytes) at DS:0300, 66 FLDENV DS:0300, 66 FNSTENV DS:0400, HLT. */
    static const uint8_t code[] = {
        0xdb, 0xe3,                         /* 0100 fninit */
        0xd9, 0x06, 0x00, 0x05,             /* 0102 fld dword [0500] */
        0xd9, 0x36, 0x00, 0x02,             /* 0106 fnstenv [0200] */
        0x66, 0xd9, 0x36, 0x00, 0x03,       /* 010A o32 fnstenv [0300] */
        0x66, 0xd9, 0x26, 0x00, 0x03,       /* 010F o32 fldenv [0300] */
        0x66, 0xd9, 0x36, 0x00, 0x04,       /* 0114 o32 fnstenv [0400] */
        0xf4 };
    float one = 1.0f;
    physmem_write_bytes(tm->pm, 0x20500, &one, 4);
    tm_load(tm, 0x10100, code, sizeof code);
    tm_run(tm, 0x100, 16);
    ck_assert_uint_eq(tm->cpu.rip, 0x100 + sizeof code);
    /* 16-bit: FCW, FSW (TOP 7), FTW (R7 valid, rest empty: 3FFF), FIP[15:0] = 0102 of
     * linear 10102, then FIP[19:16] = 1 in bits 15-12 with FOP D9 /0 mod 00 rm 110 =
     * 0x106; FDP linear 20500: 0500, then 2 << 12. */
    ck_assert_uint_eq(rd(0x20200, 2), 0x037f);
    ck_assert_uint_eq(rd(0x20202, 2), 0x3800);
    ck_assert_uint_eq(rd(0x20204, 2), 0x3fff);
    ck_assert_uint_eq(rd(0x20206, 2), 0x0102);
    ck_assert_uint_eq(rd(0x20208, 2), 0x1000 | 0x106);
    ck_assert_uint_eq(rd(0x2020a, 2), 0x0500);
    ck_assert_uint_eq(rd(0x2020c, 2), 0x2000);
    /* 32-bit real-mode format: reserved upper words FFFF; FIP[31:16] in bits 27-12. */
    ck_assert_uint_eq(rd(0x20300, 4), 0xffff037f);
    ck_assert_uint_eq(rd(0x20304, 4), 0xffff3800);
    ck_assert_uint_eq(rd(0x20308, 4), 0xffff3fff);
    ck_assert_uint_eq(rd(0x2030c, 4), 0xffff0102);
    ck_assert_uint_eq(rd(0x20310, 4), 0x00001000 | 0x106);
    ck_assert_uint_eq(rd(0x20314, 4), 0xffff0500);
    ck_assert_uint_eq(rd(0x20318, 4), 0x00002000);
    /* FLDENV of that image and FNSTENV again give the same 28 bytes. */
    uint8_t a[28], b[28];
    physmem_read_bytes(tm->pm, 0x20300, a, 28);
    physmem_read_bytes(tm->pm, 0x20400, b, 28);
    ck_assert_mem_eq(a, b, 28);
}
END_TEST

/* ---- XSAVE family (SDM Vol. 1 13.3-13.8, Vol. 2 XSETBV) ---- */

START_TEST(xsave_needs_osxsave)
{
    const uint8_t c1[] = { XOR_EDX, MOV_EAX(3), XSAVE(DATA) };
    ck_assert_int_eq(run(c1, sizeof c1), EXC_UD);
    const uint8_t c2[] = { MOV_ECX(0), XGETBV };
    ck_assert_int_eq(run(c2, sizeof c2), EXC_UD);
}
END_TEST

START_TEST(xsetbv_rules)
{
    tm->cpu.cr4 |= CR4_OSXSAVE;
    const uint8_t get[] = { MOV_ECX(0), XGETBV };
    ck_assert_int_eq(run(get, sizeof get), -1);
    ck_assert_uint_eq(tm->cpu.gpr[RAX], 1);                 /* XCR0 reset value: x87 */
    ck_assert_uint_eq(tm->cpu.gpr[RDX], 0);
    const uint8_t set3[] = { MOV_ECX(0), XOR_EDX, MOV_EAX(3), XSETBV, XGETBV };
    ck_assert_int_eq(run(set3, sizeof set3), -1);
    ck_assert_uint_eq(tm->cpu.gpr[RAX], 3);
    const uint8_t set2[] = { MOV_ECX(0), XOR_EDX, MOV_EAX(2), XSETBV };   /* bit 0 clear */
    ck_assert_int_eq(run(set2, sizeof set2), EXC_GP);
    const uint8_t set7[] = { MOV_ECX(0), XOR_EDX, MOV_EAX(7), XSETBV };   /* AVX: not supported */
    ck_assert_int_eq(run(set7, sizeof set7), EXC_GP);
    const uint8_t setc1[] = { MOV_ECX(1), XOR_EDX, MOV_EAX(3), XSETBV };  /* XCR1 */
    ck_assert_int_eq(run(setc1, sizeof setc1), EXC_GP);
    const uint8_t getc1[] = { MOV_ECX(1), XGETBV };                       /* XGETBV1 not offered */
    ck_assert_int_eq(run(getc1, sizeof getc1), EXC_GP);
    ck_assert_uint_eq(tm->cpu.xcr0, 3);
    /* CPL 3: #GP.  The test machine has no user segments; the CPL field is what the
     * handler checks, so set it for this one instruction. */
    tm->cpu.cpl = 3;
    ck_assert_int_eq(run(set3, sizeof set3), EXC_GP);
}
END_TEST

START_TEST(xsave_layout)
{
    tm->cpu.cr4 |= CR4_OSXSAVE;
    uint8_t fill[576];
    memset(fill, 0xaa, sizeof fill);
    memset(fill + 512, 0, 64);                              /* header: XSTATE_BV 0 */
    physmem_write_bytes(tm->pm, DATA, fill, sizeof fill);
    /* XCR0 = 3; save only x87 (EDX:EAX = 1): MXCSR and XMM bytes untouched. */
    const uint8_t c1[] = { MOV_ECX(0), XOR_EDX, MOV_EAX(3), XSETBV, FNINIT, FLD1,
                           MOV_EAX(1), XSAVE(DATA) };
    ck_assert_int_eq(run(c1, sizeof c1), -1);
    ck_assert_uint_eq(rd(DATA + 0, 2), 0x037f);
    ck_assert_uint_eq(rd(DATA + 2, 2), 7u << 11);
    ck_assert_uint_eq(rd(DATA + 24, 4), 0xaaaaaaaa);        /* MXCSR: component 1 */
    ck_assert_uint_eq(rd(DATA + 160, 8), 0xaaaaaaaaaaaaaaaaull);
    ck_assert_uint_eq(rd(DATA + 512, 8), 1);                /* XSTATE_BV */
    ck_assert_uint_eq(rd(DATA + 520, 8), 0);                /* XCOMP_BV not written */
    /* Now both components: XSTATE_BV = 3, MXCSR = 1F80. */
    const uint8_t c2[] = { XOR_EDX, MOV_EAX(0xffffffff), XSAVE(DATA) };
    ck_assert_int_eq(run(c2, sizeof c2), -1);
    ck_assert_uint_eq(rd(DATA + 24, 4), 0x1f80);
    ck_assert_uint_eq(rd(DATA + 512, 8), 3);
    /* Misaligned (not 64-byte): #GP. */
    const uint8_t c3[] = { XOR_EDX, MOV_EAX(3), XSAVE(DATA + 16) };
    ck_assert_int_eq(run(c3, sizeof c3), EXC_GP);
}
END_TEST

/* XRSTOR: XSTATE_BV[0] = 0 puts x87 in its initial state (FCW 037F, all empty);
 * XCOMP_BV != 0 is #GP (compacted form not supported). */
START_TEST(xrstor_init_and_faults)
{
    tm->cpu.cr4 |= CR4_OSXSAVE;
    uint8_t area[576] = { 0 };
    uint32_t mx = 0x1f80;
    memcpy(area + 24, &mx, 4);
    physmem_write_bytes(tm->pm, DATA, area, sizeof area);
    const uint8_t c1[] = { MOV_ECX(0), XOR_EDX, MOV_EAX(3), XSETBV, FNINIT, FLD1, FLD1, XRSTOR(DATA) };
    ck_assert_int_eq(run(c1, sizeof c1), -1);
    ck_assert_uint_eq(tm->cpu.fpu.fcw, 0x037f);
    ck_assert_uint_eq(fpu_tag_abridged(tm->cpu.fpu.ftw), 0);
    ck_assert_uint_eq(tm->cpu.fpu.fsw, 0);
    area[520] = 1;                                          /* XCOMP_BV */
    physmem_write_bytes(tm->pm, DATA, area, sizeof area);
    const uint8_t c2[] = { XOR_EDX, MOV_EAX(3), XRSTOR(DATA) };
    ck_assert_int_eq(run(c2, sizeof c2), EXC_GP);
    area[520] = 0;
    area[512] = 4;                                          /* XSTATE_BV bit outside XCR0 */
    physmem_write_bytes(tm->pm, DATA, area, sizeof area);
    ck_assert_int_eq(run(c2, sizeof c2), EXC_GP);
}
END_TEST

/* ---- CPUID, MXCSR, FSGSBASE ---- */

/* What is advertised (SDM Vol. 2A CPUID Tables 3-8/3-10, Vol. 1 13.2): FPU(1.EDX 0),
 * FXSR(1.EDX 24), XSAVE(1.ECX 26), OSXSAVE(1.ECX 27) = CR4.OSXSAVE, FSGSBASE(7.EBX 0),
 * CLFLUSHOPT(7.EBX 23); leaf 0DH: components 0 and 1, 512 + 64 = 576 bytes, XSAVEOPT only. */
START_TEST(cpuid_bits)
{
    struct cpu *c = &tm->cpu;
    uint32_t o[4];
    cpu_cpuid(c, 1, 0, o);
    ck_assert(o[3] & 1u);
    ck_assert(o[3] & (1u << 24));
    ck_assert(o[2] & (1u << 26));
    ck_assert(!(o[2] & (1u << 27)));
    c->cr4 |= CR4_OSXSAVE;
    cpu_cpuid(c, 1, 0, o);
    ck_assert(o[2] & (1u << 27));
    cpu_cpuid(c, 7, 0, o);
    ck_assert(o[1] & 1u);
    ck_assert(o[1] & (1u << 23));
    cpu_cpuid(c, 0xd, 0, o);
    ck_assert_uint_eq(o[0], 3);
    ck_assert_uint_eq(o[1], 576);
    ck_assert_uint_eq(o[2], 576);
    ck_assert_uint_eq(o[3], 0);
    cpu_cpuid(c, 0xd, 1, o);
    ck_assert_uint_eq(o[0], 1);
}
END_TEST

#define LDMXCSR(a) 0x0f, 0xae, 0x14, ABS(a)
#define STMXCSR(a) 0x0f, 0xae, 0x1c, ABS(a)

START_TEST(mxcsr_rules)
{
    uint32_t v = 0x9fc0;                                    /* FTZ, RC down, masks, DAZ */
    physmem_write_bytes(tm->pm, DATA, &v, 4);
    const uint8_t c1[] = { LDMXCSR(DATA), STMXCSR(DATA + 4) };
    ck_assert_int_eq(run(c1, sizeof c1), -1);
    ck_assert_uint_eq(rd(DATA + 4, 4), 0x9fc0);
    v = 0x10000;                                            /* bit 16 reserved: #GP(0) */
    physmem_write_bytes(tm->pm, DATA, &v, 4);
    ck_assert_int_eq(run(c1, sizeof c1), EXC_GP);
    ck_assert_uint_eq(tm->cpu.fpu.mxcsr, 0x9fc0);
    tm->cpu.cr4 &= ~CR4_OSFXSR;                             /* SSE not enabled: #UD */
    ck_assert_int_eq(run(c1, sizeof c1), EXC_UD);
}
END_TEST

START_TEST(fsgsbase_rules)
{
    /* mov rax, 0x123456789000; wrfsbase rax; rdfsbase rbx; wrgsbase rax; rdgsbase rcx */
    const uint8_t c1[] = { 0x48, 0xb8, 0x00, 0x90, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00,
                           0xf3, 0x48, 0x0f, 0xae, 0xd0, 0xf3, 0x48, 0x0f, 0xae, 0xc3,
                           0xf3, 0x48, 0x0f, 0xae, 0xd8, 0xf3, 0x48, 0x0f, 0xae, 0xc9 };
    ck_assert_int_eq(run(c1, sizeof c1), EXC_UD);           /* CR4.FSGSBASE = 0 */
    tm->cpu.cr4 |= CR4_FSGSBASE;
    ck_assert_int_eq(run(c1, sizeof c1), -1);
    ck_assert_uint_eq(tm->cpu.seg[SEG_FS].base, 0x123456789000ull);
    ck_assert_uint_eq(tm->cpu.seg[SEG_GS].base, 0x123456789000ull);
    ck_assert_uint_eq(tm->cpu.gpr[RBX], 0x123456789000ull);
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 0x123456789000ull);
    /* mov rax, 0x0000800000000000 (not canonical); wrfsbase rax: #GP(0). */
    const uint8_t c2[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0xf3, 0x48, 0x0f, 0xae, 0xd0 };
    ck_assert_int_eq(run(c2, sizeof c2), EXC_GP);
    ck_assert_uint_eq(tm->cpu.seg[SEG_FS].base, 0x123456789000ull);
}
END_TEST

/* ---- MMX aliasing (SDM Vol. 1 9.5) ---- */

START_TEST(mmx_helpers)
{
    struct cpu *c = &tm->cpu;
    fpu_init_state(c);
    c->fpu.fsw = 5u << 11;
    fpu_mmx_write(c, 3, 0x0123456789abcdefull);
    fpu_mmx_transition(c);
    ck_assert_uint_eq(fpu_mmx_read(c, 3), 0x0123456789abcdefull);
    ck_assert_uint_eq(c->fpu.st[3][8], 0xff);
    ck_assert_uint_eq(c->fpu.st[3][9], 0xff);
    ck_assert_uint_eq(fpu_top(c), 0);
    ck_assert_uint_eq(fpu_tag_abridged(c->fpu.ftw), 0xff);
    /* FXSAVE shows MM3 in the ST3 slot (TOP = 0) with exponent FFFF; EMMS empties all. */
    const uint8_t code[] = { FXSAVE64(DATA), 0x0f, 0x77 };
    ck_assert_int_eq(run(code, sizeof code), -1);
    ck_assert_uint_eq(rd(DATA + 32 + 16 * 3, 8), 0x0123456789abcdefull);
    ck_assert_uint_eq(rd(DATA + 32 + 16 * 3 + 8, 2), 0xffff);
    ck_assert_uint_eq(rd(DATA + 4, 1), 0xff);
    ck_assert_uint_eq(fpu_tag_abridged(c->fpu.ftw), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fpu");
    TCase *t = tcase_create("fpu");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, nm_ts_em);
    tcase_add_test(t, power_on_state);
    tcase_add_test(t, init_keeps_state);
    tcase_add_test(t, nm_wait);
    tcase_add_test(t, mf_deferred);
    tcase_add_test(t, mf_ne_clear_ignored);
    tcase_add_test(t, mf_emms);
    tcase_add_test(t, fxsave64_layout);
    tcase_add_test(t, fxsave32_layout);
    tcase_add_test(t, fxsave_faults);
    tcase_add_test(t, fxrstor_round_trip);
    tcase_add_test(t, fnstenv_format);
    tcase_add_test(t, fnstenv_real_mode);
    tcase_add_test(t, xsave_needs_osxsave);
    tcase_add_test(t, xsetbv_rules);
    tcase_add_test(t, xsave_layout);
    tcase_add_test(t, xrstor_init_and_faults);
    tcase_add_test(t, mmx_helpers);
    tcase_add_test(t, cpuid_bits);
    tcase_add_test(t, mxcsr_rules);
    tcase_add_test(t, fsgsbase_rules);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
