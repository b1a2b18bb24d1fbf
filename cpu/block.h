/* The decoded-block cache (STYLE.md lessons 2 and 9, DESIGN.md §2 step 3).
 *
 * A block is a run of up to BLOCK_MAX_INSNS decoded instructions that starts at a
 * guest-physical address, decoded in one mode, and ends at a branch, at an
 * instruction that ends blocks (IF_ENDS_BLOCK), or before the page end: a block never
 * spans a page, so a write to one code page invalidates exactly that page's blocks.
 * Instructions that cross a page are never cached (the run loop decodes them fresh).
 *
 * One cache serves every VP of a partition (they run one at a time on one host
 * thread).  Blocks are keyed by physical address, so aliased mappings share code and
 * a CR3 switch invalidates nothing, and by the mode and the CPU model they were
 * decoded for (the model decides lengths and meanings where vendors differ).  Memory for blocks comes from two arenas that are
 * reset all at once when full; an invalidated block stays readable until then, so the
 * run loop may finish the instruction it is executing inside a block that a store
 * just invalidated.
 */
#ifndef HVEMU_CPU_BLOCK_H
#define HVEMU_CPU_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu/cpu.h"
#include "cpu/insn.h"

#define BLOCK_MAX_INSNS 32

struct cpu_model;
struct block {
    uint64_t key;               /* host address of the first byte << 2 | mode (see block.c) */
    const struct cpu_model *model;  /* decoded for this model: part of the key */
    struct block *hnext;        /* hash chain */
    struct block *pnext;        /* chain of the blocks of the same page */
    struct insn *insns;
    uint16_t n;                 /* instructions */
    uint8_t dead;               /* invalidated by a write to its page */
};

struct physmem;
struct block_cache;

struct block_cache *block_cache_new(struct physmem *pm);
void block_cache_free(struct block_cache *bc);

/* The block for physical address pa in mode, decoded for model, decoding it from
 * guest memory if needed.  Returns NULL when no block can be cached there: the first
 * instruction crosses the page end, or the page is not RAM/ROM (then the caller
 * decodes one instruction itself). */
struct block *block_lookup(struct block_cache *bc, uint64_t pa, enum cpu_mode mode,
                           const struct cpu_model *model);

/* The cached block starting at host address host (a RAM/ROM byte reached through the
 * fetch fast cache) decoded in mode for model, or NULL; never decodes. */
struct block *block_find_host(struct block_cache *bc, const uint8_t *host, enum cpu_mode mode,
                              const struct cpu_model *model);

/* The VP now running on this cache (NULL when none): the code-write hook sets its
 * ATTN_BLOCK_END so that it leaves a block that a store has just invalidated. */
void block_cache_set_running(struct block_cache *bc, struct cpu *c);

/* Drop every block (e.g. after a snapshot restore). */
void block_cache_flush(struct block_cache *bc);

/* Counters for statistics and tests. */
struct block_cache_stats {
    uint64_t lookups, hits, decoded_blocks, decoded_insns, invalidated_blocks, flushes;
};
void block_cache_get_stats(const struct block_cache *bc, struct block_cache_stats *out);

#endif
