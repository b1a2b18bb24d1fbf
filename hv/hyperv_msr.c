/* Synthetic MSRs (HV-SPEC.md A-3, B-1.2), the hypercall page overlay (A-1, B-1.3),
 * the reference counter and TSC page, and the life cycle of struct hyperv.
 *
 * #GP (return false) where the TLFS says: an MSR whose privilege bit is not
 * advertised, writes to read-only MSRs, a GPFN beyond the physical address space,
 * reserved bits, and writes to a locked hypercall MSR. */
#include "cpu/cpu_quirks.h"
#include "hv/hyperv.h"
#include "hv/partition.h"
#include "mmu/physmem.h"
#include "mmu/walk.h"

#include <stdlib.h>
#include <string.h>

const char *const hv_feature_names[HVF_COUNT] = {
    [HVF_TIME_REF] = "reftime",
    [HVF_TSC_PAGE] = "tscpage",
    [HVF_FREQ] = "frequencies",
    [HVF_TSC_INVARIANT] = "tscinvariant",
    [HVF_XMM_INPUT] = "xmm",
    [HVF_EXT_GVA] = "extgva",
    [HVF_TLBFLUSH] = "tlbflush",
    [HVF_EX_MASKS] = "exmasks",
    [HVF_IPI] = "ipi",
    [HVF_VPREGS] = "vpregs",
};

/* HV_X64_MSR_HYPERCALL (B-1.2): bit 0 Enable, bit 1 Locked, 11:2 RsvdP, 63:12 GPFN. */
#define HYPERCALL_ENABLE (1ull << 0)
#define HYPERCALL_LOCKED (1ull << 1)
#define PAGE_FIELD_RSVD  0xFFEull           /* bits 11:1 of the page-address MSRs */
#define GPA_LIMIT (1ull << WALK_MAXPHYADDR) /* CPUID 0x80000008 physical address bits */

#define HV_REF_HZ 10000000ull               /* reference counter: 100 ns units (TLFS) */

/* --- hypercall page overlay --------------------------------------------------- */

static uint64_t overlay_read(void *opaque, uint64_t off, unsigned size)
{
    const struct hyperv *hv = opaque;
    uint64_t v = 0;
    for (unsigned k = 0; k < size && off + k < sizeof hv->page; k++)
        v |= (uint64_t)hv->page[off + k] << (8 * k);
    return v;
}

static void overlay_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    (void)opaque; (void)off; (void)val; (void)size;     /* an overlay: writes do not change it */
}

/* VMCALL 0F 01 C1 (Intel) or VMMCALL 0F 01 D9 (AMD: QUIRK_HYPERCALL_VMMCALL), then
 * RET; the rest INT3 (B-1.3). */
static void build_page(struct hyperv *hv)
{
    memset(hv->page, 0xCC, sizeof hv->page);
    bool vmmcall = hv->p->nr_vps && cpu_quirk(&hv->p->vps[0].cpu, QUIRK_HYPERCALL_VMMCALL);
    hv->page[0] = 0x0F;
    hv->page[1] = 0x01;
    hv->page[2] = vmmcall ? 0xD9 : 0xC1;
    hv->page[3] = 0xC3;
}

static void overlay_unmap(struct hyperv *hv)
{
    if (hv->overlay_mapped)
        physmem_remove_mmio(hv->p->pm, hv->overlay_gpa);
    hv->overlay_mapped = false;
}

static bool overlay_map(struct hyperv *hv, uint64_t gpa)
{
    if (hv->overlay_mapped && hv->overlay_gpa == gpa)
        return true;
    overlay_unmap(hv);
    build_page(hv);
    if (!physmem_add_mmio(hv->p->pm, gpa, 4096, overlay_read, overlay_write, hv, "hv-hypercall-page"))
        return false;       /* it would overlap a device region */
    hv->overlay_mapped = true;
    hv->overlay_gpa = gpa;
    return true;
}

static bool write_hypercall_msr(struct hyperv *hv, uint64_t val)
{
    if (hv->hypercall_msr & HYPERCALL_LOCKED)
        return false;                   /* immutable until reset (OpenVMM #GPs) */
    uint64_t gpa = val & ~0xFFFull;
    if (gpa >= GPA_LIMIT)
        return false;                   /* GPFN beyond the GPA space (TLFS) */
    val &= ~0xFFCull;                   /* RsvdP bits 11:2 read as 0 */
    if (hv->guest_os_id == 0)
        val &= ~HYPERCALL_ENABLE;       /* enable ignored while the OS ID is 0 (TLFS) */
    if (val & HYPERCALL_ENABLE) {
        if (!overlay_map(hv, gpa))
            return false;
    } else {
        overlay_unmap(hv);
    }
    hv->hypercall_msr = val;
    return true;
}

/* --- reference time ---------------------------------------------------------------- */

uint64_t hv_ref_time(const struct hyperv *hv, struct cpu *c)
{
    /* The TSC page formula, so that the MSR and the page agree exactly (B-1.2). */
    return (uint64_t)(((unsigned __int128)cpu_tsc(c) * hv->tsc_scale) >> 64);
}

