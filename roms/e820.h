/* The BIOS memory map (INT 15h E820) hvemu hands to a Linux kernel in boot_params
 * (ACPI 6.4 §15 "System Address Map Interfaces"; Linux Documentation/arch/x86/zero-page.rst).
 *
 * The shape is the one SeaBIOS gives a QEMU pc machine (see
 * /work/shared/reference/dmesg-debian-6.1-cloud-qemu-tcg-smp2.txt, "BIOS-e820"):
 *   [0, 0x9FC00)              usable     conventional memory
 *   [0x9FC00, 0xA0000)        reserved   the EBDA
 *   [0xF0000, 0x100000)       reserved   the BIOS area (hvemu's RSDP lives here)
 *   [1 MiB, acpi_base)        usable
 *   [acpi_base, low_top)      reserved   the firmware tables (ACPI), top of low RAM
 *   [0xFFFC0000, 4 GiB)       reserved   the BIOS flash alias
 *   [4 GiB, 4 GiB + rest)     usable     RAM above 3 GiB, relocated (mmu/physmem.h)
 */
#ifndef HVEMU_ROMS_E820_H
#define HVEMU_ROMS_E820_H

#include <stdint.h>

#define E820_RAM       1
#define E820_RESERVED  2
#define E820_ACPI      3        /* ACPI reclaimable */
#define E820_MAX       16

#define E820_LOW_END    0x9FC00ull      /* start of the EBDA */
#define E820_BIOS_START 0xF0000ull
#define E820_HIGH_START 0x100000ull     /* 1 MiB */
#define E820_FLASH_BASE 0xFFFC0000ull
#define E820_LOW_RAM_LIMIT (3ull << 30) /* physmem: RAM above 3 GiB moves to 4 GiB */

/* The size of the firmware-table region carved from the top of low RAM. */
#define E820_FW_SIZE    0x20000ull      /* 128 KiB, as SeaBIOS's on QEMU */

struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
};

/* Top of RAM below 4 GiB for a machine with ram_size bytes. */
uint64_t e820_low_top(uint64_t ram_size);
/* Where the firmware tables go: the last E820_FW_SIZE bytes of low RAM. */
uint64_t e820_fw_base(uint64_t ram_size);

/* The map for ram_size bytes of RAM (at least 2 MiB + E820_FW_SIZE); returns the
 * number of entries written to out (at most E820_MAX), sorted by address. */
unsigned e820_build(uint64_t ram_size, struct e820_entry *out);

/* The 20-byte little-endian entry format of boot_params.e820_table (zero-page.rst):
 * u64 addr, u64 size, u32 type. */
void e820_encode(const struct e820_entry *e, uint8_t out[20]);

#endif
