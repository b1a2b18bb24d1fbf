/* The host CPU as the oracle of the differential tests: which vendor it is, which
 * hvemu model it is compared with, and whether a process on this host can run
 * 32-bit code at all.
 *
 * Where Intel and AMD differ (cpu/cpu_quirks.h), the host only tells what its own
 * vendor does, so each differential test runs the model of the host's vendor: an
 * Intel host checks the first Intel model of cpu_models[], an AMD host the first
 * AMD one.  The other vendor's behaviour in those forms is pinned by
 * tests/unit/test_quirks.c, which runs both vendors on any host.
 */
#ifndef HVEMU_TESTS_DIFF_SUPPORT_HOST_H
#define HVEMU_TESTS_DIFF_SUPPORT_HOST_H

#include <stdbool.h>

struct cpu_model;

/* Exit status that ctest reports as "skipped" (SKIP_RETURN_CODE in CMakeLists.txt). */
#define DIFF_SKIPPED 77

/* The model of the host's vendor, announced in one line on stdout ("diff_alu: host
 * AuthenticAMD family 1AH, model zen2").  A host of another vendor: the reason on
 * stdout and exit(DIFF_SKIPPED). */
const struct cpu_model *diff_host_model(void);

/* Whether this host lets a 64-bit process enter compatibility mode through Linux's
 * 32-bit user code segment (__USER32_CS, 23h).  Some kernels offer none (IA-32
 * emulation off, some paravirtualised guest kernels): the far transfer raises #GP.
 * Probed once, in a child process. */
bool diff_host_runs_compat32(void);

/* For tests (or passes) that need it: when the host cannot run 32-bit code, say so
 * and exit(DIFF_SKIPPED). */
void diff_require_compat32(void);

/* The command line of a test with a compatibility-mode pass: no argument, the 64-bit
 * pass (false); "--compat32", that pass (true; diff_require_compat32() done).
 * Anything else: usage on stderr and exit(2). */
bool diff_compat32_arg(int argc, char **argv);

#endif
