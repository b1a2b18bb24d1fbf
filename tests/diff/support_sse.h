/* Differential testing of MMX/SSE instructions against the host CPU: like
 * support_native.h, plus the XMM/MMX registers and MXCSR.  Each case runs natively in
 * a forked child (a stub loads MXCSR, XMM0-15, MM0-7, RFLAGS and the GPRs but RSP,
 * runs the instruction and stores everything back; a signal records the state of the
 * faulting context from its ucontext) and in the emulator (test machine, CR4.OSFXSR
 * and OSXMMEXCPT set, one cpu_step), and the end states are compared: XMM, MMX (when
 * the case says), GPRs, the arithmetic flags, MXCSR, the scratch memory and the
 * exception (SIGFPE <-> #XM, SIGSEGV/SIGBUS <-> #GP, SIGILL <-> #UD).
 * Compatibility-mode cases (compat32) far-jump natively to Linux's 32-bit user code
 * segment 23h after loading the state and back to 33h after the instruction (as
 * tests/diff/diff_compat32.c does); the emulator runs them with CS = TM_SEL_CODE32.
 */
#ifndef HVEMU_TESTS_DIFF_SUPPORT_SSE_H
#define HVEMU_TESTS_DIFF_SUPPORT_SSE_H

#include <stdbool.h>
#include <stdint.h>
#include "tests/support/test_machine.h"

#define SSE_SCRATCH      TM_DATA_BASE
#define SSE_SCRATCH_SIZE 0x1000u

struct sse_state {
    uint64_t gpr[16];           /* RSP is not loaded natively: leave it out of gpr_mask */
    uint64_t rflags;
    uint32_t mxcsr;
    uint32_t pad;
    xmm_reg  xmm[16];
    uint64_t mm[8];
};

struct sse_case {
    uint8_t code[15];
    uint8_t len;
    bool mmx;                   /* compare MM0-7 */
    bool approx;                /* RCP/RSQRT: compare XMM lanes with relative tolerance */
    bool compat32;              /* run in 32-bit compatibility mode (no REX in code[]; GPRs
                                 * compared as EAX..EDI low halves) */
    uint16_t gpr_mask;
    uint64_t flag_mask;
    struct sse_state in;
    uint8_t mem[SSE_SCRATCH_SIZE];
};

struct sse_diff;
struct sse_diff *sse_diff_init(void);
/* Runs n cases; prints the first few failures; returns the number of failing cases. */
unsigned sse_diff_run(struct sse_diff *d, const char *form, const struct sse_case *cases, unsigned n);
int sse_diff_finish(struct sse_diff *d);
/* Count of cases that faulted natively (so a test can show it covered exceptions). */
unsigned sse_diff_faults(const struct sse_diff *d);

#endif
