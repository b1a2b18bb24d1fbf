/* Privileged and mode-changing instructions: HLT, CLI/STI, INT n/INT3/INT1/INTO,
 * IRET, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, IN/OUT and the I/O permission
 * check, STAC/CLAC, VMCALL, WBINVD, fences, CLFLUSH, UD.  Semantics: SDM Vol. 2;
 * each handler cites what it follows.  Descriptor-table and segment instructions
 * are in ops_desc.c; control registers and MSRs in ops_msr.c.
 *
 * Fault rule (as everywhere): read and check everything first, commit last.
 */
#include "cpu/cpu_quirks.h"
#include "cpu/env.h"
#include "cpu/debug_hook.h"
#include "cpu/exception.h"
#include "cpu/flags.h"
#include "cpu/gates.h"
#include "cpu/handlers.h"
#include "cpu/io.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

static inline unsigned iopl(const struct cpu *c)
{
    return (unsigned)((c->rflags & FL_IOPL) >> 12);
}

/* In protected mode (VME/PVI are not supported) CLI, STI and port I/O are
 * privileged below IOPL; real mode has CPL 0. */
static inline bool io_privileged(const struct cpu *c)
{
    return c->mode == MODE_REAL || c->cpl <= iopl(c);
}

/* ---- HLT, CLI, STI ------------------------------------------------------------ */

void h_hlt(struct cpu *c, const struct insn *i)
{
    if (c->cpl != 0)
        cpu_raise_gp0(c);
    /* The run loop returns CPU_EXIT_HALT; a delivered interrupt clears halted. */
    c->halted = 1;
    c->attention |= ATTN_BLOCK_END;
}

void h_cli(struct cpu *c, const struct insn *i)
{
    if (!io_privileged(c))
        cpu_raise_gp0(c);
    c->rflags &= ~(uint64_t)FL_IF;
}

void h_sti(struct cpu *c, const struct insn *i)
{
    if (!io_privileged(c))
        cpu_raise_gp0(c);
    if (!(c->rflags & FL_IF)) {
        /* SDM STI: interrupts stay inhibited until after the next instruction. */
        c->rflags |= FL_IF;
        c->intr_shadow = SHADOW_STI;
        c->attention |= ATTN_INTR;
    }
}

/* ---- software interrupts ---------------------------------------------------------- */

void h_int(struct cpu *c, const struct insn *i)
{
    cpu_interrupt(c, (int)(i->imm & 0xff), INTR_SOFTWARE);
}

void h_int3(struct cpu *c, const struct insn *i)
{
    cpu_interrupt(c, EXC_BP, INTR_SOFTWARE_EXC);
}

void h_int1(struct cpu *c, const struct insn *i)
{
    cpu_interrupt(c, EXC_DB, INTR_ICEBP);
}

void h_into(struct cpu *c, const struct insn *i)
{
    if (c->mode == MODE_LONG64)
        cpu_raise_ud(c);
    if (flags_of(c))
        cpu_interrupt(c, EXC_OF, INTR_SOFTWARE_EXC);
}

/* ---- IRET --------------------------------------------------------------------------- */

/* The RFLAGS bits IRET/POPF may change at the current CPL and IOPL (SDM IRET,
 * "EFLAGS ← tempEFLAGS" cases): VM is never taken from the stack (no virtual-8086). */
static uint64_t iret_flag_mask(const struct cpu *c, unsigned osize)
{
    uint64_t m = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID;
    if (c->cpl == 0)
        m |= FL_IOPL | FL_IF | FL_VIF | FL_VIP;
    else if (c->cpl <= iopl(c))
        m |= FL_IF;
    if (osize == 2)
        m &= 0xffff;
    return m;
}

static void iret_real(struct cpu *c, unsigned osize)
{
    uint64_t ip = stack_peek(c, 0, osize);
    uint16_t cs = (uint16_t)stack_peek(c, osize, osize);
    uint64_t fl = stack_peek(c, 2 * osize, osize);
    if (ip > c->seg[SEG_CS].limit)
        cpu_raise_gp0(c);
    stack_adjust(c, 3 * (int64_t)osize);
    uint64_t mask = (FL_ARITH | FL_TF | FL_IF | FL_DF | FL_IOPL | FL_NT | FL_RF | FL_AC | FL_ID) &
                    (osize == 2 ? 0xffffull : ~0ull);
    flags_write(c, fl, mask);
    seg_load_real(c, SEG_CS, cs);
    c->rip = ip;
}

/* Protected-mode and IA-32e IRET without task return (a legacy-mode IRET with NT
 * = 1 would switch tasks: a clean stop, see cpu/gates.h). */
static void iret_prot(struct cpu *c, unsigned osize)
{
    bool long64 = c->mode == MODE_LONG64;
    bool lma = (c->efer & EFER_LMA) != 0;
    if ((c->rflags & FL_NT) && lma)
        cpu_raise_gp0(c);                       /* IA-32e: SDM IRET "IF EFLAGS.NT = 1: #GP(0)" */
    if (c->rflags & FL_NT)
        cpu_stop_unsupported(c, "IRET with NT = 1: return from a nested task (hardware task switch)");

    uint64_t rip = stack_peek(c, 0, osize);
    uint16_t cs_sel = (uint16_t)stack_peek(c, osize, osize);
    uint64_t fl = stack_peek(c, 2 * osize, osize);
    unsigned rpl = SEL_RPL(cs_sel);

    uint64_t cs_addr;
    uint64_t cs_d = seg_check_code(c, cs_sel, &cs_addr);
    uint16_t a = desc_attr(cs_d);
    unsigned dpl = SEG_ATTR_DPL(a);
    if (rpl < c->cpl || ((a & ST_CONFORM) ? dpl > rpl : dpl != rpl))
        cpu_raise(c, EXC_GP, SEL_ERR(cs_sel));
    if (lma && (a & SEG_ATTR_L) && (a & SEG_ATTR_DB))
        cpu_raise(c, EXC_GP, SEL_ERR(cs_sel));
    if (!(a & SEG_ATTR_P))
        cpu_raise(c, EXC_NP, SEL_ERR(cs_sel));
    bool to64 = lma && (a & SEG_ATTR_L);
    if (!to64)
        rip &= osize == 2 ? 0xffff : 0xffffffffull;
    struct segment cs_new;
    seg_from_desc(&cs_new, cs_sel, cs_d);
    seg_check_rip(c, &cs_new, to64, rip);

    /* 64-bit mode always pops SS:RSP; elsewhere only on a return to an outer level. */
    bool pop_stack = long64 || rpl > c->cpl;
    uint64_t new_rsp = 0;
    struct segment ss_new = c->seg[SEG_SS];
    if (pop_stack) {
        new_rsp = stack_peek(c, 3 * osize, osize);
        uint16_t ss_sel = (uint16_t)stack_peek(c, 4 * osize, osize);
        ss_new = seg_check_return_ss(c, ss_sel, rpl, to64);
    }
    desc_set_accessed(c, cs_addr, &cs_d);

    /* Commit: flags with the old CPL's rules, then SS and RSP, then CS (mode, CPL). */
    unsigned old_cpl = c->cpl;
    flags_write(c, fl, iret_flag_mask(c, osize));
    if (pop_stack) {
        c->seg[SEG_SS] = ss_new;
        if (to64 || osize == 8)
            c->gpr[RSP] = new_rsp;
        else
            gpr_write(c, RSP, (ss_new.attr & SEG_ATTR_DB) ? 4 : 2, new_rsp, false);
    } else {
        stack_adjust(c, 3 * (int64_t)osize);
    }
    c->rip = rip;
    seg_load_cs(c, cs_sel, cs_d, rpl);
    if (c->cpl > old_cpl)
        seg_null_outer(c);
}

void h_iret(struct cpu *c, const struct insn *i)
{
    /* IRET unblocks NMIs even if it then faults (SDM Vol. 3A 6.7.1); a latched NMI
     * is taken at the next boundary. */
    if (c->nmi_blocked) {
        c->nmi_blocked = 0;
        c->attention |= ATTN_INTR;
    }
    if (c->mode == MODE_REAL)
        iret_real(c, i->osize);
    else
        iret_prot(c, i->osize);
    cpu_update_mode(c);                         /* AC may have changed: the mmu's fast context */
    if (c->rflags & FL_IF)
        c->attention |= ATTN_INTR;
}

/* ---- SYSCALL / SYSRET ------------------------------------------------------------ */

/* Flat code/stack caches of SDM Vol. 2 SYSCALL/SYSRET ("CS.Base ← 0; CS.Limit ← FFFFFH
 * with G = 1; CS.Type ← 11; CS.S ← 1; CS.DPL ← 0/3; CS.P ← 1; CS.L; CS.D; ..."). */
#define ATTR_CODE64(dpl) ((uint16_t)(SEG_ATTR_P | SEG_ATTR_S | ST_CODE | ST_READ | ST_ACCESSED | \
                                     ((dpl) << 5) | SEG_ATTR_L | SEG_ATTR_G))
#define ATTR_CODE32(dpl) ((uint16_t)(SEG_ATTR_P | SEG_ATTR_S | ST_CODE | ST_READ | ST_ACCESSED | \
                                     ((dpl) << 5) | SEG_ATTR_DB | SEG_ATTR_G))
#define ATTR_STACK(dpl)  ((uint16_t)(SEG_ATTR_P | SEG_ATTR_S | ST_WRITE | ST_ACCESSED | \
                                     ((dpl) << 5) | SEG_ATTR_DB | SEG_ATTR_G))

/* SYSCALL outside 64-bit mode is #UD (SDM), except from compatibility mode on a
 * model with QUIRK_SYSCALL_COMPAT (APM Vol. 3 SYSCALL): it enters the 64-bit kernel
 * at IA32_CSTAR.  (The AMD legacy-mode form, EFER.LMA = 0, is not modelled: #UD.) */
void h_syscall(struct cpu *c, const struct insn *i)
{
    bool compat = c->mode != MODE_LONG64 && (c->efer & EFER_LMA) && cpu_quirk(c, QUIRK_SYSCALL_COMPAT);
    if (!(c->efer & EFER_SCE) || (c->mode != MODE_LONG64 && !compat))
        cpu_raise_ud(c);
    flags_materialise(c);
    uint64_t fl = c->rflags;
    uint16_t sel = (uint16_t)(c->msr.star >> 32);
    c->gpr[RCX] = c->rip;
    c->gpr[R11] = fl & ~(uint64_t)FL_RF;
    c->rflags = (fl & ~c->msr.sfmask & ~(uint64_t)(FL_RF | FL_VM)) | FL_FIXED1;
    seg_set_flat(&c->seg[SEG_CS], sel & 0xfffc, ATTR_CODE64(0));
    seg_set_flat(&c->seg[SEG_SS], (uint16_t)((sel + 8) & 0xfffc), ATTR_STACK(0));
    c->rip = compat ? c->msr.cstar : c->msr.lstar;
    cpu_update_mode(c);
}

void h_sysret(struct cpu *c, const struct insn *i)
{
    if (!(c->efer & EFER_SCE) || c->mode != MODE_LONG64)
        cpu_raise_ud(c);
    if (c->cpl != 0)
        cpu_raise_gp0(c);
    uint16_t sel = (uint16_t)(c->msr.star >> 48);
    uint64_t rip;
    if (i->osize == 8) {
        /* The #GP on a non-canonical RCX is raised at CPL 0 (SDM SYSRET). */
        if (!canonical48(c->gpr[RCX]))
            cpu_raise_gp0(c);
        rip = c->gpr[RCX];
        seg_set_flat(&c->seg[SEG_CS], (uint16_t)((sel + 16) | 3), ATTR_CODE64(3));
    } else {
        rip = (uint32_t)c->gpr[RCX];
        seg_set_flat(&c->seg[SEG_CS], (uint16_t)(sel | 3), ATTR_CODE32(3));
    }
    seg_set_flat(&c->seg[SEG_SS], (uint16_t)((sel + 8) | 3), ATTR_STACK(3));
    /* RFLAGS ← (R11 & 3C7FD7H) | 2 */
    flags_write(c, (c->gpr[R11] & 0x3c7fd7ull) | FL_FIXED1, ~0ull);
    c->rip = rip;
    cpu_update_mode(c);
    if (c->rflags & FL_IF)
        c->attention |= ATTN_INTR;
    if (c->rflags & FL_TF)
        dbg_sysret_trap(c);
}

/* CPUID does not advertise SEP, so SYSENTER/SYSEXIT are #UD (as on a CPU without it). */
void h_sysenter(struct cpu *c, const struct insn *i)
{
    cpu_raise_ud(c);
}

void h_sysexit(struct cpu *c, const struct insn *i)
{
    cpu_raise_ud(c);
}

void h_swapgs(struct cpu *c, const struct insn *i)
{
    if (c->mode != MODE_LONG64)
        cpu_raise_ud(c);
    if (c->cpl != 0)
        cpu_raise_gp0(c);
    uint64_t t = c->seg[SEG_GS].base;
    c->seg[SEG_GS].base = c->msr.kernel_gs_base;
    c->msr.kernel_gs_base = t;
}

/* ---- port I/O ------------------------------------------------------------------------ */

bool cpu_io_allowed(struct cpu *c, uint16_t port, unsigned size)
{
    if (!(c->cr0 & CR0_PE))
        return true;
    if (!(c->rflags & FL_VM) && c->cpl <= iopl(c))
        return true;
    /* SDM Vol. 1 19.5.2: the I/O map base is the word at TSS offset 66H; the bits of
     * every byte accessed must be clear, and reading 2 bytes covers a bit span that
     * crosses a byte.  Only a 32/64-bit TSS has a bitmap. */
    unsigned tt = c->tr.attr & 0xf;
    if ((tt != DT_TSS_AVAIL && tt != DT_TSS_BUSY) || c->tr.limit < 0x67)
        return false;
    uint64_t map = mem_read_sys(c, c->tr.base + 0x66, 2);
    uint64_t off = map + port / 8;
    if (off + 1 > c->tr.limit)
        return false;
    uint64_t bits = mem_read_sys(c, c->tr.base + off, 2);
    uint64_t mask = ((1u << size) - 1) << (port & 7);
    return (bits & mask) == 0;
}

uint32_t cpu_io_in(struct cpu *c, uint16_t port, unsigned size)
{
    if (unlikely(c->dbg.io_mask))
        dbg_io_access(c, port, size);
    if (c->env && c->env->io_in)
        return c->env->io_in(c->env_opaque, c, port, size);
    return (uint32_t)size_mask(size);
}

void cpu_io_out(struct cpu *c, uint16_t port, uint32_t val, unsigned size)
{
    if (unlikely(c->dbg.io_mask))
        dbg_io_access(c, port, size);
    if (c->env && c->env->io_out)
        c->env->io_out(c->env_opaque, c, port, val, size);
}

/* IN/OUT: the accumulator operand gives the size (AL 1, AX 2, EAX 4: REX.W does not
 * make it 8); the port is imm8 or DX. */
static unsigned io_size(const struct insn *i)
{
    return (i->flags & IF_BYTEOP) || i->osize == 1 ? 1 : i->osize == 2 ? 2 : 4;
}

static uint16_t io_port(struct cpu *c, const struct insn *i, unsigned n)
{
    return i->opnd[n] == OPK_DX ? (uint16_t)c->gpr[RDX] : (uint16_t)(i->imm & 0xff);
}

void h_in(struct cpu *c, const struct insn *i)
{
    unsigned size = io_size(i);
    uint16_t port = io_port(c, i, 1);
    if (!cpu_io_allowed(c, port, size))
        cpu_raise_gp0(c);
    gpr_write(c, RAX, size, cpu_io_in(c, port, size), false);
}

void h_out(struct cpu *c, const struct insn *i)
{
    unsigned size = io_size(i);
    uint16_t port = io_port(c, i, 0);
    if (!cpu_io_allowed(c, port, size))
        cpu_raise_gp0(c);
    cpu_io_out(c, port, (uint32_t)(c->gpr[RAX] & size_mask(size)), size);
}

/* ---- SMAP, hypercalls, cache and misc ---------------------------------------------- */

/* SDM STAC/CLAC: #UD if CPL > 0 (and the mmu's fast context follows AC). */
void h_stac(struct cpu *c, const struct insn *i)
{
    if (c->cpl != 0)
        cpu_raise_ud(c);
    flags_write(c, FL_AC, FL_AC);
    cpu_update_mode(c);
}

void h_clac(struct cpu *c, const struct insn *i)
{
    if (c->cpl != 0)
        cpu_raise_ud(c);
    flags_write(c, 0, FL_AC);
    cpu_update_mode(c);
}

/* VMCALL / VMMCALL: the hypervisor interface (hv/hypercall.c) at CPL 0; with no
 * hypervisor (or above CPL 0) the instruction is undefined, as outside VMX. */
void h_vmcall(struct cpu *c, const struct insn *i)
{
    if (c->cpl != 0 || !c->env || !c->env->hypercall)
        cpu_raise_ud(c);
    c->env->hypercall(c->env_opaque, c);
}

void h_wbinvd(struct cpu *c, const struct insn *i)
{
    if (c->cpl != 0)
        cpu_raise_gp0(c);           /* no caches are modelled: no other effect */
}

void h_fence(struct cpu *c, const struct insn *i)
{
    /* LFENCE/MFENCE/SFENCE: one in-order interpreter thread per VP; nothing to order. */
}

void h_clflush(struct cpu *c, const struct insn *i)
{
    /* Architecturally a read for permission purposes (it may #PF / #GP). */
    uint64_t la = insn_ea(c, i, 1, ACC_READ);
    (void)mem_read(c, la, 1);
}

void h_ud(struct cpu *c, const struct insn *i)
{
    if (CPU_DBG_ON(CPU_DBG_UNIMP) && i->op != 0x10b)    /* UD2 is deliberate (Linux BUG/WARN) */
        cpu_debug_hooks->ud(c, i);
    cpu_raise_ud(c);
}
