/* Lazy flags (cpu/flags.c) and the flag rules of the ALU handlers, checked against
 * hand-worked examples.  Every expected value below was worked out by hand from the
 * SDM definitions (Vol. 1 3.4.3.1 status flags; Vol. 2 instruction pages), never
 * computed by the code under test.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu.h"
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/insn.h"
#include "tests/support/test_machine.h"

#define C FL_CF
#define P FL_PF
#define A FL_AF
#define Z FL_ZF
#define S FL_SF
#define O FL_OF

struct lf_case {
    const char *what;
    enum lf_op op;
    unsigned size;
    uint64_t res, src1, src2;
    uint64_t flags;     /* expected arithmetic flags */
    uint64_t care;      /* which of them are defined (0 = all six) */
};

static const struct lf_case lf_cases[] = {
    /* ADD: SDM ADD "OF, SF, ZF, AF, CF, PF set according to the result" */
    { "add8 7f+1",      LF_ADD, 1, 0x80, 0x7f, 0x01, O | S | A, 0 },
    { "add8 ff+1",      LF_ADD, 1, 0x00, 0xff, 0x01, C | Z | A | P, 0 },
    { "add8 80+80",     LF_ADD, 1, 0x00, 0x80, 0x80, C | O | Z | P, 0 },
    { "add16 8+8",      LF_ADD, 2, 0x10, 0x08, 0x08, A, 0 },
    { "add16 7fff+1",   LF_ADD, 2, 0x8000, 0x7fff, 0x0001, O | S | A | P, 0 },
    { "add32 7fffffff+1", LF_ADD, 4, 0x80000000, 0x7fffffff, 1, O | S | A | P, 0 },
    { "add32 ffffffff+1", LF_ADD, 4, 0, 0xffffffff, 1, C | Z | A | P, 0 },
    { "add64 -1+-1",    LF_ADD, 8, 0xfffffffffffffffe, ~0ull, ~0ull, C | S | A, 0 },
    { "add64 1+2",      LF_ADD, 8, 3, 1, 2, P, 0 },
    /* ADC with CF(in)=1: 0xff + 0 + 1, and 0x7f + 0 + 1 */
    { "adc8 ff+0+1",    LF_ADC, 1, 0x00, 0xff, 0x00, C | Z | A | P, 0 },
    { "adc8 7f+0+1",    LF_ADC, 1, 0x80, 0x7f, 0x00, O | S | A, 0 },
    { "adc64 -1+-1+1",  LF_ADC, 8, ~0ull, ~0ull, ~0ull, C | S | A | P, 0 },
    /* SUB / CMP */
    { "sub8 0-1",       LF_SUB, 1, 0xff, 0x00, 0x01, C | S | A | P, 0 },
    { "sub8 80-1",      LF_SUB, 1, 0x7f, 0x80, 0x01, O | A, 0 },
    { "sub16 5-5",      LF_SUB, 2, 0, 5, 5, Z | P, 0 },
    { "sub32 1-80000000", LF_SUB, 4, 0x80000001, 1, 0x80000000, C | O | S, 0 },
    { "sub64 min-1",    LF_SUB, 8, 0x7fffffffffffffff, 0x8000000000000000, 1, O | A | P, 0 },
    { "sub64 10-1",     LF_SUB, 8, 0x0f, 0x10, 0x01, A | P, 0 },
    /* SBB with CF(in)=1: 0 - 0 - 1, and 0x80 - 0x7f - 1 = 0 */
    { "sbb8 0-0-1",     LF_SBB, 1, 0xff, 0x00, 0x00, C | S | A | P, 0 },
    { "sbb8 80-7f-1",   LF_SBB, 1, 0x00, 0x80, 0x7f, O | Z | A | P, 0 },
    /* NEG is recorded as 0 - x: CF = (x != 0) */
    { "neg8 0",         LF_SUB, 1, 0x00, 0, 0x00, Z | P, 0 },
    { "neg8 80",        LF_SUB, 1, 0x80, 0, 0x80, C | O | S, 0 },
    { "neg32 1",        LF_SUB, 4, 0xffffffff, 0, 1, C | S | A | P, 0 },
    /* Logic: CF = OF = 0, AF undefined */
    { "and8 f0&0f",     LF_LOGIC, 1, 0x00, 0xf0, 0x0f, Z | P, C | P | Z | S | O },
    { "xor64 sign",     LF_LOGIC, 8, 0x8000000000000001, 0x8000000000000000, 1, S, C | P | Z | S | O },
    /* INC/DEC: src2 bit 0 is the preserved CF */
    { "inc8 7f cf=1",   LF_INC, 1, 0x80, 0x7f, 1, C | O | S | A, 0 },
    { "inc8 ff cf=0",   LF_INC, 1, 0x00, 0xff, 0, Z | A | P, 0 },
    { "dec8 80 cf=0",   LF_DEC, 1, 0x7f, 0x80, 0, O | A, 0 },
    { "dec16 0 cf=1",   LF_DEC, 2, 0xffff, 0x0000, 1, C | S | A | P, 0 },
    { "dec64 1",        LF_DEC, 8, 0, 1, 0, Z | P, 0 },
    /* Shifts by 1 (OF defined), AF undefined for nonzero counts */
    { "shl8 81,1",      LF_SHL, 1, 0x02, 0x81, 1, C | O, C | P | Z | S | O },
    { "shl8 40,1",      LF_SHL, 1, 0x80, 0x40, 1, O | S, C | P | Z | S | O },
    { "shr8 81,1",      LF_SHR, 1, 0x40, 0x81, 1, C | O, C | P | Z | S | O },
    { "sar8 81,1",      LF_SAR, 1, 0xc0, 0x81, 1, C | S | P, C | P | Z | S | O },
    { "shl32 3,31",     LF_SHL, 4, 0x80000000, 3, 31, C | S | P, C | P | Z | S },
    { "shr64 8000..,63", LF_SHR, 8, 1, 0x8000000000000000, 63, 0, C | P | Z | S },
    { "sar16 8000,15",  LF_SAR, 2, 0xffff, 0x8000, 15, S | P, C | P | Z | S },   /* CF = bit 14 = 0 */
    { "sar16 8000,16",  LF_SAR, 2, 0xffff, 0x8000, 16, C | S | P, C | P | Z | S },  /* CF = sign */
    { "shl8 1,8",       LF_SHL, 1, 0x00, 0x01, 8, Z | P, P | Z | S },  /* CF undefined: count >= 8 */
    /* MUL: CF = OF = upper half significant; the rest undefined */
    { "mul hi!=0",      LF_MUL, 1, 0x00, 0x80, 1, C | O, C | O },
    { "mul hi==0",      LF_MUL, 4, 0x12, 0x09, 0, 0, C | O },
};

