/* CPUID models (cpu/cpu_models.c, cpu/cpuid.c), RDRAND/RDSEED/RDPID (cpu/ops_rand.c)
 * and UMIP (cpu/ops_desc.c, ops_msr.c).
 *
 * Expected leaf values are written out by hand from the SDM Vol. 2A CPUID pages and
 * the AMD APM Vol. 3 Appendix E, for the figures each model documents (cache sizes
 * from the vendors, TLB geometry from mmu/tlb_presets.c).  Where real hardware of the
 * same name reports the same value, the comment says so.  The TLB-preset agreement
 * is also checked row by row against the mmu's own preset table.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpu_models.h"
#include "cpu/cpuid.h"
#include "cpu/decode.h"
#include "cpu/msr.h"
#include "mmu/tlb.h"
#include "tests/unit/sys_machine.h"

static struct cpu *new_cpu(const char *model, int vp, unsigned nr_vps, uint64_t seed)
{
    struct cpu *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->model = cpu_model_find(model);
    ck_assert_ptr_nonnull(c->model);
    c->vp_index = vp;
    c->nr_vps = nr_vps;
    c->rng_seed = seed;
    cpu_init(c, NULL, NULL, NULL);
    return c;
}

static void q(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t o[4])
{
    cpu_cpuid(c, leaf, sub, o);
}

static void check_regs(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t a, uint32_t b, uint32_t cc, uint32_t d)
{
    uint32_t o[4];
    q(c, leaf, sub, o);
    ck_assert_msg(o[0] == a && o[1] == b && o[2] == cc && o[3] == d,
                  "leaf %#x.%u: got %08x %08x %08x %08x, want %08x %08x %08x %08x",
                  leaf, sub, o[0], o[1], o[2], o[3], a, b, cc, d);
}

static void vendor_of(struct cpu *c, char v[13])
{
    uint32_t o[4];
    q(c, 0, 0, o);
    memcpy(v, &o[1], 4);
    memcpy(v + 4, &o[3], 4);
    memcpy(v + 8, &o[2], 4);
    v[12] = 0;
}

static void brand_of(struct cpu *c, char b[49])
{
    for (uint32_t k = 0; k < 3; k++)
        q(c, 0x80000002u + k, 0, (uint32_t *)(void *)(b + 16 * k));
    b[48] = 0;
}

/* SDM Vol. 2A Figure 3-6: display family = family (+ extended family if family is
 * 0FH), display model = model (+ extended model << 4 if family is 06H or 0FH). */
static void fms(uint32_t eax, unsigned *fam, unsigned *model, unsigned *step)
{
    unsigned f = eax >> 8 & 0xf, m = eax >> 4 & 0xf;
    *fam = f == 0xf ? f + (eax >> 20 & 0xff) : f;
    *model = (f == 6 || f == 0xf) ? m + ((eax >> 16 & 0xf) << 4) : m;
    *step = eax & 0xf;
}

START_TEST(identification)
{
    static const struct {
        const char *name, *vendor, *brand;
        unsigned fam, model, step, max_basic;
    } want[] = {
        { "skylake", "GenuineIntel", "hvemu virtual CPU (Skylake model)", 6, 0x5e, 3, 0x18 },
        { "goldencove", "GenuineIntel", "hvemu virtual CPU (Golden Cove model)", 6, 0x97, 2, 0x1f },
        { "zen2", "AuthenticAMD", "hvemu virtual CPU (Zen 2 model)", 0x17, 0x31, 0, 0xd },
    };
    for (unsigned k = 0; k < sizeof want / sizeof want[0]; k++) {
        struct cpu *c = new_cpu(want[k].name, 0, 1, 0);
        char v[13], b[49];
        uint32_t o[4];
        vendor_of(c, v);
        ck_assert_str_eq(v, want[k].vendor);
        brand_of(c, b);
        ck_assert_str_eq(b, want[k].brand);
        q(c, 0, 0, o);
        ck_assert_uint_eq(o[0], want[k].max_basic);
        q(c, 0x80000000u, 0, o);
        ck_assert_uint_eq(o[0], 0x80000008u);
        q(c, 1, 0, o);
        unsigned f, m, s;
        fms(o[0], &f, &m, &s);
        ck_assert_uint_eq(f, want[k].fam);
        ck_assert_uint_eq(m, want[k].model);
        ck_assert_uint_eq(s, want[k].step);
        /* RDX at reset holds the signature (SDM Vol. 3A 9.1.4). */
        ck_assert_uint_eq(c->gpr[RDX], o[0]);
        ck_assert_int_eq(cpu_model_of(c)->vendor == CPU_VENDOR_AMD, want[k].vendor[0] == 'A');
        free(c);
    }
    ck_assert_ptr_null(cpu_model_find("host"));
    ck_assert_ptr_eq(cpu_model_find(NULL), cpu_model_find("skylake"));
}
END_TEST

