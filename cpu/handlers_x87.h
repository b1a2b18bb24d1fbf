/* Handlers of the x87 FPU and MMX-state handlers; they live in cpu/fpu_*.c files.
 * Same convention as cpu/handlers.h: X(name) declares h_name. */
#ifndef HVEMU_CPU_HANDLERS_X87_H
#define HVEMU_CPU_HANDLERS_X87_H

#define HVEMU_HANDLERS_X87(X) \
    /* cpu/fpu_ops.c: fpu = every computing D8-DF form run on the host x87 (the row
     * names the mnemonic), fpu_st = those with a memory destination */ \
    X(fpu) X(fpu_st) X(fnstsw) X(fnstcw) X(fldcw) X(fninit) X(fnclex) X(fnnop) X(fwait) X(emms) \
    /* cpu/fpu_env.c */ \
    X(fnstenv) X(fldenv) X(fnsave) X(frstor) X(fxsave) X(fxrstor) X(ldmxcsr) X(stmxcsr) \
    X(xsave) X(xsaveopt) X(xrstor) X(xgetbv) X(xsetbv) \
    /* cpu/fpu_fsgsbase.c: /0 /1 read, /2 /3 write; the digit's low bit picks GS */ \
    X(rdfsbase) X(wrfsbase)

#endif
