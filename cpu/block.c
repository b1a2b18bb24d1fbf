/* The decoded-block cache: see cpu/block.h.
 *
 * Lookup: a hash of (physical address, mode) -> block, matched on the model too.  Invalidation: a second hash,
 * physical page -> the list of that page's blocks, so that a store to a code page
 * (physmem's code-write hook) drops exactly those blocks, in time proportional to
 * their number.  When the page has no blocks left its code mark is cleared, so later
 * stores to it take the fast path again.
 */
#include <stdlib.h>
#include <string.h>
#include "cpu/block.h"
#include "cpu/decode.h"
#include "mmu/physmem.h"

#define PAGE_SIZE 4096u
#define HASH_BITS 14
#define PAGE_HASH_BITS 12
/* Arena sizes: ~64 K blocks and 256 K instructions (about 12 MiB of records). */
#define MAX_BLOCKS (1u << 16)
#define MAX_INSNS  (1u << 18)
#define MAX_PAGES  (1u << 15)

/* Blocks are keyed by the host address of their first byte (with the mode): for RAM
 * and ROM this is a one-to-one image of the guest-physical address, and it lets the
 * run loop find a block straight from the fetch fast-cache entry. */
struct page_ent {
    uintptr_t page;                 /* host address of the page */
    struct block *blocks;
    struct page_ent *next;
};

struct block_cache {
    struct physmem *pm;
    struct cpu *running;
    struct block *hash[1u << HASH_BITS];
    struct page_ent *pages[1u << PAGE_HASH_BITS];
    struct block *blocks;
    struct insn *insns;
    struct page_ent *pents;
    unsigned nblocks, ninsns, npents;
    struct block_cache_stats st;
};

static inline unsigned hash_key(uint64_t key)
{
    return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> (64 - HASH_BITS));
}

static inline unsigned hash_page(uintptr_t page)
{
    return (unsigned)(((page >> 12) * 0x9e3779b97f4a7c15ull) >> (64 - PAGE_HASH_BITS));
}

static void code_write_hook(void *opaque, uint64_t gpa_page);

struct block_cache *block_cache_new(struct physmem *pm)
{
    struct block_cache *bc = calloc(1, sizeof *bc);
    if (!bc)
        return NULL;
    bc->pm = pm;
    bc->blocks = calloc(MAX_BLOCKS, sizeof *bc->blocks);
    bc->insns = calloc(MAX_INSNS, sizeof *bc->insns);
    bc->pents = calloc(MAX_PAGES, sizeof *bc->pents);
    if (!bc->blocks || !bc->insns || !bc->pents) {
        block_cache_free(bc);
        return NULL;
    }
    if (pm)
        physmem_set_code_hook(pm, code_write_hook, bc);
    return bc;
}

void block_cache_free(struct block_cache *bc)
{
    if (!bc)
        return;
    if (bc->pm)
        physmem_set_code_hook(bc->pm, NULL, NULL);
    free(bc->blocks);
    free(bc->insns);
    free(bc->pents);
    free(bc);
}

void block_cache_set_running(struct block_cache *bc, struct cpu *c)
{
    bc->running = c;
}

void block_cache_flush(struct block_cache *bc)
{
    memset(bc->hash, 0, sizeof bc->hash);
    memset(bc->pages, 0, sizeof bc->pages);
    bc->nblocks = bc->ninsns = bc->npents = 0;
    bc->st.flushes++;
    /* Pages stay marked as code; the first store to each finds no blocks and clears it. */
}

void block_cache_get_stats(const struct block_cache *bc, struct block_cache_stats *out)
{
    *out = bc->st;
}

static struct page_ent *page_find(struct block_cache *bc, uintptr_t page, bool create)
{
    struct page_ent **pp = &bc->pages[hash_page(page)];
    for (struct page_ent *p = *pp; p; p = p->next)
        if (p->page == page)
            return p;
    if (!create)
        return NULL;
    struct page_ent *p = &bc->pents[bc->npents++];
    p->page = page;
    p->blocks = NULL;
    p->next = *pp;
    *pp = p;
    return p;
}

