/* Helpers for the Hyper-V unit tests: a partition built in the test, guest memory
 * input pages, and a direct call of the hypercall hook with the registers a guest
 * would set (no instruction is executed: the VMCALL's state is staged by hand). */
#ifndef HVEMU_TESTS_HV_TEST_MACHINE_H
#define HVEMU_TESTS_HV_TEST_MACHINE_H

#include <check.h>
#include <setjmp.h>
#include <string.h>

#include "hv/partition.h"
#include "hv/hyperv.h"
#include "cpu/exception.h"
#include "cpu/env.h"
#include "cpu/cpuid.h"
#include "mmu/physmem.h"

#define HVT_RAM        (64ull << 20)
#define HVT_PAGE_GPA   0x5000ull      /* where the tests put the hypercall page */
#define HVT_IN_GPA     0x10000ull     /* input page */
#define HVT_OUT_GPA    0x11000ull     /* output page */
#define HVT_LINUX_OS_ID (0x8100ull << 48 | 0x060100ull << 16)   /* Linux 6.1 (B-1.2) */
#define HVT_NO_FAULT   (-1)

static inline struct partition *hvt_new_cfg(unsigned nvps, const struct hv_config *hc)
{
    struct partition_config pc = { .ram_size = HVT_RAM, .nr_vps = nvps };
    if (hc)
        pc.hyperv = *hc;
    char err[256] = "";
    struct partition *p = partition_new(&pc, err, sizeof err);
    ck_assert_msg(p != NULL, "partition_new: %s", err);
    for (unsigned i = 0; i < nvps; i++) {
        struct cpu *c = &p->vps[i].cpu;
        c->mode = MODE_LONG64;
        c->cpl = 0;
        p->vps[i].state = VP_RUNNABLE;
    }
    return p;
}

static inline struct partition *hvt_new(unsigned nvps)
{
    return hvt_new_cfg(nvps, NULL);
}

/* MSR accesses as the guest's RDMSR/WRMSR would reach them; false = #GP. */
static inline bool hvt_wrmsr(struct partition *p, unsigned vp, uint32_t msr, uint64_t v)
{
    return partition_cpu_env.msr_write(p, &p->vps[vp].cpu, msr, v);
}

static inline bool hvt_rdmsr(struct partition *p, unsigned vp, uint32_t msr, uint64_t *v)
{
    return partition_cpu_env.msr_read(p, &p->vps[vp].cpu, msr, v);
}

/* What Linux's hyperv_init does: OS ID, then the hypercall page. */
static inline void hvt_enable(struct partition *p)
{
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_GUEST_OS_ID, HVT_LINUX_OS_ID));
    ck_assert(hvt_wrmsr(p, 0, HV_MSR_HYPERCALL, HVT_PAGE_GPA | 1));
}

static inline void hvt_put(struct partition *p, uint64_t gpa, const void *buf, size_t len)
{
    physmem_write_bytes(p->pm, gpa, buf, len);
}

static inline void hvt_put_u64s(struct partition *p, uint64_t gpa, const uint64_t *q, size_t n)
{
    physmem_write_bytes(p->pm, gpa, q, n * 8);
}

/* Control value (B-1.4); a macro so that tables can use it. */
#define hvt_ctl(code, fast, varhead, count, start)                                        \
    ((uint64_t)(code) | ((fast) ? 1ull << 16 : 0) | (uint64_t)(varhead) << 17              \
     | (uint64_t)(count) << 32 | (uint64_t)(start) << 48)

/* Stage the VMCALL at offset 0 of the hypercall page (RIP = next instruction during
 * a handler) and call the hook.  Returns the exception vector, or HVT_NO_FAULT. */
static inline int hvt_call(struct partition *p, unsigned vp, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    struct cpu *c = &p->vps[vp].cpu;
    c->gpr[RCX] = rcx;
    c->gpr[RDX] = rdx;
    c->gpr[R8] = r8;
    c->insn_rip = HVT_PAGE_GPA;
    c->rip = HVT_PAGE_GPA + 3;
    c->exc_vector = -1;
    if (setjmp(c->fault_jmp) != 0)
        return c->exc_vector;
    partition_cpu_env.hypercall(p, c);
    return HVT_NO_FAULT;
}

/* A slow call with the input block at HVT_IN_GPA; returns RAX (status | reps << 32),
 * failing the test on an exception. */
static inline uint64_t hvt_slow(struct partition *p, unsigned vp, uint64_t ctl, const uint64_t *in, size_t nq)
{
    if (nq)
        hvt_put_u64s(p, HVT_IN_GPA, in, nq);
    p->vps[vp].cpu.gpr[RAX] = 0xdeadbeefull;
    int f = hvt_call(p, vp, ctl, HVT_IN_GPA, HVT_OUT_GPA);
    ck_assert_msg(f == HVT_NO_FAULT, "unexpected exception %d", f);
    return p->vps[vp].cpu.gpr[RAX];
}

#define HVT_STATUS(rax) ((unsigned)((rax) & 0xFFFF))
#define HVT_REPS(rax)   ((unsigned)(((rax) >> 32) & 0xFFF))

#endif
