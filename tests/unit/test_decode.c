/* Decoder, block cache and run-loop tests.  Expected lengths and fields are worked
 * out by hand from the SDM encoding rules (Vol. 2 ch. 2 and Appendix A), not taken
 * from the decoder. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/block.h"
#include "cpu/decode.h"
#include "cpu/exception.h"
#include "tests/support/test_machine.h"

#define M64 MODE_LONG64
#define M32 MODE_PROT32
#define M16 MODE_PROT16

struct lcase {
    enum cpu_mode mode;
    int len;
    insn_handler fn;
    uint8_t n;
    uint8_t b[16];
};

#define C(m, l, h, ...) { m, l, h, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ } }

static const struct lcase cases[] = {
    /* plain ALU forms */
    C(M64, 2, h_add, 0x00, 0xc8),                               /* add al, cl */
    C(M64, 3, h_add, 0x48, 0x01, 0xd8),                         /* add rax, rbx */
    C(M64, 2, h_add, 0x04, 0x7f),                               /* add al, 0x7f */
    C(M64, 5, h_add, 0x05, 1, 2, 3, 4),                         /* add eax, imm32 */
    C(M64, 4, h_add, 0x66, 0x05, 1, 2),                         /* add ax, imm16 */
    C(M64, 6, h_add, 0x48, 0x05, 1, 2, 3, 4),                   /* add rax, simm32 */
    C(M64, 4, h_sub, 0x48, 0x83, 0xe8, 0x08),                   /* sub rax, 8 */
    C(M64, 7, h_cmp, 0x81, 0x7d, 0xf8, 1, 2, 3, 4),             /* cmp dword [rbp-8], imm32 */
    C(M64, 3, h_xor, 0x31, 0x04, 0x24),                         /* xor [rsp], eax (SIB) */
    C(M64, 7, h_mov, 0x8b, 0x04, 0x25, 0, 0x10, 0, 0),          /* mov eax, [0x1000] (SIB no base) */
    C(M64, 6, h_mov, 0x8b, 0x05, 1, 2, 3, 4),                   /* mov eax, [rip+disp32] */
    C(M64, 7, h_mov, 0x8b, 0x84, 0x88, 1, 2, 3, 4),             /* mov eax, [rax+rcx*4+disp32] */
    C(M64, 3, h_mov, 0x8b, 0x45, 0x08),                         /* mov eax, [rbp+8] */
    C(M64, 4, h_mov, 0x41, 0x8b, 0x45, 0x00),                   /* mov eax, [r13+0] */
    C(M64, 4, h_mov, 0x42, 0x8b, 0x04, 0x20),                   /* mov eax, [rax+r12] */
    C(M64, 10, h_mov, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8),      /* mov rax, imm64 */
    C(M64, 5, h_mov, 0xb8, 1, 2, 3, 4),                         /* mov eax, imm32 */
    C(M64, 7, h_mov, 0x48, 0xc7, 0xc0, 1, 2, 3, 4),             /* mov rax, simm32 */
    C(M64, 9, h_mov, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8),             /* mov eax, moffs64 */
    C(M64, 6, h_mov, 0x67, 0xa1, 1, 2, 3, 4),                   /* mov eax, moffs32 (67) */
    C(M32, 5, h_mov, 0xa1, 1, 2, 3, 4),                         /* mov eax, moffs32 */
    C(M16, 3, h_mov, 0xa1, 1, 2),                               /* mov ax, moffs16 */
    C(M64, 2, h_mov_sreg, 0x8c, 0xd8),                          /* mov eax, ds */
    C(M64, 2, h_mov_sreg, 0x8e, 0xd8),                          /* mov ds, ax */
    C(M64, 2, h_ud, 0x8e, 0xc8),                                /* mov cs, ax: #UD */
    C(M64, 2, h_ud, 0x8e, 0xf0),                                /* mov sreg6: #UD */
    C(M64, 4, h_lea, 0x48, 0x8d, 0x04, 0x08),                   /* lea rax, [rax+rcx] */
    C(M64, 2, h_ud, 0x8d, 0xc0),                                /* lea with a register: #UD */
    C(M64, 4, h_movzx, 0x0f, 0xb6, 0x04, 0x24),
    C(M64, 4, h_movsx, 0x48, 0x0f, 0xbf, 0xc1),
    C(M64, 3, h_movsxd, 0x48, 0x63, 0xc1),
    C(M32, 2, h_arpl, 0x63, 0xc1),                              /* arpl cx, ax */
    C(M64, 3, h_imul3, 0x6b, 0xc0, 0x05),
    C(M64, 6, h_imul3, 0x69, 0xc0, 1, 2, 3, 4),
    C(M64, 3, h_imul2, 0x0f, 0xaf, 0xc1),
    C(M64, 2, h_imul1, 0xf7, 0xe9),
    C(M64, 2, h_div, 0xf7, 0xf1),
    C(M64, 6, h_test, 0xf7, 0xc0, 1, 2, 3, 4),                  /* test eax, imm32 (F7 /0 has Iz) */
    C(M64, 3, h_test, 0xf6, 0xc0, 0x01),                        /* test al, imm8 */
    C(M64, 2, h_not, 0xf7, 0xd0),
    C(M64, 3, h_shl, 0xc1, 0xe0, 0x04),
    C(M64, 2, h_sar, 0xd3, 0xf8),
    C(M64, 2, h_rcl, 0xd0, 0xd0),
    C(M64, 4, h_shld, 0x0f, 0xa4, 0xc1, 3),
    C(M64, 3, h_shrd, 0x0f, 0xad, 0xc1),
    C(M64, 4, h_bt, 0x0f, 0xba, 0xe0, 5),                       /* bt eax, 5 */
    C(M64, 3, h_ud, 0x0f, 0xba, 0xc0),                          /* 0F BA /0: undefined (length: up to the ModRM) */
    C(M64, 3, h_bsf, 0x0f, 0xbc, 0xc1),
    C(M64, 4, h_tzcnt, 0xf3, 0x0f, 0xbc, 0xc1),
    C(M64, 4, h_lzcnt, 0xf3, 0x0f, 0xbd, 0xc1),
    C(M64, 4, h_popcnt, 0xf3, 0x0f, 0xb8, 0xc1),
    C(M64, 3, h_ud, 0x0f, 0xb8, 0xc1),                          /* JMPE */
    C(M64, 3, h_bswap, 0x41, 0x0f, 0xc8),
    C(M64, 3, h_setcc, 0x0f, 0x94, 0xc0),
    C(M64, 3, h_cmovcc, 0x0f, 0x4c, 0xc1),
    C(M64, 3, h_xadd, 0x0f, 0xc1, 0x01),
    C(M64, 4, h_xadd, 0xf0, 0x0f, 0xc1, 0x01),                  /* lock xadd [rcx], eax */
    C(M64, 3, h_cmpxchg, 0x0f, 0xb1, 0x0a),
    C(M64, 3, h_cmpxchg8b, 0x0f, 0xc7, 0x0f),
    C(M64, 4, h_cmpxchg8b, 0x48, 0x0f, 0xc7, 0x0f),             /* cmpxchg16b */
    C(M64, 3, h_ud, 0x0f, 0xc7, 0xcf),                          /* register form: #UD */
    /* stack, branches */
    C(M64, 1, h_push, 0x55),
    C(M64, 2, h_push, 0x41, 0x57),                              /* push r15 */
    C(M64, 5, h_push, 0x68, 1, 2, 3, 4),
    C(M64, 2, h_push, 0x6a, 0xff),
    C(M64, 2, h_pop, 0x8f, 0xc0),
    C(M64, 2, h_push, 0xff, 0x30),
    C(M64, 4, h_enter, 0xc8, 0x10, 0x00, 0x01),
    C(M64, 1, h_leave, 0xc9),
    C(M64, 2, h_jcc, 0x74, 0xfe),
    C(M64, 6, h_jcc, 0x0f, 0x85, 1, 2, 3, 4),
    C(M32, 6, h_jcc, 0x0f, 0x85, 1, 2, 3, 4),
    C(M32, 5, h_jcc, 0x66, 0x0f, 0x85, 1, 2),                   /* rel16 outside 64-bit mode */
    C(M16, 4, h_jcc, 0x0f, 0x85, 1, 2),
    C(M64, 5, h_call, 0xe8, 1, 2, 3, 4),
    C(M16, 3, h_call, 0xe8, 1, 2),
    C(M64, 5, h_jmp, 0xe9, 1, 2, 3, 4),
    C(M64, 2, h_jmp, 0xeb, 0x00),
    C(M64, 2, h_jmp, 0xff, 0xe0),
    C(M64, 2, h_call, 0xff, 0xd0),
    C(M64, 2, h_callf, 0xff, 0x18),
    C(M64, 2, h_ud, 0xff, 0xd8),                                /* callf with a register: #UD */
    C(M64, 2, h_jmpf, 0xff, 0x28),
    C(M64, 1, h_ret, 0xc3),
    C(M64, 3, h_ret, 0xc2, 0x08, 0x00),
    C(M64, 2, h_retf, 0x48, 0xcb),
    C(M32, 7, h_jmpf, 0xea, 1, 2, 3, 4, 0x08, 0x00),
    C(M16, 5, h_jmpf, 0xea, 1, 2, 0x08, 0x00),
    C(M32, 7, h_callf, 0x9a, 1, 2, 3, 4, 0x08, 0x00),
    C(M64, 2, h_loop, 0xe2, 0xfe),
    C(M64, 2, h_jrcxz, 0xe3, 0xfe),
    C(M64, 1, h_iret, 0xcf),
    C(M64, 2, h_iret, 0x48, 0xcf),
    C(M64, 2, h_int, 0xcd, 0x80),
    C(M64, 1, h_int3, 0xcc),
    C(M64, 1, h_int1, 0xf1),
    /* strings, flags, misc one-byte */
    C(M64, 2, h_movs, 0xf3, 0xa4),
    C(M64, 3, h_stos, 0xf3, 0x48, 0xab),
    C(M64, 2, h_scas, 0xf2, 0xae),
    C(M64, 1, h_ins, 0x6c),
    C(M64, 1, h_outs, 0x6f),
    C(M64, 1, h_nop, 0x90),
    C(M64, 2, h_pause, 0xf3, 0x90),
    C(M64, 2, h_xchg, 0x41, 0x90),                              /* xchg r8d, eax */
    C(M64, 1, h_xchg, 0x93),
    C(M64, 1, h_cbw, 0x98),
    C(M64, 1, h_cwd, 0x99),
    C(M64, 1, h_pushf, 0x9c),
    C(M64, 1, h_popf, 0x9d),
    C(M64, 1, h_sahf, 0x9e),
    C(M64, 1, h_lahf, 0x9f),
    C(M64, 1, h_xlat, 0xd7),
    C(M64, 1, h_hlt, 0xf4),
    C(M64, 1, h_cli, 0xfa),
    C(M64, 1, h_sti, 0xfb),
    C(M64, 1, h_cld, 0xfc),
    C(M64, 1, h_std, 0xfd),
    C(M64, 1, h_cmc, 0xf5),
    C(M64, 2, h_in, 0xe4, 0x60),
    C(M64, 1, h_in, 0xed),
    C(M64, 2, h_out, 0xe6, 0x80),
    C(M64, 1, h_out, 0xee),
    C(M64, 2, h_inc, 0xfe, 0xc0),
    C(M64, 2, h_dec, 0xff, 0xc8),
    C(M64, 2, h_ud, 0xfe, 0xd0),                                /* FE /2: undefined */
    C(M64, 3, h_shl, 0xc0, 0xf0, 0x01),                         /* group 2 /6 executes as SHL */
    /* 32/16-bit only forms and their #UD in 64-bit mode */
    C(M32, 1, h_inc, 0x40),
    C(M32, 1, h_dec, 0x4f),
    C(M16, 1, h_push_sreg, 0x06),
    C(M32, 1, h_pop_sreg, 0x1f),
    C(M32, 1, h_push_sreg, 0x0e),
    C(M32, 1, h_into, 0xce),
    C(M64, 1, h_ud, 0x06), C(M64, 1, h_ud, 0x07), C(M64, 1, h_ud, 0x0e), C(M64, 1, h_ud, 0x16),
    C(M64, 1, h_ud, 0x17), C(M64, 1, h_ud, 0x1e), C(M64, 1, h_ud, 0x1f), C(M64, 1, h_ud, 0x27),
    C(M64, 1, h_ud, 0x2f), C(M64, 1, h_ud, 0x37), C(M64, 1, h_ud, 0x3f), C(M64, 1, h_ud, 0x60),
    C(M64, 1, h_ud, 0x61), C(M64, 1, h_ud, 0xce), C(M64, 1, h_ud, 0xd6),
    C(M64, 3, h_ud, 0x82, 0xc0, 0x01), C(M64, 7, h_ud, 0x9a, 1, 2, 3, 4, 5, 6),
    C(M64, 7, h_ud, 0xea, 1, 2, 3, 4, 5, 6), C(M64, 2, h_ud, 0xd4, 0x0a), C(M64, 2, h_ud, 0xd5, 0x0a),
    C(M32, 3, h_add, 0x82, 0xc0, 0x01),
    /* system */
    C(M64, 3, h_mov_cr, 0x0f, 0x20, 0xd8),                      /* mov rax, cr3 */
    C(M64, 3, h_mov_cr, 0x0f, 0x22, 0x18),                      /* mod ignored: mov cr3, rax */
    C(M64, 4, h_mov_cr, 0x44, 0x0f, 0x22, 0xc0),                /* mov cr8, rax */
    C(M64, 3, h_mov_dr, 0x0f, 0x23, 0xf8),
    C(M64, 3, h_lgdt, 0x0f, 0x01, 0x10),
    C(M64, 3, h_sidt, 0x0f, 0x01, 0x08),
    C(M64, 3, h_invlpg, 0x0f, 0x01, 0x38),
    C(M64, 3, h_vmcall, 0x0f, 0x01, 0xc1),
    C(M64, 3, h_vmcall, 0x0f, 0x01, 0xd9),
    C(M64, 3, h_swapgs, 0x0f, 0x01, 0xf8),
    C(M32, 3, h_ud, 0x0f, 0x01, 0xf8),                          /* swapgs outside 64-bit */
    C(M64, 3, h_rdtscp, 0x0f, 0x01, 0xf9),
    C(M64, 3, h_clac, 0x0f, 0x01, 0xca),
    C(M64, 3, h_stac, 0x0f, 0x01, 0xcb),
    C(M64, 3, h_smsw, 0x0f, 0x01, 0xe0),
    C(M64, 3, h_lmsw, 0x0f, 0x01, 0xf0),
    C(M64, 3, h_ud, 0x0f, 0x01, 0xc8),                          /* monitor */
    C(M64, 3, h_xgetbv, 0x0f, 0x01, 0xd0),
    C(M64, 3, h_lldt, 0x0f, 0x00, 0xd0),
    C(M64, 3, h_ltr, 0x0f, 0x00, 0xd8),
    C(M64, 3, h_str, 0x0f, 0x00, 0xc8),
    C(M64, 3, h_verr, 0x0f, 0x00, 0xe0),
    C(M64, 3, h_lar, 0x0f, 0x02, 0xc1),
    C(M64, 3, h_lsl, 0x0f, 0x03, 0xc1),
    C(M64, 2, h_syscall, 0x0f, 0x05),
    C(M64, 3, h_sysret, 0x48, 0x0f, 0x07),
    C(M64, 2, h_sysenter, 0x0f, 0x34),
    C(M64, 2, h_sysexit, 0x0f, 0x35),
    C(M64, 2, h_clts, 0x0f, 0x06),
    C(M64, 2, h_wbinvd, 0x0f, 0x09),
    C(M64, 2, h_wrmsr, 0x0f, 0x30),
    C(M64, 2, h_rdtsc, 0x0f, 0x31),
    C(M64, 2, h_rdmsr, 0x0f, 0x32),
    C(M64, 2, h_rdpmc, 0x0f, 0x33),
    C(M64, 2, h_cpuid, 0x0f, 0xa2),
    C(M64, 2, h_push_sreg, 0x0f, 0xa0),
    C(M64, 2, h_pop_sreg, 0x0f, 0xa9),
    C(M64, 3, h_fence, 0x0f, 0xae, 0xe8),
    C(M64, 3, h_fence, 0x0f, 0xae, 0xf0),
    C(M64, 3, h_fence, 0x0f, 0xae, 0xf8),
    C(M64, 3, h_clflush, 0x0f, 0xae, 0x38),
    C(M64, 3, h_fxsave, 0x0f, 0xae, 0x00),
    C(M64, 3, h_ud, 0x0f, 0xae, 0xc0),                          /* RDFSBASE needs F3 */
    C(M64, 4, h_rdfsbase, 0xf3, 0x0f, 0xae, 0xc0),
    C(M32, 4, h_ud, 0xf3, 0x0f, 0xae, 0xc0),                    /* RDFSBASE: 64-bit mode only */
    C(M64, 5, h_invpcid, 0x66, 0x0f, 0x38, 0x82, 0x01),
    C(M64, 4, h_ud, 0x0f, 0x38, 0x82, 0x01),                    /* needs 66 */
    C(M64, 2, h_ud, 0x0f, 0x0b),                                /* ud2 */
    C(M64, 3, h_nop, 0x0f, 0x1f, 0x00),
    C(M64, 8, h_nop, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0),
    C(M64, 9, h_nop, 0x66, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0),
    C(M64, 4, h_nop, 0xf3, 0x0f, 0x1e, 0xfa),                   /* endbr64 */
    C(M64, 3, h_mov, 0x0f, 0xc3, 0x01),                         /* movnti */
    /* things we decode only for their length */
    C(M64, 2, h_fpu, 0xd9, 0xc0),                               /* fld st(0) */
    C(M64, 2, h_ud, 0xd9, 0xe2),                                /* D9 E2: hole */
    C(M64, 3, h_fpu, 0xdd, 0x45, 0x08),                         /* fld qword [rbp+8] */
    C(M64, 2, h_fpu_st, 0xdd, 0x18),                            /* fstp qword [rax] */
    C(M64, 2, h_fnstsw, 0xdf, 0xe0),                            /* fnstsw ax */
    C(M64, 1, h_fwait, 0x9b),
    C(M64, 6, h_fpu, 0xdd, 0x05, 1, 2, 3, 4),                    /* fld qword [rip+disp32] */
    C(M64, 3, h_mova, 0x0f, 0x28, 0xc1),                        /* movaps */
    C(M64, 5, h_pshufd, 0x66, 0x0f, 0x70, 0xc1, 0x1b),          /* pshufd, Ib */
    C(M64, 4, h_ud, 0xc5, 0xf8, 0x28, 0xc1),                    /* vmovaps (VEX2) */
    C(M64, 6, h_ud, 0xc4, 0xe3, 0x79, 0x0f, 0xc1, 0x04),        /* vpalignr (VEX3 map 3, Ib) */
    C(M64, 3, h_ud, 0xc5, 0xf8, 0x77),                          /* vzeroupper */
    C(M32, 2, h_lfp, 0xc5, 0x00),                               /* lds eax, [eax] */
    /* LOCK rules */
    C(M64, 3, h_add, 0xf0, 0x01, 0x08),                         /* lock add [rax], ecx */
    C(M64, 3, h_ud, 0xf0, 0x01, 0xc8),                          /* register destination */
    C(M64, 3, h_ud, 0xf0, 0x39, 0x08),                          /* cmp is not lockable */
    C(M64, 3, h_ud, 0xf0, 0x8b, 0x08),                          /* mov is not lockable */
    C(M64, 4, h_ud, 0xf0, 0x80, 0x38, 0x01),                    /* lock cmp [rax], 1 */
    C(M64, 4, h_or, 0xf0, 0x80, 0x08, 0x01),
    C(M64, 3, h_xchg, 0xf0, 0x87, 0x08),                        /* lock xchg [rax], ecx */
    C(M64, 4, h_btc, 0xf0, 0x0f, 0xbb, 0x08),                   /* lock btc [rax], ecx */
    C(M64, 4, h_ud, 0xf0, 0x0f, 0xa3, 0x08),                    /* bt is not lockable */
    /* REX rules */
    C(M64, 3, h_mov, 0x48, 0x89, 0xc8),
    C(M64, 4, h_mov, 0x48, 0x66, 0x89, 0xc8),                   /* REX before 66 is ignored */
    C(M64, 4, h_mov, 0x66, 0x48, 0x89, 0xc8),
    C(M64, 3, h_mov, 0x40, 0x88, 0xe0),                         /* mov al, spl */
};

