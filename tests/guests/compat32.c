/* A CPL 3 32-bit program in compatibility mode under the 64-bit runtime, making
 * system calls the ways a 64-bit Linux kernel serves 32-bit processes:
 *  - INT 80h through a DPL 3 64-bit IDT gate, back with IRETQ to the 32-bit code
 *    segment (SDM Vol. 3A 6.14: a 64-bit frame even from compatibility mode);
 *  - SYSCALL from compatibility mode to IA32_CSTAR and SYSRET (32-bit operand
 *    size) back to it: AMD processors only.  On Intel processors SYSCALL outside
 *    64-bit mode is #UD (SDM Vol. 2 SYSCALL), and that is what is checked there.
 * The program also shows it really runs 32-bit code: 48h is DEC EAX (a REX prefix
 * in 64-bit mode), PUSHAD/POPAD exist, and CS reads 1Bh.
 */
#include "rt.h"

const char rt_test_name[] = "compat32";

#define SEL_UCODE32_RPL3 (SEL_UCODE32)        /* 0x1b */
#define SEL_UDATA_RPL3   (SEL_UDATA)          /* 0x23 */

/* Results the 32-bit program stores (user-accessible data). */
struct c32_out {
    u32 cs, dec_eax, int80_eax, popad_ok, syscall_eax, syscall_cs, use_syscall, done;
};
struct c32_out c32 USER_DATA;
static u8 c32_stack[4096] USER_DATA __attribute__((aligned(16)));

/* Kernel side of the compat SYSCALL (CSTAR): what it saw. */
u64 cstar_rcx, cstar_r11, cstar_cs, cstar_count;
static u8 cstar_stack[4096] __attribute__((aligned(16)));
u64 cstar_stack_top;
u64 cstar_user_rsp;

__asm__(
    ".pushsection .user.text, \"ax\"\n"
    ".code32\n"
    ".globl c32_main, c32_syscall_only\n"
    "c32_main:\n"
    "    mov $0x23, %ax\n"                      /* DS/ES were nulled by IRETQ to CPL 3 */
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %cs, %eax\n"
    "    mov %eax, c32 + 0\n"
    "    mov $5, %eax\n"
    "    .byte 0x48\n"                          /* DEC EAX in 32-bit code */
    "    nop\n"
    "    mov %eax, c32 + 4\n"
    "    mov $40, %ebx\n"
    "    mov $2, %ecx\n"
    "    mov $0x1000, %eax\n"
    "    int $0x80\n"
    "    mov %eax, c32 + 8\n"
    "    mov $0x11111111, %esi\n"
    "    mov $0x22222222, %edi\n"
    "    pushal\n"
    "    xor %esi, %esi\n"
    "    xor %edi, %edi\n"
    "    popal\n"
    "    cmp $0x11111111, %esi\n"
    "    jne 1f\n"
    "    cmp $0x22222222, %edi\n"
    "    jne 1f\n"
    "    movl $1, c32 + 12\n"
    "1:  cmpl $0, c32 + 24\n"
    "    je 2f\n"
    "    mov $7, %eax\n"
    "    mov $5, %ebx\n"
    "    syscall\n"
    "    mov %eax, c32 + 16\n"
    "    mov %cs, %eax\n"
    "    mov %eax, c32 + 20\n"
    "2:  movl $1, c32 + 28\n"
    "    int $0x82\n"                           /* back to the kernel (caught) */
    "c32_syscall_only:\n"
    "    syscall\n"
    "    int $0x82\n"
    ".code64\n"
    ".popsection\n"
    ".text\n"
    ".globl cstar_entry\n"
    "cstar_entry:\n"                            /* 64-bit, CPL 0, still on the user stack */
    "    mov %rsp, cstar_user_rsp(%rip)\n"
    "    mov cstar_stack_top(%rip), %rsp\n"
    "    mov %rcx, cstar_rcx(%rip)\n"
    "    mov %r11, cstar_r11(%rip)\n"
    "    mov %cs, %rdx\n"
    "    mov %rdx, cstar_cs(%rip)\n"
    "    incq cstar_count(%rip)\n"
    "    add %ebx, %eax\n"                      /* the "system call": eax + ebx */
    "    mov cstar_user_rsp(%rip), %rsp\n"
    "    sysretl\n");

