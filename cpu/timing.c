/* The timing table: base cycles per instruction class for a Skylake-class core.
 *
 * Sources: Agner Fog, "Instruction tables" (Skylake section; reciprocal throughput
 * for independent instructions, latency where the instruction is typically on a
 * dependency chain, e.g. DIV) and uops.info measurements for Skylake.  Values are
 * rounded; ranges (DIV r64: 35-88) are represented by a typical value.  The
 * exception-delivery, TLB, I/O-device and hypercall costs are charged by their own
 * modules (DESIGN.md §4), so INT n, IN/OUT and VMCALL carry only the core part.
 */
#include "cpu/timing.h"
#include "cpu/decode.h"

/* Extra cycles of a LOCKed read-modify-write (Agner Fog, Skylake: LOCK ADD m,r ~18)
 * and of XCHG with memory, which is locked implicitly (SDM Vol. 2 XCHG). */
#define LOCK_EXTRA 18

static const uint16_t base_cost[HID_COUNT] = {
    /* simple integer ops: 1 uop, throughput/latency 1 */
    [HID_add] = 1, [HID_or] = 1, [HID_adc] = 1, [HID_sbb] = 1, [HID_and] = 1, [HID_sub] = 1,
    [HID_xor] = 1, [HID_cmp] = 1, [HID_test] = 1, [HID_inc] = 1, [HID_dec] = 1, [HID_neg] = 1,
    [HID_not] = 1,
    /* shifts by immediate/1: 1; RCL/RCR: 2 by one, 6 otherwise (adjusted below) */
    [HID_rol] = 1, [HID_ror] = 1, [HID_rcl] = 2, [HID_rcr] = 2, [HID_shl] = 1, [HID_shr] = 1,
    [HID_sar] = 1, [HID_shld] = 3, [HID_shrd] = 3,
    /* MUL/IMUL latency 3; DIV/IDIV by size below (Agner: r32 26, r64 35-88 / 42-95) */
    [HID_mul] = 3, [HID_imul1] = 3, [HID_imul2] = 3, [HID_imul3] = 3, [HID_div] = 26, [HID_idiv] = 26,
    /* bit ops: BT/BTS/BTR/BTC r 1; BSF/BSR/POPCNT/TZCNT/LZCNT latency 3; BSWAP 1 */
    [HID_bt] = 1, [HID_bts] = 1, [HID_btr] = 1, [HID_btc] = 1, [HID_bsf] = 3, [HID_bsr] = 3,
    [HID_tzcnt] = 3, [HID_lzcnt] = 3, [HID_popcnt] = 3, [HID_bswap] = 1,
    /* flags: CLD/STD ~4 (Agner: 3-4 uops), the rest 1 */
    [HID_clc] = 1, [HID_stc] = 1, [HID_cmc] = 1, [HID_cld] = 4, [HID_std] = 4, [HID_lahf] = 1,
    [HID_sahf] = 1, [HID_setcc] = 1, [HID_cmovcc] = 1, [HID_cbw] = 1, [HID_cwd] = 1,
    /* XCHG r,r 3 uops ~2; XADD 2; CMPXCHG r,r ~6; CMPXCHG8B ~19; memory forms add LOCK_EXTRA */
    [HID_xchg] = 2, [HID_xadd] = 2, [HID_cmpxchg] = 6, [HID_cmpxchg8b] = 19,
    /* moves: 1; XLAT 3 uops; PAUSE ~140 on Skylake (Agner Fog, Skylake notes) */
    [HID_mov] = 1, [HID_movzx] = 1, [HID_movsx] = 1, [HID_movsxd] = 1, [HID_lea] = 1, [HID_nop] = 1,
    [HID_pause] = 140, [HID_xlat] = 3,
    /* stack: PUSH/POP 1; PUSHF 3; POPF ~20; ENTER ~12; LEAVE 3 */
    [HID_push] = 1, [HID_pop] = 1, [HID_pushf] = 3, [HID_popf] = 20, [HID_enter] = 12, [HID_leave] = 3,
    /* branches: JMP/Jcc 1; CALL/RET 2; LOOP 5, LOOPE/LOOPNE 6; JrCXZ 2 */
    [HID_jmp] = 1, [HID_call] = 2, [HID_ret] = 2, [HID_jcc] = 1, [HID_loop] = 5, [HID_loope] = 6,
    [HID_loopne] = 6, [HID_jrcxz] = 2,
    /* strings, per element: MOVS 4, CMPS 4, STOS 1, LODS 2, SCAS 2; INS/OUTS as IN/OUT */
    [HID_movs] = 4, [HID_cmps] = 4, [HID_stos] = 1, [HID_lods] = 2, [HID_scas] = 2,
    [HID_ins] = 50, [HID_outs] = 50,
    /* system: serialising or microcoded, tens to hundreds of cycles */
    [HID_hlt] = 1, [HID_cli] = 3, [HID_sti] = 3, [HID_int] = 100, [HID_int3] = 100, [HID_int1] = 100,
    [HID_into] = 2, [HID_iret] = 70,
    [HID_syscall] = 60, [HID_sysret] = 60, [HID_sysenter] = 50, [HID_sysexit] = 50, [HID_swapgs] = 30,
    [HID_lgdt] = 50, [HID_lidt] = 50, [HID_sgdt] = 10, [HID_sidt] = 10, [HID_lldt] = 50, [HID_sldt] = 2,
    [HID_ltr] = 50, [HID_str] = 2, [HID_lmsw] = 20, [HID_smsw] = 2, [HID_clts] = 30,
    [HID_mov_cr] = 3, [HID_mov_dr] = 3, [HID_invlpg] = 200, [HID_invpcid] = 150,
    [HID_rdmsr] = 100, [HID_wrmsr] = 150, [HID_rdtsc] = 25, [HID_rdtscp] = 32, [HID_rdpmc] = 35,
    [HID_cpuid] = 150,
    /* IN/OUT: the core part; the device's latency is charged by devices/ */
    [HID_in] = 50, [HID_out] = 50,
    [HID_jmpf] = 50, [HID_callf] = 50, [HID_retf] = 50,
    [HID_mov_sreg] = 1, [HID_push_sreg] = 2, [HID_pop_sreg] = 20,
    [HID_lar] = 15, [HID_lsl] = 15, [HID_verr] = 15, [HID_verw] = 15, [HID_stac] = 6, [HID_clac] = 6,
    /* VMCALL: hv/ charges the hypercall entry/exit cost */
    [HID_vmcall] = 1, [HID_wbinvd] = 2000, [HID_fence] = 4, [HID_clflush] = 4,
    [HID_ud] = 1,
};