START_TEST(lengths_and_handlers)
{
    for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        const struct lcase *k = &cases[n];
        struct insn in;
        int r = decode_insn(&in, k->b, k->n, k->mode, NULL);
        ck_assert_msg(r == k->len, "case %zu (%02x %02x %02x): len %d, expected %d", n,
                      k->b[0], k->b[1], k->b[2], r, k->len);
        ck_assert_msg(in.fn == k->fn, "case %zu (%02x %02x %02x): handler %s", n, k->b[0], k->b[1],
                      k->b[2], insn_mnemonic(&in));
        ck_assert_uint_eq(in.len, (unsigned)k->len);
    }
}
END_TEST

/* Every shorter window of every case must ask for more bytes, never read beyond it. */
START_TEST(truncated_windows_need_more)
{
    for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        const struct lcase *k = &cases[n];
        for (unsigned avail = 0; avail < (unsigned)k->len; avail++) {
            /* Copy into an exactly-sized heap buffer so a read past it is caught by ASan/valgrind. */
            uint8_t *buf = malloc(avail ? avail : 1);
            memcpy(buf, k->b, avail);
            struct insn in;
            int r = decode_insn(&in, buf, avail, k->mode, NULL);
            free(buf);
            ck_assert_msg(r == DECODE_NEED_MORE, "case %zu avail %u: got %d", n, avail, r);
        }
    }
}
END_TEST

