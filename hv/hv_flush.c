/* The TLB-flush hypercalls (HV-SPEC.md A-6, B-2.1 - B-2.4): FlushVirtualAddressSpace
 * (0x0002), FlushVirtualAddressList (0x0003), and the Ex forms 0x0013/0x0014 with a
 * sparse HV_VP_SET.  They act on each target VP's modelled TLB through the mmu's
 * Hyper-V entry points (exact granularity: CR3-root matching, NON_GLOBAL keeps
 * globals, whole large pages) before the caller's VMCALL retires.
 *
 * Parameter checks, strict TLFS (B-2.6 step 9), in this order: reserved flag bits,
 * NON_GLOBAL on a List call, EXTENDED on a Space call or without CPUID bit 14,
 * reserved AddressSpace bits, format > 1, empty target set without ALL_PROCESSORS.
 * compat=kvm: mask 0 / an empty sparse set / format > 1 behave as in KVM (B-2.4, B-2.6).
 */
#include "hv/hyperv.h"
#include "hv/partition.h"
#include "mmu/walk.h"
#include "mmu/trace_hooks.h"

#define FLAGS_DEFINED (HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES \
                       | HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY | HV_FLUSH_USE_EXTENDED_RANGE_FORMAT)
/* AddressSpace is a CR3 value: bits at or above MAXPHYADDR are reserved (SDM 4.5). */
#define AS_RESERVED (~((1ull << WALK_MAXPHYADDR) - 1))

/* GVA range elements (B-2.3) */
#define GVA_ADDITIONAL_SIMPLE 0xFFFull
#define GVA_ADDITIONAL_EXT    0x7FFull
#define GVA_EXT_LARGE         (1ull << 11)
#define GVA_EXT_1G            (1ull << 12)
#define GVA_EXT_RSVD          (0xFFull << 13)

struct flush_req {
    uint64_t as, flags;
    struct hv_vpset targets;
};

