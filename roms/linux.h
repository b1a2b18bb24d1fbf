/* The Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst,
 * "The Linux/x86 Boot Protocol" and "64-bit Boot Protocol"; the zero page layout
 * is Documentation/arch/x86/zero-page.rst).
 *
 * What hvemu does with `-kernel bzImage -initrd FILE -append CMDLINE`:
 * - the setup header (file offset 0x1F1) is validated: "HdrS" at 0x202, boot
 *   protocol >= 2.12, boot_flag 0xAA55, LOADED_HIGH (a bzImage), XLF_KERNEL_64;
 * - the protected-mode kernel (file offset (setup_sects + 1) * 512) goes to
 *   pref_address, which with init_size bytes after it must be free RAM below the
 *   firmware region (roms/e820.h);
 * - the command line (at most cmdline_size bytes) at LINUX_CMDLINE_ADDR, the
 *   zero page at LINUX_BOOT_PARAMS, the initrd page-aligned as high as possible
 *   below min(initrd_addr_max + 1, the firmware region), above the kernel;
 * - identity page tables for the first 4 GiB (2 MiB pages) and a GDT with the
 *   flat __BOOT_CS (0x10) and __BOOT_DS (0x18);
 * - the ACPI tables (roms/acpi.h), whose RSDP goes into boot_params.acpi_rsdp_addr.
 * VP 0 starts at the 64-bit entry (load address + 0x200) with RSI = boot_params;
 * the other VPs stay in WAIT_FOR_SIPI (hv/partition.c does that at creation).
 * Everything is validated before the first byte is written to guest memory.
 */
#ifndef HVEMU_ROMS_LINUX_H
#define HVEMU_ROMS_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct physmem;
struct cpu;

/* Setup header offsets, in the file and in boot_params alike (boot.rst). */
#define LX_SETUP_SECTS      0x1F1
#define LX_BOOT_FLAG        0x1FE   /* 0xAA55 */
#define LX_JUMP             0x200   /* byte 0x201: header end - 0x202 */
#define LX_HEADER           0x202   /* "HdrS" */
#define LX_VERSION          0x206
#define LX_TYPE_OF_LOADER   0x210
#define LX_LOADFLAGS        0x211
#define LX_RAMDISK_IMAGE    0x218
#define LX_RAMDISK_SIZE     0x21C
#define LX_CMD_LINE_PTR     0x228
#define LX_INITRD_ADDR_MAX  0x22C
#define LX_KERNEL_ALIGNMENT 0x230
#define LX_RELOCATABLE      0x234
#define LX_XLOADFLAGS       0x236
#define LX_CMDLINE_SIZE     0x238
#define LX_PREF_ADDRESS     0x258
#define LX_INIT_SIZE        0x260
#define LX_HEADER_MIN_END   0x264   /* through init_size: protocol 2.10+ */

/* boot_params fields outside the setup header (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES     0x1E8
#define BP_SENTINEL         0x1EF
#define BP_E820_TABLE       0x2D0
#define BP_E820_MAX         128
#define BP_SIZE             4096

#define LX_HDRS_MAGIC       0x53726448u     /* "HdrS" */
#define LX_BOOT_FLAG_MAGIC  0xAA55
#define LX_MIN_VERSION      0x020C          /* 2.12: xloadflags */
#define LX_LOADED_HIGH      0x01            /* loadflags bit 0: a bzImage */
#define XLF_KERNEL_64       0x01            /* xloadflags bit 0: 64-bit entry at +0x200 */
#define LX_LOADER_TYPE      0xFF            /* "undefined" boot loader ID */
#define LX_ENTRY64_OFFSET   0x200
#define LX_BOOT_CS          0x10            /* __BOOT_CS */
#define LX_BOOT_DS          0x18            /* __BOOT_DS */

/* hvemu's low-memory layout for the boot (all below the EBDA at 0x9FC00). */
#define LINUX_PML4          0x1000ull
#define LINUX_PDPT          0x2000ull
#define LINUX_PD            0x3000ull       /* 4 pages: 4 GiB of 2 MiB pages */
#define LINUX_GDT           0x7000ull
#define LINUX_BOOT_PARAMS   0x10000ull      /* where QEMU puts the real-mode setup */
#define LINUX_CMDLINE_ADDR  0x20000ull      /* as QEMU */
#define LINUX_CMDLINE_MAX   (0x9F000ull - LINUX_CMDLINE_ADDR)

struct linux_header {
    uint16_t version;
    uint8_t setup_sects;            /* 0 read as 4 */
    uint8_t loadflags;
    uint16_t xloadflags;
    uint8_t relocatable;
    uint32_t kernel_alignment, initrd_addr_max, cmdline_size, init_size;
    uint64_t pref_address;
    uint32_t header_end;            /* file offset one past the setup header */
    uint64_t pm_offset, pm_size;    /* the protected-mode kernel in the file */
};

/* True if the image carries the "HdrS" magic of a Linux setup header. */
bool linux_is_bzimage(const uint8_t *img, size_t len);

/* Parse and validate the setup header.  False with a one-line reason. */
bool linux_parse_header(const uint8_t *img, size_t len, struct linux_header *h,
                        char *err, size_t errlen);

struct linux_result {
    struct linux_header hdr;
    uint64_t kernel_addr, entry, boot_params, cmdline;
    uint64_t initrd_addr, initrd_size;
    uint64_t rsdp;
};

/* Load a bzImage for a machine of nr_vps VPs (the ACPI MADT).  initrd may be NULL.
 * False with a one-line reason in err, and then guest memory is untouched. */
bool linux_load(struct physmem *pm, unsigned nr_vps, const uint8_t *img, size_t len,
                const char *cmdline, const uint8_t *initrd, size_t initrd_len,
                struct linux_result *out, char *err, size_t errlen);

/* Where the initrd goes: the highest page-aligned address with the initrd below
 * min(initrd_addr_max + 1, limit) and at or above floor.  False if none. */
bool linux_place_initrd(uint64_t size, uint32_t initrd_addr_max, uint64_t floor, uint64_t limit,
                        uint64_t *addr);

/* Put a VP in the 64-bit boot state (boot.rst "64-bit Boot Protocol"): long mode,
 * paging on the identity tables, CS = __BOOT_CS (64-bit), DS/ES/SS = __BOOT_DS,
 * interrupts off, RSI = boot_params, RIP = the 64-bit entry. */
void linux_enter(struct cpu *c, const struct linux_result *r);

#endif