START_TEST(fifteen_byte_limit)
{
    uint8_t b[20];
    struct insn in;
    /* 14 prefixes + NOP = 15 bytes: legal. */
    memset(b, 0x66, sizeof b);
    b[14] = 0x90;
    ck_assert_int_eq(decode_insn(&in, b, sizeof b, M64, NULL), 15);
    /* 15 prefixes + NOP = 16 bytes: #GP(0). */
    b[14] = 0x66;
    b[15] = 0x90;
    ck_assert_int_eq(decode_insn(&in, b, sizeof b, M64, NULL), DECODE_TOO_LONG);
    ck_assert_ptr_eq(in.fn, decode_h_too_long);
    ck_assert_uint_eq(in.len, 15);
    /* Known too long before the window ends: 13 prefixes + mov rax, imm64 (10 bytes). */
    memset(b, 0x2e, 13);
    b[13] = 0x48;
    b[14] = 0xb8;
    ck_assert_int_eq(decode_insn(&in, b, 15, M64, NULL), DECODE_TOO_LONG);
    /* Endless prefixes with a short window: need more, not too long. */
    ck_assert_int_eq(decode_insn(&in, b, 5, M64, NULL), DECODE_NEED_MORE);
}
END_TEST

static struct insn dec(enum cpu_mode m, int want_len, const uint8_t *b, unsigned n)
{
    struct insn in;
    int r = decode_insn(&in, b, n, m, NULL);
    ck_assert_int_eq(r, want_len);
    return in;
}
#define DEC(m, len, ...) dec(m, len, (const uint8_t[]){ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }))

