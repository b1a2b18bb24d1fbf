/* Running one guest x87 instruction on the host's x87 unit (see cpu/fpu.h for why
 * this is exact).  x86-64 hosts only.
 *
 * The stubs: for every opcode D8..DF and ModRM byte, a tiny function
 *     endbr64; <opcode> <modrm'>; ret
 * where modrm' is the guest's ModRM for register forms (mod = 11) and, for memory
 * forms, the same /digit with mod = 00, rm = 111: the operand is at (%rdi).  They are
 * laid out 8 bytes apart so the entry of (opc, modrm) is computed, not looked up.
 *
 * The host's own state: FXRSTOR also loads MXCSR and XMM0-15, so the host MXCSR is
 * copied into the image (and so kept) and the XMM registers are declared clobbered;
 * the host x87 is left as FNINIT makes it (empty, FCW 037F), which is what the ABI
 * expects between calls (hvemu itself never changes the x87 control word).  About
 * 115 ns per x87 instruction (13 -> 16 MIPS on a half-x87 loop once the host state was
 * no longer saved and restored around it).
 */
#include <stddef.h>
#include "cpu/fpu.h"
#include "cpu/flags.h"

#if !defined(__x86_64__)
#error "cpu/fpu_host.c runs guest x87 instructions on the host x87: x86-64 hosts only"
#endif

__asm__(
    ".pushsection .text\n"
    ".p2align 4\n"
    "hvemu_fpu_stubs:\n"
    ".set hvemu_fpu_i, 0\n"
    ".rept 2048\n"
    "  .byte 0xf3, 0x0f, 0x1e, 0xfa\n"                       /* endbr64 */
    "  .byte 0xd8 + (hvemu_fpu_i >> 8)\n"
    "  .if (hvemu_fpu_i & 0xc0) == 0xc0\n"
    "    .byte hvemu_fpu_i & 0xff\n"
    "  .else\n"
    "    .byte (hvemu_fpu_i & 0x38) | 7\n"
    "  .endif\n"
    "  ret\n"
    "  int3\n"
    "  .set hvemu_fpu_i, hvemu_fpu_i + 1\n"
    ".endr\n"
    ".popsection\n");
extern const uint8_t hvemu_fpu_stubs[];

/* The FXSAVE64 image (SDM Vol. 1 Table 10-2), as the host reads and writes it. */
struct fx64 {
    uint16_t fcw, fsw;
    uint8_t  ftw, rsv0;
    uint16_t fop;
    uint64_t fip, fdp;
    uint32_t mxcsr, mxcsr_mask;
    uint8_t  st[8][16];
    uint8_t  xmm[16][16];
    uint8_t  rsv[96];
};
_Static_assert(sizeof(struct fx64) == 512, "FXSAVE image is 512 bytes");

uint16_t fpu_host_exec(struct cpu *c, unsigned opc, unsigned modrm, uint8_t *mem, uint64_t *rflags_arith)
{
    _Alignas(16) struct fx64 in, out;
    struct fpu_state *f = &c->fpu;
    unsigned top = (f->fsw >> FSW_TOP_SHIFT) & 7;

    memset(&in, 0, sizeof in);
    in.fcw = f->fcw;
    /* Pending unmasked exceptions (only possible with CR0.NE = 0) are kept out of the
     * host so it never traps; they are sticky and ORed back below. */
    uint16_t pending = f->fsw & (FSW_EXC | FSW_SF);
    in.fsw = (uint16_t)(f->fsw & ~((f->fsw & ~f->fcw & FSW_EXC) | FSW_ES | FSW_B));
    in.ftw = fpu_tag_abridged(f->ftw);
    /* FXRSTOR loads MXCSR and XMM0-15 too: the host's own MXCSR goes in (so it is kept),
     * and the XMM registers are declared clobbered below. */
    __asm__ volatile("stmxcsr %0" : "=m"(in.mxcsr));
    for (unsigned k = 0; k < 8; k++)
        memcpy(in.st[k], f->st[(top + k) & 7], 10);

    const uint8_t *stub = hvemu_fpu_stubs + 8 * (((opc - 0xd8) & 7) << 8 | (modrm & 0xff));
    uint64_t fl = *rflags_arith & FL_ARITH, scratch;
    __asm__ volatile(
        "fxrstor64 %[in]\n\t"
        /* the red zone below %rsp belongs to the compiler: step over it before the
         * pushes and the call */
        "lea -128(%%rsp), %%rsp\n\t"
        "pushfq\n\t"
        "pop %[tmp]\n\t"
        "and %[keep], %[tmp]\n\t"
        "or %[fl], %[tmp]\n\t"
        "push %[tmp]\n\t"
        "popfq\n\t"
        "call *%[stub]\n\t"
        "pushfq\n\t"
        "pop %[fl]\n\t"
        "lea 128(%%rsp), %%rsp\n\t"
        "fxsave64 %[out]\n\t"
        /* leave the host x87 as the ABI expects it: empty, FCW 037F, no pending flags */
        "fninit\n\t"
        : [fl] "+&r"(fl), [tmp] "=&r"(scratch), [out] "=m"(out)
        : [in] "m"(in), [stub] "r"(stub), [keep] "r"(~(uint64_t)FL_ARITH), "D"(mem)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    (void)scratch;
    *rflags_arith = fl & FL_ARITH;

    f->fcw = out.fcw;
    f->fsw = fpu_fsw_summary((uint16_t)(out.fsw | pending), out.fcw);
    unsigned ntop = (out.fsw >> FSW_TOP_SHIFT) & 7;
    for (unsigned k = 0; k < 8; k++)
        memcpy(f->st[(ntop + k) & 7], out.st[k], 10);
    /* FXSAVE's abridged tags are by physical register (SDM Vol. 1 10.5.1.1). */
    f->ftw = fpu_tag_full(c, out.ftw);
    return out.fsw;
}
