/* The Multiboot v1 loader: header search, checksum, ELF32 and a.out-kludge loading,
 * truncated and misplaced images, module placement, the information structure and
 * the entry state (Multiboot Specification 0.6.96, sections 3.1-3.3). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "mmu/physmem.h"
#include "roms/elf.h"
#include "roms/multiboot.h"

#define RAM (16ull << 20)
#define MIB (1u << 20)

static struct physmem *pm;
static char err[256];

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static uint32_t g32(uint64_t gpa)
{
    uint8_t b[4];
    physmem_read_bytes(pm, gpa, b, 4);
    return rd32(b);
}

static uint64_t g64(uint64_t gpa) { return g32(gpa) | (uint64_t)g32(gpa + 4) << 32; }

static void gstr(uint64_t gpa, char *buf, size_t n)
{
    physmem_read_bytes(pm, gpa, buf, n);
    buf[n - 1] = 0;
}

static void setup(void)
{
    const char *why = NULL;
    pm = physmem_new(RAM, &why);
    ck_assert_msg(pm != NULL, "physmem_new: %s", why ? why : "?");
    /* Garbage everywhere, so zero-filling and "untouched" can be checked. */
    static uint8_t junk[4096];
    memset(junk, 0xAA, sizeof junk);
    for (uint64_t a = 0; a < RAM; a += sizeof junk)
        physmem_write_bytes(pm, a, junk, sizeof junk);
    err[0] = 0;
}

static void teardown(void)
{
    physmem_free(pm);
}

static void put_mb_header(uint8_t *p, uint32_t flags)
{
    wr32(p, MB_HEADER_MAGIC);
    wr32(p + 4, flags);
    wr32(p + 8, (uint32_t)-(MB_HEADER_MAGIC + flags));
}

struct tseg { uint32_t paddr, vaddr, filesz, memsz; uint8_t fill; };

/* An ELF32 executable: header, program headers, the Multiboot header at 0x80 and
 * each segment's bytes (filled with seg.fill) from file offset 0x1000 on. */
static uint8_t *make_elf32(size_t *len, uint32_t entry, const struct tseg *s, unsigned n, uint32_t mbflags)
{
    size_t off = 0x1000;
    for (unsigned i = 0; i < n; i++)
        off += s[i].filesz;
    uint8_t *img = calloc(1, off);
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = ELFCLASS32;
    img[5] = 1;             /* little-endian */
    img[6] = 1;             /* version */
    wr16(img + 16, 2);      /* ET_EXEC */
    wr16(img + 18, EM_386);
    wr32(img + 20, 1);
    wr32(img + 24, entry);
    wr32(img + 28, 52);     /* e_phoff */
    wr16(img + 40, 52);     /* e_ehsize */
    wr16(img + 42, 32);     /* e_phentsize */
    wr16(img + 44, (uint16_t)n);
    put_mb_header(img + 0x80, mbflags);
    size_t data = 0x1000;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *ph = img + 52 + 32 * i;
        wr32(ph, PT_LOAD);
        wr32(ph + 4, (uint32_t)data);
        wr32(ph + 8, s[i].vaddr);
        wr32(ph + 12, s[i].paddr);
        wr32(ph + 16, s[i].filesz);
        wr32(ph + 20, s[i].memsz);
        wr32(ph + 24, 5);
        memset(img + data, s[i].fill, s[i].filesz);
        data += s[i].filesz;
    }
    *len = off;
    return img;
}

/* ---- header search ---------------------------------------------------------- */

START_TEST(test_header_search_limits)
{
    static uint8_t img[16384];
    struct mb_header h;
    memset(img, 0, sizeof img);
    ck_assert_int_eq(mb_find_header(img, sizeof img, &h), MB_NOT_FOUND);

    put_mb_header(img + 8192 - 12, 0);          /* last position wholly inside 8 KiB */
    ck_assert_int_eq(mb_find_header(img, sizeof img, &h), MB_FOUND);
    ck_assert_uint_eq(h.offset, 8192 - 12);

    memset(img, 0, sizeof img);
    put_mb_header(img + 8192 - 8, 0);           /* straddles the limit */
    ck_assert_int_eq(mb_find_header(img, sizeof img, &h), MB_NOT_FOUND);

    memset(img, 0, sizeof img);
    put_mb_header(img + 8192, 0);               /* beyond it */
    ck_assert_int_eq(mb_find_header(img, sizeof img, &h), MB_NOT_FOUND);

    memset(img, 0, sizeof img);
    put_mb_header(img + 0x102, 0);              /* not 32-bit aligned */
    ck_assert_int_eq(mb_find_header(img, sizeof img, &h), MB_NOT_FOUND);

    memset(img, 0, sizeof img);
    put_mb_header(img + 8, 0);
    ck_assert_int_eq(mb_find_header(img, 16, &h), MB_NOT_FOUND);   /* file ends inside it */
}
END_TEST

