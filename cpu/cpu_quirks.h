/* Behaviours in which Intel's SDM and AMD's APM (or one part and its successor)
 * disagree, as bits of a CPU model (cpu/cpu_models.c sets them per model).
 *
 * A handler never asks for the vendor: it asks for the one quirk that decides its
 * case, and each bit below is consulted in exactly the place named beside it.
 * tests/unit/test_quirks.c runs every bit both ways, on any host.
 */
#ifndef HVEMU_CPU_CPU_QUIRKS_H
#define HVEMU_CPU_CPU_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"

/* 66h on a near JMP/CALL/RET/Jcc in 64-bit mode gives a 16-bit operand size: the
 * target is truncated to 16 bits and CALL/RET move 2 bytes (AMD APM Vol. 3, 1.2.5
 * and the JMP/CALL pages; LOOPcc and JrCXZ too, measured on Zen 5).  The rel16
 * displacement then has 2 bytes: the instruction length differs by vendor, which
 * is why the decoder receives the model.  Without it the prefix is ignored and the
 * operand size is 64 bits (SDM Vol. 2 JMP, CALL, RET, Jcc: "fixed at 64 bits").
 * REX.W wins over 66h on both.  cpu/decode.c near_branch_o16(). */
#define QUIRK_NEAR_BRANCH_O16      (1u << 0)
/* A REP string with a 32-bit address size in 64-bit mode writes ECX (and ESI/EDI for
 * MOVS/STOS) even when ECX is already 0, clearing their upper halves.  Not in the
 * SDM; measured on Intel hosts.  AMD parts leave the registers alone (measured on
 * Zen 5).  cpu/ops_string.c rep_addr32_zext(). */
#define QUIRK_REP_A32_ZERO_WRITES  (1u << 1)
/* FXSAVE/XSAVE store FOP, FIP, FDP (and FCS/FDS) as zero unless FSW.ES = 1 (AMD APM
 * Vol. 4 FXSAVE: "does not save the x87 pointer registers ... except when ES = 1";
 * measured on Zen 5).  FXRSTOR still loads them (CPUID 80000008H:EBX[2]
 * XSaveErPtr).  Intel stores them always (SDM Vol. 2 FXSAVE).  cpu/fpu_env.c. */
#define QUIRK_FXSAVE_PTRS_ON_ES    (1u << 2)
/* SYSCALL from compatibility mode enters the 64-bit kernel at IA32_CSTAR (AMD APM
 * Vol. 3 SYSCALL).  Without it SYSCALL outside 64-bit mode is #UD (SDM Vol. 2
 * SYSCALL).  cpu/ops_system.c h_syscall(). */
#define QUIRK_SYSCALL_COMPAT       (1u << 3)
/* The hypercall page holds VMMCALL (0F 01 D9), the AMD SVM instruction; without it
 * VMCALL (0F 01 C1), the Intel VMX one (HV-SPEC B-1.3).  Both trap to the
 * hypervisor whichever is in the page (HV-SPEC B-1.3 "trap VMCALL and VMMCALL").
 * hv/hyperv_msr.c build_page(). */
#define QUIRK_HYPERCALL_VMMCALL    (1u << 4)

static inline bool cpu_quirk(const struct cpu *c, uint32_t q)
{
    return (c->quirks & q) != 0;
}

#endif
