/* The debug-hook globals (cpu/debug_hook.h); set once by the frontend before the run. */
#include "cpu/debug_hook.h"

#include <stddef.h>

unsigned cpu_debug_mask;
const struct cpu_debug_hooks *cpu_debug_hooks;
