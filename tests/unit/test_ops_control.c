/* Unit tests of the control-flow, stack and string families (cpu/ops_branch.c,
 * cpu/ops_stack.c, cpu/ops_string.c) on the test machine: flat 64-bit mode at CPL 0,
 * RAM identity-mapped over the first 4 GiB, nothing mapped above (so 4 GiB is a
 * convenient #PF boundary), exception vector v halts in TM_EXC_STUB(v).
 *
 * Every expected value below is worked out by hand from the SDM's description of the
 * instruction; the comments show the arithmetic.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "mmu/physmem.h"
#include "tests/support/test_machine.h"

#define CODE  TM_CODE_BASE
#define DATA  TM_DATA_BASE
#define RSP0  (TM_STACK_TOP - 0x1000)   /* the stack pointer every test starts with */
#define GIB4  0x100000000ull            /* first unmapped linear address */

static struct test_machine *tm;

static void setup(void)
{
    tm = tm_new(16u << 20);
    tm->cpu.gpr[RSP] = RSP0;
}

static void teardown(void)
{
    tm_free(tm);
    tm = NULL;
}

static void load(const void *code, unsigned len)
{
    tm_load(tm, CODE, code, len);
}

static uint64_t rd(uint64_t gpa, unsigned size)
{
    uint64_t v = 0;
    physmem_read_bytes(tm->pm, gpa, &v, size);
    return v;
}

static void wr(uint64_t gpa, uint64_t v, unsigned size)
{
    physmem_write_bytes(tm->pm, gpa, &v, size);
}

/* The 64-bit interrupt frame of an exception with an error code delivered at CPL 0
 * without IST (SDM Vol. 3A 6.14.2): [RSP] error code, then RIP, CS, RFLAGS, RSP, SS.
 * The stub is a bare HLT, so RSP still points at it. */
#define FRAME_ERR 0
#define FRAME_RIP 8
#define FRAME_RSP 32
static uint64_t frame(unsigned off)
{
    return rd(tm->cpu.gpr[RSP] + off, 8);
}

#define ck_vector(v) ck_assert_msg(tm_exception_vector(tm) == (v), \
    "expected vector %d, got %d (rip %#llx)", (v), tm_exception_vector(tm), \
    (unsigned long long)tm->cpu.rip)

/* ---------------- non-canonical branch targets: #GP(0) at the branch ---------------- */

START_TEST(jmp_reg_noncanonical)
{
    static const uint8_t code[] = { 0xff, 0xe0, 0xf4 };       /* jmp rax; hlt */
    load(code, sizeof code);
    tm->cpu.gpr[RAX] = 0x0000800000000000ull;                  /* bit 47 set, 63:48 clear */
    tm_run(tm, CODE, 20);
    ck_vector(EXC_GP);
    ck_assert_uint_eq(frame(FRAME_ERR), 0);
    ck_assert_uint_eq(frame(FRAME_RIP), CODE);                 /* RIP of the jmp itself */
    ck_assert_uint_eq(frame(FRAME_RSP), RSP0);
}
END_TEST

START_TEST(jmp_mem_noncanonical)
{
    static const uint8_t code[] = { 0xff, 0x24, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4 }; /* jmp [0x200000] */
    load(code, sizeof code);
    wr(DATA, 0x8000000000000000ull, 8);
    tm_run(tm, CODE, 20);
    ck_vector(EXC_GP);
    ck_assert_uint_eq(frame(FRAME_RIP), CODE);
}
END_TEST

START_TEST(call_noncanonical_pushes_nothing)
{
    static const uint8_t code[] = { 0xff, 0xd0, 0xf4 };       /* call rax; hlt */
    load(code, sizeof code);
    /* An RSP that is 8 mod 16: the exception frame is pushed below RSP aligned down to
     * 16 (SDM Vol. 3A 6.14.2), i.e. below r - 8, so the slot a return address would
     * take, [r - 8], is outside the frame and must keep its sentinel. */
    const uint64_t r = RSP0 - 0x808;
    tm->cpu.gpr[RSP] = r;
    wr(r - 8, 0x5a5a5a5a5a5a5a5aull, 8);
    tm->cpu.gpr[RAX] = 0x1234000000000000ull;
    tm_run(tm, CODE, 20);
    ck_vector(EXC_GP);
    ck_assert_uint_eq(frame(FRAME_RIP), CODE);
    ck_assert_uint_eq(frame(FRAME_RSP), r);                    /* RSP not decremented */
    /* the frame occupies [(r & ~15) - 48, r & ~15) = [r - 56, r - 8): r - 8 is above it */
    ck_assert_uint_eq(rd(r - 8, 8), 0x5a5a5a5a5a5a5a5aull);    /* no return address pushed */
}
END_TEST

