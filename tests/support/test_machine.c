/* The test machine of tests/support/test_machine.h: one VP in flat 64-bit long mode
 * at CPL 0, built the way firmware would leave it (SDM Vol. 3A 9.8.5, "Initializing
 * IA-32e Mode"): identity page tables, a GDT, an IDT whose every vector ends in a
 * HLT stub, CR0.PE|PG, CR4.PAE, EFER.LME|LMA, CS = 64-bit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support/test_machine.h"
#include "cpu/block.h"
#include "cpu/cpu_models.h"
#include "cpu/env.h"

/* Page-table entry bits (SDM Vol. 3A 4.5, Tables 4-14..4-16). */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)

#define TM_PML4      TM_PT_BASE
#define TM_PDPT      (TM_PT_BASE + 0x1000)
#define TM_TSS_BASE  0x00013000ull          /* after the 256 stubs (0x12000..0x12fff) */
#define TM_TSS_LIMIT 0x67                   /* 64-bit TSS: 104 bytes (SDM Vol. 3A 8.7) */

/* GDT descriptors (SDM Vol. 3A 3.4.5): flat, base 0, limit 0xfffff pages. */
static const uint64_t tm_gdt[] = {
    0,
    0x00af9b000000ffffull,   /* 0x08: 64-bit code, L=1, DPL 0, accessed */
    0x00cf93000000ffffull,   /* 0x10: data, D/B=1, writable, accessed */
    0x00cf9b000000ffffull,   /* 0x18: 32-bit code, D=1 */
};

/* All hooks NULL: cpu/env.h says what the CPU does then (no devices, no hypervisor). */
static const struct cpu_env tm_env;

static _Noreturn void tm_die(const char *what, const char *err)
{
    fprintf(stderr, "test machine: %s: %s\n", what, err ? err : "failed");
    abort();
}

static void wr64(struct test_machine *tm, uint64_t gpa, uint64_t v)
{
    physmem_write_bytes(tm->pm, gpa, &v, 8);
}

static void seg_flat(struct segment *s, uint16_t sel, uint16_t attr)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = attr;
}

struct test_machine *tm_new(uint64_t ram_size)
{
    return tm_new_model(ram_size, NULL);
}

struct test_machine *tm_new_model(uint64_t ram_size, const struct cpu_model *model)
{
    const char *err = NULL;
    if (ram_size < (8ull << 20))
        tm_die("tm_new", "ram_size must be at least 8 MiB");
    struct test_machine *tm = calloc(1, sizeof *tm);
    if (!tm)
        tm_die("calloc", NULL);
    tm->pm = physmem_new(ram_size, &err);
    if (!tm->pm)
        tm_die("physmem_new", err);
    const struct cpu_model *m = model ? model : cpu_model_find(NULL);
    if (!mmu_init(&tm->mmu, tm->pm, 0, m->tlb_preset, TLB_MODEL_FAST, &err))
        tm_die("mmu_init", err);
    tm->bc = block_cache_new(tm->pm);
    if (!tm->bc)
        tm_die("block_cache_new", NULL);

    /* Identity map of 0..4 GiB with four 1-GiB pages (PDPTE.PS, SDM Vol. 3A 4.5.4).
     * U/S=1 so tests can drop to CPL 3; SMEP/SMAP are off. */
    wr64(tm, TM_PML4, TM_PDPT | PTE_P | PTE_RW | PTE_US);
    for (uint64_t g = 0; g < 4; g++)
        wr64(tm, TM_PDPT + g * 8, (g << 30) | PTE_P | PTE_RW | PTE_US | PTE_PS);

    physmem_write_bytes(tm->pm, TM_GDT_BASE, tm_gdt, sizeof tm_gdt);

