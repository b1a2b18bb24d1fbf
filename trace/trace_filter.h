/* Trace filters (TLB-MODEL.md Part A-7): which events reach the file.
 *
 * Syntax (the value of -trace-filter):
 *   spec   := clause { sep clause }        sep := ';' | ','
 *   clause := key '=' item { isep item }   isep := '+' | ':' | ','
 * A ','-separated token without '=' continues the previous key's list, so both
 *   vp=0,2-3;events=fill,evict          (TLB-MODEL spelling)
 *   vp=0+2-3,events=fill:evict          (issue 3 spelling)
 * mean the same. Keys:
 *   vp=N|LO-HI        VP indices
 *   pcid=N|LO-HI      PCID of the record (TLB events only)
 *   cr3=X|LO-HI       the VP's current CR3 root (bits 12-51), TLB events only
 *   va=LO-HI          linear address; events without an address always pass,
 *                     List flushes pass when their range overlaps
 *   cycles=LO-HI      cycle window (inclusive)
 *   events=NAME|GROUP event names of trace_format.h ("fill", "invpcid2" or
 *                     "LOOKUP_L1_HIT"), groups: all, lookup, walk, tlb (fill,
 *                     evict), inv, hv, shootdown, sched (suspend, resume), ctx
 *   hits=none|all|N   L1 hits: counted only (default), all logged, or 1-in-N
 * Numbers are decimal or 0x-hex; ranges are inclusive. Hypervisor, shootdown
 * and scheduling events are not subject to pcid/cr3 (they carry no PCID).
 */
#ifndef HVEMU_TRACE_TRACE_FILTER_H
#define HVEMU_TRACE_TRACE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace_format.h"

#define TRACE_FILTER_MAX_RANGES 16

struct trace_range { uint64_t lo, hi; };
struct trace_range_list {
    unsigned n;                         /* 0 = no restriction */
    struct trace_range r[TRACE_FILTER_MAX_RANGES];
};

struct trace_filter {
    struct trace_range_list vp, pcid, cr3, va, cycles;
    uint64_t events;                    /* bit per enum trace_event */
    uint32_t hit_sample;                /* 0 = L1 hits counted only, 1 = all, N = 1-in-N */
};

/* The default: every event, L1 hits counted only. */
void trace_filter_default(struct trace_filter *f);
/* Parse spec (NULL or "" = default). false + one-line message in err on error. */
bool trace_filter_parse(struct trace_filter *f, const char *spec, char *err, size_t errlen);
/* Canonical text of f ("" for the default), the form stored in the header. */
void trace_filter_format(const struct trace_filter *f, char *out, size_t outlen);
/* True if vp/pcid/cr3/va/events/cycles restrict anything (hits= does not count). */
bool trace_filter_restricts(const struct trace_filter *f);
/* Does r pass? cr3_root is the current CR3 root of r->vp. L1-hit sampling is
 * the writer's job, not decided here. */
bool trace_filter_match(const struct trace_filter *f, const struct trace_record *r, uint64_t cr3_root);


#endif
