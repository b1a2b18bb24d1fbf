/* Handlers of the SSE..SSE4.2, MXCSR and XSAVE-family handlers; they live in cpu/sse_*.c files.
 * Same convention as cpu/handlers.h: X(name) declares h_name. */
#ifndef HVEMU_CPU_HANDLERS_SSE_H
#define HVEMU_CPU_HANDLERS_SSE_H

#define HVEMU_HANDLERS_SSE(X)

#endif
