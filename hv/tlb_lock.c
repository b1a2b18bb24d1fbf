/* TLB lock and caller suspend (HV-SPEC.md A-7, B-3): each VP has TlbLocked (bit 1 of
 * HvRegisterInterceptSuspend).  A flush that targets a locked VP other than the
 * caller suspends the caller: RIP stays on the VMCALL, RAX and RCX are untouched, the
 * VP is not scheduled and takes no interrupts.  When every VP it waits on has been
 * unlocked it becomes runnable and simply executes the VMCALL again, which
 * re-validates everything (B-3.2).  Only the VPs locked at the time of the flush can
 * block it (as OpenVMM's tlb_lock.rs); a new lock is seen by the re-executed call.
 *
 * Lock sources: HvCallSetVpRegisters (0x0051) when AccessVpRegisters is granted, the
 * embedding API (include/hvemu/hvemu.h) and the -tlb-lock schedule on the clock. */
#include "hv/hyperv.h"
#include "hv/partition.h"
#include "hvemu/hvemu.h"
#include "mmu/trace_hooks.h"

#include <string.h>

/* Get/SetVpRegisters header (TLFS): PartitionId u64, VpIndex u32, InputVtl u8, 3 reserved. */
#define HV_PARTITION_ID_SELF 0xFFFFFFFFFFFFFFFFull
#define HV_VP_INDEX_SELF     0xFFFFFFFEu

bool hv_tlb_locked(const struct hyperv *hv, unsigned vp)
{
    return vp < HV_MAX_VPS && (hv->vp[vp].intercept_suspend & HV_INTERCEPT_SUSPEND_TLB_LOCKED);
}

/* Release: wake each suspended VP whose wait set has become empty; its clock moves
 * to 'now' (it was stalled until the release), the gap counted as suspended time. */
static void release(struct hyperv *hv, unsigned vp, uint64_t now)
{
    for (unsigned w = 0; w < hv->p->nr_vps; w++) {
        struct hv_vp *s = &hv->vp[w];
        if (!s->suspended)
            continue;
        s->wait_on[vp / 64] &= ~(1ull << (vp % 64));
        bool empty = true;
        for (unsigned k = 0; k < HV_VP_WORDS; k++)
            if (s->wait_on[k])
                empty = false;
        if (!empty)
            continue;
        struct vp *v = &hv->p->vps[w];
        s->suspended = false;
        if (v->state != VP_SUSPENDED)
            continue;               /* nothing else may have moved it, but never revive a stopped VP */
        if (v->cpu.cycles < now)
            v->cpu.cycles = now;
        uint64_t stalled = v->cpu.cycles - s->suspended_at;
        s->suspended_cycles += stalled;
        hv->st.suspended_cycles += stalled;
        hv->st.resumes++;
        v->state = VP_RUNNABLE;
        mmu_trace_resume(&v->mmu, stalled > 65535 ? 65535 : (uint32_t)stalled);
    }
}

static void set_locked(struct hyperv *hv, unsigned vp, bool locked, uint64_t now)
{
    if (vp >= hv->p->nr_vps || hv_tlb_locked(hv, vp) == locked)
        return;
    if (locked) {
        hv->vp[vp].intercept_suspend |= HV_INTERCEPT_SUSPEND_TLB_LOCKED;
        hv->st.tlb_locks++;
    } else {
        hv->vp[vp].intercept_suspend &= ~HV_INTERCEPT_SUSPEND_TLB_LOCKED;
        hv->st.tlb_unlocks++;
        release(hv, vp, now);
    }
}

void hv_tlb_set_locked(struct hyperv *hv, unsigned vp, bool locked)
{
    set_locked(hv, vp, locked, hv->p->clock.now);
}

bool hv_suspend_if_locked(struct hv_call *hc, const struct hv_vpset *targets)
{
    struct hyperv *hv = hc->hv;
    unsigned me = hc->caller->index;
    struct hv_vp *s = &hv->vp[me];
    memset(s->wait_on, 0, sizeof s->wait_on);
    bool any = false;
    unsigned holder = 0;
    for (unsigned v = 0; v < hv->p->nr_vps; v++) {
        if (v != me && hv_vpset_has(targets, v) && hv_tlb_locked(hv, v)) {
            s->wait_on[v / 64] |= 1ull << (v % 64);     /* never on its own lock (B-3.4) */
            if (!any)
                holder = v;
            any = true;
        }
    }
    if (!any)
        return false;
    s->suspended = true;
    s->suspended_at = hc->caller->cpu.cycles;
    hc->caller->state = VP_SUSPENDED;
    hc->caller->cpu.attention |= ATTN_YIELD;     /* back to the scheduler now */
    hv->st.suspends++;
    mmu_trace_suspend(&hc->caller->mmu, holder);  /* the first holder it waits on */
    return true;
}

/* --- HvCallGetVpRegisters / HvCallSetVpRegisters (HvRegisterInterceptSuspend only) --- */

static unsigned target_vp(struct hv_call *hc, unsigned *vp)
{
    uint64_t pid = hv_in_u64(hc, 0);
    uint32_t idx = (uint32_t)hv_in_u64(hc, 8);
    uint32_t vtl_rsvd = (uint32_t)(hv_in_u64(hc, 8) >> 32);
    if (pid != HV_PARTITION_ID_SELF)
        return HV_STATUS_INVALID_PARTITION_ID;
    if (vtl_rsvd)
        return HV_STATUS_INVALID_PARAMETER;         /* no VTLs; reserved bytes are zero */
    if (idx == HV_VP_INDEX_SELF)
        idx = hc->caller->index;
    if (idx >= hc->hv->p->nr_vps)
        return HV_STATUS_INVALID_VP_INDEX;
    *vp = idx;
    return HV_STATUS_SUCCESS;
}

