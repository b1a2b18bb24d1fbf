/* The x86 debug architecture (SDM Vol. 3A ch. 17, 6.8-6.9; APM Vol. 2 ch. 13) and the
 * host debugger's view of a VP (the gdb stub, frontend/gdb_stub.c).
 *
 * One per-VP condition, c->per_insn, says "check every instruction": TF or RF set,
 * an enabled DR7 breakpoint, a host breakpoint, watchpoint or step, or a debug trap
 * held back by MOV SS.  dbg_update() recomputes it whenever one of those inputs
 * changes.  The run loop tests it once per block (docs/internals.md §10) and then
 * runs the block through dbg_insn_begin() / dbg_insn_end() around every
 * instruction; with it clear nothing here is on the path of an instruction.
 *
 * Data breakpoints never slow the memory fast path: the linear pages they watch are
 * kept out of the mmu's fast-lookup cache (mmu_set_nofast_pages), so every access
 * to them takes the slow path, where dbg_mem_access() compares it.
 */
#ifndef HVEMU_CPU_DEBUG_ARCH_H
#define HVEMU_CPU_DEBUG_ARCH_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;
struct insn;

/* DR6 (SDM Vol. 3A 17.2.3): B0-B3, BD, BS, BT; bits 4-11 and 16-31 read as 1 (BLD
 * and RTM are not modelled, so they stay 1), bit 12 and bits 63:32 read as 0. */
#define DR6_B(n)      (1ull << (n))
#define DR6_BMASK     0xfull
#define DR6_BD        (1ull << 13)
#define DR6_BS        (1ull << 14)
#define DR6_BT        (1ull << 15)
#define DR6_FIXED1    0xffff0ff0ull
#define DR6_WRITABLE  (DR6_BMASK | DR6_BD | DR6_BS | DR6_BT)
#define DR6_INIT      DR6_FIXED1
/* DR7 (17.2.4): L0/G0..L3/G3 (bits 0-7), LE/GE (8-9), GD (13), R/W and LEN of each
 * breakpoint (16+4n, 18+4n); bit 10 reads as 1, bits 11, 12, 14, 15 as 0. */
#define DR7_GD        (1ull << 13)
#define DR7_FIXED1    0x400ull
#define DR7_WRITABLE  0xffff23ffull
#define DR7_INIT      DR7_FIXED1
#define DR7_ENABLED(dr7, n) ((((dr7) >> (2 * (n))) & 3) != 0)
#define DR7_RW(dr7, n)      ((unsigned)((dr7) >> (16 + 4 * (n))) & 3)
#define DR7_LEN(dr7, n)     ((unsigned)((dr7) >> (18 + 4 * (n))) & 3)
enum dr7_rw { DR7_RW_EXEC = 0, DR7_RW_WRITE = 1, DR7_RW_IO = 2, DR7_RW_ACCESS = 3 };

/* c->intr_shadow values: STI blocks interrupts for one instruction; MOV SS / POP SS
 * also hold back debug exceptions (SDM Vol. 3A 6.8.3). */
#define SHADOW_STI    1u
#define SHADOW_MOV_SS 2u

/* ---- the host debugger (one per partition, shared by its VPs) ---- */

#define DBG_HOST_MAX_BPS 64
#define DBG_HOST_MAX_WPS 16
#define DBG_HOST_MAX_WP_LEN 4096    /* bytes one host watchpoint may cover */

enum dbg_watch_kind { DBG_WATCH_WRITE = 1, DBG_WATCH_READ = 2, DBG_WATCH_ACCESS = 3 };

struct dbg_host_wp {
    uint64_t la;
    uint64_t len;
    uint8_t kind;               /* enum dbg_watch_kind */
};

/* Breakpoints and watchpoints of a host debugger, by linear address.  They are the
 * debugger's own, separate from the guest's DR0-DR7; the guest never sees them. */
struct dbg_host {
    unsigned n_bp, n_wp;
    uint64_t bp[DBG_HOST_MAX_BPS];
    struct dbg_host_wp wp[DBG_HOST_MAX_WPS];
};

/* Why a VP stopped for the host debugger (cpu_run returned CPU_EXIT_DEBUG). */
enum dbg_stop_reason {
    DBG_STOP_NONE = 0,
    DBG_STOP_BREAK,             /* before the instruction at addr (a host breakpoint) */
    DBG_STOP_STEP,              /* one instruction (or one event delivery) done */
    DBG_STOP_WATCH,             /* after an access to addr matched a host watchpoint */
};