/* TSC page (B-1.2): TscSequence u32 @0, TscScale u64 @8, TscOffset s64 @16. */
static void write_tsc_page(struct hyperv *hv, uint64_t gpa)
{
    if (!physmem_is_ram(hv->p->pm, gpa, 4096))
        return;                         /* nothing to write into; the MSR keeps the value */
    uint8_t img[24] = { 0 };
    uint32_t seq = 1;                   /* non-zero: valid (0 and 0xFFFFFFFF mean invalid) */
    uint64_t offset = 0;
    memcpy(img + 0, &seq, 4);
    memcpy(img + 8, &hv->tsc_scale, 8);
    memcpy(img + 16, &offset, 8);
    physmem_write_bytes(hv->p->pm, gpa, img, sizeof img);
}

/* --- the MSR hooks ----------------------------------------------------------------- */

bool hv_msr_read(struct hyperv *hv, struct cpu *c, uint32_t msr, uint64_t *val)
{
    if (!hv->enabled)
        return false;
    switch (msr) {
    case HV_MSR_GUEST_OS_ID:
        *val = hv->guest_os_id;
        return true;
    case HV_MSR_HYPERCALL:
        *val = hv->hypercall_msr;
        return true;
    case HV_MSR_VP_INDEX:
        *val = (uint64_t)c->vp_index;
        return true;
    case HV_MSR_TIME_REF_COUNT:
        if (!hv_has(hv, HVF_TIME_REF))
            return false;
        *val = hv_ref_time(hv, c);
        return true;
    case HV_MSR_REFERENCE_TSC:
        if (!hv_has(hv, HVF_TSC_PAGE))
            return false;
        *val = hv->ref_tsc_msr;
        return true;
    case HV_MSR_TSC_FREQUENCY:
    case HV_MSR_APIC_FREQUENCY:
        if (!hv_has(hv, HVF_FREQ))
            return false;
        /* The TSC counts core cycles (cpu_tsc); the APIC timer input clock is the core clock too. */
        *val = c->cpu_freq_hz;
        return true;
    case HV_MSR_VP_ASSIST_PAGE:
        if (c->vp_index < 0 || c->vp_index >= HV_MAX_VPS)
            return false;
        *val = hv->vp[c->vp_index].vp_assist;
        return true;
    case HV_MSR_TSC_INVARIANT_CTL:
        if (!hv_has(hv, HVF_TSC_INVARIANT))
            return false;
        *val = hv->tsc_invariant_ctl;
        return true;
    default:
        return false;
    }
}

bool hv_msr_write(struct hyperv *hv, struct cpu *c, uint32_t msr, uint64_t val)
{
    if (!hv->enabled)
        return false;
    switch (msr) {
    case HV_MSR_GUEST_OS_ID:
        hv->guest_os_id = val;
        if (val == 0 && (hv->hypercall_msr & HYPERCALL_ENABLE)) {
            /* Writing 0 disables the hypercall page (TLFS; KVM clears enable). */
            hv->hypercall_msr &= ~HYPERCALL_ENABLE;
            overlay_unmap(hv);
        }
        return true;
    case HV_MSR_HYPERCALL:
        return write_hypercall_msr(hv, val);
    case HV_MSR_REFERENCE_TSC:
        if (!hv_has(hv, HVF_TSC_PAGE) || (val & ~0xFFFull) >= GPA_LIMIT)
            return false;
        val &= ~PAGE_FIELD_RSVD;
        hv->ref_tsc_msr = val;
        if (val & 1)
            write_tsc_page(hv, val & ~0xFFFull);
        return true;
    case HV_MSR_VP_ASSIST_PAGE:
        if ((val & PAGE_FIELD_RSVD) || (val & ~0xFFFull) >= GPA_LIMIT)
            return false;
        if (c->vp_index < 0 || c->vp_index >= HV_MAX_VPS)
            return false;
        hv->vp[c->vp_index].vp_assist = val;     /* stored (B-1.2: Linux writes it always) */
        return true;
    case HV_MSR_TSC_INVARIANT_CTL:
        if (!hv_has(hv, HVF_TSC_INVARIANT) || (val & ~1ull))
            return false;                        /* bit 0 is the only defined bit (KVM) */
        hv->tsc_invariant_ctl = val;
        return true;
    case HV_MSR_VP_INDEX:
    case HV_MSR_TIME_REF_COUNT:
    case HV_MSR_TSC_FREQUENCY:
    case HV_MSR_APIC_FREQUENCY:
    default:
        return false;                            /* read-only or unknown: #GP */
    }
}

/* --- life cycle -------------------------------------------------------------------- */

struct hyperv *hv_new(struct partition *p, const struct hv_config *cfg)
{
    struct hyperv *hv = calloc(1, sizeof *hv);
    if (!hv)
        return NULL;
    hv->p = p;
    hv->cfg = *cfg;
    hv->enabled = !cfg->off;
    hv->features = (HV_DEFAULT_FEATURES | cfg->features_on) & ~cfg->features_off;
    hv->lock_timer = -1;
    uint64_t hz = p->cfg.cpu_freq_hz ? p->cfg.cpu_freq_hz : CLOCK_DEFAULT_HZ;
    if (hz > HV_REF_HZ) {
        hv->tsc_scale = (uint64_t)(((unsigned __int128)HV_REF_HZ << 64) / hz);
    } else {
        /* The scale would not fit in 64 bits: no TSC page, and the counter saturates. */
        hv->tsc_scale = UINT64_MAX;
        hv->features &= ~HVF_BIT(HVF_TSC_PAGE);
    }
    build_page(hv);
    return hv;
}

void hv_free(struct hyperv *hv)
{
    free(hv);
}