START_TEST(test_header_checksum)
{
    static uint8_t img[4096];
    struct mb_header h;
    memset(img, 0, sizeof img);
    put_mb_header(img + 64, MB_HF_PAGE_ALIGN | MB_HF_MEMINFO);
    img[64 + 8] ^= 1;                           /* break the checksum */
    ck_assert_int_eq(mb_find_header(img, sizeof img, &h), MB_BAD_CHECKSUM);
    put_mb_header(img + 256, MB_HF_MEMINFO);    /* a good one later wins */
    ck_assert_int_eq(mb_find_header(img, sizeof img, &h), MB_FOUND);
    ck_assert_uint_eq(h.offset, 256);
    ck_assert_uint_eq(h.flags, MB_HF_MEMINFO);

    struct mb_result r;
    memset(img + 256, 0, 12);
    ck_assert(!multiboot_load(pm, img, sizeof img, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "checksum") != NULL, "%s", err);
}
END_TEST

START_TEST(test_not_multiboot)
{
    static uint8_t img[20000];
    struct mb_result r;
    memset(img, 0x90, sizeof img);
    ck_assert(!multiboot_load(pm, img, sizeof img, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "not a Multiboot kernel") != NULL, "%s", err);
    ck_assert(!multiboot_load(pm, img, 0, NULL, NULL, 0, &r, err, sizeof err));
}
END_TEST

/* ---- ELF32 loading ---------------------------------------------------------- */

START_TEST(test_elf_load_and_info)
{
    struct tseg s[2] = {
        { 0x100000, 0x100000, 0x2000, 0x2000, 0x11 },
        { 0x104000, 0x104000, 0x800, 0x3000, 0x22 },    /* 0x2800 bytes of bss */
    };
    size_t len;
    uint8_t *img = make_elf32(&len, 0x100010, s, 2, MB_HF_PAGE_ALIGN | MB_HF_MEMINFO);
    struct mb_result r;
    ck_assert_msg(multiboot_load(pm, img, len, "kernel.elf console=ttyS0", NULL, 0, &r, err, sizeof err), "%s", err);
    ck_assert_uint_eq(r.entry, 0x100010);
    ck_assert_uint_eq(r.kernel_start, 0x100000);
    ck_assert_uint_eq(r.kernel_end, 0x107000);

    uint8_t b[1];
    physmem_read_bytes(pm, 0x100000, b, 1);  ck_assert_uint_eq(b[0], 0x11);
    physmem_read_bytes(pm, 0x101fff, b, 1);  ck_assert_uint_eq(b[0], 0x11);
    physmem_read_bytes(pm, 0x102000, b, 1);  ck_assert_uint_eq(b[0], 0xAA);    /* gap untouched */
    physmem_read_bytes(pm, 0x1047ff, b, 1);  ck_assert_uint_eq(b[0], 0x22);
    physmem_read_bytes(pm, 0x104800, b, 1);  ck_assert_uint_eq(b[0], 0x00);    /* bss zeroed */
    physmem_read_bytes(pm, 0x106fff, b, 1);  ck_assert_uint_eq(b[0], 0x00);
    physmem_read_bytes(pm, 0x107000, b, 1);  ck_assert_uint_eq(b[0], 0xAA);

    uint64_t mbi = r.info_addr;
    ck_assert_uint_ge(mbi, MB_INFO_LOW);
    ck_assert_uint_lt(mbi + MBI_SIZE, MB_LOW_MEM_END);
    uint32_t flags = g32(mbi + MBI_FLAGS);
    ck_assert_uint_eq(flags, MBI_FLAG_MEM | MBI_FLAG_BOOTDEV | MBI_FLAG_CMDLINE | MBI_FLAG_MODS
                             | MBI_FLAG_MMAP | MBI_FLAG_LOADER);
    ck_assert_uint_eq(g32(mbi + MBI_MEM_LOWER), 640);
    ck_assert_uint_eq(g32(mbi + MBI_MEM_UPPER), RAM / 1024 - 1024);
    char str[64];
    gstr(g32(mbi + MBI_CMDLINE), str, sizeof str);
    ck_assert_str_eq(str, "kernel.elf console=ttyS0");
    gstr(g32(mbi + MBI_BOOT_LOADER_NAME), str, sizeof str);
    ck_assert_str_eq(str, "hvemu");
    ck_assert_uint_eq(g32(mbi + MBI_MODS_COUNT), 0);

    /* The memory map: 20-byte entries preceded by their size, QEMU's layout. */
    uint32_t mlen = g32(mbi + MBI_MMAP_LENGTH), maddr = g32(mbi + MBI_MMAP_ADDR);
    ck_assert_uint_eq(mlen, 5 * 24);
    ck_assert_uint_eq(r.nmmap, 5);
    uint64_t avail_above_1m = 0;
    for (uint32_t a = maddr; a < maddr + mlen; a += g32(a) + 4) {
        ck_assert_uint_eq(g32(a), 20);
        uint64_t base = g64(a + 4), l = g64(a + 12);
        uint32_t type = g32(a + 20);
        if (base == 0)
            ck_assert(l == 0x9fc00 && type == MB_MEM_AVAILABLE);
        if (base == 0x100000) {
            ck_assert_uint_eq(type, MB_MEM_AVAILABLE);
            avail_above_1m = l;
        }
        if (base == 0xf0000)
            ck_assert_uint_eq(type, MB_MEM_RESERVED);
    }
    ck_assert_uint_eq(avail_above_1m, RAM - MIB);
    free(img);
}
END_TEST

