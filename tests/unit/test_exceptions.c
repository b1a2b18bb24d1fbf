/* Exception and interrupt delivery (cpu/exception.c, SDM Vol. 3A ch. 6): frames and
 * error codes through the 64-bit IDT, IST, the CPL 3 -> 0 stack switch and IRETQ
 * back, the double-fault rules and the triple fault, and the legacy paths (real-mode
 * IVT, 32-bit protected-mode gates).  Expected values are worked out from the SDM.
 */
#include "tests/unit/sys_machine.h"
#include "cpu/operand.h"

static struct sm *m;
static struct cpu *c;

static void setup(void) { m = sm_new(); c = &m->cpu; }
static void teardown(void) { sm_free(m); }

/* A handler that touches memory at [RBX] (read) or writes [RBX] (write). */
static void h_t_load(struct cpu *cc, const struct insn *i) { (void)mem_read(cc, cc->gpr[RBX], 8); }
static void h_t_store(struct cpu *cc, const struct insn *i) { mem_write(cc, cc->gpr[RBX], 1, 8); }

START_TEST(ud_frame_without_error_code)
{
    struct insn i = sm_insn(h_ud, 2);
    uint64_t rsp0 = c->gpr[RSP];                    /* 0x7ff00: already 16-byte aligned */
    c->rflags |= FL_CF;
    ck_assert(sm_exec(m, &i));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_UD));
    /* 5 slots: SS, RSP, RFLAGS, CS, RIP; RIP = the faulting instruction. */
    ck_assert_uint_eq(c->gpr[RSP], rsp0 - 40);
    sm_check_frame(m, c->gpr[RSP], SM_CODE, SM_KCODE64, rsp0, SM_KDATA);
    /* A fault pushes RF = 1 (SDM Vol. 3A 17.3.1.1); the live RF stays 0. */
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP] + 16), FL_FIXED1 | FL_CF | FL_RF);
    ck_assert_uint_eq(c->rflags & FL_RF, 0);
    ck_assert_int_eq(c->exc_nesting, -1);
}
END_TEST

START_TEST(gp_error_code_and_alignment)
{
    /* WRMSR of an unknown MSR: #GP(0).  RSP 0x7fef8 is not 16-byte aligned: the
     * frame starts at 0x7fef0 (SDM Vol. 3A 6.14.2). */
    c->gpr[RSP] = SM_KSTACK - 0x108;
    c->gpr[RCX] = 0x12345;
    struct insn i = sm_insn(h_wrmsr, 2);
    ck_assert(sm_exec(m, &i));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    ck_assert_uint_eq(c->gpr[RSP], SM_KSTACK - 0x110 - 48);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), 0);                 /* error code */
    sm_check_frame(m, c->gpr[RSP] + 8, SM_CODE, SM_KCODE64, SM_KSTACK - 0x108, SM_KDATA);
}
END_TEST

START_TEST(de_from_div_by_zero)
{
    struct insn i = sm_insn(h_div, 3);
    i.opnd[0] = OPK_RM;
    i.rm = RCX;
    c->gpr[RCX] = 0;
    c->gpr[RAX] = 5;
    ck_assert(sm_exec(m, &i));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_DE));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), SM_CODE);
    ck_assert_uint_eq(c->gpr[RAX], 5);                            /* a fault changes nothing */
}
END_TEST

START_TEST(pf_error_codes_and_cr2)
{
    /* 0x8000000000 is in PML4 entry 1, not present: read -> err 0, write -> err W. */
    struct insn rd = sm_insn(h_t_load, 3), wr = sm_insn(h_t_store, 3);
    c->gpr[RBX] = 0x8000000010ull;
    ck_assert(sm_exec(m, &rd));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_PF));
    ck_assert_uint_eq(c->cr2, 0x8000000010ull);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), 0);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP] + 8), SM_CODE);

    c->rip = SM_CODE + 0x40;
    c->gpr[RBX] = 0x8000000ff8ull;
    ck_assert(sm_exec(m, &wr));
    ck_assert_uint_eq(c->cr2, 0x8000000ff8ull);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), PFERR_W);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP] + 8), SM_CODE + 0x40);
}
END_TEST

START_TEST(pf_user_access_sets_u_bit)
{
    sm_user(m);
    struct insn rd = sm_insn(h_t_load, 3);
    c->gpr[RBX] = 0x8000000000ull;
    ck_assert(sm_exec(m, &rd));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_PF));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), PFERR_U);
    ck_assert_int_eq(c->cpl, 0);
}
END_TEST

START_TEST(ist_stack_is_used)
{
    sm_gate(m, EXC_NMI, SM_HANDLER(EXC_NMI), 0xe, 0, 1);
    uint64_t rsp0 = c->gpr[RSP];
    c->insn_rip = c->rip;
    cpu_interrupt(c, EXC_NMI, INTR_NMI);
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_NMI));
    ck_assert_uint_eq(c->gpr[RSP], SM_IST1 - 40);
    sm_check_frame(m, c->gpr[RSP], SM_CODE, SM_KCODE64, rsp0, SM_KDATA);
}
END_TEST

