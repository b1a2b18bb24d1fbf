/* The hypercall dispatcher (HV-SPEC.md, B-1.4 - B-1.8, B-2.6): decode the
 * control value, validate in the documented order, copy the input block out of
 * guest memory (slow) or the registers (fast, XMM-fast), run the handler of the
 * table row, write the result back, and either retire the VMCALL or leave RIP on
 * it (rep continuation, suspend on a TLB lock).
 *
 * Validation order (B-2.6):
 *   1. CPL != 0, real/virtual-8086 mode, interface off, guest OS ID 0   -> #UD
 *   2. privilege/recommendation bit of the call missing                 -> ACCESS_DENIED
 *   3. reserved control bits                                            -> INVALID_HYPERCALL_INPUT
 *   4. fast call needing > 16 input bytes without XMM input             -> #UD
 *   5. unknown call code                                                -> INVALID_HYPERCALL_CODE
 *   6. rep / variable-header / fast-size shape                         -> INVALID_HYPERCALL_INPUT
 *   7. slow call: misaligned, page-straddling, overlapping or non-RAM GPA -> INVALID_ALIGNMENT
 *   8-11. in the handlers (varhead vs popcount, parameters, locks, the work).
 */
#include "hv/hyperv.h"
#include "hv/partition.h"
#include "cpu/exception.h"
#include "mmu/physmem.h"

#include <string.h>

/* Costs (HV-SPEC A-8).  No source gives exact numbers; the values sit inside the
 * ranges of TLB-MODEL.md B-1.5 and §3 so that the model lands where it should:
 *  entry_exit: a VMX exit + entry round trip plus dispatch, ~0.4 us at 3 GHz
 *    (TLB-MODEL.md §3: the IPI path is 1-3 us; the hypercall must be cheaper per
 *    target: one exit instead of an interrupt entry + ack on every target).
 *  per_target: posting a flush request to one VP and waiting for its ack; the IPI
 *    model of TLB-MODEL.md §3 charges ~0.2 us (600 cycles) per receiver, the
 *    hypercall skips the receiver's interrupt entry: a third of that.
 *  per_gva_element: one INVLPG-like operation per List element on a target
 *    ("a local INVLPG costs ~100s of cycles", TLB-MODEL.md §3, [U]).
 *  per_ipi_target: an APIC write to one target, as a fixed-IPI send (~0.1 us).
 *  per_register: a register read/write in the hypervisor. */
const struct hv_costs hv_costs = {
    .entry_exit = 1200,
    .per_target = 200,
    .per_gva_element = 100,
    .per_ipi_target = 300,
    .per_register = 50,
};

/* Control value (B-1.4) */
#define CTL_FAST             (1ull << 16)
#define CTL_VARHEAD_SHIFT    17
#define CTL_VARHEAD_MASK     0x3FFull
#define CTL_REP_COUNT_SHIFT  32
#define CTL_REP_START_SHIFT  48
#define CTL_REP_MASK         0xFFFull
/* bits 31:27 (31 = "is nested", reserved for a guest as in Linux/KVM), 47:44, 63:60 */
#define CTL_RESERVED ((0x1Full << 27) | (0xFull << 44) | (0xFull << 60))

#define FAST_MAX_PLAIN 16           /* RDX + R8 */
#define FAST_MAX_XMM   112          /* RDX, R8, XMM0-5 (B-1.6) */
#define PAGE 4096u

struct call_desc {
    uint16_t code;
    const char *name;
    bool rep;
    bool varhead;                   /* takes a variable header */
    int feature, feature2;          /* required HVF_*; -1 none */
    size_t hdr;                     /* fixed header bytes */
    size_t rep_in, rep_out;         /* bytes per rep element, input and output */
    unsigned (*fn)(struct hv_call *hc);
};

static const struct call_desc calls[] = {
    { HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, "FlushVirtualAddressSpace", false, false,
      HVF_TLBFLUSH, -1, 24, 0, 0, hv_call_flush_space },
    { HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, "FlushVirtualAddressList", true, false,
      HVF_TLBFLUSH, -1, 24, 8, 0, hv_call_flush_list },
    { HVCALL_SEND_SYNTHETIC_CLUSTER_IPI, "SendSyntheticClusterIpi", false, false,
      HVF_IPI, -1, 16, 0, 0, hv_call_send_ipi },
    { HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, "FlushVirtualAddressSpaceEx", false, true,
      HVF_TLBFLUSH, HVF_EX_MASKS, 32, 0, 0, hv_call_flush_space_ex },
    { HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, "FlushVirtualAddressListEx", true, true,
      HVF_TLBFLUSH, HVF_EX_MASKS, 32, 8, 0, hv_call_flush_list_ex },
    { HVCALL_SEND_SYNTHETIC_CLUSTER_IPI_EX, "SendSyntheticClusterIpiEx", false, true,
      HVF_IPI, HVF_EX_MASKS, 24, 0, 0, hv_call_send_ipi_ex },
    /* Get: HV_REGISTER_NAME (u32) in, HV_REGISTER_VALUE (16 bytes) out.
     * Set: HV_REGISTER_ASSOC {u32 name, u32 + u64 reserved, 16-byte value}. */
    { HVCALL_GET_VP_REGISTERS, "GetVpRegisters", true, false,
      HVF_VPREGS, -1, 16, 4, 16, hv_call_get_vp_registers },
    { HVCALL_SET_VP_REGISTERS, "SetVpRegisters", true, false,
      HVF_VPREGS, -1, 16, 32, 0, hv_call_set_vp_registers },
};
_Static_assert(sizeof calls / sizeof calls[0] <= sizeof ((struct hv_stats *)0)->by_code / sizeof(uint64_t),
               "one statistics slot per table row");