START_TEST(features)
{
    struct cpu *i = new_cpu("skylake", 0, 1, 0), *a = new_cpu("zen2", 0, 1, 0);
    uint32_t o[4], l1[4], x1[4];
    q(i, 1, 0, l1);
    ck_assert(l1[2] & (1u << 30));          /* RDRAND */
    ck_assert(l1[2] & (1u << 17));          /* PCID */
    ck_assert(l1[3] & (1u << 9));           /* APIC: IA32_APIC_BASE[11] = 1 at reset */
    ck_assert(!(l1[3] & (1u << 28)));       /* HTT: one VP */
    q(i, 7, 0, o);
    ck_assert_uint_eq(o[0], 0);
    ck_assert(o[1] & (1u << 18));           /* RDSEED */
    ck_assert(o[2] & (1u << 2));            /* UMIP */
    ck_assert(o[2] & (1u << 22));           /* RDPID */
    /* IBRS/IBPB(26) STIBP(27) ARCH_CAPABILITIES(29), and the MSR says enhanced IBRS
     * (bit 1) without RDCL_NO (bit 0): Linux picks eIBRS for Spectre v2 / RETBleed
     * (no "RETBleed: WARNING") and keeps PTI. */
    ck_assert_uint_eq(o[3] & ((1u << 26) | (1u << 27) | (1u << 29)), (1u << 26) | (1u << 27) | (1u << 29));
    uint64_t cap = ~0ull;
    ck_assert(cpu_msr_read(i, 0x10a, &cap));
    ck_assert_uint_eq(cap, 2);
    ck_assert(!cpu_msr_write(i, 0x10a, 2));         /* read-only: #GP */
    q(i, 7, 1, o);
    ck_assert(!o[0] && !o[1] && !o[2] && !o[3]);
    /* Intel 80000001H: no leaf-1 mirror (SDM: EDX bits 11, 20, 26, 27, 29 only). */
    q(i, 0x80000001u, 0, x1);
    ck_assert_uint_eq(x1[0], 0);
    ck_assert_uint_eq(x1[3] & ~((1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29)), 0);
    ck_assert_uint_eq(x1[3], (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29));
    /* The same implemented features on every model. */
    uint32_t al1[4];
    q(a, 1, 0, al1);
    ck_assert_uint_eq(al1[2], l1[2]);
    ck_assert_uint_eq(al1[3], l1[3]);
    /* AMD 80000001H: EAX = signature, EDX mirrors leaf-1 EDX bits 0-9, 12-17, 23, 24
     * (APM Appendix E, Fn8000_0001_EDX). */
    q(a, 0x80000001u, 0, o);
    ck_assert_uint_eq(o[0], 0x00830f10u);
    ck_assert_uint_eq(o[3] & 0x0183f3ffu, al1[3] & 0x0183f3ffu);
    ck_assert_uint_eq(o[3] & ~0x0183f3ffu, x1[3]);
    ck_assert_uint_eq(o[2], x1[2]);
    /* Leaf 6 ARAT, 80000007H invariant TSC, 80000008H address sizes: MAXPHYADDR 46
     * (mmu/walk.h), 48 linear bits. */
    check_regs(i, 6, 0, 1u << 2, 0, 0, 0);
    check_regs(i, 0x80000007u, 0, 0, 0, 0, 1u << 8);
    check_regs(i, 0x80000008u, 0, 0x302e, 0, 0, 0);
    /* Beyond the maximum: zeros (Skylake has no leaf 1FH; Zen 2 no leaf 18H). */
    check_regs(i, 0x1f, 0, 0, 0, 0, 0);
    check_regs(a, 0x18, 0, 0, 0, 0, 0);
    check_regs(i, 0x80000009u, 0, 0, 0, 0, 0);
    free(i);
    free(a);
}
END_TEST

