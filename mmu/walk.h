/* The page walker (SDM Vol. 3A 4.3-4.8): 4-level paging with 4K/2M/1G pages, PAE
 * paging (4K/2M) and 32-bit paging (4K/4M with PSE, PSE-36), the permission rules of
 * 4.6 (WP, SMEP, SMAP with AC, XD only with EFER.NXE), reserved bits (MAXPHYADDR =
 * WALK_MAXPHYADDR), A/D updates (4.8) and #PF error codes (4.7).  5-level paging
 * (LA57) is not implemented; see walk.c.
 */
#ifndef HVEMU_MMU_WALK_H
#define HVEMU_MMU_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include "mmu/mmu.h"

struct physmem;
struct psc;

/* Skylake-SP reports MAXPHYADDR 46 (CPUID.80000008H:EAX[7:0]); our CPUID must agree. */
#define WALK_MAXPHYADDR 46

/* Who is asking: the access, its privilege, and the control bits that matter. */
enum walk_mode { WALK_LONG4 = 0, WALK_PAE = 1, WALK_32 = 2 };

struct walk_req {
    uint64_t la;
    enum walk_mode mode;
    bool pse;               /* CR4.PSE (32-bit paging: 4M pages) */
    enum mmu_access acc;
    bool user;              /* CPL 3 and not an implicit supervisor access */
    bool implicit;          /* implicit supervisor access: SMAP ignores AC */
    bool ac;                /* RFLAGS.AC */
    bool wp, nxe, smep, smap, pge;
    uint64_t root;          /* CR3 page-table base */
    uint16_t pcid;
};

struct walk_result {
    uint64_t pbase;         /* physical base of the page */
    uint8_t size;           /* enum pg_size (a 4M page: the 2M half holding la, is_4m) */
    bool is_4m;
    bool w, u, xd, dirty, global;
    uint32_t reads;         /* page-table entries read from memory */
    uint64_t step_addr[4];  /* physical address of each entry read, in order (trace WALK_STEP) */
    uint8_t step_level[4];  /* its level: 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE */
    int psc_level;          /* deepest PSC hit used (enum psc_level), -1 for none */
    uint32_t pf_err;        /* valid when the walk failed */
};

/* Walk the tables for r; psc may be NULL (no paging-structure caches).  On success
 * sets A on every entry read and D on the leaf for a write, fills the PSCs, and
 * returns true.  On failure returns false with res->pf_err and changes nothing. */
bool walk(struct physmem *pm, struct psc *psc, const struct walk_req *r, struct walk_result *res,
          uint64_t *psc_evictions, uint64_t *psc_fills);

/* The permission check of SDM 4.6 on accumulated rights.  Returns 0 when allowed,
 * else the #PF error code (P set: a protection fault). */
uint32_t walk_check_rights(const struct walk_req *r, bool w, bool u, bool xd);

#endif
