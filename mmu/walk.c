/* 4-level page walk (SDM Vol. 3A 4.5), permissions (4.6), #PF error codes (4.7),
 * A/D flags (4.8), with the paging-structure caches of 4.10.3 letting it skip levels.
 *
 * A/D flags are written only when the whole translation succeeds (as Bochs does):
 * the SDM lets a processor set A on upper levels of a faulting walk, but does not
 * require it, and this keeps a faulting access free of side effects.
 *
 * Legacy modes (walk_legacy): PAE paging reads the 4 PDPTEs from memory on every walk
 * instead of caching them at MOV CR3 as the processor does (so a PDPTE edit is seen
 * early, and a reserved PDPTE bit gives #PF(RSVD) instead of #GP at MOV CR3); they
 * use no paging-structure caches.  A 4M page of 32-bit paging is held in the TLB as
 * 2M halves that remember the 4M original (TE_4M).
 *
 * Not implemented: 5-level paging (CR4.LA57; CPUID must not advertise it) and
 * protection keys (bits 62:59 are ignored, CR4.PKE must stay 0).
 */
#include "mmu/walk.h"

#include "mmu/physmem.h"
#include "mmu/psc.h"
#include "mmu/tlb.h"

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_G   (1ull << 8)
#define PTE_XD  (1ull << 63)

/* Physical-address bits an entry may hold: 51:12 limited to MAXPHYADDR (4.5.4). */
#define ADDR_MASK (((1ull << WALK_MAXPHYADDR) - 1) & ~0xfffull)
/* Bits M..51 must be 0 in every entry (SDM Table 4-20 "Reserved (must be 0)"). */
#define RSVD_HIGH (((1ull << 52) - 1) & ~((1ull << WALK_MAXPHYADDR) - 1))

uint32_t walk_check_rights(const struct walk_req *r, bool w, bool u, bool xd)
{
    bool write = r->acc == ACC_WRITE, fetch = r->acc == ACC_FETCH;
    bool deny;
    if (r->user) {
        /* 4.6.1: user accesses need U/S=1 everywhere, R/W=1 for writes (WP irrelevant) */
        deny = !u || (write && !w) || (fetch && xd && r->nxe);
    } else if (fetch) {
        /* supervisor fetch: XD (with NXE); SMEP forbids fetching from user pages */
        deny = (xd && r->nxe) || (u && r->smep);
    } else {
        /* supervisor data: SMAP forbids user pages unless AC=1 on an explicit access;
         * writes to read-only pages fault only with CR0.WP=1 */
        deny = (u && r->smap && (r->implicit || !r->ac)) || (write && !w && r->wp);
    }
    if (!deny)
        return 0;
    return PFERR_P | (write ? PFERR_W : 0) | (r->user ? PFERR_U : 0) |
           (fetch && (r->nxe || r->smep) ? PFERR_I : 0);
}

static uint32_t base_err(const struct walk_req *r)
{
    return (r->acc == ACC_WRITE ? PFERR_W : 0) | (r->user ? PFERR_U : 0) |
           (r->acc == ACC_FETCH && (r->nxe || r->smep) ? PFERR_I : 0);
}

static bool walk_legacy(struct physmem *pm, const struct walk_req *r, struct walk_result *res);

/* Reserved bits of an entry at level lvl (4 = PML4E ... 1 = PTE), SDM Tables 4-15..4-20. */
static bool reserved(uint64_t e, int lvl, bool nxe)
{
    if (e & RSVD_HIGH)
        return true;
    if (!nxe && (e & PTE_XD))
        return true;
    if (lvl == 4 && (e & PTE_PS))
        return true;                            /* PML4E bit 7 is reserved */
    if (lvl == 3 && (e & PTE_PS) && (e & 0x3fffe000ull))
        return true;                            /* 1G page: bits 29:13 */
    if (lvl == 2 && (e & PTE_PS) && (e & 0x1fe000ull))
        return true;                            /* 2M page: bits 20:13 */
    return false;
}

