/* Unit tests of the processor modes and the legacy-only instructions (cpu/ops_legacy.c,
 * cpu/gates.c, and the real-mode / protected-mode paths of cpu/seg.c, exception.c,
 * ops_desc.c, ops_system.c, exec.c), on decoded bytes run with cpu_step().
 *
 * Two machines built from the test machine (tests/support/test_machine.h):
 *  - real mode: the reset state; the IVT sends vector v to 0060:v, a HLT, so a test
 *    tells the vector from CS:IP (real_vector()).
 *  - legacy 32-bit protected mode, paging off: our own GDT/IDT/32-bit TSS below; IDT
 *    vector v is a 32-bit interrupt gate to the test machine's HLT stub TM_EXC_STUB(v).
 * Expected values are worked out by hand from the SDM (the comments show how); the
 * BCD cases are the SDM's own examples where it gives one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/seg.h"
#include "mmu/physmem.h"
#include "cpu/cpu_models.h"
#include "tests/support/test_machine.h"

static struct test_machine *tm;
static struct cpu *c;

static void w8(uint64_t a, uint8_t v) { physmem_write_bytes(tm->pm, a, &v, 1); }
static void w16(uint64_t a, uint16_t v) { physmem_write_bytes(tm->pm, a, &v, 2); }
static void w32(uint64_t a, uint32_t v) { physmem_write_bytes(tm->pm, a, &v, 4); }
static void w64(uint64_t a, uint64_t v) { physmem_write_bytes(tm->pm, a, &v, 8); }
static uint16_t r16(uint64_t a) { uint16_t v; physmem_read_bytes(tm->pm, a, &v, 2); return v; }
static uint32_t r32(uint64_t a) { uint32_t v; physmem_read_bytes(tm->pm, a, &v, 4); return v; }
#define LOAD(a, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; tm_load(tm, (a), b_, sizeof b_); } while (0)

static void teardown(void) { tm_free(tm); }

/* ---- real mode ---------------------------------------------------------------------- */

#define RM_STUB_SEG 0x0060

static void real_setup(void)
{
    tm = tm_new(16u << 20);
    c = &tm->cpu;
    cpu_reset(c);
    for (unsigned v = 0; v < 256; v++) {
        w32(v * 4, (RM_STUB_SEG << 16) | v);       /* IVT: offset, then segment (SDM Vol. 3A 20.1.4) */
        w8(RM_STUB_SEG * 16 + v, 0xf4);
    }
    c->gpr[RSP] = 0x8000;
}

/* Run code at seg:off (already loaded) until HLT or n instructions. */
static void real_run(uint16_t seg, uint16_t off, unsigned n)
{
    seg_load_real(c, SEG_CS, seg);
    tm_run(tm, off, n);
}

static int real_vector(void)
{
    return c->seg[SEG_CS].sel == RM_STUB_SEG ? (int)c->rip - 1 : -1;
}

/* SDM Vol. 3A 9.1.4: the first instruction is fetched at FFFFFFF0h (CS base FFFF0000h,
 * IP FFF0h); a far JMP then loads CS the real-mode way (base = selector * 16). */
START_TEST(reset_vector_runs_real_mode_code)
{
    ck_assert_uint_eq(c->mode, MODE_REAL);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, 0xf000);
    ck_assert_uint_eq(c->seg[SEG_CS].base, 0xffff0000u);
    ck_assert_uint_eq(c->rip, 0xfff0);
    static uint8_t rom[0x10000];
    memset(rom, 0xf4, sizeof rom);
    static const uint8_t jmp[] = { 0xea, 0x00, 0x01, 0x00, 0x10 };    /* jmp 1000:0100 */
    memcpy(rom + 0xfff0, jmp, sizeof jmp);
    ck_assert(physmem_add_rom(tm->pm, 0xffff0000ull, rom, sizeof rom, "test-bios"));
    LOAD(0x10100, 0xb8, 0x34, 0x12, 0xf4);                            /* mov ax, 1234h; hlt */
    c->halted = 0;
    ck_assert_int_eq(cpu_step(c), CPU_EXIT_BUDGET);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, 0x1000);
    ck_assert_uint_eq(c->seg[SEG_CS].base, 0x10000);
    ck_assert_uint_eq(c->rip, 0x100);
    tm_run(tm, c->rip, 5);
    ck_assert_uint_eq(c->gpr[RAX] & 0xffff, 0x1234);
    ck_assert_uint_eq(c->rip, 0x104);
}
END_TEST

/* 16-bit offsets wrap at 64 KiB (SDM Vol. 3A 20.1.1); a 67h prefix makes them 32-bit,
 * and an offset beyond the 64 KiB limit is #GP(0) (delivered through the IVT). */
