/* Exceptions and IDT delivery: #DE, #UD, #BP, #GP with error code, #PF, INT n,
 * IST stacks, error-code pushes, DPL checks on INT n from CPL 3, and return
 * with IRETQ (registers and RSP preserved). */
#include "rt.h"

const char rt_test_name[] = "exceptions";

extern char de_insn[], ud_insn[], bp_after[], gp_insn[], pf_insn[], int40_after[];

static volatile u64 sink;

static int on_int40(struct trap_frame *f)
{
    f->rax = 0x4040;           /* visible to the interrupted code after IRETQ */
    return 1;
}

static int skip_ud2(struct trap_frame *f)
{
    f->rip += 2;               /* resume after the UD2 */
    return 1;
}

static int bp_resume(struct trap_frame *f)
{
    return 1;                  /* #BP is a trap: IRETQ continues after INT3 */
}

static int in_stack(u64 p, const u8 *stack)
{
    return p >= (u64)(uintptr_t)stack && p < (u64)(uintptr_t)stack + RT_IST_STACK_SIZE;
}

/* CPL 3 helpers. */
static long USER_TEXT user_int40(long unused)
{
    __asm__ volatile("int $0x40" ::: "memory");
    return 1;
}
static long USER_TEXT user_int41(long unused)
{
    long r;
    __asm__ volatile("int $0x41" : "=a"(r) : "a"(0) : "memory");
    return r;
}

static long USER_TEXT user_cli(long unused)
{
    __asm__ volatile("cli");
    return 1;
}
static long USER_TEXT user_hlt(long unused)
{
    __asm__ volatile("hlt");
    return 1;
}

