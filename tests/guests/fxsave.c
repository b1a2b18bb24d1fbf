/* FXSAVE/FXRSTOR and XSAVE/XRSTOR round trips at CPL 0, plus the x87 exception rules a
 * kernel relies on: CR4.OSFXSR/OSXSAVE enabling, CPUID.OSXSAVE following CR4, XCR0 via
 * XSETBV/XGETBV, XSTATE_BV handling (init of a component whose bit is clear), the
 * alignment #GPs, #NM with CR0.TS, #MF on FWAIT for an unmasked x87 exception.
 * Layout: SDM Vol. 1 Table 10-2 (FXSAVE), 13.4 (XSAVE area). */
#include "rt.h"

const char rt_test_name[] = "fxsave";

#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE    (1ull << 18)

static u8 area_a[512] __attribute__((aligned(64)));
static u8 area_b[512] __attribute__((aligned(64)));
static u8 xarea[576] __attribute__((aligned(64)));
static u8 xarea2[576] __attribute__((aligned(64)));
static const u8 xmm_pattern[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

static void fxsave64(void *p) { __asm__ volatile("fxsave64 (%0)" :: "r"(p) : "memory"); }
static void fxrstor64(const void *p) { __asm__ volatile("fxrstor64 (%0)" :: "r"(p) : "memory"); }
static void xsave64(void *p, u64 rfbm)
{
    __asm__ volatile("xsave64 (%0)" :: "r"(p), "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
}
static void xrstor64(const void *p, u64 rfbm)
{
    __asm__ volatile("xrstor64 (%0)" :: "r"(p), "a"((u32)rfbm), "d"((u32)(rfbm >> 32)) : "memory");
}
static void xsetbv(u32 idx, u64 v)
{
    __asm__ volatile("xsetbv" :: "c"(idx), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static u64 xgetbv(u32 idx)
{
    u32 lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
    return (u64)hi << 32 | lo;
}
static u16 fnstsw(void) { u16 v; __asm__ volatile("fnstsw %0" : "=a"(v)); return v; }

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p) { return rd16(p) | (u32)rd16(p + 2) << 16; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

/* A known x87/SSE state: FCW 027F (53-bit precision), stack 1, pi, log2(e) (TOP 5),
 * MXCSR 1FA0 (PE flag set), XMM0 = pattern. */
static void load_state(void)
{
    u16 cw = 0x027f;
    u32 mx = 0x1fa0;
    __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldpi\n\tfldl2e\n\t"
                     "ldmxcsr %1\n\tmovdqu %2, %%xmm0"
                     :: "m"(cw), "m"(mx), "m"(xmm_pattern) : "memory");
}

/* Something else in every register the state covers. */
static void clobber_state(void)
{
    static const u8 zero[16];
    u32 mx = 0x1f80;
    __asm__ volatile("fninit\n\tfldz\n\tldmxcsr %0\n\tmovdqu %1, %%xmm0" :: "m"(mx), "m"(zero) : "memory");
}

static int bytes_eq(const u8 *a, const u8 *b, unsigned from, unsigned to, const char *what)
{
    for (unsigned k = from; k < to; k++) {
        if (a[k] != b[k]) {
            CHECK(0, "%s: byte %u differs: %#x vs %#x", what, k, a[k], b[k]);
            return 0;
        }
    }
    CHECK(1, "%s", what);
    return 1;
}

static void check_image(const u8 *img, const char *what)
{
    CHECK_EQ(rd16(img + 0), 0x027f, what);                  /* FCW */
    CHECK_EQ((rd16(img + 2) >> 11) & 7, 5, what);           /* TOP after three pushes */
    CHECK_EQ(img[4], 0xe0, what);                           /* R7 R6 R5 in use */
    CHECK_EQ(rd32(img + 24), 0x1fa0, what);                 /* MXCSR */
    /* ST0 = log2(e) = 1.0111000101010100011101100101001010111000001011101100 (FLDL2E,
     * rounded to 64 bits): mantissa B8AA3B295C17F0BC, exponent 3FFF. */
    CHECK_EQ(rd64(img + 32), 0xb8aa3b295c17f0bcull, what);
    CHECK_EQ(rd16(img + 40), 0x3fff, what);
    CHECK_EQ(rd64(img + 48), 0xc90fdaa22168c235ull, what);  /* ST1 = pi */
    CHECK_EQ(rd64(img + 64), 0x8000000000000000ull, what);  /* ST2 = 1.0 */
    CHECK_EQ(rd64(img + 160), rd64(xmm_pattern), what);     /* XMM0 */
    CHECK_EQ(rd64(img + 168), rd64(xmm_pattern + 8), what);
}

static void test_fxsave(void)
{
    load_state();
    fxsave64(area_a);
    check_image(area_a, "fxsave64");
    clobber_state();
    fxrstor64(area_a);
    fxsave64(area_b);
    bytes_eq(area_a, area_b, 0, 416, "fxrstor64/fxsave64 round trip");

    /* Misaligned: #GP(0) (SDM Vol. 2 FXSAVE). */
    CHECK(TRY(fxsave64(area_b + 8)), "fxsave64 misaligned faults");
    CHECK_EQ(rt_last_trap.vector, 13, "fxsave misaligned vector");
    /* FXRSTOR with a reserved MXCSR bit: #GP(0).  QEMU's TCG does not check it. */
    if (!rt_on_qemu_tcg()) {
        area_b[26] = 0x01;                                  /* MXCSR bit 16 */
        CHECK(TRY(fxrstor64(area_b)), "fxrstor reserved MXCSR faults");
        CHECK_EQ(rt_last_trap.vector, 13, "fxrstor reserved MXCSR vector");
    } else {
        SKIP("FXRSTOR reserved-MXCSR #GP: QEMU TCG does not check it");
    }
}

static void test_xsave(void)
{
    write_cr4(read_cr4() | CR4_OSXSAVE);
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    CHECK(c & (1u << 27), "CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE");
    cpuid(0xd, 0, &a, &b, &c, &d);
    CHECK((a & 3) == 3, "CPUID.0DH:EAX has x87 and SSE");

    CHECK_EQ(xgetbv(0), 1, "XCR0 reset value");
    CHECK(TRY(xsetbv(0, 2)), "XSETBV without x87 faults");
    CHECK_EQ(rt_last_trap.vector, 13, "XSETBV bit 0 clear vector");
    CHECK(TRY(xsetbv(1, 3)), "XSETBV to XCR1 faults");
    xsetbv(0, 3);
    CHECK_EQ(xgetbv(0), 3, "XCR0 after XSETBV");

    /* x87 only: MXCSR and XMM bytes untouched, XSTATE_BV gets bit 0. */
    for (unsigned k = 0; k < 512; k++)
        xarea[k] = 0xaa;
    for (unsigned k = 512; k < 576; k++)
        xarea[k] = 0;
    load_state();
    xsave64(xarea, 1);
    CHECK_EQ(rd16(xarea), 0x027f, "xsave x87: FCW");
    CHECK_EQ(rd32(xarea + 24), 0xaaaaaaaa, "xsave x87 only: MXCSR not written");
    CHECK_EQ(rd64(xarea + 160), 0xaaaaaaaaaaaaaaaaull, "xsave x87 only: XMM0 not written");
    CHECK_EQ(rd64(xarea + 512) & 3, 1, "xsave x87 only: XSTATE_BV");

    /* Both components: the legacy region equals FXSAVE64's. */
    xsave64(xarea, 3);
    CHECK_EQ(rd64(xarea + 512) & 3, 3, "xsave: XSTATE_BV");
    CHECK_EQ(rd64(xarea + 520), 0, "xsave: XCOMP_BV (standard format)");
    check_image(xarea, "xsave64");
    fxsave64(area_a);
    /* Bytes XSAVE may leave alone are skipped: QEMU's TCG stores neither FOP (6-7) nor
     * the 6 padding bytes of each ST slot, so the 0xAA fill stays there while FXSAVE64
     * into a zeroed buffer shows 0. */
    bytes_eq(area_a, xarea, 0, 6, "xsave64 legacy region == fxsave64 (0-5)");
    bytes_eq(area_a, xarea, 8, 32, "xsave64 legacy region == fxsave64 (8-31)");
    for (unsigned k = 0; k < 8; k++)
        bytes_eq(area_a, xarea, 32 + 16 * k, 42 + 16 * k, "xsave64 legacy region == fxsave64 (ST)");
    bytes_eq(area_a, xarea, 160, 416, "xsave64 legacy region == fxsave64 (XMM)");

    clobber_state();
    xrstor64(xarea, 3);
    fxsave64(area_b);
    bytes_eq(area_a, area_b, 0, 416, "xrstor64/fxsave64 round trip");

    /* XSTATE_BV[0] = 0: XRSTOR puts x87 in its initial state (FCW 037F, TOP 0, all
     * empty) and still loads SSE from memory. */
    for (unsigned k = 0; k < 576; k++)
        xarea2[k] = xarea[k];
    xarea2[512] = 2;
    clobber_state();
    xrstor64(xarea2, 3);
    fxsave64(area_b);
    CHECK_EQ(rd16(area_b), 0x037f, "xrstor init x87: FCW");
    CHECK_EQ(rd16(area_b + 2), 0, "xrstor init x87: FSW");
    CHECK_EQ(area_b[4], 0, "xrstor init x87: tags");
    CHECK_EQ(rd64(area_b + 160), rd64(xmm_pattern), "xrstor SSE from memory: XMM0");
    CHECK_EQ(rd32(area_b + 24), 0x1fa0, "xrstor SSE from memory: MXCSR");

    /* Standard-format faults: XCOMP_BV != 0, misalignment. */
    xarea2[512] = 3;
    xarea2[520] = 1;
    CHECK(TRY(xrstor64(xarea2, 3)), "xrstor with XCOMP_BV[0] faults");
    CHECK_EQ(rt_last_trap.vector, 13, "xrstor XCOMP_BV vector");
    CHECK(TRY(xsave64(xarea + 16, 3)), "xsave misaligned faults");
    CHECK_EQ(rt_last_trap.vector, 13, "xsave misaligned vector");
}

static void test_nm_mf(void)
{
    /* #NM: CR0.TS set, any x87 instruction (SDM Vol. 3A 2.5). */
    write_cr0(read_cr0() | CR0_TS);
    CHECK(TRY(__asm__ volatile("fld1" ::: "memory")), "fld1 with CR0.TS faults");
    CHECK_EQ(rt_last_trap.vector, 7, "#NM vector");
    __asm__ volatile("clts");

    /* #MF: ZE unmasked, 1/0 sets ES; the next waiting instruction faults, FNSTSW
     * (no-wait) does not.  An unmasked ZE leaves the stack as it was: TOP 6. */
    u16 cw = 0x037b;
    /* DE F9 = FDIVP ST(1), ST(0) in Intel syntax: ST(1) = 1 / 0 (bytes, because AT&T
     * swaps the fdivp/fdivrp mnemonics). */
    __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\t.byte 0xde, 0xf9" :: "m"(cw) : "memory");
    u16 sw = fnstsw();
    CHECK_EQ(sw & 0x80ff, 0x8084, "FSW after unmasked 1/0: B, ES, ZE");
    if (!rt_on_qemu_tcg())              /* QEMU's TCG pops anyway */
        CHECK_EQ((sw >> 11) & 7, 6, "no pop on unmasked ZE");
    CHECK(TRY(__asm__ volatile("fwait" ::: "memory")), "fwait with a pending exception faults");
    CHECK_EQ(rt_last_trap.vector, 16, "#MF vector");
    __asm__ volatile("fnclex\n\tfninit" ::: "memory");
}

void test_main(void)
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    CHECK((d & 1) && (d & (1u << 24)), "CPUID.1:EDX has FPU and FXSR");
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    test_fxsave();
    if (c & (1u << 26))
        test_xsave();
    else
        SKIP("no XSAVE in CPUID");
    test_nm_mf();
    rt_finish();
}
