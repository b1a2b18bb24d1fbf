/* Paging-structure caches (SDM Vol. 3A 4.10.3; TLB-MODEL.md B-1.2): a PML4E cache
 * tagged by LA[47:39], a PDPTE cache tagged by LA[47:30] and a PDE cache tagged by
 * LA[47:21], each entry tagged by PCID and holding the next table's physical address
 * and the rights accumulated down to it.  A walk uses the deepest hit and skips the
 * levels above it.  Entries survive page-table edits until invalidated, as the SDM
 * allows.  G plays no role here (SDM 4.10.3.1).
 */
#ifndef HVEMU_MMU_PSC_H
#define HVEMU_MMU_PSC_H

#include <stdbool.h>
#include <stdint.h>

/* PSC levels, named after the entry they cache */
enum psc_level { PSC_PML4E = 0, PSC_PDPTE = 1, PSC_PDE = 2, PSC_LEVELS = 3 };

struct psc_geometry {
    unsigned sets[PSC_LEVELS], ways[PSC_LEVELS];
};

struct psc_entry {
    uint64_t tag;           /* LA >> (39, 30, 21) */
    uint64_t next;          /* physical address of the next table */
    uint64_t root;          /* CR3 base it was filled under */
    uint64_t stamp;
    uint16_t pcid;
    bool valid;
    bool w, u, xd;          /* rights accumulated down to and including this entry */
};

struct psc {
    struct psc_geometry g;
    struct psc_entry *e[PSC_LEVELS];
    uint64_t clock;
};

bool psc_init(struct psc *p, const struct psc_geometry *g);
void psc_destroy(struct psc *p);
unsigned psc_shift(enum psc_level l);
/* The entry of level l for (la, pcid), or NULL. Touches LRU on a hit. */
struct psc_entry *psc_lookup(struct psc *p, enum psc_level l, uint64_t la, uint16_t pcid);
/* Returns true if a valid entry was evicted. */
bool psc_fill(struct psc *p, enum psc_level l, uint64_t la, uint16_t pcid, uint64_t root,
              uint64_t next, bool w, bool u, bool xd);

/* Invalidation predicates: PSC_INV_ALL, by PCID, by root, or the entries of one PCID
 * whose tag covers la (what a #PF on la must drop). Returns the number removed. */
enum psc_inv { PSC_INV_ALL, PSC_INV_PCID, PSC_INV_ROOT, PSC_INV_PCID_LA };

/* Linux's page-table isolation pairs each address space's kernel root R (8 KiB aligned)
 * with a user root R + 4 KiB, used with the user PCID = kernel PCID | bit 11
 * (X86_CR3_PTI_PCID_USER_BIT).  A Hyper-V flush names only R (HV-SPEC B-5.2.3: "With
 * PTI the guest also has user-PCID address spaces, so flush every PCID/ASID for that
 * CR3"), and real hypervisors flush the whole VPID anyway: so the address space R
 * also covers the user-PCID entries filled under R + 4 KiB.  Without this the guest's
 * user mappings stayed stale after remote flushes (tests/linux tlbstress). */
#define PTI_USER_ROOT_BIT 0x1000ull
#define PTI_USER_PCID_BIT 0x800u

/* Does an entry (root it was filled under, its PCID) belong to address space root? */
static inline bool inv_root_match(uint64_t e_root, uint16_t e_pcid, const uint64_t *pcid_root, uint64_t root)
{
    if (e_root == root || pcid_root[e_pcid] == root)
        return true;
    if (!(e_pcid & PTI_USER_PCID_BIT) || (root & PTI_USER_ROOT_BIT))
        return false;
    uint64_t user = root | PTI_USER_ROOT_BIT;
    return e_root == user || pcid_root[e_pcid] == user;
}
unsigned psc_invalidate(struct psc *p, enum psc_inv how, uint16_t pcid, uint64_t root, uint64_t la,
                        const uint64_t *pcid_root);
unsigned psc_occupancy(const struct psc *p);

#endif
