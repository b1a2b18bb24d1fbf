/* Hypercall helper library for the freestanding Hyper-V guest tests (tests/guests/hv).
 *
 * Everything here follows the TLFS as digested in HV-SPEC.md Part B (section numbers
 * "B-x.y" below), never the emulator's code: detection through CPUID (B-1.1), the
 * synthetic MSRs (B-1.2), the hypercall page (B-1.3), the input and result values
 * (B-1.4, B-1.5), the slow / fast / XMM-fast conventions and rep calls with
 * continuation (B-1.6), the flush and IPI input layouts (B-2) and HV_VP_SET (B-2.4).
 *
 * Typical use:
 *     struct hv_info hv;
 *     if (!hv_detect(&hv)) ...;                  // CPUID 0x40000000.. says Hyper-V
 *     hv_set_guest_os_id(HV_GUEST_OS_ID_TEST);
 *     hv_enable_hypercall_page();                // allocates and enables the page
 *     u64 *in = hv_input_page();                 // per-VP input page
 *     in[0] = cr3; in[1] = flags; in[2] = mask;
 *     u64 r = hv_call(HVCALL_FLUSH_VA_SPACE, in, 0);
 *     CHECK_EQ(hv_status(r), HV_STATUS_SUCCESS, "...");
 */
#ifndef HVEMU_GUEST_HVCALL_H
#define HVEMU_GUEST_HVCALL_H

#include "rt.h"

typedef long long s64;

/* ---- CPUID (B-1.1) ---- */
#define HV_CPUID_VENDOR        0x40000000u
#define HV_CPUID_INTERFACE     0x40000001u
#define HV_CPUID_VERSION       0x40000002u
#define HV_CPUID_FEATURES      0x40000003u
#define HV_CPUID_HINTS         0x40000004u
#define HV_CPUID_LIMITS        0x40000005u
#define HV_INTERFACE_HV1       0x31237648u     /* "Hv#1" */

/* 0x40000003.EAX privilege bits (MSR access) */
#define HV_PRIV_TIME_REF_COUNT   (1u << 1)
#define HV_PRIV_HYPERCALL_MSRS   (1u << 5)
#define HV_PRIV_VP_INDEX         (1u << 6)
#define HV_PRIV_REFERENCE_TSC    (1u << 9)
#define HV_PRIV_FREQUENCY_MSRS   (1u << 11)
#define HV_PRIV_TSC_INVARIANT    (1u << 15)
/* 0x40000003.EBX (hypercall privileges) */
#define HV_PRIV_ACCESS_VP_REGS   (1u << 17)
/* 0x40000003.EDX */
#define HV_FEAT_XMM_INPUT        (1u << 4)
#define HV_FEAT_FREQUENCY_MSRS   (1u << 8)
#define HV_FEAT_EXT_GVA_RANGES   (1u << 14)
/* 0x40000004.EAX recommendations */
#define HV_HINT_REMOTE_FLUSH     (1u << 2)
#define HV_HINT_CLUSTER_IPI      (1u << 10)
#define HV_HINT_EX_PROC_MASKS    (1u << 11)

struct hv_info {
    int present;                 /* CPUID.1:ECX[31] and "Microsoft Hv" */
    u32 max_leaf;                /* 0x40000000.EAX */
    char vendor[13];
    u32 interface;               /* 0x40000001.EAX */
    u32 build_eax, build_ebx;    /* 0x40000002 */
    u32 priv_eax, priv_ebx, priv_ecx, priv_edx;   /* 0x40000003 */
    u32 hints_eax, hints_ebx;    /* 0x40000004 */
    u32 max_vps, max_lps;        /* 0x40000005 */
};
extern struct hv_info hv_info;    /* filled by hv_detect() */

/* Reads the leaves into *out (and hv_info); returns 1 if a Hyper-V interface is there. */
int hv_detect(struct hv_info *out);