bool walk(struct physmem *pm, struct psc *psc, const struct walk_req *r, struct walk_result *res,
          uint64_t *psc_evictions, uint64_t *psc_fills)
{
    if (r->mode != WALK_LONG4)
        return walk_legacy(pm, r, res);
    uint64_t table = r->root;
    int lvl = 4;
    bool w = true, u = true, xd = false;
    res->psc_level = -1;
    res->reads = 0;

    /* Deepest paging-structure-cache hit wins (ChampSim PR #121 probes all in parallel). */
    if (psc) {
        for (int l = PSC_PDE; l >= PSC_PML4E; l--) {
            struct psc_entry *pe = psc_lookup(psc, (enum psc_level)l, r->la, r->pcid);
            if (pe) {
                table = pe->next;
                lvl = 3 - l;                    /* PDE hit -> read the PTE (level 1) */
                w = pe->w;
                u = pe->u;
                xd = pe->xd;
                res->psc_level = l;
                break;
            }
        }
    }

    const bool w0 = w, u0 = u, xd0 = xd;    /* rights accumulated above the first read */
    uint64_t addr[4], val[4];
    int lvls[4];
    int n = 0;
    uint64_t e;
    for (;; lvl--) {
        uint64_t a = table + (((r->la >> (12 + 9 * (lvl - 1))) & 511) << 3);
        e = physmem_read(pm, a, 8);
        res->step_addr[res->reads] = a;
        res->step_level[res->reads] = (uint8_t)lvl;
        res->reads++;
        addr[n] = a;
        val[n] = e;
        lvls[n] = lvl;
        n++;
        if (!(e & PTE_P)) {
            res->pf_err = base_err(r);
            return false;
        }
        if (reserved(e, lvl, r->nxe)) {
            res->pf_err = base_err(r) | PFERR_P | PFERR_RSVD;
            return false;
        }
        w = w && (e & PTE_W);
        u = u && (e & PTE_U);
        xd = xd || ((e & PTE_XD) && r->nxe);
        if (lvl == 1 || ((lvl == 3 || lvl == 2) && (e & PTE_PS)))
            break;
        table = e & ADDR_MASK;
    }

    uint32_t err = walk_check_rights(r, w, u, xd);
    if (err) {
        res->pf_err = err;
        return false;
    }

    /* Success: A on every entry used, D on the leaf for a write (4.8). */
    for (int i = 0; i < n; i++) {
        uint64_t nv = val[i] | PTE_A;
        if (i == n - 1 && r->acc == ACC_WRITE)
            nv |= PTE_D;
        if (nv != val[i])
            physmem_write(pm, addr[i], nv, 8);
        val[i] = nv;
    }

    /* Cache the non-leaf entries just read (4.10.3.1: P=1, A=1, no reserved bits). */
    if (psc) {
        bool cw = w0, cu = u0, cx = xd0;
        for (int i = 0; i < n - 1; i++) {
            cw = cw && (val[i] & PTE_W);
            cu = cu && (val[i] & PTE_U);
            cx = cx || ((val[i] & PTE_XD) && r->nxe);
            (*psc_fills)++;
            if (psc_fill(psc, (enum psc_level)(4 - lvls[i]), r->la, r->pcid, r->root,
                         val[i] & ADDR_MASK, cw, cu, cx))
                (*psc_evictions)++;
        }
    }

    int leaf = lvls[n - 1];
    res->size = leaf == 1 ? PG_4K : leaf == 2 ? PG_2M : PG_1G;
    res->pbase = val[n - 1] & ADDR_MASK & ~PG_MASK(res->size);
    res->w = w;
    res->u = u;
    res->xd = xd;
    res->dirty = (val[n - 1] & PTE_D) != 0;
    res->global = r->pge && (val[n - 1] & PTE_G);
    res->is_4m = false;
    return true;
}