START_TEST(modrm_sib_fields)
{
    /* mov eax, [rax+rcx*4-0x70]: 8B 44 88 90 */
    struct insn i = DEC(M64, 4, 0x8b, 0x44, 0x88, 0x90);
    ck_assert_uint_eq(i.opnd[0], OPK_REG);
    ck_assert_uint_eq(i.opnd[1], OPK_RM);
    ck_assert_uint_eq(i.reg, RAX);
    ck_assert_uint_eq(i.mod, 1);
    ck_assert_uint_eq(i.base, RAX);
    ck_assert_uint_eq(i.index, RCX);
    ck_assert_uint_eq(i.scale, 2);
    ck_assert_int_eq(i.disp, -0x70);
    ck_assert_uint_eq(i.seg, SEG_DS);
    ck_assert_uint_eq(i.osize, 4);
    ck_assert_uint_eq(i.asize, 8);
    ck_assert(i.flags & IF_MEM);

    /* REX.RXB = 47: mov r8d, [r9+r10*1] -> 47 8B 04 11 */
    i = DEC(M64, 4, 0x47, 0x8b, 0x04, 0x11);
    ck_assert_uint_eq(i.reg, R8);
    ck_assert_uint_eq(i.base, R9);
    ck_assert_uint_eq(i.index, R10);
    ck_assert(i.pfx & PFX_REX);

    /* SIB index 100 without REX.X = no index; with REX.X = r12. */
    i = DEC(M64, 3, 0x8b, 0x04, 0x24);
    ck_assert_uint_eq(i.base, RSP);
    ck_assert_uint_eq(i.index, EA_NONE);
    ck_assert_uint_eq(i.seg, SEG_SS);                   /* rSP base defaults to SS */
    i = DEC(M64, 4, 0x42, 0x8b, 0x04, 0x24);
    ck_assert_uint_eq(i.index, R12);

    /* SIB base 101 with mod 00: disp32, no base. */
    i = DEC(M64, 7, 0x8b, 0x04, 0xcd, 0x00, 0x10, 0x00, 0x00);
    ck_assert_uint_eq(i.base, EA_NONE);
    ck_assert_uint_eq(i.index, RCX);
    ck_assert_uint_eq(i.scale, 3);
    ck_assert_int_eq(i.disp, 0x1000);

    /* RIP-relative in 64-bit mode, absolute disp32 in 32-bit mode. */
    i = DEC(M64, 6, 0x8b, 0x05, 0xfc, 0xff, 0xff, 0xff);
    ck_assert_uint_eq(i.base, EA_RIP);
    ck_assert_int_eq(i.disp, -4);
    i = DEC(M32, 6, 0x8b, 0x05, 0x00, 0x20, 0x00, 0x00);
    ck_assert_uint_eq(i.base, EA_NONE);
    ck_assert_int_eq(i.disp, 0x2000);
    ck_assert_uint_eq(i.asize, 4);

    /* rBP base defaults to SS; r13 (REX.B) does not. */
    i = DEC(M64, 3, 0x8b, 0x45, 0x08);
    ck_assert_uint_eq(i.base, RBP);
    ck_assert_uint_eq(i.seg, SEG_SS);
    i = DEC(M64, 4, 0x41, 0x8b, 0x45, 0x08);
    ck_assert_uint_eq(i.base, R13);
    ck_assert_uint_eq(i.seg, SEG_DS);

    /* Override: last one wins; in 64-bit mode DS/ES/CS/SS overrides keep their number. */
    i = DEC(M64, 5, 0x64, 0x65, 0x8b, 0x45, 0x08);
    ck_assert_uint_eq(i.seg, SEG_GS);
    ck_assert(i.pfx & PFX_SEGOVR);
    i = DEC(M64, 4, 0x26, 0x8b, 0x45, 0x08);
    ck_assert_uint_eq(i.seg, SEG_ES);

    /* 67 in 64-bit mode: 32-bit addressing. */
    i = DEC(M64, 4, 0x67, 0x8b, 0x04, 0x24);
    ck_assert_uint_eq(i.asize, 4);
    ck_assert(i.pfx & PFX_ADSIZE);
}
END_TEST

