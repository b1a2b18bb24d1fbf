/* Model-specific registers the CPU owns (cpu/msr.c); everything else goes to
 * env->msr_read / env->msr_write.  Indices: SDM Vol. 4 ch. 2. */
#ifndef HVEMU_CPU_MSR_H
#define HVEMU_CPU_MSR_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

#define MSR_TSC               0x00000010u
#define MSR_APIC_BASE         0x0000001bu
#define MSR_FEATURE_CONTROL   0x0000003au
#define MSR_TSC_ADJUST        0x0000003bu
#define MSR_SPEC_CTRL         0x00000048u
#define MSR_PRED_CMD          0x00000049u
#define MSR_UCODE_REV         0x0000008bu
#define MSR_ARCH_CAPABILITIES 0x0000010au
/* IA32_ARCH_CAPABILITIES bits (SDM Vol. 4 Table 2-2) */
#define ARCH_CAP_IBRS_ALL     (1ull << 1)   /* enhanced IBRS */
#define MSR_MTRRCAP           0x000000feu
#define MSR_SYSENTER_CS       0x00000174u
#define MSR_SYSENTER_ESP      0x00000175u
#define MSR_SYSENTER_EIP      0x00000176u
#define MSR_MISC_ENABLE       0x000001a0u
#define MSR_MTRR_PHYSBASE0    0x00000200u   /* ..0x20f: base/mask pairs */
#define MSR_MTRR_FIX64K       0x00000250u
#define MSR_MTRR_FIX16K_80000 0x00000258u
#define MSR_MTRR_FIX16K_A0000 0x00000259u
#define MSR_MTRR_FIX4K_C0000  0x00000268u   /* ..0x26f */
#define MSR_PAT               0x00000277u
#define MSR_MTRR_DEF_TYPE     0x000002ffu
#define MSR_EFER              0xc0000080u
#define MSR_STAR              0xc0000081u
#define MSR_LSTAR             0xc0000082u
#define MSR_CSTAR             0xc0000083u
#define MSR_SFMASK            0xc0000084u
#define MSR_FS_BASE           0xc0000100u
#define MSR_GS_BASE           0xc0000101u
#define MSR_KERNEL_GS_BASE    0xc0000102u
#define MSR_TSC_AUX           0xc0000103u

/* Return false when the access must raise #GP(0) (unknown MSR, reserved bits, an
 * illegal EFER transition).  Used by RDMSR/WRMSR; hv/ may call them to set state. */
bool cpu_msr_read(struct cpu *c, uint32_t msr, uint64_t *val);
bool cpu_msr_write(struct cpu *c, uint32_t msr, uint64_t val);

/* EFER bits a guest may set (SCE, LME, NXE; LMA is read-only). */
#define EFER_WRITABLE ((1ull << 0) | (1ull << 8) | (1ull << 11))

#endif