START_TEST(test_lazy_table)
{
    const struct lf_case *t = &lf_cases[_i];
    struct cpu c;
    memset(&c, 0, sizeof c);
    c.rflags = FL_FIXED1 | FL_IF;
    flags_set(&c, t->op, t->size, t->res, t->src1, t->src2);
    uint64_t care = t->care ? t->care : FL_ARITH;
    uint64_t got = flags_get(&c);
    ck_assert_msg((got & care) == t->flags,
                  "%s: flags %#llx, expected %#llx (mask %#llx)", t->what,
                  (unsigned long long)(got & care), (unsigned long long)t->flags,
                  (unsigned long long)care);
    ck_assert_msg(got & FL_IF, "%s: non-arithmetic bits lost", t->what);
    ck_assert_msg(got & FL_FIXED1, "%s: bit 1 clear", t->what);
    /* The single-flag readers agree with flags_get */
    if (care & C) ck_assert_int_eq(flags_cf(&c), !!(t->flags & C));
    if (care & Z) ck_assert_int_eq(flags_zf(&c), !!(t->flags & Z));
    if (care & S) ck_assert_int_eq(flags_sf(&c), !!(t->flags & S));
    if (care & O) ck_assert_int_eq(flags_of(&c), !!(t->flags & O));
    if (care & P) ck_assert_int_eq(flags_pf(&c), !!(t->flags & P));
    if (care & A) ck_assert_int_eq(flags_af(&c), !!(t->flags & A));
    /* Materialising gives the same flags and switches to LF_NONE */
    flags_materialise(&c);
    ck_assert_int_eq(c.lf.op, LF_NONE);
    ck_assert_msg((c.rflags & care) == t->flags, "%s: materialised differently", t->what);
}
END_TEST