/* ---- synthetic MSRs (B-1.2) ---- */
#define HV_MSR_GUEST_OS_ID     0x40000000u
#define HV_MSR_HYPERCALL       0x40000001u
#define HV_MSR_VP_INDEX        0x40000002u
#define HV_MSR_TIME_REF_COUNT  0x40000020u
#define HV_MSR_REFERENCE_TSC   0x40000021u
#define HV_MSR_TSC_FREQUENCY   0x40000022u
#define HV_MSR_APIC_FREQUENCY  0x40000023u
#define HV_MSR_VP_ASSIST_PAGE  0x40000073u
#define HV_MSR_TSC_INVARIANT   0x40000118u
#define HV_HYPERCALL_ENABLE    (1ull << 0)
#define HV_HYPERCALL_LOCKED    (1ull << 1)

/* Guest OS ID of these tests: vendor 0x8100 (open source, Linux's encoding, B-1.2)
 * with a recognisable version field. */
#define HV_GUEST_OS_ID_TEST    ((0x8100ull << 48) | (0x0601ull << 16) | 0x4856)

/* rdmsr/wrmsr that return 0 and store the value, or 1 if the access faulted (#GP
 * vector in rt_last_trap). */
int hv_rdmsr_safe(u32 msr, u64 *val);
int hv_wrmsr_safe(u32 msr, u64 val);

void hv_set_guest_os_id(u64 id);
/* Allocates the hypercall page (once) and writes the hypercall MSR with enable set.
 * Returns the page (identity mapped, VA = GPA). */
void *hv_enable_hypercall_page(void);
extern void *volatile hv_hypercall_pg;   /* NULL until enabled */
/* This VP's index (MSR 0x40000002). */
u32 hv_vp_index(void);

/* ---- input value and result (B-1.4, B-1.5) ---- */
#define HV_CTL_FAST            (1ull << 16)
#define HV_CTL_VARHEAD(n)      ((u64)(n) << 17)
#define HV_CTL_REP_COUNT(n)    ((u64)(n) << 32)
#define HV_CTL_REP_START(n)    ((u64)(n) << 48)
#define HV_CTL_REP_START_MASK  (0xfffull << 48)
static inline unsigned hv_status(u64 result) { return (unsigned)(result & 0xffff); }
static inline unsigned hv_reps_done(u64 result) { return (unsigned)((result >> 32) & 0xfff); }

/* HV_STATUS (B-1.7) */
#define HV_STATUS_SUCCESS                 0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE  0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003
#define HV_STATUS_INVALID_ALIGNMENT       0x0004
#define HV_STATUS_INVALID_PARAMETER       0x0005
#define HV_STATUS_ACCESS_DENIED           0x0006
const char *hv_status_name(unsigned status);

/* Call codes (HV-SPEC A-4) */
#define HVCALL_FLUSH_VA_SPACE     0x0002
#define HVCALL_FLUSH_VA_LIST      0x0003
#define HVCALL_SEND_IPI           0x000B
#define HVCALL_FLUSH_VA_SPACE_EX  0x0013
#define HVCALL_FLUSH_VA_LIST_EX   0x0014
#define HVCALL_SEND_IPI_EX        0x0015
#define HVCALL_GET_VP_REGISTERS   0x0050
#define HVCALL_SET_VP_REGISTERS   0x0051

/* HV_FLUSH_FLAGS (B-2.1) */
#define HV_FLUSH_ALL_PROCESSORS     (1ull << 0)
#define HV_FLUSH_ALL_ADDRESS_SPACES (1ull << 1)
#define HV_FLUSH_NON_GLOBAL_ONLY    (1ull << 2)
#define HV_FLUSH_EXTENDED_RANGE     (1ull << 3)

/* HV_VP_SET formats (B-2.4) */
#define HV_GENERIC_SET_SPARSE_4K  0
#define HV_GENERIC_SET_ALL        1

