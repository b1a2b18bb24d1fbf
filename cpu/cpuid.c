/* CPUID: an Intel-like x86-64 (Skylake-SP family/model, MAXPHYADDR as the page
 * walker) that advertises exactly what is implemented today.  Feature bits cite SDM
 * Vol. 2A, CPUID, Tables 3-10/3-11 (leaf 1), 3-8 (leaf 7) and the 80000001H rows.
 *
 * Deliberately NOT advertised yet: x87 FPU, MMX, FXSR, SSE*, AVX, XSAVE (no handlers),
 * VME/PVI, MCE/MCA, SEP (SYSENTER/SYSEXIT raise #UD), PSE-36, FSGSBASE, BMI1 (TZCNT
 * alone is not BMI1), UMIP, LA57, MONITOR, x2APIC / TSC-deadline / hypervisor bit
 * (those describe the platform: hv/ adds them through env->cpuid).
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/env.h"
#include "mmu/walk.h"   /* WALK_MAXPHYADDR: CPUID.80000008H must agree with the walker */

#define MAX_BASIC_LEAF    0x7u
#define MAX_EXT_LEAF      0x80000008u

/* Skylake-SP: family 6, model 0x55 (ext. model 5, model 5), stepping 4. */
#define SIG_INTEL 0x00050654u
/* Zen 2 (family 0x17 = 0xF + ext. 0x8, model 0x31), for the AMD vendor option. */
#define SIG_AMD   0x00830f10u

/* Leaf 1 EDX: PSE(3) TSC(4) MSR(5) PAE(6) CX8(8) APIC(9, from IA32_APIC_BASE[11])
 * MTRR(12) PGE(13) CMOV(15) PAT(16) CLFSH(19). */
#define L1_EDX ((1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 12) | \
                (1u << 13) | (1u << 15) | (1u << 16) | (1u << 19))
/* Leaf 1 ECX: CX16(13) PCID(17) POPCNT(23). */
#define L1_ECX ((1u << 13) | (1u << 17) | (1u << 23))
/* Leaf 7.0 EBX: SMEP(7) INVPCID(10) SMAP(20). */
#define L7_EBX (CPUID_7_EBX_SMEP | CPUID_7_EBX_INVPCID | CPUID_7_EBX_SMAP)
/* 80000001H EDX: SYSCALL(11) NX(20) Page1GB(26) RDTSCP(27) LM(29). */
#define LX1_EDX ((1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29))
/* 80000001H ECX: LAHF/SAHF in 64-bit mode(0), LZCNT(5, "ABM" on AMD). */
#define LX1_ECX ((1u << 0) | (1u << 5))

uint32_t cpuid_signature(const struct cpu *c)
{
    return c->vendor_amd ? SIG_AMD : SIG_INTEL;
}

static void put_str(uint32_t out[4], const char *s16)
{
    memcpy(out, s16, 16);
}

static void leaves(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t o[4])
{
    memset(o, 0, 4 * sizeof o[0]);
    switch (leaf) {
    case 0:
        o[0] = MAX_BASIC_LEAF;
        /* The vendor string is EBX, EDX, ECX. */
        memcpy(&o[1], c->vendor_amd ? "Auth" : "Genu", 4);
        memcpy(&o[3], c->vendor_amd ? "enti" : "ineI", 4);
        memcpy(&o[2], c->vendor_amd ? "cAMD" : "ntel", 4);
        break;
    case 1:
        o[0] = cpuid_signature(c);
        /* EBX: initial APIC ID [31:24], CLFLUSH line size in 8-byte units [15:8]. */
        o[1] = ((uint32_t)c->vp_index << 24) | (8u << 8);
        o[2] = L1_ECX;
        o[3] = L1_EDX | ((c->msr.apic_base & (1ull << 11)) ? CPUID_1_EDX_APIC : 0);
        break;
    case 2:
        o[0] = 0x00000001u;     /* AL = 1 iteration, no descriptors: use leaf 4 (none either) */
        break;
    case 7:
        if (sub == 0) {
            o[0] = 0;           /* max subleaf */
            o[1] = L7_EBX;
        }
        break;
    case 0x80000000u:
        o[0] = MAX_EXT_LEAF;
        if (c->vendor_amd) {
            memcpy(&o[1], "Auth", 4);
            memcpy(&o[3], "enti", 4);
            memcpy(&o[2], "cAMD", 4);
        }
        break;
    case 0x80000001u:
        o[2] = LX1_ECX;
        o[3] = LX1_EDX;
        if (c->vendor_amd)
            o[0] = cpuid_signature(c);
        break;
    case 0x80000002u: put_str(o, "hvemu x86-64 pro"); break;
    case 0x80000003u: put_str(o, "cessor (interpre"); break;
    case 0x80000004u: put_str(o, "ter)\0\0\0\0\0\0\0\0\0\0\0\0"); break;
    case 0x80000007u:
        o[3] = 1u << 8;         /* invariant TSC: ours counts virtual cycles at a fixed rate */
        break;
    case 0x80000008u:
        o[0] = WALK_MAXPHYADDR | (48u << 8);    /* physical / linear address bits */
        break;
    default:
        break;                  /* unknown and reserved leaves read as zero */
    }
}

void cpu_cpuid(struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    leaves(c, leaf, subleaf, out);
    if (c->env && c->env->cpuid)
        c->env->cpuid(c->env_opaque, c, leaf, subleaf, out);
}
