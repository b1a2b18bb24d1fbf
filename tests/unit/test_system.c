/* System instructions (cpu/ops_system.c, ops_desc.c, ops_msr.c, msr.c, cpuid.c):
 * SYSCALL/SYSRET, control registers and what reaches the mmu, the long-mode entry
 * path of a multiboot kernel (32-bit protected mode -> PAE, LME, PG -> far jump to a
 * 64-bit code segment), MSRs, CPUID, port I/O permissions, segment loads, HLT.
 * Expected values come from the SDM pages named in each test.
 */
#include "tests/unit/sys_machine.h"
#include "cpu/cpuid.h"
#include "cpu/io.h"
#include "cpu/msr.h"
#include "cpu/operand.h"

static struct sm *m;
static struct cpu *c;

static void setup(void) { m = sm_new(); c = &m->cpu; }
static void teardown(void) { sm_free(m); }

/* MOV CRn, reg / MOV reg, CRn */
static bool mov_to_cr(unsigned n, uint64_t v)
{
    struct insn i = sm_insn(h_mov_cr, 3);
    i.opnd[0] = OPK_CREG;
    i.opnd[1] = OPK_RM;
    i.reg = (uint8_t)n;
    i.rm = RAX;
    c->gpr[RAX] = v;
    return sm_exec(m, &i);
}

static bool wrmsr(uint32_t idx, uint64_t v)
{
    struct insn i = sm_insn(h_wrmsr, 2);
    c->gpr[RCX] = idx;
    c->gpr[RAX] = (uint32_t)v;
    c->gpr[RDX] = v >> 32;
    return sm_exec(m, &i);
}

static bool rdmsr(uint32_t idx, uint64_t *v)
{
    struct insn i = sm_insn(h_rdmsr, 2);
    c->gpr[RCX] = idx;
    bool f = sm_exec(m, &i);
    *v = (c->gpr[RDX] << 32) | (uint32_t)c->gpr[RAX];
    return f;
}

START_TEST(syscall_sysret_round_trip)
{
    c->msr.lstar = 0xffffffff81000000ull & 0x3fffffffull;     /* inside the mapped GiB */
    c->msr.sfmask = FL_IF | FL_TF | FL_AC;
    struct insn sysret = sm_insn(h_sysret, 3);                 /* REX.W: 64-bit return */
    c->gpr[RCX] = SM_CODE + 0x1000;
    c->gpr[R11] = FL_FIXED1 | FL_IF | FL_ZF | FL_RF | FL_VM;
    ck_assert(!sm_exec(m, &sysret));
    ck_assert_int_eq(c->cpl, 3);
    ck_assert_int_eq(c->mode, MODE_LONG64);
    ck_assert_uint_eq(c->rip, SM_CODE + 0x1000);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, SM_UCODE64);         /* STAR[63:48] + 16 | 3 */
    ck_assert_uint_eq(c->seg[SEG_SS].sel, SM_UDATA);           /* STAR[63:48] + 8 | 3 */
    /* RFLAGS = R11 & 3C7FD7H | 2: RF and VM are dropped. */
    ck_assert_uint_eq(flags_get(c), FL_FIXED1 | FL_IF | FL_ZF);

    struct insn syscall = sm_insn(h_syscall, 2);
    uint64_t user_rip = c->rip;
    ck_assert(!sm_exec(m, &syscall));
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_uint_eq(c->rip, c->msr.lstar);
    ck_assert_uint_eq(c->gpr[RCX], user_rip + 2);
    ck_assert_uint_eq(c->gpr[R11], FL_FIXED1 | FL_IF | FL_ZF);
    ck_assert_uint_eq(flags_get(c), FL_FIXED1 | FL_ZF);        /* SFMASK cleared IF */
    ck_assert_uint_eq(c->seg[SEG_CS].sel, SM_KCODE64);
    ck_assert_uint_eq(c->seg[SEG_SS].sel, SM_KDATA);

    /* 32-bit SYSRET goes to compatibility mode with CS = STAR[63:48] | 3. */
    struct insn sysret32 = sm_insn(h_sysret, 2);
    sysret32.osize = 4;
    c->gpr[RCX] = 0xffffffff00001000ull;
    c->gpr[R11] = FL_FIXED1;
    ck_assert(!sm_exec(m, &sysret32));
    ck_assert_int_eq(c->mode, MODE_PROT32);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, SM_UCODE32);
    ck_assert_uint_eq(c->rip, 0x1000);
}
END_TEST

