/* CPUID: the leaves of the selected model (cpu/cpu_models.c holds the vendor, the
 * signature, the brand, the caches, the TLB geometry and the one feature set every
 * model advertises).  This file only lays those out in the SDM/APM register formats
 * and adds what depends on run-time state: the APIC bit (IA32_APIC_BASE[11]), the
 * APIC ID and the topology from -smp (one thread per core, one package, APIC ID =
 * VP index), MAXPHYADDR from the page walker.
 *
 * Formats: SDM Vol. 2A CPUID (Table 3-8) for leaves 1, 2, 4, 6, 7, 0BH, 18H, 1FH and
 * 8000000xH; AMD APM Vol. 3 Appendix E (rev. 3.35) for 80000001H and 80000005H-8H.
 * Leaves above the model's maximum read as zero (hv/ fills 0x4000xxxx).
 */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpu_models.h"
#include "cpu/cpuid.h"
#include "cpu/env.h"
#include "mmu/walk.h"   /* WALK_MAXPHYADDR: CPUID.80000008H must agree with the walker */

#define LINEAR_BITS 48u                 /* 4-level paging only (no LA57) */
/* AMD 80000001H EDX bits that mirror leaf 1 EDX: 0-9, 12-17, 23, 24 (APM Table E-4). */
#define AMD_L1_EDX_MIRROR 0x0183f3ffu

/* The AMD register layouts (vendor string, 80000001H:EAX, 80000005H-8H) instead of
 * Intel's (leaves 2, 4, 18H). */
static bool amd_layout(const struct cpu_model *m)
{
    return m->vendor == CPU_VENDOR_AMD;
}

uint32_t cpuid_signature(const struct cpu *c)
{
    return cpu_model_of(c)->signature;
}

static unsigned nr_vps(const struct cpu *c)
{
    return c->nr_vps ? c->nr_vps : 1;
}

/* Bits of the APIC ID that number the cores of the package: ceil(log2(VPs)). */
static unsigned core_bits(const struct cpu *c)
{
    unsigned b = 0;
    while ((1u << b) < nr_vps(c))
        b++;
    return b;
}

static void vendor(uint32_t o[4], const struct cpu_model *m)
{
    /* The vendor string is EBX, EDX, ECX. */
    memcpy(&o[1], amd_layout(m) ? "Auth" : "Genu", 4);
    memcpy(&o[3], amd_layout(m) ? "enti" : "ineI", 4);
    memcpy(&o[2], amd_layout(m) ? "cAMD" : "ntel", 4);
}

/* Leaf 4: deterministic cache parameters (Intel). */
static void leaf4(const struct cpu *c, const struct cpu_model *m, uint32_t sub, uint32_t o[4])
{
    if (amd_layout(m) || sub >= m->ncaches)
        return;                                     /* type 0: no more caches */
    const struct cpu_cache *k = &m->caches[sub];
    uint32_t cores = 1u << core_bits(c), sharing = k->shared ? cores : 1;
    if (cores > 64)
        cores = 64;                                 /* EAX[31:26] holds 6 bits */
    o[0] = k->type | (uint32_t)k->level << 5 | 1u << 8 /* self-initialising */ |
           (sharing - 1) << 14 | (cores - 1) << 26;
    o[1] = (k->line - 1u) | (uint32_t)(k->ways - 1) << 22;  /* one partition */
    o[2] = k->sets - 1;
    o[3] = k->inclusive ? 1u << 1 : 0;
}

/* Leaves 0BH and 1FH: level 0 SMT (one thread per core), level 1 core. */
static void topology(const struct cpu *c, uint32_t sub, uint32_t o[4])
{
    o[3] = (uint32_t)c->vp_index;                   /* x2APIC ID */
    o[2] = sub & 0xff;
    if (sub == 0) {
        o[0] = 0;
        o[1] = 1;
        o[2] |= 1u << 8;                            /* type SMT */
    } else if (sub == 1) {
        o[0] = core_bits(c);
        o[1] = nr_vps(c);
        o[2] |= 2u << 8;                            /* type core */
    }
}

/* Leaf 18H: one subleaf per TLB of the model (Intel). */
static void leaf18(const struct cpu_model *m, uint32_t sub, uint32_t o[4])
{
    if (amd_layout(m) || sub >= m->ntlbs)
        return;                                     /* EDX type 0: invalid subleaf */
    const struct cpu_tlb *t = &m->tlbs[sub];
    o[0] = sub == 0 ? m->ntlbs - 1 : 0;
    o[1] = t->sizes | (uint32_t)t->ways << 16;      /* partitioning 0: soft, between threads */
    o[2] = t->sets;
    o[3] = t->type | (uint32_t)t->level << 5 | (t->fully_assoc ? 1u << 8 : 0);
}