/* Condition codes (SDM Vol. 2 Table B-1) for three hand-made flag states. */
START_TEST(test_conditions)
{
    struct cpu c;
    memset(&c, 0, sizeof c);
    /* cc:            O  NO B  AE E  NE BE A  S  NS P  NP L  GE LE G */
    static const int none[16]  = { 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 };
    static const int cz[16]    = { 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0 };
    static const int so[16]    = { 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1 };
    static const int sp[16]    = { 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0 };
    const struct { uint64_t f; const int *exp; } states[] = {
        { 0, none }, { FL_CF | FL_ZF, cz }, { FL_SF | FL_OF, so }, { FL_SF | FL_PF, sp },
    };
    for (unsigned s = 0; s < 4; s++) {
        c.lf.op = LF_NONE;
        c.rflags = FL_FIXED1 | states[s].f;
        for (unsigned cc = 0; cc < 16; cc++)
            ck_assert_msg(flags_cond(&c, cc) == states[s].exp[cc], "state %u cc %u", s, cc);
    }
    /* Lazy: CMP 1, 2 (32-bit) -> below, less, not equal, sign; no overflow */
    flags_set(&c, LF_SUB, 4, 0xffffffff, 1, 2);
    ck_assert(flags_cond(&c, 0x2));   /* B */
    ck_assert(flags_cond(&c, 0xc));   /* L */
    ck_assert(flags_cond(&c, 0x5));   /* NE */
    ck_assert(flags_cond(&c, 0x6));   /* BE */
    ck_assert(!flags_cond(&c, 0x0));  /* NO overflow */
    ck_assert(!flags_cond(&c, 0xf));  /* not G */
    /* CMP 0x80000000, 1: unsigned above, signed overflow: GE false since SF=0, OF=1 */
    flags_set(&c, LF_SUB, 4, 0x7fffffff, 0x80000000, 1);
    ck_assert(flags_cond(&c, 0x7));   /* A */
    ck_assert(flags_cond(&c, 0x0));   /* O */
    ck_assert(flags_cond(&c, 0xc));   /* L: SF != OF */
}
END_TEST

START_TEST(test_flags_write)
{
    struct cpu c;
    memset(&c, 0, sizeof c);
    c.rflags = FL_FIXED1;
    flags_set(&c, LF_ADD, 1, 0, 0xff, 1);       /* CF ZF AF PF */
    flags_write(&c, FL_DF | FL_OF, FL_DF | FL_OF | FL_CF);
    uint64_t f = flags_get(&c);
    ck_assert_uint_eq(f & FL_ARITH, (uint64_t)(FL_OF | FL_ZF | FL_AF | FL_PF));
    ck_assert(f & FL_DF);
    flags_write(&c, 0, ~0ull);                  /* bit 1 stays set */
    ck_assert_uint_eq(flags_get(&c), (uint64_t)FL_FIXED1);
}
END_TEST

/* Handler-level checks with register operands: RAX is operand 0, RCX operand 1. */
static struct insn rr(insn_handler fn, unsigned osize, unsigned k1)
{
    struct insn i;
    memset(&i, 0, sizeof i);
    i.fn = fn;
    i.osize = (uint8_t)osize;
    i.mod = 3;
    i.rm = RAX;
    i.reg = RCX;
    i.opnd[0] = OPK_RM;
    i.opnd[1] = (uint8_t)k1;
    i.pfx = PFX_REX;
    return i;
}