START_TEST(test_elf_virtual_entry)
{
    /* Linked at 0xC0100000, loaded at 1 MiB: the entry is translated. */
    struct tseg s = { 0x100000, 0xC0100000u, 0x1000, 0x1000, 0x33 };
    size_t len;
    uint8_t *img = make_elf32(&len, 0xC0100020u, &s, 1, 0);
    struct mb_result r;
    ck_assert_msg(multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err), "%s", err);
    ck_assert_uint_eq(r.entry, 0x100020);
    ck_assert_uint_eq(g32(r.info_addr) & MBI_FLAG_CMDLINE, 0);     /* no command line given */
    free(img);

    img = make_elf32(&len, 0x500000, &s, 1, 0);                    /* entry in no segment */
    ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "entry point") != NULL, "%s", err);
    free(img);
}
END_TEST

START_TEST(test_elf_truncated)
{
    struct tseg s = { 0x100000, 0x100000, 0x3000, 0x3000, 0x44 };
    size_t len;
    uint8_t *img = make_elf32(&len, 0x100000, &s, 1, 0);
    struct mb_result r;
    /* Cut inside the segment data, inside the program headers, inside the ELF header. */
    size_t cuts[] = { len - 1, 0x1000 + 0x10, 52 + 16, 40 };
    for (unsigned i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        err[0] = 0;
        ck_assert_msg(!multiboot_load(pm, img, cuts[i], NULL, NULL, 0, &r, err, sizeof err), "cut %zu loaded", cuts[i]);
        ck_assert_msg(strstr(err, "truncated") != NULL, "cut %zu: %s", cuts[i], err);
    }
    uint8_t b[1];
    physmem_read_bytes(pm, 0x100000, b, 1);
    ck_assert_uint_eq(b[0], 0xAA);              /* nothing was written */
    physmem_read_bytes(pm, MB_INFO_LOW, b, 1);
    ck_assert_uint_eq(b[0], 0xAA);
    free(img);
}
END_TEST

START_TEST(test_elf_bad_fields)
{
    struct tseg s = { 0x100000, 0x100000, 0x100, 0x80, 0x55 };       /* filesz > memsz */
    size_t len;
    uint8_t *img = make_elf32(&len, 0x100000, &s, 1, 0);
    struct elf_image e;
    ck_assert(!elf_parse(img, len, &e, err, sizeof err));
    ck_assert_msg(strstr(err, "exceeds memory size") != NULL, "%s", err);
    free(img);

    s = (struct tseg){ 0x100000, 0x100000, 0x100, 0x100, 0x55 };
    img = make_elf32(&len, 0x100000, &s, 1, 0);
    img[5] = 2;                                 /* big-endian */
    ck_assert(!elf_parse(img, len, &e, err, sizeof err));
    img[5] = 1;
    wr16(img + 44, 0);                          /* no program headers */
    ck_assert(!elf_parse(img, len, &e, err, sizeof err));
    wr16(img + 44, 1);
    wr16(img + 42, 16);                         /* phentsize too small */
    ck_assert(!elf_parse(img, len, &e, err, sizeof err));
    wr16(img + 42, 32);
    wr32(img + 28, 0xfffffff0u);                /* e_phoff far beyond the file */
    ck_assert(!elf_parse(img, len, &e, err, sizeof err));
    wr32(img + 28, 52);
    ck_assert(elf_parse(img, len, &e, err, sizeof err));
    ck_assert_uint_eq(e.nseg, 1);
    ck_assert_uint_eq(e.seg[0].paddr, 0x100000);
    free(img);
}
END_TEST