/* Leaf 4 of the Skylake model, one VP: the EBX/ECX values of a real i7-6700K. */
START_TEST(skylake_leaf4)
{
    struct cpu *c = new_cpu("skylake", 0, 1, 0);
    check_regs(c, 2, 0, 0x00feff01u, 0, 0, 0);      /* FF: see leaf 4; FE: see leaf 18H */
    check_regs(c, 4, 0, 0x121, 0x01c0003f, 63, 0);  /* L1D 8 x 64 x 64 B = 32 KiB */
    check_regs(c, 4, 1, 0x122, 0x01c0003f, 63, 0);  /* L1I 32 KiB */
    check_regs(c, 4, 2, 0x143, 0x00c0003f, 1023, 0); /* L2 4 x 1024 x 64 B = 256 KiB */
    check_regs(c, 4, 3, 0x163, 0x03c0003f, 8191, 2); /* L3 16 x 8192 x 64 B = 8 MiB, inclusive */
    check_regs(c, 4, 4, 0, 0, 0, 0);
    /* 80000006H ECX: L2 256 KiB, 4-way (code 4), 64-byte lines (SDM). */
    check_regs(c, 0x80000006u, 0, 0, 0, 0x01004040u, 0);
    free(c);
    /* Four VPs: L3 shared by 4 (EAX[25:14] = 3), 4 cores (EAX[31:26] = 3). */
    c = new_cpu("skylake", 0, 4, 0);
    check_regs(c, 4, 3, 0x163 | 3u << 14 | 3u << 26, 0x03c0003f, 8191, 2);
    check_regs(c, 4, 0, 0x121 | 3u << 26, 0x01c0003f, 63, 0);
    free(c);
    /* Golden Cove: L2 10-way has no 80000006H code: 7 = "see leaf 4" (SDM);
     * 1280 KiB. Leaf 4: L1D 12-way 48 KiB. */
    c = new_cpu("goldencove", 0, 1, 0);
    check_regs(c, 0x80000006u, 0, 0, 0, 0x05007040u, 0);
    check_regs(c, 4, 0, 0x121, 0x02c0003f, 63, 0);
    free(c);
}
END_TEST

START_TEST(skylake_leaf18)
{
    struct cpu *c = new_cpu("skylake", 0, 1, 0);
    /* EAX: max subleaf 6; EBX: sizes | ways << 16; ECX: sets; EDX: type | level << 5 |
     * fully-associative << 8 (SDM leaf 18H).  ITLB 4K 128 = 16 x 8. */
    check_regs(c, 0x18, 0, 6, 0x00080001u, 16, 0x22);
    check_regs(c, 0x18, 1, 0, 0x00080006u, 1, 0x122);    /* ITLB 2M/4M 8 FA */
    check_regs(c, 0x18, 2, 0, 0x00040001u, 16, 0x21);    /* DTLB 4K 64 4-way */
    check_regs(c, 0x18, 3, 0, 0x00040006u, 8, 0x21);     /* DTLB 2M/4M 32 4-way */
    check_regs(c, 0x18, 4, 0, 0x00040008u, 1, 0x121);    /* DTLB 1G 4 FA */
    check_regs(c, 0x18, 5, 0, 0x000c0007u, 128, 0x43);   /* STLB 4K/2M/4M 1536 12-way */
    check_regs(c, 0x18, 6, 0, 0x00040008u, 4, 0x43);     /* STLB 1G 16 4-way */
    check_regs(c, 0x18, 7, 0, 0, 0, 0);                  /* type 0: no more */
    free(c);
}
END_TEST

