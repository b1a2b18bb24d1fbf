/* Every vendor quirk (cpu/cpu_quirks.h) on an Intel model and on an AMD model, on any
 * host.  The expectations are written from the SDM (Intel) and the APM (AMD), or,
 * where neither says, from what the two vendors' parts were measured to do (the
 * quirk's comment says which).  The host-CPU differential tests check the host's
 * own vendor only (tests/diff/support_host.h); this file is what keeps the other
 * vendor right.
 *
 * SYSCALL from compatibility mode (QUIRK_SYSCALL_COMPAT) is tests/unit/test_modes.c
 * syscall_from_compat_mode; the hypercall page (QUIRK_HYPERCALL_VMMCALL) is
 * tests/unit/test_hypercall.c msr_hypercall_page and msr_hypercall_page_amd.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/cpu_models.h"
#include "cpu/cpu_quirks.h"
#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "mmu/physmem.h"
#include "tests/support/test_machine.h"

#define CODE TM_CODE_BASE
#define DATA TM_DATA_BASE
#define RSP0 (TM_STACK_TOP - 0x100)

static struct test_machine *tm;
static struct cpu *c;

static void boot(const char *model)
{
    const struct cpu_model *m = cpu_model_find(model);
    ck_assert_ptr_nonnull(m);
    tm = tm_new_model(16u << 20, m);
    c = &tm->cpu;
    c->gpr[RSP] = RSP0;
}

static void halt(void)
{
    tm_free(tm);
    tm = NULL;
}

#define LOAD(a, ...) do { static const uint8_t b_[] = { __VA_ARGS__ }; tm_load(tm, (a), b_, sizeof b_); } while (0)

static uint64_t r64(uint64_t a) { uint64_t v = 0; physmem_read_bytes(tm->pm, a, &v, 8); return v; }
static uint16_t r16(uint64_t a) { uint16_t v = 0; physmem_read_bytes(tm->pm, a, &v, 2); return v; }
static uint32_t r32(uint64_t a) { uint32_t v = 0; physmem_read_bytes(tm->pm, a, &v, 4); return v; }
static void w64(uint64_t a, uint64_t v) { physmem_write_bytes(tm->pm, a, &v, 8); }

/* ---- QUIRK_NEAR_BRANCH_O16 ------------------------------------------------------- */

/* The decoder: 66 E9 is JMP rel32 (6 bytes, 64-bit operand size) on Intel (SDM JMP:
 * "fixed at 64 bits"), JMP rel16 (4 bytes) on AMD (APM Vol. 3 JMP).  REX.W wins. */
START_TEST(o16_branch_decode)
{
    static const uint8_t jmp16[] = { 0x66, 0xe9, 0x10, 0x00, 0x00, 0x00 };
    static const uint8_t jmp64[] = { 0x66, 0x48, 0xe9, 0x10, 0x00, 0x00, 0x00 };
    struct insn i;
    const struct cpu_model *intel = cpu_model_find("skylake"), *amd = cpu_model_find("zen2");
    ck_assert(!(intel->quirks & QUIRK_NEAR_BRANCH_O16) && (amd->quirks & QUIRK_NEAR_BRANCH_O16));
    ck_assert_int_eq(decode_insn(&i, jmp16, sizeof jmp16, MODE_LONG64, intel), 6);
    ck_assert_uint_eq(i.osize, 8);
    ck_assert_int_eq(decode_insn(&i, jmp16, sizeof jmp16, MODE_LONG64, amd), 4);
    ck_assert_uint_eq(i.osize, 2);
    ck_assert_int_eq(decode_insn(&i, jmp64, sizeof jmp64, MODE_LONG64, intel), 7);
    ck_assert_uint_eq(i.osize, 8);
    ck_assert_int_eq(decode_insn(&i, jmp64, sizeof jmp64, MODE_LONG64, amd), 7);
    ck_assert_uint_eq(i.osize, 8);
    /* Outside 64-bit mode 66h means 16 bits on both. */
    ck_assert_int_eq(decode_insn(&i, jmp16, sizeof jmp16, MODE_PROT32, intel), 4);
    ck_assert_int_eq(decode_insn(&i, jmp16, sizeof jmp16, MODE_PROT32, amd), 4);
}
END_TEST

