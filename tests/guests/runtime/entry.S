/* Multiboot v1 entry of the guest kernels: 32-bit protected mode, paging off
 * (EAX = 0x2BADB002, EBX = multiboot info), as QEMU's -kernel and hvemu enter.
 * Builds identity page tables for the low 4 GiB with 2 MiB pages, enables PAE,
 * EFER.LME and paging, and far-jumps to 64-bit code, which calls rt_main().
 * Also: the 256 IDT stubs, the common trap path, SYSCALL entry, catch/resume. */

#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003          /* page-align modules, want memory info */

#define KCODE 0x08
#define KDATA 0x10

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .section .text.entry, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        mov     %eax, %edi               /* keep magic and info across the bss clear */
        mov     %ebx, %esi
        mov     $__bss_start, %ebx
1:      cmp     $__bss_end, %ebx
        jae     2f
        movl    $0, (%ebx)
        add     $4, %ebx
        jmp     1b
2:      mov     %edi, rt_mb_magic
        mov     %esi, rt_mb_info
        mov     $boot_stack_top, %esp

        /* PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; PDk[i] = 2 MiB page.
         * Upper levels carry U/S=1 so that leaves alone decide user access. */
        mov     $boot_pdpt, %eax
        or      $0x7, %eax
        mov     %eax, boot_pml4
        xor     %ecx, %ecx
3:      mov     %ecx, %eax
        shl     $12, %eax
        add     $boot_pd, %eax
        or      $0x7, %eax
        mov     %eax, boot_pdpt(,%ecx,8)
        inc     %ecx
        cmp     $4, %ecx
        jb      3b
        xor     %ecx, %ecx               /* 2048 PDEs, entry i maps i << 21 */
4:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax              /* P | RW | PS */
        mov     %eax, boot_pd(,%ecx,8)
        mov     %ecx, %eax
        shr     $11, %eax
        mov     %eax, boot_pd+4(,%ecx,8)
        inc     %ecx
        cmp     $2048, %ecx
        jb      4b

        mov     $boot_pml4, %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax              /* PAE */
        mov     %eax, %cr4
        mov     $0xC0000080, %ecx        /* EFER.LME */
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80010001, %eax        /* PG | WP | PE */
        mov     %eax, %cr0
        lgdt    rt_gdt_ptr
        ljmp    $KCODE, $long_entry

        .code64
long_entry:
        mov     $KDATA, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        xor     %eax, %eax
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $boot_stack_top, %rsp
        xor     %ebp, %ebp
        call    rt_main
5:      hlt
        jmp     5b

/* ---- IDT stubs: 16 bytes each, rt_isr_stubs + 16 * vector ---- */
        .text
        .align 16
        .globl rt_isr_stubs
rt_isr_stubs:
        .set vec, 0
        .rept 256
        .align 16
        .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        .else
        pushq   $0
        .endif
        pushq   $vec
        jmp     isr_common
        .set vec, vec + 1
        .endr

/* Frame layout = struct trap_frame in rt.h: r15 ... rax, vector, error, then the
 * CPU's RIP, CS, RFLAGS, RSP, SS. */
isr_common:
        push    %rax
        push    %rbx
        push    %rcx
        push    %rdx
        push    %rsi
        push    %rdi
        push    %rbp
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        cld
        mov     %rsp, %rdi
        call    rt_trap_dispatch
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rbp
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %rcx
        pop     %rbx
        pop     %rax
        add     $16, %rsp
        iretq

/* ---- catch/resume: int rt_catch_enter(struct catch_ctx *) ----
 * Saves callee-saved registers, RSP and the return RIP, arms the catch and
 * returns 0. A trap taken while armed resumes here with RAX = 1. */
        .globl rt_catch_enter
rt_catch_enter:
        mov     %rbx, 0(%rdi)
        mov     %rbp, 8(%rdi)
        mov     %r12, 16(%rdi)
        mov     %r13, 24(%rdi)
        mov     %r14, 32(%rdi)
        mov     %r15, 40(%rdi)
        lea     8(%rsp), %rax
        mov     %rax, 48(%rdi)
        mov     (%rsp), %rax
        mov     %rax, 56(%rdi)
        mov     %rdi, rt_current_catch(%rip)
        xor     %eax, %eax
        ret