/* Every Intel model's 18H rows, and every AMD model's 80000005H/6H entry counts, are
 * the arrays of its mmu preset. */
START_TEST(tlb_leaves_match_preset)
{
    for (int k = 0; cpu_models[k]; k++) {
        const struct cpu_model *m = cpu_models[k];
        const struct tlb_preset *p = tlb_find_preset(m->tlb_preset);
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p->name, m->tlb_preset);
        ck_assert_uint_eq(m->ntlbs, p->narrays);
        struct cpu *c = new_cpu(m->name, 0, 1, 0);
        for (unsigned n = 0; n < p->narrays; n++) {
            const struct tlb_array_spec *a = &p->arrays[n];
            unsigned type = a->sides == (SIDE_I | SIDE_D) ? 3 : a->sides == SIDE_I ? 2 : 1;
            if (m->vendor == CPU_VENDOR_INTEL) {
                uint32_t o[4];
                q(c, 0x18, n, o);
                ck_assert_msg(o[1] >> 16 == a->ways && o[2] == a->sets, "%s %s", m->name, a->name);
                ck_assert_uint_eq(o[3] & 0x1f, type);
                ck_assert_uint_eq(o[3] >> 5 & 7, (unsigned)a->level + 1);
                ck_assert_uint_eq(!!(o[3] & 0x100), a->sets == 1);
                ck_assert_uint_eq(!!(o[1] & 1), !!(a->sizes & (1u << PG_4K)));
                ck_assert_uint_eq(!!(o[1] & 2), !!(a->sizes & (1u << PG_2M)));
                ck_assert_uint_eq(!!(o[1] & 8), !!(a->sizes & (1u << PG_1G)));
            } else {
                const struct cpu_tlb *t = &m->tlbs[n];
                ck_assert_uint_eq(t->ways, a->ways);
                ck_assert_uint_eq(t->sets, a->sets);
                ck_assert_uint_eq(t->type, type);
                ck_assert_uint_eq(t->level, (unsigned)a->level + 1);
            }
        }
        free(c);
    }
}
END_TEST

START_TEST(zen2_amd_leaves)
{
    struct cpu *c = new_cpu("zen2", 0, 1, 0);
    /* 80000005H: L1 D/I TLBs 64 entries fully associative (FFh) for every page size;
     * L1D/L1I 32 KiB 8-way, 1 line per tag, 64 B.  A real Zen 2 reports the same. */
    check_regs(c, 0x80000005u, 0, 0xff40ff40u, 0xff40ff40u, 0x20080140u, 0x20080140u);
    /* 80000006H: L2 DTLB 171 x 12 = 2052 entries, 12-way has no code: 8-way (6); L2
     * ITLB 512 8-way; L2 512 KiB 8-way (as real Zen 2: 0x02006140); L3 16 MiB = 32 x
     * 512 KiB, 16-way (8). */
    check_regs(c, 0x80000006u, 0, 0x68046200u, 0x68046200u, 0x02006140u, 0x00808140u);
    /* No Intel-only leaves on AMD. */
    check_regs(c, 2, 0, 0, 0, 0, 0);
    check_regs(c, 4, 0, 0, 0, 0, 0);
    check_regs(c, 0x80000000u, 0, 0x80000008u, 0x68747541u, 0x444d4163u, 0x69746e65u);
    free(c);
    /* 80000008H ECX with 4 VPs: NC = 3, ApicIdCoreIdSize = 2. */
    c = new_cpu("zen2", 3, 4, 0);
    check_regs(c, 0x80000008u, 0, 0x302e, 0, 0x2003, 0);
    free(c);
}
END_TEST