START_TEST(real_mode_addressing_and_prefixes)
{
    seg_load_real(c, SEG_DS, 0x2000);
    w8(0x20001, 0xab);
    w8(0x30001, 0xcd);                  /* where a non-wrapping 0x2000:0x10001 would land */
    LOAD(0x10000, 0xbb, 0xff, 0xff,                         /* mov bx, 0FFFFh */
                  0x8a, 0x47, 0x02,                         /* mov al, [bx+2] -> offset 0001h */
                  0x66, 0xb8, 0x78, 0x56, 0x34, 0x12,       /* mov eax, 12345678h */
                  0x66, 0xc1, 0xe0, 0x04,                   /* shl eax, 4 */
                  0x66, 0xbf, 0x00, 0x00, 0x00, 0x00,       /* mov edi, 0 */
                  0x67, 0x8a, 0x9f, 0x01, 0x00, 0x00, 0x00, /* mov bl, [edi+1] */
                  0xf4);
    real_run(0x1000, 0, 20);
    ck_assert_uint_eq(c->gpr[RAX] & 0xffffffff, 0x23456780);   /* the AL load was overwritten: check it apart */
    ck_assert_uint_eq(c->gpr[RBX] & 0xff, 0xab);
    ck_assert_int_eq(real_vector(), -1);

    LOAD(0x10100, 0xbb, 0xff, 0xff, 0x8a, 0x47, 0x02, 0xf4);
    real_run(0x1000, 0x100, 5);
    ck_assert_uint_eq(c->gpr[RAX] & 0xff, 0xab);

    c->gpr[RDI] = 0;
    LOAD(0x10200, 0x67, 0x8a, 0x87, 0x00, 0x00, 0x01, 0x00, 0xf4);   /* mov al, [edi+10000h] */
    c->gpr[RSP] = 0x8000;
    real_run(0x1000, 0x200, 5);
    ck_assert_int_eq(real_vector(), EXC_GP);
    /* The frame: IP of the faulting instruction, CS, FLAGS (no error code in real mode). */
    ck_assert_uint_eq(c->gpr[RSP] & 0xffff, 0x8000 - 6);
    ck_assert_uint_eq(r16(0x8000 - 6), 0x200);
    ck_assert_uint_eq(r16(0x8000 - 4), 0x1000);
}
END_TEST

/* INT n through the IVT pushes FLAGS, CS, IP and clears IF/TF; IRET restores them
 * (SDM INT n "REAL-ADDRESS-MODE", IRET). */
START_TEST(real_mode_int_iret_far_call)
{
    w32(0x30 * 4, (0x3000u << 16) | 0x10);
    LOAD(0x30010, 0x9c, 0x5a,                   /* pushf; pop dx   (IF inside the handler) */
                  0xbb, 0x55, 0x00, 0xcf);      /* mov bx, 55h; iret */
    LOAD(0x40000, 0xb9, 0x77, 0x00, 0xcb);      /* mov cx, 77h; retf */
    LOAD(0x10000, 0xfb,                         /* sti */
                  0xcd, 0x30,                   /* int 30h */
                  0x9a, 0x00, 0x00, 0x00, 0x40, /* call 4000:0000 */
                  0xf4);
    real_run(0x1000, 0, 20);
    ck_assert_int_eq(real_vector(), -1);
    ck_assert_uint_eq(c->rip, 0x9);
    ck_assert_uint_eq(c->gpr[RBX] & 0xffff, 0x55);
    ck_assert_uint_eq(c->gpr[RCX] & 0xffff, 0x77);
    ck_assert_uint_eq(c->gpr[RDX] & FL_IF, 0);          /* cleared by the interrupt */
    ck_assert_uint_ne(c->rflags & FL_IF, 0);             /* restored by IRET */
    ck_assert_uint_eq(c->gpr[RSP] & 0xffff, 0x8000);
    /* What the far CALL pushed: IP 0008h below CS 1000h. */
    ck_assert_uint_eq(r16(0x8000 - 4), 0x8);
    ck_assert_uint_eq(r16(0x8000 - 2), 0x1000);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, 0x1000);
}
END_TEST

/* PUSHA pushes AX CX DX BX SP(original) BP SI DI; POPA pops them back skipping SP
 * (SDM PUSHA/POPA); 66h makes them 32-bit. */
START_TEST(pusha_popa)
{
    for (unsigned r = 0; r < 8; r++)
        c->gpr[r] = 0x11111111u * (r + 1);
    c->gpr[RSP] = 0x8000;
    LOAD(0x10000, 0x60, 0xf4);
    real_run(0x1000, 0, 2);
    ck_assert_uint_eq(c->gpr[RSP], 0x8000 - 16);
    static const uint16_t want16[8] = { 0x8888, 0x7777, 0x6666, 0x8000, 0x4444, 0x3333, 0x2222, 0x1111 };
    for (unsigned k = 0; k < 8; k++)
        ck_assert_uint_eq(r16(0x8000 - 16 + 2 * k), want16[k]);   /* DI at the lowest address */
    w16(0x8000 - 16 + 2 * 3, 0x1234);                             /* SP slot: ignored by POPA */
    w16(0x8000 - 16, 0xabcd);                                     /* new DI */
    for (unsigned r = 0; r < 8; r++)
        if (r != RSP)
            c->gpr[r] = 0;
    LOAD(0x10010, 0x61, 0x66, 0x60, 0xf4);
    real_run(0x1000, 0x10, 1);
    ck_assert_uint_eq(c->gpr[RDI], 0xabcd);
    ck_assert_uint_eq(c->gpr[RAX], 0x1111);
    ck_assert_uint_eq(c->gpr[RSP], 0x8000);
    tm_run(tm, c->rip, 2);                                        /* 66 PUSHA: 32 bytes */
    ck_assert_uint_eq(c->gpr[RSP], 0x8000 - 32);
    ck_assert_uint_eq(r32(0x8000 - 4), 0x1111);                   /* EAX first */
    ck_assert_uint_eq(r32(0x8000 - 20), 0x8000);                  /* original ESP */
    ck_assert_uint_eq(r32(0x8000 - 32), 0xabcd);                  /* EDI last */
}
END_TEST

static uint64_t arith(void) { return flags_get(c) & FL_ARITH; }

/* SDM DAA/DAS examples; AAA/AAS/AAM/AAD worked by hand from their Operation sections. */
START_TEST(bcd_adjust)
{
    /* DAA: 79h + 35h = AEh; DAA -> 14h with CF = AF = 1 (SDM DAA example), PF(14h) = 1. */
    LOAD(0x10000, 0xb0, 0x79, 0xb3, 0x35, 0x00, 0xd8, 0x27, 0xf4);
    real_run(0x1000, 0, 10);
    ck_assert_uint_eq(c->gpr[RAX] & 0xff, 0x14);
    ck_assert_uint_eq(arith() & ~(uint64_t)FL_OF, FL_CF | FL_AF | FL_PF);
    /* DAS: 35h - 47h = EEh (CF = AF = 1); DAS -> 88h, SF = AF = PF = CF = 1 (SDM DAS example). */
    LOAD(0x10010, 0xb0, 0x35, 0xb3, 0x47, 0x28, 0xd8, 0x2f, 0xf4);
    real_run(0x1000, 0x10, 10);
    ck_assert_uint_eq(c->gpr[RAX] & 0xff, 0x88);
    ck_assert_uint_eq(arith() & ~(uint64_t)FL_OF, FL_SF | FL_AF | FL_PF | FL_CF);
    /* AAA: 09h + 08h = 11h with AF = 1 -> AX = 0000h + 106h = 0117h, AL & 0Fh -> 0107h. */
    LOAD(0x10020, 0xb8, 0x09, 0x00, 0x04, 0x08, 0x37, 0xf4);
    real_run(0x1000, 0x20, 10);
    ck_assert_uint_eq(c->gpr[RAX] & 0xffff, 0x0107);
    ck_assert_uint_eq(arith() & (FL_CF | FL_AF), FL_CF | FL_AF);
    /* AAS: AX = 0203h, SUB AL, 5 -> AX = 02FEh with AF = 1; AX - 6 = 02F8h, AH - 1 ->
     * 01F8h, AL & 0Fh -> 0108h (23 - 5 = 18 in unpacked BCD). */
    LOAD(0x10030, 0xb8, 0x03, 0x02, 0x2c, 0x05, 0x3f, 0xf4);
    real_run(0x1000, 0x30, 10);
    ck_assert_uint_eq(c->gpr[RAX] & 0xffff, 0x0108);
    ck_assert_uint_eq(arith() & (FL_CF | FL_AF), FL_CF | FL_AF);
    /* AAM: 63 = 6 * 10 + 3 -> AX = 0603h; AAD: 6 * 10 + 3 = 63 = 3Fh, AH = 0. */
    LOAD(0x10040, 0xb0, 0x3f, 0xd4, 0x0a, 0xf4, 0xd5, 0x0a, 0xf4);
    real_run(0x1000, 0x40, 10);
    ck_assert_uint_eq(c->gpr[RAX] & 0xffff, 0x0603);
    ck_assert_uint_eq(arith() & (FL_ZF | FL_SF), 0);
    tm_run(tm, c->rip, 5);
    ck_assert_uint_eq(c->gpr[RAX] & 0xffff, 0x003f);
    /* AAM 7: 3Fh = 63 = 9 * 7 + 0 -> AX = 0900h, ZF = 1 (from AL = 0), PF = 1. */
    LOAD(0x10050, 0xb0, 0x3f, 0xd4, 0x07, 0xf4);
    real_run(0x1000, 0x50, 10);
    ck_assert_uint_eq(c->gpr[RAX] & 0xffff, 0x0900);
    ck_assert_uint_eq(arith() & (FL_ZF | FL_PF | FL_SF), FL_ZF | FL_PF);
    /* SALC: AL = FFh after STC, 00h after CLC. */
    LOAD(0x10060, 0xf9, 0xd6, 0xf4, 0xf8, 0xd6, 0xf4);
    real_run(0x1000, 0x60, 5);
    ck_assert_uint_eq(c->gpr[RAX] & 0xff, 0xff);
    tm_run(tm, c->rip, 5);
    ck_assert_uint_eq(c->gpr[RAX] & 0xff, 0x00);
    /* AAM 0 is #DE (a fault: the pushed IP is the AAM's). */
    c->gpr[RSP] = 0x8000;
    LOAD(0x10070, 0xd4, 0x00, 0xf4);
    real_run(0x1000, 0x70, 5);
    ck_assert_int_eq(real_vector(), EXC_DE);
    ck_assert_uint_eq(r16(0x8000 - 6), 0x70);
}
END_TEST

