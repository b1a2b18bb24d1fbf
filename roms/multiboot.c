/* Multiboot v1 loader.  See roms/multiboot.h for the rules; the layout of the
 * header and of multiboot_info is the Multiboot Specification 0.6.96, 3.1 and 3.3. */
#include "roms/multiboot.h"
#include "roms/elf.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"
#include "cpu/cpu.h"
#include "cpu/flags.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096ull
#define GiB (1ull << 30)
#define LOW_RAM_LIMIT (3 * GiB)         /* physmem: RAM above 3 GiB moves to 4 GiB */

/* Selectors as QEMU's multiboot option ROM sets them (pc-bios/optionrom/multiboot.S:
 * its GDT has the flat code segment at 0x10 and the flat data segment at 0x18). */
#define MB_SEL_CODE 0x10
#define MB_SEL_DATA 0x18

/* Hidden-cache attributes (struct segment .attr): type, S, DPL 0, P, D/B, G. */
#define MB_ATTR_CODE (0xB | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G)  /* exec/read, accessed */
#define MB_ATTR_DATA (0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G)  /* read/write, accessed */

/* QEMU's multiboot.c passes these: boot_device "no disk" and loader name "qemu";
 * we name ourselves, and QEMU's mem_lower of 640 KiB. */
#define MB_BOOT_DEVICE  0x8000ffffu
#define MB_MEM_LOWER_KB 640u
#define MB_LOADER_NAME  "hvemu"

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }
static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

enum mb_find mb_find_header(const uint8_t *img, size_t len, struct mb_header *h)
{
    enum mb_find res = MB_NOT_FOUND;
    /* The whole 12-byte mandatory part must lie within the first 8192 bytes. */
    size_t limit = len < MB_SEARCH_BYTES ? len : MB_SEARCH_BYTES;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        if (rd32(img + off) != MB_HEADER_MAGIC)
            continue;
        uint32_t flags = rd32(img + off + 4), sum = rd32(img + off + 8);
        if ((uint32_t)(MB_HEADER_MAGIC + flags + sum) != 0) {
            res = MB_BAD_CHECKSUM;
            continue;
        }
        memset(h, 0, sizeof *h);
        h->offset = (uint32_t)off;
        h->flags = flags;
        if ((flags & MB_HF_AOUT_KLUDGE) && off + 32 <= len) {
            h->header_addr = rd32(img + off + 12);
            h->load_addr = rd32(img + off + 16);
            h->load_end_addr = rd32(img + off + 20);
            h->bss_end_addr = rd32(img + off + 24);
            h->entry_addr = rd32(img + off + 28);
        }
        return MB_FOUND;
    }
    return res;
}

unsigned mb_build_mmap(uint64_t ram_size, struct mb_mmap_entry *out)
{
    /* The map SeaBIOS gives a QEMU pc machine: conventional memory up to the EBDA,
     * the EBDA and the BIOS area reserved, RAM from 1 MiB, the BIOS flash alias
     * below 4 GiB reserved, and the RAM above 3 GiB relocated to 4 GiB. */
    uint64_t low = ram_size < LOW_RAM_LIMIT ? ram_size : LOW_RAM_LIMIT;
    unsigned n = 0;
    out[n++] = (struct mb_mmap_entry){ 0, MB_LOW_MEM_END, MB_MEM_AVAILABLE };
    out[n++] = (struct mb_mmap_entry){ MB_LOW_MEM_END, 0xA0000 - MB_LOW_MEM_END, MB_MEM_RESERVED };
    out[n++] = (struct mb_mmap_entry){ 0xF0000, 0x10000, MB_MEM_RESERVED };
    if (low > 0x100000)
        out[n++] = (struct mb_mmap_entry){ 0x100000, low - 0x100000, MB_MEM_AVAILABLE };
    out[n++] = (struct mb_mmap_entry){ 0xFFFC0000, 0x40000, MB_MEM_RESERVED };
    if (ram_size > low)
        out[n++] = (struct mb_mmap_entry){ 4 * GiB, ram_size - low, MB_MEM_AVAILABLE };
    return n;
}

/* One piece of the kernel image: bytes [offset, offset + filesz) of the file at
 * physical address addr, followed by memsz - filesz zero bytes. */
struct piece {
    uint64_t addr, offset, filesz, memsz;
};