START_TEST(addressing_16bit)
{
    /* mov ax, [bp+si+5] : 8B 42 05 */
    struct insn i = DEC(M16, 3, 0x8b, 0x42, 0x05);
    ck_assert_uint_eq(i.base, RBP);
    ck_assert_uint_eq(i.index, RSI);
    ck_assert_uint_eq(i.seg, SEG_SS);
    ck_assert_int_eq(i.disp, 5);
    ck_assert_uint_eq(i.asize, 2);
    ck_assert_uint_eq(i.osize, 2);
    /* mov ax, [bx+di] */
    i = DEC(M16, 2, 0x8b, 0x01);
    ck_assert_uint_eq(i.base, RBX);
    ck_assert_uint_eq(i.index, RDI);
    ck_assert_uint_eq(i.seg, SEG_DS);
    /* mod 00 rm 110: disp16 absolute */
    i = DEC(M16, 4, 0x8b, 0x06, 0x34, 0x12);
    ck_assert_uint_eq(i.base, EA_NONE);
    ck_assert_uint_eq(i.index, EA_NONE);
    ck_assert_int_eq(i.disp, 0x1234);
    /* [bp+disp16]: SS; disp16 sign-extended */
    i = DEC(M16, 4, 0x8b, 0x86, 0xfe, 0xff);
    ck_assert_uint_eq(i.base, RBP);
    ck_assert_uint_eq(i.seg, SEG_SS);
    ck_assert_int_eq(i.disp, -2);
    /* 66 67 in 16-bit mode: 32-bit operand and address size, SIB available */
    i = DEC(M16, 5, 0x66, 0x67, 0x8b, 0x04, 0x24);
    ck_assert_uint_eq(i.osize, 4);
    ck_assert_uint_eq(i.asize, 4);
    ck_assert_uint_eq(i.base, RSP);
    /* real mode decodes like 16-bit protected mode */
    i = DEC(MODE_REAL, 3, 0x8b, 0x42, 0x05);
    ck_assert_uint_eq(i.base, RBP);
}
END_TEST

