/* The named CPU models and the one feature set they all advertise.
 *
 * Feature bits: SDM Vol. 2A CPUID, Tables 3-10/3-11 (leaf 1), 3-8 (leaf 7 and
 * 80000001H).  THIS IS THE ONLY PLACE FEATURE BITS LIVE: an engineer who implements
 * a feature sets its bit in cpu_features_implemented below (cpu/cpuid.c only adds
 * bits that depend on run-time state: APIC from IA32_APIC_BASE, HTT from -smp).
 *
 * Deliberately NOT advertised yet: AVX,
 * VME/PVI, MCE/MCA, SEP (SYSENTER/SYSEXIT raise #UD), PSE-36, BMI1 (TZCNT
 * alone is not BMI1), LA57, MONITOR, PREFETCHW; x2APIC / TSC-deadline / hypervisor
 * bit describe the platform: hv/ adds them through env->cpuid.
 *
 * Caches come from the vendors' public figures (Intel Opt. Ref. Manual 248966
 * Table 2-7 Skylake, Golden Cove in the 12th-gen chapter; AMD SOG for family 17h
 * model 31h).  They are not modelled: the leaves only describe them.  TLB rows copy
 * the geometry of the mmu preset named in the model (mmu/tlb_presets.c); 2M arrays
 * also list 4M pages because a 32-bit 4M page is held as two 2M halves (mmu/tlb.h).
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpu_models.h"
#include "cpu/cpu_quirks.h"

const struct cpu_features cpu_features_implemented = {
    /* Leaf 1 EDX: PSE(3) TSC(4) MSR(5) PAE(6) CX8(8) MTRR(12) PGE(13) CMOV(15) PAT(16)
     * CLFSH(19).  APIC(9) follows IA32_APIC_BASE[11] (cpuid.c).  FPU(0) FXSR(24):
     * cpu/fpu_*.c, tests/diff/diff_x87.c (x87).  MMX(23) SSE(25)
     * SSE2(26): cpu/sse_*.c, tests/diff/diff_sse.c (added by sse). */
    .l1_edx = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 12) |
              (1u << 13) | (1u << 15) | (1u << 16) | (1u << 19) | (1u << 0) | (1u << 24) |
              (1u << 23) | (1u << 25) | (1u << 26),
    /* Leaf 1 ECX: CX16(13) PCID(17) POPCNT(23) RDRAND(30, cpu/ops_rand.c).  SSE3(0)
     * SSSE3(9) SSE4.1(19) SSE4.2(20) MOVBE(22): cpu/sse_*.c (added by sse). */
    /* XSAVE(26): cpu/fpu_env.c, components x87+SSE (leaf 0DH); OSXSAVE(27) follows
     * CR4.OSXSAVE (cpuid.c) (x87). */
    .l1_ecx = (1u << 13) | (1u << 17) | (1u << 23) | (1u << 30) | (1u << 26) |
              (1u << 0) | (1u << 9) | (1u << 19) | (1u << 20) | (1u << 22),
    /* Leaf 7.0 EBX: SMEP(7) INVPCID(10) RDSEED(18, ops_rand.c) SMAP(20). */
    .l7_ebx = (1u << 7) | (1u << 10) | (1u << 18) | (1u << 20) |
              (1u << 0) | (1u << 23),   /* FSGSBASE(0, cpu/fpu_fsgsbase.c) CLFLUSHOPT(23) (x87) */
    /* Leaf 7.0 ECX: UMIP(2, ops_desc.c/ops_msr.c) RDPID(22, ops_rand.c). */
    .l7_ecx = (1u << 2) | (1u << 22),
    /* Leaf 7.0 EDX: IBRS/IBPB(26) STIBP(27): IA32_SPEC_CTRL / IA32_PRED_CMD in
     * cpu/msr.c (nothing to restrict: no branch prediction); ARCH_CAPABILITIES(29),
     * IA32_ARCH_CAPABILITIES = enhanced IBRS (cpu/msr.c). */
    .l7_edx = (1u << 26) | (1u << 27) | (1u << 29),
    /* 80000001H ECX: LAHF/SAHF in 64-bit mode(0), LZCNT(5, "ABM" on AMD: LZCNT+POPCNT). */
    .lx1_ecx = (1u << 0) | (1u << 5),
    /* 80000001H EDX: SYSCALL(11) NX(20) Page1GB(26) RDTSCP(27) LM(29). */
    .lx1_edx = (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29),
};

#define KB 1024u
#define D 1     /* data */
#define I 2     /* instruction */
#define U 3     /* unified */
#define S2M4M (TLBD_2M | TLBD_4M)

/* What every part of a vendor does where the SDM and the APM differ (cpu/cpu_quirks.h
 * says why each bit is where it is). */
#define INTEL_QUIRKS QUIRK_REP_A32_ZERO_WRITES
#define AMD_QUIRKS   (QUIRK_NEAR_BRANCH_O16 | QUIRK_FXSAVE_PTRS_ON_ES | QUIRK_SYSCALL_COMPAT | \
                      QUIRK_HYPERCALL_VMMCALL)

/* MXCSR_MASK (SDM Vol. 1 11.6.6): Intel parts with DAZ report FFFFH; AMD parts also
 * let software set bit 17, MM, the misaligned-SSE mask (APM Vol. 1 4.2.2; FFFFH +
 * bit 17 measured on Zen 5).  hvemu stores MM but changes no alignment check for it,
 * as measured there: ADDPS/MOVAPS with a misaligned m128 still raise #GP with MM = 1. */
