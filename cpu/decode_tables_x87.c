/* The x87 escape opcodes D8-DF (SDM Vol. 2 Appendix A.4, Tables A-7..A-22).
 *
 * Memory forms are indexed by ModRM.reg, register forms (mod = 11) by the low six
 * ModRM bits.  The decoder reaches them through SP_X87 (cpu/decode.c) after reading
 * the ModRM byte.  Handlers: h_fpu runs the instruction on the host x87 and h_fpu_st
 * does the same for memory destinations (cpu/fpu_ops.c); the control instructions
 * have their own.  Undocumented aliases that every Intel and AMD x87 executes (FCOM2,
 * FCOMP3, FXCH4, FCOMP5, FSTP1, FXCH7, FSTP8, FSTP9, FFREEP) are included because
 * the hardware runs them; the holes are #UD.
 */
#include "cpu/decode_tab.h"

#define MR(reg, mn, h) [reg] = { .name = mn, .kind = ROW_OP, .hid = HID_##h, .opnd = { M, 0, 0 } }
/* Eight register forms opcode(modrm base) .. +7, the ST(i) in ModRM.rm. */
#define R8(base, mn, h) [(base) & 0x3f ... ((base) & 0x3f) + 7] = \
    { .name = mn, .kind = ROW_OP, .hid = HID_##h, .flags = R_MODRM }
#define R1(modrm, mn, h) [(modrm) & 0x3f] = \
    { .name = mn, .kind = ROW_OP, .hid = HID_##h, .flags = R_MODRM }

const struct op_row op_x87_mem[8][8] = {
    [0] = { MR(0, "fadd", fpu), MR(1, "fmul", fpu), MR(2, "fcom", fpu), MR(3, "fcomp", fpu),
            MR(4, "fsub", fpu), MR(5, "fsubr", fpu), MR(6, "fdiv", fpu), MR(7, "fdivr", fpu) },
    [1] = { MR(0, "fld", fpu), MR(2, "fst", fpu_st), MR(3, "fstp", fpu_st),
            MR(4, "fldenv", fldenv), MR(5, "fldcw", fldcw), MR(6, "fnstenv", fnstenv),
            MR(7, "fnstcw", fnstcw) },
    [2] = { MR(0, "fiadd", fpu), MR(1, "fimul", fpu), MR(2, "ficom", fpu), MR(3, "ficomp", fpu),
            MR(4, "fisub", fpu), MR(5, "fisubr", fpu), MR(6, "fidiv", fpu), MR(7, "fidivr", fpu) },
    [3] = { MR(0, "fild", fpu), MR(1, "fisttp", fpu_st), MR(2, "fist", fpu_st),
            MR(3, "fistp", fpu_st), MR(5, "fld", fpu), MR(7, "fstp", fpu_st) },
    [4] = { MR(0, "fadd", fpu), MR(1, "fmul", fpu), MR(2, "fcom", fpu), MR(3, "fcomp", fpu),
            MR(4, "fsub", fpu), MR(5, "fsubr", fpu), MR(6, "fdiv", fpu), MR(7, "fdivr", fpu) },
    [5] = { MR(0, "fld", fpu), MR(1, "fisttp", fpu_st), MR(2, "fst", fpu_st),
            MR(3, "fstp", fpu_st), MR(4, "frstor", frstor), MR(6, "fnsave", fnsave),
            MR(7, "fnstsw", fnstsw) },
    [6] = { MR(0, "fiadd", fpu), MR(1, "fimul", fpu), MR(2, "ficom", fpu), MR(3, "ficomp", fpu),
            MR(4, "fisub", fpu), MR(5, "fisubr", fpu), MR(6, "fidiv", fpu), MR(7, "fidivr", fpu) },
    [7] = { MR(0, "fild", fpu), MR(1, "fisttp", fpu_st), MR(2, "fist", fpu_st),
            MR(3, "fistp", fpu_st), MR(4, "fbld", fpu), MR(5, "fild", fpu),
            MR(6, "fbstp", fpu_st), MR(7, "fistp", fpu_st) },
};

const struct op_row op_x87_reg[8][64] = {
    [0] = { R8(0xc0, "fadd", fpu), R8(0xc8, "fmul", fpu), R8(0xd0, "fcom", fpu),
            R8(0xd8, "fcomp", fpu), R8(0xe0, "fsub", fpu), R8(0xe8, "fsubr", fpu),
            R8(0xf0, "fdiv", fpu), R8(0xf8, "fdivr", fpu) },
    [1] = { R8(0xc0, "fld", fpu), R8(0xc8, "fxch", fpu), R1(0xd0, "fnop", fpu),
            R8(0xd8, "fstp1", fpu),
            R1(0xe0, "fchs", fpu), R1(0xe1, "fabs", fpu), R1(0xe4, "ftst", fpu), R1(0xe5, "fxam", fpu),
            R1(0xe8, "fld1", fpu), R1(0xe9, "fldl2t", fpu), R1(0xea, "fldl2e", fpu),
            R1(0xeb, "fldpi", fpu), R1(0xec, "fldlg2", fpu), R1(0xed, "fldln2", fpu),
            R1(0xee, "fldz", fpu),
            R1(0xf0, "f2xm1", fpu), R1(0xf1, "fyl2x", fpu), R1(0xf2, "fptan", fpu),
            R1(0xf3, "fpatan", fpu), R1(0xf4, "fxtract", fpu), R1(0xf5, "fprem1", fpu),
            R1(0xf6, "fdecstp", fpu), R1(0xf7, "fincstp", fpu), R1(0xf8, "fprem", fpu),
            R1(0xf9, "fyl2xp1", fpu), R1(0xfa, "fsqrt", fpu), R1(0xfb, "fsincos", fpu),
            R1(0xfc, "frndint", fpu), R1(0xfd, "fscale", fpu), R1(0xfe, "fsin", fpu),
            R1(0xff, "fcos", fpu) },
    [2] = { R8(0xc0, "fcmovb", fpu), R8(0xc8, "fcmove", fpu), R8(0xd0, "fcmovbe", fpu),
            R8(0xd8, "fcmovu", fpu), R1(0xe9, "fucompp", fpu) },
    [3] = { R8(0xc0, "fcmovnb", fpu), R8(0xc8, "fcmovne", fpu), R8(0xd0, "fcmovnbe", fpu),
            R8(0xd8, "fcmovnu", fpu), R1(0xe0, "fneni", fnnop), R1(0xe1, "fndisi", fnnop),
            R1(0xe2, "fnclex", fnclex), R1(0xe3, "fninit", fninit), R1(0xe4, "fnsetpm", fnnop),
            R8(0xe8, "fucomi", fpu), R8(0xf0, "fcomi", fpu) },
    [4] = { R8(0xc0, "fadd", fpu), R8(0xc8, "fmul", fpu), R8(0xd0, "fcom2", fpu),
            R8(0xd8, "fcomp3", fpu), R8(0xe0, "fsubr", fpu), R8(0xe8, "fsub", fpu),
            R8(0xf0, "fdivr", fpu), R8(0xf8, "fdiv", fpu) },
    [5] = { R8(0xc0, "ffree", fpu), R8(0xc8, "fxch4", fpu), R8(0xd0, "fst", fpu),
            R8(0xd8, "fstp", fpu), R8(0xe0, "fucom", fpu), R8(0xe8, "fucomp", fpu) },
    [6] = { R8(0xc0, "faddp", fpu), R8(0xc8, "fmulp", fpu), R8(0xd0, "fcomp5", fpu),
            R1(0xd9, "fcompp", fpu), R8(0xe0, "fsubrp", fpu), R8(0xe8, "fsubp", fpu),
            R8(0xf0, "fdivrp", fpu), R8(0xf8, "fdivp", fpu) },
    [7] = { R8(0xc0, "ffreep", fpu), R8(0xc8, "fxch7", fpu), R8(0xd0, "fstp8", fpu),
            R8(0xd8, "fstp9", fpu), R1(0xe0, "fnstsw", fnstsw), R8(0xe8, "fucomip", fpu),
            R8(0xf0, "fcomip", fpu) },
};