static bool plan_elf(const uint8_t *img, size_t len, struct piece *pc, unsigned *npc,
                     uint32_t *entry, char *err, size_t errlen)
{
    static struct elf_image e;          /* 2.5 KiB: keep it off the stack */
    if (!elf_parse(img, len, &e, err, errlen))
        return false;
    if (e.machine != EM_386 && e.machine != EM_X86_64)
        return fail(err, errlen, "ELF machine %u is not x86", e.machine);
    bool entry_ok = false;
    uint64_t ent = e.entry;
    for (unsigned i = 0; i < e.nseg; i++) {
        const struct elf_segment *s = &e.seg[i];
        pc[i] = (struct piece){ s->paddr, s->offset, s->filesz, s->memsz };
        if (ent >= s->paddr && ent - s->paddr < s->memsz)
            entry_ok = true;
    }
    /* A kernel linked at a virtual address: translate the entry through the segment
     * that holds it, as QEMU's loader does with the ELF's physical addresses. */
    for (unsigned i = 0; !entry_ok && i < e.nseg; i++) {
        const struct elf_segment *s = &e.seg[i];
        if (ent >= s->vaddr && ent - s->vaddr < s->memsz) {
            ent = s->paddr + (ent - s->vaddr);
            entry_ok = true;
        }
    }
    if (!entry_ok)
        return fail(err, errlen, "ELF entry point 0x%llx is outside every loadable segment",
                    (unsigned long long)e.entry);
    *npc = e.nseg;
    *entry = (uint32_t)ent;
    return true;
}

static bool plan_aout(const struct mb_header *h, size_t len, struct piece *pc, uint32_t *entry,
                      char *err, size_t errlen)
{
    if (h->offset + 32 > len)
        return fail(err, errlen, "truncated Multiboot header (the a.out-kludge addresses are missing)");
    if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > h->offset)
        return fail(err, errlen, "Multiboot header: header_addr 0x%x and load_addr 0x%x do not match the file",
                    h->header_addr, h->load_addr);
    uint64_t file_off = h->offset - (h->header_addr - h->load_addr);
    uint64_t load_size;
    if (h->load_end_addr == 0) {
        load_size = len - file_off;
    } else {
        if (h->load_end_addr < h->load_addr)
            return fail(err, errlen, "Multiboot header: load_end_addr 0x%x is below load_addr 0x%x",
                        h->load_end_addr, h->load_addr);
        load_size = h->load_end_addr - h->load_addr;
        if (load_size > len - file_off)
            return fail(err, errlen, "truncated kernel: the Multiboot header asks for 0x%llx bytes from offset 0x%llx, the file has 0x%zx",
                        (unsigned long long)load_size, (unsigned long long)file_off, len);
    }
    uint64_t memsz = load_size;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < h->load_addr + load_size)
            return fail(err, errlen, "Multiboot header: bss_end_addr 0x%x is below the end of the loaded image",
                        h->bss_end_addr);
        memsz = h->bss_end_addr - h->load_addr;
    }
    if (h->load_addr + memsz > 0x100000000ull)
        return fail(err, errlen, "Multiboot a.out-kludge image runs past 4 GiB");
    *pc = (struct piece){ h->load_addr, file_off, load_size, memsz };
    *entry = h->entry_addr;
    return true;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static void write_zeros(struct physmem *pm, uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[4096];
    while (len) {
        size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
        physmem_write_bytes(pm, gpa, zeros, n);
        gpa += n;
        len -= n;
    }
}

bool multiboot_load(struct physmem *pm, const uint8_t *img, size_t len, const char *cmdline,
                    const struct mb_module *mods, unsigned nmods,
                    struct mb_result *out, char *err, size_t errlen)
{
    static struct piece pc[ELF_MAX_SEGMENTS];
    unsigned npc = 0;
    struct mb_header h;
    uint64_t ram = physmem_ram_size(pm);

    memset(out, 0, sizeof *out);
    switch (mb_find_header(img, len, &h)) {
    case MB_NOT_FOUND: {
        /* A cut-off ELF file loses its header too: say what is really wrong with it. */
        static struct elf_image e;
        if (elf_is_elf(img, len) && !elf_parse(img, len, &e, err, errlen))
            return false;
        return fail(err, errlen, "not a Multiboot kernel (no Multiboot header in the first %d bytes)", MB_SEARCH_BYTES);
    }
    case MB_BAD_CHECKSUM:
        return fail(err, errlen, "bad Multiboot header checksum");
    case MB_FOUND:
        break;
    }
    uint32_t unsupported = h.flags & 0xffff & ~MB_HF_SUPPORTED_REQUIRED;
    if (unsupported)
        return fail(err, errlen, "the Multiboot header requires features hvemu does not provide (flags 0x%x)", unsupported);
    if (nmods > MB_MAX_MODULES)
        return fail(err, errlen, "too many modules (%u, at most %d)", nmods, MB_MAX_MODULES);