uint16_t timing_cost(unsigned hid, const struct insn *i)
{
    if (hid >= HID_COUNT)
        return 1;
    unsigned c = base_cost[hid] ? base_cost[hid] : 1;
    bool mem = i->flags & IF_MEM;

    switch (hid) {
    case HID_div:       /* Agner Fog, Skylake: DIV r8/r16 ~23, r32 26, r64 35-88 */
        c = i->osize == 8 ? 42 : i->osize == 4 ? 26 : 23;
        break;
    case HID_idiv:      /* IDIV r64 42-95 */
        c = i->osize == 8 ? 57 : i->osize == 4 ? 26 : 24;
        break;
    case HID_rcl: case HID_rcr:
        if (i->opnd[1] != OPK_ONE)
            c = 6;
        break;
    case HID_rol: case HID_ror: case HID_shl: case HID_shr: case HID_sar:
        if (i->opnd[1] == OPK_CL)
            c = 2;      /* shifts by CL: 3 uops, latency 2 (flags merge) */
        break;
    case HID_shld: case HID_shrd:
        if (i->opnd[2] == OPK_CL)
            c = 4;
        break;
    case HID_lea:       /* three-component LEA has latency 3 on Skylake */
        if (i->base != EA_NONE && i->index != EA_NONE && i->disp != 0)
            c = 3;
        break;
    case HID_bts: case HID_btr: case HID_btc: case HID_bt:
        if (mem)
            c = i->opnd[1] == OPK_IMM ? 3 : 8;   /* bit string addressing with a register offset */
        break;
    case HID_xchg:
        if (mem)
            c += LOCK_EXTRA;
        break;
    case HID_cmpxchg8b:
        if (i->osize == 8 && (i->pfx & PFX_REX))
            c = 26;     /* CMPXCHG16B */
        break;
    case HID_mov_cr: case HID_mov_dr:
        if (i->opnd[0] == OPK_CREG)
            c = 150;    /* writes are serialising; CR3 writes also flush */
        else if (i->opnd[0] == OPK_DREG)
            c = 50;
        break;
    case HID_mov_sreg:
        if (i->opnd[0] == OPK_SREG)
            c = 20;     /* a segment load reads a descriptor */
        break;
    case HID_fence:     /* LFENCE 4, MFENCE 33, SFENCE 6 (Agner Fog, Skylake) */
        c = (i->reg & 7) == 6 ? 33 : (i->reg & 7) == 7 ? 6 : 4;
        break;
    default:
        break;
    }
    if ((i->pfx & PFX_LOCK) && hid != HID_ud)
        c += LOCK_EXTRA;
    return (uint16_t)c;
}