START_TEST(ret_noncanonical_keeps_rsp)
{
    static const uint8_t code[] = { 0xc3, 0xf4 };             /* ret; hlt */
    load(code, sizeof code);
    wr(RSP0, 0xffff7fff00000000ull, 8);                        /* bit 47 clear, 63:48 set */
    tm_run(tm, CODE, 20);
    ck_vector(EXC_GP);
    ck_assert_uint_eq(frame(FRAME_RIP), CODE);
    ck_assert_uint_eq(frame(FRAME_RSP), RSP0);                 /* not RSP0 + 8 */
}
END_TEST

START_TEST(jmp_canonical_high_half_is_not_gp)
{
    /* 0xffff800000000000 is canonical: the jump itself succeeds and the fetch there
     * faults with #PF (nothing is mapped above 4 GiB), RIP = the target. */
    static const uint8_t code[] = { 0xff, 0xe0, 0xf4 };
    load(code, sizeof code);
    tm->cpu.gpr[RAX] = 0xffff800000000000ull;
    tm_run(tm, CODE, 20);
    ck_vector(EXC_PF);
    ck_assert_uint_eq(frame(FRAME_RIP), 0xffff800000000000ull);
    ck_assert_uint_eq(tm->cpu.cr2, 0xffff800000000000ull);
}
END_TEST

/* ---------------- RET imm16 ---------------- */

START_TEST(ret_imm16)
{
    static const uint8_t code[] = {
        0xe8, 0x07, 0x00, 0x00, 0x00,     /* 0: call 0xc */
        0xb8, 0x34, 0x12, 0x00, 0x00,     /* 5: mov eax, 0x1234 */
        0xf4,                             /* a: hlt */
        0x90,                             /* b */
        0xc2, 0x10, 0x00,                 /* c: ret 0x10 */
    };
    load(code, sizeof code);
    tm_run(tm, CODE, 10);
    ck_assert_int_eq(tm_exception_vector(tm), -1);
    ck_assert_uint_eq(tm->cpu.gpr[RAX], 0x1234);
    ck_assert_uint_eq(rd(RSP0 - 8, 8), CODE + 5);              /* the pushed return address */
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 + 0x10);          /* -8 (call) +8 (ret) +0x10 */
}
END_TEST

/* ---------------- ENTER / LEAVE ---------------- */

#define RBP0 (DATA + 0x800)

START_TEST(enter_level3_leave)
{
    static const uint8_t code[] = {
        0xc8, 0x20, 0x00, 0x03,           /* enter 0x20, 3 */
        0xf4,                             /* hlt */
        0xc9,                             /* leave */
        0xf4,
    };
    load(code, sizeof code);
    tm->cpu.gpr[RBP] = RBP0;
    wr(RBP0 - 8, 0x1111, 8);
    wr(RBP0 - 16, 0x2222, 8);
    tm_run(tm, CODE, 2);
    /* push rbp -> [RSP0-8] = RBP0, FrameTemp = RSP0-8;
     * level 3: push [RBP0-8], push [RBP0-16], then push FrameTemp;
     * RSP = RSP0 - 32 - 0x20, RBP = FrameTemp. */
    ck_assert_uint_eq(rd(RSP0 - 8, 8), RBP0);
    ck_assert_uint_eq(rd(RSP0 - 16, 8), 0x1111);
    ck_assert_uint_eq(rd(RSP0 - 24, 8), 0x2222);
    ck_assert_uint_eq(rd(RSP0 - 32, 8), RSP0 - 8);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 - 64);
    ck_assert_uint_eq(tm->cpu.gpr[RBP], RSP0 - 8);

    tm_run(tm, CODE + 5, 2);
    /* leave: RSP = RBP = RSP0-8, RBP = pop = RBP0, RSP = RSP0 */
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0);
    ck_assert_uint_eq(tm->cpu.gpr[RBP], RBP0);
}
END_TEST

