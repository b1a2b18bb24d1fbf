/* Host fast-lookup cache: filling, privilege contexts and every kind of removal.
 * It is only an accelerator; the modelled TLB (mmu/tlb.c) decides hits and misses.
 */
#include "mmu/fastcache.h"

#include <stdlib.h>
#include <string.h>
#include "mmu/physmem.h"

#define PAGE_MASK (~0xfffull)

static void clear_tables(struct mmu *m)
{
    for (int c = 0; c < FAST_CTXS; c++)
        for (int k = 0; k < ACC_KINDS; k++)
            for (unsigned i = 0; i < FAST_ENTRIES; i++)
                m->fast[c].e[k][i] = (struct fast_entry){ FAST_TAG_INVALID, 0 };
}

bool fast_init(struct mmu *m)
{
    m->fast_aux = calloc(1, sizeof *m->fast_aux);
    if (!m->fast_aux)
        return false;
    clear_tables(m);
    memset(m->fast_hits, 0, sizeof m->fast_hits);
    fast_select(m);
    return true;
}

void fast_destroy(struct mmu *m)
{
    free(m->fast_aux);
    m->fast_aux = NULL;
}

enum fast_ctx fast_ctx_of(const struct mmu *m, unsigned cpl, bool ac)
{
    if (cpl == 3)
        return FAST_USER;
    /* AC only changes supervisor rights when SMAP is on (SDM 4.6.1) */
    return (ac && (m->cr4 & (1ull << 21))) ? FAST_SUP_AC : FAST_SUP;
}

void fast_select(struct mmu *m)
{
    m->fast_cur = &m->fast[fast_ctx_of(m, m->cpl, m->ac)];
}

void fast_fill(struct mmu *m, enum fast_ctx ctx, enum mmu_access acc, uint64_t la, uint8_t *host_page)
{
    struct fast_aux *x = m->fast_aux;
    unsigned slot = (unsigned)((la >> 12) & (FAST_ENTRIES - 1));
    uint64_t page = la & PAGE_MASK;
    m->fast[ctx].e[acc][slot] = (struct fast_entry){ page, (uintptr_t)host_page - (uintptr_t)page };
    if (!x->in_list[ctx][acc][slot]) {
        x->in_list[ctx][acc][slot] = 1;
        x->list[ctx][acc][x->n[ctx][acc]++] = (uint16_t)slot;
    }
    x->fills++;
}

void fast_flush_all(struct mmu *m)
{
    struct fast_aux *x = m->fast_aux;
    for (int c = 0; c < FAST_CTXS; c++) {
        for (int k = 0; k < ACC_KINDS; k++) {
            for (unsigned i = 0; i < x->n[c][k]; i++) {
                unsigned slot = x->list[c][k][i];
                m->fast[c].e[k][slot].tag = FAST_TAG_INVALID;
                x->in_list[c][k][slot] = 0;
            }
            x->n[c][k] = 0;
        }
    }
    x->full_flushes++;
}

static void drop_slot(struct mmu *m, int c, int k, unsigned slot)
{
    m->fast[c].e[k][slot].tag = FAST_TAG_INVALID;
    m->fast_aux->drops++;
}

void fast_drop_range(struct mmu *m, unsigned kind_mask, uint64_t base, uint64_t size)
{
    struct fast_aux *x = m->fast_aux;
    uint64_t npages = size >> 12;
    for (int c = 0; c < FAST_CTXS; c++) {
        for (int k = 0; k < ACC_KINDS; k++) {
            if (!(kind_mask & (1u << k)))
                continue;
            if (npages >= x->n[c][k]) {
                /* a large page: look only at the slots ever filled */
                for (unsigned i = 0; i < x->n[c][k]; i++) {
                    unsigned slot = x->list[c][k][i];
                    if (m->fast[c].e[k][slot].tag - base < size)
                        drop_slot(m, c, k, slot);
                }
            } else {
                for (uint64_t p = base; p < base + size; p += 4096) {
                    unsigned slot = (unsigned)((p >> 12) & (FAST_ENTRIES - 1));
                    if (m->fast[c].e[k][slot].tag == p)
                        drop_slot(m, c, k, slot);
                }
            }
        }
    }
}

void fast_code_listener(void *opaque, uint64_t gpa_page)
{
    struct mmu *m = opaque;
    struct fast_aux *x = m->fast_aux;
    uint8_t *host = physmem_ram_page(m->pm, gpa_page);
    if (!host)
        return;
    for (int c = 0; c < FAST_CTXS; c++) {
        for (unsigned i = 0; i < x->n[c][ACC_WRITE]; i++) {
            unsigned slot = x->list[c][ACC_WRITE][i];
            struct fast_entry *e = &m->fast[c].e[ACC_WRITE][slot];
            if (e->tag != FAST_TAG_INVALID && e->tag + e->addend == (uintptr_t)host)
                drop_slot(m, c, ACC_WRITE, slot);
        }
    }
}

void fast_map_listener(void *opaque)
{
    fast_flush_all(opaque);
}
