/* TLB lock and caller suspend (HV-SPEC.md A-7, B-3, B-6.4, B-6.6 item 4): a flush
 * that targets a locked VP suspends its caller with RIP, RAX and RCX unchanged; the
 * caller becomes runnable only when every lock it waits on is released, and then
 * gets exactly one successful return from re-executing the VMCALL. */
#include "hv_test_machine.h"
#include "hvemu/hvemu.h"

#include <stdlib.h>

#define RAX_MARK 0xA5A5A5A5ull

static uint64_t space_ctl(void)
{
    return hvt_ctl(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, false, 0, 0, 0);
}

/* VP vp issues FlushVirtualAddressSpace(all spaces) to mask; returns the fault. */
static int flush(struct partition *p, unsigned vp, uint64_t mask)
{
    const uint64_t in[3] = { 0, HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES, mask };
    uint64_t gpa = HVT_IN_GPA + 0x100 * vp;     /* one input block per caller */
    hvt_put_u64s(p, gpa, in, 3);
    p->vps[vp].cpu.gpr[RAX] = RAX_MARK;
    return hvt_call(p, vp, space_ctl(), gpa, 0);
}

static void assert_suspended(struct partition *p, unsigned vp)
{
    struct cpu *c = &p->vps[vp].cpu;
    ck_assert_int_eq(p->vps[vp].state, VP_SUSPENDED);
    ck_assert_int_eq(hvemu_vp_is_suspended(p, vp), 1);
    ck_assert_uint_eq(c->rip, HVT_PAGE_GPA);                   /* on the VMCALL */
    ck_assert_uint_eq(c->gpr[RAX], RAX_MARK);                  /* no status written */
    ck_assert_uint_eq(c->gpr[RCX], space_ctl());
    ck_assert(c->attention & ATTN_YIELD);                      /* back to the scheduler */
}

static void assert_success(struct partition *p, unsigned vp)
{
    struct cpu *c = &p->vps[vp].cpu;
    ck_assert_int_eq(p->vps[vp].state, VP_RUNNABLE);
    ck_assert_uint_eq(c->rip, HVT_PAGE_GPA + 3);
    ck_assert_uint_eq(c->gpr[RAX], HV_STATUS_SUCCESS);
}

START_TEST(one_locker_one_flusher)
{
    struct partition *p = hvt_new(3);
    hvt_enable(p);
    ck_assert_int_eq(hvemu_tlb_lock(p, 1), 0);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 1), 1);
    p->vps[0].cpu.cycles = 5000;
    ck_assert_int_eq(flush(p, 0, 0x6), HVT_NO_FAULT);
    assert_suspended(p, 0);
    ck_assert_uint_eq(p->hv->st.flush_targets, 0);             /* nothing flushed yet */
    p->vps[0].cpu.attention = 0;
    /* released at virtual time 9000: the caller's clock moves there */
    p->clock.now = 9000;
    ck_assert_int_eq(hvemu_tlb_unlock(p, 1), 0);
    ck_assert_int_eq(p->vps[0].state, VP_RUNNABLE);
    ck_assert_uint_ge(p->vps[0].cpu.cycles, 9000);
    ck_assert_uint_eq(p->hv->st.suspended_cycles, 9000 - (5000 + hv_costs.entry_exit));
    /* re-executing the VMCALL completes it, once */
    ck_assert_int_eq(flush(p, 0, 0x6), HVT_NO_FAULT);
    assert_success(p, 0);
    ck_assert_uint_eq(p->hv->st.by_status[HV_STATUS_SUCCESS], 1);
    ck_assert_uint_eq(p->hv->st.flush_targets, 2);
    ck_assert_uint_eq(p->hv->st.suspends, 1);
    ck_assert_uint_eq(p->hv->st.resumes, 1);
    partition_free(p);
}
END_TEST