START_TEST(user_to_kernel_int_and_iretq)
{
    sm_gate(m, 0x80, SM_HANDLER(0x80), 0xf, 3, 0);           /* trap gate, DPL 3 */
    sm_user(m);
    c->rflags |= FL_IF;
    struct insn i = sm_insn(h_int, 2);
    i.imm = 0x80;
    ck_assert(!sm_exec(m, &i));
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_uint_eq(c->rip, SM_HANDLER(0x80));
    /* Stack switch to TSS.RSP0; SS becomes the null selector (RPL 0). */
    ck_assert_uint_eq(c->gpr[RSP], SM_KSTACK - 40);
    ck_assert_uint_eq(c->seg[SEG_SS].sel, 0);
    sm_check_frame(m, c->gpr[RSP], SM_CODE + 2, SM_UCODE64, SM_USTACK - 0x40, SM_UDATA);
    ck_assert(c->rflags & FL_IF);                             /* a trap gate keeps IF */

    struct insn iret = sm_insn(h_iret, 2);
    ck_assert(!sm_exec(m, &iret));
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(c->mode, MODE_LONG64);
    ck_assert_uint_eq(c->rip, SM_CODE + 2);
    ck_assert_uint_eq(c->gpr[RSP], SM_USTACK - 0x40);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, SM_UCODE64);
    ck_assert_uint_eq(c->seg[SEG_SS].sel, SM_UDATA);
    ck_assert(c->rflags & FL_IF);
}
END_TEST

START_TEST(interrupt_gate_clears_if)
{
    c->rflags |= FL_IF | FL_TF;
    c->insn_rip = c->rip;
    cpu_interrupt(c, 0x30, INTR_EXTERNAL);
    ck_assert_uint_eq(c->rip, SM_HANDLER(0x30));
    ck_assert(!(c->rflags & FL_IF));
    ck_assert(!(c->rflags & FL_TF));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP] + 16) & (FL_IF | FL_TF), FL_IF | FL_TF);
}
END_TEST

START_TEST(int_n_gate_dpl_check)
{
    /* Gates are DPL 0: INT 0x40 at CPL 3 is #GP(0x40*8 + 2) (IDT bit, EXT = 0). */
    sm_user(m);
    struct insn i = sm_insn(h_int, 2);
    i.imm = 0x40;
    ck_assert(sm_exec(m, &i));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), 0x40 * 8 + 2);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP] + 8), SM_CODE);     /* RIP of the INT */
}
END_TEST

START_TEST(not_present_gate_np)
{
    /* Vector 0x41 gate with P = 0: #NP(0x41*8 + 2 + EXT) for an external interrupt. */
    sm_w64(m, SM_IDT + 0x41 * 16, sm_r64(m, SM_IDT + 0x41 * 16) & ~(1ull << 47));
    struct insn i = sm_insn(h_int, 2);
    i.imm = 0x41;
    ck_assert(sm_exec(m, &i));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_NP));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), 0x41 * 8 + 2);
}
END_TEST

START_TEST(double_fault_on_pf_during_pf)
{
    /* The stack is unmapped: #UD -> its push #PFs (benign first: deliver #PF) -> the
     * #PF push faults again (#PF after #PF) -> #DF, taken on IST1. */
    sm_gate(m, EXC_DF, SM_HANDLER(EXC_DF), 0xe, 0, 1);
    c->gpr[RSP] = 0x8000001000ull;
    struct insn i = sm_insn(h_ud, 2);
    ck_assert(sm_exec(m, &i));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_DF));
    ck_assert_uint_eq(c->gpr[RSP], SM_IST1 - 48);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), 0);                /* #DF error code is 0 */
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP] + 8), SM_CODE);
    ck_assert_uint_eq(c->cr2, 0x8000000ff8ull);
    ck_assert(!(c->attention & ATTN_STOP));
}
END_TEST

START_TEST(triple_fault_stops)
{
    /* IDT limit 0: every vector's gate is outside: #UD -> #GP -> #GP -> #DF -> shutdown. */
    c->idtr.limit = 0;
    struct insn i = sm_insn(h_ud, 2);
    ck_assert(sm_exec(m, &i));
    ck_assert(c->attention & ATTN_STOP);
    ck_assert_int_eq(c->exit_reason, CPU_EXIT_SHUTDOWN);
    ck_assert_msg(strstr(c->stop_msg, "triple fault") != NULL, "msg: %s", c->stop_msg);
    ck_assert_uint_eq(c->rip, SM_CODE);                         /* nothing committed */
    ck_assert_int_eq(c->exc_nesting, -1);
}
END_TEST

