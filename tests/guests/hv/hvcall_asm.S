/* hv_call_regs: one hypercall through the hypercall page with a full register
 * image (see struct hv_regs in hvcall.h).  In assembly because the guests are
 * compiled with -mgeneral-regs-only and the XMM-fast convention (HV-SPEC B-1.6)
 * needs XMM0-XMM5 loaded right before the CALL.
 *
 *   u64 hv_call_regs(struct hv_regs *r, int load_xmm)
 * struct hv_regs offsets: rax 0, rcx 8, rdx 16, r8 24, rbx 32, rsi 40, rdi 48,
 * r9 56, r10 64, r11 72, r12 80, xmm[12] 88..183. */
#define SENT(i) (0x5e5e000000000000 | ((i) << 8) | 0xa5)

        .text
        .globl hv_call_regs
hv_call_regs:
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rdi, %r13               /* the image */
        mov     %esi, %r14d              /* load_xmm */
        test    %r14d, %r14d
        jz      1f
        movdqu  88(%r13), %xmm0
        movdqu  104(%r13), %xmm1
        movdqu  120(%r13), %xmm2
        movdqu  136(%r13), %xmm3
        movdqu  152(%r13), %xmm4
        movdqu  168(%r13), %xmm5
1:      mov     8(%r13), %rcx
        mov     16(%r13), %rdx
        mov     24(%r13), %r8
        movabs  $SENT(1), %rbx
        movabs  $SENT(2), %rsi
        movabs  $SENT(3), %rdi
        movabs  $SENT(4), %r9
        movabs  $SENT(5), %r10
        movabs  $SENT(6), %r11
        movabs  $SENT(7), %r12
        mov     hv_hypercall_pg(%rip), %rax
        call    *%rax
        mov     %rax, 0(%r13)
        mov     %rcx, 8(%r13)
        mov     %rdx, 16(%r13)
        mov     %r8, 24(%r13)
        mov     %rbx, 32(%r13)
        mov     %rsi, 40(%r13)
        mov     %rdi, 48(%r13)
        mov     %r9, 56(%r13)
        mov     %r10, 64(%r13)
        mov     %r11, 72(%r13)
        mov     %r12, 80(%r13)
        test    %r14d, %r14d
        jz      2f
        movdqu  %xmm0, 88(%r13)
        movdqu  %xmm1, 104(%r13)
        movdqu  %xmm2, 120(%r13)
        movdqu  %xmm3, 136(%r13)
        movdqu  %xmm4, 152(%r13)
        movdqu  %xmm5, 168(%r13)
2:      pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
        ret

/* int hv_sse_probe(void): one SSE register move (MOVDQU xmm0 <- xmm0 via memory);
 * the caller wraps it in TRY to see whether SSE exists. */
        .globl hv_sse_probe
hv_sse_probe:
        sub     $24, %rsp
        movq    $0x1234, (%rsp)
        movq    $0, 8(%rsp)
        movdqu  (%rsp), %xmm0
        movq    $0, (%rsp)
        movdqu  %xmm0, (%rsp)
        mov     (%rsp), %rax
        add     $24, %rsp
        ret