START_TEST(two_locks_need_both_releases)
{
    struct partition *p = hvt_new(4);
    hvt_enable(p);
    hvemu_tlb_lock(p, 1);
    hvemu_tlb_lock(p, 2);
    ck_assert_int_eq(flush(p, 0, 0x6), HVT_NO_FAULT);
    assert_suspended(p, 0);
    hvemu_tlb_unlock(p, 1);
    assert_suspended(p, 0);                                    /* still waits on VP 2 */
    hvemu_tlb_unlock(p, 2);
    ck_assert_int_eq(p->vps[0].state, VP_RUNNABLE);
    ck_assert_int_eq(flush(p, 0, 0x6), HVT_NO_FAULT);
    assert_success(p, 0);
    ck_assert_uint_eq(p->hv->st.by_status[HV_STATUS_SUCCESS], 1);
    partition_free(p);
}
END_TEST

START_TEST(two_flushers_one_lock)
{
    struct partition *p = hvt_new(4);
    hvt_enable(p);
    hvemu_tlb_lock(p, 1);
    ck_assert_int_eq(flush(p, 0, 0x2), HVT_NO_FAULT);
    ck_assert_int_eq(flush(p, 3, 0x3), HVT_NO_FAULT);
    assert_suspended(p, 0);
    assert_suspended(p, 3);
    /* an untargeted lock does not block: VP 2 flushes VP 0 and 3 */
    ck_assert_int_eq(flush(p, 2, 0x9), HVT_NO_FAULT);
    assert_success(p, 2);
    hvemu_tlb_unlock(p, 1);
    ck_assert_int_eq(p->vps[0].state, VP_RUNNABLE);
    ck_assert_int_eq(p->vps[3].state, VP_RUNNABLE);
    partition_free(p);
}
END_TEST

START_TEST(own_lock_never_blocks)
{
    struct partition *p = hvt_new(2);
    hvt_enable(p);
    hvemu_tlb_lock(p, 0);
    ck_assert_int_eq(flush(p, 0, 0x3), HVT_NO_FAULT);
    assert_success(p, 0);
    /* ALL_PROCESSORS includes a locked VP too */
    hvemu_tlb_lock(p, 1);
    const uint64_t in[3] = { 0, HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES | HV_FLUSH_ALL_PROCESSORS, 0 };
    hvt_put_u64s(p, HVT_IN_GPA, in, 3);
    p->vps[0].cpu.gpr[RAX] = RAX_MARK;
    ck_assert_int_eq(hvt_call(p, 0, space_ctl(), HVT_IN_GPA, 0), HVT_NO_FAULT);
    assert_suspended(p, 0);
    ck_assert_int_eq(hvemu_tlb_lock(p, 7), -1);                /* no such VP */
    partition_free(p);
}
END_TEST

/* HvCallSetVpRegisters / GetVpRegisters on HvRegisterInterceptSuspend. */
static uint64_t set_reg(struct partition *p, unsigned caller, uint64_t pid, uint32_t vp_index,
                        uint32_t name, uint64_t value)
{
    const uint64_t in[6] = { pid, vp_index, name, 0, value, 0 };
    return hvt_slow(p, caller, hvt_ctl(HVCALL_SET_VP_REGISTERS, false, 0, 1, 0), in, 6);
}