/* One cache, the same bytes, two models: two blocks, each decoded for its model. */
START_TEST(o16_blocks_keyed_by_model)
{
    boot("skylake");
    LOAD(CODE, 0x66, 0xe9, 0x10, 0x00, 0x00, 0x00);
    const struct cpu_model *intel = cpu_model_find("skylake"), *amd = cpu_model_find("zen2");
    struct block *bi = block_lookup(tm->bc, CODE, MODE_LONG64, intel);
    struct block *ba = block_lookup(tm->bc, CODE, MODE_LONG64, amd);
    ck_assert_ptr_nonnull(bi);
    ck_assert_ptr_nonnull(ba);
    ck_assert_ptr_ne(bi, ba);
    ck_assert_uint_eq(bi->insns[0].len, 6);
    ck_assert_uint_eq(ba->insns[0].len, 4);
    ck_assert_ptr_eq(block_lookup(tm->bc, CODE, MODE_LONG64, intel), bi);
    ck_assert_ptr_eq(block_lookup(tm->bc, CODE, MODE_LONG64, amd), ba);
    halt();
}
END_TEST

/* 66 EB rel8, 66 C3, 66 E8 rel16 and 66 FF /2 executed on both models. */
START_TEST(o16_branch_execute)
{
    for (int amd = 0; amd < 2; amd++) {
        boot(amd ? "zen2" : "skylake");
        /* jmp rel8 +10h: next = CODE+3 */
        LOAD(CODE, 0x66, 0xeb, 0x10);
        tm_run(tm, CODE, 1);
        ck_assert_uint_eq(c->rip, amd ? ((CODE + 0x13) & 0xffff) : CODE + 0x13);

        /* ret: 8 bytes (Intel) or 2 bytes (AMD) popped */
        LOAD(CODE, 0x66, 0xc3);
        c->gpr[RSP] = RSP0;
        w64(RSP0, 0x12345678);
        tm_run(tm, CODE, 1);
        ck_assert_uint_eq(c->rip, amd ? 0x5678 : 0x12345678);
        ck_assert_uint_eq(c->gpr[RSP], RSP0 + (amd ? 2 : 8));

        /* call: AMD reads rel16 and pushes a 2-byte return address */
        LOAD(CODE, 0x66, 0xe8, 0x00, 0x01, 0x00, 0x00);
        c->gpr[RSP] = RSP0;
        w64(RSP0 - 8, 0);
        tm_run(tm, CODE, 1);
        if (amd) {
            ck_assert_uint_eq(c->rip, (CODE + 4 + 0x100) & 0xffff);
            ck_assert_uint_eq(c->gpr[RSP], RSP0 - 2);
            ck_assert_uint_eq(r16(RSP0 - 2), (CODE + 4) & 0xffff);
        } else {
            ck_assert_uint_eq(c->rip, CODE + 6 + 0x100);
            ck_assert_uint_eq(c->gpr[RSP], RSP0 - 8);
            ck_assert_uint_eq(r64(RSP0 - 8), CODE + 6);
        }

        /* call rax: AMD reads AX */
        LOAD(CODE, 0x66, 0xff, 0xd0);
        c->gpr[RSP] = RSP0;
        c->gpr[RAX] = 0x00abcdef;
        tm_run(tm, CODE, 1);
        ck_assert_uint_eq(c->rip, amd ? 0xcdef : 0xabcdef);
        ck_assert_uint_eq(c->gpr[RSP], RSP0 - (amd ? 2 : 8));

        /* REX.W after 66: 64 bits on both */
        LOAD(CODE, 0x66, 0x48, 0xeb, 0x10);
        tm_run(tm, CODE, 1);
        ck_assert_uint_eq(c->rip, CODE + 0x14);
        halt();
    }
}
END_TEST

/* ---- QUIRK_REP_A32_ZERO_WRITES --------------------------------------------------- */

/* ECX = 0 with garbage above: Intel writes ECX (and ESI/EDI for MOVS/STOS), clearing
 * the upper halves; AMD writes nothing. */
START_TEST(rep_a32_zero_count)
{
    const uint64_t rcx = 0xaaaaaaaa00000000ull, rsi = 0xbbbbbbbb00200000ull, rdi = 0xcccccccc00200100ull;
    for (int amd = 0; amd < 2; amd++) {
        boot(amd ? "zen2" : "skylake");
        static const struct { uint8_t op; bool src, dst; } ops[] = {
            { 0xa4, true, true },       /* movsb */
            { 0xaa, false, true },      /* stosb */
            { 0xac, false, false },     /* lodsb: RSI/RDI left alone on both */
            { 0xa6, false, false },     /* cmpsb */
            { 0xae, false, false },     /* scasb */
        };
        for (unsigned k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            uint8_t code[3] = { 0x67, 0xf3, ops[k].op };
            tm_load(tm, CODE, code, sizeof code);
            c->gpr[RCX] = rcx;
            c->gpr[RSI] = rsi;
            c->gpr[RDI] = rdi;
            tm_run(tm, CODE, 1);
            ck_assert_uint_eq(c->rip, CODE + 3);
            ck_assert_uint_eq(c->gpr[RCX], amd ? rcx : 0);
            ck_assert_uint_eq(c->gpr[RSI], amd || !ops[k].src ? rsi : (uint32_t)rsi);
            ck_assert_uint_eq(c->gpr[RDI], amd || !ops[k].dst ? rdi : (uint32_t)rdi);
        }
        /* A non-zero count writes the 32-bit registers on both. */
        LOAD(CODE, 0x67, 0xf3, 0xa4);
        c->gpr[RCX] = rcx | 1;
        c->gpr[RSI] = rsi;
        c->gpr[RDI] = rdi;
        tm_run(tm, CODE, 1);
        ck_assert_uint_eq(c->gpr[RCX], 0);
        ck_assert_uint_eq(c->gpr[RSI], (uint32_t)rsi + 1);
        ck_assert_uint_eq(c->gpr[RDI], (uint32_t)rdi + 1);
        halt();
    }
}
END_TEST