#define INTEL_MXCSR_MASK 0x0000ffffu
#define AMD_MXCSR_MASK   0x0002ffffu

/* Skylake client (i7-6700K: family 6, model 5EH, stepping 3).  Caches: L1D/L1I
 * 32 KiB 8-way, L2 256 KiB 4-way, L3 8 MiB 16-way inclusive (Opt. Ref. Table 2-7). */
static const struct cpu_model skylake = {
    .name = "skylake", .summary = "Intel Skylake client (family 6 model 5EH), TLB preset skylake",
    .tlb_preset = "skylake",
    .vendor = CPU_VENDOR_INTEL, .quirks = INTEL_QUIRKS, .mxcsr_mask = INTEL_MXCSR_MASK,
    .signature = 0x000506e3u,
    .brand = "hvemu virtual CPU (Skylake model)",
    .max_basic = 0x18, .max_ext = 0x80000008u,
    .ncaches = 4,
    .caches = {
        { 1, D,  8,   64, 64, false, false },
        { 1, I,  8,   64, 64, false, false },
        { 2, U,  4, 1024, 64, false, false },
        { 3, U, 16, 8192, 64, true,  true  },
    },
    .ntlbs = 7,     /* the 7 arrays of mmu preset "skylake", in its order */
    .tlbs = {
        { 1, I, TLBD_4K,            8,  16, false },
        { 1, I, S2M4M,              8,   1, true  },
        { 1, D, TLBD_4K,            4,  16, false },
        { 1, D, S2M4M,              4,   8, false },
        { 1, D, TLBD_1G,            4,   1, true  },
        { 2, U, TLBD_4K | S2M4M,   12, 128, false },
        { 2, U, TLBD_1G,            4,   4, false },
    },
};

/* Golden Cove (Alder Lake P-core: family 6, model 97H, stepping 2).  L1D 48 KiB
 * 12-way, L1I 32 KiB 8-way, L2 1.25 MiB 10-way, L3 30 MiB 12-way non-inclusive. */
static const struct cpu_model goldencove = {
    .name = "goldencove", .summary = "Intel Golden Cove (family 6 model 97H), TLB preset goldencove",
    .tlb_preset = "goldencove",
    .vendor = CPU_VENDOR_INTEL, .quirks = INTEL_QUIRKS, .mxcsr_mask = INTEL_MXCSR_MASK,
    .signature = 0x00090672u,
    .brand = "hvemu virtual CPU (Golden Cove model)",
    .max_basic = 0x1f, .max_ext = 0x80000008u,
    .ncaches = 4,
    .caches = {
        { 1, D, 12,    64, 64, false, false },
        { 1, I,  8,    64, 64, false, false },
        { 2, U, 10,  2048, 64, false, false },
        { 3, U, 12, 40960, 64, true,  false },
    },
    .ntlbs = 6,
    .tlbs = {
        { 1, I, TLBD_4K,                    8,  32, false },
        { 1, I, S2M4M,                     32,   1, true  },
        { 1, D, TLBD_4K,                    6,  16, false },
        { 1, D, S2M4M,                      4,   8, false },
        { 1, D, TLBD_1G,                    8,   1, true  },
        { 2, U, TLBD_4K | S2M4M | TLBD_1G, 16, 128, false },
    },
};

/* Zen 2 (Matisse: family 17H, model 31H, stepping 0).  L1D/L1I 32 KiB 8-way, L2
 * 512 KiB 8-way, L3 16 MiB 16-way per CCX (AMD SOG 56305).  The L2 DTLB is 2048
 * entries 12-way; the preset's 171 x 12 approximation is what cpuid.c reports. */
static const struct cpu_model zen2 = {
    .name = "zen2", .summary = "AMD Zen 2 (family 17H model 31H), AuthenticAMD, TLB preset zen2",
    .tlb_preset = "zen2",
    .vendor = CPU_VENDOR_AMD, .quirks = AMD_QUIRKS, .mxcsr_mask = AMD_MXCSR_MASK,
    .signature = 0x00830f10u,
    .brand = "hvemu virtual CPU (Zen 2 model)",
    .max_basic = 0xd, .max_ext = 0x80000008u,
    .ncaches = 4,
    .caches = {
        { 1, D,  8,    64, 64, false, false },
        { 1, I,  8,    64, 64, false, false },
        { 2, U,  8,  1024, 64, false, true  },
        { 3, U, 16, 16384, 64, true,  false },
    },
    .ntlbs = 4,
    .tlbs = {
        { 1, I, TLBD_4K | S2M4M | TLBD_1G, 64,   1, true  },
        { 1, D, TLBD_4K | S2M4M | TLBD_1G, 64,   1, true  },
        { 2, I, TLBD_4K | S2M4M,            8,  64, false },
        { 2, D, TLBD_4K | S2M4M,           12, 171, false },
    },
};

const struct cpu_model *const cpu_models[] = { &skylake, &goldencove, &zen2, NULL };

const struct cpu_model *cpu_model_find(const char *name)
{
    if (!name || !*name)
        return cpu_models[0];
    for (int i = 0; cpu_models[i]; i++)
        if (strcmp(cpu_models[i]->name, name) == 0)
            return cpu_models[i];
    return NULL;
}

const struct cpu_model *cpu_model_of(const struct cpu *c)
{
    return c->model ? c->model : cpu_models[0];
}

void cpu_set_model(struct cpu *c, const struct cpu_model *m)
{
    c->model = m ? m : cpu_models[0];
    c->quirks = c->model->quirks;
}