START_TEST(enter_level_mod32)
{
    static const uint8_t code[] = { 0xc8, 0x10, 0x00, 0x21, 0xf4 };   /* enter 0x10, 33 */
    load(code, sizeof code);
    tm->cpu.gpr[RBP] = RBP0;
    wr(RSP0 - 24, 0x7777, 8);
    tm_run(tm, CODE, 2);
    /* 33 mod 32 = 1: push rbp, push FrameTemp only; RSP = RSP0 - 16 - 0x10 */
    ck_assert_uint_eq(rd(RSP0 - 8, 8), RBP0);
    ck_assert_uint_eq(rd(RSP0 - 16, 8), RSP0 - 8);
    ck_assert_uint_eq(rd(RSP0 - 24, 8), 0x7777);              /* untouched */
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 - 32);
    ck_assert_uint_eq(tm->cpu.gpr[RBP], RSP0 - 8);
}
END_TEST

START_TEST(enter_level0)
{
    static const uint8_t code[] = { 0xc8, 0x08, 0x00, 0x00, 0xf4 };   /* enter 8, 0 */
    load(code, sizeof code);
    tm->cpu.gpr[RBP] = RBP0;
    tm_run(tm, CODE, 2);
    ck_assert_uint_eq(rd(RSP0 - 8, 8), RBP0);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 - 16);
    ck_assert_uint_eq(tm->cpu.gpr[RBP], RSP0 - 8);
}
END_TEST

START_TEST(enter16_level2)
{
    static const uint8_t code[] = { 0x66, 0xc8, 0x04, 0x00, 0x02, 0xf4 };  /* enter 4, 2 (o16) */
    load(code, sizeof code);
    tm->cpu.gpr[RBP] = RBP0;
    wr(RBP0 - 2, 0xbeef, 2);
    tm_run(tm, CODE, 2);
    /* push bp -> [RSP0-2]; FrameTemp = RSP0-2; level 2: BP-=2 (64-bit stack: RBP),
     * push word [RBP0-2] -> [RSP0-4]; push FrameTemp (word) -> [RSP0-6];
     * RSP = RSP0 - 6 - 4; BP = FrameTemp[15:0], RBP[63:16] kept. */
    ck_assert_uint_eq(rd(RSP0 - 2, 2), RBP0 & 0xffff);
    ck_assert_uint_eq(rd(RSP0 - 4, 2), 0xbeef);
    ck_assert_uint_eq(rd(RSP0 - 6, 2), (RSP0 - 2) & 0xffff);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 - 10);
    ck_assert_uint_eq(tm->cpu.gpr[RBP], (RBP0 & ~0xffffull) | ((RSP0 - 2) & 0xffff));
}
END_TEST

START_TEST(enter_checks_final_rsp_first)
{
    /* RSP = 0x108, enter 0x200, 0: the frame would end at 0x108 - 8 - 0x200, which
     * wraps to 0xffffffffffffff00 (canonical, unmapped).  The final RSP is checked
     * before anything is pushed (host-measured, see ops_stack.c), so: #PF there, RSP
     * and RBP unchanged, and no saved RBP at 0x100.  The exception frame lies in
     * [0xd0, 0x100) (RSP aligned down to 0x100), clear of the sentinel. */
    static const uint8_t code[] = { 0xc8, 0x00, 0x02, 0x00, 0xf4 };
    load(code, sizeof code);
    tm->cpu.gpr[RSP] = 0x108;
    tm->cpu.gpr[RBP] = RBP0;
    wr(0x100, 0x5a5a5a5a5a5a5a5aull, 8);
    tm_run(tm, CODE, 20);
    ck_vector(EXC_PF);
    ck_assert_uint_eq(tm->cpu.cr2, 0xffffffffffffff00ull);
    ck_assert_uint_eq(frame(FRAME_RIP), CODE);
    ck_assert_uint_eq(frame(FRAME_RSP), 0x108);
    ck_assert_uint_eq(tm->cpu.gpr[RBP], RBP0);
    ck_assert_uint_eq(rd(0x100, 8), 0x5a5a5a5a5a5a5a5aull);
}
END_TEST

/* ---------------- PUSH / POP corner cases ---------------- */

START_TEST(pop_mem_rsp_base_uses_incremented_rsp)
{
    static const uint8_t code[] = { 0x8f, 0x44, 0x24, 0x08, 0xf4 };  /* pop qword [rsp+8] */
    load(code, sizeof code);
    wr(RSP0, 0x55, 8);
    wr(RSP0 + 8, 0, 8);
    wr(RSP0 + 16, 0, 8);
    tm_run(tm, CODE, 2);
    /* SDM POP: RSP is incremented before the address is computed: [RSP0+8+8]. */
    ck_assert_uint_eq(rd(RSP0 + 16, 8), 0x55);
    ck_assert_uint_eq(rd(RSP0 + 8, 8), 0);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 + 8);
}
END_TEST

