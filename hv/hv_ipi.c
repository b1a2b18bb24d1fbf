/* The synthetic IPI hypercalls (HV-SPEC.md B-2.5): SendSyntheticClusterIpi (0x000B,
 * a 64-bit mask) and SendSyntheticClusterIpiEx (0x0015, a sparse HV_VP_SET).
 * Fixed, edge-triggered interrupts only, delivered through each target's local APIC
 * (hv/interrupts.c intr_send_fixed, which wakes a halted target).
 *
 * Input: Vector u32 @0 (0x10..0xFF), TargetVtl u8 @4, 3 reserved bytes @5 (all must
 * be 0: there are no VTLs), then ProcessorMask @8 or HV_VP_SET @8.
 * A bad vector is INVALID_PARAMETER (OpenVMM, Xen; KVM says INVALID_HYPERCALL_INPUT).
 * An empty target set is INVALID_PARAMETER (strict TLFS, A-5); with compat=kvm an
 * Ex call with no banks succeeds before the vector is looked at and a zero mask means
 * nothing to send (KVM's selftest expects SUCCESS for both, B-2.5, B-6.2). */
#include "hv/hyperv.h"
#include "hv/partition.h"
#include "hv/interrupts.h"
#include "mmu/trace_hooks.h"

#define IPI_VECTOR_MIN 0x10
#define IPI_VECTOR_MAX 0xFF

static unsigned check_vector(uint64_t q0)
{
    uint32_t vector = (uint32_t)q0;
    if (q0 >> 32)
        return HV_STATUS_INVALID_PARAMETER;         /* TargetVtl or padding set */
    if (vector < IPI_VECTOR_MIN || vector > IPI_VECTOR_MAX)
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

static void send(struct hv_call *hc, const struct hv_vpset *targets, uint8_t vector)
{
    struct hyperv *hv = hc->hv;
    unsigned n = 0;
    for (unsigned v = 0; v < hv->p->nr_vps; v++) {
        if (!hv_vpset_has(targets, v))
            continue;
        intr_send_fixed(hv->p, v, vector);
        n++;
    }
    hc->cost += (uint64_t)n * hv_costs.per_ipi_target;
    hv->st.ipi_calls++;
    hv->st.ipi_targets += n;
    mmu_trace_hv_ipi(&hc->caller->mmu, vector, targets->w[0]);
}

unsigned hv_call_send_ipi(struct hv_call *hc)
{
    uint64_t q0 = hv_in_u64(hc, 0), mask = hv_in_u64(hc, 8);
    unsigned st = check_vector(q0);
    if (st)
        return st;
    struct hv_vpset t;
    if (mask == 0 && !hc->hv->cfg.compat_kvm)
        return HV_STATUS_INVALID_PARAMETER;         /* empty target set (strict) */
    hv_vpset_from_mask(&t, mask, hc->hv->p->nr_vps);
    send(hc, &t, (uint8_t)q0);
    return HV_STATUS_SUCCESS;
}

unsigned hv_call_send_ipi_ex(struct hv_call *hc)
{
    uint64_t q0 = hv_in_u64(hc, 0);
    uint64_t format = hv_in_u64(hc, 8), valid = hv_in_u64(hc, 16);
    if (hc->varhead != (unsigned)__builtin_popcountll(valid))
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    bool kvm = hc->hv->cfg.compat_kvm;
    if (kvm && format == HV_GENERIC_SET_SPARSE_4K && valid == 0)
        return HV_STATUS_SUCCESS;                   /* KVM: no banks, nothing to send, vector unchecked */
    unsigned st = check_vector(q0);
    if (st)
        return st;
    struct hv_vpset t;
    bool named;
    st = hv_vpset_parse(&t, hc, 8, hc->hv->p->nr_vps, &format, &named);
    if (st)
        return st;
    if (format > HV_GENERIC_SET_ALL) {
        if (!kvm)
            return HV_STATUS_INVALID_PARAMETER;
        hv_vpset_all(&t, hc->hv->p->nr_vps);
    } else if (!named && !kvm) {
        return HV_STATUS_INVALID_PARAMETER;         /* empty target set (strict TLFS) */
    }
    send(hc, &t, (uint8_t)q0);
    return HV_STATUS_SUCCESS;
}