START_TEST(test_handlers)
{
    struct cpu c;
    memset(&c, 0, sizeof c);
    c.rflags = FL_FIXED1;
    struct insn i;

    /* ADC 8: CF=1, 0xff + 0 + 1 = 0 with CF, ZF, AF, PF */
    c.rflags |= FL_CF;
    c.gpr[RAX] = 0x12ff; c.gpr[RCX] = 0;
    i = rr(h_adc, 1, OPK_REG); h_adc(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x1200);
    ck_assert_uint_eq(flags_get(&c) & FL_ARITH, (uint64_t)(C | Z | A | P));

    /* INC keeps CF (set above), 0x7f -> 0x80 sets OF SF AF */
    c.gpr[RAX] = 0x7f;
    i = rr(h_inc, 1, OPK_NONE); h_inc(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x80);
    ck_assert_uint_eq(flags_get(&c) & FL_ARITH, (uint64_t)(C | O | S | A));

    /* 32-bit SUB zero-extends into RAX */
    c.gpr[RAX] = 0xffffffff00000005ull; c.gpr[RCX] = 7;
    i = rr(h_sub, 4, OPK_REG); h_sub(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0xfffffffeull);
    ck_assert_uint_eq(flags_get(&c) & FL_ARITH, (uint64_t)(C | S | A));

    /* Shift by 0 (CL = 0x40 masked to 0 for 32 bits... and 64 bits) leaves flags */
    flags_put_arith(&c, O | Z);
    c.gpr[RAX] = 0x1234; c.gpr[RCX] = 0x20;
    i = rr(h_shl, 4, OPK_CL); h_shl(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x1234);
    ck_assert_uint_eq(flags_get(&c) & FL_ARITH, (uint64_t)(O | Z));

    /* ROL 8 by 1: 0x81 -> 0x03, CF = 1, OF = MSB ^ CF = 1; other flags unchanged (ZF) */
    c.gpr[RAX] = 0x81;
    i = rr(h_rol, 1, OPK_ONE); h_rol(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x03);
    ck_assert_uint_eq(flags_get(&c) & FL_ARITH, (uint64_t)(C | O | Z));

    /* RCR 8 by 1 with CF = 1: 0x01 -> 0x80, CF = 1, OF = MSB(old) ^ CF(old) = 1 */
    c.gpr[RAX] = 0x01;
    flags_put_arith(&c, C);
    i = rr(h_rcr, 1, OPK_ONE); h_rcr(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x80);
    ck_assert_uint_eq(flags_get(&c) & (C | O), (uint64_t)(C | O));

    /* RCL 8 by 9 (CL = 9): the 9-bit rotate is a full turn, value and CF unchanged */
    c.gpr[RAX] = 0x5a; c.gpr[RCX] = 9;
    flags_put_arith(&c, 0);
    i = rr(h_rcl, 1, OPK_CL); h_rcl(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x5a);
    ck_assert(!flags_cf(&c));

    /* MUL 8: AL = 0x80 * CL = 2 -> AX = 0x0100, CF = OF = 1 */
    c.gpr[RAX] = 0x80; c.gpr[RCX] = 2;
    i = rr(h_mul, 1, OPK_NONE); i.rm = RCX; h_mul(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x0100);
    ck_assert(flags_cf(&c) && flags_of(&c));

    /* IMUL 8: -128 * -1 = 128 does not fit in AL: AX = 0x0080, CF = OF = 1 */
    c.gpr[RAX] = 0x80; c.gpr[RCX] = 0xff;
    i = rr(h_imul1, 1, OPK_NONE); i.rm = RCX; h_imul1(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x0080);
    ck_assert(flags_cf(&c) && flags_of(&c));

    /* DIV 16: DX:AX = 0x0001:0x0000 / 0x10 = 0x1000 rem 0 */
    c.gpr[RAX] = 0; c.gpr[RDX] = 1; c.gpr[RCX] = 0x10;
    i = rr(h_div, 2, OPK_NONE); i.rm = RCX; h_div(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x1000);
    ck_assert_uint_eq(c.gpr[RDX], 0);

    /* IDIV 32: EDX:EAX = -7 / 2 = -3 rem -1 (truncation toward zero) */
    c.gpr[RAX] = 0xfffffff9; c.gpr[RDX] = 0xffffffff; c.gpr[RCX] = 2;
    i = rr(h_idiv, 4, OPK_NONE); i.rm = RCX; h_idiv(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0xfffffffd);
    ck_assert_uint_eq(c.gpr[RDX], 0xffffffff);

    /* BSF 32 of 0: ZF = 1 and the destination is unchanged */
    c.gpr[RAX] = 0x1234; c.gpr[RCX] = 0;
    i = rr(h_bsf, 4, OPK_REG); i.opnd[0] = OPK_REG; i.opnd[1] = OPK_RM; i.reg = RAX; i.rm = RCX;
    h_bsf(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0x1234);
    ck_assert(flags_zf(&c));

    /* POPCNT 64 of 0xf0f0: 8, all flags clear */
    c.gpr[RCX] = 0xf0f0;
    flags_put_arith(&c, FL_ARITH);
    i.fn = h_popcnt; i.osize = 8; h_popcnt(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 8);
    ck_assert_uint_eq(flags_get(&c) & FL_ARITH, 0);

    /* LAHF: AH = SF:ZF:0:AF:0:PF:1:CF */
    flags_put_arith(&c, S | Z | A | P | C | O);
    c.gpr[RAX] = 0;
    h_lahf(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0xd700);

    /* SAHF: AH = 0x01 -> only CF (OF unchanged = 1) */
    c.gpr[RAX] = 0x0100;
    h_sahf(&c, &i);
    ck_assert_uint_eq(flags_get(&c) & FL_ARITH, (uint64_t)(C | O));

    /* CWD/CDQ/CQO, CBW/CWDE/CDQE */
    c.gpr[RAX] = 0x8000; c.gpr[RDX] = 0x1234567890ull;
    i.osize = 2; h_cwd(&c, &i);
    ck_assert_uint_eq(c.gpr[RDX], 0x123456ffffull);
    c.gpr[RAX] = 0x80000000u;
    i.osize = 8; h_cbw(&c, &i);
    ck_assert_uint_eq(c.gpr[RAX], 0xffffffff80000000ull);
}
END_TEST