START_TEST(push_rsp_pushes_old_value)
{
    static const uint8_t code[] = { 0x54, 0x5c, 0xf4 };       /* push rsp; pop rsp */
    load(code, sizeof code);
    tm_run(tm, CODE, 1);
    ck_assert_uint_eq(rd(RSP0 - 8, 8), RSP0);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 - 8);
    tm_run(tm, CODE + 1, 1);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0);                 /* the popped value, not +8 */
}
END_TEST

START_TEST(popf_cpl0_masks)
{
    static const uint8_t code[] = { 0x9d, 0xf4 };             /* popfq */
    load(code, sizeof code);
    /* Set everything POPF could name: at CPL 0, IOPL/IF/DF/AC/arith change; VM, VIF,
     * VIP, RF and the reserved bits do not (SDM POPF). */
    uint64_t img = FL_CF | FL_ZF | FL_OF | FL_IF | FL_DF | FL_IOPL | FL_AC | FL_ID
                 | FL_VM | FL_VIF | FL_VIP | FL_RF | (1u << 3) | (1u << 15);
    wr(RSP0, img, 8);
    tm_run(tm, CODE, 1);
    uint64_t want = FL_FIXED1 | FL_CF | FL_ZF | FL_OF | FL_IF | FL_DF | FL_IOPL | FL_AC | FL_ID;
    ck_assert_uint_eq(flags_get(&tm->cpu), want);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 + 8);
}
END_TEST

START_TEST(popf16_keeps_upper_bits)
{
    static const uint8_t code[] = { 0x66, 0x9d, 0xf4 };       /* popf (o16) */
    load(code, sizeof code);
    flags_write(&tm->cpu, FL_AC, FL_AC);
    wr(RSP0, FL_CF | FL_DF, 2);
    tm_run(tm, CODE, 1);
    ck_assert_uint_eq(flags_get(&tm->cpu) & (FL_AC | FL_CF | FL_DF | FL_IF), FL_AC | FL_CF | FL_DF);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 + 2);
}
END_TEST

/* ---------------- REP strings: resuming after the chunk limit ---------------- */

START_TEST(rep_stosb_resumes)
{
    static const uint8_t code[] = { 0xf3, 0xaa, 0xf4 };       /* rep stosb; hlt */
    load(code, sizeof code);
    const uint64_t n = 10000;
    wr(DATA + n, 0x11, 1);
    tm->cpu.gpr[RAX] = 0xab;
    tm->cpu.gpr[RCX] = n;
    tm->cpu.gpr[RDI] = DATA;
    tm_run(tm, CODE, 1);
    /* one execution does part of the work and points RIP back at itself */
    ck_assert_uint_eq(tm->cpu.rip, CODE);
    ck_assert_uint_gt(tm->cpu.gpr[RCX], 0);
    ck_assert_uint_lt(tm->cpu.gpr[RCX], n);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], DATA + (n - tm->cpu.gpr[RCX]));

    tm_run(tm, tm->cpu.rip, 100);
    ck_assert_int_eq(tm_exception_vector(tm), -1);
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 0);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], DATA + n);
    for (uint64_t k = 0; k < n; k++)
        if (rd(DATA + k, 1) != 0xab)
            ck_abort_msg("byte %llu not stored", (unsigned long long)k);
    ck_assert_uint_eq(rd(DATA + n, 1), 0x11);
}
END_TEST

START_TEST(rep_movsq_backward_resumes)
{
    static const uint8_t code[] = { 0xfd, 0xf3, 0x48, 0xa5, 0xfc, 0xf4 };  /* std; rep movsq; cld; hlt */
    load(code, sizeof code);
    const uint64_t n = 9000;                  /* 72000 bytes: several chunks and pages */
    const uint64_t src = DATA, dst = DATA + 0x40000;
    for (uint64_t k = 0; k < n; k++)
        wr(src + 8 * k, 0x0101010101010101ull * (k & 0xff) + k, 8);
    tm->cpu.gpr[RCX] = n;
    tm->cpu.gpr[RSI] = src + 8 * (n - 1);
    tm->cpu.gpr[RDI] = dst + 8 * (n - 1);
    tm_run(tm, CODE, 2);
    ck_assert_uint_eq(tm->cpu.rip, CODE + 1);                  /* back at rep movsq */
    ck_assert_uint_gt(tm->cpu.gpr[RCX], 0);
    tm_run(tm, tm->cpu.rip, 100);
    ck_assert_int_eq(tm_exception_vector(tm), -1);
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 0);
    ck_assert_uint_eq(tm->cpu.gpr[RSI], src - 8);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], dst - 8);
    for (uint64_t k = 0; k < n; k++)
        if (rd(dst + 8 * k, 8) != 0x0101010101010101ull * (k & 0xff) + k)
            ck_abort_msg("qword %llu wrong", (unsigned long long)k);
}
END_TEST