START_TEST(vp_registers)
{
    struct hv_config cfg = { .features_on = HVF_BIT(HVF_VPREGS) };
    struct partition *p = hvt_new_cfg(3, &cfg);
    hvt_enable(p);
    const uint64_t SELF = ~0ull;
    p->vps[2].cpu.cycles = 20000;
    uint64_t rax = set_reg(p, 2, SELF, 1, HV_REGISTER_INTERCEPT_SUSPEND, HV_INTERCEPT_SUSPEND_TLB_LOCKED);
    ck_assert_uint_eq(rax, HV_STATUS_SUCCESS | 1ull << 32);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 1), 1);
    /* Get from VP 0: HvRegisterInterceptSuspend of VP 1 = TlbLocked */
    static const uint8_t ff[32] = { [0 ... 31] = 0xFF };
    hvt_put(p, HVT_OUT_GPA, ff, sizeof ff);
    const uint64_t gin[3] = { SELF, 1, HV_REGISTER_INTERCEPT_SUSPEND };
    rax = hvt_slow(p, 0, hvt_ctl(HVCALL_GET_VP_REGISTERS, false, 0, 1, 0), gin, 3);
    ck_assert_uint_eq(rax, HV_STATUS_SUCCESS | 1ull << 32);
    ck_assert_uint_eq(physmem_read(p->pm, HVT_OUT_GPA, 8), 2);
    ck_assert_uint_eq(physmem_read(p->pm, HVT_OUT_GPA + 8, 8), 0);
    ck_assert_uint_eq(physmem_read(p->pm, HVT_OUT_GPA + 16, 8), ~0ull);     /* one rep only */
    /* VP 0 flushes VP 1: suspended; VP 2 unlocks: VP 0 resumes at VP 2's time */
    ck_assert_int_eq(flush(p, 0, 0x2), HVT_NO_FAULT);
    assert_suspended(p, 0);
    rax = set_reg(p, 2, SELF, 1, HV_REGISTER_INTERCEPT_SUSPEND, 0);
    ck_assert_uint_eq(HVT_STATUS(rax), HV_STATUS_SUCCESS);
    ck_assert_int_eq(p->vps[0].state, VP_RUNNABLE);
    ck_assert_uint_ge(p->vps[0].cpu.cycles, 20000);
    /* VP index SELF from VP 2 */
    rax = set_reg(p, 2, SELF, 0xFFFFFFFE, HV_REGISTER_INTERCEPT_SUSPEND, HV_INTERCEPT_SUSPEND_TLB_LOCKED);
    ck_assert_uint_eq(HVT_STATUS(rax), 0);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 2), 1);
    /* errors */
    ck_assert_uint_eq(HVT_STATUS(set_reg(p, 2, 5, 1, HV_REGISTER_INTERCEPT_SUSPEND, 0)), HV_STATUS_INVALID_PARTITION_ID);
    ck_assert_uint_eq(HVT_STATUS(set_reg(p, 2, SELF, 3, HV_REGISTER_INTERCEPT_SUSPEND, 0)), HV_STATUS_INVALID_VP_INDEX);
    ck_assert_uint_eq(HVT_STATUS(set_reg(p, 2, SELF, 1, 0x00000000, 0)), HV_STATUS_INVALID_PARAMETER);
    rax = set_reg(p, 2, SELF, 1, HV_REGISTER_INTERCEPT_SUSPEND, 1);     /* Suspended bit: not modelled */
    ck_assert_uint_eq(HVT_STATUS(rax), HV_STATUS_INVALID_PARAMETER);
    ck_assert_uint_eq(HVT_REPS(rax), 0);
    /* output buffer overlapping the input: INVALID_ALIGNMENT */
    hvt_put_u64s(p, HVT_IN_GPA, gin, 3);
    ck_assert_int_eq(hvt_call(p, 0, hvt_ctl(HVCALL_GET_VP_REGISTERS, false, 0, 1, 0), HVT_IN_GPA, HVT_IN_GPA + 8), HVT_NO_FAULT);
    ck_assert_uint_eq(HVT_STATUS(p->vps[0].cpu.gpr[RAX]), HV_STATUS_INVALID_ALIGNMENT);
    partition_free(p);
}
END_TEST