START_TEST(topology)
{
    /* VP 2 of 4: x2APIC ID 2, 2 bits of core ID (SDM leaf 0BH). */
    struct cpu *c = new_cpu("skylake", 2, 4, 0);
    check_regs(c, 0xb, 0, 0, 1, 0x100, 2);
    check_regs(c, 0xb, 1, 2, 4, 0x201, 2);
    check_regs(c, 0xb, 2, 0, 0, 2, 2);
    uint32_t o[4];
    q(c, 1, 0, o);
    ck_assert_uint_eq(o[1], 0x02040800u);    /* APIC ID 2, 4 logical IDs, CLFLUSH 64 B */
    ck_assert(o[3] & (1u << 28));            /* HTT */
    free(c);
    /* 3 VPs still need 2 bits; 1 VP none. */
    c = new_cpu("goldencove", 1, 3, 0);
    check_regs(c, 0x1f, 1, 2, 3, 0x201, 1);
    free(c);
    c = new_cpu("skylake", 0, 1, 0);
    check_regs(c, 0xb, 1, 0, 1, 0x201, 0);
    free(c);
}
END_TEST

/* Reference xoshiro256** seeded by splitmix64 (Vigna's public-domain reference code),
 * written independently of cpu/ops_rand.c to fix the stream. */
static uint64_t ref_sm(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t ref_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t ref_first(uint64_t seed, uint64_t vp)
{
    uint64_t x = seed ^ ref_sm(&vp), s[4];
    for (int k = 0; k < 4; k++)
        s[k] = ref_sm(&x);
    return ref_rotl(s[1] * 5, 7) * 9;
}

START_TEST(rng_determinism)
{
    struct cpu *a = new_cpu("skylake", 0, 2, 42), *b = new_cpu("skylake", 0, 2, 42);
    struct cpu *v1 = new_cpu("skylake", 1, 2, 42), *s2 = new_cpu("skylake", 0, 2, 43);
    ck_assert_uint_eq(cpu_rng_next(a), ref_first(42, 0));
    ck_assert_uint_eq(cpu_rng_next(v1), ref_first(42, 1));
    ck_assert_uint_eq(cpu_rng_next(s2), ref_first(43, 0));
    cpu_rng_next(b);
    for (int k = 0; k < 100; k++)
        ck_assert_uint_eq(cpu_rng_next(a), cpu_rng_next(b));
    ck_assert_uint_ne(ref_first(42, 0), ref_first(42, 1));
    ck_assert_uint_ne(ref_first(42, 0), ref_first(43, 0));
    free(a); free(b); free(v1); free(s2);
}
END_TEST

/* Decode bytes in 64-bit mode and run them on the system test machine. */
static bool run_bytes(struct sm *m, const uint8_t *bytes, unsigned n)
{
    struct insn i;
    ck_assert_int_eq(decode_insn(&i, bytes, n, MODE_LONG64, NULL), (int)n);
    return sm_exec(m, &i);
}

START_TEST(rand_instructions)
{
    struct sm *m = sm_new();
    struct cpu *c = &m->cpu;
    c->rng_seed = 7;
    cpu_rng_init(c);
    uint64_t first = ref_first(7, (uint64_t)c->vp_index);
    /* RDRAND RAX (REX.W 0F C7 /6): 64 random bits, CF = 1, OF SF ZF AF PF = 0. */
    c->rflags |= FL_ZF | FL_SF | FL_OF;
    c->lf.op = 0;
    static const uint8_t rdrand_rax[] = { 0x48, 0x0f, 0xc7, 0xf0 };
    ck_assert(!run_bytes(m, rdrand_rax, 4));
    ck_assert_uint_eq(c->gpr[RAX], first);
    ck_assert_uint_eq(flags_get(c) & FL_ARITH, FL_CF);
    /* RDSEED CX (66 0F C7 /7): 16 bits, upper RCX bits kept. */
    c->gpr[RCX] = 0x1111222233334444ull;
    static const uint8_t rdseed_cx[] = { 0x66, 0x0f, 0xc7, 0xf9 };
    ck_assert(!run_bytes(m, rdseed_cx, 4));
    ck_assert_uint_eq(c->gpr[RCX] >> 16, 0x111122223333ull);
    ck_assert(flags_cf(c));
    /* RDPID R8 (F3 41 0F C7 /7): IA32_TSC_AUX, 64-bit destination. */
    c->msr.tsc_aux = 0xabcd;
    c->gpr[R8] = ~0ull;
    static const uint8_t rdpid_r8[] = { 0xf3, 0x41, 0x0f, 0xc7, 0xf8 };
    ck_assert(!run_bytes(m, rdpid_r8, 5));
    ck_assert_uint_eq(c->gpr[R8], 0xabcd);
    /* F2 RDRAND and LOCK RDRAND are #UD (SDM RDRAND exceptions). */
    c->rip = SM_CODE;
    static const uint8_t f2_rdrand[] = { 0xf2, 0x0f, 0xc7, 0xf0 };
    ck_assert(run_bytes(m, f2_rdrand, 4));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_UD));
    c->rip = SM_CODE;
    static const uint8_t lock_rdrand[] = { 0xf0, 0x0f, 0xc7, 0xf0 };
    ck_assert(run_bytes(m, lock_rdrand, 4));
    ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_UD));
    sm_free(m);
}
END_TEST

