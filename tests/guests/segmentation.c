/* Legacy 32-bit protected-mode segmentation, run for real: the runtime's long mode
 * is left (compatibility code -> CR0.PG = 0 -> EFER.LME = 0, SDM Vol. 3A 9.8.5.4),
 * the probes run in 32-bit protected mode with our own GDT, 32-bit IDT and 32-bit
 * TSS, and the way back is PG = 1 with LME = 1 and a far jump to 64-bit code.
 *
 * Each probe records the exception it raised (vector and error code) or "none":
 *  CPL 0: data limit (#GP(0)), expand-down limits, write to read-only data, loads
 *  of a not-present segment (#NP(sel); #SS(sel) for SS), of a TSS and of a
 *  selector beyond the GDT limit (#GP(sel)), use of a null DS (#GP(0)), an
 *  SS-relative access beyond the SS limit (#SS(0)).
 *  CPL 3 (entered with IRET): INT 80h through a DPL 3 gate with the stack switch
 *  from the 32-bit TSS (SS0:ESP0), a CALL through a call gate to CPL 0 copying one
 *  parameter and RETF 4 back, a far CALL to conforming DPL 0 code (runs at CPL 3),
 *  and a load of a DPL 0 data segment (#GP(sel)).
 * Error codes: SDM Vol. 3A 6.13 and the "Protected Mode Exceptions" of MOV, CALL.
 */
#include "rt.h"

const char rt_test_name[] = "segmentation";

#define NSLOT 20
#define NONE  0xffffffffu

struct slot { u32 vector, error; };
struct slot seg_res[NSLOT];
u32 seg_info[8];                /* 0 int80 cs, 1 int80 ss, 2 int80 esp, 3 gate param, 4 gate cpl, 5 gate old ss, 6 conforming cs, 7 done */
u64 seg_gdt[16] __attribute__((aligned(16)));
u64 seg_idt[256] __attribute__((aligned(16)));
u8 seg_tss[0x68] __attribute__((aligned(16)));

#define K_STACK 0x7e000         /* kernel stack (below the 512 KiB SS limit of selector 48h) */
#define U_STACK 0x60000
#define K_STACK0 0x7f000        /* TSS.ESP0 */