/* BOUND: signed index within [lower, upper] passes, else #BR, a fault (SDM BOUND). */
START_TEST(bound)
{
    seg_load_real(c, SEG_DS, 0);
    w16(0x100, 0xfffb);                 /* lower = -5 */
    w16(0x102, 10);                     /* upper = 10 */
    c->gpr[RBX] = 0xfffb;               /* -5: in range */
    LOAD(0x10000, 0x62, 0x1e, 0x00, 0x01, 0xf4);   /* bound bx, [0100h] */
    real_run(0x1000, 0, 5);
    ck_assert_int_eq(real_vector(), -1);
    ck_assert_uint_eq(c->rip, 5);
    c->gpr[RBX] = 11;
    c->gpr[RSP] = 0x8000;
    real_run(0x1000, 0, 5);
    ck_assert_int_eq(real_vector(), EXC_BR);
    ck_assert_uint_eq(r16(0x8000 - 6), 0);         /* IP of the BOUND */
    c->gpr[RBX] = 0xfffa;               /* -6 */
    c->gpr[RSP] = 0x8000;
    real_run(0x1000, 0, 5);
    ck_assert_int_eq(real_vector(), EXC_BR);
}
END_TEST

/* LDS/LES/LSS/LFS/LGS m16:16: offset then selector; real mode base = sel * 16. */
START_TEST(far_pointer_loads_real)
{
    seg_load_real(c, SEG_DS, 0);
    w16(0x200, 0x1234);
    w16(0x202, 0x5678);
    LOAD(0x10000, 0x0f, 0xb4, 0x1e, 0x00, 0x02,    /* lfs bx, [0200h] */
                  0x0f, 0xb5, 0x0e, 0x00, 0x02,    /* lgs cx, [0200h] */
                  0xc4, 0x3e, 0x00, 0x02,          /* les di, [0200h] */
                  0x0f, 0xb2, 0x26, 0x00, 0x02,    /* lss sp, [0200h] */
                  0xc5, 0x36, 0x00, 0x02,          /* lds si, [0200h] */
                  0xf4);
    real_run(0x1000, 0, 10);
    ck_assert_uint_eq(c->gpr[RBX] & 0xffff, 0x1234);
    ck_assert_uint_eq(c->gpr[RCX] & 0xffff, 0x1234);
    ck_assert_uint_eq(c->gpr[RDI] & 0xffff, 0x1234);
    ck_assert_uint_eq(c->gpr[RSP] & 0xffff, 0x1234);
    ck_assert_uint_eq(c->gpr[RSI] & 0xffff, 0x1234);
    for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
        if (s == SEG_CS)
            continue;
        ck_assert_uint_eq(c->seg[s].sel, 0x5678);
        ck_assert_uint_eq(c->seg[s].base, 0x56780);
    }
}
END_TEST

/* ---- legacy 32-bit protected mode ----------------------------------------------- */

#define PM_GDT   0x10000ull
#define PM_IDT   0x11000ull
#define PM_TSS   0x14000ull
#define PM_ESP0  0x90000u
#define PM_UESP  0x70000u
#define PM_CODE  0x100000ull

#define S_KCODE 0x08
#define S_KDATA 0x10
#define S_UCODE 0x1b
#define S_UDATA 0x23
#define S_TSS   0x28
#define S_GATE  0x33            /* call gate, DPL 3, 2 dword parameters -> S_KCODE:0x101000 */
#define S_EXPD0 0x38            /* expand-down data DPL 0, limit FFFh, B = 1 */
#define S_LIMCS 0x40            /* 32-bit code DPL 0, base 100000h, limit FFFh */
#define S_TGATE 0x48            /* task gate to S_TSS */
#define S_EXPD3 0x53            /* expand-down data DPL 3, limit FFFh, B = 1 */

static uint64_t gate32(uint16_t sel, uint32_t off, unsigned type, unsigned dpl, unsigned params)
{
    return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)params << 32) |
           ((uint64_t)(0x80 | (dpl << 5) | type) << 40) | ((uint64_t)(off >> 16) << 48);
}

static const uint64_t pm_gdt[11] = {
    0,
    0x00cf9b000000ffffull,      /* 08 code32 DPL 0 */
    0x00cf93000000ffffull,      /* 10 data DPL 0 */
    0x00cffb000000ffffull,      /* 18 code32 DPL 3 */
    0x00cff3000000ffffull,      /* 20 data DPL 3 */
    0x0000890140000067ull,      /* 28 32-bit TSS at 14000h (available), limit 67h */
    0,                          /* 30 call gate (filled in) */
    0x0040970000000fffull,      /* 38 expand-down, DPL 0 */
    0x00409b1000000fffull,      /* 40 code, base 100000h, limit FFFh */
    0x0000850028000000ull,      /* 48 task gate -> TSS 28h */
    0x0040f70000000fffull,      /* 50 expand-down, DPL 3 */
};

static void pm_load(unsigned seg, uint16_t sel)
{
    seg_from_desc(&c->seg[seg], sel, pm_gdt[sel >> 3]);
}