START_TEST(real_mode_ivt)
{
    /* Real mode: IVT entry 0x21 = 1234:5678; frame FLAGS, CS, IP on SS:SP. */
    c->cr0 = CR0_ET;
    c->efer = 0;
    c->idtr = (struct dtr){ 0, 0x3ff };
    mmu_set_efer(&m->mmu, 0);
    mmu_set_cr0(&m->mmu, c->cr0);
    cpu_reset(c);
    c->seg[SEG_CS].base = 0x10000;
    c->seg[SEG_CS].sel = 0x1000;
    c->rip = 0x100;
    c->seg[SEG_SS].base = 0x20000;
    c->seg[SEG_SS].sel = 0x2000;
    c->gpr[RSP] = 0x1000;
    c->rflags = FL_FIXED1 | FL_IF;
    sm_w64(m, 0x21 * 4, 0x12345678ull);
    ck_assert_int_eq(c->mode, MODE_REAL);
    struct insn i = sm_insn(h_int, 2);
    i.imm = 0x21;
    i.osize = 2;
    ck_assert(!sm_exec(m, &i));
    ck_assert_uint_eq(c->seg[SEG_CS].sel, 0x1234);
    ck_assert_uint_eq(c->seg[SEG_CS].base, 0x12340);
    ck_assert_uint_eq(c->rip, 0x5678);
    ck_assert_uint_eq(c->gpr[RSP], 0x1000 - 6);
    uint64_t f = sm_r64(m, 0x20000 + 0x1000 - 6);
    ck_assert_uint_eq(f & 0xffff, 0x102);                       /* IP after INT */
    ck_assert_uint_eq((f >> 16) & 0xffff, 0x1000);              /* CS */
    ck_assert_uint_eq((f >> 32) & 0xffff, FL_FIXED1 | FL_IF);   /* FLAGS */
    ck_assert(!(c->rflags & FL_IF));

    struct insn iret = sm_insn(h_iret, 1);
    iret.osize = 2;
    ck_assert(!sm_exec(m, &iret));
    ck_assert_uint_eq(c->seg[SEG_CS].sel, 0x1000);
    ck_assert_uint_eq(c->rip, 0x102);
    ck_assert_uint_eq(c->gpr[RSP], 0x1000);
    ck_assert(c->rflags & FL_IF);
}
END_TEST

START_TEST(prot32_gate_same_privilege)
{
    /* Legacy protected mode, no paging: 8-byte 32-bit interrupt gate, error code. */
    c->efer = 0;
    c->cr0 = CR0_PE | CR0_ET;
    c->cr4 = 0;
    mmu_set_efer(&m->mmu, 0);
    mmu_set_cr4(&m->mmu, 0);
    mmu_set_cr0(&m->mmu, c->cr0);
    sm_seg(&c->seg[SEG_CS], SM_KCODE32, sm_gdt[3]);
    cpu_update_mode(c);
    ck_assert_int_eq(c->mode, MODE_PROT32);
    uint64_t h = 0x30000;
    uint64_t gate = (h & 0xffff) | ((uint64_t)SM_KCODE32 << 16) | (0x8eull << 40) | ((h >> 16) << 48);
    c->idtr = (struct dtr){ 0x40000, 0x7ff };
    sm_w64(m, 0x40000 + EXC_GP * 8, gate);
    c->gpr[RSP] = 0x7000;
    c->gpr[RCX] = 0x12345;
    struct insn i = sm_insn(h_rdmsr, 2);
    i.osize = 4;
    ck_assert(sm_exec(m, &i));
    ck_assert_uint_eq(c->rip, h);
    ck_assert_uint_eq(c->gpr[RSP], 0x7000 - 16);
    uint64_t a = sm_r64(m, 0x7000 - 16), b = sm_r64(m, 0x7000 - 8);
    ck_assert_uint_eq(a & 0xffffffff, 0);                       /* error code */
    ck_assert_uint_eq(a >> 32, SM_CODE);                        /* EIP */
    ck_assert_uint_eq(b & 0xffffffff, SM_KCODE32);              /* CS */
    ck_assert_uint_eq(b >> 32, FL_FIXED1 | FL_RF);              /* EFLAGS: RF = 1 for a fault */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("exceptions");
    TCase *t = tcase_create("delivery");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, ud_frame_without_error_code);
    tcase_add_test(t, gp_error_code_and_alignment);
    tcase_add_test(t, de_from_div_by_zero);
    tcase_add_test(t, pf_error_codes_and_cr2);
    tcase_add_test(t, pf_user_access_sets_u_bit);
    tcase_add_test(t, ist_stack_is_used);
    tcase_add_test(t, user_to_kernel_int_and_iretq);
    tcase_add_test(t, interrupt_gate_clears_if);
    tcase_add_test(t, int_n_gate_dpl_check);
    tcase_add_test(t, not_present_gate_np);
    tcase_add_test(t, double_fault_on_pf_during_pf);
    tcase_add_test(t, triple_fault_stops);
    tcase_add_test(t, real_mode_ivt);
    tcase_add_test(t, prot32_gate_same_privilege);
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
