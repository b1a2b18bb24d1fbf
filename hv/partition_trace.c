/* -trace: the partition's event trace (TLB-MODEL.md A-7).  One writer for the whole
 * partition, shared by every VP's mmu (records carry the VP index); the scheduler
 * runs one VP at a time on one host thread, so the record order is deterministic. */
#include "hv/partition.h"

#include <stdarg.h>
#include <stdio.h>

#include "mmu/trace_hooks.h"
#include "trace/trace_writer.h"

#ifndef HVEMU_VERSION
#define HVEMU_VERSION "0.0.0"
#endif

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

bool partition_open_trace(struct partition *p, const char *path, const struct trace_filter *filter,
                          uint64_t seed, char *err, size_t errlen)
{
    struct trace_header_info info = {
        .core_khz = (uint32_t)(p->cfg.cpu_freq_hz / 1000),
        .vp_count = (uint16_t)p->nr_vps,
        .seed = seed,
        .build_text = "hvemu " HVEMU_VERSION,
        .exact_model = p->cfg.tlb_mode == TLB_MODEL_EXACT,
        .inv_counts = true,             /* mmu/trace_hooks.c: latency = entries removed */
    };
    if (!mmu_trace_geometry(p->cfg.tlb_preset, info.geom, &info.preset_id))
        return fail(err, errlen, "-trace %s: unknown TLB preset '%s'", path, p->cfg.tlb_preset);
    char why[300];
    p->trace = trace_open(path, &info, filter, why, sizeof why);
    if (!p->trace)
        return fail(err, errlen, "-trace: %s", why);
    for (unsigned i = 0; i < p->nr_vps; i++)
        mmu_set_trace(&p->vps[i].mmu, p->trace);
    return true;
}

bool partition_close_trace(struct partition *p, char *err, size_t errlen)
{
    if (!p->trace)
        return true;
    for (unsigned i = 0; i < p->nr_vps; i++)
        mmu_set_trace(&p->vps[i].mmu, NULL);    /* folds: counted and fast-cache hits reach the summary */
    char why[300];
    bool ok = trace_close_ex(p->trace, why, sizeof why);
    p->trace = NULL;
    if (!ok)
        return fail(err, errlen, "-trace: %s", why);
    return true;
}