    /* IDT: 256 64-bit interrupt gates (type 0xE, P, DPL 0) to TM_EXC_STUB(v)
     * (SDM Vol. 3A 6.14.1, Figure 6-8).  Each stub is HLT; JMP back to the HLT, so
     * a CPU that wakes up halts again in the same stub. */
    for (unsigned v = 0; v < 256; v++) {
        uint64_t h = TM_EXC_STUB(v);
        uint64_t lo = (h & 0xffff) | ((uint64_t)TM_SEL_CODE64 << 16) | (0x8eull << 40) |
                      ((h >> 16) & 0xffff) << 48;
        uint64_t hi = h >> 32;
        wr64(tm, TM_IDT_BASE + v * 16, lo);
        wr64(tm, TM_IDT_BASE + v * 16 + 8, hi);
        static const uint8_t stub[3] = { 0xf4, 0xeb, 0xfd };   /* hlt; jmp $-1 */
        physmem_write_bytes(tm->pm, h, stub, sizeof stub);
    }
    /* 64-bit TSS: RSP0 = TM_STACK_TOP for interrupts taken at CPL 3 (SDM Vol. 3A 8.7). */
    wr64(tm, TM_TSS_BASE + 4, TM_STACK_TOP);

    struct cpu *c = &tm->cpu;
    c->model = model;
    cpu_init(c, &tm->mmu, &tm_env, tm);
    c->bcache = tm->bc;

    c->gdtr.base = TM_GDT_BASE;
    c->gdtr.limit = sizeof tm_gdt - 1;
    c->idtr.base = TM_IDT_BASE;
    c->idtr.limit = 256 * 16 - 1;
    c->tr.sel = 0;
    c->tr.base = TM_TSS_BASE;
    c->tr.limit = TM_TSS_LIMIT;
    c->tr.attr = 0xb | SEG_ATTR_P;            /* busy 64-bit TSS */
    c->ldtr.sel = 0;
    c->ldtr.attr = 0;                         /* unusable */

    /* Attributes: type in 0..3, S, DPL, P, then L and D/B (cpu/cpu.h struct segment). */
    uint16_t code64 = 0xb | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G;
    uint16_t data = 0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
    seg_flat(&c->seg[SEG_CS], TM_SEL_CODE64, code64);
    seg_flat(&c->seg[SEG_SS], TM_SEL_DATA, data);
    seg_flat(&c->seg[SEG_DS], TM_SEL_DATA, data);
    seg_flat(&c->seg[SEG_ES], TM_SEL_DATA, data);
    seg_flat(&c->seg[SEG_FS], TM_SEL_DATA, data);
    seg_flat(&c->seg[SEG_GS], TM_SEL_DATA, data);

    c->cr3 = TM_PML4;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA;
    c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE;
    /* The mmu mirrors the control state; tell it in the order a guest would write it. */
    mmu_set_cr3(&tm->mmu, c->cr3);
    mmu_set_cr4(&tm->mmu, c->cr4);
    mmu_set_efer(&tm->mmu, c->efer);
    mmu_set_cr0(&tm->mmu, c->cr0);
    c->rflags = FL_FIXED1;
    c->gpr[RSP] = TM_STACK_TOP;
    c->rip = TM_CODE_BASE;
    cpu_update_mode(c);
    mmu_set_cpl_ac(&tm->mmu, c->cpl, false);
    if (c->mode != MODE_LONG64 || c->cpl != 0)
        tm_die("tm_new", "the CPU did not enter 64-bit mode at CPL 0");
    return tm;
}

void tm_free(struct test_machine *tm)
{
    if (!tm)
        return;
    block_cache_free(tm->bc);
    mmu_destroy(&tm->mmu);
    physmem_free(tm->pm);
    free(tm);
}

void tm_load(struct test_machine *tm, uint64_t gpa, const void *bytes, unsigned len)
{
    physmem_write_bytes(tm->pm, gpa, bytes, len);
}

unsigned tm_run(struct test_machine *tm, uint64_t rip, unsigned n)
{
    struct cpu *c = &tm->cpu;
    unsigned done = 0;
    c->rip = rip;
    c->halted = 0;
    while (done < n) {
        enum cpu_exit e = cpu_step(c);
        done++;
        if (e == CPU_EXIT_HALT || e == CPU_EXIT_SHUTDOWN || e == CPU_EXIT_STOP || c->halted)
            break;
    }
    return done;
}

int tm_exception_vector(const struct test_machine *tm)
{
    uint64_t rip = tm->cpu.rip;
    if (rip < TM_EXC_STUBS || rip >= TM_EXC_STUB(256))
        return -1;
    return (int)((rip - TM_EXC_STUBS) / 16);
}
