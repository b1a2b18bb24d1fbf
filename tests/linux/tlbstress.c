/*
 * tlbstress: a Linux user program (static, runs as a workload of the guest
 * kit's /init) that fails when a CPU keeps using a translation the kernel has
 * already invalidated, i.e. when a remote TLB flush (IPI + INVLPG, or a
 * Hyper-V flush hypercall) was lost or incomplete.
 *
 * One reader thread is pinned on every online CPU; they loop over a shared
 * region of NPAGES pages, reading and writing them.  The main thread (the
 * "mutator") changes the region in rounds, each on a pseudo-random run of
 * pages, so both short ranges (flushed page by page: the List hypercall) and
 * long ones (more than 33 pages: Linux turns them into a full flush, the
 * Space hypercall) occur:
 *   REMAP    fill fresh pages elsewhere with a new generation number, then
 *            mremap(MREMAP_FIXED) them over the run (the old pages are freed);
 *   UNMAP    munmap the run first, then the same as REMAP;
 *   PROTECT  mprotect the run PROT_NONE or PROT_READ for a while, then back.
 *
 * What makes a stale translation visible, and why a correct TLB never trips it:
 * the mutator *publishes* a per-page state only after the syscall that
 * changed the mapping returned (by then the kernel has flushed every CPU):
 *   pub_gen[p]   generation now mapped at page p; published after mremap;
 *   pub_prot[p]  (serial << 2) | state; NONE/RO are published after mprotect
 *                returned, and RW is published *before* the mprotect that
 *                restores access, so "published NONE/RO" means the page has
 *                been inaccessible the whole time that value was visible.
 * A reader loads G = pub_gen[p] and P1 = pub_prot[p], accesses the page, then
 * loads P2 = pub_prot[p].  Errors:
 *   - a read that finds a generation < G: the old page, after the kernel
 *     said it was gone (a missed flush of the remap/unmap);
 *   - a page whose two header words do not match: a freed old page reused
 *     by someone else, read through a stale translation;
 *   - a read (state NONE) or a write (state NONE or RO) that did not fault
 *     although P1 == P2 says the page was protected from before the access
 *     until after it: a missed flush of mprotect.
 * Faults are expected (the run can be unmapped or protected at any moment);
 * SIGSEGV returns to the reader's loop through siglongjmp.
 *
 * Output (one line each): "tlbstress: cpus=N rounds=R ..." with the counts,
 * then "tlbstress: PASS" or "tlbstress: FAIL <first errors>".  Exit 0 on PASS.
 * Everything is derived from a fixed seed, so under a deterministic emulator
 * the output is deterministic too.
 *
 * usage: tlbstress [ROUNDS [lie]]   (default 400 rounds; "lie" checks the
 *        checker: states are published too early, the run must FAIL)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE        4096ul
#define NPAGES      64          /* > 33 so that long runs become full flushes (mm/tlb.c tlb_single_page_flush_ceiling) */
#define MAGIC       0x5a17c0de5a17c0deull
#define MAX_CPUS    64
#define MAX_ERRORS  8

enum { ST_RW = 0, ST_NONE = 1, ST_RO = 2 };
enum error_kind { E_OLD_GEN, E_CORRUPT, E_READ_NONE, E_WRITE_RO };
static const char *const kind_name[] = { "old_gen", "corrupt", "read_none", "write_ro" };

/* Page layout: word 0 = generation, word 1 = generation ^ MAGIC, then one
 * 8-byte slot per reader for its writes (offset 64 + 8 * reader). */
struct page_hdr { uint64_t gen, check; };

static uint8_t *region;                         /* NPAGES pages, fixed for the run */
static uint64_t pub_gen[NPAGES];
static uint64_t pub_prot[NPAGES];
static volatile int stop;
/* Self-test of the checker ("lie" mode): publish every new state *before* the
 * syscall that makes it true, as a kernel that returned before the remote
 * flushes completed would; the readers must then report errors. */
static int lie;

struct reader {
    pthread_t thread;
    int cpu;
    int pinned;
    uint64_t reads, writes, faults, errors;
    uint64_t by_kind[4];                        /* enum error_kind */
    char first_error[160];
};
static struct reader readers[MAX_CPUS];

static __thread sigjmp_buf fault_jmp;
static __thread volatile int fault_armed;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    if (fault_armed) {
        fault_armed = 0;
        siglongjmp(fault_jmp, 1);
    }
    static const char msg[] = "tlbstress: FAIL unexpected SIGSEGV outside a probe\n";
    write(1, msg, sizeof msg - 1);
    _exit(1);
}