START_TEST(operand_sizes_and_immediates)
{
    struct insn i = DEC(M64, 4, 0x48, 0x83, 0xc0, 0xff);        /* add rax, -1 */
    ck_assert_uint_eq(i.osize, 8);
    ck_assert_uint_eq(i.imm, ~0ull);
    ck_assert_uint_eq(i.reg, 0);                               /* group /digit */
    i = DEC(M64, 4, 0x66, 0x83, 0xc0, 0x80);                   /* add ax, -128 */
    ck_assert_uint_eq(i.osize, 2);
    ck_assert_uint_eq(i.imm & 0xffff, 0xff80);
    i = DEC(M64, 3, 0x80, 0xc0, 0x80);                         /* add al, 0x80 */
    ck_assert_uint_eq(i.osize, 1);
    ck_assert(i.flags & IF_BYTEOP);
    ck_assert_uint_eq(i.imm & 0xff, 0x80);
    i = DEC(M64, 7, 0x48, 0x81, 0xc0, 0x00, 0x00, 0x00, 0x80); /* add rax, simm32 */
    ck_assert_uint_eq(i.imm, 0xffffffff80000000ull);
    i = DEC(M64, 10, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88);   /* mov rax, imm64 */
    ck_assert_uint_eq(i.imm, 0x8807060504030201ull);
    ck_assert_uint_eq(i.opnd[0], OPK_OPREG);
    ck_assert_uint_eq(i.rm, RAX);
    i = DEC(M64, 2, 0x41, 0x50);                               /* push r8 */
    ck_assert_uint_eq(i.rm, R8);
    ck_assert_uint_eq(i.osize, 8);                             /* default 64 */
    i = DEC(M64, 2, 0x66, 0x50);                               /* push ax */
    ck_assert_uint_eq(i.osize, 2);
    i = DEC(M32, 1, 0x50);
    ck_assert_uint_eq(i.osize, 4);
    i = DEC(M16, 1, 0x50);
    ck_assert_uint_eq(i.osize, 2);
    i = DEC(M16, 2, 0x66, 0x50);
    ck_assert_uint_eq(i.osize, 4);
    i = DEC(M64, 3, 0x66, 0x48, 0x50);                         /* REX.W beats 66 */
    ck_assert_uint_eq(i.osize, 8);
    i = DEC(M64, 2, 0x6a, 0xfe);                               /* push -2 */
    ck_assert_uint_eq(i.imm, (uint64_t)-2);
    i = DEC(M64, 2, 0x74, 0xfe);                               /* je $ */
    ck_assert_uint_eq(i.imm, (uint64_t)-2);
    ck_assert_uint_eq(i.opnd[0], OPK_REL);
    ck_assert_uint_eq(i.cond, 4);
    ck_assert_uint_eq(i.osize, 8);
    ck_assert(i.flags & IF_BRANCH);
    i = DEC(M64, 6, 0x0f, 0x8f, 0x00, 0xff, 0xff, 0xff);
    ck_assert_uint_eq(i.cond, 0xf);
    ck_assert_uint_eq(i.imm, 0xffffffffffffff00ull);
    i = DEC(M64, 3, 0x0f, 0x9c, 0xc0);                         /* setl al */
    ck_assert_uint_eq(i.cond, 0xc);
    i = DEC(M64, 4, 0xc8, 0x20, 0x00, 0x03);                   /* enter 0x20, 3 */
    ck_assert_uint_eq(i.imm, 0x20);
    ck_assert_uint_eq(i.imm2, 3);
    i = DEC(M32, 7, 0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00); /* jmp 0x8:0x12345678 */
    ck_assert_uint_eq(i.opnd[0], OPK_FARPTR);
    ck_assert_uint_eq(i.imm, 0x12345678);
    ck_assert_uint_eq(i.imm2, 8);
    i = DEC(M64, 9, 0xa0, 1, 2, 3, 4, 5, 6, 7, 8);             /* mov al, moffs64 */
    ck_assert_uint_eq(i.opnd[1], OPK_MOFFS);
    ck_assert_uint_eq(i.imm, 0x0807060504030201ull);
    ck_assert_uint_eq(i.osize, 1);
    i = DEC(M64, 2, 0xe5, 0x40);                               /* in eax, 0x40 */
    ck_assert_uint_eq(i.osize, 4);
    i = DEC(M64, 3, 0x48, 0xe5, 0x40);                         /* REX.W: still 32-bit */
    ck_assert_uint_eq(i.osize, 4);
    i = DEC(M64, 2, 0x0f, 0x06);                               /* clts has no operands */
    ck_assert_uint_eq(i.opnd[0], OPK_NONE);
    i = DEC(M64, 3, 0x0f, 0x20, 0xd8);                         /* mov rax, cr3 */
    ck_assert_uint_eq(i.opnd[0], OPK_RM);
    ck_assert_uint_eq(i.opnd[1], OPK_CREG);
    ck_assert_uint_eq(i.reg, 3);
    ck_assert_uint_eq(i.osize, 8);
    i = DEC(M32, 4, 0x66, 0x0f, 0x20, 0xd8);                   /* 66 ignored for CR moves */
    ck_assert_uint_eq(i.osize, 4);
    i = DEC(M64, 1, 0x9f);                                     /* lahf */
    ck_assert_ptr_eq(i.fn, h_lahf);
    i = DEC(M64, 1, 0x1f);                                     /* pop ds: #UD in 64-bit */
    ck_assert_ptr_eq(i.fn, h_ud);
    i = DEC(M32, 1, 0x1f);
    ck_assert_uint_eq(i.opnd[0], OPK_SREG);
    ck_assert_uint_eq(i.reg, SEG_DS);
    i = DEC(M64, 2, 0x0f, 0xa8);                               /* push gs */
    ck_assert_uint_eq(i.reg, SEG_GS);
    ck_assert_uint_eq(i.osize, 8);
    i = DEC(M64, 2, 0x8e, 0xd0);                               /* mov ss, ax */
    ck_assert_uint_eq(i.reg, SEG_SS);
    ck_assert(i.flags & IF_ENDS_BLOCK);
}
END_TEST