START_TEST(umip)
{
    struct sm *m = sm_new();
    struct cpu *c = &m->cpu;
    static const uint8_t sgdt[] = { 0x0f, 0x01, 0x00 };       /* SGDT [RAX] */
    static const uint8_t sidt[] = { 0x0f, 0x01, 0x08 };       /* SIDT [RAX] */
    static const uint8_t sldt[] = { 0x0f, 0x00, 0xc0 };       /* SLDT EAX */
    static const uint8_t str[]  = { 0x0f, 0x00, 0xc8 };       /* STR EAX */
    static const uint8_t smsw[] = { 0x0f, 0x01, 0xe0 };       /* SMSW EAX */
    const uint8_t *ops[] = { sgdt, sidt, sldt, str, smsw };
    /* CR4.UMIP is accepted (MOV CR4 would #GP on a reserved bit). */
    struct insn mv = sm_insn(h_mov_cr, 3);
    mv.opnd[0] = OPK_CREG;
    mv.opnd[1] = OPK_RM;
    mv.reg = 4;
    mv.rm = RAX;
    c->gpr[RAX] = c->cr4 | CR4_UMIP;
    ck_assert(!sm_exec(m, &mv));
    ck_assert(c->cr4 & CR4_UMIP);
    for (unsigned k = 0; k < 5; k++) {
        /* CPL 0: allowed. */
        c->gpr[RAX] = SM_DATA;
        ck_assert_msg(!run_bytes(m, ops[k], 3), "op %u at CPL 0", k);
        /* CPL 3 with UMIP: #GP(0). */
        sm_user(m);
        c->gpr[RAX] = SM_DATA;
        c->rip = SM_CODE;
        ck_assert_msg(run_bytes(m, ops[k], 3), "op %u at CPL 3 did not fault", k);
        ck_assert_uint_eq(c->rip, SM_HANDLER(EXC_GP));
        /* Back to CPL 0 (the handler runs there). */
        ck_assert_int_eq(c->cpl, 0);
    }
    /* CPL 3 without UMIP: SMSW works. */
    c->cr4 &= ~CR4_UMIP;
    sm_user(m);
    c->rip = SM_CODE;
    ck_assert(!run_bytes(m, smsw, 3));
    ck_assert_uint_eq((uint32_t)c->gpr[RAX] & 0xffff, c->cr0 & 0xffff);
    sm_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpuid");
    TCase *t = tcase_create("cpuid");
    tcase_add_test(t, identification);
    tcase_add_test(t, features);
    tcase_add_test(t, skylake_leaf4);
    tcase_add_test(t, skylake_leaf18);
    tcase_add_test(t, tlb_leaves_match_preset);
    tcase_add_test(t, zen2_amd_leaves);
    tcase_add_test(t, topology);
    tcase_add_test(t, rng_determinism);
    tcase_add_test(t, rand_instructions);
    tcase_add_test(t, umip);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