START_TEST(repe_cmpsb_stops_at_difference_across_chunks)
{
    static const uint8_t code[] = { 0xf3, 0xa6, 0xf4 };       /* repe cmpsb; hlt */
    load(code, sizeof code);
    const uint64_t n = 10000, diff_at = 9000;
    const uint64_t a = DATA, b = DATA + 0x10000;
    for (uint64_t k = 0; k < n; k++) {
        wr(a + k, k & 0x7f, 1);
        wr(b + k, k == diff_at ? 0xff : (k & 0x7f), 1);
    }
    tm->cpu.gpr[RCX] = n;
    tm->cpu.gpr[RSI] = a;
    tm->cpu.gpr[RDI] = b;
    tm_run(tm, CODE, 100);
    ck_assert_int_eq(tm_exception_vector(tm), -1);
    /* iterations 0..9000 run (9001 of them), the last one compares unequal */
    ck_assert_uint_eq(tm->cpu.gpr[RCX], n - (diff_at + 1));
    ck_assert_uint_eq(tm->cpu.gpr[RSI], a + diff_at + 1);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], b + diff_at + 1);
    ck_assert(!flags_zf(&tm->cpu));
    /* (9000 & 0x7f) = 0x28 < 0xff: CMP borrows */
    ck_assert(flags_cf(&tm->cpu));
}
END_TEST

/* ---------------- a fault in the middle of a string ---------------- */

START_TEST(rep_movsb_fault_on_destination)
{
    static const uint8_t code[] = { 0xf3, 0xa4, 0xf4 };       /* rep movsb */
    load(code, sizeof code);
    tm->cpu.gpr[RCX] = 10;
    tm->cpu.gpr[RSI] = DATA;
    tm->cpu.gpr[RDI] = GIB4 - 5;              /* iterations 0..4 below 4 GiB, 5 faults */
    tm_run(tm, CODE, 20);
    ck_vector(EXC_PF);
    ck_assert_uint_eq(frame(FRAME_RIP), CODE);
    ck_assert_uint_eq(tm->cpu.cr2, GIB4);
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 5);
    ck_assert_uint_eq(tm->cpu.gpr[RSI], DATA + 5);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], GIB4);
}
END_TEST

START_TEST(rep_movsd_fault_on_source)
{
    static const uint8_t code[] = { 0xf3, 0xa5, 0xf4 };       /* rep movsd */
    load(code, sizeof code);
    for (int k = 0; k < 5; k++)
        wr(DATA + 4 * k, 0x12345678, 4);
    tm->cpu.gpr[RCX] = 5;
    tm->cpu.gpr[RSI] = GIB4 - 8;              /* 2 doublewords of unbacked space (reads all-ones) */
    tm->cpu.gpr[RDI] = DATA;
    tm_run(tm, CODE, 20);
    ck_vector(EXC_PF);
    ck_assert_uint_eq(tm->cpu.cr2, GIB4);
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 3);
    ck_assert_uint_eq(tm->cpu.gpr[RSI], GIB4);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], DATA + 8);
    ck_assert_uint_eq(rd(DATA, 4), 0xffffffff);
    ck_assert_uint_eq(rd(DATA + 4, 4), 0xffffffff);
    ck_assert_uint_eq(rd(DATA + 8, 4), 0x12345678);            /* the faulting iteration stored nothing */
}
END_TEST

START_TEST(rep_stosq_fault_backward)
{
    /* std; rep stosq going down from 4 GiB + 16: the very first element is unmapped. */
    static const uint8_t code[] = { 0xfd, 0xf3, 0x48, 0xab, 0xf4 };
    load(code, sizeof code);
    tm->cpu.gpr[RCX] = 4;
    tm->cpu.gpr[RDI] = GIB4 + 16;
    tm_run(tm, CODE, 20);
    ck_vector(EXC_PF);
    ck_assert_uint_eq(frame(FRAME_RIP), CODE + 1);
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 4);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], GIB4 + 16);
}
END_TEST