/* flags_write tells the mmu about RFLAGS.AC changes (SMAP fast-cache contexts). */
START_TEST(test_flags_write_ac)
{
    struct test_machine *tm = tm_new(16u << 20);
    struct cpu *c = &tm->cpu;
    ck_assert(!tm->mmu.ac);
    flags_write(c, FL_AC, FL_AC);
    ck_assert(tm->mmu.ac);
    ck_assert(flags_get(c) & FL_AC);
    flags_write(c, 0, FL_CF);           /* AC untouched: still set */
    ck_assert(tm->mmu.ac);
    flags_write(c, 0, FL_AC);
    ck_assert(!tm->mmu.ac);
    tm_free(tm);
}
END_TEST

/* Read-modify-write memory forms fault before changing anything: the operand is on
 * a read-only page (CR0.WP = 1), so the read succeeds and the write raises #PF; the
 * memory, the registers and the flags must be as before (SDM Vol. 3A 6.5: a fault
 * is reported with the state before the instruction). */
#define RO_ALIAS 0xc0000000ull              /* GiB 3 aliases GiB 0, read-only */
static const struct { const char *what; uint8_t len; uint8_t code[6]; } rmw_forms[] = {
    { "add [rbx],eax",       2, { 0x01, 0x03 } },
    { "lock add [rbx],eax",  3, { 0xf0, 0x01, 0x03 } },
    { "adc [rbx],eax",       2, { 0x11, 0x03 } },
    { "sbb byte [rbx],ah",   2, { 0x18, 0x23 } },
    { "inc dword [rbx]",     2, { 0xff, 0x03 } },
    { "dec qword [rbx]",     3, { 0x48, 0xff, 0x0b } },
    { "neg dword [rbx]",     2, { 0xf7, 0x1b } },
    { "not word [rbx]",      3, { 0x66, 0xf7, 0x13 } },
    { "shl dword [rbx],1",   2, { 0xd1, 0x23 } },
    { "rcl dword [rbx],cl",  2, { 0xd3, 0x13 } },
    { "ror byte [rbx],5",    3, { 0xc0, 0x0b, 0x05 } },
    { "shld [rbx],eax,3",    4, { 0x0f, 0xa4, 0x03, 0x03 } },
    { "xadd [rbx],eax",      3, { 0x0f, 0xc1, 0x03 } },
    { "xchg [rbx],eax",      2, { 0x87, 0x03 } },
    { "cmpxchg [rbx],ecx",   3, { 0x0f, 0xb1, 0x0b } },
    { "bts [rbx],ecx",       3, { 0x0f, 0xab, 0x0b } },   /* bit 3: same dword */
    { "btc dword [rbx],7",   4, { 0x0f, 0xba, 0x3b, 0x07 } },
    { "cmpxchg8b [rbx]",     3, { 0x0f, 0xc7, 0x0b } },
    { "cmpxchg16b [rbx]",    4, { 0x48, 0x0f, 0xc7, 0x0b } },
    { "sete [rbx]",          3, { 0x0f, 0x94, 0x03 } },
};