static unsigned check_flags(const struct hv_call *hc, uint64_t flags, uint64_t as, bool list)
{
    if (flags & ~FLAGS_DEFINED)
        return HV_STATUS_INVALID_PARAMETER;
    if (list && (flags & HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY))
        return HV_STATUS_INVALID_PARAMETER;
    if ((flags & HV_FLUSH_USE_EXTENDED_RANGE_FORMAT) && (!list || !hv_has(hc->hv, HVF_EXT_GVA)))
        return HV_STATUS_INVALID_PARAMETER;
    if (!(flags & HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES) && (as & AS_RESERVED))
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

/* Header of 0x0002/0x0003: AddressSpace, Flags, ProcessorMask. */
static unsigned parse_simple(struct hv_call *hc, struct flush_req *r, bool list)
{
    struct hyperv *hv = hc->hv;
    r->as = hv_in_u64(hc, 0);
    r->flags = hv_in_u64(hc, 8);
    uint64_t mask = hv_in_u64(hc, 16);
    unsigned st = check_flags(hc, r->flags, r->as, list);
    if (st)
        return st;
    if (r->flags & HV_FLUSH_ALL_PROCESSORS) {
        hv_vpset_all(&r->targets, hv->p->nr_vps);
    } else if (mask == 0) {
        if (!hv->cfg.compat_kvm)
            return HV_STATUS_INVALID_PARAMETER;
        hv_vpset_all(&r->targets, hv->p->nr_vps);   /* KVM: the WS2012 workaround */
    } else {
        hv_vpset_from_mask(&r->targets, mask, hv->p->nr_vps);
    }
    return HV_STATUS_SUCCESS;
}

/* Header of 0x0013/0x0014: AddressSpace, Flags, HV_VP_SET.  *nothing: KVM's
 * "sparse set without banks -> SUCCESS" (compat=kvm only). */
static unsigned parse_ex(struct hv_call *hc, struct flush_req *r, bool list, bool *nothing)
{
    struct hyperv *hv = hc->hv;
    *nothing = false;
    r->as = hv_in_u64(hc, 0);
    r->flags = hv_in_u64(hc, 8);
    uint64_t valid = hv_in_u64(hc, 24);
    /* 8. the variable header is the bank list */
    if (hc->varhead != (unsigned)__builtin_popcountll(valid))
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    unsigned st = check_flags(hc, r->flags, r->as, list);
    if (st)
        return st;
    uint64_t format;
    bool named;
    st = hv_vpset_parse(&r->targets, hc, 16, hv->p->nr_vps, &format, &named);
    if (st)
        return st;
    if (r->flags & HV_FLUSH_ALL_PROCESSORS) {
        hv_vpset_all(&r->targets, hv->p->nr_vps);
        return HV_STATUS_SUCCESS;
    }
    if (format > HV_GENERIC_SET_ALL) {
        if (!hv->cfg.compat_kvm)
            return HV_STATUS_INVALID_PARAMETER;
        hv_vpset_all(&r->targets, hv->p->nr_vps);   /* KVM: any format but sparse = all */
        return HV_STATUS_SUCCESS;
    }
    if (!named) {
        if (!hv->cfg.compat_kvm)
            return HV_STATUS_INVALID_PARAMETER;
        *nothing = true;
    }
    return HV_STATUS_SUCCESS;
}

/* The caller-side trace record (trace/trace_format.h TRACE_HV_*); the targets' action
 * records come from the mmu's flush entry points. */
static void trace_call(struct hv_call *hc, const struct flush_req *r)
{
    unsigned type = hc->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE ? TRACE_EV_HV_FLUSH_SPACE
                    : hc->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST ? TRACE_EV_HV_FLUSH_LIST
                    : hc->code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ? TRACE_EV_HV_FLUSH_SPACE_EX
                    : TRACE_EV_HV_FLUSH_LIST_EX;
    uint64_t stall = hv_costs.entry_exit + hc->cost;
    mmu_trace_hv_call(&hc->caller->mmu, type, r->flags, r->as, r->targets.w[0],
                      stall > 65535 ? 65535 : (uint32_t)stall);
}

static void flush_space(struct hv_call *hc, const struct flush_req *r)
{
    struct hyperv *hv = hc->hv;
    uint64_t f = r->flags & (HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES | HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY);
    unsigned n = 0;
    for (unsigned v = 0; v < hv->p->nr_vps; v++) {
        if (!hv_vpset_has(&r->targets, v))
            continue;
        mmu_flush_address_space(&hv->p->vps[v].mmu, r->as, f);
        n++;
    }
    hc->cost += (uint64_t)n * hv_costs.per_target;
    hv->st.flush_calls++;
    hv->st.flush_targets += n;
    trace_call(hc, r);
}

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Decode one GVA range element into [gva, gva + npages pages); false to skip it. */
static bool decode_gva(uint64_t e, bool ext, uint64_t *gva, uint64_t *npages, bool *bad)
{
    *bad = false;
    if (!ext) {
        *gva = e & ~0xFFFull;
        *npages = (e & GVA_ADDITIONAL_SIMPLE) + 1;
    } else if (!(e & GVA_EXT_LARGE)) {
        *gva = e & ~0xFFFull;
        *npages = (e & GVA_ADDITIONAL_EXT) + 1;
    } else {
        if (e & GVA_EXT_RSVD) {
            *bad = true;
            return false;
        }
        bool g1 = e & GVA_EXT_1G;
        uint64_t size = g1 ? 1ull << 30 : 1ull << 21;
        *gva = (e >> 21 << 21) & ~(size - 1);
        *npages = ((e & GVA_ADDITIONAL_EXT) + 1) * (size >> 12);
    }
    /* Non-canonical GVAs lie beyond the GVA space: ignored (B-2.3, KVM skips them). */
    return canonical(*gva);
}

static unsigned flush_list(struct hv_call *hc, const struct flush_req *r)
{
    struct hyperv *hv = hc->hv;
    bool ext = r->flags & HV_FLUSH_USE_EXTENDED_RANGE_FORMAT;
    uint64_t f = r->flags & HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
    unsigned n = hv_vpset_count(&r->targets);
    if (hc->rep_start == 0) {                    /* count the call once, not per continuation */
        hv->st.flush_calls++;
        hv->st.flush_targets += n;
    }
    for (unsigned i = hc->rep_start; i < hc->rep_count; i++) {
        uint64_t gva, npages;
        bool bad;
        if (decode_gva(hv_in_u64(hc, hc->rep_off + 8 * (size_t)i), ext, &gva, &npages, &bad)) {
            for (unsigned v = 0; v < hv->p->nr_vps; v++)
                if (hv_vpset_has(&r->targets, v))
                    mmu_flush_gva_range(&hv->p->vps[v].mmu, r->as, gva, npages, f);
            hv->st.flush_pages += npages;
        } else if (bad) {
            return HV_STATUS_INVALID_PARAMETER;  /* reps_done = the elements before it */
        }
        hc->cost += (uint64_t)n * (hv_costs.per_target + hv_costs.per_gva_element);
        hc->reps_done = i + 1;
        if (hc->cost > hc->budget && i + 1 < hc->rep_count) {
            trace_call(hc, r);                   /* one record per invocation */
            return HV_RESULT_CONTINUE;
        }
    }
    trace_call(hc, r);
    return HV_STATUS_SUCCESS;
}

unsigned hv_call_flush_space(struct hv_call *hc)
{
    struct flush_req r;
    unsigned st = parse_simple(hc, &r, false);
    if (st)
        return st;
    if (hv_suspend_if_locked(hc, &r.targets))
        return HV_RESULT_SUSPEND;
    flush_space(hc, &r);
    return HV_STATUS_SUCCESS;
}

unsigned hv_call_flush_list(struct hv_call *hc)
{
    struct flush_req r;
    unsigned st = parse_simple(hc, &r, true);
    if (st)
        return st;
    if (hv_suspend_if_locked(hc, &r.targets))
        return HV_RESULT_SUSPEND;
    return flush_list(hc, &r);
}

unsigned hv_call_flush_space_ex(struct hv_call *hc)
{
    struct flush_req r;
    bool nothing;
    unsigned st = parse_ex(hc, &r, false, &nothing);
    if (st || nothing)
        return st;
    if (hv_suspend_if_locked(hc, &r.targets))
        return HV_RESULT_SUSPEND;
    flush_space(hc, &r);
    return HV_STATUS_SUCCESS;
}

unsigned hv_call_flush_list_ex(struct hv_call *hc)
{
    struct flush_req r;
    bool nothing;
    unsigned st = parse_ex(hc, &r, true, &nothing);
    if (st)
        return st;
    if (nothing) {
        hc->reps_done = hc->rep_count;
        return HV_STATUS_SUCCESS;
    }
    if (hv_suspend_if_locked(hc, &r.targets))
        return HV_RESULT_SUSPEND;
    return flush_list(hc, &r);
}
