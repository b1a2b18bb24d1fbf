/* Unit tests of the MMX/SSE exception rules and a few hand-checked results
 * (cpu/sse_*.c) on the test machine (flat 64-bit mode, CPL 0; exception vector v
 * halts in TM_EXC_STUB(v)).  The rules (SDM Vol. 2, "SIMD Floating-Point Exceptions"
 * and "Other Exceptions" of each instruction; Vol. 3A 2.5 and 13.1):
 *   SSE: CR0.EM = 1 or CR4.OSFXSR = 0 -> #UD; CR0.TS = 1 -> #NM;
 *        unmasked SIMD FP exception -> #XM if CR4.OSXMMEXCPT else #UD, flags set,
 *        destination unchanged; misaligned m128 of MOVAPS -> #GP(0), MOVUPS is fine.
 *   MMX: CR0.EM -> #UD, CR0.TS -> #NM, pending x87 exception -> #MF, OSFXSR not
 *        needed; TOP = 0, all tags valid,
 *        exponent field of the written register = FFFFh (Vol. 1 9.5.1).
 *   MOVBE and CRC32 are not SSE: no CR0/CR4 conditions.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "mmu/physmem.h"
#include "tests/support/test_machine.h"

#define CODE TM_CODE_BASE
#define DATA TM_DATA_BASE

static struct test_machine *tm;
static struct cpu *c;

static void setup(void)
{
    tm = tm_new(16u << 20);
    c = &tm->cpu;
    c->gpr[RSP] = TM_STACK_TOP - 0x1000;
    c->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->fpu.mxcsr = 0x1f80;
}

static void teardown(void) { tm_free(tm); }

static void run(const uint8_t *code, unsigned len, unsigned n)
{
    uint8_t buf[128];
    memset(buf, 0xf4, sizeof buf);          /* HLT after the code */
    memcpy(buf, code, len);
    tm_load(tm, CODE, buf, sizeof buf);
    tm_run(tm, CODE, n);
}

#define ck_vector(v) ck_assert_msg(tm_exception_vector(tm) == (v), "expected vector %d, got %d", (v), \
                                   tm_exception_vector(tm))

static const uint8_t addps_01[] = { 0x0f, 0x58, 0xc1 };          /* addps xmm0, xmm1 */
static const uint8_t divps_01[] = { 0x0f, 0x5e, 0xc1 };          /* divps xmm0, xmm1 */
static const uint8_t paddb_01[] = { 0x0f, 0xfc, 0xc1 };          /* paddb mm0, mm1 */

START_TEST(sse_needs_osfxsr)
{
    c->cr4 &= ~CR4_OSFXSR;
    run(addps_01, sizeof addps_01, 1);
    ck_vector(EXC_UD);
}
END_TEST

START_TEST(sse_em_is_ud)
{
    c->cr0 |= CR0_EM;
    run(addps_01, sizeof addps_01, 1);
    ck_vector(EXC_UD);
}
END_TEST

START_TEST(sse_ts_is_nm)
{
    c->cr0 |= CR0_TS;
    run(addps_01, sizeof addps_01, 1);
    ck_vector(EXC_NM);
}
END_TEST

START_TEST(mmx_rules)
{
    c->cr0 |= CR0_EM;
    run(paddb_01, sizeof paddb_01, 1);
    ck_vector(EXC_UD);
    setup();
    c->cr0 |= CR0_TS;
    run(paddb_01, sizeof paddb_01, 1);
    ck_vector(EXC_NM);
}
END_TEST

/* A pending unmasked x87 exception (FSW.ES) makes an MMX instruction raise #MF. */
START_TEST(mmx_pending_x87_is_mf)
{
    c->cr0 |= CR0_NE;
    c->fpu.fsw = 0x0081;                    /* ES + IE */
    run(paddb_01, sizeof paddb_01, 1);
    ck_vector(EXC_MF);
}
END_TEST

/* PADDB without OSFXSR: 08+FF = 07 (wraps), 07+01 = 08, ... per byte. */
START_TEST(mmx_paddb_state)
{
    c->cr4 &= ~CR4_OSFXSR;
    uint64_t a = 0x0102030405060708ull, b = 0x01010101010101ffull;
    memcpy(c->fpu.st[0], &a, 8);
    memcpy(c->fpu.st[1], &b, 8);
    c->fpu.fsw = 5u << 11;                  /* TOP = 5 */
    c->fpu.ftw = 0xffff;                    /* all empty */
    run(paddb_01, sizeof paddb_01, 1);
    ck_vector(-1);
    uint64_t r;
    memcpy(&r, c->fpu.st[0], 8);
    ck_assert_uint_eq(r, 0x0203040506070807ull);
    ck_assert_uint_eq(c->fpu.st[0][8], 0xff);
    ck_assert_uint_eq(c->fpu.st[0][9], 0xff);
    ck_assert_uint_eq((c->fpu.fsw >> 11) & 7, 0);
    ck_assert_uint_eq(c->fpu.ftw, 0);       /* full tag word: 00 = valid for all */
}
END_TEST

/* MOVAPS xmm0, [rbx] at DATA+8: #GP(0); MOVUPS loads the 16 bytes. */
START_TEST(movaps_alignment)
{
    static const uint8_t movaps[] = { 0x0f, 0x28, 0x03 }, movups[] = { 0x0f, 0x10, 0x03 };
    uint64_t v[2] = { 0x1111222233334444ull, 0x5555666677778888ull };
    tm_load(tm, DATA + 8, v, 16);
    c->gpr[RBX] = DATA + 8;
    run(movaps, sizeof movaps, 1);
    ck_vector(EXC_GP);
    ck_assert_uint_eq(c->fpu.xmm[0].q[0], 0);
    setup();
    tm_load(tm, DATA + 8, v, 16);
    c->gpr[RBX] = DATA + 8;
    run(movups, sizeof movups, 1);
    ck_vector(-1);
    ck_assert_uint_eq(c->fpu.xmm[0].q[0], v[0]);
    ck_assert_uint_eq(c->fpu.xmm[0].q[1], v[1]);
}
END_TEST

static void setup_div_by_zero(void)
{
    for (int k = 0; k < 4; k++) {
        c->fpu.xmm[0].d[k] = 0x3f800000;    /* 1.0f */
        c->fpu.xmm[1].d[k] = 0;             /* +0.0f */
    }
}

/* 1/0 masked: +inf (0x7f800000), ZE (bit 2) set, no exception. */
START_TEST(divps_masked_ze)
{
    setup_div_by_zero();
    run(divps_01, sizeof divps_01, 1);
    ck_vector(-1);
    ck_assert_uint_eq(c->fpu.xmm[0].d[0], 0x7f800000);
    ck_assert_uint_eq(c->fpu.mxcsr, 0x1f84);
}
END_TEST

/* ZM (bit 9) clear: #XM with OSXMMEXCPT, #UD without; ZE set, xmm0 unchanged. */
START_TEST(divps_unmasked_ze)
{
    setup_div_by_zero();
    c->fpu.mxcsr = 0x1d80;
    run(divps_01, sizeof divps_01, 1);
    ck_vector(EXC_XM);
    ck_assert_uint_eq(c->fpu.mxcsr, 0x1d84);
    ck_assert_uint_eq(c->fpu.xmm[0].d[0], 0x3f800000);
    setup();
    setup_div_by_zero();
    c->cr4 &= ~CR4_OSXMMEXCPT;
    c->fpu.mxcsr = 0x1d80;
    run(divps_01, sizeof divps_01, 1);
    ck_vector(EXC_UD);
    ck_assert_uint_eq(c->fpu.mxcsr, 0x1d84);
}
END_TEST