static void pm_setup(void)
{
    tm = tm_new(16u << 20);
    c = &tm->cpu;
    physmem_write_bytes(tm->pm, PM_GDT, pm_gdt, sizeof pm_gdt);
    w64(PM_GDT + 0x30, gate32(S_KCODE, 0x101000, DT_CALLGATE, 3, 2));
    for (unsigned v = 0; v < 256; v++)
        w64(PM_IDT + v * 8, gate32(S_KCODE, (uint32_t)TM_EXC_STUB(v), DT_INTGATE, v == 0x80 ? 3 : 0, 0));
    w64(PM_IDT + 0x81 * 8, 0x0000850028000000ull);          /* task gate */
    w32(PM_TSS + 4, PM_ESP0);                               /* ESP0 */
    w32(PM_TSS + 8, S_KDATA);                               /* SS0 */
    c->efer = 0;
    c->cr4 = 0;
    c->cr0 = CR0_PE | CR0_ET | CR0_NE;
    mmu_set_efer(&tm->mmu, 0);
    mmu_set_cr4(&tm->mmu, 0);
    mmu_set_cr0(&tm->mmu, c->cr0);
    c->gdtr = (struct dtr){ PM_GDT, sizeof pm_gdt - 1 };
    c->idtr = (struct dtr){ PM_IDT, 256 * 8 - 1 };
    seg_from_desc(&c->tr, S_TSS, pm_gdt[5] | (2ull << 40));  /* busy */
    pm_load(SEG_CS, S_KCODE);
    for (unsigned s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            pm_load(s, S_KDATA);
    c->gpr[RSP] = PM_ESP0 - 0x1000;
    cpu_update_mode(c);
}

static void pm_user(void)
{
    pm_load(SEG_CS, S_UCODE);
    for (unsigned s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            pm_load(s, S_UDATA);
    c->gpr[RSP] = PM_UESP;
    cpu_update_mode(c);
}

static int pm_vector(void)
{
    uint64_t r = c->rip - 1;            /* past the stub's HLT */
    if (c->seg[SEG_CS].sel != S_KCODE || r < TM_EXC_STUBS || r >= TM_EXC_STUB(256) || (r & 15))
        return -1;
    return (int)((r - TM_EXC_STUBS) / 16);
}

START_TEST(pm_setup_is_protected32)
{
    ck_assert_uint_eq(c->mode, MODE_PROT32);
    ck_assert_uint_eq(c->cpl, 0);
    pm_user();
    ck_assert_uint_eq(c->cpl, 3);
}
END_TEST

/* CALL through a 32-bit call gate from CPL 3 to a DPL 0 segment: SS0:ESP0 from the
 * TSS, the new stack holds SS, ESP, the 2 parameters, CS, EIP (SDM Vol. 3A 5.8.5,
 * Figure 5-13); RETF 8 returns to CPL 3 and pops the parameters on both stacks. */
START_TEST(call_gate_inner_privilege_and_retf)
{
    pm_user();
    LOAD(PM_CODE, 0x68, 0x11, 0x11, 0x11, 0x11,                 /* push 11111111h */
                  0x68, 0x22, 0x22, 0x22, 0x22,                 /* push 22222222h */
                  0x9a, 0x00, 0x00, 0x00, 0x00, S_GATE, 0x00,   /* call S_GATE:0 */
                  0xf4);
    LOAD(0x101000, 0xf4, 0xca, 0x08, 0x00);                     /* hlt; retf 8 */
    tm_run(tm, PM_CODE, 5);
    ck_assert_uint_eq(c->cpl, 0);
    ck_assert_uint_eq(c->rip, 0x101001);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, S_KCODE);
    ck_assert_uint_eq(c->seg[SEG_SS].sel, S_KDATA);
    uint32_t esp = PM_ESP0 - 24;
    ck_assert_uint_eq(c->gpr[RSP], esp);
    ck_assert_uint_eq(r32(esp + 0), PM_CODE + 17);             /* return EIP */
    ck_assert_uint_eq(r32(esp + 4), S_UCODE);
    ck_assert_uint_eq(r32(esp + 8), 0x22222222);               /* parameter 0 (lowest) */
    ck_assert_uint_eq(r32(esp + 12), 0x11111111);
    ck_assert_uint_eq(r32(esp + 16), PM_UESP - 8);             /* caller's ESP */
    ck_assert_uint_eq(r32(esp + 20), S_UDATA);
    tm_run(tm, c->rip, 1);                                      /* retf 8 */
    ck_assert_uint_eq(c->cpl, 3);
    ck_assert_uint_eq(c->rip, PM_CODE + 17);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, S_UCODE);
    ck_assert_uint_eq(c->seg[SEG_SS].sel, S_UDATA);
    ck_assert_uint_eq(c->gpr[RSP], PM_UESP);
}
END_TEST

/* A call gate whose DPL is below the CPL, and a JMP through a gate to a more
 * privileged non-conforming segment, are #GP(selector) (SDM Vol. 3A 5.8.4). */
START_TEST(call_gate_privilege_faults)
{
    w64(PM_GDT + 0x30, gate32(S_KCODE, 0x101000, DT_CALLGATE, 0, 0));   /* gate DPL 0 */
    pm_user();
    LOAD(PM_CODE, 0x9a, 0x00, 0x00, 0x00, 0x00, S_GATE, 0x00, 0xf4);
    tm_run(tm, PM_CODE, 3);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP]), 0x30);                 /* error code: the gate selector */
    ck_assert_uint_eq(r32(c->gpr[RSP] + 4), PM_CODE);          /* faulting EIP */

    w64(PM_GDT + 0x30, gate32(S_KCODE, 0x101000, DT_CALLGATE, 3, 0));
    pm_user();
    LOAD(PM_CODE, 0xea, 0x00, 0x00, 0x00, 0x00, S_GATE, 0x00, 0xf4);   /* jmp S_GATE:0 */
    tm_run(tm, PM_CODE, 3);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP]), S_KCODE);              /* error code: the target */
}
END_TEST