__asm__(
    ".text\n"
    ".globl seg_go, seg_isr_stubs, seg_int80, seg_gate_fn, seg_conf_fn\n"
    ".macro PROBE slot\n"
    "    movl $(seg_res + \\slot * 8), %ss:seg_cur\n"      /* SS: DS may be the segment under test */
    "    movl $0xffffffff, %ss:seg_res + \\slot * 8\n"
    "    movl $1f, %ss:seg_resume_eip\n"
    "    movl %esp, %ss:seg_resume_esp\n"
    ".endm\n"
    ".code64\n"
    "seg_go:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    mov %rsp, seg_saved_rsp(%rip)\n"
    "    sgdt seg_saved_gdt(%rip)\n"
    "    sidt seg_saved_idt(%rip)\n"
    "    lgdt seg_gdt_ptr(%rip)\n"
    "    pushq $0x18\n"
    "    lea seg_down32(%rip), %rax\n"
    "    push %rax\n"
    "    lretq\n"
    ".code32\n"
    "seg_down32:\n"
    "    mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %es\n mov %ax, %ss\n mov %ax, %fs\n mov %ax, %gs\n"
    "    mov $" "0x7e000" ", %esp\n"
    "    mov %cr0, %eax\n and $0x7fffffff, %eax\n mov %eax, %cr0\n"     /* leave IA-32e mode */
    "    mov $0xc0000080, %ecx\n rdmsr\n and $0xfffffeff, %eax\n wrmsr\n"
    "    lidt seg_idt_ptr\n"
    "    mov $0x60, %ax\n ltr %ax\n"
    /* ---- CPL 0 probes ---- */
    "    mov $0x20, %ax\n mov %ax, %ds\n"
    "    PROBE 0\n mov 0xffe, %eax\n1:\n"                 /* limit FFFh: bytes FFE..1001 */
    "    mov $0x20, %ax\n mov %ax, %ds\n"
    "    PROBE 1\n mov 0xffc, %eax\n1:\n"                 /* FFC..FFF: inside */
    "    mov $0x28, %ax\n mov %ax, %ds\n"
    "    PROBE 2\n mov 0x800, %eax\n1:\n"                 /* expand-down: below the limit */
    "    mov $0x28, %ax\n mov %ax, %ds\n"
    "    PROBE 3\n mov 0x2000, %eax\n1:\n"
    "    mov $0x30, %ax\n mov %ax, %ds\n"
    "    PROBE 4\n movl $1, 0x2000\n1:\n"                 /* read-only data */
    "    mov $0x10, %ax\n mov %ax, %ds\n"
    "    PROBE 5\n mov $0x38, %ax\n mov %ax, %ds\n1:\n"   /* not present */
    "    mov $0x10, %ax\n mov %ax, %ds\n"
    "    PROBE 6\n mov $0x38, %ax\n mov %ax, %ss\n1:\n"
    "    PROBE 7\n mov $0x60, %ax\n mov %ax, %ds\n1:\n"   /* a TSS */
    "    mov $0x10, %ax\n mov %ax, %ds\n"
    "    PROBE 8\n mov $0x1f8, %ax\n mov %ax, %ds\n1:\n"  /* beyond the GDT limit */
    "    mov $0x10, %ax\n mov %ax, %ds\n"
    "    xor %eax, %eax\n mov %ax, %es\n"
    "    PROBE 9\n mov %es:0x1000, %eax\n1:\n"            /* null ES */
    "    mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %es\n"
    "    PROBE 10\n mov $0x48, %ax\n mov %ax, %ss\n mov %ss:0x80000, %eax\n1:\n"   /* SS limit 7FFFFh */
    "    mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %ss\n"
    /* ---- to CPL 3 with IRET ---- */
    "    movl $seg_back0, seg_resume_eip\n"
    "    movl %esp, seg_resume_esp\n"
    "    pushl $0x5b\n pushl $0x60000\n pushl $0x2\n pushl $0x53\n pushl $seg_ring3\n"
    "    iret\n"
    "seg_ring3:\n"
    "    mov $0x5b, %ax\n mov %ax, %ds\n mov %ax, %es\n"
    "    int $0x80\n"
    "    pushl $0x1234\n"
    "    lcall $0x6b, $0\n"                                 /* call gate, 1 parameter */
    "    lcall $0x70, $seg_conf_fn\n"                       /* conforming DPL 0 code */
    /* Slot 11 by hand: the fault resumes in the kernel at seg_back0 (with the
     * kernel ESP saved before the IRET), not after the instruction. */
    "    movl $(seg_res + 11 * 8), seg_cur\n"
    "    movl $0xffffffff, seg_res + 11 * 8\n"
    "    mov $0x10, %ax\n mov %ax, %ds\n"                  /* DPL 0 data at CPL 3 */
    "    ud2\n"
    "seg_back0:\n"
    "    mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %es\n mov %ax, %ss\n"
    "    movl $1, seg_info + 28\n"
    /* ---- back up to 64-bit mode ---- */
    "    mov $0xc0000080, %ecx\n rdmsr\n or $0x100, %eax\n wrmsr\n"
    "    mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n"
    "    ljmp $0x08, $seg_up64\n"
    ".code64\n"
    "seg_up64:\n"
    "    lgdt seg_saved_gdt(%rip)\n"
    "    lidt seg_saved_idt(%rip)\n"
    "    mov $0x10, %eax\n mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n"
    "    xor %eax, %eax\n mov %eax, %fs\n mov %eax, %gs\n"
    "    mov seg_saved_rsp(%rip), %rsp\n"
    "    pushq $0x08\n lea 2f(%rip), %rax\n push %rax\n lretq\n"
    "2:  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    ret\n"
    ".code32\n"
    /* Exception stubs: 16 bytes each; vectors without an error code push 0. */
    ".balign 16\n"
    "seg_isr_stubs:\n"
    ".set vec, 0\n"
    ".rept 32\n"
    ".balign 16\n"
    ".if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17)\n"
    ".else\n"
    "    pushl $0\n"
    ".endif\n"
    "    pushl $vec\n"
    "    jmp seg_isr_common\n"
    ".set vec, vec + 1\n"
    ".endr\n"
    "seg_isr_common:\n"                                     /* CPL 0, SS from the TSS or the old one */
    "    mov $0x10, %ax\n mov %ax, %ds\n"
    "    mov seg_cur, %ebx\n"
    "    mov (%esp), %eax\n mov %eax, (%ebx)\n"
    "    mov 4(%esp), %eax\n mov %eax, 4(%ebx)\n"
    "    mov $0x10, %ax\n mov %ax, %ss\n mov %ax, %es\n"
    "    mov seg_resume_esp, %esp\n"
    "    jmp *seg_resume_eip\n"
    "seg_int80:\n"                                          /* DPL 3 interrupt gate */
    "    mov 4(%esp), %eax\n mov %eax, seg_info + 0\n"      /* CS */
    "    mov 16(%esp), %eax\n mov %eax, seg_info + 4\n"     /* SS */
    "    mov %esp, seg_info + 8\n"                          /* where the frame is */
    "    iret\n"
    "seg_gate_fn:\n"                                        /* via the call gate, CPL 0 */
    "    mov 8(%esp), %eax\n mov %eax, seg_info + 12\n"     /* the copied parameter */
    "    mov %cs, %eax\n and $3, %eax\n mov %eax, seg_info + 16\n"
    "    mov 16(%esp), %eax\n mov %eax, seg_info + 20\n"    /* caller's SS */
    "    lret $4\n"
    "seg_conf_fn:\n"
    "    mov %cs, %eax\n mov %eax, seg_info + 24\n"
    "    lret\n"
    ".code64\n"
    ".data\n"
    ".balign 8\n"
    "seg_saved_rsp: .quad 0\n"
    "seg_saved_gdt: .word 0\n .quad 0\n"
    "seg_saved_idt: .word 0\n .quad 0\n"
    "seg_gdt_ptr: .word 16 * 8 - 1\n .quad seg_gdt\n"
    "seg_idt_ptr: .word 256 * 8 - 1\n .quad seg_idt\n"
    "seg_cur: .long 0\n"
    "seg_resume_eip: .long 0\n"
    "seg_resume_esp: .long 0\n"
    ".text\n");

