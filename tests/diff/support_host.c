/* The host oracle of support_host.h. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "cpu/cpu_models.h"
#include "tests/diff/support_host.h"

#define LINUX_USER32_CS 0x23    /* arch/x86/include/asm/segment.h */

static void host_vendor(char out[13], unsigned *family)
{
    unsigned a = 0, b = 0, c = 0, d = 0;       /* __get_cpuid leaves them alone if it fails */
    __get_cpuid(0, &a, &b, &c, &d);
    memcpy(out, &b, 4);
    memcpy(out + 4, &d, 4);
    memcpy(out + 8, &c, 4);
    out[12] = 0;
    __get_cpuid(1, &a, &b, &c, &d);
    /* Family: base family, plus the extended family when the base is 0FH (SDM Vol. 2A
     * CPUID, Figure 3-6). */
    unsigned base = (a >> 8) & 0xf;
    *family = base == 0xf ? base + ((a >> 20) & 0xff) : base;
}

const struct cpu_model *diff_host_model(void)
{
    const char *test = program_invocation_short_name;
    char vendor[13];
    unsigned family;
    host_vendor(vendor, &family);
    enum cpu_vendor want;
    if (strcmp(vendor, "GenuineIntel") == 0) {
        want = CPU_VENDOR_INTEL;
    } else if (strcmp(vendor, "AuthenticAMD") == 0) {
        want = CPU_VENDOR_AMD;
    } else {
        printf("%s: host vendor %s has no hvemu model to compare with; skipped\n", test, vendor);
        exit(DIFF_SKIPPED);
    }
    for (unsigned k = 0; cpu_models[k]; k++) {
        if (cpu_models[k]->vendor == want) {
            printf("%s: host %s family %XH, model %s\n", test, vendor, family, cpu_models[k]->name);
            return cpu_models[k];
        }
    }
    printf("%s: no hvemu model of the host's vendor %s; skipped\n", test, vendor);
    exit(DIFF_SKIPPED);
}

/* ---- the compatibility-mode probe ----
 * The child far-returns (LRETQ, valid on both vendors) to __USER32_CS at a UD2.  Had
 * it arrived, the #UD is taken in 32-bit code: SIGILL with CS = 23h in the signal
 * context.  A #GP on the far return itself arrives as SIGSEGV. */

static void probe_on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    const ucontext_t *uc = ucv;
    unsigned cs = (unsigned)(uc->uc_mcontext.gregs[REG_CSGSFS] & 0xffff);
    _exit(sig == SIGILL && cs == LINUX_USER32_CS ? 0 : 1);
}

static _Noreturn void probe_child(void)
{
    uint8_t *page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (page == MAP_FAILED)
        _exit(2);
    static uint8_t altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = probe_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    uint32_t target = (uint32_t)(uintptr_t)page + 0x100;
    uint8_t *p = page;
    *p++ = 0x6a; *p++ = LINUX_USER32_CS;                    /* push 23h */
    *p++ = 0x68; memcpy(p, &target, 4); p += 4;             /* push target (below 2 GiB) */
    *p++ = 0x48; *p++ = 0xcb;                               /* lretq */
    page[0x100] = 0x0f;                                     /* ud2 (in 32-bit code) */
    page[0x101] = 0x0b;
    ((void (*)(void))(void *)page)();
    _exit(3);
}

bool diff_host_runs_compat32(void)
{
    static int known = -1;
    if (known >= 0)
        return known;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("diff: fork");
        exit(2);
    }
    if (pid == 0)
        probe_child();
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    known = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    return known;
}

void diff_require_compat32(void)
{
    const char *test = program_invocation_short_name;
    if (diff_host_runs_compat32())
        return;
    printf("%s: this host runs no 32-bit code (a far return to __USER32_CS 23h raises #GP: "
           "the kernel offers no compatibility-mode segment); skipped\n", test);
    exit(DIFF_SKIPPED);
}

bool diff_compat32_arg(int argc, char **argv)
{
    bool compat = argc == 2 && strcmp(argv[1], "--compat32") == 0;
    if (argc > 2 || (argc == 2 && !compat)) {
        fprintf(stderr, "usage: %s [--compat32]\n", program_invocation_short_name);
        exit(2);
    }
    if (compat)
        diff_require_compat32();
    return compat;
}