START_TEST(test_elf_outside_ram)
{
    struct tseg cases[] = {
        { 0xF00000, 0xF00000, 0x1000, 0x200000, 0x66 },     /* bss runs past 16 MiB */
        { 0x40000000, 0x40000000, 0x1000, 0x1000, 0x66 },   /* wholly beyond RAM */
        { 0xFFFFF000u, 0xFFFFF000u, 0x1000, 0x2000, 0x66 }, /* wraps past 4 GiB */
    };
    struct mb_result r;
    for (unsigned i = 0; i < 3; i++) {
        size_t len;
        uint8_t *img = make_elf32(&len, cases[i].paddr, &cases[i], 1, 0);
        err[0] = 0;
        ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
        ck_assert_msg(strstr(err, "outside RAM") != NULL || strstr(err, "wraps") != NULL, "case %u: %s", i, err);
        free(img);
    }
    uint8_t b[1];
    physmem_read_bytes(pm, 0xF00000, b, 1);
    ck_assert_uint_eq(b[0], 0xAA);
}
END_TEST

START_TEST(test_elf64_needs_kludge)
{
    struct tseg s = { 0x100000, 0x100000, 0x100, 0x100, 0x77 };
    size_t len;
    uint8_t *img = make_elf32(&len, 0x100000, &s, 1, 0);
    img[4] = ELFCLASS64;
    struct mb_result r;
    ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "64-bit") != NULL, "%s", err);
    free(img);
}
END_TEST

START_TEST(test_unsupported_required_flags)
{
    struct tseg s = { 0x100000, 0x100000, 0x100, 0x100, 0x77 };
    size_t len;
    uint8_t *img = make_elf32(&len, 0x100000, &s, 1, 1u << 3);
    struct mb_result r;
    ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "0x8") != NULL, "%s", err);
    free(img);
    /* bit 2 (video) is tolerated, as QEMU does */
    img = make_elf32(&len, 0x100000, &s, 1, MB_HF_VIDEO);
    ck_assert_msg(multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err), "%s", err);
    free(img);
}
END_TEST

/* ---- a.out kludge ----------------------------------------------------------- */

static uint8_t *make_aout(size_t *len, uint32_t load, uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    /* A flat binary of 0x3000 bytes whose header sits at file offset 0x40, and
     * which says it is loaded at 'load' (so the header lives at load + 0x40). */
    *len = 0x3000;
    uint8_t *img = malloc(*len);
    memset(img, 0x5A, *len);
    uint32_t flags = MB_HF_AOUT_KLUDGE | MB_HF_MEMINFO;
    put_mb_header(img + 0x40, flags);
    wr32(img + 0x40 + 12, load + 0x40);
    wr32(img + 0x40 + 16, load);
    wr32(img + 0x40 + 20, load_end);
    wr32(img + 0x40 + 24, bss_end);
    wr32(img + 0x40 + 28, entry);
    return img;
}

