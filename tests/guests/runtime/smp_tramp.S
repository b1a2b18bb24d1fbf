/* The AP start-up trampoline (SDM Vol. 3A 9.4.4.1 / 10.9): copied by smp.c to
 * SMP_TRAMPOLINE (0x8000) and entered by SIPI vector 0x08 in real mode at
 * CS:IP = 0800:0000.  Real mode -> 32-bit protected mode -> long mode with the
 * BSP's CR3/CR4/EFER/CR0, then a jump to the 64-bit entry with the stack and
 * argument smp.c left in the data block at the end.  Position-dependent: every
 * absolute address is TRAMP + (label - smp_tramp_start). */

#define TRAMP 0x8000
#define OFF(x) ((x) - smp_tramp_start)

        .section .rodata
        .globl smp_tramp_start, smp_tramp_end, smp_tramp_data
        .globl tr_cr3, tr_cr4, tr_efer, tr_cr0, tr_stack, tr_entry, tr_arg
        .code16
smp_tramp_start:
        cli
        cld
        mov     %cs, %ax
        mov     %ax, %ds
        lgdtl   OFF(tr_gdtptr)
        mov     %cr0, %eax
        or      $1, %eax
        mov     %eax, %cr0
        ljmpl   $0x08, $(TRAMP + OFF(tr_pm32))

        .code32
tr_pm32:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     TRAMP + OFF(tr_cr4), %eax
        mov     %eax, %cr4
        mov     TRAMP + OFF(tr_cr3), %eax
        mov     %eax, %cr3
        mov     $0xC0000080, %ecx
        mov     TRAMP + OFF(tr_efer), %eax
        xor     %edx, %edx
        wrmsr
        mov     TRAMP + OFF(tr_cr0), %eax
        mov     %eax, %cr0
        ljmp    $0x18, $(TRAMP + OFF(tr_lm64))

        .code64
tr_lm64:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     TRAMP + OFF(tr_stack), %rsp
        mov     TRAMP + OFF(tr_arg), %rdi
        mov     TRAMP + OFF(tr_entry), %rax
        xor     %ebp, %ebp
        call    *%rax
1:      hlt
        jmp     1b

        .align 16
smp_tramp_data:
tr_gdt: .quad 0
        .quad 0x00CF9A000000FFFF        /* 0x08 code, 32-bit */
        .quad 0x00CF92000000FFFF        /* 0x10 data */
        .quad 0x00AF9A000000FFFF        /* 0x18 code, 64-bit */
tr_gdtptr:
        .word 31
        .long TRAMP + OFF(tr_gdt)
        .align 8
tr_cr3:   .quad 0
tr_cr4:   .quad 0
tr_efer:  .quad 0
tr_cr0:   .quad 0
tr_stack: .quad 0
tr_entry: .quad 0
tr_arg:   .quad 0
smp_tramp_end:
