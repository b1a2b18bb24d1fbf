/* Real mode and the way back up, as Linux starts its secondary processors
 * (arch/x86/realmode/rm/trampoline_64.S): 16-bit real-mode code at a page boundary
 * entered at CS:IP = 0800:0000 (SIPI vector 08h), LIDT/LGDT with a 32-bit base
 * through the 66h prefix, CR0.PE, a far jump to 32-bit protected mode, CR4.PAE,
 * CR3, EFER.LME, CR0.PG, and a far jump to 64-bit mode.
 *
 * To get to real mode from the runtime's long mode the trampoline first goes
 * down (SDM Vol. 3A 9.8.5.4 and 9.9.2): 64-bit -> 32-bit compatibility code ->
 * CR0.PG = 0 (leaves IA-32e mode) -> EFER.LME = 0 -> 16-bit protected-mode code
 * with 64 KiB segments -> CR0.PE = 0 -> far jump to 0800:0000.
 *
 * In real mode it records what it sees: CS, an INT through the IVT (frame and
 * FLAGS.IF inside the handler), a far CALL through another segment alias of the
 * same code, 32-bit arithmetic with the 66h prefix, a 67h-prefixed 32-bit address,
 * the 64 KiB wrap of a 16-bit offset, and FFFF:0010 = linear 100000h (A20 is on:
 * QEMU's firmware enables it and hvemu has no A20 gate).  Interrupts stay off.
 */
#include "rt.h"

const char rt_test_name[] = "realmode_trampoline";

#define TRAMP_BASE 0x8000           /* page-aligned; "SIPI vector" 08h */
#define TRAMP_SEG  (TRAMP_BASE >> 4)