    bool is_elf32 = elf_is_elf(img, len) && len > 4 && img[4] == ELFCLASS32;
    if (is_elf32) {
        if (!plan_elf(img, len, pc, &npc, &out->entry, err, errlen))
            return false;
    } else if (h.flags & MB_HF_AOUT_KLUDGE) {
        if (!plan_aout(&h, len, pc, &out->entry, err, errlen))
            return false;
        npc = 1;
    } else if (elf_is_elf(img, len)) {
        return fail(err, errlen, "64-bit ELF kernel without Multiboot load addresses (flag 16): give a 32-bit one");
    } else {
        return fail(err, errlen, "not ELF, and the Multiboot header has no load addresses (flag 16 clear)");
    }

    /* Where everything goes, checked before anything is written. */
    uint64_t kstart = UINT64_MAX, kend = 0;
    for (unsigned i = 0; i < npc; i++) {
        if (pc[i].addr + pc[i].memsz > 0x100000000ull || !physmem_is_ram(pm, pc[i].addr, pc[i].memsz))
            return fail(err, errlen, "kernel segment 0x%llx-0x%llx is outside RAM (%llu MiB)",
                        (unsigned long long)pc[i].addr, (unsigned long long)(pc[i].addr + pc[i].memsz - 1),
                        (unsigned long long)(ram >> 20));
        if (pc[i].addr < kstart) kstart = pc[i].addr;
        if (pc[i].addr + pc[i].memsz > kend) kend = pc[i].addr + pc[i].memsz;
    }
    out->kernel_start = (uint32_t)kstart;
    out->kernel_end = (uint32_t)kend;

    uint64_t next = align_up(kend, PAGE);
    for (unsigned i = 0; i < nmods; i++) {
        if (next + mods[i].len > 0x100000000ull || !physmem_is_ram(pm, next, mods[i].len ? mods[i].len : 1))
            return fail(err, errlen, "module %u (%zu bytes) does not fit in RAM after the kernel (%llu MiB of RAM)",
                        i + 1, mods[i].len, (unsigned long long)(ram >> 20));
        out->mod_start[i] = (uint32_t)next;
        out->mod_end[i] = (uint32_t)(next + mods[i].len);
        next = align_up(next + mods[i].len, PAGE);
    }
    out->nmods = nmods;
    out->nmmap = mb_build_mmap(ram, out->mmap);

    /* The info block: struct, memory map, module list, then the strings. */
    uint64_t off_mmap = align_up(MBI_SIZE, 8);
    uint64_t off_mods = off_mmap + out->nmmap * 24ull;
    uint64_t off_str = off_mods + nmods * 16ull;
    uint64_t total = off_str + sizeof MB_LOADER_NAME + (cmdline ? strlen(cmdline) + 1 : 0);
    for (unsigned i = 0; i < nmods; i++)
        total += strlen(mods[i].cmdline ? mods[i].cmdline : "") + 1;
    uint64_t info = 0;
    for (uint64_t a = MB_INFO_LOW; a + total <= MB_LOW_MEM_END && !info; a += PAGE) {
        bool free_here = physmem_is_ram(pm, a, total) && !overlaps(a, total, kstart, kend - kstart);
        for (unsigned i = 0; i < nmods && free_here; i++)
            free_here = !overlaps(a, total, out->mod_start[i], out->mod_end[i] - out->mod_start[i]);
        if (free_here)
            info = a;
    }
    if (!info) {
        if (next + total > 0x100000000ull || !physmem_is_ram(pm, next, total))
            return fail(err, errlen, "no room in RAM for the Multiboot information (%llu MiB of RAM)",
                        (unsigned long long)(ram >> 20));
        info = next;
    }
    out->info_addr = (uint32_t)info;

