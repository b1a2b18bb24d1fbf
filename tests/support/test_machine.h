/* A small machine for unit and differential tests: RAM, one VP in flat 64-bit long
 * mode at CPL 0 (identity-mapped with 1 GiB pages over the first 4 GiB), a GDT with
 * 64-bit code/data and 32-bit code segments, and an IDT whose vector v handler is a
 * HLT at TM_EXC_STUB(v), so a test can tell which exception was delivered.
 * Implemented in tests/support/test_machine.c.
 */
#ifndef HVEMU_TEST_MACHINE_H
#define HVEMU_TEST_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"

#define TM_PT_BASE      0x00001000ull   /* page tables */
#define TM_GDT_BASE     0x00010000ull
#define TM_IDT_BASE     0x00011000ull
#define TM_EXC_STUBS    0x00012000ull
#define TM_EXC_STUB(v)  (TM_EXC_STUBS + (uint64_t)(v) * 16)
#define TM_CODE_BASE    0x00100000ull   /* where tests put their code */
#define TM_DATA_BASE    0x00200000ull   /* scratch data for memory operands */
#define TM_STACK_TOP    0x00400000ull

#define TM_SEL_CODE64   0x08
#define TM_SEL_DATA     0x10
#define TM_SEL_CODE32   0x18

struct test_machine {
    struct physmem *pm;
    struct mmu mmu;
    struct cpu cpu;
    struct block_cache *bc;
};

/* ram_size >= 8 MiB.  Aborts with a message if setup fails.  tm_new: the default
 * CPU model; tm_new_model: model m (cpu/cpu_models.h) with its TLB preset. */
struct cpu_model;
struct test_machine *tm_new(uint64_t ram_size);
struct test_machine *tm_new_model(uint64_t ram_size, const struct cpu_model *m);
void tm_free(struct test_machine *tm);
void tm_load(struct test_machine *tm, uint64_t gpa, const void *bytes, unsigned len);
/* Set RIP and execute up to n instructions with cpu_step(); stops early on HLT.
 * Returns the number of instructions executed. */
unsigned tm_run(struct test_machine *tm, uint64_t rip, unsigned n);
/* The vector whose stub the CPU halted in, or -1 if it is not in an exception stub. */
int tm_exception_vector(const struct test_machine *tm);

#endif