START_TEST(test_aout_kludge)
{
    size_t len;
    uint8_t *img = make_aout(&len, 0x200000, 0x202000, 0x204000, 0x200100);
    struct mb_result r;
    ck_assert_msg(multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err), "%s", err);
    ck_assert_uint_eq(r.entry, 0x200100);
    ck_assert_uint_eq(r.kernel_start, 0x200000);
    ck_assert_uint_eq(r.kernel_end, 0x204000);
    ck_assert_uint_eq(g32(0x200040), MB_HEADER_MAGIC);  /* the file image, from offset 0 */
    uint8_t b[1];
    physmem_read_bytes(pm, 0x201fff, b, 1);  ck_assert_uint_eq(b[0], 0x5A);
    physmem_read_bytes(pm, 0x202000, b, 1);  ck_assert_uint_eq(b[0], 0x00);   /* bss */
    physmem_read_bytes(pm, 0x203fff, b, 1);  ck_assert_uint_eq(b[0], 0x00);
    physmem_read_bytes(pm, 0x204000, b, 1);  ck_assert_uint_eq(b[0], 0xAA);
    free(img);

    img = make_aout(&len, 0x200000, 0, 0, 0x200100);    /* load_end 0: the whole file */
    ck_assert_msg(multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err), "%s", err);
    ck_assert_uint_eq(r.kernel_end, 0x203000);
    free(img);

    img = make_aout(&len, 0x200000, 0x208000, 0, 0x200100);  /* asks for more than the file */
    ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "truncated") != NULL, "%s", err);
    free(img);

    img = make_aout(&len, 0x200000, 0x202000, 0x201000, 0x200100);  /* bss_end below load_end */
    ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
    free(img);

    img = make_aout(&len, 0xFF0000, 0, 0x2000000, 0xFF0000);        /* bss past RAM */
    ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "outside RAM") != NULL, "%s", err);
    free(img);

    /* Not ELF and no kludge */
    img = make_aout(&len, 0x200000, 0, 0, 0x200100);
    put_mb_header(img + 0x40, MB_HF_MEMINFO);
    ck_assert(!multiboot_load(pm, img, len, NULL, NULL, 0, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "flag 16") != NULL, "%s", err);
    free(img);
}
END_TEST

/* ---- modules ---------------------------------------------------------------- */

START_TEST(test_modules)
{
    struct tseg s = { 0x100000, 0x100000, 0x1000, 0x1801, 0x11 };   /* kernel ends at 0x101801 */
    size_t len;
    uint8_t *img = make_elf32(&len, 0x100000, &s, 1, MB_HF_PAGE_ALIGN);
    static uint8_t m1[5000], m2[10];
    memset(m1, 0xB1, sizeof m1);
    memset(m2, 0xB2, sizeof m2);
    struct mb_module mods[3] = {
        { m1, sizeof m1, "initrd.img root=/dev/ram0" },
        { m2, sizeof m2, "second" },
        { NULL, 0, "empty" },
    };
    struct mb_result r;
    ck_assert_msg(multiboot_load(pm, img, len, "k", mods, 3, &r, err, sizeof err), "%s", err);
    ck_assert_uint_eq(r.nmods, 3);
    ck_assert_uint_eq(r.mod_start[0], 0x102000);                 /* page after the kernel's bss */
    ck_assert_uint_eq(r.mod_end[0], 0x102000 + sizeof m1);
    ck_assert_uint_eq(r.mod_start[1], 0x104000);                 /* 5000 bytes -> next page boundary */
    ck_assert_uint_eq(r.mod_start[2], 0x105000);
    ck_assert_uint_eq(r.mod_end[2], 0x105000);                   /* an empty module */

    uint64_t mbi = r.info_addr;
    ck_assert_uint_eq(g32(mbi + MBI_MODS_COUNT), 3);
    uint32_t ma = g32(mbi + MBI_MODS_ADDR);
    char str[64];
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(g32(ma + 16 * i), r.mod_start[i]);
        ck_assert_uint_eq(g32(ma + 16 * i + 4), r.mod_end[i]);
        ck_assert_uint_eq(g32(ma + 16 * i + 12), 0);
        gstr(g32(ma + 16 * i + 8), str, sizeof str);
        ck_assert_str_eq(str, mods[i].cmdline);
    }
    uint8_t b[1];
    physmem_read_bytes(pm, r.mod_start[0] + sizeof m1 - 1, b, 1);  ck_assert_uint_eq(b[0], 0xB1);
    physmem_read_bytes(pm, r.mod_start[1], b, 1);                   ck_assert_uint_eq(b[0], 0xB2);
    free(img);
}
END_TEST

START_TEST(test_module_too_big)
{
    struct tseg s = { 0x100000, 0x100000, 0x1000, 0x1000, 0x11 };
    size_t len;
    uint8_t *img = make_elf32(&len, 0x100000, &s, 1, 0);
    struct mb_module m = { NULL, RAM, "huge" };     /* data is never read when it cannot fit */
    struct mb_result r;
    ck_assert(!multiboot_load(pm, img, len, NULL, &m, 1, &r, err, sizeof err));
    ck_assert_msg(strstr(err, "module 1") != NULL, "%s", err);
    free(img);
}
END_TEST

