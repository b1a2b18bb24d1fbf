/* Debug-log hooks of the CPU (the -d option of frontend/debug_log.c).
 *
 * The CPU library only tests one global bit mask at each hook site and calls
 * through cpu_debug_hooks when the bit is set: with -d off the cost is one load
 * and one never-taken branch (STYLE.md: the hot loop pays nothing for logging).
 * The hooks observe; they must not change guest state (determinism). */
#ifndef HVEMU_CPU_DEBUG_HOOK_H
#define HVEMU_CPU_DEBUG_HOOK_H

#include <stdbool.h>
#include <stdint.h>

#define CPU_DBG_IN_ASM (1u << 0)   /* each newly decoded block, disassembled */
#define CPU_DBG_INT    (1u << 1)   /* each exception / interrupt delivered */
#define CPU_DBG_CPU    (1u << 2)   /* registers at each block start */
#define CPU_DBG_UNIMP  (1u << 3)   /* decoder #UDs, unknown MSRs (and, via io.c, unclaimed ports) */

/* Kinds of delivered events for the int hook. */
enum cpu_dbg_event { CPU_DBG_EXC, CPU_DBG_EXTINT, CPU_DBG_SOFTINT };

struct cpu;
struct insn;

struct cpu_debug_hooks {
    void (*event)(struct cpu *c, int vec, uint32_t err, bool has_err, enum cpu_dbg_event kind);
    void (*ud)(struct cpu *c, const struct insn *i);
    void (*msr)(struct cpu *c, uint32_t msr, bool write, uint64_t val);
    /* A block (or one uncached instruction) about to run for the first time from the
     * slow lookup path: la = its linear address, pa = physical, n instructions. */
    void (*block)(struct cpu *c, uint64_t la, uint64_t pa, const struct insn *insns, unsigned n);
    void (*regs)(struct cpu *c);
};

extern unsigned cpu_debug_mask;                         /* CPU_DBG_*, 0 = all off */
extern const struct cpu_debug_hooks *cpu_debug_hooks;   /* non-NULL whenever the mask is */

#define CPU_DBG_ON(bit) __builtin_expect((cpu_debug_mask & (bit)) != 0, 0)

#endif
