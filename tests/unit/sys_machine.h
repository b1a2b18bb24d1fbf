/* A small machine for the system-side unit tests (test_exceptions.c, test_system.c).
 *
 * It runs single handlers on hand-built struct insn records instead of decoded
 * bytes, so these tests exercise cpu/exception.c, cpu/seg.c, cpu/ops_*.c and the mmu
 * without depending on the decoder.  sm_exec() does what the run loop does: arm
 * c->fault_jmp, set insn_rip, advance RIP, call the handler, and on a longjmp call
 * cpu_deliver_pending() (again, if delivery itself faults).
 *
 * Layout (identity-mapped: 0..1 GiB with one 1 GiB page, U/S = 1; nothing else):
 *   GDT 0x10000  IDT 0x11000  TSS 0x13000  handlers SM_HANDLER(v) = 0x20000 + 16 v
 *   kernel stack top 0x80000 (TSS.RSP0), IST1 top 0x90000, user stack top 0x70000
 */
#ifndef HVEMU_TESTS_SYS_MACHINE_H
#define HVEMU_TESTS_SYS_MACHINE_H

#include <check.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/env.h"
#include "cpu/exception.h"
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/insn.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"

#define SM_PML4    0x1000ull
#define SM_PDPT    0x2000ull
#define SM_GDT     0x10000ull
#define SM_IDT     0x11000ull
#define SM_TSS     0x13000ull
#define SM_HANDLER(v) (0x20000ull + (uint64_t)(v) * 16)
#define SM_KSTACK  0x80000ull
#define SM_IST1    0x90000ull
#define SM_USTACK  0x70000ull
#define SM_CODE    0x100000ull
#define SM_DATA    0x200000ull

/* Selectors: STAR = 0x0023_0008_0000_0000 gives SYSCALL CS 08/SS 10 and SYSRET
 * CS 33 (64-bit) / 23 (32-bit), SS 2b (SDM SYSCALL/SYSRET). */
#define SM_KCODE64 0x08
#define SM_KDATA   0x10
#define SM_KCODE32 0x18
#define SM_UCODE32 0x23
#define SM_UDATA   0x2b
#define SM_UCODE64 0x33
#define SM_TSSSEL  0x38
#define SM_NPDATA  0x48     /* a not-present data segment */

static const uint64_t sm_gdt[] = {
    0,
    0x00af9b000000ffffull,   /* 08 64-bit code DPL 0 */
    0x00cf93000000ffffull,   /* 10 data DPL 0 */
    0x00cf9b000000ffffull,   /* 18 32-bit code DPL 0 */
    0x00cffb000000ffffull,   /* 20 32-bit code DPL 3 */
    0x00cff3000000ffffull,   /* 28 data DPL 3 */
    0x00affb000000ffffull,   /* 30 64-bit code DPL 3 */
    0x0000890130000067ull,   /* 38 64-bit TSS at 0x13000, limit 0x67 (low half) */
    0,                       /* 40 (TSS high half) */
    0x00cf13000000ffffull,   /* 48 data DPL 0, P = 0 */
};

struct sm {
    struct physmem *pm;
    struct mmu mmu;
    struct cpu cpu;
    /* what the env hooks saw */
    uint16_t last_port;
    uint32_t last_out;
    int outs;
};

static inline void sm_w64(struct sm *m, uint64_t gpa, uint64_t v)
{
    physmem_write_bytes(m->pm, gpa, &v, 8);
}

static inline uint64_t sm_r64(struct sm *m, uint64_t gpa)
{
    uint64_t v;
    physmem_read_bytes(m->pm, gpa, &v, 8);
    return v;
}

/* IDT gate v (SDM Vol. 3A Figure 6-8): type 0xE interrupt / 0xF trap. */
static inline void sm_gate(struct sm *m, unsigned v, uint64_t target, unsigned type, unsigned dpl, unsigned ist)
{
    uint64_t lo = (target & 0xffff) | ((uint64_t)SM_KCODE64 << 16) | ((uint64_t)ist << 32) |
                  ((uint64_t)(0x80 | (dpl << 5) | type) << 40) | (((target >> 16) & 0xffff) << 48);
    sm_w64(m, SM_IDT + v * 16, lo);
    sm_w64(m, SM_IDT + v * 16 + 8, target >> 32);
}

static uint32_t sm_io_in(void *o, struct cpu *c, uint16_t port, unsigned size)
{
    struct sm *m = o;
    m->last_port = port;
    return 0x12345678u & (uint32_t)((1ull << (8 * size)) - 1);
}

static void sm_io_out(void *o, struct cpu *c, uint16_t port, uint32_t val, unsigned size)
{
    struct sm *m = o;
    m->last_port = port;
    m->last_out = val;
    m->outs++;
}

static const struct cpu_env sm_env = { .io_in = sm_io_in, .io_out = sm_io_out };

static inline void sm_seg(struct segment *s, uint16_t sel, uint64_t desc)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = (uint16_t)(((desc >> 40) & 0xff) | ((desc >> 44) & 0xf00));
}

