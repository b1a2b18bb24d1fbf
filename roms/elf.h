/* ELF executable parsing for the loaders (System V gABI, "Program Header").
 * Only what a loader needs: class, machine, entry and the PT_LOAD segments, with
 * every offset and size checked against the file so a truncated or hostile image
 * is rejected with a one-line reason instead of being read past its end. */
#ifndef HVEMU_ROMS_ELF_H
#define HVEMU_ROMS_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 64

#define ELFCLASS32 1
#define ELFCLASS64 2
#define EM_386     3
#define EM_X86_64  62
#define PT_LOAD    1

struct elf_segment {
    uint64_t offset;    /* in the file */
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;     /* >= filesz; the rest is zero-filled (.bss) */
    uint32_t flags;
};

struct elf_image {
    int cls;            /* ELFCLASS32 or ELFCLASS64 */
    uint16_t machine;
    uint64_t entry;
    unsigned nseg;      /* PT_LOAD segments with memsz > 0, in file order */
    struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/* True if img starts with the ELF magic (whatever else is wrong with it). */
bool elf_is_elf(const uint8_t *img, size_t len);

/* Parse a little-endian ELF executable.  False with a one-line reason in err. */
bool elf_parse(const uint8_t *img, size_t len, struct elf_image *out, char *err, size_t errlen);

#endif
