/* The modelled TLB of one VP (TLB-MODEL.md Part A 1-5): set-associative arrays with
 * their tags and replacement state, grouped in levels (L1 I/D, L2), plus the
 * paging-structure caches.  Only mmu/ includes this header.
 *
 * An array holds one or more page sizes.  A translation whose size no array of a
 * level holds is "smashed" into the largest smaller size that one holds (the 2M piece
 * containing the address); the entry remembers the original size, so that an
 * invalidation of any address of the original page removes every piece (SDM 4.10.4.1:
 * "all TLB entries backing a large page if it was fractured").
 */
#ifndef HVEMU_MMU_TLB_H
#define HVEMU_MMU_TLB_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/mmu.h"
#include "mmu/psc.h"
#include "mmu/stats.h"

enum pg_size { PG_4K = 0, PG_2M = 1, PG_1G = 2, PG_SIZES = 3 };
#define PG_MASK(s) (PG_BIT(s) - 1)                       /* offset mask of a page size */
#define PG_BIT(s)  (1ull << pg_shift[(s)])
extern const unsigned pg_shift[PG_SIZES];                /* 12, 21, 30 */

enum tlb_repl { REPL_LRU = 0, REPL_PLRU = 1 };
enum tlb_level { LVL_L1 = 0, LVL_L2 = 1, LVL_COUNT = 2 };
#define SIDE_I 1u   /* serves instruction fetches */
#define SIDE_D 2u   /* serves loads and stores */

/* One row of a preset (mmu/tlb_presets.c): one array. */
struct tlb_array_spec {
    const char *name;       /* "dtlb_4k", "stlb", ... (JSON keys) */
    enum tlb_level level;
    unsigned sides;         /* SIDE_I | SIDE_D */
    unsigned sizes;         /* bit mask of 1u << enum pg_size */
    unsigned sets, ways;    /* sets need not be a power of two (index = page number % sets) */
    enum tlb_repl repl;
};

#define TLB_MAX_ARRAYS 8
struct tlb_preset {
    const char *name;
    const char *source;     /* where the numbers come from, for --help */
    bool verified;
    unsigned narrays;
    struct tlb_array_spec arrays[TLB_MAX_ARRAYS];
    struct psc_geometry psc;
    uint32_t l2_latency;    /* added cycles for an L1 miss that hits L2 */
    uint32_t psc_latency;   /* added once per walk: the PSC probe */
    uint32_t pte_latency;   /* one page-table read (memory-latency parameter) */
};
const struct tlb_preset *tlb_find_preset(const char *name);
extern const struct tlb_preset *const tlb_presets[];   /* NULL-terminated */

/* Entry flags */
#define TE_VALID  0x01
#define TE_GLOBAL 0x02
#define TE_W      0x04      /* R/W: AND over all levels */
#define TE_U      0x08      /* U/S: AND over all levels */
#define TE_XD     0x10      /* XD: OR over all levels (stored even when NXE=0; checked with NXE) */
#define TE_DIRTY  0x20      /* the leaf's D bit as the walk left it */
#define TE_4M     0x40      /* a 2M half of a 4M page (32-bit paging): invalidations cover 4M */

struct tlb_entry {
    uint64_t vbase;         /* linear address of the (piece's) page */
    uint64_t pbase;         /* physical address of the (piece's) page */
    uint64_t root;          /* CR3 page-table base it was filled under (Hyper-V AddressSpace) */
    uint64_t stamp;         /* LRU: last use */
    uint16_t pcid;
    uint8_t size;           /* enum pg_size of this entry */
    uint8_t orig_size;      /* size of the page-table mapping it came from */
    uint8_t flags;
};

struct tlb_array {
    const struct tlb_array_spec *spec;
    struct tlb_entry *e;    /* sets * ways, set-major */
    uint64_t *plru;         /* per set tree bits (REPL_PLRU), up to 64 ways */
    uint32_t live[PG_SIZES];  /* valid entries of each size: lookups skip sizes with none */
    struct array_counters c;
};

/* A predicate for invalidations: which entries an operation removes. */
#define INV_BY_ADDR     0x01    /* la (or [la, la+len)) within the entry's ORIGINAL page */
#define INV_BY_PCID     0x02    /* entry.pcid == pcid ... */
#define INV_GLOBAL_ANY  0x04    /* ... except that globals match whatever their PCID */
#define INV_KEEP_GLOBAL 0x08    /* never remove globals */
#define INV_BY_ROOT     0x10    /* entry.root == root, or pcid_root[entry.pcid] == root (+ PTI twin: psc.h) */
#define INV_NONE        0x20    /* matches nothing (an operation the SDM requires nothing of) */
/* how == 0 matches every entry */
struct inv_pred {
    unsigned how;
    uint64_t la;
    uint16_t pcid;
    uint64_t root;
    uint64_t len;           /* INV_BY_ADDR: [la, la + len) overlaps the original page; 0 = one address */
};

struct tlb {
    const struct tlb_preset *preset;
    unsigned narrays;
    struct tlb_array arrays[TLB_MAX_ARRAYS];
    struct psc psc;
    uint64_t clock;                 /* LRU time stamps */
    uint64_t split_live;            /* valid entries that are pieces of a larger page: while
                                     * there are none, an INVLPG-like invalidation need only
                                     * look at the sets its address indexes (tlb_invalidate) */
    uint64_t pcid_root[4096];       /* last CR3 root loaded with each PCID (for INV_BY_ROOT) */
    struct mmu_stats stats;
    /* The capacity victim of the last tlb_fill (valid = it displaced an entry): the
     * trace writes its EVICT right after the FILL (mmu/trace_hooks.c). */
    const struct tlb_array *fill_array;     /* the array of the last tlb_fill */
    bool victim_valid;
    const struct tlb_array *victim_array;
    struct tlb_entry victim;
};

struct tlb *tlb_new(const struct tlb_preset *p);
void tlb_free(struct tlb *t);

/* Find an entry of the given level serving `side` that translates la for pcid. */
struct tlb_entry *tlb_lookup(struct tlb *t, enum tlb_level lvl, unsigned side,
                             uint64_t la, uint16_t pcid, bool touch);
/* Insert a translation into the level (smashing when needed).  The victim, if any, is
 * reported through evict_cb (so the fast cache can drop what it covered).  Returns the
 * inserted entry. */
typedef void (*tlb_evict_fn)(void *opaque, const struct tlb_array *a, const struct tlb_entry *e);
struct tlb_entry *tlb_fill(struct tlb *t, enum tlb_level lvl, unsigned side, uint64_t la,
                           const struct tlb_entry *proto, tlb_evict_fn cb, void *opaque);

/* Remove every entry matching `remove`.  `must` is the SDM minimum for the same
 * operation: entries removed outside it are over-flushes; entries matching it but not
 * removed are under-flushes (impossible by construction; counted and aborted on).
 * Returns the number of entries removed. */
unsigned tlb_invalidate(struct tlb *t, const struct inv_pred *remove, const struct inv_pred *must,
                        enum inv_cause cause, tlb_evict_fn cb, void *opaque);
bool tlb_pred_match(const struct tlb *t, const struct inv_pred *p, const struct tlb_entry *e);

/* Replacement: the way that would be evicted next in a set (for tests too). */
unsigned tlb_victim_way(const struct tlb_array *a, unsigned set);
unsigned tlb_set_of(const struct tlb_array *a, uint64_t la, enum pg_size s);
/* Number of valid entries of an array (for the conservation check). */
uint64_t tlb_occupancy(const struct tlb_array *a, int pcid /* -1: all */);

#endif