/* INT 80h from CPL 3 through a DPL 3 interrupt gate: stack from the 32-bit TSS, frame
 * EIP CS EFLAGS ESP SS (SDM Vol. 3A 6.12.1, Figure 6-4); IRET to the outer level. */
START_TEST(interrupt_gate_stack_switch_and_iret)
{
    w64(PM_IDT + 0x80 * 8, gate32(S_KCODE, 0x102000, DT_INTGATE, 3, 0));
    LOAD(0x102000, 0xf4, 0xcf);                                 /* hlt; iret */
    pm_user();
    LOAD(PM_CODE, 0xcd, 0x80, 0xf4);
    tm_run(tm, PM_CODE, 3);
    ck_assert_uint_eq(c->rip, 0x102001);
    ck_assert_uint_eq(c->cpl, 0);
    uint32_t esp = PM_ESP0 - 20;
    ck_assert_uint_eq(c->gpr[RSP], esp);
    ck_assert_uint_eq(r32(esp), PM_CODE + 2);
    ck_assert_uint_eq(r32(esp + 4), S_UCODE);
    ck_assert_uint_eq(r32(esp + 12), PM_UESP);
    ck_assert_uint_eq(r32(esp + 16), S_UDATA);
    tm_run(tm, c->rip, 1);
    ck_assert_uint_eq(c->cpl, 3);
    ck_assert_uint_eq(c->rip, PM_CODE + 2);
    ck_assert_uint_eq(c->gpr[RSP], PM_UESP);
    ck_assert_uint_eq(c->seg[SEG_SS].sel, S_UDATA);
}
END_TEST

/* Expand-down segments: valid offsets are limit+1 .. FFFFFFFFh (B = 1); a data access
 * below is #GP(0), a push below is #SS(0) (SDM Vol. 3A 5.3, 6.15). */
START_TEST(expand_down_limits)
{
    pm_load(SEG_DS, S_EXPD0);
    w32(0x2000, 0xdeadbeef);
    LOAD(PM_CODE, 0xa1, 0x00, 0x20, 0x00, 0x00,                 /* mov eax, [2000h]: ok */
                  0xa1, 0x00, 0x08, 0x00, 0x00, 0xf4);          /* mov eax, [800h]: #GP(0) */
    tm_run(tm, PM_CODE, 5);
    ck_assert_uint_eq(c->gpr[RAX], 0xdeadbeef);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP]), 0);
    ck_assert_uint_eq(r32(c->gpr[RSP] + 4), PM_CODE + 5);

    pm_user();
    seg_from_desc(&c->seg[SEG_SS], S_EXPD3, pm_gdt[S_EXPD3 >> 3]);
    c->gpr[RSP] = 0x1008;
    LOAD(PM_CODE, 0x50, 0x50, 0x50, 0xf4);                      /* the third push is at 0FFCh */
    tm_run(tm, PM_CODE, 5);
    ck_assert_int_eq(pm_vector(), EXC_SS);
    ck_assert_uint_eq(r32(c->gpr[RSP]), 0);                     /* error code */
    ck_assert_uint_eq(r32(c->gpr[RSP] + 4), PM_CODE + 2);       /* the third PUSH */
    ck_assert_uint_eq(r32(c->gpr[RSP] + 16), 0x1000);           /* ESP after two pushes */
    ck_assert_uint_eq(r32(c->gpr[RSP] + 20), S_EXPD3);
}
END_TEST

/* Instruction fetch beyond the CS limit is #GP(0) with EIP at the instruction
 * (SDM Vol. 3A 5.3), also for an instruction that only ends beyond it. */
START_TEST(cs_limit_on_fetch)
{
    pm_load(SEG_CS, S_LIMCS);
    cpu_update_mode(c);
    LOAD(PM_CODE + 0xffd, 0x90, 0x31, 0xc0);                    /* nop; xor eax, eax (ends at FFFh) */
    c->gpr[RAX] = 5;
    tm_run(tm, 0xffd, 4);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP] + 4), 0x1000);            /* EIP past the limit */
    ck_assert_uint_eq(c->gpr[RAX], 0);

    pm_load(SEG_CS, S_LIMCS);
    cpu_update_mode(c);
    LOAD(PM_CODE + 0xffe, 0x90, 0x31, 0xc0);                    /* xor eax, eax straddles FFFh */
    c->gpr[RAX] = 5;
    tm_run(tm, 0xffe, 3);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP] + 4), 0xfff);
    ck_assert_uint_eq(c->gpr[RAX], 5);
}
END_TEST

/* ARPL (SDM ARPL): raises the destination RPL to the source's and sets ZF. */
START_TEST(arpl)
{
    c->gpr[RAX] = 0x0008;
    c->gpr[RCX] = 0x0003;
    LOAD(PM_CODE, 0x63, 0xc8, 0xf4, 0x63, 0xc8, 0xf4);          /* arpl ax, cx */
    tm_run(tm, PM_CODE, 2);
    ck_assert_uint_eq(c->gpr[RAX], 0x000b);
    ck_assert_uint_ne(flags_get(c) & FL_ZF, 0);
    tm_run(tm, c->rip, 2);
    ck_assert_uint_eq(c->gpr[RAX], 0x000b);
    ck_assert_uint_eq(flags_get(c) & FL_ZF, 0);
}
END_TEST