/* Flat 64-bit long mode at CPL 0, IF = 0, SYSCALL enabled. */
static struct sm *sm_new(void)
{
    const char *err = NULL;
    struct sm *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    m->pm = physmem_new(16u << 20, &err);
    ck_assert_msg(m->pm != NULL, "physmem_new: %s", err ? err : "?");
    ck_assert_msg(mmu_init(&m->mmu, m->pm, 0, "skylake", TLB_MODEL_EXACT, &err), "mmu_init: %s", err ? err : "?");

    sm_w64(m, SM_PML4, SM_PDPT | 7);
    sm_w64(m, SM_PDPT, 0x87);                               /* 0..1 GiB, P RW US PS */
    physmem_write_bytes(m->pm, SM_GDT, sm_gdt, sizeof sm_gdt);
    for (unsigned v = 0; v < 256; v++)
        sm_gate(m, v, SM_HANDLER(v), 0xe, 0, 0);
    sm_w64(m, SM_TSS + 4, SM_KSTACK);                        /* RSP0 */
    sm_w64(m, SM_TSS + 0x24, SM_IST1);                       /* IST1 */

    struct cpu *c = &m->cpu;
    cpu_init(c, &m->mmu, &sm_env, m);
    c->gdtr = (struct dtr){ SM_GDT, sizeof sm_gdt - 1 };
    c->idtr = (struct dtr){ SM_IDT, 256 * 16 - 1 };
    c->tr = (struct segment){ .sel = SM_TSSSEL, .base = SM_TSS, .limit = 0x67, .attr = 0x8b };
    c->ldtr = (struct segment){ 0 };
    sm_seg(&c->seg[SEG_CS], SM_KCODE64, sm_gdt[1]);
    for (unsigned s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            sm_seg(&c->seg[s], SM_KDATA, sm_gdt[2]);
    c->cr3 = SM_PML4;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
    c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE | CR0_WP;
    mmu_set_cr3(&m->mmu, c->cr3);
    mmu_set_cr4(&m->mmu, c->cr4);
    mmu_set_efer(&m->mmu, c->efer);
    mmu_set_cr0(&m->mmu, c->cr0);
    c->rflags = FL_FIXED1;
    c->gpr[RSP] = SM_KSTACK - 0x100;
    c->rip = SM_CODE;
    c->msr.star = 0x0023000800000000ull;
    cpu_update_mode(c);
    ck_assert_int_eq(c->mode, MODE_LONG64);
    ck_assert_int_eq(c->cpl, 0);
    return m;
}

static void sm_free(struct sm *m)
{
    mmu_destroy(&m->mmu);
    physmem_free(m->pm);
    free(m);
}

/* Switch to CPL 3 in 64-bit mode (what a SYSRET/IRET would leave). */
static inline void sm_user(struct sm *m)
{
    sm_seg(&m->cpu.seg[SEG_CS], SM_UCODE64, sm_gdt[6]);
    sm_seg(&m->cpu.seg[SEG_SS], SM_UDATA, sm_gdt[5]);
    m->cpu.gpr[RSP] = SM_USTACK - 0x40;
    cpu_update_mode(&m->cpu);
    ck_assert_int_eq(m->cpu.cpl, 3);
}

/* One instruction, as the run loop would run it.  Returns true if it faulted. */
static bool sm_exec(struct sm *m, const struct insn *i)
{
    struct cpu *c = &m->cpu;
    if (setjmp(c->fault_jmp)) {
        cpu_deliver_pending(c);
        return true;
    }
    c->insn_rip = c->rip;
    c->rip += i->len;
    i->fn(c, i);
    return false;
}

/* An insn with no operands. */
static inline struct insn sm_insn(insn_handler fn, unsigned len)
{
    struct insn i;
    memset(&i, 0, sizeof i);
    i.fn = fn;
    i.len = (uint8_t)len;
    i.osize = 8;
    i.asize = 8;
    i.base = EA_NONE;
    i.index = EA_NONE;
    i.seg = SEG_DS;
    i.mod = 3;
    return i;
}

/* A memory operand [reg + disp] as operand n. */
static inline void sm_mem(struct insn *i, unsigned n, unsigned base, int32_t disp)
{
    i->opnd[n] = OPK_MEM;
    i->mod = 0;
    i->base = (uint8_t)base;
    i->disp = disp;
    i->flags |= IF_MEM;
}

/* The 64-bit interrupt frame at RSP (SDM Vol. 3A Figure 6-9), without error code. */
static inline void sm_check_frame(struct sm *m, uint64_t rsp, uint64_t rip, uint16_t cs, uint64_t old_rsp, uint16_t ss)
{
    ck_assert_uint_eq(sm_r64(m, rsp), rip);
    ck_assert_uint_eq(sm_r64(m, rsp + 8), cs);
    ck_assert_uint_eq(sm_r64(m, rsp + 24), old_rsp);
    ck_assert_uint_eq(sm_r64(m, rsp + 32), ss);
}

#endif