const char *hv_call_name(unsigned row)
{
    return row < sizeof calls / sizeof calls[0] ? calls[row].name : NULL;
}

static const struct call_desc *find_call(uint16_t code, unsigned *row)
{
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (calls[i].code == code) {
            *row = i;
            return &calls[i];
        }
    return NULL;
}

static bool long_mode(const struct cpu *c)
{
    return c->mode == MODE_LONG64;
}

/* The register pairs of the 32-bit convention (B-1.4). */
static uint64_t pair(const struct cpu *c, enum gpr hi, enum gpr lo)
{
    return (c->gpr[hi] & 0xFFFFFFFFull) << 32 | (c->gpr[lo] & 0xFFFFFFFFull);
}

/* A slow-call buffer: 8-byte aligned, within one page, all RAM (B-1.6). */
static bool gpa_ok(const struct hyperv *hv, uint64_t gpa, size_t len)
{
    if (gpa & 7)
        return false;
    if ((gpa & (PAGE - 1)) + len > PAGE)
        return false;
    return physmem_is_ram(hv->p->pm, gpa, len ? len : 1);
}

static void count_status(struct hv_stats *st, unsigned status)
{
    if (status < sizeof st->by_status / sizeof st->by_status[0])
        st->by_status[status]++;
    else
        st->other_status++;
}

static void raise_ud(struct hyperv *hv, struct cpu *c)
{
    hv->st.ud++;
    cpu_raise_ud(c);
}

/* Retire the VMCALL with a result (B-1.5): status, reps completed (absolute). */
static void complete(struct cpu *c, unsigned status, unsigned reps_done)
{
    uint64_t r = (uint64_t)(status & 0xFFFF) | (uint64_t)(reps_done & CTL_REP_MASK) << 32;
    if (long_mode(c)) {
        c->gpr[RAX] = r;
    } else {
        c->gpr[RAX] = r & 0xFFFFFFFFull;
        c->gpr[RDX] = r >> 32;
    }
}

/* Leave RIP on the VMCALL (continuation, suspend). */
static void leave_on_vmcall(struct cpu *c)
{
    c->rip = c->insn_rip;
    c->attention |= ATTN_BLOCK_END;     /* the decoded block must not run on past it */
}

