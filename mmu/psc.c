/* Paging-structure caches: small set-associative LRU arrays, one per cached level
 * (geometry from the preset, ChampSim's PSCL4/3/2 by default: TLB-MODEL.md (a)). */
#include "mmu/psc.h"

#include <stdlib.h>

static const unsigned shift_of[PSC_LEVELS] = { 39, 30, 21 };

unsigned psc_shift(enum psc_level l) { return shift_of[l]; }

bool psc_init(struct psc *p, const struct psc_geometry *g)
{
    p->g = *g;
    p->clock = 0;
    for (int l = 0; l < PSC_LEVELS; l++) {
        p->e[l] = calloc((size_t)g->sets[l] * g->ways[l], sizeof(struct psc_entry));
        if (!p->e[l])
            return false;
    }
    return true;
}

void psc_destroy(struct psc *p)
{
    for (int l = 0; l < PSC_LEVELS; l++) {
        free(p->e[l]);
        p->e[l] = NULL;
    }
}

/* Tags keep LA[47:shift]: the walker only uses 48-bit addresses (4-level paging). */
static uint64_t tag_of(enum psc_level l, uint64_t la)
{
    return (la & ((1ull << 48) - 1)) >> shift_of[l];
}

static struct psc_entry *set_of(struct psc *p, enum psc_level l, uint64_t tag)
{
    return &p->e[l][(tag % p->g.sets[l]) * p->g.ways[l]];
}

struct psc_entry *psc_lookup(struct psc *p, enum psc_level l, uint64_t la, uint16_t pcid)
{
    uint64_t tag = tag_of(l, la);
    struct psc_entry *s = set_of(p, l, tag);
    for (unsigned w = 0; w < p->g.ways[l]; w++) {
        if (s[w].valid && s[w].tag == tag && s[w].pcid == pcid) {
            s[w].stamp = ++p->clock;
            return &s[w];
        }
    }
    return NULL;
}

bool psc_fill(struct psc *p, enum psc_level l, uint64_t la, uint16_t pcid, uint64_t root,
              uint64_t next, bool w, bool u, bool xd)
{
    uint64_t tag = tag_of(l, la);
    struct psc_entry *s = set_of(p, l, tag);
    struct psc_entry *victim = NULL;
    for (unsigned i = 0; i < p->g.ways[l] && !victim; i++)
        if (s[i].valid && s[i].tag == tag && s[i].pcid == pcid)
            victim = &s[i];                 /* refresh in place */
    for (unsigned i = 0; i < p->g.ways[l] && !victim; i++)
        if (!s[i].valid)
            victim = &s[i];                 /* free way first */
    if (!victim) {
        victim = &s[0];                     /* else least recently used */
        for (unsigned i = 1; i < p->g.ways[l]; i++)
            if (s[i].stamp < victim->stamp)
                victim = &s[i];
    }
    bool evicted = victim->valid && !(victim->tag == tag && victim->pcid == pcid);
    *victim = (struct psc_entry){ .tag = tag, .next = next, .root = root, .stamp = ++p->clock,
                                  .pcid = pcid, .valid = true, .w = w, .u = u, .xd = xd };
    return evicted;
}

unsigned psc_invalidate(struct psc *p, enum psc_inv how, uint16_t pcid, uint64_t root, uint64_t la,
                        const uint64_t *pcid_root)
{
    unsigned n = 0;
    for (int l = 0; l < PSC_LEVELS; l++) {
        struct psc_entry *e = p->e[l];
        unsigned cnt = p->g.sets[l] * p->g.ways[l];
        for (unsigned i = 0; i < cnt; i++) {
            if (!e[i].valid)
                continue;
            bool hit;
            switch (how) {
            case PSC_INV_ALL:  hit = true; break;
            case PSC_INV_PCID: hit = e[i].pcid == pcid; break;
            case PSC_INV_ROOT: hit = inv_root_match(e[i].root, e[i].pcid, pcid_root, root); break;
            default:           hit = e[i].pcid == pcid && e[i].tag == tag_of(l, la); break;
            }
            if (hit) {
                e[i].valid = false;
                n++;
            }
        }
    }
    return n;
}

unsigned psc_occupancy(const struct psc *p)
{
    unsigned n = 0;
    for (int l = 0; l < PSC_LEVELS; l++)
        for (unsigned i = 0; i < p->g.sets[l] * p->g.ways[l]; i++)
            n += p->e[l][i].valid;
    return n;
}
