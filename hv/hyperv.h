/* The Hyper-V interface of the partition (HV-SPEC.md Part A 1-8, DESIGN.md §5):
 * detection CPUID leaves, synthetic MSRs, the hypercall page overlay, the hypercall
 * dispatcher, the TLB-flush and IPI hypercalls, and the TLB lock with caller suspend.
 *
 * Files:  hyperv_cpuid.c (leaves 0x40000000-0x40000005), hyperv_msr.c (MSRs, the
 * page overlay, the reference counter), hypercall.c (decode, validation order of
 * HV-SPEC B-2.6, dispatch table, write-back, rep continuation), hv_vpset.c (masks and
 * sparse HV_VP_SET), hv_flush.c (0x0002/0x0003/0x0013/0x0014), hv_ipi.c (0x000B/0x0015),
 * tlb_lock.c (HvRegisterInterceptSuspend, Get/SetVpRegisters, the -tlb-lock schedule,
 * suspend/resume of callers).
 *
 * Everything a guest writes is untrusted: every field is checked, memory is only
 * read through physmem after the GPA range was found to be RAM.
 */
#ifndef HVEMU_HV_HYPERV_H
#define HVEMU_HV_HYPERV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct partition;
struct vp;
struct cpu;

#define HV_MAX_VPS 128                  /* = PARTITION_MAX_VPS */
#define HV_VP_WORDS (HV_MAX_VPS / 64)

/* --- features (each switchable by name: -hyperv NAME=on|off) -------------------- */
enum hv_feature {
    HVF_TIME_REF,       /* MSR 0x40000020, privilege EAX bit 1 */
    HVF_TSC_PAGE,       /* MSR 0x40000021, EAX bit 9 */
    HVF_FREQ,           /* MSRs 0x40000022/23, EAX bit 11 + EDX bit 8 */
    HVF_TSC_INVARIANT,  /* MSR 0x40000118, EAX bit 15 */
    HVF_XMM_INPUT,      /* XMM fast hypercall input, EDX bit 4 */
    HVF_EXT_GVA,        /* extended GVA ranges for List, EDX bit 14 */
    HVF_TLBFLUSH,       /* 0x0002/0x0003, hint bit 2 */
    HVF_EX_MASKS,       /* 0x0013/0x0014/0x0015, hint bit 11 */
    HVF_IPI,            /* 0x000B/0x0015, hint bit 10 */
    HVF_VPREGS,         /* 0x0050/0x0051, EBX bit 17 (AccessVpRegisters): off by default */
    HVF_COUNT
};
#define HVF_BIT(f) (1u << (f))
extern const char *const hv_feature_names[HVF_COUNT];   /* command-line names */

/* The features on unless switched off (vpregs is off: Linux does not need it). */
#define HV_DEFAULT_FEATURES ((HVF_BIT(HVF_COUNT) - 1) & ~HVF_BIT(HVF_VPREGS))

/* One -tlb-lock vp=V,at=C,for=D entry: lock VP V's TLB at virtual cycle C for D cycles. */
struct hv_lock_event {
    unsigned vp;
    uint64_t at, duration;
};
#define HV_MAX_LOCK_EVENTS 16

/* Command-line configuration.  All-zero = interface on, default features, strict TLFS. */
struct hv_config {
    bool off;                       /* -hyperv off: a plain PC */
    uint32_t features_off;          /* HVF_BIT()s switched off by name */
    uint32_t features_on;           /* HVF_BIT()s switched on by name (vpregs) */
    bool compat_kvm;                /* compat=kvm: KVM's leniencies (HV-SPEC A-5) */
    unsigned nlocks;
    struct hv_lock_event locks[HV_MAX_LOCK_EVENTS];
};

/* --- status codes (HV-SPEC B-1.7) ---------------------------------------------- */
#define HV_STATUS_SUCCESS                 0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE  0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003
#define HV_STATUS_INVALID_ALIGNMENT       0x0004
#define HV_STATUS_INVALID_PARAMETER       0x0005
#define HV_STATUS_ACCESS_DENIED           0x0006
#define HV_STATUS_INVALID_PARTITION_ID    0x000D
#define HV_STATUS_INVALID_VP_INDEX        0x000E
/* Internal results of a handler, never written to RAX. */
#define HV_RESULT_SUSPEND  0x10000      /* caller suspended on a TLB lock: reissue later */
#define HV_RESULT_CONTINUE 0x10001      /* rep call stopped early: RIP not advanced */

/* --- hypercall codes (HV-SPEC B-2, B-3) ---------------------------------------- */
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE     0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST      0x0003
#define HVCALL_SEND_SYNTHETIC_CLUSTER_IPI      0x000B
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX  0x0013
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX   0x0014
#define HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX   0x0015
#define HVCALL_GET_VP_REGISTERS                0x0050
#define HVCALL_SET_VP_REGISTERS                0x0051

