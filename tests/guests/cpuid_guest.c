/* CPUID as a guest sees it, and the features it advertises really work:
 *   - vendor, signature and brand string are printed;
 *   - RDRAND / RDSEED: CF = 1 and the value changes; on hvemu with
 *     "rng-seed=N" on the command line (and -rng-seed N), the first RDRAND of VP 0 is
 *     the first number of the documented stream (cpu/ops_rand.c, recomputed here);
 *   - RDPID returns IA32_TSC_AUX (as RDTSCP's ECX does);
 *   - UMIP: with CR4.UMIP, SGDT/SIDT/SLDT/STR/SMSW at CPL 3 are #GP(0) and still work
 *     at CPL 0; without it SGDT works at CPL 3;
 *   - leaf 4 caches and leaf 18H TLBs are self-consistent, 80000008H agrees with the
 *     page walker's MAXPHYADDR (checked by writing a reserved PTE bit is left to the
 *     paging guest); on hvemu, the model's documented values (brand "hvemu virtual
 *     CPU (<model>)") are checked as well.
 *   - with "smp-topology" (run with -smp 4): on every CPU, CPUID.1:EBX[31:24] and
 *     CPUID.0BH:EDX are the local APIC's ID; on hvemu also the 0BH core count and,
 *     with check-rng, each AP's first RDRAND is its own VP stream.
 * A feature that the CPU does not advertise (QEMU's default qemu64 model has no
 * RDRAND, RDPID or UMIP) is skipped with a printed reason; on hvemu every one of
 * them must be advertised.
 */
#include "smp.h"

const char rt_test_name[] = "cpuid_guest";

#define MSR_TSC_AUX 0xC0000103u
#define CR4_UMIP (1ull << 11)

static int strcmp(const char *x, const char *y)
{
    while (*x && *x == *y)
        x++, y++;
    return (unsigned char)*x - (unsigned char)*y;
}

static char brand[49];
static int on_hvemu;

static int rdrand64(u64 *v)
{
    u8 cf;
    __asm__ volatile(".byte 0x48, 0x0f, 0xc7, 0xf0\n\tsetc %1" : "=a"(*v), "=qm"(cf) :: "cc");  /* rdrand rax */
    return cf;
}

static int rdseed32(u32 *v)
{
    u8 cf;
    __asm__ volatile(".byte 0x0f, 0xc7, 0xf8\n\tsetc %1" : "=a"(*v), "=qm"(cf) :: "cc");        /* rdseed eax */
    return cf;
}

static u64 rdpid(void)
{
    u64 v;
    __asm__ volatile(".byte 0xf3, 0x0f, 0xc7, 0xf8" : "=a"(v));                                   /* rdpid rax */
    return v;
}

/* The documented stream (cpu/ops_rand.c): splitmix64 fills xoshiro256** from
 * seed ^ splitmix64(VP index); the first output of VP 0. */
static u64 sm64(u64 *x)
{
    u64 z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static u64 expected_first(u64 seed, u64 vp)
{
    u64 x, s[4];
    x = seed ^ sm64(&vp);
    for (int k = 0; k < 4; k++)
        s[k] = sm64(&x);
    u64 r = s[1] * 5;
    r = (r << 7) | (r >> 57);
    return r * 9;
}

static void identification(void)
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    if (fam == 0xf)
        fam += (a >> 20) & 0xff;
    if (fam == 6 || fam >= 0xf)
        model += ((a >> 16) & 0xf) << 4;
    CHECK(rt_cpu.max_ext_leaf >= 0x80000004u, "no brand string leaves (max ext %#x)", rt_cpu.max_ext_leaf);
    for (u32 k = 0; k < 3 && rt_cpu.max_ext_leaf >= 0x80000004u; k++)
        cpuid(0x80000002u + k, 0, (u32 *)(brand + 16 * k), (u32 *)(brand + 16 * k + 4),
              (u32 *)(brand + 16 * k + 8), (u32 *)(brand + 16 * k + 12));
    brand[48] = 0;
    printf("cpuid: vendor %s, family %#x model %#x stepping %u, brand \"%s\"\n", rt_cpu.vendor, fam, model,
           a & 0xf, brand);
    on_hvemu = !strncmp(brand, "hvemu virtual CPU (", 19);
    if (!on_hvemu)
        SKIP("not hvemu's brand string: model-specific expectations are not checked");
}

static void rand_instructions(void)
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    int has_rdrand = (c >> 30) & 1;
    cpuid(7, 0, &a, &b, &c, &d);
    int has_rdseed = (b >> 18) & 1;
    if (on_hvemu) {
        CHECK(has_rdrand, "hvemu must advertise RDRAND");
        CHECK(has_rdseed, "hvemu must advertise RDSEED");
    }
    if (!has_rdrand) {
        SKIP("RDRAND not advertised by this CPU");
    } else {
        u64 v1 = 0, v2 = 0;
        int cf1 = rdrand64(&v1), cf2 = rdrand64(&v2);
        printf("cpuid: RDRAND %#llx %#llx\n", v1, v2);
        CHECK(cf1 && cf2, "RDRAND CF = %d, %d", cf1, cf2);
        CHECK(v1 != v2, "RDRAND returned %#llx twice", v1);
        if (on_hvemu && rt_cmdline_has("check-rng")) {
            u64 seed = rt_cmdline_num("rng-seed", 0);
            CHECK_EQ(v1, expected_first(seed, 0), "first RDRAND of VP 0 for the -rng-seed stream");
        }
    }
    if (!has_rdseed) {
        SKIP("RDSEED not advertised by this CPU");
    } else {
        u32 s = 0;
        int cf = rdseed32(&s);
        CHECK(cf, "RDSEED CF = 0");
    }
}

static void rdpid_check(void)
{
    u32 a, b, c, d;
    cpuid(7, 0, &a, &b, &c, &d);
    int has = (c >> 22) & 1;
    if (on_hvemu)
        CHECK(has, "hvemu must advertise RDPID");
    if (!has) {
        SKIP("RDPID not advertised by this CPU");
        return;
    }
    wrmsr(MSR_TSC_AUX, 0x5a5a);
    CHECK_EQ(rdpid(), 0x5a5a, "RDPID = IA32_TSC_AUX");
    u32 lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    CHECK_EQ(aux, 0x5a5a, "RDTSCP ECX = IA32_TSC_AUX");
}

/* Each stores something a kernel may want to hide; at CPL 3 with UMIP: #GP(0). */
USER_DATA static u8 user_buf[16];
static long USER_TEXT user_sgdt(long x) { (void)x; __asm__ volatile("sgdt %0" : "=m"(user_buf)); return 0; }
static long USER_TEXT user_sidt(long x) { (void)x; __asm__ volatile("sidt %0" : "=m"(user_buf)); return 0; }
static long USER_TEXT user_sldt(long x) { u16 v; (void)x; __asm__ volatile("sldt %0" : "=r"(v)); return v; }
static long USER_TEXT user_str(long x) { u16 v; (void)x; __asm__ volatile("str %0" : "=r"(v)); return v; }
static long USER_TEXT user_smsw(long x) { u64 v; (void)x; __asm__ volatile("smsw %0" : "=r"(v)); return (long)v; }

static void umip_check(void)
{
    u32 a, b, c, d;
    cpuid(7, 0, &a, &b, &c, &d);
    int has = (c >> 2) & 1;
    if (on_hvemu)
        CHECK(has, "hvemu must advertise UMIP");
    /* Without UMIP the instructions work at CPL 3. */
    int f = TRY(rt_user_call(user_sgdt, 0, 0));
    CHECK(!f, "SGDT at CPL 3 without UMIP faulted (vector %llu)", rt_last_trap.vector);
    if (!has) {
        SKIP("UMIP not advertised by this CPU");
        return;
    }
    write_cr4(read_cr4() | CR4_UMIP);
    static long (*const ops[])(long) = { user_sgdt, user_sidt, user_sldt, user_str, user_smsw };
    static const char *const names[] = { "SGDT", "SIDT", "SLDT", "STR", "SMSW" };
    for (unsigned k = 0; k < 5; k++) {
        rt_trap_reset();
        f = TRY(rt_user_call(ops[k], 0, 0));
        CHECK(f && rt_last_trap.vector == VEC_GP, "%s at CPL 3 with UMIP: fault %d vector %llu", names[k], f,
              rt_last_trap.vector);
        CHECK_EQ(rt_last_trap.error, 0, "UMIP #GP error code");
    }
    /* CPL 0 is not affected. */
    u8 buf[10];
    f = TRY(__asm__ volatile("sgdt %0" : "=m"(buf)));
    CHECK(!f, "SGDT at CPL 0 with UMIP faulted");
    write_cr4(read_cr4() & ~CR4_UMIP);
}

