/* Multiboot v1 loading, as `qemu-system-x86_64 -kernel` does it (Multiboot
 * Specification 0.6.96, "Boot information format" and "Machine state").
 *
 * - The header (magic 0x1BADB002, flags, checksum with magic + flags + checksum = 0)
 *   must lie 32-bit aligned, wholly within the first 8192 bytes.
 * - Header flags bits 0-15 are "required": bit 0 (page-align modules) and bit 1
 *   (memory info) are always honoured, bit 2 (video mode) is ignored as QEMU does
 *   (no video info is passed); any other bit in 0-15 makes the image unloadable.
 * - An ELF32 image is loaded from its PT_LOAD segments at their physical addresses.
 *   Otherwise, with flag bit 16 set, the a.out-kludge addresses of the header are
 *   used (this also loads ELF64 kernels that carry the kludge, as GRUB does).
 * - Modules (QEMU's -initrd a,b) are placed page-aligned after the kernel's last
 *   byte (bss included), in order.
 * - The information structure, its command lines, module list and memory map sit
 *   together in the lowest free page-aligned spot at or above MB_INFO_LOW, below
 *   the EBDA at 0x9FC00; if none is free, after the last module.
 * Everything is validated before the first byte is written to guest memory.
 */
#ifndef HVEMU_ROMS_MULTIBOOT_H
#define HVEMU_ROMS_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct physmem;
struct cpu;

#define MB_HEADER_MAGIC   0x1BADB002u
#define MB_BOOT_MAGIC     0x2BADB002u       /* EAX at entry */
#define MB_SEARCH_BYTES   8192
#define MB_HF_PAGE_ALIGN  (1u << 0)
#define MB_HF_MEMINFO     (1u << 1)
#define MB_HF_VIDEO       (1u << 2)
#define MB_HF_AOUT_KLUDGE (1u << 16)
#define MB_HF_SUPPORTED_REQUIRED (MB_HF_PAGE_ALIGN | MB_HF_MEMINFO | MB_HF_VIDEO)

/* multiboot_info flags (what the loader fills in) */
#define MBI_FLAG_MEM       (1u << 0)
#define MBI_FLAG_BOOTDEV   (1u << 1)
#define MBI_FLAG_CMDLINE   (1u << 2)
#define MBI_FLAG_MODS      (1u << 3)
#define MBI_FLAG_MMAP      (1u << 6)
#define MBI_FLAG_LOADER    (1u << 9)

/* multiboot_info field offsets (spec 3.3) */
#define MBI_FLAGS          0
#define MBI_MEM_LOWER      4
#define MBI_MEM_UPPER      8
#define MBI_BOOT_DEVICE    12
#define MBI_CMDLINE        16
#define MBI_MODS_COUNT     20
#define MBI_MODS_ADDR      24
#define MBI_MMAP_LENGTH    44
#define MBI_MMAP_ADDR      48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_SIZE           120      /* up to and including the framebuffer fields */

#define MB_INFO_LOW        0x9000u  /* lowest address tried for the info block */
#define MB_LOW_MEM_END     0x9FC00u /* start of the EBDA in QEMU's e820 map */
#define MB_MAX_MODULES     64
#define MB_MMAP_MAX        8

/* Memory-map entry types (the e820 types the spec reuses). */
#define MB_MEM_AVAILABLE   1
#define MB_MEM_RESERVED    2

struct mb_header {
    uint32_t offset;            /* of the header in the file */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

enum mb_find { MB_FOUND, MB_NOT_FOUND, MB_BAD_CHECKSUM };

/* Find the first header with a valid checksum in the first 8192 bytes.  A magic
 * with a wrong checksum is reported only if no valid header follows it. */
enum mb_find mb_find_header(const uint8_t *img, size_t len, struct mb_header *h);

struct mb_module {
    const uint8_t *data;
    size_t len;
    const char *cmdline;        /* the module's string, e.g. "initrd.img arg=1" */
};

struct mb_mmap_entry {
    uint64_t base, len;
    uint32_t type;
};

/* The machine the loader describes. */
struct mb_result {
    uint32_t entry;
    uint32_t info_addr;                 /* EBX */
    uint32_t kernel_start, kernel_end;  /* lowest and highest+1 loaded byte, bss included */
    unsigned nmods;
    uint32_t mod_start[MB_MAX_MODULES], mod_end[MB_MAX_MODULES];
    unsigned nmmap;
    struct mb_mmap_entry mmap[MB_MMAP_MAX];
};

/* QEMU-like memory map for a machine with ram_size bytes (physmem's layout: RAM
 * below min(ram, 3 GiB), the rest from 4 GiB).  Returns the number of entries. */
unsigned mb_build_mmap(uint64_t ram_size, struct mb_mmap_entry *out);

/* Load img into pm with the given kernel command line and modules.  False with a
 * one-line reason in err, and then guest memory is untouched. */
bool multiboot_load(struct physmem *pm, const uint8_t *img, size_t len, const char *cmdline,
                    const struct mb_module *mods, unsigned nmods,
                    struct mb_result *out, char *err, size_t errlen);

/* Put a VP in the Multiboot machine state (spec 3.2): EAX = 0x2BADB002, EBX = info,
 * EIP = entry, CS a flat 32-bit execute/read code segment, DS/ES/FS/GS/SS flat
 * 32-bit read/write data segments (hidden caches set: base 0, limit 4 GiB - 1),
 * CR0.PE = 1, PG = 0, EFLAGS.IF = 0 and VM = 0.  A20 is always on in hvemu. */
void multiboot_enter(struct cpu *c, const struct mb_result *r);

#endif