__asm__(
    ".pushsection .text\n"
    ".balign 4096\n"
    ".set TB, 0x8000\n"
    ".globl rmt_start, rmt_end, rmt_go\n"
    ".globl rmt_cr3, rmt_cs_seen, rmt_int_count, rmt_int_ip, rmt_int_cs, rmt_int_flags, rmt_far_cs\n"
    ".globl rmt_eax, rmt_wrap_byte, rmt_a32_byte, rmt_hma, rmt_after_int, rmt_rounds\n"
    "rmt_start:\n"
    /* ---- real mode, CS = 0800h, IP = 0 ---- */
    ".code16\n"
    "    cli\n"
    "    mov %cs, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    xor %ax, %ax\n"
    "    mov %ax, %ss\n"
    "    mov $0x7c00, %sp\n"
    "    mov %cs, rmt_cs_seen - rmt_start\n"
    "    lidtw rmt_ivt_ptr - rmt_start\n"
    /* IVT entry 40h -> 0800:rmt_int40 */
    "    push %ds\n"
    "    xor %ax, %ax\n"
    "    mov %ax, %ds\n"
    "    movw $(rmt_int40 - rmt_start), 0x100\n"
    "    movw $0x0800, 0x102\n"
    "    pop %ds\n"
    "    int $0x40\n"
    "rmt_after_int:\n"
    "    lcall $0x0700, $(0x1000 + rmt_farfn - rmt_start)\n"
    "    mov $0x12345678, %eax\n"
    "    add %eax, %eax\n"
    "    mov %eax, rmt_eax - rmt_start\n"
    "    mov $0xffff, %bx\n"
    "    mov 2(%bx), %al\n"                 /* DS:0001: the offset wraps at 64 KiB */
    "    mov %al, rmt_wrap_byte - rmt_start\n"
    "    mov $2, %edi\n"
    "    addr32 mov (%edi), %al\n"          /* 67h: 32-bit address DS:00000002 */
    "    mov %al, rmt_a32_byte - rmt_start\n"
    "    push %es\n"
    "    mov $0xffff, %ax\n"
    "    mov %ax, %es\n"
    "    mov %es:0x10, %eax\n"              /* FFFF0h + 10h = 100000h */
    "    pop %es\n"
    "    mov %eax, rmt_hma - rmt_start\n"
    /* ---- up: the trampoline_64.S way ---- */
    "    lidtl rmt_idt0_ptr - rmt_start\n"
    "    lgdtl rmt_gdt_ptr - rmt_start\n"
    "    mov %cr0, %eax\n"
    "    or $1, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmpl $0x18, $(TB + rmt_pm32_up - rmt_start)\n"
    /* INT 40h handler: the frame is IP, CS, FLAGS at SS:SP */
    "rmt_int40:\n"
    "    mov %sp, %bp\n"
    "    mov (%bp), %ax\n"
    "    mov %ax, rmt_int_ip - rmt_start\n"
    "    mov 2(%bp), %ax\n"
    "    mov %ax, rmt_int_cs - rmt_start\n"
    "    pushf\n"
    "    pop %ax\n"
    "    mov %ax, rmt_int_flags - rmt_start\n"
    "    incw rmt_int_count - rmt_start\n"
    "    iret\n"
    "rmt_farfn:\n"
    "    mov %cs, %ax\n"
    "    mov %ax, rmt_far_cs - rmt_start\n"
    "    lret\n"
    ".code32\n"
    "rmt_pm32_up:\n"
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov $0x7c00, %esp\n"
    "    mov %cr4, %eax\n"
    "    or $0x20, %eax\n"                  /* PAE */
    "    mov %eax, %cr4\n"
    "    mov TB + rmt_cr3 - rmt_start, %eax\n"
    "    mov %eax, %cr3\n"
    "    mov $0xc0000080, %ecx\n"
    "    rdmsr\n"
    "    or $0x100, %eax\n"                 /* LME */
    "    wrmsr\n"
    "    mov %cr0, %eax\n"
    "    or $0x80000001, %eax\n"            /* PG | PE */
    "    mov %eax, %cr0\n"
    "    ljmp $0x08, $(TB + rmt_lm64_up - rmt_start)\n"
    ".code64\n"
    "rmt_lm64_up:\n"
    "    lgdt rmt_saved_gdt(%rip)\n"
    "    lidt rmt_saved_idt(%rip)\n"
    "    mov $0x10, %eax\n"
    "    mov %eax, %ds\n"
    "    mov %eax, %es\n"
    "    mov %eax, %ss\n"
    "    xor %eax, %eax\n"
    "    mov %eax, %fs\n"
    "    mov %eax, %gs\n"
    "    mov rmt_saved_rsp(%rip), %rsp\n"
    "    incl rmt_rounds(%rip)\n"
    "    pushq $0x08\n"                     /* reload CS from the runtime's GDT */
    "    lea 1f(%rip), %rax\n"
    "    push %rax\n"
    "    lretq\n"
    "1:  pop %r15\n"
    "    pop %r14\n"
    "    pop %r13\n"
    "    pop %r12\n"
    "    pop %rbp\n"
    "    pop %rbx\n"
    "    ret\n"
    /* ---- down: called from C at TB + (rmt_go - rmt_start) ---- */
    "rmt_go:\n"
    "    push %rbx\n"
    "    push %rbp\n"
    "    push %r12\n"
    "    push %r13\n"
    "    push %r14\n"
    "    push %r15\n"
    "    mov %rsp, rmt_saved_rsp(%rip)\n"
    "    sgdt rmt_saved_gdt(%rip)\n"
    "    sidt rmt_saved_idt(%rip)\n"
    "    lgdt rmt_gdt_ptr(%rip)\n"
    "    pushq $0x18\n"
    "    pushq $(TB + rmt_pm32_down - rmt_start)\n"
    "    lretq\n"
    ".code32\n"
    "rmt_pm32_down:\n"                        /* compatibility mode */
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov %cr0, %eax\n"
    "    and $0x7fffffff, %eax\n"           /* PG = 0: IA-32e mode off (LMA = 0) */
    "    mov %eax, %cr0\n"
    "    mov $0xc0000080, %ecx\n"
    "    rdmsr\n"
    "    and $0xfffffeff, %eax\n"           /* LME = 0 */
    "    wrmsr\n"
    "    mov %cr4, %eax\n"
    "    and $0xffffffdf, %eax\n"           /* PAE = 0 */
    "    mov %eax, %cr4\n"
    "    ljmp $0x20, $(TB + rmt_pm16_down - rmt_start)\n"
    ".code16\n"
    "rmt_pm16_down:\n"
    "    mov $0x28, %ax\n"                  /* 64 KiB data segments, as real mode wants */
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov %ax, %fs\n"
    "    mov %ax, %gs\n"
    "    mov %cr0, %eax\n"
    "    and $0xfffffffe, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmp $0x0800, $0\n"
    /* ---- data ---- */
    ".balign 16\n"
    "rmt_gdt:\n"
    "    .quad 0\n"
    "    .quad 0x00af9a000000ffff\n"        /* 08 64-bit code */
    "    .quad 0x00cf92000000ffff\n"        /* 10 flat data */
    "    .quad 0x00cf9a000000ffff\n"        /* 18 32-bit code */
    "    .quad 0x00009a000000ffff\n"        /* 20 16-bit code, base 0, limit FFFFh */
    "    .quad 0x000092000000ffff\n"        /* 28 16-bit data */
    "rmt_gdt_end:\n"
    ".balign 8\n"
    "rmt_gdt_ptr:  .word rmt_gdt_end - rmt_gdt - 1\n"
    "    .quad TB + rmt_gdt - rmt_start\n"
    "rmt_ivt_ptr:  .word 0x3ff\n"
    "    .quad 0\n"
    "rmt_idt0_ptr: .word 0\n"
    "    .quad 0\n"
    "rmt_saved_gdt: .word 0\n"
    "    .quad 0\n"
    "rmt_saved_idt: .word 0\n"
    "    .quad 0\n"
    ".balign 8\n"
    "rmt_saved_rsp: .quad 0\n"
    "rmt_cr3:       .long 0\n"
    "rmt_cs_seen:   .word 0\n"
    "rmt_int_count: .word 0\n"
    "rmt_int_ip:    .word 0\n"
    "rmt_int_cs:    .word 0\n"
    "rmt_int_flags: .word 0\n"
    "rmt_far_cs:    .word 0\n"
    "rmt_wrap_byte: .byte 0\n"
    "rmt_a32_byte:  .byte 0\n"
    ".balign 4\n"
    "rmt_eax:       .long 0\n"
    "rmt_hma:       .long 0\n"
    "rmt_rounds:    .long 0\n"
    "rmt_end:\n"
    ".code64\n"
    ".popsection\n");