START_TEST(test_rmw_fault_changes_nothing)
{
    struct test_machine *tm = tm_new(16u << 20);
    struct cpu *c = &tm->cpu;
    /* PDPTE[3]: 1 GiB page at physical 0, present, not writable (SDM Vol. 3A 4.5). */
    uint64_t pdpte = 0x1ull | (1ull << 2) | (1ull << 7);
    physmem_write_bytes(tm->pm, TM_PT_BASE + 0x1000 + 3 * 8, &pdpte, 8);
    c->cr0 |= CR0_WP;
    mmu_set_cr0(&tm->mmu, c->cr0);
    mmu_set_cr3(&tm->mmu, c->cr3);

    for (unsigned k = 0; k < sizeof rmw_forms / sizeof rmw_forms[0]; k++) {
        static const uint64_t mem_init[2] = { 0x1122334455667788ull, 0x99aabbccddeeff00ull };
        physmem_write_bytes(tm->pm, TM_DATA_BASE, mem_init, sizeof mem_init);
        uint64_t code_at = TM_CODE_BASE + k * 32;
        uint8_t buf[32];
        memset(buf, 0xf4, sizeof buf);
        memcpy(buf, rmw_forms[k].code, rmw_forms[k].len);
        tm_load(tm, code_at, buf, sizeof buf);
        uint64_t regs[16];
        for (int r = 0; r < 16; r++)
            regs[r] = 0x0101010101010101ull * (uint64_t)(r + 1);
        regs[RAX] = 0x1122334455667788ull;          /* cmpxchg* compare equal: they would write */
        regs[RDX] = 0x99aabbccddeeff00ull;
        regs[RBX] = RO_ALIAS + TM_DATA_BASE;
        regs[RCX] = 3;
        regs[RSP] = TM_STACK_TOP;
        memcpy(c->gpr, regs, sizeof regs);
        c->lf.op = LF_NONE;
        c->rflags = FL_FIXED1 | FL_ZF | FL_CF | FL_AF;   /* ZF: sete writes 1 */
        c->cr2 = 0;
        tm_run(tm, code_at, 1);
        ck_assert_msg(tm_exception_vector(tm) == EXC_PF, "%s: vector %d", rmw_forms[k].what,
                      tm_exception_vector(tm));
        ck_assert_msg(c->cr2 == RO_ALIAS + TM_DATA_BASE, "%s: CR2 %#llx", rmw_forms[k].what,
                      (unsigned long long)c->cr2);
        uint64_t mem_now[2];
        physmem_read_bytes(tm->pm, TM_DATA_BASE, mem_now, sizeof mem_now);
        ck_assert_msg(!memcmp(mem_now, mem_init, sizeof mem_now), "%s: memory changed", rmw_forms[k].what);
        for (int r = 0; r < 16; r++)
            if (r != RSP)
                ck_assert_msg(c->gpr[r] == regs[r], "%s: %d changed", rmw_forms[k].what, r);
        ck_assert_msg((flags_get(c) & FL_ARITH) == (FL_ZF | FL_CF | FL_AF), "%s: flags %#llx",
                      rmw_forms[k].what, (unsigned long long)flags_get(c));
        /* The error code (pushed first, at the top of the frame) says write + present. */
        uint64_t err = 0;
        physmem_read_bytes(tm->pm, c->gpr[RSP], &err, 8);
        ck_assert_msg((err & 3) == 3, "%s: #PF error code %#llx", rmw_forms[k].what,
                      (unsigned long long)err);
    }
    tm_free(tm);
}
END_TEST