void test_main(void)
{
    u64 rsp_before, rsp_after;

    /* #DE: no error code, RIP = the DIV. */
    rt_trap_reset();
    int f = TRY(__asm__ volatile("xor %%edx, %%edx\n\txor %%ecx, %%ecx\n\tmov $1, %%eax\n"
                                 "de_insn: div %%ecx" ::: "rax", "rcx", "rdx"));
    CHECK(f, "#DE was not raised");
    CHECK_EQ(rt_last_trap.vector, VEC_DE, "#DE vector");
    CHECK_EQ(rt_last_trap.rip, (u64)de_insn, "#DE RIP is the DIV");
    CHECK_EQ(rt_last_trap.error, 0, "#DE has no error code (stub pushes 0)");
    CHECK_EQ(rt_last_trap.cs, SEL_KCODE, "#DE saved CS");
    printf("#DE: vector %llu rip %#llx\n", rt_last_trap.vector, rt_last_trap.rip);

    /* #UD from UD2, RIP = the UD2. */
    rt_trap_reset();
    f = TRY(__asm__ volatile("ud_insn: ud2"));
    CHECK(f, "#UD was not raised");
    CHECK_EQ(rt_last_trap.vector, VEC_UD, "#UD vector");
    CHECK_EQ(rt_last_trap.rip, (u64)ud_insn, "#UD RIP is the UD2");

    /* #UD handled by resuming: the handler skips UD2 and IRETQ returns. */
    rt_set_handler(VEC_UD, skip_ud2);
    rt_trap_reset();
    u64 marker = 0;
    __asm__ volatile("ud2\n\tmov $0x1234, %0" : "=r"(marker));
    CHECK_EQ(marker, 0x1234, "execution continues after a resumed #UD");
    CHECK_EQ(rt_trap_count[VEC_UD], 1, "#UD count");
    rt_set_handler(VEC_UD, 0);

    /* #BP is a trap: RIP after INT3, execution continues after IRETQ. */
    rt_trap_reset();
    rt_set_handler(VEC_BP, bp_resume);
    u64 rbx_keep = 0x1122334455667788ull, rbx_out;
    __asm__ volatile("mov %%rsp, %0\n\tint3\nbp_after:\n\tmov %%rsp, %1"
                     : "=&r"(rsp_before), "=&r"(rsp_after), "=b"(rbx_out) : "b"(rbx_keep));
    CHECK_EQ(rt_trap_count[VEC_BP], 1, "#BP count");
    CHECK_EQ(rt_last_trap.rip, (u64)bp_after, "#BP saved RIP is after INT3");
    CHECK_EQ(rsp_after, rsp_before, "RSP preserved across #BP/IRETQ");
    CHECK_EQ(rbx_out, rbx_keep, "RBX preserved across #BP/IRETQ");
    CHECK_EQ(rt_last_trap.rsp, rsp_before, "saved RSP is the interrupted RSP");
    CHECK_EQ(rt_last_trap.ss, SEL_KDATA, "saved SS");
    /* 64-bit delivery aligns the new stack to 16 bytes before pushing SS:
     * the frame's SS slot (frame_addr + 21*8) ends on a 16-byte boundary. */
    CHECK_EQ((rt_last_trap.frame_addr + 22 * 8) % 16, 0, "exception frame 16-byte aligned");
    rt_set_handler(VEC_BP, 0);

    /* #GP with a selector error code: load DS with a selector beyond the GDT limit. */
    rt_trap_reset();
    f = TRY(__asm__ volatile("mov $0x4B, %%eax\n" "gp_insn: mov %%eax, %%ds" ::: "rax"));
    CHECK(f, "#GP was not raised");
    CHECK_EQ(rt_last_trap.vector, VEC_GP, "#GP vector");
    CHECK_EQ(rt_last_trap.error, 0x48, "#GP error code = selector index (RPL dropped)");
    CHECK_EQ(rt_last_trap.rip, (u64)gp_insn, "#GP RIP");
    __asm__ volatile("mov %0, %%ds" :: "r"(SEL_KDATA));

    /* #GP(0) from a non-canonical address. */
    rt_trap_reset();
    f = TRY(sink = *(volatile u64 *)0x8000000000000000ull);
    CHECK(f && rt_last_trap.vector == VEC_GP, "non-canonical load: vector %llu", rt_last_trap.vector);
    CHECK_EQ(rt_last_trap.error, 0, "#GP(0) for a non-canonical address");

    /* #GP(selector) from LTR of the busy TSS. */
    rt_trap_reset();
    f = TRY(__asm__ volatile("ltr %w0" :: "r"(SEL_TSS)));
    CHECK(f && rt_last_trap.vector == VEC_GP, "LTR busy TSS: vector %llu", rt_last_trap.vector);
    CHECK_EQ(rt_last_trap.error, SEL_TSS, "#GP error code for LTR of a busy TSS");

    /* #GP(0) from privileged instructions at CPL 3 (IOPL 0). */
    rt_trap_reset();
    f = TRY(rt_user_call(user_cli, 0, 0));
    CHECK(f && rt_last_trap.vector == VEC_GP, "CLI at CPL 3: vector %llu", rt_last_trap.vector);
    CHECK_EQ(rt_last_trap.error, 0, "#GP(0) for CLI at CPL 3");
    CHECK_EQ(rt_last_trap.cs, SEL_UCODE, "CLI at CPL 3: saved CS");
    rt_trap_reset();
    f = TRY(rt_user_call(user_hlt, 0, 0));
    CHECK(f && rt_last_trap.vector == VEC_GP, "HLT at CPL 3: vector %llu", rt_last_trap.vector);
    CHECK_EQ(rt_last_trap.error, 0, "#GP(0) for HLT at CPL 3");

    /* #PF: not-present page, error code pushed, CR2 = address. */
    u64 va = TEST_VA_BASE + 0x1000;
    pt_unmap(rt_pml4(), va);
    map_4k(va, 0, 0);         /* creates the tables; leaf not present */
    invlpg_va(va);
    rt_trap_reset();
    f = TRY(__asm__ volatile("pf_insn: mov (%0), %%rax" :: "r"(va + 0x18) : "rax"));
    CHECK(f, "#PF was not raised");
    CHECK_EQ(rt_last_trap.vector, VEC_PF, "#PF vector");
    CHECK_EQ(rt_last_trap.error, 0, "#PF error code (read, not present, supervisor)");
    CHECK_EQ(rt_last_trap.cr2, va + 0x18, "CR2");
    CHECK_EQ(rt_last_trap.rip, (u64)pf_insn, "#PF RIP is the faulting instruction");

    /* INT n: handler runs, modifies RAX in the frame, IRETQ resumes after. */
    rt_set_handler(0x40, on_int40);
    rt_trap_reset();
    u64 rax = 0;
    __asm__ volatile("int $0x40\nint40_after:" : "=a"(rax) : "a"(0) : "memory");
    CHECK_EQ(rax, 0x4040, "INT 0x40 handler result via the frame");
    CHECK_EQ(rt_last_trap.vector, 0x40, "INT 0x40 vector");
    CHECK_EQ(rt_last_trap.error, 0, "INT n pushes no error code");
    CHECK_EQ(rt_last_trap.rip, (u64)int40_after, "INT n saved RIP is the next instruction");

    /* IST: vector 0x41 through IST1, vector 0x42 through IST2, 0x40 on the current stack. */
    rt_idt_set_gate(0x41, 0, 1);
    rt_idt_set_gate(0x42, 0, 2);
    rt_set_handler(0x41, on_int40);
    rt_set_handler(0x42, on_int40);
    rt_trap_reset();
    __asm__ volatile("int $0x41" : "=a"(rax) : "a"(0) : "memory");
    CHECK(in_stack(rt_last_trap.frame_addr, rt_ist_stack1), "INT 0x41 frame %#llx not on IST1",
          rt_last_trap.frame_addr);
    CHECK_EQ(rax, 0x4040, "IST1 handler ran");
    __asm__ volatile("int $0x42" : "=a"(rax) : "a"(0) : "memory");
    CHECK(in_stack(rt_last_trap.frame_addr, rt_ist_stack2), "INT 0x42 frame %#llx not on IST2",
          rt_last_trap.frame_addr);
    __asm__ volatile("int $0x40" : "=a"(rax) : "a"(0) : "memory");
    CHECK(!in_stack(rt_last_trap.frame_addr, rt_ist_stack1) &&
          !in_stack(rt_last_trap.frame_addr, rt_ist_stack2), "INT 0x40 frame on an IST stack");
    /* IST applies to exceptions as well: #UD through IST1. */
    rt_idt_set_gate(VEC_UD, 0, 1);
    rt_trap_reset();
    f = TRY(__asm__ volatile("ud2"));
    CHECK(f && rt_last_trap.vector == VEC_UD, "#UD via IST1");
    CHECK(in_stack(rt_last_trap.frame_addr, rt_ist_stack1), "#UD frame %#llx not on IST1",
          rt_last_trap.frame_addr);
    rt_idt_set_gate(VEC_UD, 0, 0);

    /* INT n from CPL 3: gate DPL 0 -> #GP(vector*8 + 2); DPL 3 -> delivered, on RSP0. */
    rt_idt_set_gate(0x40, 0, 0);
    rt_trap_reset();
    f = TRY(rt_user_call(user_int40, 0, 0));
    CHECK(f, "INT 0x40 at CPL 3 through a DPL 0 gate did not fault");
    CHECK_EQ(rt_last_trap.vector, VEC_GP, "DPL violation vector");
    if (rt_on_qemu_tcg() && rt_last_trap.error == 0x40 * 16 + 2)
        printf("note: QEMU TCG pushes vector*16+2 (IDT byte offset); hardware pushes vector*8+2\n");
    else
        CHECK_EQ(rt_last_trap.error, 0x40 * 8 + 2, "DPL violation error code (IDT bit set)");
    CHECK_EQ(rt_last_trap.cs, SEL_UCODE, "saved CS is the user code selector");
    rt_idt_set_gate(0x41, 3, 0);
    rt_trap_reset();
    long r = rt_user_call(user_int41, 0, 0);
    CHECK_EQ(r, 0x4040, "INT 0x41 from CPL 3 through a DPL 3 gate returned to user mode");
    CHECK_EQ(rt_last_trap.cs, SEL_UCODE, "INT from CPL 3: saved CS");
    CHECK_EQ(rt_last_trap.ss, SEL_UDATA, "INT from CPL 3: saved SS");
    CHECK_EQ(rt_last_trap.frame_addr + 22 * 8, rt_tss.rsp[0], "INT from CPL 3: frame at TSS.RSP0");
    printf("exceptions: %d checks done\n", rt_checks);
}
