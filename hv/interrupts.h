/* Interrupt routing of the partition (DESIGN.md §1, issue 3): one local APIC per
 * VP (devices/lapic.c), the APIC bus (devices/lapic_bus.c), the I/O APIC at
 * 0xFEC00000 (devices/ioapic.c), the 8259 pair (devices/pic8259.c: ExtINT to the
 * BSP through LINT0), the LAPIC MMIO page
 * (routed to the ACCESSING VP's APIC through partition->running), the x2APIC and
 * TSC-deadline MSRs, CR8, CPUID bits, INIT/SIPI state changes and waking halted VPs.
 *
 * Everything here runs on the scheduler's thread and depends only on virtual
 * cycles, so delivery order and timing are deterministic.
 */
#ifndef HVEMU_HV_INTERRUPTS_H
#define HVEMU_HV_INTERRUPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct partition;
struct vp;
struct cpu;
struct lapic;

/* Create the APICs of p's VPs, map the APIC page and the timer event.  False with a
 * one-line reason in err. */
bool intr_init(struct partition *p, char *err, size_t errlen);
void intr_free(struct partition *p);

/* The local APIC of VP i. */
struct lapic *intr_lapic(struct partition *p, unsigned vp);

/* Can halted VP v resume: a deliverable vector with RFLAGS.IF = 1, or an NMI? */
bool intr_vp_wakeable(struct partition *p, struct vp *v);

/* Fixed, edge-triggered interrupt 'vector' into VP vp's APIC (for synthetic IPIs
 * of the Hyper-V interface and tests).  Wakes the VP if it is halted. */
void intr_send_fixed(struct partition *p, unsigned vp, uint8_t vector);

/* Device interrupt lines.  An ISA IRQ (0..15) drives the 8259 pair and the I/O
 * APIC pin of the same number (IRQ 0 -> pin 2); a GSI drives I/O APIC pin gsi. */
void intr_set_isa_irq(struct partition *p, unsigned irq, bool level);
void intr_set_gsi(struct partition *p, unsigned gsi, bool level);

/* cpu_env hooks (hv/partition.c puts them in partition_cpu_env). */
int  intr_env_ack(void *opaque, struct cpu *c);
bool intr_env_nmi_ack(void *opaque, struct cpu *c);
void intr_env_tpr_write(void *opaque, struct cpu *c, uint64_t tpr);
/* MSRs: returns true if msr belongs to the APIC (x2APIC range, TSC deadline, or an
 * IA32_APIC_BASE notification); *ok then says whether the access succeeded (#GP if not). */
bool intr_msr_read(struct partition *p, struct cpu *c, uint32_t msr, uint64_t *val, bool *ok);
bool intr_msr_write(struct partition *p, struct cpu *c, uint32_t msr, uint64_t val, bool *ok);
/* CPUID.1:ECX x2APIC (21) and TSC-deadline (24). */
void intr_cpuid(struct partition *p, struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

#endif