/* Leaf 4 (Intel) sizes, leaf 18H rows, 80000008H. */
static void cache_tlb_leaves(void)
{
    u32 a, b, c, d;
    int intel = !strncmp(rt_cpu.vendor, "GenuineIntel", 12);
    u64 l1d = 0;
    unsigned ncache = 0;
    if (intel && rt_cpu.max_leaf >= 4) {
        for (u32 s = 0; s < 8; s++) {
            cpuid(4, s, &a, &b, &c, &d);
            if ((a & 0x1f) == 0)
                break;
            ncache++;
            u64 size = (u64)((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (c + 1);
            printf("cpuid: cache L%u type %u: %llu KiB\n", (a >> 5) & 7, a & 0x1f, size >> 10);
            if (((a >> 5) & 7) == 1 && (a & 0x1f) == 1)
                l1d = size;
        }
    }
    if (intel && rt_cpu.max_leaf >= 0x18) {
        cpuid(0x18, 0, &a, &b, &c, &d);
        u32 max = a;
        for (u32 s = 0; s <= max && s < 16; s++) {
            cpuid(0x18, s, &a, &b, &c, &d);
            if ((d & 0x1f) == 0)
                continue;
            printf("cpuid: TLB L%u type %u sizes %#x: %u entries (%u ways x %u sets)\n", (d >> 5) & 7, d & 0x1f,
                   b & 0xf, (b >> 16) * c, b >> 16, c);
            CHECK((b >> 16) && c, "leaf 18H.%u: a valid TLB with no entries", s);
            CHECK(!(d & 0x100) || c == 1, "leaf 18H.%u: fully associative with %u sets", s, c);
        }
    } else {
        SKIP("no leaf 18H (TLB parameters)");
    }
    cpuid(0x80000008u, 0, &a, &b, &c, &d);
    printf("cpuid: %u physical, %u linear address bits\n", a & 0xff, (a >> 8) & 0xff);
    if (!on_hvemu)
        return;
    CHECK_EQ((a >> 8) & 0xff, 48, "hvemu linear address bits (no LA57)");
    /* hvemu's models: MAXPHYADDR 46 (mmu/walk.h), invariant TSC, model's L1D. */
    CHECK_EQ(a & 0xff, 46, "hvemu MAXPHYADDR");
    cpuid(0x80000007u, 0, &a, &b, &c, &d);
    CHECK(d & (1u << 8), "hvemu: invariant TSC");
    if (!strcmp(brand, "hvemu virtual CPU (Skylake model)")) {
        CHECK_EQ(ncache, 4, "Skylake model: caches in leaf 4");
        CHECK_EQ(l1d, 32 << 10, "Skylake model: L1D size");
        CHECK_EQ(rt_cpu.max_leaf, 0x18, "Skylake model: max basic leaf");
    } else if (!strcmp(brand, "hvemu virtual CPU (Golden Cove model)")) {
        CHECK_EQ(l1d, 48 << 10, "Golden Cove model: L1D size");
    } else if (!strcmp(brand, "hvemu virtual CPU (Zen 2 model)")) {
        CHECK(!strncmp(rt_cpu.vendor, "AuthenticAMD", 12), "Zen 2 model vendor %s", rt_cpu.vendor);
        cpuid(0x80000005u, 0, &a, &b, &c, &d);
        CHECK_EQ(b, 0xff40ff40u, "Zen 2 model: L1 4K TLBs 64 entries fully associative");
        CHECK_EQ(c >> 24, 32, "Zen 2 model: L1D KiB");
    }
}

struct topo { u32 apic, initial_id, x2id, cores, rng_ok; u64 rnd; };
static struct topo topo[SMP_MAX_CPUS];

static void read_topology(void *arg)
{
    struct topo *t = arg;
    u32 a, b, c, d;
    t->apic = apic_id();
    cpuid(1, 0, &a, &b, &c, &d);
    t->initial_id = b >> 24;
    t->x2id = ~0u;
    if (rt_cpu.max_leaf >= 0xb) {
        cpuid(0xb, 1, &a, &b, &c, &d);
        t->x2id = d;
        t->cores = b & 0xffff;
    }
    t->rng_ok = rdrand64(&t->rnd);
}

static void topology(void)
{
    if (!rt_cmdline_has("smp-topology"))
        return;
    unsigned n = smp_start_aps();
    printf("cpuid: %u CPUs\n", n);
    CHECK(n > 1, "smp-topology needs -smp N > 1 (got %u CPUs)", n);
    read_topology(&topo[0]);
    for (unsigned i = 1; i < n && i < SMP_MAX_CPUS; i++)
        smp_call(i, read_topology, &topo[i]);
    for (unsigned i = 0; i < n && i < SMP_MAX_CPUS; i++) {
        struct topo *t = &topo[i];
        printf("cpuid: CPU %u: APIC ID %u, CPUID.1 initial APIC ID %u, 0BH x2APIC ID %u, 0BH.1 count %u\n", i,
               t->apic, t->initial_id, t->x2id, t->cores);
        CHECK_EQ(t->initial_id, t->apic, "CPUID.1:EBX[31:24] = local APIC ID");
        if (t->x2id != ~0u)
            CHECK_EQ(t->x2id, t->apic, "CPUID.0BH:EDX = local APIC ID");
        if (!on_hvemu)
            continue;
        CHECK_EQ(t->apic, i, "hvemu: APIC ID = VP index");
        CHECK_EQ(t->cores, n, "hvemu: CPUID.0BH.1:EBX = number of VPs");
        if (i > 0 && rt_cmdline_has("check-rng")) {
            CHECK(t->rng_ok, "RDRAND on CPU %u: CF = 0", i);
            CHECK_EQ(t->rnd, expected_first(rt_cmdline_num("rng-seed", 0), i), "first RDRAND of an AP: its VP stream");
        }
    }
}

void test_main(void)
{
    identification();
    rand_instructions();
    rdpid_check();
    umip_check();
    cache_tlb_leaves();
    topology();
}