/* Flush flags (HV-SPEC B-2.1). */
#define HV_FLUSH_ALL_PROCESSORS              (1ull << 0)
#define HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES  (1ull << 1)
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY    (1ull << 2)
#define HV_FLUSH_USE_EXTENDED_RANGE_FORMAT   (1ull << 3)

/* HV_VP_SET formats (B-2.4). */
#define HV_GENERIC_SET_SPARSE_4K 0
#define HV_GENERIC_SET_ALL       1

/* HvRegisterInterceptSuspend (B-3.1): bit 0 Suspended, bit 1 TlbLocked. */
#define HV_REGISTER_INTERCEPT_SUSPEND 0x00000001u
#define HV_INTERCEPT_SUSPEND_TLB_LOCKED (1ull << 1)

/* --- synthetic MSRs (HV-SPEC B-1.2) -------------------------------------------- */
#define HV_MSR_GUEST_OS_ID        0x40000000u
#define HV_MSR_HYPERCALL          0x40000001u
#define HV_MSR_VP_INDEX           0x40000002u
#define HV_MSR_TIME_REF_COUNT     0x40000020u
#define HV_MSR_REFERENCE_TSC      0x40000021u
#define HV_MSR_TSC_FREQUENCY      0x40000022u
#define HV_MSR_APIC_FREQUENCY     0x40000023u
#define HV_MSR_VP_ASSIST_PAGE     0x40000073u
#define HV_MSR_TSC_INVARIANT_CTL  0x40000118u

/* --- costs (HV-SPEC A-8): one table, with sources ------------------------------ */
struct hv_costs {
    uint32_t entry_exit;        /* VMCALL exit + dispatch + VM entry */
    uint32_t per_target;        /* one target VP's flush request and acknowledgement */
    uint32_t per_gva_element;   /* one List element applied on one target */
    uint32_t per_ipi_target;    /* one IPI posted to a target's local APIC */
    uint32_t per_register;      /* one Get/SetVpRegisters element */
};
extern const struct hv_costs hv_costs;
/* Continuation budget: the TLFS aims for <= 50 us per invocation (B-1.6). */
#define HV_CONTINUATION_US 50

/* --- state ------------------------------------------------------------------- */
struct hv_stats {
    uint64_t calls;                     /* hypercalls that reached the dispatcher */
    uint64_t by_code[8];                /* per table row (hypercall.c order) */
    uint64_t unknown_code;
    uint64_t slow, fast, xmm_fast;      /* per call form */
    uint64_t by_status[7];              /* SUCCESS..ACCESS_DENIED (0x0..0x6; 1 unused) */
    uint64_t other_status;
    uint64_t ud;                        /* VMCALLs answered with #UD */
    uint64_t continuations;             /* rep calls that returned early */
    uint64_t flush_calls, flush_targets, flush_pages;   /* flushes: calls, target VPs, 4K pages */
    uint64_t ipi_calls, ipi_targets;
    uint64_t stall_cycles;              /* cycles charged to callers for hypercalls */
    uint64_t suspends, resumes, suspended_cycles;
    uint64_t tlb_locks, tlb_unlocks;
};

struct hv_vp {
    uint64_t vp_assist;
    uint64_t intercept_suspend;         /* HvRegisterInterceptSuspend (bit 1 TlbLocked) */
    bool suspended;                     /* waiting for the VPs in wait_on to unlock */
    uint64_t wait_on[HV_VP_WORDS];
    uint64_t suspended_at;              /* its cycle count when it was suspended */
    uint64_t suspended_cycles;
};

struct hyperv {
    struct partition *p;
    struct hv_config cfg;
    bool enabled;
    uint32_t features;                  /* effective HVF_BIT()s */
    /* partition-wide MSRs */
    uint64_t guest_os_id, hypercall_msr, ref_tsc_msr, tsc_invariant_ctl;
    bool overlay_mapped;
    uint64_t overlay_gpa;
    uint8_t page[4096];                 /* the hypercall page image */
    uint64_t tsc_scale;                 /* TscScale: (10^7 << 64) / TSC Hz */
    struct hv_vp vp[HV_MAX_VPS];
    /* -tlb-lock schedule: events sorted by time, one clock timer */
    int lock_timer;
    unsigned lock_next;                 /* next index into lock_times */
    unsigned nlock_times;
    struct { uint64_t at; unsigned vp; bool lock; } lock_times[2 * HV_MAX_LOCK_EVENTS];
    struct hv_stats st;
};

/* Lifecycle (hv/partition.c): after the VPs exist. NULL on host allocation failure. */
struct hyperv *hv_new(struct partition *p, const struct hv_config *cfg);
void hv_free(struct hyperv *hv);