/* HV_GVA range element, simple encoding (B-2.3): page number + additional pages. */
static inline u64 hv_gva(u64 va, unsigned extra_pages) { return (va & ~0xfffull) | (extra_pages & 0xfff); }

/* HvRegisterInterceptSuspend (B-3.1): bit 0 Suspended, bit 1 TlbLocked */
#define HV_REG_EXPLICIT_SUSPEND   0x00000000u
#define HV_REG_INTERCEPT_SUSPEND  0x00000001u
#define HV_INTERCEPT_SUSPEND_TLB_LOCKED (1ull << 1)

/* ---- issuing hypercalls ---- */
/* Register image of one hypercall: in = what is loaded before the CALL to the
 * page, out = what came back (every register the TLFS lets the hypervisor touch,
 * and the ones it must not, so tests can check both). */
struct hv_regs {
    u64 rax, rcx, rdx, r8;
    u64 rbx, rsi, rdi, r9, r10, r11, r12;
    u64 xmm[12];          /* XMM0..XMM5 as low/high qword pairs */
};
/* Calls the hypercall page with RCX/RDX/R8 (and XMM0-5 if load_xmm) from *r and
 * stores every listed register back into *r.  RBX, RSI, RDI, R9..R12 are loaded
 * with fixed sentinels first so a test can see whether the hypervisor touched them.
 * Returns RAX.  load_xmm needs SSE (CR4.OSFXSR, hv_sse_init()). */
u64 hv_call_regs(struct hv_regs *r, int load_xmm);
#define HV_SENTINEL(i) (0x5e5e000000000000ull | ((u64)(i) << 8) | 0xa5)

/* Slow convention: RDX = input GPA, R8 = output GPA (identity map: GPA = VA). */
u64 hv_call(u64 control, const void *in, void *out);
/* Fast (register) convention: RDX, R8 = the two input qwords. */
u64 hv_call_fast(u64 control, u64 rdx, u64 r8);
/* XMM fast convention (B-1.6): the input byte stream in[0..n) goes to RDX, R8,
 * XMM0 low, XMM0 high, ... XMM5 high (n <= 14); the fast bit is set here. */
#define HV_XMM_MAX_QWORDS 14
u64 hv_call_xmm(u64 control, const u64 *in, unsigned n);
/* Rep call with continuation (B-1.6): re-issues with rep start = reps completed
 * while the result is SUCCESS with fewer reps than asked, as Linux does.  Returns
 * the last result; *calls (if non-NULL) gets the number of VMCALLs made. */
u64 hv_call_rep(u64 control, const void *in, void *out, unsigned *calls);
u64 hv_call_rep_xmm(u64 control, const u64 *in, unsigned n, unsigned *calls);

/* Enables SSE (CR0.EM=0, CR0.MP=1, CR4.OSFXSR|OSXMMEXCPT) and probes one SSE move.
 * Returns 1 if XMM registers can be loaded on this CPU, 0 if the move faulted. */
int hv_sse_init(void);

/* Per-VP input / output pages (one each per VP index, allocated on first use;
 * call hv_pages_prealloc() on VP 0 before other VPs use them). */
u64 *hv_input_page(void);
u64 *hv_output_page(void);
void hv_pages_prealloc(unsigned nr_vps);

/* ---- HV_VP_SET sparse encoding (B-2.4) ---- */
/* Writes {format = SPARSE_4K, valid_banks_mask, bank[0..]} for the VP indices
 * vps[0..n) into set[] (at most 2 + 64 qwords) and returns the number of banks,
 * which is the variable-header size for the Ex calls.  Banks are only those with
 * at least one VP (ascending), so varhead = popcount(mask). */
unsigned hv_vpset_sparse(u64 *set, const unsigned *vps, unsigned n);
/* Writes {format = ALL, mask 0}; returns 0 (no banks). */
unsigned hv_vpset_all(u64 *set);

static inline unsigned hv_popcount64(u64 v) { unsigned n = 0; for (; v; v &= v - 1) n++; return n; }

#endif
