/* The architectural state of one x86-64 processor.
 *
 * cpu/ knows nothing of Hyper-V, devices or the scheduler: everything outside the
 * processor is reached through struct cpu_env (cpu/env.h).  Memory goes through the
 * VP's struct mmu (mmu/mmu.h).  See DESIGN.md §1-2 and docs/internals.md.
 */
#ifndef HVEMU_CPU_CPU_H
#define HVEMU_CPU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/debug_arch.h"

struct mmu;
struct physmem;
struct cpu_env;
struct block_cache;
struct cpu_model;

/* General-purpose registers, in encoding order (SDM Vol. 2 Table 2-2). */
enum gpr { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* Segment registers, in the encoding order of the ModRM sreg field (SDM Vol. 2 3.1.1.3). */
enum seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT, SEG_NONE = 7 };

/* RFLAGS bits (SDM Vol. 1 3.4.3). */
#define FL_CF   (1u << 0)
#define FL_FIXED1 (1u << 1)
#define FL_PF   (1u << 2)
#define FL_AF   (1u << 4)
#define FL_ZF   (1u << 6)
#define FL_SF   (1u << 7)
#define FL_TF   (1u << 8)
#define FL_IF   (1u << 9)
#define FL_DF   (1u << 10)
#define FL_OF   (1u << 11)
#define FL_IOPL (3u << 12)
#define FL_NT   (1u << 14)
#define FL_RF   (1u << 16)
#define FL_VM   (1u << 17)
#define FL_AC   (1u << 18)
#define FL_VIF  (1u << 19)
#define FL_VIP  (1u << 20)
#define FL_ID   (1u << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Control registers (SDM Vol. 3A 2.5). */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_LA57       (1ull << 12)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Exception vectors (SDM Vol. 3A Table 6-1). */
enum exc_vector {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
    EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13,
    EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19, EXC_VE = 20,
};

/* A segment register with its hidden descriptor cache (SDM Vol. 3A 3.4.3). */
struct segment {
    uint64_t base;
    uint32_t limit;     /* byte-granular, already scaled by G */
    uint16_t sel;
    uint16_t attr;      /* descriptor bits 40..47 in 0..7 (type, S, DPL, P), bits 52..55 in 8..11 (AVL, L, D/B, G) */
};
#define SEG_ATTR_TYPE(a) ((a) & 0xf)
#define SEG_ATTR_S    (1u << 4)
#define SEG_ATTR_DPL(a) (((a) >> 5) & 3)
#define SEG_ATTR_P    (1u << 7)
#define SEG_ATTR_AVL  (1u << 8)
#define SEG_ATTR_L    (1u << 9)
#define SEG_ATTR_DB   (1u << 10)
#define SEG_ATTR_G    (1u << 11)

struct dtr {
    uint64_t base;
    uint16_t limit;
};

/* How the processor currently decodes and executes (derived from CR0.PE, EFER.LMA,
 * CS.L, CS.D, RFLAGS.VM); recomputed by cpu_update_mode(). */
enum cpu_mode {
    MODE_REAL,      /* 16-bit real-address mode */
    MODE_PROT16,    /* protected mode, 16-bit code segment */
    MODE_PROT32,    /* protected mode (or compatibility mode), 32-bit code segment */
    MODE_LONG64,    /* 64-bit mode */
};

/* Lazy arithmetic flags (STYLE.md lesson 10): the last flag-setting operation is
 * recorded and CF/PF/AF/ZF/SF/OF are computed only when read.  op == LF_NONE means
 * the arithmetic bits of cpu->rflags are authoritative.  See cpu/flags.h. */
struct lazy_flags {
    uint64_t res;
    uint64_t src1;
    uint64_t src2;
    uint8_t  op;        /* enum lf_op */
    uint8_t  size;      /* operand size in bytes: 1, 2, 4, 8 */
};

