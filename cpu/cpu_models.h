/* Named CPU models (-cpu MODEL): what CPUID says the processor is.
 *
 * A model fixes the vendor, the family/model/stepping signature, the brand string,
 * the cache hierarchy (leaf 4 / AMD 0x80000005-6) and the TLB geometry that the TLB
 * descriptor leaves report (Intel leaf 0x18, AMD 0x80000005/6).  The feature bits
 * are one set for every model (struct cpu_features cpu_features_implemented): hvemu
 * advertises exactly what it implements, whatever the model is called.
 *
 * The TLB leaves describe the TLB preset named in `tlb_preset` (mmu/tlb_presets.c).
 * The partition refuses a -tlb preset other than the model's one (hv/partition.c):
 * a guest that reads CPUID must see the TLB it runs on.  tests/unit/test_cpuid.c
 * checks every model's rows against the preset geometry.
 */
#ifndef HVEMU_CPU_CPU_MODELS_H
#define HVEMU_CPU_CPU_MODELS_H

#include <stdbool.h>
#include <stdint.h>

/* Feature words, in the registers CPUID returns them in. */
struct cpu_features {
    uint32_t l1_ecx, l1_edx;        /* leaf 1 */
    uint32_t l7_ebx, l7_ecx, l7_edx;/* leaf 7 subleaf 0 */
    uint32_t lx1_ecx, lx1_edx;      /* 0x80000001 (AMD: plus the leaf-1 EDX mirror, see cpuid.c) */
};
extern const struct cpu_features cpu_features_implemented;

/* One cache (leaf 4 row).  type: 1 data, 2 instruction, 3 unified (SDM Table 3-8). */
struct cpu_cache {
    uint8_t  level, type;
    uint16_t ways;
    uint32_t sets;
    uint16_t line;                  /* bytes */
    bool     shared;                /* shared by every VP of the package (L3), else per core */
    bool     inclusive;
};
#define CPU_MAX_CACHES 4

/* One TLB as the descriptor leaves report it.  type: 1 data, 2 instruction, 3 unified
 * (SDM Vol. 2A CPUID leaf 18H EDX[4:0]).  sizes: bit 0 4K, 1 2M, 2 4M, 3 1G (18H EBX). */
#define TLBD_4K (1u << 0)
#define TLBD_2M (1u << 1)
#define TLBD_4M (1u << 2)
#define TLBD_1G (1u << 3)
struct cpu_tlb {
    uint8_t  level, type;
    uint8_t  sizes;
    uint16_t ways;
    uint32_t sets;
    bool     fully_assoc;
};
#define CPU_MAX_TLBS 8

enum cpu_vendor { CPU_VENDOR_INTEL, CPU_VENDOR_AMD };

struct cpu_model {
    const char *name;               /* -cpu NAME */
    const char *summary;            /* one line for --help */
    const char *tlb_preset;         /* the mmu preset whose geometry `tlbs` describes */
    enum cpu_vendor vendor;         /* CPUID vendor string and the vendor-specific leaves (cpuid.c) */
    uint32_t quirks;                /* QUIRK_* (cpu/cpu_quirks.h): behaviour where the vendors differ */
    uint32_t mxcsr_mask;            /* MXCSR bits software may set, as FXSAVE reports them */
    uint32_t signature;             /* CPUID.1:EAX (and 0x80000001:EAX on AMD) */
    char     brand[49];             /* 0x80000002-4, NUL-padded */
    uint32_t max_basic, max_ext;    /* CPUID.0:EAX, CPUID.80000000H:EAX */
    unsigned ncaches;
    struct cpu_cache caches[CPU_MAX_CACHES];
    unsigned ntlbs;
    struct cpu_tlb tlbs[CPU_MAX_TLBS];
};

/* NULL-terminated list; cpu_models[0] is the default ("skylake"). */
extern const struct cpu_model *const cpu_models[];
/* The model called name; NULL or "" gives the default; NULL if unknown. */
const struct cpu_model *cpu_model_find(const char *name);
/* c->model, or the default when the caller set none (unit tests). */
struct cpu;
const struct cpu_model *cpu_model_of(const struct cpu *c);
/* Make c the model m (NULL: the default): what CPUID reports and every quirk. */
void cpu_set_model(struct cpu *c, const struct cpu_model *m);

/* RDRAND/RDSEED (cpu/ops_rand.c): seed this VP's stream from c->rng_seed and
 * c->vp_index (called by cpu_init).  The next 64 bits of the stream. */
void cpu_rng_init(struct cpu *c);
uint64_t cpu_rng_next(struct cpu *c);

/* UMIP (cpu/ops_desc.c): #GP(0) when CR4.UMIP = 1 and CPL > 0; called by SGDT, SIDT,
 * SLDT, STR and SMSW. */
void umip_check(struct cpu *c);

#endif