START_TEST(string_noncanonical_gp)
{
    static const uint8_t code[] = { 0x48, 0xad, 0xf4 };       /* lodsq */
    load(code, sizeof code);
    tm->cpu.gpr[RSI] = 0x0000800000000000ull;
    tm_run(tm, CODE, 20);
    ck_vector(EXC_GP);
    ck_assert_uint_eq(tm->cpu.gpr[RSI], 0x0000800000000000ull);
}
END_TEST

START_TEST(rep_insw_without_device_reads_ones)
{
    /* No io_in hook in the test machine: every port reads all-ones (cpu/env.h).
     * CPL 0 passes the I/O permission check. */
    static const uint8_t code[] = { 0x66, 0xf3, 0x6d, 0xf4 };   /* rep insw */
    load(code, sizeof code);
    wr(DATA, 0, 8);
    tm->cpu.gpr[RDX] = 0x3f8;
    tm->cpu.gpr[RCX] = 3;
    tm->cpu.gpr[RDI] = DATA;
    tm_run(tm, CODE, 2);
    ck_assert_int_eq(tm_exception_vector(tm), -1);
    ck_assert_uint_eq(rd(DATA, 8), 0x0000ffffffffffffull);      /* 3 words of ones, then the 0 */
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 0);
    ck_assert_uint_eq(tm->cpu.gpr[RDI], DATA + 6);
}
END_TEST

START_TEST(pushf_clears_rf_in_image)
{
    static const uint8_t code[] = { 0x9c, 0xf4 };               /* pushfq */
    load(code, sizeof code);
    flags_write(&tm->cpu, FL_CF | FL_DF | FL_RF, FL_CF | FL_DF | FL_RF);
    tm_run(tm, CODE, 1);
    /* SDM PUSHF: RF and VM are cleared in the stored image. */
    ck_assert_uint_eq(rd(RSP0 - 8, 8) & (FL_CF | FL_DF | FL_RF | FL_FIXED1), FL_CF | FL_DF | FL_FIXED1);
    ck_assert_uint_eq(tm->cpu.gpr[RSP], RSP0 - 8);
}
END_TEST

/* ---------------- LOOP / JRCXZ address size ---------------- */

START_TEST(loop_counts_ecx_with_67)
{
    /* mov: RCX = 0x1_0000_0003; 67 loop $ (e2 fe): ECX counts 3 -> 0, upper half cleared */
    static const uint8_t code[] = { 0x67, 0xe2, 0xfd, 0xf4 };
    load(code, sizeof code);
    tm->cpu.gpr[RCX] = 0x100000003ull;
    tm_run(tm, CODE, 10);
    ck_assert_int_eq(tm_exception_vector(tm), -1);
    ck_assert_uint_eq(tm->cpu.gpr[RCX], 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ops_control");
    TCase *t = tcase_create("branch");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, jmp_reg_noncanonical);
    tcase_add_test(t, jmp_mem_noncanonical);
    tcase_add_test(t, call_noncanonical_pushes_nothing);
    tcase_add_test(t, ret_noncanonical_keeps_rsp);
    tcase_add_test(t, jmp_canonical_high_half_is_not_gp);
    tcase_add_test(t, ret_imm16);
    tcase_add_test(t, loop_counts_ecx_with_67);
    suite_add_tcase(s, t);

    t = tcase_create("stack");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, enter_level3_leave);
    tcase_add_test(t, enter_level_mod32);
    tcase_add_test(t, enter_level0);
    tcase_add_test(t, enter16_level2);
    tcase_add_test(t, enter_checks_final_rsp_first);
    tcase_add_test(t, pop_mem_rsp_base_uses_incremented_rsp);
    tcase_add_test(t, push_rsp_pushes_old_value);
    tcase_add_test(t, popf_cpl0_masks);
    tcase_add_test(t, popf16_keeps_upper_bits);
    tcase_add_test(t, pushf_clears_rf_in_image);
    suite_add_tcase(s, t);

    t = tcase_create("string");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, rep_stosb_resumes);
    tcase_add_test(t, rep_movsq_backward_resumes);
    tcase_add_test(t, repe_cmpsb_stops_at_difference_across_chunks);
    tcase_add_test(t, rep_movsb_fault_on_destination);
    tcase_add_test(t, rep_movsd_fault_on_source);
    tcase_add_test(t, rep_stosq_fault_backward);
    tcase_add_test(t, string_noncanonical_gp);
    tcase_add_test(t, rep_insw_without_device_reads_ones);
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