extern char seg_isr_stubs[], seg_int80[], seg_gate_fn[], seg_conf_fn[];
void seg_go(void);

static u64 gate(u32 off, u16 sel, unsigned type, unsigned dpl, unsigned params)
{
    return (off & 0xffff) | ((u64)sel << 16) | ((u64)params << 32) |
           ((u64)(0x80 | (dpl << 5) | type) << 40) | ((u64)(off >> 16) << 48);
}

static u64 seg_desc(u32 base, u32 limit, unsigned access, unsigned flags)
{
    return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40) |
           ((u64)((limit >> 16) & 0xf) << 48) | ((u64)flags << 52) | ((u64)(base >> 24) << 56);
}

static void check_slot(int n, u32 vector, u32 error, const char *what)
{
    rt_checks++;
    if (seg_res[n].vector != vector || (vector != NONE && seg_res[n].error != error))
        rt_check_fail(__FILE__, __LINE__, what, "slot %d: vector %#x error %#x, expected %#x error %#x",
                      n, seg_res[n].vector, seg_res[n].error, vector, error);
}

void test_main(void)
{
    seg_gdt[1] = 0x00af9a000000ffffull;                     /* 08 64-bit code (the way back) */
    seg_gdt[2] = 0x00cf92000000ffffull;                     /* 10 flat data */
    seg_gdt[3] = 0x00cf9a000000ffffull;                     /* 18 32-bit code */
    seg_gdt[4] = seg_desc(0, 0xfff, 0x92, 0x4);             /* 20 data, limit FFFh */
    seg_gdt[5] = seg_desc(0, 0xfff, 0x96, 0x4);             /* 28 expand-down, B = 1 */
    seg_gdt[6] = seg_desc(0, 0xfffff, 0x90, 0xc);           /* 30 read-only */
    seg_gdt[7] = seg_desc(0, 0xfffff, 0x12, 0xc);           /* 38 not present */
    seg_gdt[9] = seg_desc(0, 0x7ffff, 0x92, 0x4);           /* 48 data, limit 7FFFFh */
    seg_gdt[10] = 0x00cffa000000ffffull;                    /* 50 32-bit code DPL 3 */
    seg_gdt[11] = 0x00cff2000000ffffull;                    /* 58 data DPL 3 */
    seg_gdt[12] = seg_desc((u32)(uintptr_t)seg_tss, sizeof seg_tss - 1, 0x89, 0);  /* 60 32-bit TSS */
    seg_gdt[13] = gate((u32)(uintptr_t)seg_gate_fn, 0x18, 0xc, 3, 1);              /* 68 call gate */
    seg_gdt[14] = 0x00cf9e000000ffffull;                    /* 70 conforming code DPL 0 */
    for (int v = 0; v < 32; v++)
        seg_idt[v] = gate((u32)(uintptr_t)(seg_isr_stubs + 16 * v), 0x18, 0xe, 0, 0);
    seg_idt[0x80] = gate((u32)(uintptr_t)seg_int80, 0x18, 0xe, 3, 0);
    *(u32 *)(seg_tss + 4) = K_STACK0;                       /* ESP0 */
    *(u32 *)(seg_tss + 8) = 0x10;                           /* SS0 */
    *(u16 *)(seg_tss + 0x66) = sizeof seg_tss;              /* no I/O bitmap */

    __asm__ volatile("cli");
    seg_go();
    /* The runtime's TSS again: TR still holds ours (clear the busy bit first). */
    rt_gdt[SEL_TSS / 8] &= ~(2ull << 40);
    __asm__ volatile("ltr %w0" :: "r"((u16)SEL_TSS));

    CHECK_EQ(seg_info[7], 1, "got back from CPL 3 and up to 64-bit mode");
    /* QEMU's TCG does not check the limit, type and null-ness of data segments on
     * ordinary accesses (it checks them when a segment register is loaded), so the
     * access probes are checked on hvemu (and hardware) only. */
    int tcg = rt_on_qemu_tcg();
    if (tcg)
        SKIP("data-segment limit/type/null access checks: not modelled by QEMU TCG");
    if (!tcg) {
        check_slot(0, VEC_GP, 0, "read across the DS limit");
        check_slot(2, VEC_GP, 0, "expand-down: offset below the limit");
        check_slot(4, VEC_GP, 0, "write to read-only data");
        check_slot(9, VEC_GP, 0, "access through a null ES");
        check_slot(10, VEC_SS, 0, "SS-relative access beyond the SS limit");
    }
    check_slot(1, NONE, 0, "read inside the DS limit");
    check_slot(3, NONE, 0, "expand-down: offset above the limit");
    check_slot(5, VEC_NP, 0x38, "MOV DS, not present");
    check_slot(6, VEC_SS, 0x38, "MOV SS, not present");
    check_slot(7, VEC_GP, 0x60, "MOV DS, TSS selector");
    check_slot(8, VEC_GP, 0x1f8, "MOV DS beyond the GDT limit");
    check_slot(11, VEC_GP, 0x10, "MOV DS, DPL 0 data at CPL 3");
    CHECK_EQ(seg_info[0], 0x53, "CS in the INT 80h frame");
    CHECK_EQ(seg_info[1], 0x5b, "SS in the INT 80h frame");
    CHECK_EQ(seg_info[2], K_STACK0 - 20, "INT 80h frame on the TSS stack (ESP0 - 20)");
    CHECK_EQ(seg_info[3], 0x1234, "parameter copied by the call gate");
    CHECK_EQ(seg_info[4], 0, "CPL in the call-gate target");
    CHECK_EQ(seg_info[5], 0x5b, "caller's SS on the inner stack");
    CHECK_EQ(seg_info[6], 0x73, "conforming code runs at CPL 3 (CS.RPL = 3)");
}
