/* The embedding API of hvemu: what a program that builds a partition (hv/partition.h)
 * may do to it from outside the guest.  Minimal on purpose (HV-SPEC.md A-7).
 *
 * TLB lock: while a VP's TLB is locked (HvRegisterInterceptSuspend.TlbLocked), a
 * flush hypercall from another VP that targets it suspends the caller; unlocking
 * wakes the callers that waited only on it, and they re-execute their VMCALL.
 * Call these between scheduler quanta (from a clock event or before/after
 * sched_run), never from another host thread.
 *
 * All functions return -1 for a bad VP index or a partition without the Hyper-V
 * interface. */
#ifndef HVEMU_PUBLIC_HVEMU_H
#define HVEMU_PUBLIC_HVEMU_H

struct partition;

int hvemu_tlb_lock(struct partition *p, unsigned vp);          /* 0: done */
int hvemu_tlb_unlock(struct partition *p, unsigned vp);        /* 0: done */
int hvemu_tlb_is_locked(const struct partition *p, unsigned vp);   /* 1 locked, 0 not */
int hvemu_vp_is_suspended(const struct partition *p, unsigned vp); /* 1: waits on a TLB lock */

#endif
