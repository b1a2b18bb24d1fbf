/* ELF32/ELF64 program-header parsing; field offsets from the System V gABI
 * (Elf32_Ehdr / Elf64_Ehdr, Elf32_Phdr / Elf64_Phdr). */
#include "roms/elf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EI_CLASS   4
#define EI_DATA    5
#define EI_VERSION 6
#define ELFDATA2LSB 1
#define ET_EXEC    2
#define ET_DYN     3

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

bool elf_is_elf(const uint8_t *img, size_t len)
{
    return len >= 4 && memcmp(img, "\x7f" "ELF", 4) == 0;
}

bool elf_parse(const uint8_t *img, size_t len, struct elf_image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!elf_is_elf(img, len))
        return fail(err, errlen, "not an ELF file");
    if (len < 52)
        return fail(err, errlen, "truncated ELF header (%zu bytes)", len);
    int cls = img[EI_CLASS];
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return fail(err, errlen, "bad ELF class %d", cls);
    if (img[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, "not a little-endian ELF file");
    if (img[EI_VERSION] != 1)
        return fail(err, errlen, "bad ELF version %d", img[EI_VERSION]);
    bool is64 = cls == ELFCLASS64;
    size_t ehsize = is64 ? 64 : 52;
    if (len < ehsize)
        return fail(err, errlen, "truncated ELF header (%zu bytes)", len);

    uint16_t type = rd16(img + 16);
    if (type != ET_EXEC && type != ET_DYN)
        return fail(err, errlen, "ELF type %u is not an executable", type);
    out->cls = cls;
    out->machine = rd16(img + 18);
    uint64_t phoff;
    uint16_t phentsize, phnum;
    if (is64) {
        out->entry = rd64(img + 24);
        phoff = rd64(img + 32);
        phentsize = rd16(img + 54);
        phnum = rd16(img + 56);
    } else {
        out->entry = rd32(img + 24);
        phoff = rd32(img + 28);
        phentsize = rd16(img + 42);
        phnum = rd16(img + 44);
    }
    size_t min_phent = is64 ? 56 : 32;
    if (phnum == 0)
        return fail(err, errlen, "ELF file has no program headers");
    if (phentsize < min_phent)
        return fail(err, errlen, "bad ELF program header size %u", phentsize);
    if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
        return fail(err, errlen, "truncated ELF file: program headers end past the file (%zu bytes)", len);

    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
        if (rd32(ph) != PT_LOAD)
            continue;
        struct elf_segment s;
        if (is64) {
            s.flags = rd32(ph + 4);
            s.offset = rd64(ph + 8);
            s.vaddr = rd64(ph + 16);
            s.paddr = rd64(ph + 24);
            s.filesz = rd64(ph + 32);
            s.memsz = rd64(ph + 40);
        } else {
            s.offset = rd32(ph + 4);
            s.vaddr = rd32(ph + 8);
            s.paddr = rd32(ph + 12);
            s.filesz = rd32(ph + 16);
            s.memsz = rd32(ph + 20);
            s.flags = rd32(ph + 24);
        }
        if (s.memsz == 0)
            continue;
        if (s.filesz > s.memsz)
            return fail(err, errlen, "ELF segment %u: file size 0x%llx exceeds memory size 0x%llx",
                        i, (unsigned long long)s.filesz, (unsigned long long)s.memsz);
        if (s.offset > len || s.filesz > len - s.offset)
            return fail(err, errlen, "truncated ELF file: segment %u needs bytes up to 0x%llx, the file has 0x%zx",
                        i, (unsigned long long)(s.offset + s.filesz), len);
        if (s.paddr + s.memsz < s.paddr || (!is64 && s.paddr + s.memsz > 0x100000000ull))
            return fail(err, errlen, "ELF segment %u wraps around the address space", i);
        if (out->nseg == ELF_MAX_SEGMENTS)
            return fail(err, errlen, "ELF file has more than %d loadable segments", ELF_MAX_SEGMENTS);
        out->seg[out->nseg++] = s;
    }
    if (out->nseg == 0)
        return fail(err, errlen, "ELF file has no loadable segments");
    return true;
}