extern char c32_main[], c32_syscall_only[], cstar_entry[];

static int int80_handler(struct trap_frame *f)
{
    CHECK_EQ(f->cs, SEL_UCODE32_RPL3, "CS in the INT 80h frame");
    CHECK_EQ(f->ss, SEL_UDATA_RPL3, "SS in the INT 80h frame");
    CHECK_EQ(read_cs(), SEL_KCODE, "kernel CS in the handler");
    f->rax = (u32)(f->rbx + f->rcx);
    return 1;                                   /* IRETQ back to compatibility mode */
}

/* IRETQ to CS 1Bh (32-bit code, DPL 3), SS 23h, at entry with the user stack. */
static void enter_compat(char *entry)
{
    u64 sp = (u64)(uintptr_t)(c32_stack + sizeof c32_stack);
    __asm__ volatile(
        "pushq %[ss]\n\t"
        "pushq %[sp]\n\t"
        "pushq $0x2\n\t"
        "pushq %[cs]\n\t"
        "pushq %[ip]\n\t"
        "iretq"
        :: [ss] "i"(SEL_UDATA_RPL3), [sp] "r"(sp), [cs] "i"(SEL_UCODE32_RPL3),
           [ip] "r"((u64)(uintptr_t)entry) : "memory");
    __builtin_unreachable();
}

static int is_amd(void)
{
    return rt_cpu.vendor[0] == 'A';             /* "AuthenticAMD" */
}

void test_main(void)
{
    rt_set_handler(0x80, int80_handler);
    rt_idt_set_gate(0x80, 3, 0);
    rt_idt_set_gate(0x82, 3, 0);                /* exit: no handler, the TRY catches it */
    cstar_stack_top = (u64)(uintptr_t)(cstar_stack + sizeof cstar_stack);
    wrmsr(MSR_CSTAR, (u64)(uintptr_t)cstar_entry);
    c32.use_syscall = is_amd();

    CHECK(TRY(enter_compat(c32_main)) == 1, "the program ended with INT 82h");
    CHECK_EQ(rt_last_trap.vector, 0x82, "exit vector");
    CHECK_EQ(rt_last_trap.cs, SEL_UCODE32_RPL3, "CS of the exit INT");
    CHECK_EQ(c32.done, 1, "the program ran to the end");
    CHECK_EQ(c32.cs, SEL_UCODE32_RPL3, "CS read in compatibility mode");
    CHECK_EQ(c32.dec_eax, 4, "48h is DEC EAX outside 64-bit mode");
    CHECK_EQ(c32.int80_eax, 42, "INT 80h result");
    CHECK_EQ(c32.popad_ok, 1, "PUSHAD/POPAD");
    CHECK_EQ(rt_trap_count[0x80], 1, "one INT 80h");

    if (is_amd()) {
        CHECK_EQ(cstar_count, 1, "SYSCALL reached CSTAR");
        CHECK_EQ(cstar_cs, SEL_KCODE, "CS after SYSCALL = STAR[47:32]");
        CHECK(cstar_rcx > (u64)(uintptr_t)c32_main && cstar_rcx < (u64)(uintptr_t)c32_syscall_only,
              "RCX = the 32-bit return address (%#llx)", cstar_rcx);
        CHECK_EQ(c32.syscall_eax, 12, "SYSCALL result (7 + 5)");
        CHECK_EQ(c32.syscall_cs, SEL_UCODE32_RPL3, "CS after SYSRET = STAR[63:48] | 3");
    } else {
        /* Intel: #UD, delivered from CPL 3 compatibility mode. */
        CHECK(TRY(enter_compat(c32_syscall_only)) == 1, "SYSCALL trapped");
        CHECK_EQ(rt_last_trap.vector, VEC_UD, "SYSCALL in compatibility mode on Intel");
        CHECK_EQ(rt_last_trap.rip, (u64)(uintptr_t)c32_syscall_only, "#UD at the SYSCALL");
        CHECK_EQ(rt_last_trap.cs, SEL_UCODE32_RPL3, "from CS 1Bh");
        CHECK_EQ(cstar_count, 0, "CSTAR not reached");
    }
}