/* The lazy condition evaluation (including the CMP fast path) agrees with the
 * conditions of the materialised flags, for every op, size and condition. */
START_TEST(test_cond_lazy_matches_materialised)
{
    static const uint64_t vals[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                     0x7fffffff, 0x80000000, 0xffffffff, 0x123456789abcdef0ull,
                                     0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull };
    static const enum lf_op ops[] = { LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC,
                                      LF_DEC, LF_SHL, LF_SHR, LF_SAR, LF_MUL };
    const unsigned nv = sizeof vals / sizeof vals[0];
    for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (unsigned sz = 1; sz <= 8; sz *= 2) {
            uint64_t m = sz == 8 ? ~0ull : (1ull << (sz * 8)) - 1;
            for (unsigned x = 0; x < nv; x++)
                for (unsigned y = 0; y < nv; y++) {
                    uint64_t a = vals[x] & m, b = vals[y] & m, r;
                    switch (ops[o]) {
                    case LF_ADD: case LF_ADC: r = a + b; break;
                    case LF_SUB: case LF_SBB: r = a - b; break;
                    case LF_LOGIC: r = a & b; break;
                    case LF_INC: r = a + 1; b &= 1; break;
                    case LF_DEC: r = a - 1; b &= 1; break;
                    case LF_SHL: b = 1 + b % (sz * 8 - 1); r = a << b; break;
                    case LF_SHR: b = 1 + b % (sz * 8 - 1); r = a >> b; break;
                    case LF_SAR: b = 1 + b % (sz * 8 - 1); r = a >> b; break;
                    default: r = a * b; b = b > 1; break;
                    }
                    struct cpu c;
                    memset(&c, 0, sizeof c);
                    flags_set(&c, ops[o], sz, r & m, a, b);
                    bool lazy[16];
                    for (unsigned cc = 0; cc < 16; cc++)
                        lazy[cc] = flags_cond(&c, cc);
                    flags_materialise(&c);
                    for (unsigned cc = 0; cc < 16; cc++)
                        ck_assert_msg(lazy[cc] == flags_cond(&c, cc), "op %d size %u a %#llx b %#llx cc %u",
                                      ops[o], sz, (unsigned long long)a, (unsigned long long)b, cc);
                }
        }
}
END_TEST

static Suite *flags_suite(void)
{
    Suite *s = suite_create("flags");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_lazy_table, 0, (int)(sizeof lf_cases / sizeof lf_cases[0]));
    tcase_add_test(tc, test_conditions);
    tcase_add_test(tc, test_cond_lazy_matches_materialised);
    tcase_add_test(tc, test_flags_write);
    tcase_add_test(tc, test_handlers);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("machine");
    tcase_add_test(tm, test_flags_write_ac);
    tcase_add_test(tm, test_rmw_fault_changes_nothing);
    suite_add_tcase(s, tm);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(flags_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