/* LES/LSS with protected-mode checks: a good data selector loads the cache; a
 * selector in an unusable LDT is #GP(sel) with the register unchanged; LSS of a
 * DPL 3 segment at CPL 0 is #GP(sel) (SDM MOV/LDS "Protected Mode Exceptions"). */
START_TEST(far_pointer_loads_protected)
{
    w32(0x200000, 0xcafe0000);
    w16(0x200004, S_UDATA);
    w32(0x200008, 0x12345678);
    w16(0x20000c, 0x000c);              /* TI = 1 */
    LOAD(PM_CODE, 0xc4, 0x05, 0x00, 0x00, 0x20, 0x00,           /* les eax, [200000h] */
                  0xc4, 0x1d, 0x08, 0x00, 0x20, 0x00, 0xf4);    /* les ebx, [200008h] */
    c->gpr[RBX] = 7;
    tm_run(tm, PM_CODE, 3);
    ck_assert_uint_eq(c->gpr[RAX], 0xcafe0000);
    ck_assert_uint_eq(c->seg[SEG_ES].sel, S_UDATA);
    ck_assert_uint_eq(SEG_ATTR_DPL(c->seg[SEG_ES].attr), 3);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP]), 0x0c);
    ck_assert_uint_eq(c->gpr[RBX], 7);

    tm_free(tm);
    pm_setup();                                                 /* fresh machine state */
    w32(0x200010, 0x1000);
    w16(0x200014, S_UDATA);
    LOAD(PM_CODE, 0x0f, 0xb2, 0x25, 0x10, 0x00, 0x20, 0x00, 0xf4);  /* lss esp, [200010h] */
    tm_run(tm, PM_CODE, 3);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP]), S_UDATA & 0xfffc);
    ck_assert_uint_eq(c->seg[SEG_SS].sel, S_KDATA);
}
END_TEST

/* Hardware task switches are not emulated: a task gate in the IDT, a far JMP to a
 * TSS, and IRET with NT = 1 stop the VP with a message instead (cpu/gates.h). */
START_TEST(task_switch_is_a_clean_stop)
{
    LOAD(PM_CODE, 0xcd, 0x81, 0xf4);
    c->rip = PM_CODE;
    ck_assert_int_eq(cpu_step(c), CPU_EXIT_STOP);
    ck_assert_ptr_nonnull(strstr(c->stop_msg, "unsupported"));
    ck_assert_ptr_nonnull(strstr(c->stop_msg, "task gate"));
    ck_assert_uint_eq(c->rip, PM_CODE);

    LOAD(PM_CODE, 0xea, 0x00, 0x00, 0x00, 0x00, S_TSS, 0x00);
    c->rip = PM_CODE;
    ck_assert_int_eq(cpu_step(c), CPU_EXIT_STOP);
    ck_assert_ptr_nonnull(strstr(c->stop_msg, "TSS"));

    c->rflags |= FL_NT;
    LOAD(PM_CODE, 0xcf);
    c->rip = PM_CODE;
    ck_assert_int_eq(cpu_step(c), CPU_EXIT_STOP);
    ck_assert_ptr_nonnull(strstr(c->stop_msg, "NT"));
    ck_assert_uint_eq(c->seg[SEG_CS].sel, S_KCODE);
}
END_TEST

/* INT n checks the gate DPL before anything else (SDM INT n): a DPL 0 task gate
 * reached by INT from CPL 3 is #GP(vector * 8 + 2), not a task switch. */
START_TEST(task_gate_dpl_checked_first)
{
    pm_user();
    LOAD(PM_CODE, 0xcd, 0x81, 0xf4);
    tm_run(tm, PM_CODE, 3);
    ck_assert_int_eq(pm_vector(), EXC_GP);
    ck_assert_uint_eq(r32(c->gpr[RSP]), 0x81 * 8 + 2);
}
END_TEST

/* In 64-bit mode the legacy-only opcodes are #UD (SDM Vol. 2 Table A-2, i64), and
 * C4/C5/62 are VEX/EVEX there (here: #UD too, not LES/LDS/BOUND). */
START_TEST(legacy_opcodes_ud_in_64bit)
{
    static const uint8_t ops[] = { 0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0xd6 };
    for (unsigned k = 0; k < sizeof ops; k++) {
        tm_load(tm, TM_CODE_BASE, &ops[k], 1);
        tm->cpu.gpr[RSP] = TM_STACK_TOP - 0x100;
        tm_run(tm, TM_CODE_BASE, 2);
        ck_assert_msg(tm_exception_vector(tm) == EXC_UD, "opcode %02x: vector %d", ops[k],
                      tm_exception_vector(tm));
    }
}
END_TEST

static void lm_setup(void) { tm = tm_new(16u << 20); c = &tm->cpu; }

static void lm_enter_compat(void)
{
    c->seg[SEG_CS] = (struct segment){ .sel = TM_SEL_CODE32, .limit = 0xffffffffu,
        .attr = ST_CODE | ST_READ | ST_ACCESSED | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G };
    cpu_update_mode(c);
}

