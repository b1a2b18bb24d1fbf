/* Linux bzImage loader, 64-bit boot protocol.  See roms/linux.h for the rules;
 * field offsets are Documentation/arch/x86/boot.rst and zero-page.rst. */
#include "roms/linux.h"
#include "roms/acpi.h"
#include "roms/e820.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"
#include "cpu/cpu.h"
#include "cpu/flags.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096ull
#define MiB (1ull << 20)

/* Page-table entry bits (SDM Vol. 3A 4.5, Tables 4-15..4-18). */
#define PTE_P  0x001ull
#define PTE_RW 0x002ull
#define PTE_PS 0x080ull

/* Flat 4 GiB descriptors (SDM Vol. 3A 3.4.5): 64-bit execute/read code (L = 1)
 * and read/write data, both accessed, DPL 0, G = 1. */
#define GDT_CODE64 0x00AF9B000000FFFFull
#define GDT_DATA   0x00CF93000000FFFFull
#define ATTR_CODE64 (0xB | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G)
#define ATTR_DATA   (0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G)

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

bool linux_is_bzimage(const uint8_t *img, size_t len)
{
    return len >= LX_HEADER + 4 && rd32(img + LX_HEADER) == LX_HDRS_MAGIC;
}

bool linux_parse_header(const uint8_t *img, size_t len, struct linux_header *h,
                        char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    if (!linux_is_bzimage(img, len))
        return fail(err, errlen, "not a Linux kernel (no \"HdrS\" at offset 0x202)");
    if (len < LX_VERSION + 2)
        return fail(err, errlen, "truncated Linux kernel (%zu bytes, the setup header is cut off)", len);
    h->version = rd16(img + LX_VERSION);
    if (h->version < LX_MIN_VERSION)
        return fail(err, errlen, "Linux boot protocol %u.%02u is too old: hvemu needs 2.12 or later (the 64-bit entry)",
                    h->version >> 8, h->version & 0xff);
    h->header_end = LX_HEADER + img[LX_JUMP + 1];
    if (h->header_end < LX_HEADER_MIN_END || len < h->header_end)
        return fail(err, errlen, "truncated or malformed Linux setup header (ends at 0x%x, file has %zu bytes)",
                    h->header_end, len);
    if (rd16(img + LX_BOOT_FLAG) != LX_BOOT_FLAG_MAGIC)
        return fail(err, errlen, "bad Linux boot sector signature (0x%04x at 0x1FE, expected 0xAA55)",
                    rd16(img + LX_BOOT_FLAG));
    h->setup_sects = img[LX_SETUP_SECTS] ? img[LX_SETUP_SECTS] : 4;  /* boot.rst: 0 means 4 */
    h->loadflags = img[LX_LOADFLAGS];
    h->xloadflags = rd16(img + LX_XLOADFLAGS);
    h->relocatable = img[LX_RELOCATABLE];
    h->initrd_addr_max = rd32(img + LX_INITRD_ADDR_MAX);
    h->kernel_alignment = rd32(img + LX_KERNEL_ALIGNMENT);
    h->cmdline_size = rd32(img + LX_CMDLINE_SIZE);
    h->pref_address = rd64(img + LX_PREF_ADDRESS);
    h->init_size = rd32(img + LX_INIT_SIZE);
    if (!(h->loadflags & LX_LOADED_HIGH))
        return fail(err, errlen, "not a bzImage (a zImage loaded low, loadflags 0x%02x)", h->loadflags);
    if (!(h->xloadflags & XLF_KERNEL_64))
        return fail(err, errlen, "the bzImage has no 64-bit entry point (xloadflags 0x%x lacks XLF_KERNEL_64)",
                    h->xloadflags);
    h->pm_offset = (uint64_t)(h->setup_sects + 1) * 512;
    if (h->pm_offset + LX_ENTRY64_OFFSET + 16 > len)
        return fail(err, errlen, "truncated bzImage (%zu bytes; the protected-mode kernel starts at 0x%llx)",
                    len, (unsigned long long)h->pm_offset);
    h->pm_size = len - h->pm_offset;
    if (h->pref_address < MiB || (h->pref_address & (PAGE - 1)))
        return fail(err, errlen, "bzImage pref_address 0x%llx is unusable", (unsigned long long)h->pref_address);
    return true;
}

