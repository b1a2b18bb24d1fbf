/* Handlers of the 16/32-bit-only instructions (PUSHA/POPA, BCD, BOUND, ARPL, far-pointer loads, ...) and the rest of the modes work; they live in cpu/ops_legacy_*.c files.
 * Same convention as cpu/handlers.h: X(name) declares h_name. */
#ifndef HVEMU_CPU_HANDLERS_LEGACY_H
#define HVEMU_CPU_HANDLERS_LEGACY_H

#define HVEMU_HANDLERS_LEGACY(X) \
    /* cpu/ops_legacy.c; lfp = LES/LDS/LSS/LFS/LGS by opcode */ \
    X(pusha) X(popa) X(daa) X(das) X(aaa) X(aas) X(aam) X(aad) X(salc) \
    X(bound) X(arpl) X(lfp)

#endif
