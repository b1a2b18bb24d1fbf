/* Differential testing of single instructions against the host CPU (STYLE.md
 * lesson 13a).  Each case is one instruction with its registers, RFLAGS and a 4 KiB
 * scratch image.  It runs natively in a forked child (the scratch mapped at the same
 * address as in the guest) and in the emulator (tests/support/test_machine.h, one
 * cpu_step), and the two end states are compared: GPRs, the defined flags, the
 * scratch memory and the exception (SIGFPE <-> #DE, SIGSEGV <-> #GP/#PF/#SS, ...).
 */
#ifndef HVEMU_TESTS_DIFF_SUPPORT_NATIVE_H
#define HVEMU_TESTS_DIFF_SUPPORT_NATIVE_H

#include <stdbool.h>
#include <stdint.h>
#include "tests/support/test_machine.h"

/* Scratch memory for memory operands: same linear address in host and guest. */
#define DIFF_SCRATCH      TM_DATA_BASE
#define DIFF_SCRATCH_SIZE 0x1000u

/* RFLAGS bits a case may load natively: the arithmetic flags and DF (user mode
 * cannot set IF/IOPL, and AC would turn on alignment checking). */
#define DIFF_FLAGS_IN (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF | FL_DF)

struct diff_state {
    uint64_t gpr[16];
    uint64_t rflags;
};

struct diff_case {
    uint8_t code[15];
    uint8_t len;
    uint8_t steps;              /* instructions in code[] for the emulator to step (0 means 1) */
    uint16_t gpr_mask;          /* GPRs to compare (bit r); undefined results are left out */
    uint64_t flag_mask;         /* RFLAGS bits to compare: the defined ones */
    struct diff_state in;
    uint8_t mem[DIFF_SCRATCH_SIZE];
};

struct diff_ctx;

/* Set up the host side and a test machine.  Exits with a message if the host
 * cannot run native cases (no free address for the scratch, no RWX mapping). */
struct diff_ctx *diff_init(void);
/* Run n cases of one form.  Prints each failing case (at most a few per form) and
 * returns the number of failing cases. */
unsigned diff_run(struct diff_ctx *d, const char *form, const struct diff_case *cases, unsigned n);
/* Print the summary; returns the process exit status (non-zero on any failure). */
int diff_finish(struct diff_ctx *d);

/* Deterministic random numbers (xorshift64*) and operand values with the edge cases
 * 0, 1, -1, the sign boundaries and small numbers mixed in. */
uint64_t diff_rand(void);
uint64_t diff_operand(unsigned size);

#endif
