/* The BIOS memory map; the layout and its sources are in roms/e820.h. */
#include "roms/e820.h"

uint64_t e820_low_top(uint64_t ram_size)
{
    return ram_size < E820_LOW_RAM_LIMIT ? ram_size : E820_LOW_RAM_LIMIT;
}

uint64_t e820_fw_base(uint64_t ram_size)
{
    return e820_low_top(ram_size) - E820_FW_SIZE;
}

unsigned e820_build(uint64_t ram_size, struct e820_entry *out)
{
    uint64_t low = e820_low_top(ram_size), fw = e820_fw_base(ram_size);
    unsigned n = 0;
    out[n++] = (struct e820_entry){ 0, E820_LOW_END, E820_RAM };
    out[n++] = (struct e820_entry){ E820_LOW_END, 0xA0000 - E820_LOW_END, E820_RESERVED };
    out[n++] = (struct e820_entry){ E820_BIOS_START, E820_HIGH_START - E820_BIOS_START, E820_RESERVED };
    if (fw > E820_HIGH_START)
        out[n++] = (struct e820_entry){ E820_HIGH_START, fw - E820_HIGH_START, E820_RAM };
    out[n++] = (struct e820_entry){ fw, low - fw, E820_RESERVED };
    out[n++] = (struct e820_entry){ E820_FLASH_BASE, (1ull << 32) - E820_FLASH_BASE, E820_RESERVED };
    if (ram_size > low)
        out[n++] = (struct e820_entry){ 1ull << 32, ram_size - low, E820_RAM };
    return n;
}

void e820_encode(const struct e820_entry *e, uint8_t out[20])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(e->addr >> (8 * i));
        out[8 + i] = (uint8_t)(e->size >> (8 * i));
    }
    for (int i = 0; i < 4; i++)
        out[16 + i] = (uint8_t)(e->type >> (8 * i));
}