START_TEST(test_info_avoids_low_kernel)
{
    /* A kernel that occupies the preferred info address: the info block moves. */
    struct tseg s = { MB_INFO_LOW, MB_INFO_LOW, 0x2000, 0x2000, 0x11 };
    size_t len;
    uint8_t *img = make_elf32(&len, MB_INFO_LOW, &s, 1, 0);
    struct mb_result r;
    ck_assert_msg(multiboot_load(pm, img, len, "x", NULL, 0, &r, err, sizeof err), "%s", err);
    ck_assert_uint_ge(r.info_addr, MB_INFO_LOW + 0x2000);
    ck_assert_uint_eq(g32(MB_INFO_LOW), 0x11111111u);           /* the kernel is intact */
    ck_assert_uint_eq(g32(r.info_addr + MBI_MEM_LOWER), 640);
    free(img);
}
END_TEST

START_TEST(test_mmap_above_4g)
{
    struct mb_mmap_entry e[MB_MMAP_MAX];
    unsigned n = mb_build_mmap(5ull << 30, e);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(e[3].base, 0x100000);
    ck_assert_uint_eq(e[3].len, (3ull << 30) - 0x100000);       /* below-4G RAM stops at 3 GiB */
    ck_assert_uint_eq(e[5].base, 4ull << 30);
    ck_assert_uint_eq(e[5].len, 2ull << 30);
    ck_assert_uint_eq(e[5].type, MB_MEM_AVAILABLE);
    ck_assert_uint_eq(e[4].base, 0xFFFC0000u);
    ck_assert_uint_eq(e[4].type, MB_MEM_RESERVED);
}
END_TEST

/* ---- entry state ------------------------------------------------------------ */

START_TEST(test_entry_state)
{
    static struct cpu c;
    memset(&c, 0, sizeof c);
    c.gpr[RCX] = 0x1234;
    c.rflags = FL_FIXED1 | FL_IF | FL_VM;
    struct mb_result r = { .entry = 0x100010, .info_addr = 0x9000 };
    multiboot_enter(&c, &r);
    ck_assert_uint_eq(c.gpr[RAX], MB_BOOT_MAGIC);
    ck_assert_uint_eq(c.gpr[RBX], 0x9000);
    ck_assert_uint_eq(c.gpr[RCX], 0);
    ck_assert_uint_eq(c.rip, 0x100010);
    ck_assert_uint_eq(c.rflags & (FL_IF | FL_VM), 0);
    ck_assert_uint_eq(c.rflags & FL_FIXED1, FL_FIXED1);
    ck_assert_uint_eq(c.cr0 & (CR0_PE | CR0_PG), CR0_PE);
    ck_assert_uint_eq(c.efer, 0);
    for (int s = 0; s < SEG_COUNT; s++) {
        ck_assert_uint_eq(c.seg[s].base, 0);
        ck_assert_uint_eq(c.seg[s].limit, 0xffffffffu);
        ck_assert(c.seg[s].attr & SEG_ATTR_P);
        ck_assert(c.seg[s].attr & SEG_ATTR_DB);
        ck_assert(c.seg[s].attr & SEG_ATTR_G);
        ck_assert_uint_eq(SEG_ATTR_DPL(c.seg[s].attr), 0);
    }
    ck_assert_uint_eq(SEG_ATTR_TYPE(c.seg[SEG_CS].attr) & 0x8, 0x8);   /* code */
    ck_assert_uint_eq(SEG_ATTR_TYPE(c.seg[SEG_DS].attr) & 0xA, 0x2);   /* writable data */
    ck_assert_uint_eq(SEG_ATTR_TYPE(c.seg[SEG_SS].attr) & 0xA, 0x2);
    ck_assert_int_eq(c.mode, MODE_PROT32);
    ck_assert_int_eq(c.cpl, 0);
}
END_TEST

static Suite *multiboot_suite(void)
{
    Suite *s = suite_create("multiboot");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_header_search_limits);
    tcase_add_test(tc, test_header_checksum);
    tcase_add_test(tc, test_not_multiboot);
    tcase_add_test(tc, test_elf_load_and_info);
    tcase_add_test(tc, test_elf_virtual_entry);
    tcase_add_test(tc, test_elf_truncated);
    tcase_add_test(tc, test_elf_bad_fields);
    tcase_add_test(tc, test_elf_outside_ram);
    tcase_add_test(tc, test_elf64_needs_kludge);
    tcase_add_test(tc, test_unsupported_required_flags);
    tcase_add_test(tc, test_aout_kludge);
    tcase_add_test(tc, test_modules);
    tcase_add_test(tc, test_module_too_big);
    tcase_add_test(tc, test_info_avoids_low_kernel);
    tcase_add_test(tc, test_mmap_above_4g);
    tcase_add_test(tc, test_entry_state);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(multiboot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