/* -tlb-lock vp=1,at=1000,for=500: the clock event locks and unlocks. */
START_TEST(lock_schedule)
{
    struct hv_config cfg = { .nlocks = 2, .locks = { { 1, 1000, 500 }, { 2, 1200, 100 } } };
    struct partition *p = hvt_new_cfg(3, &cfg);
    hvt_enable(p);
    clock_run_due(&p->clock, 999);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 1), 0);
    clock_run_due(&p->clock, 1000);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 1), 1);
    ck_assert_int_eq(flush(p, 0, 0x2), HVT_NO_FAULT);
    assert_suspended(p, 0);
    clock_run_due(&p->clock, 1250);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 2), 1);
    clock_run_due(&p->clock, 1300);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 2), 0);
    ck_assert_int_eq(p->vps[0].state, VP_SUSPENDED);
    clock_run_due(&p->clock, 1600);
    ck_assert_int_eq(hvemu_tlb_is_locked(p, 1), 0);
    ck_assert_int_eq(p->vps[0].state, VP_RUNNABLE);
    ck_assert_uint_eq(p->vps[0].cpu.cycles, 1500);             /* released at 1000 + 500 */
    partition_free(p);

    struct hv_config bad = { .nlocks = 1, .locks = { { 5, 10, 10 } } };
    struct partition_config pc = { .ram_size = HVT_RAM, .nr_vps = 2, .hyperv = bad };
    char err[256] = "";
    ck_assert_ptr_null(partition_new(&pc, err, sizeof err));
    ck_assert_msg(strstr(err, "-tlb-lock vp=5") != NULL, "%s", err);
}
END_TEST

START_TEST(option_parsing)
{
    struct hv_config c;
    char err[256];
    memset(&c, 0, sizeof c);
    ck_assert(hv_parse_hyperv_option("tlbflush=off,vpregs=on,compat=kvm", &c, err, sizeof err));
    ck_assert_uint_eq(c.features_off, HVF_BIT(HVF_TLBFLUSH));
    ck_assert_uint_eq(c.features_on, HVF_BIT(HVF_VPREGS));
    ck_assert(c.compat_kvm && !c.off);
    ck_assert(hv_parse_hyperv_option("off", &c, err, sizeof err));
    ck_assert(c.off);
    ck_assert(!hv_parse_hyperv_option("tlbflush=maybe", &c, err, sizeof err));
    ck_assert(!hv_parse_hyperv_option("warp=on", &c, err, sizeof err));
    ck_assert(strstr(err, "unknown feature 'warp'") != NULL);
    ck_assert(!hv_parse_hyperv_option("compat=xen", &c, err, sizeof err));
    ck_assert(!hv_parse_hyperv_option("", &c, err, sizeof err));
    ck_assert(hv_parse_tlb_lock_option("vp=2,at=100,for=0x10", &c, err, sizeof err));
    ck_assert_uint_eq(c.nlocks, 1);
    ck_assert_uint_eq(c.locks[0].vp, 2);
    ck_assert_uint_eq(c.locks[0].at, 100);
    ck_assert_uint_eq(c.locks[0].duration, 16);
    ck_assert(!hv_parse_tlb_lock_option("vp=2,at=100", &c, err, sizeof err));
    ck_assert(!hv_parse_tlb_lock_option("vp=-1,at=1,for=1", &c, err, sizeof err));
    ck_assert(!hv_parse_tlb_lock_option("vp=500,at=1,for=1", &c, err, sizeof err));
    ck_assert(!hv_parse_tlb_lock_option("vp=1,at=1,for=1,x=2", &c, err, sizeof err));
    ck_assert(!hv_parse_tlb_lock_option("vp=1,at=1,for=0", &c, err, sizeof err));
    ck_assert(!strchr(err, '\n'));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tlb_lock");
    TCase *t = tcase_create("core");
    tcase_add_test(t, one_locker_one_flusher);
    tcase_add_test(t, two_locks_need_both_releases);
    tcase_add_test(t, two_flushers_one_lock);
    tcase_add_test(t, own_lock_never_blocks);
    tcase_add_test(t, vp_registers);
    tcase_add_test(t, lock_schedule);
    tcase_add_test(t, option_parsing);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