/* The TLB of a level that serves data (type D or U) or instructions (I or U) and
 * holds a page size; NULL if none does. */
static const struct cpu_tlb *find_tlb(const struct cpu_model *m, unsigned level, bool instr, unsigned size)
{
    for (unsigned n = 0; n < m->ntlbs; n++) {
        const struct cpu_tlb *t = &m->tlbs[n];
        if (t->level == level && (t->type == 3 || t->type == (instr ? 2 : 1)) && (t->sizes & size))
            return t;
    }
    return NULL;
}

static uint32_t tlb_entries(const struct cpu_tlb *t)
{
    return t ? t->ways * t->sets : 0;
}

/* AMD 80000005H: 8-bit associativity, FFh = fully associative. */
static uint32_t amd_l1_assoc(const struct cpu_tlb *t)
{
    return !t ? 0 : t->fully_assoc ? 0xff : t->ways;
}

/* The 4-bit associativity code of 80000006H (APM Table E-5; SDM 80000006H ECX);
 * 0 when `ways` has no code of its own (3, 5, 7, 10, 12, ...). */
static uint32_t assoc_code(unsigned ways, bool fully)
{
    static const struct { unsigned ways, code; } tab[] = {
        { 128, 0xe }, { 96, 0xd }, { 64, 0xc }, { 48, 0xb }, { 32, 0xa }, { 16, 0x8 },
        { 8, 0x6 }, { 6, 0x5 }, { 4, 0x4 }, { 2, 0x2 }, { 1, 0x1 },
    };
    if (fully)
        return 0xf;
    for (unsigned k = 0; k < sizeof tab / sizeof tab[0]; k++)
        if (ways == tab[k].ways)
            return tab[k].code;
    return 0;
}

/* A TLB's code: ways without one get the code of the largest coded way count below
 * them (real Zen 2 reports its 12-way L2 DTLB as 8-way the same way). */
static uint32_t tlb_assoc_code(const struct cpu_tlb *t)
{
    for (unsigned w = t->ways; w > 0; w--)
        if (assoc_code(w, t->fully_assoc))
            return assoc_code(w, t->fully_assoc);
    return 0;
}

static uint32_t amd_l2_tlb(const struct cpu_tlb *d, const struct cpu_tlb *i)
{
    uint32_t v = 0;
    if (d)
        v |= tlb_assoc_code(d) << 28 | (tlb_entries(d) & 0xfff) << 16;
    if (i)
        v |= tlb_assoc_code(i) << 12 | (tlb_entries(i) & 0xfff);
    return v;
}

static const struct cpu_cache *find_cache(const struct cpu_model *m, unsigned level, unsigned type)
{
    for (unsigned n = 0; n < m->ncaches; n++)
        if (m->caches[n].level == level && m->caches[n].type == type)
            return &m->caches[n];
    return NULL;
}

static uint32_t cache_kb(const struct cpu_cache *k)
{
    return k ? k->ways * k->sets * k->line / 1024u : 0;
}

/* 80000005H ECX/EDX: L1 cache, size KB [31:24], assoc [23:16], 1 line per tag, line. */
static uint32_t amd_l1_cache(const struct cpu_cache *k)
{
    return k ? cache_kb(k) << 24 | (uint32_t)k->ways << 16 | 1u << 8 | k->line : 0;
}

/* 80000006H: AMD (and Intel's ECX L2 description, which has the same layout). */
static void leaf80000006(const struct cpu_model *m, uint32_t o[4])
{
    const struct cpu_cache *l2 = find_cache(m, 2, 3), *l3 = find_cache(m, 3, 3);
    if (l2) {
        uint32_t code = assoc_code(l2->ways, false);
        if (!code)
            code = 0x7;         /* no code (Golden Cove's 10 ways): "see CPUID leaf 04H, sub-leaf 2" */
        o[2] = cache_kb(l2) << 16 | code << 12 | l2->line;
        if (amd_layout(m))
            o[2] |= 1u << 8;    /* lines per tag */
    }
    if (!amd_layout(m))
        return;
    o[0] = amd_l2_tlb(find_tlb(m, 2, false, TLBD_2M), find_tlb(m, 2, true, TLBD_2M));
    o[1] = amd_l2_tlb(find_tlb(m, 2, false, TLBD_4K), find_tlb(m, 2, true, TLBD_4K));
    if (l3)
        o[3] = (cache_kb(l3) / 512) << 18 | assoc_code(l3->ways, false) << 12 | 1u << 8 | l3->line;
}