/* PAE paging (SDM 4.4) and 32-bit paging (4.3). */
static bool walk_legacy(struct physmem *pm, const struct walk_req *r, struct walk_result *res)
{
    const bool pae = r->mode == WALK_PAE;
    const unsigned esz = pae ? 8 : 4;
    uint32_t la = (uint32_t)r->la;
    uint64_t addr[3], val[3];
    int n = 0;
    bool w = true, u = true, xd = false;
    res->psc_level = -1;
    res->reads = 0;
    res->is_4m = false;

    uint64_t table;
    if (pae) {
        /* PDPTE (4.4.1): P, PWT, PCD, address; bits 2:1, 8:5 and 63 are reserved */
        uint64_t a = (r->root & 0xffffffe0ull) + ((la >> 30) << 3);
        uint64_t e = physmem_read(pm, a, 8);
        res->step_addr[0] = a;
        res->step_level[0] = 3;
        res->reads++;
        if (!(e & PTE_P)) {
            res->pf_err = base_err(r);
            return false;
        }
        if ((e & (RSVD_HIGH | 0x1e6ull | PTE_XD))) {
            res->pf_err = base_err(r) | PFERR_P | PFERR_RSVD;
            return false;
        }
        table = e & ADDR_MASK;
    } else {
        table = r->root & 0xfffff000ull;
    }

    for (int lvl = 2;; lvl--) {
        unsigned idx = pae ? (la >> (12 + 9 * (lvl - 1))) & 511 : (la >> (12 + 10 * (lvl - 1))) & 1023;
        uint64_t a = table + (uint64_t)idx * esz;
        uint64_t e = physmem_read(pm, a, esz);
        res->step_addr[res->reads] = a;
        res->step_level[res->reads] = (uint8_t)lvl;
        res->reads++;
        addr[n] = a;
        val[n] = e;
        n++;
        if (!(e & PTE_P)) {
            res->pf_err = base_err(r);
            return false;
        }
        bool large = lvl == 2 && (e & PTE_PS) && (pae || r->pse);
        bool rsvd;
        if (pae)
            rsvd = reserved(e, lvl, r->nxe);
        else
            rsvd = large && (e & (1ull << 21));     /* 4M PDE: bit 21 (PSE-36 holds 20:13) */
        if (rsvd) {
            res->pf_err = base_err(r) | PFERR_P | PFERR_RSVD;
            return false;
        }
        w = w && (e & PTE_W);
        u = u && (e & PTE_U);
        xd = xd || (pae && (e & PTE_XD) && r->nxe);
        if (lvl == 1 || large)
            break;
        table = pae ? (e & ADDR_MASK) : (e & 0xfffff000ull);
    }

    uint32_t err = walk_check_rights(r, w, u, xd);
    if (err) {
        res->pf_err = err;
        return false;
    }
    for (int i = 0; i < n; i++) {
        uint64_t nv = val[i] | PTE_A;
        if (i == n - 1 && r->acc == ACC_WRITE)
            nv |= PTE_D;
        if (nv != val[i])
            physmem_write(pm, addr[i], nv, esz);
        val[i] = nv;
    }
    uint64_t leaf = val[n - 1];
    if (n == 2) {
        res->size = PG_4K;
        res->pbase = pae ? (leaf & ADDR_MASK) : (leaf & 0xfffff000ull);
    } else if (pae) {
        res->size = PG_2M;
        res->pbase = leaf & ADDR_MASK & ~PG_MASK(PG_2M);
    } else {
        /* 4M page, PSE-36: PDE bits 20:13 are physical-address bits 39:32 */
        uint64_t base = (leaf & 0xffc00000ull) | (((leaf >> 13) & 0xff) << 32);
        res->size = PG_2M;
        res->is_4m = true;
        res->pbase = base + (la & 0x200000u);
    }
    res->w = w;
    res->u = u;
    res->xd = xd;
    res->dirty = (leaf & PTE_D) != 0;
    res->global = r->pge && (leaf & PTE_G);
    return true;
}