unsigned hv_call_get_vp_registers(struct hv_call *hc)
{
    unsigned vp, st = target_vp(hc, &vp);
    if (st)
        return st;
    for (unsigned i = hc->rep_start; i < hc->rep_count; i++) {
        uint32_t name = (uint32_t)hv_in_u64(hc, hc->rep_off + 4 * (size_t)i);
        if (name != HV_REGISTER_INTERCEPT_SUSPEND)
            return HV_STATUS_INVALID_PARAMETER;
        uint64_t val = hc->hv->vp[vp].intercept_suspend;
        memcpy(hc->out + 16 * (size_t)i, &val, 8);  /* high qword stays 0 */
        hc->cost += hv_costs.per_register;
        hc->reps_done = i + 1;
    }
    return HV_STATUS_SUCCESS;
}

unsigned hv_call_set_vp_registers(struct hv_call *hc)
{
    unsigned vp, st = target_vp(hc, &vp);
    if (st)
        return st;
    for (unsigned i = hc->rep_start; i < hc->rep_count; i++) {
        size_t off = hc->rep_off + 32 * (size_t)i;
        uint64_t name_rsvd = hv_in_u64(hc, off), rsvd2 = hv_in_u64(hc, off + 8);
        uint64_t lo = hv_in_u64(hc, off + 16), hi = hv_in_u64(hc, off + 24);
        if ((uint32_t)name_rsvd != HV_REGISTER_INTERCEPT_SUSPEND || (name_rsvd >> 32) || rsvd2)
            return HV_STATUS_INVALID_PARAMETER;
        /* Bit 0 (Suspended) is not modelled: only TlbLocked may be written. */
        if (hi || (lo & ~HV_INTERCEPT_SUSPEND_TLB_LOCKED))
            return HV_STATUS_INVALID_PARAMETER;
        hc->cost += hv_costs.per_register;
        set_locked(hc->hv, vp, lo & HV_INTERCEPT_SUSPEND_TLB_LOCKED, hc->caller->cpu.cycles + hc->cost);
        hc->reps_done = i + 1;
    }
    return HV_STATUS_SUCCESS;
}

/* --- the -tlb-lock schedule --------------------------------------------------------- */

static void on_lock_event(void *opaque, uint64_t now)
{
    struct hyperv *hv = opaque;
    while (hv->lock_next < hv->nlock_times && hv->lock_times[hv->lock_next].at <= now) {
        unsigned k = hv->lock_next++;
        set_locked(hv, hv->lock_times[k].vp, hv->lock_times[k].lock, hv->lock_times[k].at);
    }
    if (hv->lock_next < hv->nlock_times)
        clock_timer_arm(&hv->p->clock, hv->lock_timer, hv->lock_times[hv->lock_next].at);
}

bool hv_lock_schedule_init(struct hyperv *hv, char *err, size_t errlen)
{
    hv->nlock_times = 0;
    for (unsigned i = 0; i < hv->cfg.nlocks && i < HV_MAX_LOCK_EVENTS; i++) {
        const struct hv_lock_event *e = &hv->cfg.locks[i];
        if (e->vp >= hv->p->nr_vps) {
            snprintf(err, errlen, "-tlb-lock vp=%u: the partition has %u VPs (0..%u)", e->vp,
                     hv->p->nr_vps, hv->p->nr_vps - 1);
            return false;
        }
        uint64_t end = e->at + e->duration < e->at ? UINT64_MAX : e->at + e->duration;
        hv->lock_times[hv->nlock_times].at = e->at;
        hv->lock_times[hv->nlock_times].vp = e->vp;
        hv->lock_times[hv->nlock_times++].lock = true;
        hv->lock_times[hv->nlock_times].at = end;
        hv->lock_times[hv->nlock_times].vp = e->vp;
        hv->lock_times[hv->nlock_times++].lock = false;
    }
    /* Stable insertion sort by time: equal times keep command-line order (deterministic). */
    for (unsigned i = 1; i < hv->nlock_times; i++)
        for (unsigned j = i; j > 0 && hv->lock_times[j - 1].at > hv->lock_times[j].at; j--) {
            __typeof__(hv->lock_times[0]) t = hv->lock_times[j];
            hv->lock_times[j] = hv->lock_times[j - 1];
            hv->lock_times[j - 1] = t;
        }
    hv->lock_next = 0;
    if (!hv->nlock_times)
        return true;
    hv->lock_timer = clock_timer_new(&hv->p->clock, "tlb-lock", on_lock_event, hv);
    if (hv->lock_timer < 0) {
        snprintf(err, errlen, "-tlb-lock: no clock timer left");
        return false;
    }
    clock_timer_arm(&hv->p->clock, hv->lock_timer, hv->lock_times[0].at);
    return true;
}

/* --- the embedding API ------------------------------------------------------------- */

static int api_set(struct partition *p, unsigned vp, bool locked)
{
    if (!p || !p->hv || !p->hv->enabled || vp >= p->nr_vps)
        return -1;
    hv_tlb_set_locked(p->hv, vp, locked);
    return 0;
}

int hvemu_tlb_lock(struct partition *p, unsigned vp)
{
    return api_set(p, vp, true);
}

int hvemu_tlb_unlock(struct partition *p, unsigned vp)
{
    return api_set(p, vp, false);
}

int hvemu_tlb_is_locked(const struct partition *p, unsigned vp)
{
    if (!p || !p->hv || vp >= p->nr_vps)
        return -1;
    return hv_tlb_locked(p->hv, vp) ? 1 : 0;
}

int hvemu_vp_is_suspended(const struct partition *p, unsigned vp)
{
    if (!p || !p->hv || vp >= p->nr_vps)
        return -1;
    return p->hv->vp[vp].suspended ? 1 : 0;
}