/* physmem calls this before a store to a page marked as code. */
static void code_write_hook(void *opaque, uint64_t gpa_page)
{
    struct block_cache *bc = opaque;
    uintptr_t hpage = (uintptr_t)physmem_page_ptr(bc->pm, gpa_page, false);
    struct page_ent **pp = &bc->pages[hash_page(hpage)];
    struct page_ent *p;
    for (p = *pp; p && p->page != hpage; pp = &p->next, p = p->next)
        ;
    if (!hpage)
        p = NULL;
    if (p) {
        *pp = p->next;
        for (struct block *b = p->blocks; b; b = b->pnext) {
            struct block **hp = &bc->hash[hash_key(b->key)];
            while (*hp && *hp != b)
                hp = &(*hp)->hnext;
            if (*hp)
                *hp = b->hnext;
            b->dead = 1;
            bc->st.invalidated_blocks++;
        }
        /* The running VP may be inside one of these blocks: make it leave after the
         * current (storing) instruction. */
        if (bc->running)
            bc->running->attention |= ATTN_BLOCK_END;
    }
    physmem_clear_code(bc->pm, gpa_page);
}

static struct block *build(struct block_cache *bc, uint64_t pa, const uint8_t *page,
                           enum cpu_mode mode, const struct cpu_model *model, uint64_t key)
{
    if (bc->nblocks >= MAX_BLOCKS || bc->ninsns + BLOCK_MAX_INSNS > MAX_INSNS || bc->npents >= MAX_PAGES)
        block_cache_flush(bc);

    struct insn *ins = &bc->insns[bc->ninsns];
    unsigned off = (unsigned)(pa & (PAGE_SIZE - 1)), n = 0;
    while (n < BLOCK_MAX_INSNS && off < PAGE_SIZE) {
        int r = decode_insn(&ins[n], page + off, PAGE_SIZE - off, mode, model);
        if (r == DECODE_NEED_MORE)
            break;                      /* crosses the page end: not part of this block */
        n++;
        if (r < 0 || (ins[n - 1].flags & (IF_BRANCH | IF_ENDS_BLOCK)))
            break;
        off += (unsigned)r;
    }
    if (n == 0)
        return NULL;

    uint64_t page_gpa = pa & ~(uint64_t)(PAGE_SIZE - 1);
    struct page_ent *pe = page_find(bc, (uintptr_t)page, true);
    struct block *b = &bc->blocks[bc->nblocks++];
    bc->ninsns += n;
    b->key = key;
    b->model = model;
    b->insns = ins;
    b->n = (uint16_t)n;
    b->dead = 0;
    b->pnext = pe->blocks;
    pe->blocks = b;
    unsigned h = hash_key(key);
    b->hnext = bc->hash[h];
    bc->hash[h] = b;
    physmem_mark_code(bc->pm, page_gpa);
    bc->st.decoded_blocks++;
    bc->st.decoded_insns += n;
    return b;
}

static inline struct block *find(struct block_cache *bc, uint64_t key, const struct cpu_model *model)
{
    bc->st.lookups++;
    for (struct block *b = bc->hash[hash_key(key)]; b; b = b->hnext) {
        if (b->key == key && b->model == model) {
            bc->st.hits++;
            return b;
        }
    }
    return NULL;
}

struct block *block_find_host(struct block_cache *bc, const uint8_t *host, enum cpu_mode mode,
                              const struct cpu_model *model)
{
    return find(bc, (uint64_t)(uintptr_t)host << 2 | (uint64_t)mode, model);
}

struct block *block_lookup(struct block_cache *bc, uint64_t pa, enum cpu_mode mode,
                           const struct cpu_model *model)
{
    const uint8_t *page = physmem_page_ptr(bc->pm, pa, false);
    if (!page)
        return NULL;                    /* MMIO or nothing: the caller decodes uncached */
    uint64_t key = (uint64_t)(uintptr_t)(page + (pa & (PAGE_SIZE - 1))) << 2 | (uint64_t)mode;
    struct block *b = find(bc, key, model);
    return b ? b : build(bc, pa, page, mode, model, key);
}