START_TEST(prefix_rules)
{
    /* REX counts only right before the opcode: 48 66 89 C8 is mov ax, cx. */
    struct insn i = DEC(M64, 4, 0x48, 0x66, 0x89, 0xc8);
    ck_assert_uint_eq(i.osize, 2);
    ck_assert(!(i.pfx & PFX_REX));
    i = DEC(M64, 4, 0x66, 0x48, 0x89, 0xc8);
    ck_assert_uint_eq(i.osize, 8);
    /* two REX: the last one counts (41 = B only). */
    i = DEC(M64, 3, 0x48, 0x41, 0x58);                         /* pop r8 */
    ck_assert_uint_eq(i.rm, R8);
    /* spl vs ah: REX present selects the low byte of rsp */
    i = DEC(M64, 3, 0x40, 0x88, 0xe0);
    ck_assert(i.pfx & PFX_REX);
    ck_assert_uint_eq(i.reg, RSP);                             /* ModRM.reg = 100: SPL with REX */
    ck_assert_uint_eq(i.rm, RAX);
    i = DEC(M64, 2, 0x88, 0xe0);
    ck_assert(!(i.pfx & PFX_REX));
    /* F2 then F3: the last wins */
    i = DEC(M64, 3, 0xf2, 0xf3, 0xa4);
    ck_assert(i.pfx & PFX_REP);
    ck_assert(!(i.pfx & PFX_REPNE));
    i = DEC(M64, 3, 0xf3, 0xf2, 0xa6);
    ck_assert(i.pfx & PFX_REPNE);
    /* 40-4F are INC/DEC outside 64-bit mode */
    i = DEC(M32, 1, 0x41);
    ck_assert_ptr_eq(i.fn, h_inc);
    ck_assert_uint_eq(i.rm, RCX);
    /* LOCK flags */
    i = DEC(M64, 3, 0xf0, 0x01, 0x08);
    ck_assert(i.pfx & PFX_LOCK);
    ck_assert_ptr_eq(i.fn, h_add);
    /* string op with segment override */
    i = DEC(M64, 2, 0x64, 0xac);
    ck_assert_uint_eq(i.seg, SEG_FS);
    ck_assert_uint_eq(i.osize, 1);
}
END_TEST

START_TEST(mnemonics)
{
    struct insn i = DEC(M64, 2, 0x75, 0x00);
    ck_assert_str_eq(insn_mnemonic(&i), "jne");
    i = DEC(M64, 3, 0x0f, 0x96, 0xc0);
    ck_assert_str_eq(insn_mnemonic(&i), "setbe");
    i = DEC(M64, 3, 0x0f, 0x4f, 0xc0);
    ck_assert_str_eq(insn_mnemonic(&i), "cmovg");
    i = DEC(M64, 2, 0x48, 0x98);
    ck_assert_str_eq(insn_mnemonic(&i), "cdqe");
    i = DEC(M64, 3, 0x0f, 0x01, 0xd9);
    ck_assert_str_eq(insn_mnemonic(&i), "vmmcall");
    i = DEC(M64, 3, 0x0f, 0xae, 0xf0);
    ck_assert_str_eq(insn_mnemonic(&i), "mfence");
    i = DEC(M64, 2, 0xf3, 0x90);
    ck_assert_str_eq(insn_mnemonic(&i), "pause");
    i = DEC(M64, 4, 0xf3, 0x0f, 0xbc, 0xc0);
    ck_assert_str_eq(insn_mnemonic(&i), "tzcnt");
    i = DEC(M64, 2, 0xf7, 0xe8);
    ck_assert_str_eq(insn_mnemonic(&i), "imul");
    i = DEC(M64, 2, 0x0f, 0x0b);
    ck_assert_str_eq(insn_mnemonic(&i), "ud2");
    i = DEC(M64, 1, 0x06);
    ck_assert_str_eq(insn_mnemonic(&i), "(bad)");
}
END_TEST

START_TEST(timing_costs)
{
    struct insn add = DEC(M64, 3, 0x48, 0x01, 0xd8);
    struct insn div64 = DEC(M64, 3, 0x48, 0xf7, 0xf1);
    struct insn div32 = DEC(M64, 2, 0xf7, 0xf1);
    struct insn cpuid = DEC(M64, 2, 0x0f, 0xa2);
    struct insn lockadd = DEC(M64, 3, 0xf0, 0x01, 0x08);
    struct insn mul = DEC(M64, 3, 0x48, 0xf7, 0xe1);
    ck_assert_uint_eq(add.cost, 1);
    ck_assert_uint_gt(mul.cost, add.cost);
    ck_assert_uint_gt(div32.cost, mul.cost);
    ck_assert_uint_gt(div64.cost, div32.cost);
    ck_assert_uint_ge(cpuid.cost, 100);
    ck_assert_uint_gt(lockadd.cost, add.cost);
}
END_TEST

/* ---- block cache and run loop on the test machine ---- */

static struct test_machine *tm;

static void setup(void)
{
    tm = tm_new(16ull << 20);
}

static void teardown(void)
{
    tm_free(tm);
}

/* sum = 0; for (rcx = 1000; rcx; rcx--) { sum += rcx; rbx ^= sum; } hlt */
static const uint8_t loop_code[] = {
    0x31, 0xc0,                         /* xor eax, eax */
    0x31, 0xdb,                         /* xor ebx, ebx */
    0xb9, 0xe8, 0x03, 0x00, 0x00,       /* mov ecx, 1000 */
    0x48, 0x01, 0xc8,                   /* L: add rax, rcx */
    0x48, 0x31, 0xc3,                   /* xor rbx, rax */
    0xff, 0xc9,                         /* dec ecx */
    0x75, 0xf6,                         /* jne L */
    0xf4,                               /* hlt */
};

START_TEST(run_equals_step)
{
    /* Two identical machines (same TLB state), one stepped, one run by blocks. */
    struct test_machine *tm2 = tm_new(16ull << 20);
    tm_load(tm, TM_CODE_BASE, loop_code, sizeof loop_code);
    tm_load(tm2, TM_CODE_BASE, loop_code, sizeof loop_code);
    struct cpu *c = &tm->cpu, *c2 = &tm2->cpu;

    unsigned steps = tm_run(tm, TM_CODE_BASE, 100000);
    ck_assert(c->halted);
    ck_assert_uint_eq(steps, 3 + 4 * 1000 + 1);             /* setup, loop body, hlt */
    ck_assert_uint_eq(c->gpr[RAX], 1000ull * 1001 / 2);

    c2->rip = TM_CODE_BASE;
    c2->halted = 0;
    ck_assert_int_eq(cpu_run(c2, 1000000), CPU_EXIT_HALT);
    for (int r = 0; r < 16; r++)
        ck_assert_uint_eq(c2->gpr[r], c->gpr[r]);
    ck_assert_uint_eq(c2->cycles, c->cycles);
    ck_assert_uint_eq(c2->icount, c->icount);
    ck_assert_uint_eq(c2->rip, c->rip);
    ck_assert_uint_eq(c2->rip, TM_CODE_BASE + sizeof loop_code);

    struct block_cache_stats st;
    block_cache_get_stats(tm2->bc, &st);
    ck_assert_uint_gt(st.hits, 990);            /* the loop body is decoded once */
    ck_assert_uint_le(st.decoded_blocks, 4);
    tm_free(tm2);
}
END_TEST