/* Machine-specific registers that are plain storage or feed the CPU itself. */
struct cpu_msrs {
    uint64_t star, lstar, cstar, sfmask;
    uint64_t kernel_gs_base;
    uint64_t tsc_offset;        /* IA32_TSC writes adjust this: TSC = cycles + offset */
    uint64_t tsc_aux;
    uint64_t pat;
    uint64_t apic_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t misc_enable;
    uint64_t mtrr_cap, mtrr_def_type;
    uint64_t mtrr_fixed[11];
    uint64_t mtrr_var[16];      /* base/mask pairs */
    uint64_t spec_ctrl;
    uint64_t tsc_deadline;
};

/* One XMM register; MMX registers alias the low 64 bits of the x87 registers. */
typedef union {
    uint8_t  b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    float    f[4];
    double   df[2];
} xmm_reg;

/* x87, MMX and SSE state: the contents of the FXSAVE image (SDM Vol. 1 10.5.1). */
struct fpu_state {
    uint8_t  st[8][10];     /* physical registers R0..R7, 80-bit extended, little-endian */
    uint16_t fcw, fsw;
    uint16_t ftw;           /* full tag word, 2 bits per physical register */
    uint16_t fop;
    uint64_t fip, fdp;      /* last instruction / data pointers */
    uint16_t fcs, fds;
    uint32_t mxcsr;
    xmm_reg  xmm[16];
};

/* cpu->attention bits: checked by the run loop after every instruction. */
#define ATTN_STOP       (1u << 0)   /* leave the run loop: a stop was requested */
#define ATTN_INTR       (1u << 1)   /* an external interrupt or NMI may be pending */
#define ATTN_BLOCK_END  (1u << 2)   /* the current decoded block must not continue (SMC, mode change) */
#define ATTN_YIELD      (1u << 3)   /* return to the scheduler after this instruction */

/* Why cpu_run() returned. */
enum cpu_exit {
    CPU_EXIT_BUDGET,        /* the cycle budget ran out */
    CPU_EXIT_HALT,          /* HLT with no pending interrupt */
    CPU_EXIT_STOP,          /* a stop was requested (debug-exit, power-off, limit) */
    CPU_EXIT_SHUTDOWN,      /* triple fault */
    CPU_EXIT_YIELD,         /* something outside wants the scheduler to run (SIPI wait, suspend) */
    CPU_EXIT_DEBUG,         /* the host debugger stops this VP (c->dbg.stop says why) */
};

struct cpu {
    /* --- hot state first --- */
    uint64_t gpr[16];
    uint64_t rip;               /* during a handler: the address of the NEXT instruction */
    uint64_t rflags;            /* non-arithmetic bits always valid, see struct lazy_flags */
    struct lazy_flags lf;
    uint64_t cycles;            /* this VP's virtual cycle counter */
    uint64_t icount;            /* instructions retired */
    uint32_t attention;         /* ATTN_* */
    uint8_t  mode;              /* enum cpu_mode */
    uint8_t  cpl;
    uint8_t  intr_shadow;       /* SHADOW_*: interrupts inhibited for one instruction (STI, MOV SS) */
    uint8_t  halted;
    uint8_t  per_insn;          /* check every instruction (cpu/debug_arch.h): engines test it
                                 * once per block and run such blocks in the interpreter */
    uint8_t  nmi_blocked;       /* an NMI was delivered; blocked until the next IRET (SDM Vol. 3A 6.7.1) */
    struct mmu *mmu;
    struct block_cache *bcache;
    uint64_t insn_rip;          /* address of the instruction being executed (for faults) */

    /* --- segmentation and descriptor tables --- */
    struct segment seg[SEG_COUNT];
    struct segment ldtr, tr;
    struct dtr gdtr, idtr;

    /* --- control --- */
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t xcr0;
    uint64_t dr[8];
    struct dbg_state dbg;       /* breakpoints, single-step, the host debugger (cpu/debug_arch.h) */
    struct fpu_state fpu;
    struct cpu_msrs msr;