void hv_hypercall(struct hyperv *hv, struct cpu *c)
{
    /* 1. the environment (B-1.8) */
    if (!hv->enabled || c->cpl != 0 || c->mode == MODE_REAL || (c->rflags & FL_VM)
        || hv->guest_os_id == 0)
        raise_ud(hv, c);
    if (c->vp_index < 0 || (unsigned)c->vp_index >= hv->p->nr_vps)
        raise_ud(hv, c);
    struct vp *caller = &hv->p->vps[c->vp_index];

    bool lm = long_mode(c);
    uint64_t ctl = lm ? c->gpr[RCX] : pair(c, RDX, RAX);
    uint64_t in_gpa = lm ? c->gpr[RDX] : pair(c, RBX, RCX);
    uint64_t out_gpa = lm ? c->gpr[R8] : pair(c, RDI, RSI);
    uint16_t code = (uint16_t)ctl;
    bool fast = ctl & CTL_FAST;
    unsigned varhead = (unsigned)(ctl >> CTL_VARHEAD_SHIFT & CTL_VARHEAD_MASK);
    unsigned rep_count = (unsigned)(ctl >> CTL_REP_COUNT_SHIFT & CTL_REP_MASK);
    unsigned rep_start = (unsigned)(ctl >> CTL_REP_START_SHIFT & CTL_REP_MASK);
    unsigned row = 0;
    const struct call_desc *d = find_call(code, &row);
    unsigned status;

    hv->st.calls++;
    c->cycles += hv_costs.entry_exit;
    hv->st.stall_cycles += hv_costs.entry_exit;

    /* 2. privilege */
    if (d && (!hv_has(hv, (enum hv_feature)d->feature)
              || (d->feature2 >= 0 && !hv_has(hv, (enum hv_feature)d->feature2)))) {
        status = HV_STATUS_ACCESS_DENIED;
        goto done;
    }
    /* 3. reserved control bits */
    if (ctl & CTL_RESERVED) {
        status = HV_STATUS_INVALID_HYPERCALL_INPUT;
        goto done;
    }
    size_t in_len = d ? d->hdr + 8 * (size_t)varhead + d->rep_in * rep_count : 0;
    size_t out_len = d ? d->rep_out * rep_count : 0;
    /* 4. a fast call that needs the XMM registers without XMM input (TLFS: #UD) */
    bool xmm = fast && in_len > FAST_MAX_PLAIN;
    if (d && xmm && !hv_has(hv, HVF_XMM_INPUT))
        raise_ud(hv, c);
    /* 5. the code */
    if (!d) {
        hv->st.unknown_code++;
        status = HV_STATUS_INVALID_HYPERCALL_CODE;
        goto done;
    }
    hv->st.by_code[row]++;
    if (!fast)
        hv->st.slow++;
    else if (xmm)
        hv->st.xmm_fast++;
    else
        hv->st.fast++;
    /* 6. shape */
    if ((!d->rep && (rep_count || rep_start)) || (d->rep && (rep_count == 0 || rep_start >= rep_count))
        || (!d->varhead && varhead) || (fast && (in_len > FAST_MAX_XMM || out_len))) {
        status = HV_STATUS_INVALID_HYPERCALL_INPUT;
        goto done;
    }
    /* 7. slow-call buffers */
    if (!fast) {
        bool overlap = out_len && in_gpa < out_gpa + out_len && out_gpa < in_gpa + in_len;
        if (!gpa_ok(hv, in_gpa, in_len) || (out_len && !gpa_ok(hv, out_gpa, out_len)) || overlap) {
            status = HV_STATUS_INVALID_ALIGNMENT;
            goto done;
        }
    }

    /* The input block, copied once: the handlers never touch guest memory for input. */
    uint8_t in[PAGE], out[PAGE];
    if (fast) {
        uint64_t q[2 + 12];
        q[0] = lm ? c->gpr[RDX] : pair(c, RBX, RCX);
        q[1] = lm ? c->gpr[R8] : pair(c, RDI, RSI);
        for (unsigned k = 0; k < 6; k++) {
            q[2 + 2 * k] = c->fpu.xmm[k].q[0];
            q[3 + 2 * k] = c->fpu.xmm[k].q[1];
        }
        memcpy(in, q, in_len);
    } else {
        physmem_read_bytes(hv->p->pm, in_gpa, in, in_len);
    }
    memset(out, 0, out_len);

    struct hv_call hc = {
        .hv = hv, .caller = caller, .code = code, .fast = fast, .xmm = xmm,
        .varhead = varhead, .rep_count = rep_count, .rep_start = rep_start,
        .in = in, .in_len = in_len, .var_off = d->hdr, .rep_off = d->hdr + 8 * (size_t)varhead,
        .out = out, .out_len = out_len, .reps_done = rep_start,
        .budget = c->cpu_freq_hz / 1000000 * HV_CONTINUATION_US,
    };
    status = d->fn(&hc);
    c->cycles += hc.cost;
    hv->st.stall_cycles += hc.cost;

    /* Output of completed reps is written back whatever the status (OpenVMM). */
    if (out_len && hc.reps_done > rep_start) {
        size_t from = d->rep_out * rep_start, to = d->rep_out * hc.reps_done;
        physmem_write_bytes(hv->p->pm, out_gpa + from, out + from, to - from);
    }
    if (status == HV_RESULT_SUSPEND) {
        leave_on_vmcall(c);                      /* RAX, RCX untouched; tlb_lock.c suspended the VP */
        return;
    }
    if (status == HV_RESULT_CONTINUE) {
        /* TLFS "Hypercall Continuation": RIP stays, RCX's rep start = reps done. */
        hv->st.continuations++;
        uint64_t nctl = (ctl & ~(CTL_REP_MASK << CTL_REP_START_SHIFT))
                        | (uint64_t)hc.reps_done << CTL_REP_START_SHIFT;
        if (lm) {
            c->gpr[RCX] = nctl;
        } else {
            c->gpr[RDX] = nctl >> 32;
            c->gpr[RAX] = nctl & 0xFFFFFFFFull;
        }
        leave_on_vmcall(c);
        return;
    }
    complete(c, status, d->rep ? hc.reps_done : 0);
    count_status(&hv->st, status);
    return;

done:
    complete(c, status, 0);
    count_status(&hv->st, status);
}