extern char rmt_start[], rmt_end[], rmt_go[], rmt_after_int[];
extern char rmt_cr3[], rmt_cs_seen[], rmt_int_count[], rmt_int_ip[], rmt_int_cs[], rmt_int_flags[];
extern char rmt_far_cs[], rmt_eax[], rmt_wrap_byte[], rmt_a32_byte[], rmt_hma[], rmt_rounds[];

/* The copy at TRAMP_BASE of a symbol of the blob. */
#define AT(sym, type) (*(volatile type *)(uintptr_t)(TRAMP_BASE + ((sym) - rmt_start)))

static void round_trip(int n)
{
    u64 size = (u64)(rmt_end - rmt_start);
    memcpy((void *)(uintptr_t)TRAMP_BASE, rmt_start, size);
    AT(rmt_cr3, u32) = (u32)read_cr3();
    u64 cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);

    __asm__ volatile("cli");
    void (*go)(void) = (void (*)(void))(uintptr_t)(TRAMP_BASE + (rmt_go - rmt_start));
    go();

    CHECK_EQ(AT(rmt_rounds, u32), 1, "came back to 64-bit mode once");
    CHECK_EQ(AT(rmt_cs_seen, u16), TRAMP_SEG, "real-mode CS");
    CHECK_EQ(AT(rmt_int_count, u16), 1, "INT 40h through the IVT");
    CHECK_EQ(AT(rmt_int_ip, u16), (u16)(rmt_after_int - rmt_start), "IP pushed by INT");
    CHECK_EQ(AT(rmt_int_cs, u16), TRAMP_SEG, "CS pushed by INT");
    CHECK_EQ(AT(rmt_int_flags, u16) & 0x200, 0, "IF in the handler");
    CHECK_EQ(AT(rmt_far_cs, u16), 0x0700, "CS after the far CALL to 0700:xxxx");
    CHECK_EQ(AT(rmt_eax, u32), 0x2468acf0, "66h: 12345678h + 12345678h");
    CHECK_EQ(AT(rmt_wrap_byte, u8), (u8)rmt_start[1], "[BX+2] with BX = FFFFh wraps to DS:0001");
    CHECK_EQ(AT(rmt_a32_byte, u8), (u8)rmt_start[2], "67h: [EDI] with EDI = 2");
    CHECK_EQ(AT(rmt_hma, u32), *(volatile u32 *)(uintptr_t)0x100000, "FFFF:0010 = linear 100000h");
    CHECK_EQ(read_cr0(), cr0, "CR0 after the round trip");
    CHECK_EQ(read_cr4(), cr4, "CR4 after the round trip");
    CHECK_EQ(rdmsr(MSR_EFER), efer, "EFER (LMA back on)");
    CHECK_EQ(read_cs(), SEL_KCODE, "CS");
    printf("round %d: real mode at %04x:0000 and back to 64-bit mode\n", n, TRAMP_SEG);
}

void test_main(void)
{
    CHECK((u64)(rmt_end - rmt_start) < 0x1000, "trampoline fits in a page");
    round_trip(1);
    round_trip(2);
    /* The runtime still works: an exception through its IDT. */
    CHECK(TRY(__asm__ volatile("ud2")) == 1, "#UD caught after the round trips");
    CHECK_EQ(rt_last_trap.vector, VEC_UD, "vector");
}