/* void rt_catch_jump(struct catch_ctx *, long value): longjmp at CPL 0. */
        .globl rt_catch_jump
rt_catch_jump:
        mov     0(%rdi), %rbx
        mov     8(%rdi), %rbp
        mov     16(%rdi), %r12
        mov     24(%rdi), %r13
        mov     32(%rdi), %r14
        mov     40(%rdi), %r15
        mov     48(%rdi), %rsp
        mov     %rsi, %rax
        jmp     *56(%rdi)

/* ---- SYSCALL entry (LSTAR). RCX = user RIP, R11 = user RFLAGS. ----
 * Switches to the syscall stack, calls
 *   long rt_syscall_dispatch(struct syscall_frame *)
 * and returns to CPL 3 with SYSRETQ; RAX = the result. */
        .globl rt_syscall_entry
rt_syscall_entry:
        mov     %rsp, rt_syscall_user_rsp(%rip)
        mov     rt_syscall_stack_top(%rip), %rsp
        pushq   rt_syscall_user_rsp(%rip)
        push    %r11
        push    %rcx
        push    %r9
        push    %r8
        push    %r10
        push    %rdx
        push    %rsi
        push    %rdi
        push    %rax
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, %rdi
        call    rt_syscall_dispatch
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
        add     $8, %rsp                 /* rax: replaced by the result */
        pop     %rdi
        pop     %rsi
        pop     %rdx
        pop     %r10
        pop     %r8
        pop     %r9
        pop     %rcx
        pop     %r11
        pop     %rsp
        sysretq

/* void rt_enter_user_iret(u64 rip, u64 rsp, u64 a0, u64 a1): IRETQ to CPL 3
 * at rip with RSP = rsp, RDI = a0, RSI = a1, RFLAGS = 0x2 (IF stays 0). */
        .globl rt_enter_user_iret
rt_enter_user_iret:
        pushq   $0x23                    /* SS = user data | 3 */
        push    %rsi
        pushq   $0x2
        pushq   $0x2B                    /* CS = user code64 | 3 */
        push    %rdi
        mov     %rdx, %rdi
        mov     %rcx, %rsi
        iretq

/* void rt_enter_user_sysret(u64 rip, u64 rsp, u64 a0, u64 a1): SYSRETQ to CPL 3. */
        .globl rt_enter_user_sysret
rt_enter_user_sysret:
        mov     %rsi, %rsp
        mov     %rdi, %rax
        mov     %rdx, %rdi
        mov     %rcx, %rsi
        mov     %rax, %rcx
        mov     $0x2, %r11d
        sysretq

/* int rt_setjmp(struct catch_ctx *): like rt_catch_enter, without arming. */
        .globl rt_setjmp
rt_setjmp:
        mov     %rbx, 0(%rdi)
        mov     %rbp, 8(%rdi)
        mov     %r12, 16(%rdi)
        mov     %r13, 24(%rdi)
        mov     %r14, 32(%rdi)
        mov     %r15, 40(%rdi)
        lea     8(%rsp), %rax
        mov     %rax, 48(%rdi)
        mov     (%rsp), %rax
        mov     %rax, 56(%rdi)
        xor     %eax, %eax
        ret

/* CPL 3 side of rt_user_call: calls fn(arg) and leaves with SYSCALL 0 (exit). */
        .section .user.text, "ax"
        .globl rt_user_trampoline
rt_user_trampoline:
        mov     %rdi, %rax
        mov     %rsi, %rdi
        call    *%rax
        mov     %rax, %rdi
        xor     %eax, %eax
        syscall
        ud2

/* Boot stack and boot page tables (in .bss, cleared above). */
        .section .bss
        .align 4096
        .globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4096 * 4
            .skip 65536
boot_stack_top:
