/* Every instruction handler, one per mnemonic (or per mnemonic family where the
 * operand kinds in struct insn tell the forms apart).  The opcode tables in
 * cpu/decode_tables.c bind rows to these names; each handler lives in the
 * semantics file of its family, named in the comment of its group below.
 *
 * All handlers have the signature  void h_NAME(struct cpu *c, const struct insn *i).
 */
#ifndef HVEMU_CPU_HANDLERS_H
#define HVEMU_CPU_HANDLERS_H

#include "cpu/insn.h"
#include "cpu/handlers_x87.h"
#include "cpu/handlers_sse.h"
#include "cpu/handlers_legacy.h"

#define HVEMU_HANDLERS(X) \
    /* cpu/ops_alu.c: two- and one-operand arithmetic and logic */ \
    X(add) X(or) X(adc) X(sbb) X(and) X(sub) X(xor) X(cmp) X(test) \
    X(inc) X(dec) X(neg) X(not) \
    /* cpu/ops_shift.c */ \
    X(rol) X(ror) X(rcl) X(rcr) X(shl) X(shr) X(sar) X(shld) X(shrd) \
    /* cpu/ops_muldiv.c: imul1 = F6/F7 /5, imul2 = 0F AF, imul3 = 69/6B */ \
    X(mul) X(imul1) X(imul2) X(imul3) X(div) X(idiv) \
    /* cpu/ops_bit.c */ \
    X(bt) X(bts) X(btr) X(btc) X(bsf) X(bsr) X(tzcnt) X(lzcnt) X(popcnt) X(bswap) \
    /* cpu/ops_flags.c: flag instructions, SETcc, CMOVcc, sign extension of rAX */ \
    X(clc) X(stc) X(cmc) X(cld) X(std) X(lahf) X(sahf) X(setcc) X(cmovcc) \
    X(cbw) /* CBW/CWDE/CDQE by osize */ X(cwd) /* CWD/CDQ/CQO by osize */ \
    /* cpu/ops_xchg.c: exchange and compare-exchange (LOCK is implicit: one host thread) */ \
    X(xchg) X(xadd) X(cmpxchg) X(cmpxchg8b) /* 8B, or 16B with REX.W */ \
    /* cpu/ops_mov.c */ \
    X(mov) X(movzx) X(movsx) X(movsxd) X(lea) X(nop) X(pause) X(xlat) \
    /* cpu/ops_stack.c */ \
    X(push) X(pop) X(pushf) X(popf) X(enter) X(leave) \
    /* cpu/ops_branch.c: jmp/call take OPK_REL or OPK_RM; ret takes an optional OPK_IMM */ \
    X(jmp) X(call) X(ret) X(jcc) X(loop) X(loope) X(loopne) X(jrcxz) \
    /* cpu/ops_string.c: REP/REPE/REPNE handled inside */ \
    X(movs) X(cmps) X(stos) X(lods) X(scas) X(ins) X(outs) \
    /* cpu/ops_system.c: privileged and mode-changing instructions */ \
    X(hlt) X(cli) X(sti) X(int) X(int3) X(int1) X(into) X(iret) \
    X(syscall) X(sysret) X(sysenter) X(sysexit) X(swapgs) \
    X(lgdt) X(lidt) X(sgdt) X(sidt) X(lldt) X(sldt) X(ltr) X(str) X(lmsw) X(smsw) X(clts) \
    X(mov_cr) /* to or from, by operand kinds */ X(mov_dr) X(invlpg) X(invpcid) \
    X(rdmsr) X(wrmsr) X(rdtsc) X(rdtscp) X(rdpmc) X(cpuid) \
    X(in) X(out) X(jmpf) X(callf) X(retf) \
    X(mov_sreg) /* to or from a segment register */ X(push_sreg) X(pop_sreg) \
    X(lar) X(lsl) X(verr) X(verw) X(stac) X(clac) \
    X(vmcall) /* VMCALL and VMMCALL */ X(wbinvd) X(fence) X(clflush) \
    /* cpu/ops_rand.c: h_rdseed is also RDPID (F3 0F C7 /7) */ \
    X(rdrand) X(rdseed) \
    X(ud) /* UD2, UD0, UD1 and every undefined encoding */ \
    HVEMU_HANDLERS_X87(X) HVEMU_HANDLERS_SSE(X) HVEMU_HANDLERS_LEGACY(X)

#define X(name) void h_##name(struct cpu *c, const struct insn *i);
HVEMU_HANDLERS(X)
#undef X

#endif