/* The cpu_env hooks (hv/partition.c forwards to these). */
void hv_cpuid(struct hyperv *hv, struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
bool hv_msr_read(struct hyperv *hv, struct cpu *c, uint32_t msr, uint64_t *val);
bool hv_msr_write(struct hyperv *hv, struct cpu *c, uint32_t msr, uint64_t val);
void hv_hypercall(struct hyperv *hv, struct cpu *c);

static inline bool hv_has(const struct hyperv *hv, enum hv_feature f)
{
    return hv->enabled && (hv->features & HVF_BIT(f));
}

/* The reference counter (100 ns units) as VP c sees it; agrees with the TSC page. */
uint64_t hv_ref_time(const struct hyperv *hv, struct cpu *c);

/* --- internals shared by the hv files ------------------------------------------ */

/* One decoded hypercall, as a handler sees it.  The input block (header, variable
 * header, rep elements) has been copied out of guest memory or registers. */
struct hv_call {
    struct hyperv *hv;
    struct vp *caller;
    uint16_t code;
    bool fast, xmm;
    unsigned varhead;                   /* qwords */
    unsigned rep_count, rep_start;
    const uint8_t *in;                  /* whole input block */
    size_t in_len;
    size_t var_off;                     /* byte offset of the variable header */
    size_t rep_off;                     /* byte offset of rep element 0 */
    uint8_t *out;                       /* output block (slow calls with output) */
    size_t out_len;
    unsigned reps_done;                 /* absolute, written back in RAX[43:32] */
    uint64_t cost;                      /* cycles charged on top of the entry/exit cost */
    uint64_t budget;                    /* a rep handler stops early once cost exceeds it */
};

static inline uint64_t hv_in_u64(const struct hv_call *hc, size_t off)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < 8 && off + k < hc->in_len; k++)
        v |= (uint64_t)hc->in[off + k] << (8 * k);
    return v;
}

/* Target sets (hv_vpset.c): a bitmap of VP indices 0..HV_MAX_VPS-1. */
struct hv_vpset {
    uint64_t w[HV_VP_WORDS];
};
bool hv_vpset_empty(const struct hv_vpset *s);
unsigned hv_vpset_count(const struct hv_vpset *s);
bool hv_vpset_has(const struct hv_vpset *s, unsigned vp);
void hv_vpset_add(struct hv_vpset *s, unsigned vp);
/* All VPs of a partition with nr_vps VPs. */
void hv_vpset_all(struct hv_vpset *s, unsigned nr_vps);
/* A 64-bit processor mask (VPs 0..63); indices >= nr_vps are dropped. */
void hv_vpset_from_mask(struct hv_vpset *s, uint64_t mask, unsigned nr_vps);
/* A sparse HV_VP_SET at in[off..]: Format, ValidBanksMask, then popcount(mask) banks
 * (varhead must equal that count: checked by the caller).  Returns the status:
 * SUCCESS with *format set (the set is all VPs for GENERIC_SET_ALL), or
 * INVALID_HYPERCALL_INPUT when the banks run past the input.  Banks beyond
 * HV_MAX_VPS and indices >= nr_vps are ignored (B-2.6: KVM and Xen do so);
 * *named_any says whether the guest named any VP at all (for the empty-set rule). */
unsigned hv_vpset_parse(struct hv_vpset *s, const struct hv_call *hc, size_t off,
                        unsigned nr_vps, uint64_t *format, bool *named_any);

/* Handlers (hv_flush.c, hv_ipi.c, tlb_lock.c).  Return an HV_STATUS or HV_RESULT_*. */
unsigned hv_call_flush_space(struct hv_call *hc);
unsigned hv_call_flush_list(struct hv_call *hc);
unsigned hv_call_flush_space_ex(struct hv_call *hc);
unsigned hv_call_flush_list_ex(struct hv_call *hc);
unsigned hv_call_send_ipi(struct hv_call *hc);
unsigned hv_call_send_ipi_ex(struct hv_call *hc);
unsigned hv_call_get_vp_registers(struct hv_call *hc);
unsigned hv_call_set_vp_registers(struct hv_call *hc);

/* TLB lock (tlb_lock.c). */
bool hv_tlb_locked(const struct hyperv *hv, unsigned vp);
/* Set or clear VP vp's TlbLocked; releasing wakes callers waiting only on it. */
void hv_tlb_set_locked(struct hyperv *hv, unsigned vp, bool locked);
/* If a target other than the caller is locked: suspend the caller (RIP rewound, RAX
 * and RCX untouched, VP not scheduled) and return true. */
bool hv_suspend_if_locked(struct hv_call *hc, const struct hv_vpset *targets);
/* Arm the -tlb-lock schedule on the partition clock.  False with a one-line reason
 * (a VP index beyond the partition, no clock timer left). */
bool hv_lock_schedule_init(struct hyperv *hv, char *err, size_t errlen);

/* Command-line parsing (hyperv_options.c): false with a one-line reason. */
bool hv_parse_hyperv_option(const char *arg, struct hv_config *cfg, char *err, size_t errlen);
bool hv_parse_tlb_lock_option(const char *arg, struct hv_config *cfg, char *err, size_t errlen);

/* Name of row `row` of the dispatch table (hypercall.c), NULL past the end. */
const char *hv_call_name(unsigned row);

/* Statistics as JSON members ("hyperv": {...}) at the given indent. */
void hv_stats_write_json(const struct hyperv *hv, FILE *f, int indent);

#endif