static uint64_t load_acq(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store_rel(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static void record_error(struct reader *r, enum error_kind kind, const char *what, unsigned page,
                         uint64_t a, uint64_t b)
{
    r->by_kind[kind]++;
    if (r->errors++ == 0)
        snprintf(r->first_error, sizeof r->first_error, "cpu %d page %u: %s (%#llx vs %#llx)",
                 r->cpu, page, what, (unsigned long long)a, (unsigned long long)b);
}

/* Read page p's header; 1 if it faulted. */
static int probe_read(unsigned p, struct page_hdr *out)
{
    volatile struct page_hdr *h = (volatile struct page_hdr *)(region + p * PAGE);
    if (sigsetjmp(fault_jmp, 0))
        return 1;
    fault_armed = 1;
    out->gen = h->gen;
    out->check = h->check;
    fault_armed = 0;
    return 0;
}

/* Write this reader's slot in page p; 1 if it faulted. */
static int probe_write(unsigned p, unsigned slot, uint64_t v)
{
    volatile uint64_t *w = (volatile uint64_t *)(region + p * PAGE + 64 + 8 * slot);
    if (sigsetjmp(fault_jmp, 0))
        return 1;
    fault_armed = 1;
    *w = v;
    fault_armed = 0;
    return 0;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    unsigned slot = (unsigned)(r - readers);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(r->cpu, &set);
    r->pinned = sched_setaffinity(0, sizeof set, &set) == 0;

    unsigned p = slot * 7;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        p = (p + 1) % NPAGES;
        uint64_t g = load_acq(&pub_gen[p]);
        uint64_t p1 = load_acq(&pub_prot[p]);
        struct page_hdr h;
        int rfault = probe_read(p, &h);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        uint64_t p2 = load_acq(&pub_prot[p]);
        unsigned state = (unsigned)(p1 & 3);
        if (rfault) {
            r->faults++;
        } else {
            r->reads++;
            if (h.check != (h.gen ^ MAGIC))
                record_error(r, E_CORRUPT, "page header corrupt: a freed page read through a stale translation", p, h.gen, h.check);
            else if (h.gen < g)
                record_error(r, E_OLD_GEN, "old generation after the remap was published", p, h.gen, g);
            if (p1 == p2 && state == ST_NONE)
                record_error(r, E_READ_NONE, "read succeeded on a page published PROT_NONE", p, p1, p2);
        }

        p1 = load_acq(&pub_prot[p]);
        state = (unsigned)(p1 & 3);
        int wfault = probe_write(p, slot, r->writes);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        p2 = load_acq(&pub_prot[p]);
        if (wfault) {
            r->faults++;
        } else {
            r->writes++;
            if (p1 == p2 && state != ST_RW)
                record_error(r, E_WRITE_RO, "write succeeded on a page published read-only/none", p, p1, p2);
        }
    }
    return NULL;
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void die(const char *what)
{
    printf("tlbstress: FAIL %s\n", what);
    fflush(stdout);
    exit(1);
}

/* Fresh pages holding generation gen, moved over pages [first, first+n). */
static void remap_run(uint8_t *staging, unsigned first, unsigned n, uint64_t gen, int unmap_first)
{
    if (unmap_first && munmap(region + first * PAGE, n * PAGE) != 0)
        die("munmap of the run failed");
    void *s = mmap(staging, n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (s == MAP_FAILED)
        die("mmap of the staging area failed");
    for (unsigned i = 0; i < n; i++) {
        struct page_hdr *h = (struct page_hdr *)(staging + i * PAGE);
        h->gen = gen;
        h->check = gen ^ MAGIC;
    }
    if (lie)
        for (unsigned i = 0; i < n; i++)
            store_rel(&pub_gen[first + i], gen);
    if (mremap(staging, n * PAGE, n * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, region + first * PAGE) == MAP_FAILED)
        die("mremap onto the run failed");
    /* Keep the staging hole reserved, or the kernel could place a thread
     * stack there and the next MAP_FIXED would clobber it. */
    if (mmap(staging, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
        die("re-reserving the staging area failed");
    for (unsigned i = 0; i < n; i++)
        store_rel(&pub_gen[first + i], gen);
}

static void protect_run(unsigned first, unsigned n, unsigned state, uint64_t *serial, unsigned hold)
{
    int prot = state == ST_NONE ? PROT_NONE : PROT_READ;
    ++*serial;
    if (lie) {
        for (unsigned i = 0; i < n; i++)
            store_rel(&pub_prot[first + i], (*serial << 2) | state);
        for (volatile unsigned k = 0; k < hold; k++)
            ;
    }
    if (mprotect(region + first * PAGE, n * PAGE, prot) != 0)
        die("mprotect (restrict) failed");
    for (unsigned i = 0; i < n; i++)
        store_rel(&pub_prot[first + i], (*serial << 2) | state);
    /* Let the readers run into the protected pages for a while. */
    for (volatile unsigned k = 0; k < hold; k++)
        ;
    ++*serial;
    for (unsigned i = 0; i < n; i++)
        store_rel(&pub_prot[first + i], (*serial << 2) | ST_RW);
    if (mprotect(region + first * PAGE, n * PAGE, PROT_READ | PROT_WRITE) != 0)
        die("mprotect (restore) failed");
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 400;
    lie = argc > 2 && strcmp(argv[2], "lie") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1 || ncpu > MAX_CPUS)
        die("unsupported number of online CPUs");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;      /* siglongjmp(…, 0) leaves the mask alone: SIGSEGV must stay unblocked */
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    /* Region and staging area side by side in one reservation, so MAP_FIXED
     * never lands on someone else's mapping. */
    uint8_t *base = mmap(NULL, 2 * NPAGES * PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        die("mmap of the region failed");
    region = base;
    uint8_t *staging = base + NPAGES * PAGE;
    uint64_t gen = 1, serial = 0;
    remap_run(staging, 0, NPAGES, gen, 0);

    for (long c = 0; c < ncpu; c++) {
        readers[c].cpu = (int)c;
        if (pthread_create(&readers[c].thread, NULL, reader_main, &readers[c]) != 0)
            die("pthread_create failed");
    }
    /* The mutator stays on CPU 0 so that its flushes target the other CPUs. */
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof set, &set);

    uint64_t n_remap = 0, n_unmap = 0, n_protect = 0, n_long = 0;
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t x = rng();
        /* One run in four is long (> 33 pages: a full flush), the rest 1..8 pages. */
        unsigned n = (x & 3) == 0 ? 34 + (unsigned)((x >> 2) % (NPAGES - 34 + 1)) : 1 + (unsigned)((x >> 2) % 8);
        unsigned first = (unsigned)((x >> 16) % (NPAGES - n + 1));
        n_long += n > 33;
        switch ((x >> 40) % 3) {
        case 0: remap_run(staging + first * PAGE, first, n, ++gen, 0); n_remap++; break;
        case 1: remap_run(staging + first * PAGE, first, n, ++gen, 1); n_unmap++; break;
        default:
            protect_run(first, n, (x >> 48) & 1 ? ST_NONE : ST_RO, &serial, 2000);
            n_protect++;
            break;
        }
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);

    uint64_t reads = 0, writes = 0, faults = 0, errors = 0;
    int idle = 0, unpinned = 0;
    for (long c = 0; c < ncpu; c++) {
        pthread_join(readers[c].thread, NULL);
        reads += readers[c].reads;
        writes += readers[c].writes;
        faults += readers[c].faults;
        errors += readers[c].errors;
        idle += readers[c].reads == 0;
        unpinned += !readers[c].pinned;
    }
    printf("tlbstress: cpus=%ld rounds=%u remaps=%llu unmaps=%llu protects=%llu long_runs=%llu "
           "reads=%llu writes=%llu faults=%llu errors=%llu\n",
           ncpu, rounds, (unsigned long long)n_remap, (unsigned long long)n_unmap,
           (unsigned long long)n_protect, (unsigned long long)n_long, (unsigned long long)reads,
           (unsigned long long)writes, (unsigned long long)faults, (unsigned long long)errors);
    if (errors) {
        printf("tlbstress: FAIL %llu stale accesses (", (unsigned long long)errors);
        for (int k = 0; k < 4; k++) {
            uint64_t sum = 0;
            for (long c = 0; c < ncpu; c++)
                sum += readers[c].by_kind[k];
            printf("%s%s=%llu", k ? " " : "", kind_name[k], (unsigned long long)sum);
        }
        printf(")");
        int shown = 0;
        for (long c = 0; c < ncpu && shown < MAX_ERRORS; c++)
            if (readers[c].errors) {
                printf("; %s", readers[c].first_error);
                shown++;
            }
        printf("\n");
        return 1;
    }
    if (unpinned) {
        printf("tlbstress: FAIL %d readers could not be pinned to their CPU\n", unpinned);
        return 1;
    }
    if (idle) {
        /* A reader that never read verified nothing: the run proves less than it claims. */
        printf("tlbstress: FAIL %d readers made no successful read\n", idle);
        return 1;
    }
    printf("tlbstress: PASS\n");
    return 0;
}