static void leaves(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t o[4])
{
    const struct cpu_model *m = cpu_model_of(c);
    const struct cpu_features *f = &cpu_features_implemented;
    uint32_t apic = (c->msr.apic_base & (1ull << 11)) ? CPUID_1_EDX_APIC : 0;
    memset(o, 0, 4 * sizeof o[0]);
    if (leaf < 0x40000000u ? leaf > m->max_basic : (leaf >= 0x80000000u && leaf > m->max_ext))
        return;                 /* unknown and reserved leaves read as zero */
    switch (leaf) {
    case 0:
        o[0] = m->max_basic;
        vendor(o, m);
        break;
    case 1:
        o[0] = m->signature;
        /* EBX: initial APIC ID [31:24], addressable logical IDs [23:16] (valid with
         * HTT), CLFLUSH line size in 8-byte units [15:8]. */
        o[1] = (uint32_t)c->vp_index << 24 | (8u << 8);
        o[2] = f->l1_ecx;
        o[3] = f->l1_edx | apic;
        if (c->cr4 & CR4_OSXSAVE)
            o[2] |= 1u << 27;   /* OSXSAVE mirrors CR4.OSXSAVE (SDM Vol. 2A Table 3-10) */
        if (nr_vps(c) > 1) {
            o[1] |= (core_bits(c) >= 8 ? 0xffu : 1u << core_bits(c)) << 16;
            o[3] |= 1u << 28;   /* HTT: EBX[23:16] is valid */
        }
        break;
    case 2:
        /* AL = 1 iteration; descriptor FFh: caches in leaf 4; FEh: TLBs in leaf 18H. */
        if (!amd_layout(m))
            o[0] = 0x00feff01u;
        break;
    case 4:
        leaf4(c, m, sub, o);
        break;
    case 6:
        o[0] = 1u << 2;         /* ARAT: the APIC timer runs at a constant rate (no C-states) */
        break;
    case 7:
        if (sub == 0) {
            o[0] = 0;           /* max subleaf */
            o[1] = f->l7_ebx;
            o[2] = f->l7_ecx;
            o[3] = f->l7_edx;
        }
        break;
    case 0xb:
        topology(c, sub, o);
        break;
    case 0xd:
        /* XSAVE components x87 (0) and SSE (1) only (SDM Vol. 1 13.2, 13.4): the legacy
         * region (512) + header (64) = 576 bytes whatever XCR0 enables; sub-leaf 1:
         * XSAVEOPT(0) only (no XSAVEC/XGETBV1/XSAVES).  cpu/fpu_env.c (x87). */
        if (sub == 0) {
            o[0] = 3;
            o[1] = 576;
            o[2] = 576;
        } else if (sub == 1) {
            o[0] = 1;
        }
        break;
    case 0x18:
        leaf18(m, sub, o);
        break;
    case 0x1f:
        topology(c, sub, o);
        break;
    case 0x80000000u:
        o[0] = m->max_ext;
        if (amd_layout(m))
            vendor(o, m);
        break;
    case 0x80000001u:
        o[2] = f->lx1_ecx;
        o[3] = f->lx1_edx;
        if (amd_layout(m)) {
            o[0] = m->signature;
            o[3] |= (f->l1_edx | apic) & AMD_L1_EDX_MIRROR;
        }
        break;
    case 0x80000002u: case 0x80000003u: case 0x80000004u:
        memcpy(o, m->brand + 16 * (leaf - 0x80000002u), 16);
        break;
    case 0x80000005u:
        if (amd_layout(m)) {
            const struct cpu_tlb *d2 = find_tlb(m, 1, false, TLBD_2M), *i2 = find_tlb(m, 1, true, TLBD_2M);
            const struct cpu_tlb *d4 = find_tlb(m, 1, false, TLBD_4K), *i4 = find_tlb(m, 1, true, TLBD_4K);
            o[0] = amd_l1_assoc(d2) << 24 | (tlb_entries(d2) & 0xff) << 16 |
                   amd_l1_assoc(i2) << 8 | (tlb_entries(i2) & 0xff);
            o[1] = amd_l1_assoc(d4) << 24 | (tlb_entries(d4) & 0xff) << 16 |
                   amd_l1_assoc(i4) << 8 | (tlb_entries(i4) & 0xff);
            o[2] = amd_l1_cache(find_cache(m, 1, 1));
            o[3] = amd_l1_cache(find_cache(m, 1, 2));
        }
        break;
    case 0x80000006u:
        leaf80000006(m, o);
        break;
    case 0x80000007u:
        o[3] = 1u << 8;         /* invariant TSC: ours counts virtual cycles at a fixed rate */
        break;
    case 0x80000008u:
        o[0] = WALK_MAXPHYADDR | (LINEAR_BITS << 8);    /* physical / linear address bits */
        if (amd_layout(m))
            o[2] = (nr_vps(c) - 1) | core_bits(c) << 12; /* NC, ApicIdCoreIdSize */
        break;
    default:
        break;
    }
}

void cpu_cpuid(struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    leaves(c, leaf, subleaf, out);
    if (c->env && c->env->cpuid)
        c->env->cpuid(c->env_opaque, c, leaf, subleaf, out);
}