/* ---- QUIRK_FXSAVE_PTRS_ON_ES and MXCSR_MASK ---------------------------------------- */

static void fxsave64_at_data(void)
{
    LOAD(CODE, 0x48, 0x0f, 0xae, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00);     /* fxsave64 [200000h] */
    tm_run(tm, CODE, 1);
    ck_assert_uint_eq(c->rip, CODE + 9);
}

START_TEST(fxsave_pointers)
{
    for (int amd = 0; amd < 2; amd++) {
        boot(amd ? "zen2" : "skylake");
        c->cr4 |= CR4_OSFXSR;
        c->fpu.fop = 0x1d9;
        c->fpu.fip = 0x1122334455ull;
        c->fpu.fdp = 0x66778899aaull;
        c->fpu.fsw = 0;                                 /* ES = 0 */
        fxsave64_at_data();
        /* Intel: always stored (SDM FXSAVE); AMD: zero unless ES = 1 (APM FXSAVE). */
        ck_assert_uint_eq(r16(DATA + 6), amd ? 0 : 0x1d9);
        ck_assert_uint_eq(r64(DATA + 8), amd ? 0 : 0x1122334455ull);
        ck_assert_uint_eq(r64(DATA + 16), amd ? 0 : 0x66778899aaull);
        /* MXCSR_MASK: FFFFH (Intel), 2FFFFH with MM (AMD). */
        ck_assert_uint_eq(r32(DATA + 28), amd ? 0x2ffffu : 0xffffu);

        c->fpu.fcw = 0x37e;                             /* IE unmasked */
        c->fpu.fsw = FSW_ES | FSW_B | 0x1;              /* IE pending */
        fxsave64_at_data();
        ck_assert_uint_eq(r16(DATA + 6), 0x1d9);
        ck_assert_uint_eq(r64(DATA + 8), 0x1122334455ull);
        ck_assert_uint_eq(r64(DATA + 16), 0x66778899aaull);
        halt();
    }
}
END_TEST

/* LDMXCSR with bit 17 (MM): reserved on Intel (#GP), kept on AMD. */
START_TEST(mxcsr_mm_bit)
{
    for (int amd = 0; amd < 2; amd++) {
        boot(amd ? "zen2" : "skylake");
        c->cr4 |= CR4_OSFXSR;
        w64(DATA, 0x21f80);
        LOAD(CODE, 0x0f, 0xae, 0x14, 0x25, 0x00, 0x00, 0x20, 0x00,        /* ldmxcsr [200000h] */
             0x0f, 0xae, 0x1c, 0x25, 0x08, 0x00, 0x20, 0x00);             /* stmxcsr [200008h] */
        tm_run(tm, CODE, 2);
        if (amd) {
            ck_assert_int_eq(tm_exception_vector(tm), -1);
            ck_assert_uint_eq(r32(DATA + 8), 0x21f80);
        } else {
            ck_assert_int_eq(tm_exception_vector(tm), EXC_GP);
            ck_assert_uint_eq(c->fpu.mxcsr, MXCSR_RESET);
        }
        halt();
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("quirks");
    TCase *t = tcase_create("near_branch_o16");
    tcase_add_test(t, o16_branch_decode);
    tcase_add_test(t, o16_blocks_keyed_by_model);
    tcase_add_test(t, o16_branch_execute);
    suite_add_tcase(s, t);
    t = tcase_create("rep_a32");
    tcase_add_test(t, rep_a32_zero_count);
    suite_add_tcase(s, t);
    t = tcase_create("fxsave");
    tcase_add_test(t, fxsave_pointers);
    tcase_add_test(t, mxcsr_mm_bit);
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