/* SYSCALL from compatibility mode: #UD on Intel (SDM Vol. 2 SYSCALL: "IF (CS.L != 1)
 * ... THEN #UD"); on AMD it enters the 64-bit kernel at IA32_CSTAR with RCX = the
 * next EIP (AMD APM Vol. 3 SYSCALL). */
START_TEST(syscall_from_compat_mode)
{
    c->efer |= EFER_SCE;
    c->msr.star = (0x18ull << 48) | ((uint64_t)TM_SEL_CODE64 << 32);
    c->msr.lstar = 0x300000;
    c->msr.cstar = 0x310000;
    LOAD(TM_CODE_BASE, 0x0f, 0x05, 0xf4);
    cpu_set_model(c, cpu_model_find("skylake"));      /* no QUIRK_SYSCALL_COMPAT */
    lm_enter_compat();
    ck_assert_uint_eq(c->mode, MODE_PROT32);
    tm_run(tm, TM_CODE_BASE, 1);
    ck_assert_int_eq(tm_exception_vector(tm), EXC_UD);

    cpu_set_model(c, cpu_model_find("zen2"));         /* QUIRK_SYSCALL_COMPAT */
    lm_enter_compat();
    c->gpr[RSP] = TM_STACK_TOP - 0x100;
    tm_run(tm, TM_CODE_BASE, 1);
    ck_assert_uint_eq(c->rip, 0x310000);
    ck_assert_uint_eq(c->mode, MODE_LONG64);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, TM_SEL_CODE64);
    ck_assert_uint_eq(c->gpr[RCX], TM_CODE_BASE + 2);
}
END_TEST

/* A 16-byte call gate in IA-32e mode (SDM Vol. 3A 5.8.3.1): far CALL pushes CS and
 * RIP as 8-byte slots (same privilege: no stack switch); far JMP through it only
 * loads CS:RIP.  The offset in the far pointer is ignored. */
START_TEST(call_gate_64bit)
{
    uint64_t target = 0x150000;
    w64(TM_GDT_BASE + 0x20, (target & 0xffff) | ((uint64_t)TM_SEL_CODE64 << 16) | (0x8cull << 40) |
                            (((target >> 16) & 0xffff) << 48));
    w64(TM_GDT_BASE + 0x28, target >> 32);
    c->gdtr.limit = 0x2f;
    w32(TM_DATA_BASE, 0xdeadbeef);                          /* offset: ignored */
    w16(TM_DATA_BASE + 4, 0x20);
    LOAD(TM_CODE_BASE, 0xff, 0x1c, 0x25, 0x00, 0x00, 0x20, 0x00,     /* call far [200000h] */
                       0xf4);
    LOAD(0x150000, 0xf4);
    uint64_t rsp = TM_STACK_TOP - 0x100;
    c->gpr[RSP] = rsp;
    tm_run(tm, TM_CODE_BASE, 1);
    ck_assert_uint_eq(c->rip, target);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, TM_SEL_CODE64);
    ck_assert_uint_eq(c->gpr[RSP], rsp - 16);
    uint64_t ret, cs;
    physmem_read_bytes(tm->pm, rsp - 16, &ret, 8);
    physmem_read_bytes(tm->pm, rsp - 8, &cs, 8);
    ck_assert_uint_eq(ret, TM_CODE_BASE + 7);
    ck_assert_uint_eq(cs, TM_SEL_CODE64);

    LOAD(TM_CODE_BASE, 0xff, 0x2c, 0x25, 0x00, 0x00, 0x20, 0x00);   /* jmp far [200000h] */
    c->gpr[RSP] = rsp;
    tm_run(tm, TM_CODE_BASE, 1);
    ck_assert_uint_eq(c->rip, target);
    ck_assert_uint_eq(c->gpr[RSP], rsp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("modes");
    TCase *t = tcase_create("real");
    tcase_add_checked_fixture(t, real_setup, teardown);
    tcase_add_test(t, reset_vector_runs_real_mode_code);
    tcase_add_test(t, real_mode_addressing_and_prefixes);
    tcase_add_test(t, real_mode_int_iret_far_call);
    tcase_add_test(t, pusha_popa);
    tcase_add_test(t, bcd_adjust);
    tcase_add_test(t, bound);
    tcase_add_test(t, far_pointer_loads_real);
    suite_add_tcase(s, t);
    t = tcase_create("protected");
    tcase_add_checked_fixture(t, pm_setup, teardown);
    tcase_add_test(t, pm_setup_is_protected32);
    tcase_add_test(t, call_gate_inner_privilege_and_retf);
    tcase_add_test(t, call_gate_privilege_faults);
    tcase_add_test(t, interrupt_gate_stack_switch_and_iret);
    tcase_add_test(t, expand_down_limits);
    tcase_add_test(t, cs_limit_on_fetch);
    tcase_add_test(t, arpl);
    tcase_add_test(t, far_pointer_loads_protected);
    tcase_add_test(t, task_switch_is_a_clean_stop);
    tcase_add_test(t, task_gate_dpl_checked_first);
    suite_add_tcase(s, t);
    t = tcase_create("long");
    tcase_add_checked_fixture(t, lm_setup, teardown);
    tcase_add_test(t, legacy_opcodes_ud_in_64bit);
    tcase_add_test(t, syscall_from_compat_mode);
    tcase_add_test(t, call_gate_64bit);
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