START_TEST(sysret_noncanonical_rcx_gp_at_cpl0)
{
    struct insn sysret = sm_insn(h_sysret, 3);
    c->gpr[RCX] = 0x0000800000000000ull;
    ck_assert(sm_exec(m, &sysret));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    ck_assert_int_eq(c->cpl, 0);
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), 0);
}
END_TEST

START_TEST(syscall_ud_without_sce_and_sysret_gp_at_cpl3)
{
    c->efer &= ~EFER_SCE;
    struct insn syscall = sm_insn(h_syscall, 2);
    ck_assert(sm_exec(m, &syscall));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_UD));

    c->efer |= EFER_SCE;
    sm_user(m);
    c->rip = SM_CODE;
    struct insn sysret = sm_insn(h_sysret, 3);
    ck_assert(sm_exec(m, &sysret));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
}
END_TEST

START_TEST(cr3_cr4_reach_the_mmu)
{
    ck_assert(!mov_to_cr(4, CR4_PAE | CR4_PGE | CR4_SMEP));
    ck_assert_uint_eq(m->mmu.cr4, CR4_PAE | CR4_PGE | CR4_SMEP);
    ck_assert_uint_eq(c->cr4, CR4_PAE | CR4_PGE | CR4_SMEP);

    /* A second PML4 whose only entry maps linear 0..1 GiB onto physical 1 MiB.. via a
     * 2 MiB page: after MOV CR3 a load of linear 0 reads physical 0x200000. */
    sm_w64(m, 0x5000, 0x6000 | 7);
    sm_w64(m, 0x6000, 0x7000 | 7);
    sm_w64(m, 0x7000, 0x200000 | 0x87);                       /* PDE: 2 MiB page at 2 MiB */
    sm_w64(m, 0x7008, 0x000000 | 0x87);                       /* linear 2 MiB -> physical 0 */
    sm_w64(m, 0x200000, 0x1111222233334444ull);
    c->rip = SM_DATA + 0x100;                                 /* code runs... in our table: 2M+ -> 0+ */
    ck_assert(!mov_to_cr(3, 0x5000));
    ck_assert_uint_eq(m->mmu.cr3, 0x5000);
    ck_assert_uint_eq(c->cr3, 0x5000);
    ck_assert_uint_eq(mem_read(c, 0, 8), 0x1111222233334444ull);

    /* Reserved bits: CR4.LA57 (not supported), clearing PAE in IA-32e mode, CR3 above
     * MAXPHYADDR: each #GP(0) with nothing changed. */
    sm_gate(m, EXC_GP, 0x200000 + SM_HANDLER(EXC_GP), 0xe, 0, 0); /* linear of the handler in this map */
    c->rip = SM_DATA;
    ck_assert(mov_to_cr(4, CR4_PAE | CR4_LA57));
    ck_assert_uint_eq(c->cr4, CR4_PAE | CR4_PGE | CR4_SMEP);
    c->rip = SM_DATA;
    ck_assert(mov_to_cr(4, 0));
    ck_assert_uint_eq(m->mmu.cr4, CR4_PAE | CR4_PGE | CR4_SMEP);
    c->rip = SM_DATA;
    ck_assert(mov_to_cr(3, 1ull << 50));
    ck_assert_uint_eq(c->cr3, 0x5000);
}
END_TEST

START_TEST(cr0_and_pcide_rules)
{
    /* Clearing CR0.PG in 64-bit mode: #GP (SDM MOV CR, IA-32e rules). */
    ck_assert(mov_to_cr(0, CR0_PE | CR0_ET));
    ck_assert(c->cr0 & CR0_PG);
    /* CR4.PCIDE with CR3[11:0] != 0: #GP; with 0 it works and CR3 bit 63 is not stored. */
    c->rip = SM_CODE;
    ck_assert(!mov_to_cr(3, SM_PML4 | 5));
    c->rip = SM_CODE;
    ck_assert(mov_to_cr(4, CR4_PAE | CR4_PCIDE));
    c->rip = SM_CODE;
    ck_assert(!mov_to_cr(3, SM_PML4));
    ck_assert(!mov_to_cr(4, CR4_PAE | CR4_PCIDE));
    ck_assert(!mov_to_cr(3, SM_PML4 | 7 | (1ull << 63)));
    ck_assert_uint_eq(c->cr3, SM_PML4 | 7);
    ck_assert_uint_eq(m->mmu.cr3 & 0xfff, 7);
    /* CR8 is the TPR: 4 bits. */
    ck_assert(!mov_to_cr(8, 0xa));
    ck_assert_uint_eq(c->cr8, 0xa);
    ck_assert(mov_to_cr(8, 0x10));
}
END_TEST

/* 32-bit protected mode without paging -> CR4.PAE, CR3, EFER.LME, CR0.PG (now
 * compatibility mode) -> far jump to the 64-bit code segment: 64-bit mode. */
START_TEST(far_jump_from_prot32_into_long_mode)
{
    c->cr0 = CR0_PE | CR0_ET;
    c->cr4 = 0;
    c->efer = 0;
    mmu_set_efer(&m->mmu, 0);
    mmu_set_cr4(&m->mmu, 0);
    mmu_set_cr0(&m->mmu, c->cr0);
    sm_seg(&c->seg[SEG_CS], SM_KCODE32, sm_gdt[3]);
    cpu_update_mode(c);
    ck_assert_int_eq(c->mode, MODE_PROT32);

    ck_assert(!mov_to_cr(4, CR4_PAE));
    ck_assert(!mov_to_cr(3, SM_PML4));
    ck_assert(!wrmsr(MSR_EFER, EFER_LME));
    ck_assert_uint_eq(c->efer, EFER_LME);
    ck_assert(!mov_to_cr(0, CR0_PE | CR0_PG | CR0_ET));
    ck_assert_uint_eq(c->efer, EFER_LME | EFER_LMA);
    ck_assert_uint_eq(m->mmu.efer & EFER_LMA, EFER_LMA);
    ck_assert_int_eq(c->mode, MODE_PROT32);                   /* compatibility mode */

    struct insn j = sm_insn(h_jmpf, 7);
    j.opnd[0] = OPK_FARPTR;
    j.osize = 4;
    j.imm = SM_CODE + 0x400;
    j.imm2 = SM_KCODE64;
    ck_assert(!sm_exec(m, &j));
    ck_assert_int_eq(c->mode, MODE_LONG64);
    ck_assert_uint_eq(c->rip, SM_CODE + 0x400);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, SM_KCODE64);
    /* The descriptor's accessed bit was already set; the GDT is unchanged. */
    ck_assert_uint_eq(sm_r64(m, SM_GDT + 8), sm_gdt[1]);
}
END_TEST

START_TEST(enabling_paging_with_lme_needs_pae)
{
    c->cr0 = CR0_PE | CR0_ET;
    c->cr4 = 0;
    c->efer = EFER_LME;
    mmu_set_efer(&m->mmu, c->efer);
    mmu_set_cr4(&m->mmu, 0);
    mmu_set_cr0(&m->mmu, c->cr0);
    sm_seg(&c->seg[SEG_CS], SM_KCODE32, sm_gdt[3]);
    cpu_update_mode(c);
    /* No IDT that works in this mode: just look at what was recorded. */
    c->idtr.limit = 0;
    ck_assert(mov_to_cr(0, CR0_PE | CR0_PG | CR0_ET));
    ck_assert_uint_eq(c->efer, EFER_LME);
    ck_assert(!(c->cr0 & CR0_PG));
}
END_TEST

START_TEST(msr_round_trips)
{
    uint64_t v;
    static const uint32_t plain[] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE };
    for (unsigned k = 0; k < sizeof plain / sizeof plain[0]; k++) {
        uint64_t x = 0xffff800000001000ull + k * 0x10;
        ck_assert(!wrmsr(plain[k], x));
        ck_assert(!rdmsr(plain[k], &v));
        ck_assert_uint_eq(v, x);
    }
    ck_assert_uint_eq(c->seg[SEG_FS].base, 0xffff800000001040ull);
    /* SWAPGS exchanges GS.base and KERNEL_GS_BASE. */
    struct insn sw = sm_insn(h_swapgs, 3);
    ck_assert(!sm_exec(m, &sw));
    ck_assert_uint_eq(c->seg[SEG_GS].base, 0xffff800000001030ull);
    ck_assert_uint_eq(c->msr.kernel_gs_base, 0xffff800000001050ull);

    ck_assert(!wrmsr(MSR_SFMASK, 0x47700));
    ck_assert(!rdmsr(MSR_SFMASK, &v));
    ck_assert_uint_eq(v, 0x47700);
    ck_assert(!wrmsr(MSR_TSC_AUX, 7));
    struct insn tscp = sm_insn(h_rdtscp, 3);
    ck_assert(!sm_exec(m, &tscp));
    ck_assert_uint_eq(c->gpr[RCX], 7);

    /* TSC writes move the offset: TSC = cycles + offset. */
    c->cycles = 1000;
    ck_assert(!wrmsr(MSR_TSC, 5000));
    c->cycles = 1500;
    ck_assert(!rdmsr(MSR_TSC, &v));
    ck_assert_uint_eq(v, 5500);

    /* PAT: type 2 is reserved -> #GP; a valid value round-trips. */
    ck_assert(!wrmsr(MSR_PAT, 0x0007010600070106ull));
    ck_assert(!rdmsr(MSR_PAT, &v));
    ck_assert_uint_eq(v, 0x0007010600070106ull);
    ck_assert(wrmsr(MSR_PAT, 0x0000000000000002ull));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
}
END_TEST

START_TEST(msr_gp_cases)
{
    uint64_t v;
    c->rip = SM_CODE;
    ck_assert(rdmsr(0x12345, &v));                            /* unknown, no env hook */
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    c->rip = SM_CODE;
    ck_assert(wrmsr(MSR_LSTAR, 0x0000800000000000ull));       /* non-canonical */
    ck_assert_uint_eq(c->msr.lstar, 0);
    c->rip = SM_CODE;
    ck_assert(wrmsr(MSR_EFER, EFER_LME | EFER_SCE | (1ull << 1)));  /* reserved bit */
    c->rip = SM_CODE;
    ck_assert(wrmsr(MSR_EFER, EFER_SCE));                     /* LME change with paging on */
    ck_assert_uint_eq(c->efer, EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE);
    /* At CPL 3 RDMSR is #GP(0) even for a known MSR. */
    sm_user(m);
    c->rip = SM_CODE;
    ck_assert(rdmsr(MSR_STAR, &v));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    /* MTRRCAP says 8 variable ranges: 0x200..0x20f exist, 0x210 does not. */
    ck_assert_uint_eq(c->msr.mtrr_cap & 0xff, 8);
    ck_assert(cpu_msr_write(c, MSR_MTRR_PHYSBASE0 + 15, 0x800ull));
    ck_assert_uint_eq(c->msr.mtrr_var[15], 0x800ull);
    ck_assert(!cpu_msr_write(c, MSR_MTRR_PHYSBASE0 + 16, 0));
}
END_TEST

START_TEST(cpuid_leaves)
{
    uint32_t o[4];
    cpu_cpuid(c, 0, 0, o);
    char vendor[13] = { 0 };
    memcpy(vendor, &o[1], 4);
    memcpy(vendor + 4, &o[3], 4);
    memcpy(vendor + 8, &o[2], 4);
    ck_assert_str_eq(vendor, "GenuineIntel");
    ck_assert_uint_ge(o[0], 7);
    cpu_cpuid(c, 1, 0, o);
    ck_assert_uint_eq(o[0], cpuid_signature(c));
    ck_assert(o[3] & (1u << 6));                              /* PAE */
    ck_assert(o[3] & (1u << 0));                              /* x87 FPU */
    ck_assert(o[3] & (1u << 24));                             /* FXSR */
    ck_assert(o[3] & (1u << 25));                             /* SSE (cpu/sse_*.c) */
    ck_assert(o[2] & (1u << 20));                             /* SSE4.2 */
    ck_assert(o[2] & (1u << 17));                             /* PCID */
    cpu_cpuid(c, 7, 0, o);
    ck_assert(o[1] & CPUID_7_EBX_SMEP);
    ck_assert(o[1] & CPUID_7_EBX_INVPCID);
    cpu_cpuid(c, 0x80000001u, 0, o);
    ck_assert(o[3] & (1u << 29));                             /* LM */
    ck_assert(o[3] & (1u << 20));                             /* NX */
    ck_assert(o[3] & (1u << 11));                             /* SYSCALL */
    cpu_cpuid(c, 0x80000008u, 0, o);
    ck_assert_uint_eq(o[0] >> 8 & 0xff, 48);

    /* The instruction writes EAX..EDX zero-extended. */
    struct insn i = sm_insn(h_cpuid, 2);
    c->gpr[RAX] = 0xffffffff80000000ull;
    c->gpr[RBX] = ~0ull;
    ck_assert(!sm_exec(m, &i));
    ck_assert_uint_eq(c->gpr[RAX], 0x80000008u);
    ck_assert_uint_eq(c->gpr[RBX], 0);
}
END_TEST

static struct insn out_dx_al(void)
{
    struct insn i = sm_insn(h_out, 1);
    i.opnd[0] = OPK_DX;
    i.opnd[1] = OPK_ACC;
    i.osize = 1;
    i.flags = IF_BYTEOP;
    return i;
}

START_TEST(io_permission_bitmap)
{
    /* CPL 0: always allowed. */
    struct insn o = out_dx_al();
    c->gpr[RDX] = 0x3f8;
    c->gpr[RAX] = 0x41;
    ck_assert(!sm_exec(m, &o));
    ck_assert_int_eq(m->outs, 1);
    ck_assert_uint_eq(m->last_out, 0x41);

    /* CPL 3, IOPL 0: the TSS bitmap at 0x68 allows 0x3f8 only (bit 0x3f9 set). */
    c->tr.limit = 0x68 + 0x3f8 / 8 + 2;
    physmem_write_bytes(m->pm, SM_TSS + 0x66, &(uint16_t){ 0x68 }, 2);
    uint8_t ones = 0xff;
    for (unsigned b = 0; b < 0x3f8 / 8 + 2; b++)
        physmem_write_bytes(m->pm, SM_TSS + 0x68 + b, &ones, 1);
    physmem_write_bytes(m->pm, SM_TSS + 0x68 + 0x3f8 / 8, &(uint8_t){ 0xfe }, 1);
    sm_user(m);
    ck_assert(cpu_io_allowed(c, 0x3f8, 1));
    ck_assert(!cpu_io_allowed(c, 0x3f8, 2));                  /* covers 0x3f9 */
    ck_assert(!cpu_io_allowed(c, 0x60, 1));
    c->rip = SM_CODE;
    ck_assert(!sm_exec(m, &o));
    ck_assert_int_eq(m->outs, 2);
    c->gpr[RDX] = 0x3f9;
    c->rip = SM_CODE;
    ck_assert(sm_exec(m, &o));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    ck_assert_int_eq(m->outs, 2);
}
END_TEST

START_TEST(in_reads_through_env)
{
    struct insn i = sm_insn(h_in, 2);
    i.opnd[0] = OPK_ACC;
    i.opnd[1] = OPK_IMM;
    i.imm = 0x71;
    i.osize = 2;
    c->gpr[RAX] = 0xaaaaaaaaaaaaaaaaull;
    ck_assert(!sm_exec(m, &i));
    ck_assert_uint_eq(m->last_port, 0x71);
    ck_assert_uint_eq(c->gpr[RAX], 0xaaaaaaaaaaaa5678ull);     /* 16-bit write merges */
}
END_TEST

START_TEST(segment_loads)
{
    struct insn mv = sm_insn(h_mov_sreg, 2);
    mv.opnd[0] = OPK_SREG;
    mv.opnd[1] = OPK_RM;
    mv.reg = SEG_DS;
    mv.rm = RAX;
    /* Beyond the GDT limit: #GP(selector). */
    c->gpr[RAX] = 0x100;
    ck_assert(sm_exec(m, &mv));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), 0x100);
    /* Not present: #NP(selector). */
    c->rip = SM_CODE;
    c->gpr[RSP] = SM_KSTACK - 0x100;
    c->gpr[RAX] = SM_NPDATA;
    ck_assert(sm_exec(m, &mv));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_NP));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), SM_NPDATA);
    /* A good load sets the accessed bit in the GDT (descriptor 0x28: F3 -> F3, so use
     * a fresh copy without it). */
    sm_w64(m, SM_GDT + 0x28, sm_gdt[5] & ~(1ull << 40));
    c->rip = SM_CODE;
    c->gpr[RAX] = SM_UDATA;                                    /* RPL 3, DPL 3 at CPL 0: fine */
    ck_assert(!sm_exec(m, &mv));
    ck_assert_uint_eq(c->seg[SEG_DS].sel, SM_UDATA);
    ck_assert(sm_r64(m, SM_GDT + 0x28) & (1ull << 40));
    /* SS: DPL must equal CPL -> #GP(sel); null SS at CPL 0 in 64-bit mode is allowed
     * and sets the interrupt shadow. */
    mv.reg = SEG_SS;
    c->rip = SM_CODE;
    ck_assert(sm_exec(m, &mv));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    c->rip = SM_CODE;
    c->gpr[RAX] = 0;
    ck_assert(!sm_exec(m, &mv));
    ck_assert_uint_eq(c->seg[SEG_SS].sel, 0);
    ck_assert_int_eq(c->intr_shadow, SHADOW_MOV_SS);     /* interrupts and debug traps held */
    ck_assert_int_eq(c->cpl, 0);
    /* MOV CS is #UD. */
    mv.reg = SEG_CS;
    c->rip = SM_CODE;
    ck_assert(sm_exec(m, &mv));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_UD));
}
END_TEST

START_TEST(lgdt_sgdt_ltr_str)
{
    /* SGDT stores limit then 8-byte base in 64-bit mode. */
    struct insn s = sm_insn(h_sgdt, 3);
    sm_mem(&s, 0, RBX, 0);
    c->gpr[RBX] = SM_DATA;
    ck_assert(!sm_exec(m, &s));
    uint64_t lo = sm_r64(m, SM_DATA), hi = sm_r64(m, SM_DATA + 8);
    ck_assert_uint_eq(lo & 0xffff, sizeof sm_gdt - 1);
    ck_assert_uint_eq((lo >> 16) | (hi << 48), SM_GDT);
    /* LIDT from memory. */
    sm_w64(m, SM_DATA + 0x20, 0x0fff | (0x123450ull << 16));
    sm_w64(m, SM_DATA + 0x28, 0);
    struct insn l = sm_insn(h_lidt, 3);
    sm_mem(&l, 0, RBX, 0x20);
    ck_assert(!sm_exec(m, &l));
    ck_assert_uint_eq(c->idtr.base, 0x123450);
    ck_assert_uint_eq(c->idtr.limit, 0xfff);
    c->idtr = (struct dtr){ SM_IDT, 256 * 16 - 1 };
    /* LTR marks the TSS busy in the GDT and loads the 16-byte descriptor. */
    struct insn t = sm_insn(h_ltr, 3);
    t.opnd[0] = OPK_RM;
    t.rm = RAX;
    c->gpr[RAX] = SM_TSSSEL;
    c->tr = (struct segment){ 0 };
    ck_assert(!sm_exec(m, &t));
    ck_assert_uint_eq(c->tr.base, SM_TSS);
    ck_assert_uint_eq(c->tr.limit, 0x67);
    ck_assert_uint_eq((sm_r64(m, SM_GDT + SM_TSSSEL) >> 40) & 0xf, 0xb);
    /* LTR of a busy TSS: #GP(sel). */
    c->rip = SM_CODE;
    ck_assert(sm_exec(m, &t));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    ck_assert_uint_eq(sm_r64(m, c->gpr[RSP]), SM_TSSSEL);
    /* STR to a register. */
    struct insn st = sm_insn(h_str, 3);
    st.opnd[0] = OPK_RM;
    st.rm = RDX;
    st.osize = 4;
    c->gpr[RDX] = ~0ull;
    c->rip = SM_CODE;
    ck_assert(!sm_exec(m, &st));
    ck_assert_uint_eq(c->gpr[RDX], SM_TSSSEL);
}
END_TEST

START_TEST(lar_lsl)
{
    struct insn l = sm_insn(h_lar, 3);
    l.opnd[0] = OPK_REG;
    l.opnd[1] = OPK_RM;
    l.reg = RDX;
    l.rm = RAX;
    l.osize = 4;
    c->gpr[RAX] = SM_UCODE64;
    ck_assert(!sm_exec(m, &l));
    ck_assert(flags_zf(c));
    ck_assert_uint_eq(c->gpr[RDX], (sm_gdt[6] >> 32) & 0x00f0ff00u);
    /* Null selector: ZF = 0, destination unchanged. */
    c->gpr[RAX] = 0;
    c->gpr[RDX] = 7;
    ck_assert(!sm_exec(m, &l));
    ck_assert(!flags_zf(c));
    ck_assert_uint_eq(c->gpr[RDX], 7);
    struct insn s = l;
    s.fn = h_lsl;
    c->gpr[RAX] = SM_TSSSEL;
    ck_assert(!sm_exec(m, &s));
    ck_assert(flags_zf(c));
    ck_assert_uint_eq(c->gpr[RDX], 0x67);
}
END_TEST

START_TEST(hlt_cli_sti_and_privilege)
{
    struct insn h = sm_insn(h_hlt, 1), sti = sm_insn(h_sti, 1), cli = sm_insn(h_cli, 1);
    ck_assert(!sm_exec(m, &sti));
    ck_assert(c->rflags & FL_IF);
    ck_assert_int_eq(c->intr_shadow, 1);
    ck_assert(!sm_exec(m, &cli));
    ck_assert(!(c->rflags & FL_IF));
    ck_assert(!sm_exec(m, &h));
    ck_assert_int_eq(c->halted, 1);
    /* An interrupt wakes the CPU. */
    c->rflags |= FL_IF;
    c->insn_rip = c->rip;
    cpu_interrupt(c, 0x20, INTR_EXTERNAL);
    ck_assert_int_eq(c->halted, 0);
    ck_assert_uint_eq(c->rip, SM_HANDLER(0x20));
    /* At CPL 3 with IOPL 0: HLT and CLI are #GP(0). */
    sm_user(m);
    c->rip = SM_CODE;
    ck_assert(sm_exec(m, &h));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    sm_user(m);
    c->rip = SM_CODE;
    ck_assert(sm_exec(m, &cli));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
    /* STAC at CPL 3 is #UD. */
    sm_user(m);
    c->rip = SM_CODE;
    struct insn st = sm_insn(h_stac, 3);
    ck_assert(sm_exec(m, &st));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_UD));
}
END_TEST

START_TEST(reset_state)
{
    cpu_reset(c);
    ck_assert_int_eq(c->mode, MODE_REAL);
    ck_assert_uint_eq(c->seg[SEG_CS].sel, 0xf000);
    ck_assert_uint_eq(c->seg[SEG_CS].base, 0xffff0000ull);
    ck_assert_uint_eq(c->rip, 0xfff0);
    ck_assert_uint_eq(c->cr0, 0x60000010ull);
    ck_assert_uint_eq(c->gpr[RDX], cpuid_signature(c));
    ck_assert_uint_eq(c->efer, 0);
    ck_assert_uint_eq(flags_get(c), 2);
    ck_assert_uint_eq(m->mmu.cr0, 0x60000010ull);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("system");
    TCase *t = tcase_create("system");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, syscall_sysret_round_trip);
    tcase_add_test(t, sysret_noncanonical_rcx_gp_at_cpl0);
    tcase_add_test(t, syscall_ud_without_sce_and_sysret_gp_at_cpl3);
    tcase_add_test(t, cr3_cr4_reach_the_mmu);
    tcase_add_test(t, cr0_and_pcide_rules);
    tcase_add_test(t, far_jump_from_prot32_into_long_mode);
    tcase_add_test(t, enabling_paging_with_lme_needs_pae);
    tcase_add_test(t, msr_round_trips);
    tcase_add_test(t, msr_gp_cases);
    tcase_add_test(t, cpuid_leaves);
    tcase_add_test(t, io_permission_bitmap);
    tcase_add_test(t, in_reads_through_env);
    tcase_add_test(t, segment_loads);
    tcase_add_test(t, lgdt_sgdt_ltr_str);
    tcase_add_test(t, lar_lsl);
    tcase_add_test(t, hlt_cli_sti_and_privilege);
    tcase_add_test(t, reset_state);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
