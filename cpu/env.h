/* The CPU's only window on the rest of the machine (DESIGN.md §1): hv/ fills this
 * table of hooks.  Any hook may be NULL; the comment says what the CPU does then.
 * Hooks run synchronously inside an instruction.  A hook that wants the VP to leave
 * the run loop sets ATTN_YIELD or calls cpu_request_stop().
 */
#ifndef HVEMU_CPU_ENV_H
#define HVEMU_CPU_ENV_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

struct cpu_env {
    /* Port I/O (IN/OUT/INS/OUTS after the permission checks). NULL: reads all-ones, writes dropped. */
    uint32_t (*io_in)(void *opaque, struct cpu *c, uint16_t port, unsigned size);
    void     (*io_out)(void *opaque, struct cpu *c, uint16_t port, uint32_t val, unsigned size);
    /* MSRs the CPU does not own (APIC, Hyper-V synthetic MSRs).  Return false -> #GP(0). */
    bool (*msr_read)(void *opaque, struct cpu *c, uint32_t msr, uint64_t *val);
    bool (*msr_write)(void *opaque, struct cpu *c, uint32_t msr, uint64_t val);
    /* CPUID post-processing: called after the architectural leaves are filled (or zeroed
     * for leaves cpu/ does not know) and may change out[0..3] = EAX, EBX, ECX, EDX.
     * This is where the hypervisor leaves 0x40000000+ and CPUID.1:ECX[31] come from. */
    void (*cpuid)(void *opaque, struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
    /* VMCALL/VMMCALL at CPL 0 (the CPU has checked nothing else).  NULL -> #UD. */
    void (*hypercall)(void *opaque, struct cpu *c);
    /* External interrupts: the highest-priority deliverable vector (acknowledging it),
     * or -1.  Asked only when RFLAGS.IF = 1 and no interrupt shadow. NULL: none. */
    int  (*intr_ack)(void *opaque, struct cpu *c);
    /* An NMI is pending (and is consumed by returning true). NULL: never. */
    bool (*nmi_ack)(void *opaque, struct cpu *c);
    /* CR8 (TPR) was written. */
    void (*tpr_write)(void *opaque, struct cpu *c, uint64_t tpr);
};

#endif