START_TEST(budget_stops_at_block_boundary)
{
    tm_load(tm, TM_CODE_BASE, loop_code, sizeof loop_code);
    struct cpu *c = &tm->cpu;
    c->rip = TM_CODE_BASE;
    c->halted = 0;
    uint64_t start = c->cycles;
    enum cpu_exit e = cpu_run(c, 100);
    ck_assert_int_eq(e, CPU_EXIT_BUDGET);
    ck_assert_uint_ge(c->cycles - start, 100);
    /* The budget is checked at block starts: the overshoot is at most one block (here
     * <= 7 instructions of <= 2 cycles) plus its fetch translation cost. */
    ck_assert_uint_lt(c->cycles - start, 100 + 150);
    /* finishing the run gives the full result */
    while ((e = cpu_run(c, 100)) == CPU_EXIT_BUDGET)
        ;
    ck_assert_int_eq(e, CPU_EXIT_HALT);
    ck_assert_uint_eq(c->gpr[RAX], 1000ull * 1001 / 2);
}
END_TEST

/* Self-modifying code inside one block: the store patches the immediate of an
 * instruction two instructions later in the same page (and block). */
START_TEST(self_modifying_code)
{
    static const uint8_t fixed[] = {
        0xc6, 0x05, 0x02, 0x00, 0x00, 0x00, 0x2a, /* mov byte [rip+2], 42: rip+2 = offset 9 */
        0x90,                                     /* nop */
        0xb8, 0x01, 0x00, 0x00, 0x00,             /* mov eax, 1   (imm byte at offset 9) */
        0xf4,                                     /* hlt */
    };
    tm_load(tm, TM_CODE_BASE, fixed, sizeof fixed);
    struct cpu *c = &tm->cpu;

    /* First run: decode and cache the block, then restore the original byte and run again
     * with the same cache: the stale decode must not be used either time. */
    c->rip = TM_CODE_BASE;
    c->halted = 0;
    ck_assert_int_eq(cpu_run(c, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(c->gpr[RAX], 42);

    tm_load(tm, TM_CODE_BASE, fixed, sizeof fixed);   /* imm back to 1 (a loader write) */
    c->gpr[RAX] = 0;
    c->rip = TM_CODE_BASE;
    c->halted = 0;
    ck_assert_int_eq(cpu_run(c, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(c->gpr[RAX], 42);

    struct block_cache_stats st;
    block_cache_get_stats(tm->bc, &st);
    ck_assert_uint_ge(st.invalidated_blocks, 2);
}
END_TEST

/* An instruction that crosses a page boundary runs (uncached) with the right bytes. */
START_TEST(page_crossing_instruction)
{
    static const uint8_t code[] = { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 0xf4 };  /* mov rax, imm64; hlt */
    uint64_t at = TM_CODE_BASE + 0x1000 - 4;
    tm_load(tm, at, code, sizeof code);
    struct cpu *c = &tm->cpu;
    c->rip = at;
    c->halted = 0;
    ck_assert_int_eq(cpu_run(c, 100000), CPU_EXIT_HALT);
    ck_assert_uint_eq(c->gpr[RAX], 0x0807060504030201ull);
    ck_assert_uint_eq(c->rip, at + sizeof code);
}
END_TEST

/* An undefined opcode is delivered as #UD through the IDT. */
START_TEST(ud_is_delivered)
{
    static const uint8_t code[] = { 0x90, 0x0f, 0x0b };
    tm_load(tm, TM_CODE_BASE, code, sizeof code);
    struct cpu *c = &tm->cpu;
    c->rip = TM_CODE_BASE;
    c->halted = 0;
    ck_assert_int_eq(cpu_run(c, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(tm_exception_vector(tm), EXC_UD);
}
END_TEST

/* 15 prefixes + NOP: #GP(0). */
START_TEST(too_long_is_gp)
{
    uint8_t code[16];
    memset(code, 0x66, 15);
    code[15] = 0x90;
    tm_load(tm, TM_CODE_BASE, code, sizeof code);
    struct cpu *c = &tm->cpu;
    c->rip = TM_CODE_BASE;
    c->halted = 0;
    ck_assert_int_eq(cpu_run(c, 100000), CPU_EXIT_HALT);
    ck_assert_int_eq(tm_exception_vector(tm), EXC_GP);
}
END_TEST

static Suite *decode_suite(void)
{
    Suite *s = suite_create("decode");
    TCase *t = tcase_create("decoder");
    tcase_add_test(t, lengths_and_handlers);
    tcase_add_test(t, truncated_windows_need_more);
    tcase_add_test(t, fifteen_byte_limit);
    tcase_add_test(t, modrm_sib_fields);
    tcase_add_test(t, addressing_16bit);
    tcase_add_test(t, operand_sizes_and_immediates);
    tcase_add_test(t, prefix_rules);
    tcase_add_test(t, mnemonics);
    tcase_add_test(t, timing_costs);
    suite_add_tcase(s, t);

    TCase *r = tcase_create("run");
    tcase_add_checked_fixture(r, setup, teardown);
    tcase_add_test(r, run_equals_step);
    tcase_add_test(r, budget_stops_at_block_boundary);
    tcase_add_test(r, self_modifying_code);
    tcase_add_test(r, page_crossing_instruction);
    tcase_add_test(r, ud_is_delivered);
    tcase_add_test(r, too_long_is_gp);
    suite_add_tcase(s, r);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(decode_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