/* MOVBE eax, [rbx] needs no SSE enabling: 0x11223344 -> 0x44332211. */
START_TEST(movbe_without_osfxsr)
{
    static const uint8_t code[] = { 0x0f, 0x38, 0xf0, 0x03 };
    c->cr4 &= ~CR4_OSFXSR;
    uint32_t v = 0x11223344;
    tm_load(tm, DATA, &v, 4);
    c->gpr[RBX] = DATA;
    run(code, sizeof code, 1);
    ck_vector(-1);
    ck_assert_uint_eq(c->gpr[RAX], 0x44332211);
}
END_TEST

/* CRC-32C of "123456789" is E3069283h (the standard check value of the Castagnoli
 * CRC, RFC 3720 B.4): mov ecx, -1; 9 x (crc32 ecx, byte [rbx]; inc rbx); not ecx. */
START_TEST(crc32c_check_value)
{
    uint8_t code[96], *p = code;
    static const uint8_t mov_ecx[] = { 0xb9, 0xff, 0xff, 0xff, 0xff };
    memcpy(p, mov_ecx, 5);
    p += 5;
    for (int k = 0; k < 9; k++) {
        static const uint8_t step[] = { 0xf2, 0x0f, 0x38, 0xf0, 0x0b, 0x48, 0xff, 0xc3 };
        memcpy(p, step, sizeof step);
        p += sizeof step;
    }
    *p++ = 0xf7;
    *p++ = 0xd1;
    tm_load(tm, DATA, "123456789", 9);
    c->gpr[RBX] = DATA;
    run(code, (unsigned)(p - code), 1 + 18 + 1);
    ck_vector(-1);
    ck_assert_uint_eq(c->gpr[RCX], 0xe3069283u);
}
END_TEST

/* PCMPISTRI xmm1, xmm2, 0 (unsigned bytes, equal any, least significant index):
 * set "c", string "abcdef" -> ECX = 2; CF = 1 (a match), ZF = 1 (the string ends
 * within 16 bytes), SF = 1 (so does the set), OF = 0 (byte 0 'a' does not match). */
START_TEST(pcmpistri_find_char)
{
    static const uint8_t code[] = { 0x66, 0x0f, 0x3a, 0x63, 0xca, 0x00 };
    memset(&c->fpu.xmm[1], 0, 16);
    memset(&c->fpu.xmm[2], 0, 16);
    c->fpu.xmm[1].b[0] = 'c';
    memcpy(&c->fpu.xmm[2], "abcdef", 6);
    run(code, sizeof code, 1);
    ck_vector(-1);
    ck_assert_uint_eq(c->gpr[RCX], 2);
    uint64_t f = flags_get(c);
    ck_assert_uint_eq(f & (FL_CF | FL_ZF | FL_SF | FL_OF | FL_AF | FL_PF), FL_CF | FL_ZF | FL_SF);
}
END_TEST

/* Register-only forms with a memory operand are #UD at decode (PMOVMSKB eax, [rax]). */
START_TEST(regonly_memory_form_is_ud)
{
    static const uint8_t code[] = { 0x66, 0x0f, 0xd7, 0x00 };
    run(code, sizeof code, 1);
    ck_vector(EXC_UD);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sse");
    TCase *t = tcase_create("rules");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, sse_needs_osfxsr);
    tcase_add_test(t, sse_em_is_ud);
    tcase_add_test(t, sse_ts_is_nm);
    tcase_add_test(t, mmx_rules);
    tcase_add_test(t, mmx_paddb_state);
    tcase_add_test(t, mmx_pending_x87_is_mf);
    tcase_add_test(t, movaps_alignment);
    tcase_add_test(t, divps_masked_ze);
    tcase_add_test(t, divps_unmasked_ze);
    tcase_add_test(t, movbe_without_osfxsr);
    tcase_add_test(t, crc32c_check_value);
    tcase_add_test(t, pcmpistri_find_char);
    tcase_add_test(t, regonly_memory_form_is_ud);
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