bool linux_place_initrd(uint64_t size, uint32_t initrd_addr_max, uint64_t floor, uint64_t limit,
                        uint64_t *addr)
{
    uint64_t top = (uint64_t)initrd_addr_max + 1;
    if (limit < top)
        top = limit;
    if (size > top)
        return false;
    uint64_t a = (top - size) & ~(PAGE - 1);
    if (a < floor)
        return false;
    *addr = a;
    return true;
}

/* Identity map of 0-4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> four page directories
 * of 2 MiB pages.  Written as one block from LINUX_PML4. */
static void build_page_tables(uint8_t *blk)
{
    wr64(blk + (LINUX_PML4 - LINUX_PML4), LINUX_PDPT | PTE_P | PTE_RW);
    for (uint64_t i = 0; i < 4; i++) {
        wr64(blk + (LINUX_PDPT - LINUX_PML4) + 8 * i, (LINUX_PD + i * PAGE) | PTE_P | PTE_RW);
        for (uint64_t j = 0; j < 512; j++)
            wr64(blk + (LINUX_PD - LINUX_PML4) + i * PAGE + 8 * j,
                 ((i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS);
    }
    /* GDT: null, null, __BOOT_CS, __BOOT_DS (boot.rst "64-bit Boot Protocol"). */
    wr64(blk + (LINUX_GDT - LINUX_PML4) + LX_BOOT_CS, GDT_CODE64);
    wr64(blk + (LINUX_GDT - LINUX_PML4) + LX_BOOT_DS, GDT_DATA);
}

bool linux_load(struct physmem *pm, unsigned nr_vps, const uint8_t *img, size_t len,
                const char *cmdline, const uint8_t *initrd, size_t initrd_len,
                struct linux_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct linux_header *h = &out->hdr;
    if (!linux_parse_header(img, len, h, err, errlen))
        return false;
    uint64_t ram = physmem_ram_size(pm);
    if (ram < E820_HIGH_START + E820_FW_SIZE + MiB)
        return fail(err, errlen, "%llu MiB of RAM is too little for Linux", (unsigned long long)(ram >> 20));
    uint64_t fw = e820_fw_base(ram);

    /* The kernel: init_size bytes from pref_address (at least the file's payload). */
    uint64_t kaddr = h->pref_address;
    uint64_t ksize = h->init_size > h->pm_size ? h->init_size : h->pm_size;
    uint64_t kend = (kaddr + ksize + PAGE - 1) & ~(PAGE - 1);
    if (kend > fw || !physmem_is_ram(pm, kaddr, ksize))
        return fail(err, errlen, "the kernel needs RAM up to 0x%llx (pref_address 0x%llx + init_size 0x%x): give at least -m %llu",
                    (unsigned long long)kend, (unsigned long long)kaddr, h->init_size,
                    (unsigned long long)((kend + E820_FW_SIZE + MiB - 1) >> 20));
    out->kernel_addr = kaddr;
    out->entry = kaddr + LX_ENTRY64_OFFSET;

    /* The command line. */
    const char *cl = cmdline ? cmdline : "";
    size_t cl_len = strlen(cl);
    if (cl_len > h->cmdline_size || cl_len >= LINUX_CMDLINE_MAX)
        return fail(err, errlen, "kernel command line too long (%zu bytes; this kernel takes at most %u)",
                    cl_len, h->cmdline_size);
    out->cmdline = LINUX_CMDLINE_ADDR;
    out->boot_params = LINUX_BOOT_PARAMS;

    /* The initrd: as high as it goes below the firmware region and initrd_addr_max. */
    if (initrd) {
        if (initrd_len > ram)
            return fail(err, errlen, "the initrd (%zu bytes) is larger than RAM (%llu MiB)",
                        initrd_len, (unsigned long long)(ram >> 20));
        if (!linux_place_initrd(initrd_len, h->initrd_addr_max, kend, fw, &out->initrd_addr))
            return fail(err, errlen, "the initrd (%llu KiB) does not fit in RAM between the kernel's end (0x%llx) and min(initrd_addr_max 0x%x, 0x%llx)",
                        (unsigned long long)(initrd_len >> 10), (unsigned long long)kend,
                        h->initrd_addr_max, (unsigned long long)fw);
        out->initrd_size = initrd_len;
    }

    /* ACPI tables (they write guest memory: everything is validated by now). */
    struct acpi_config acfg = { nr_vps, ram };
    struct acpi_layout al;
    if (!acpi_install(pm, &acfg, &al, err, errlen))
        return false;
    out->rsdp = al.rsdp;

    /* The zero page: the setup header copied in, then the loader's fields. */
    static uint8_t bp[BP_SIZE];
    memset(bp, 0, sizeof bp);
    memcpy(bp + LX_SETUP_SECTS, img + LX_SETUP_SECTS, h->header_end - LX_SETUP_SECTS);
    bp[LX_TYPE_OF_LOADER] = LX_LOADER_TYPE;
    wr32(bp + LX_CMD_LINE_PTR, (uint32_t)out->cmdline);
    wr32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(out->cmdline >> 32));
    wr32(bp + LX_RAMDISK_IMAGE, (uint32_t)out->initrd_addr);
    wr32(bp + LX_RAMDISK_SIZE, (uint32_t)out->initrd_size);
    wr32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(out->initrd_addr >> 32));
    wr32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(out->initrd_size >> 32));
    if (h->version >= 0x020E)
        wr64(bp + BP_ACPI_RSDP_ADDR, out->rsdp);
    struct e820_entry map[E820_MAX];
    unsigned n = e820_build(ram, map);
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++)
        e820_encode(&map[i], bp + BP_E820_TABLE + 20 * i);

    static uint8_t tables[LINUX_GDT + 32 - LINUX_PML4];
    memset(tables, 0, sizeof tables);
    build_page_tables(tables);

    physmem_write_bytes(pm, LINUX_PML4, tables, sizeof tables);
    physmem_write_bytes(pm, out->boot_params, bp, sizeof bp);
    physmem_write_bytes(pm, out->cmdline, cl, cl_len + 1);
    physmem_write_bytes(pm, kaddr, img + h->pm_offset, h->pm_size);
    if (initrd)
        physmem_write_bytes(pm, out->initrd_addr, initrd, initrd_len);
    return true;
}

static void flat(struct segment *s, uint16_t sel, uint16_t attr)
{
    s->base = 0;
    s->limit = 0xffffffffu;
    s->sel = sel;
    s->attr = attr;
}

void linux_enter(struct cpu *c, const struct linux_result *r)
{
    for (int i = 0; i < 16; i++)
        c->gpr[i] = 0;
    c->gpr[RSI] = r->boot_params;
    c->rip = r->entry;
    c->rflags = FL_FIXED1;              /* IF = 0 */
    c->lf.op = LF_NONE;
    flat(&c->seg[SEG_CS], LX_BOOT_CS, ATTR_CODE64);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            flat(&c->seg[s], LX_BOOT_DS, ATTR_DATA);
    c->gdtr.base = LINUX_GDT;
    c->gdtr.limit = LX_BOOT_DS + 7;
    c->idtr.base = 0;
    c->idtr.limit = 0;                  /* the kernel loads its own before enabling interrupts */
    c->cr3 = LINUX_PML4;
    c->cr4 = CR4_PAE;
    c->efer = EFER_LME | EFER_LMA | EFER_NXE;
    c->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
    c->halted = 0;
    c->intr_shadow = 0;
    if (c->mmu) {
        /* In the order a guest would write them. */
        mmu_set_cr3(c->mmu, c->cr3);
        mmu_set_cr4(c->mmu, c->cr4);
        mmu_set_efer(c->mmu, c->efer);
        mmu_set_cr0(c->mmu, c->cr0);
    }
    cpu_update_mode(c);                 /* CPL 0 from SS.DPL; tells the mmu */
}
