/* Handlers of the x87 FPU and MMX-state handlers; they live in cpu/fpu_*.c files.
 * Same convention as cpu/handlers.h: X(name) declares h_name. */
#ifndef HVEMU_CPU_HANDLERS_X87_H
#define HVEMU_CPU_HANDLERS_X87_H

#define HVEMU_HANDLERS_X87(X)

#endif