    /* --- the outside world --- */
    const struct cpu_env *env;
    void *env_opaque;
    int vp_index;

    /* --- exceptions (cpu/exception.c) --- */
    jmp_buf fault_jmp;          /* cpu_raise() longjmps here; set up by cpu_run() */
    int8_t  exc_nesting;        /* -1 none, else vector being delivered (for #DF / triple fault) */
    int16_t exc_vector;         /* (D) the fault recorded by cpu_raise() for cpu_deliver_pending(), -1 none */
    uint32_t exc_error;         /* (D) its error code, or EXC_NO_ERROR */
    enum cpu_exit exit_reason;  /* when ATTN_STOP: why */
    char    stop_msg[128];      /* one-line reason for a guest-caused stop */

    /* --- configuration --- */
    uint64_t cpu_freq_hz;
    uint64_t *time_floor;       /* shared by the partition's VPs: see cpu_now() */
    const struct cpu_model *model;  /* (cpuid) cpu/cpu_models.h; NULL: the default model */
    uint32_t quirks;            /* the model's QUIRK_* bits (cpu/cpu_quirks.h), set by cpu_set_model */
    unsigned nr_vps;            /* (cpuid) VPs in the package: CPUID topology leaves; 0 = 1 */
    uint64_t rng_seed;          /* (cpuid) -rng-seed: RDRAND/RDSEED streams (cpu/ops_rand.c) */
    uint64_t rng_state[4];      /* this VP's xoshiro256** state, from rng_seed and vp_index */
};

/* Reset the processor to the architectural power-on state (SDM Vol. 3A 9.1.1). */
void cpu_init(struct cpu *c, struct mmu *m, const struct cpu_env *env, void *opaque);
void cpu_reset(struct cpu *c);

/* Recompute c->mode and c->cpl after CR0, EFER, CS or RFLAGS.VM changed. */
void cpu_update_mode(struct cpu *c);

/* Run until the cycle budget is used up or something stops the VP (cpu/exec.c). */
enum cpu_exit cpu_run(struct cpu *c, uint64_t cycle_budget);

/* Execute exactly one instruction (the debugger / differential-test path). */
enum cpu_exit cpu_step(struct cpu *c);

/* Stop the run loop at the next instruction boundary with a reason. */
void cpu_request_stop(struct cpu *c, enum cpu_exit why, const char *msg);

/* Print the architectural state (one register dump, as on a triple fault). */
void cpu_dump_state(const struct cpu *c, FILE *out);

/* Linear address of RIP: CS.base + RIP, 32-bit wrap outside 64-bit mode (SDM Vol. 3A 3.4). */
static inline uint64_t cpu_fetch_la(const struct cpu *c)
{
    if (__builtin_expect(c->mode == MODE_LONG64, 1))
        return c->rip;
    return (c->seg[SEG_CS].base + (uint32_t)c->rip) & 0xffffffffull;
}

/* Time as the guest sees it (DESIGN.md §4): derived from virtual cycles only.
 *
 * Each VP has its own cycle counter and the scheduler lets a VP run up to a quantum
 * ahead of the others, so two VPs' counters disagree by up to a quantum.  A guest
 * can only observe that through the order in which the scheduler ran things, so the
 * VPs of a partition share one floor (c->time_floor): reading the time first brings
 * this VP up to the latest time any VP has read, then raises the floor.  Time read
 * across VPs therefore never goes backwards (Linux's TSC-warp check, the Hyper-V
 * reference counter), and the result is as deterministic as everything else.
 * NULL (a lone test CPU): the VP's own counter. */
static inline uint64_t cpu_now(struct cpu *c)
{
    uint64_t *floor = c->time_floor;
    if (floor) {
        if (c->cycles < *floor)
            c->cycles = *floor;
        else
            *floor = c->cycles;
    }
    return c->cycles;
}

static inline uint64_t cpu_tsc(struct cpu *c) { return cpu_now(c) + c->msr.tsc_offset; }

#endif