    /* Build the block in host memory, then copy everything in. */
    static uint8_t blk[64 * 1024];
    if (total > sizeof blk)
        return fail(err, errlen, "command lines too long (%llu bytes of Multiboot information)", (unsigned long long)total);
    memset(blk, 0, total);
    uint32_t flags = MBI_FLAG_MEM | MBI_FLAG_BOOTDEV | MBI_FLAG_MODS | MBI_FLAG_MMAP | MBI_FLAG_LOADER;
    uint64_t low = ram < LOW_RAM_LIMIT ? ram : LOW_RAM_LIMIT;
    wr32(blk + MBI_MEM_LOWER, MB_MEM_LOWER_KB);
    wr32(blk + MBI_MEM_UPPER, (uint32_t)(low / 1024 - 1024));  /* KiB from 1 MiB to the first hole, as QEMU */
    wr32(blk + MBI_BOOT_DEVICE, MB_BOOT_DEVICE);
    for (unsigned i = 0; i < out->nmmap; i++) {
        uint8_t *e = blk + off_mmap + i * 24;
        wr32(e, 20);                    /* size of the entry, not counting this field */
        wr64(e + 4, out->mmap[i].base);
        wr64(e + 12, out->mmap[i].len);
        wr32(e + 20, out->mmap[i].type);
    }
    wr32(blk + MBI_MMAP_LENGTH, out->nmmap * 24);
    wr32(blk + MBI_MMAP_ADDR, (uint32_t)(info + off_mmap));
    wr32(blk + MBI_MODS_COUNT, nmods);
    wr32(blk + MBI_MODS_ADDR, (uint32_t)(info + off_mods));
    uint64_t s = off_str;
    memcpy(blk + s, MB_LOADER_NAME, sizeof MB_LOADER_NAME);
    wr32(blk + MBI_BOOT_LOADER_NAME, (uint32_t)(info + s));
    s += sizeof MB_LOADER_NAME;
    if (cmdline) {
        flags |= MBI_FLAG_CMDLINE;
        size_t n = strlen(cmdline) + 1;
        memcpy(blk + s, cmdline, n);
        wr32(blk + MBI_CMDLINE, (uint32_t)(info + s));
        s += n;
    }
    for (unsigned i = 0; i < nmods; i++) {
        uint8_t *m = blk + off_mods + i * 16;
        const char *str = mods[i].cmdline ? mods[i].cmdline : "";
        size_t n = strlen(str) + 1;
        wr32(m, out->mod_start[i]);
        wr32(m + 4, out->mod_end[i]);
        wr32(m + 8, (uint32_t)(info + s));
        wr32(m + 12, 0);
        memcpy(blk + s, str, n);
        s += n;
    }
    wr32(blk + MBI_FLAGS, flags);

    for (unsigned i = 0; i < npc; i++) {
        physmem_write_bytes(pm, pc[i].addr, img + pc[i].offset, pc[i].filesz);
        write_zeros(pm, pc[i].addr + pc[i].filesz, pc[i].memsz - pc[i].filesz);
    }
    for (unsigned i = 0; i < nmods; i++)
        physmem_write_bytes(pm, out->mod_start[i], mods[i].data, mods[i].len);
    physmem_write_bytes(pm, info, blk, total);
    return true;
}

static void flat_segment(struct segment *s, uint16_t sel, uint16_t attr)
{
    s->base = 0;
    s->limit = 0xffffffffu;
    s->sel = sel;
    s->attr = attr;
}

void multiboot_enter(struct cpu *c, const struct mb_result *r)
{
    for (int i = 0; i < 16; i++)
        c->gpr[i] = 0;
    c->gpr[RAX] = MB_BOOT_MAGIC;
    c->gpr[RBX] = r->info_addr;
    c->rip = r->entry;
    c->rflags = FL_FIXED1;              /* IF = 0, VM = 0, everything else clear */
    c->lf.op = LF_NONE;                 /* the arithmetic bits of rflags are authoritative */
    flat_segment(&c->seg[SEG_CS], MB_SEL_CODE, MB_ATTR_CODE);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            flat_segment(&c->seg[s], MB_SEL_DATA, MB_ATTR_DATA);
    c->cr0 = CR0_PE | CR0_ET;           /* PG = 0; ET is hard-wired to 1 since the i486 */
    c->cr4 = 0;
    c->efer = 0;
    c->halted = 0;
    c->intr_shadow = 0;
    if (c->mmu) {
        mmu_set_cr0(c->mmu, c->cr0);
        mmu_set_cr4(c->mmu, c->cr4);
        mmu_set_efer(c->mmu, c->efer);
    }
    cpu_update_mode(c);
}