/* ---- per-VP state (struct cpu's dbg) ---- */
struct dbg_state {
    /* DR7 decoded (dbg_update): the enabled breakpoints of each kind and their ranges. */
    uint8_t exec_mask, data_mask, io_mask;
    uint8_t watch;                  /* data breakpoints or host watchpoints: slow-path checks */
    uint64_t lo[4], len[4];         /* breakpoint n covers [lo, lo + len) */

    /* The instruction being checked (dbg_insn_begin .. dbg_insn_end). */
    uint8_t tf_start;               /* RFLAGS.TF when it started */
    uint8_t shadow_start;           /* c->intr_shadow when it started */
    uint8_t delivered;              /* it delivered an event (INT n, INT3, INTO, INT1) */
    uint64_t hits;                  /* DR6 B0-B3 of data and I/O breakpoints it matched */
    uint64_t held;                  /* DR6 bits held back by MOV SS / POP SS */
    uint8_t code_bp_fault;          /* the #DB being raised is an instruction breakpoint */

    /* The host debugger. */
    const struct dbg_host *host;    /* NULL: none */
    uint8_t host_step;              /* stop after one instruction */
    uint8_t host_skip;              /* resume: the breakpoint at host_skip_la does not fire once */
    uint64_t host_skip_la;
    uint8_t stop;                   /* enum dbg_stop_reason of a pending stop */
    uint8_t stop_kind;              /* DBG_STOP_WATCH: the watchpoint's kind */
    uint64_t stop_addr;

    /* A stop inside a decoded block: where the same block goes on (cpu/exec.c). */
    const void *resume_block;
    uint16_t resume_index;
    uint8_t resume_armed;
    uint64_t resume_rip;
    uint64_t resume_pa;             /* an uncached instruction: its fetched physical address */
    uint8_t resume_uncached;
};

/* Recompute c->per_insn, the decoded DR7 and the pages the fast cache must not hold,
 * after TF/RF, DR7, CR4.DE, the host debugger's breakpoints or step changed. */
void dbg_update(struct cpu *c);

/* Power-on / INIT state of DR0-DR7 and of the per-VP checks (SDM Vol. 3A Table 9-1). */
void dbg_reset(struct cpu *c);

/* MOV from/to DRn (SDM Vol. 2 MOV-Debug Registers): #UD, #GP(0), general detect. */
uint64_t dbg_read_dr(struct cpu *c, unsigned n);
void dbg_write_dr(struct cpu *c, unsigned n, uint64_t v);

/* Around one instruction while c->per_insn (the run loop's checked path).
 * dbg_insn_begin: a host breakpoint at the instruction returns false (the VP stops
 * before it, c->dbg.stop says why); an enabled instruction breakpoint not suppressed
 * by RF raises #DB (a fault); then RF is cleared (SDM Vol. 3A 17.3.1.1).
 * dbg_insn_end: the traps of the instruction (single-step, data and I/O
 * breakpoints) are delivered as one #DB, or held back after MOV SS / POP SS; a host
 * step or watchpoint sets c->dbg.stop. */
bool dbg_insn_begin(struct cpu *c);
void dbg_insn_end(struct cpu *c, const struct insn *i);

/* Memory and port accesses, from the slow paths (only while c->dbg.watch /
 * io breakpoints are enabled). */
void dbg_mem_access(struct cpu *c, uint64_t la, unsigned size, bool write);
void dbg_io_access(struct cpu *c, uint16_t port, unsigned size);

/* A repeated string instruction asks after each iteration: did it match a data or
 * I/O breakpoint (so that the trap is taken after this iteration: SDM 17.3.1.2)? */
static inline bool dbg_iteration_hit(const struct dbg_state *d)
{
    return d->hits != 0 || d->stop == DBG_STOP_WATCH;
}

/* SYSRET restored TF = 1: the single-step trap is taken right after it, with RIP at
 * the return address (called by h_sysret, in whichever path it ran). */
void dbg_sysret_trap(struct cpu *c);

/* A fault was delivered (cpu_run's fault path): true when the VP now stops for the
 * host debugger (a step that faulted ends at the handler). */
bool dbg_after_fault(struct cpu *c);

/* Event delivery (cpu/exception.c): dbg_note_delivery as it starts (a fault drops
 * the instruction's matches and held traps; #DB clears DR7.GD).  The accesses of a
 * delivery (IDT, GDT, TSS reads, the frame) are data accesses like any other: what
 * they matched is taken with dbg_take_delivery_hits and delivered as a #DB trap at
 * the handler's first instruction with dbg_trap_after_delivery. */
void dbg_note_delivery(struct cpu *c, int vector, bool fault);
uint64_t dbg_take_delivery_hits(struct cpu *c, int vector);
void dbg_trap_after_delivery(struct cpu *c, uint64_t dr6);

#endif
