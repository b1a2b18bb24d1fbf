/* The detection profile (HV-SPEC.md A-2, B-1.1, B-5.3): CPUID.1:ECX[31] and the
 * leaves 0x40000000-0x40000005.  A privilege or recommendation bit is set only
 * for a feature that is implemented and switched on. */
#include "hv/hyperv.h"
#include "hv/partition.h"

#include <string.h>

#define HV_MAX_LEAF 0x40000005u         /* Linux 6.1 accepts 0x40000005..0x4000FFFF (B-1.1) */

/* 0x40000003.EAX privilege bits (B-1.1, TLFS HV_PARTITION_PRIVILEGE_MASK) */
#define PRIV_TIME_REF_COUNT  (1u << 1)
#define PRIV_HYPERCALL_MSRS  (1u << 5)  /* mandatory for Linux */
#define PRIV_VP_INDEX        (1u << 6)  /* mandatory for Linux */
#define PRIV_REFERENCE_TSC   (1u << 9)
#define PRIV_FREQUENCY_MSRS  (1u << 11)
#define PRIV_TSC_INVARIANT   (1u << 15)
/* 0x40000003.EBX (bits 63:32 of the mask) */
#define PRIV_HI_ACCESS_VP_REGISTERS (1u << 17)
/* 0x40000003.EDX */
#define MISC_XMM_INPUT       (1u << 4)
#define MISC_FREQUENCY_MSRS  (1u << 8)
#define MISC_EXT_GVA_RANGES  (1u << 14)
/* 0x40000004.EAX recommendations */
#define HINT_REMOTE_FLUSH    (1u << 2)
#define HINT_CLUSTER_IPI     (1u << 10)
#define HINT_EX_MASKS        (1u << 11)
#define SPIN_NEVER_NOTIFY    0xFFFFFFFFu

/* 0x40000002: the build KVM reports, 10.0.14393 (B-1.1). */
#define HOST_BUILD   0x3839u
#define HOST_VERSION 0x000A0000u

static void sig(uint32_t *r, const char s[4])
{
    memcpy(r, s, 4);
}

void hv_cpuid(struct hyperv *hv, struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    (void)c;
    (void)subleaf;
    if (!hv->enabled)
        return;             /* a plain PC: cpu/cpuid.c's leaves, 0x4000xxxx read as zero */
    if (leaf == 1) {
        out[2] |= 1u << 31; /* hypervisor present */
        return;
    }
    if (leaf < 0x40000000u || leaf > 0x4000FFFFu)
        return;
    out[0] = out[1] = out[2] = out[3] = 0;
    switch (leaf) {
    case 0x40000000u:
        out[0] = HV_MAX_LEAF;
        sig(&out[1], "Micr");
        sig(&out[2], "osof");
        sig(&out[3], "t Hv");
        break;
    case 0x40000001u:
        sig(&out[0], "Hv#1");
        break;
    case 0x40000002u:
        out[0] = HOST_BUILD;
        out[1] = HOST_VERSION;
        break;
    case 0x40000003u:
        out[0] = PRIV_HYPERCALL_MSRS | PRIV_VP_INDEX;
        if (hv_has(hv, HVF_TIME_REF))
            out[0] |= PRIV_TIME_REF_COUNT;
        if (hv_has(hv, HVF_TSC_PAGE))
            out[0] |= PRIV_REFERENCE_TSC;
        if (hv_has(hv, HVF_FREQ)) {
            out[0] |= PRIV_FREQUENCY_MSRS;
            out[3] |= MISC_FREQUENCY_MSRS;
        }
        if (hv_has(hv, HVF_TSC_INVARIANT))
            out[0] |= PRIV_TSC_INVARIANT;
        /* EBX stays 0 for Linux (bit 1 -> BUG(), bit 12 -> root); bit 17 only on request. */
        if (hv_has(hv, HVF_VPREGS))
            out[1] |= PRIV_HI_ACCESS_VP_REGISTERS;
        if (hv_has(hv, HVF_XMM_INPUT))
            out[3] |= MISC_XMM_INPUT;
        if (hv_has(hv, HVF_EXT_GVA) && hv_has(hv, HVF_TLBFLUSH))
            out[3] |= MISC_EXT_GVA_RANGES;
        break;
    case 0x40000004u:
        if (hv_has(hv, HVF_TLBFLUSH))
            out[0] |= HINT_REMOTE_FLUSH;
        if (hv_has(hv, HVF_IPI))
            out[0] |= HINT_CLUSTER_IPI;
        if (hv_has(hv, HVF_EX_MASKS) && (hv_has(hv, HVF_TLBFLUSH) || hv_has(hv, HVF_IPI)))
            out[0] |= HINT_EX_MASKS;
        out[1] = SPIN_NEVER_NOTIFY;
        break;
    case 0x40000005u:
        out[0] = hv->p->nr_vps;     /* maximum VPs */
        out[1] = hv->p->nr_vps;     /* maximum LPs */
        break;
    default:
        break;                      /* beyond the maximum leaf: zero */
    }
}
