/* The Linux bzImage loader (roms/linux.c) and the e820 map (roms/e820.c), against
 * Documentation/arch/x86/boot.rst and zero-page.rst: setup-header parsing with
 * truncated and garbage images, the boot_params fields, e820 entries, initrd
 * placement and command-line limits, the 64-bit entry state, and a synthetic
 * kernel that really runs from the entry point.  The bzImages are built here; the
 * real Debian kernel in /boot is also loaded when it is present. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/env.h"
#include "cpu/flags.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"
#include "roms/acpi.h"
#include "roms/e820.h"
#include "roms/linux.h"

#define MIB (1ull << 20)
#define RAM (64 * MIB)
#define JUNK 0xAA

static struct physmem *pm;
static char err[512];

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static uint8_t g8(uint64_t gpa) { uint8_t b; physmem_read_bytes(pm, gpa, &b, 1); return b; }
static uint32_t g32(uint64_t gpa) { uint8_t b[4]; physmem_read_bytes(pm, gpa, b, 4); return rd32(b); }
static uint64_t g64(uint64_t gpa) { return g32(gpa) | (uint64_t)g32(gpa + 4) << 32; }

static void new_ram(uint64_t size)
{
    const char *why = NULL;
    pm = physmem_new(size, &why);
    ck_assert_msg(pm != NULL, "physmem_new: %s", why ? why : "?");
    static uint8_t junk[65536];
    memset(junk, JUNK, sizeof junk);
    uint64_t low = size < (3ull << 30) ? size : (3ull << 30);
    for (uint64_t a = 0; a < low && a < 128 * MIB; a += sizeof junk)
        physmem_write_bytes(pm, a, junk, sizeof junk);
    err[0] = 0;
}

static void setup(void) { new_ram(RAM); }
static void teardown(void) { physmem_free(pm); }

/* A synthetic bzImage: setup_sects 4 (protected-mode kernel at 0xA00), header
 * through init_size (protocol 2.15 layout), and a payload whose 64-bit entry at
 * +0x200 stores what it sees and halts. */
#define BZ_PM_OFF   0xA00u
#define BZ_PAYLOAD  0x1000u
#define BZ_LEN      (BZ_PM_OFF + BZ_PAYLOAD)
#define BZ_INIT     (2 * MIB)
#define BZ_PREF     (16 * MIB)
#define OUT_AREA    0x500u      /* where the entry code stores its observations */

static const uint8_t entry_code[] = {
    0x0F, 0xB6, 0x86, 0x10, 0x02, 0x00, 0x00,               /* movzx eax, byte [rsi+0x210] */
    0x89, 0x04, 0x25, 0x00, 0x05, 0x00, 0x00,               /* mov [0x500], eax */
    0x8C, 0xC8,                                             /* mov eax, cs */
    0x89, 0x04, 0x25, 0x04, 0x05, 0x00, 0x00,               /* mov [0x504], eax */
    0x48, 0x89, 0x34, 0x25, 0x08, 0x05, 0x00, 0x00,         /* mov [0x508], rsi */
    0x8B, 0x86, 0x28, 0x02, 0x00, 0x00,                     /* mov eax, [rsi+0x228] (cmd_line_ptr) */
    0x8B, 0x00,                                             /* mov eax, [rax] (first 4 bytes of it) */
    0x89, 0x04, 0x25, 0x10, 0x05, 0x00, 0x00,               /* mov [0x510], eax */
    0x48, 0x8D, 0x05, 0x00, 0x00, 0x00, 0x00,               /* lea rax, [rip] */
    0x48, 0x89, 0x04, 0x25, 0x18, 0x05, 0x00, 0x00,         /* mov [0x518], rax */
    0xF4,                                                   /* hlt */
};

/* A relocation copy as the kernel's decompressor does it: one REP MOVSQ of more
 * elements than a REP string runs per execution (cpu/ops_string.c REP_CHUNK),
 * inside one decoded block with a store after it. */
#define COPY_SRC   0x2000000u
#define COPY_DST   0x2100000u
#define COPY_QW    5000u
static const uint8_t copy_code[] = {
    0xBE, 0x00, 0x00, 0x00, 0x02,                           /* mov esi, COPY_SRC */
    0xBF, 0x00, 0x00, 0x10, 0x02,                           /* mov edi, COPY_DST */
    0xB9, 0x88, 0x13, 0x00, 0x00,                           /* mov ecx, 5000 */
    0xF3, 0x48, 0xA5,                                       /* rep movsq */
    0x48, 0x89, 0x0C, 0x25, 0x20, 0x05, 0x00, 0x00,         /* mov [0x520], rcx */
    0xF4,                                                   /* hlt */
};

static uint8_t bz[BZ_LEN];
static const uint8_t *bz_code = entry_code;
static size_t bz_code_len = sizeof entry_code;

static void make_bz(uint16_t version, uint8_t loadflags, uint16_t xlf)
{
    memset(bz, 0, sizeof bz);
    bz[LX_SETUP_SECTS] = 4;
    wr16(bz + LX_BOOT_FLAG, 0xAA55);
    bz[LX_JUMP] = 0xEB;
    bz[LX_JUMP + 1] = 0x6A;                 /* header ends at 0x26C, as in 2.15 */
    memcpy(bz + LX_HEADER, "HdrS", 4);
    wr16(bz + LX_VERSION, version);
    bz[LX_LOADFLAGS] = loadflags;
    wr32(bz + LX_INITRD_ADDR_MAX, 0x7FFFFFFF);
    wr32(bz + LX_KERNEL_ALIGNMENT, 0x200000);
    bz[LX_RELOCATABLE] = 1;
    wr16(bz + LX_XLOADFLAGS, xlf);
    wr32(bz + LX_CMDLINE_SIZE, 2047);
    wr64(bz + LX_PREF_ADDRESS, BZ_PREF);
    wr32(bz + LX_INIT_SIZE, BZ_INIT);
    bz[0x264] = 0x5A;                       /* handover_offset: a marker for the header copy */
    for (unsigned i = 0; i < BZ_PAYLOAD; i++)
        bz[BZ_PM_OFF + i] = (uint8_t)(i * 7 + 1);
    memcpy(bz + BZ_PM_OFF + 0x200, bz_code, bz_code_len);
}

static void make_good(void) { make_bz(0x020F, LX_LOADED_HIGH, 0x7F); }

static bool untouched(uint64_t gpa, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (g8(gpa + i) != JUNK)
            return false;
    return true;
}

static void assert_memory_untouched(void)
{
    ck_assert(untouched(LINUX_BOOT_PARAMS, 0x300));
    ck_assert(untouched(LINUX_PML4, 64));
    ck_assert(untouched(BZ_PREF, 64));
    ck_assert(untouched(ACPI_RSDP_ADDR, 36));
    ck_assert(untouched(e820_fw_base(RAM), 64));
}

/* --- header parsing -------------------------------------------------------------- */

START_TEST(test_parse_header)
{
    make_good();
    struct linux_header h;
    ck_assert_msg(linux_parse_header(bz, sizeof bz, &h, err, sizeof err), "%s", err);
    ck_assert_uint_eq(h.version, 0x020F);
    ck_assert_uint_eq(h.setup_sects, 4);
    ck_assert_uint_eq(h.pm_offset, 0xA00);
    ck_assert_uint_eq(h.pm_size, BZ_PAYLOAD);
    ck_assert_uint_eq(h.header_end, 0x26C);
    ck_assert_uint_eq(h.pref_address, 0x1000000);
    ck_assert_uint_eq(h.init_size, 0x200000);
    ck_assert_uint_eq(h.cmdline_size, 2047);
    ck_assert_uint_eq(h.initrd_addr_max, 0x7FFFFFFF);
    ck_assert_uint_eq(h.xloadflags, 0x7F);
    /* setup_sects 0 means 4 (boot.rst). */
    bz[LX_SETUP_SECTS] = 0;
    ck_assert(linux_parse_header(bz, sizeof bz, &h, err, sizeof err));
    ck_assert_uint_eq(h.pm_offset, 0xA00);
}
END_TEST

START_TEST(test_reject_bad_images)
{
    struct linux_header h;
    static uint8_t garbage[8192];
    for (unsigned i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 31 + 5);
    ck_assert(!linux_is_bzimage(garbage, sizeof garbage));
    ck_assert(!linux_parse_header(garbage, sizeof garbage, &h, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "HdrS"));

    make_good();
    ck_assert(!linux_parse_header(bz, 0x204, &h, err, sizeof err));     /* cut inside the magic */
    ck_assert(!linux_parse_header(bz, 0x240, &h, err, sizeof err));     /* cut inside the header */
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    ck_assert(!linux_parse_header(bz, BZ_PM_OFF + 0x100, &h, err, sizeof err));  /* no entry code */
    ck_assert_ptr_nonnull(strstr(err, "truncated"));

    make_bz(0x020B, LX_LOADED_HIGH, 0x7F);
    ck_assert(!linux_parse_header(bz, sizeof bz, &h, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "2.11 is too old"));

    make_bz(0x020F, 0, 0x7F);
    ck_assert(!linux_parse_header(bz, sizeof bz, &h, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "not a bzImage"));

    make_bz(0x020F, LX_LOADED_HIGH, 0x7E);
    ck_assert(!linux_parse_header(bz, sizeof bz, &h, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "XLF_KERNEL_64"));

    make_good();
    wr16(bz + LX_BOOT_FLAG, 0x1234);
    ck_assert(!linux_parse_header(bz, sizeof bz, &h, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "0xAA55"));

    /* A header that claims to end past the file. */
    make_good();
    ck_assert(!linux_parse_header(bz, 0x268, &h, err, sizeof err));

    /* linux_load refuses them all without writing a byte. */
    struct linux_result r;
    make_bz(0x020F, LX_LOADED_HIGH, 0x7E);
    ck_assert(!linux_load(pm, 1, bz, sizeof bz, "", NULL, 0, &r, err, sizeof err));
    assert_memory_untouched();
}
END_TEST

/* --- boot_params ----------------------------------------------------------------- */

START_TEST(test_boot_params)
{
    make_good();
    static uint8_t initrd[3 * 4096 + 100];
    for (unsigned i = 0; i < sizeof initrd; i++)
        initrd[i] = (uint8_t)(i ^ 0x5C);
    const char *cl = "console=ttyS0 root=/dev/ram0";
    struct linux_result r;
    ck_assert_msg(linux_load(pm, 2, bz, sizeof bz, cl, initrd, sizeof initrd, &r, err, sizeof err), "%s", err);
    const uint64_t bp = LINUX_BOOT_PARAMS;
    ck_assert_uint_eq(r.boot_params, 0x10000);

    /* The setup header is copied (0x1F1 up to its end), then the loader's fields. */
    uint8_t hdr[0x26C - 0x1F1];
    physmem_read_bytes(pm, bp + 0x1F1, hdr, sizeof hdr);
    for (unsigned o = 0x1F1; o < 0x26C; o++) {
        if ((o >= 0x210 && o <= 0x210) || (o >= 0x218 && o < 0x220) || (o >= 0x228 && o < 0x22C))
            continue;                       /* type_of_loader, ramdisk, cmd_line_ptr */
        ck_assert_msg(hdr[o - 0x1F1] == bz[o], "header byte 0x%x: %02x != %02x", o, hdr[o - 0x1F1], bz[o]);
    }
    ck_assert_uint_eq(g8(bp + 0x264), 0x5A);
    ck_assert_uint_eq(g32(bp + 0x202), 0x53726448);      /* "HdrS" */
    ck_assert_uint_eq(g8(bp + 0x210), 0xFF);             /* type_of_loader: undefined */
    /* Outside the header the zero page is zero (e.g. the sentinel at 0x1EF, screen_info). */
    ck_assert_uint_eq(g8(bp + 0x1EF), 0);
    ck_assert_uint_eq(g64(bp + 0x000), 0);
    ck_assert_uint_eq(g8(bp + 0x26C), 0);

    /* Command line: pointer (low 32 at 0x228, high 32 at 0x0C8) and the string. */
    ck_assert_uint_eq(g32(bp + 0x228), 0x20000);
    ck_assert_uint_eq(g32(bp + 0x0C8), 0);
    char buf[64];
    physmem_read_bytes(pm, 0x20000, buf, strlen(cl) + 1);
    ck_assert_str_eq(buf, cl);

    /* Initrd: image/size (+ ext_), page-aligned, above the kernel, below the firmware. */
    uint64_t ia = g32(bp + 0x218) | (uint64_t)g32(bp + 0x0C0) << 32;
    uint64_t is = g32(bp + 0x21C) | (uint64_t)g32(bp + 0x0C4) << 32;
    ck_assert_uint_eq(ia, r.initrd_addr);
    ck_assert_uint_eq(is, sizeof initrd);
    ck_assert_uint_eq(ia & 0xFFF, 0);
    ck_assert_uint_ge(ia, BZ_PREF + BZ_INIT);
    ck_assert_uint_le(ia + is, RAM - 0x20000);
    /* "as high as possible": less than a page of room left above it */
    ck_assert_uint_gt(ia + is + 4096, RAM - 0x20000);
    static uint8_t back[sizeof initrd];
    physmem_read_bytes(pm, ia, back, sizeof back);
    ck_assert(memcmp(back, initrd, sizeof initrd) == 0);

    /* RSDP pointer (0x070) and the RSDP itself. */
    ck_assert_uint_eq(g64(bp + 0x070), 0xF5A00);
    physmem_read_bytes(pm, 0xF5A00, buf, 8);
    ck_assert(memcmp(buf, "RSD PTR ", 8) == 0);

    /* The kernel at pref_address, the rest of init_size not written. */
    static uint8_t k[BZ_PAYLOAD];
    physmem_read_bytes(pm, BZ_PREF, k, sizeof k);
    ck_assert(memcmp(k, bz + BZ_PM_OFF, sizeof k) == 0);
    ck_assert_uint_eq(r.entry, BZ_PREF + 0x200);
}
END_TEST

START_TEST(test_boot_params_e820)
{
    make_good();
    struct linux_result r;
    ck_assert(linux_load(pm, 1, bz, sizeof bz, "", NULL, 0, &r, err, sizeof err));
    /* 64 MiB: the QEMU shape with the firmware tables in the last 128 KiB. */
    static const struct { uint64_t a, s; uint32_t t; } want[] = {
        { 0x0, 0x9FC00, 1 },
        { 0x9FC00, 0x400, 2 },
        { 0xF0000, 0x10000, 2 },
        { 0x100000, 0x3EE0000, 1 },
        { 0x3FE0000, 0x20000, 2 },
        { 0xFFFC0000, 0x40000, 2 },
    };
    ck_assert_uint_eq(g8(LINUX_BOOT_PARAMS + 0x1E8), 6);
    for (unsigned i = 0; i < 6; i++) {
        uint64_t e = LINUX_BOOT_PARAMS + 0x2D0 + 20 * i;
        ck_assert_uint_eq(g64(e), want[i].a);
        ck_assert_uint_eq(g64(e + 8), want[i].s);
        ck_assert_uint_eq(g32(e + 16), want[i].t);
    }
    ck_assert_uint_eq(g64(LINUX_BOOT_PARAMS + 0x2D0 + 20 * 6), 0);
    /* No ramdisk. */
    ck_assert_uint_eq(g32(LINUX_BOOT_PARAMS + 0x218), 0);
    ck_assert_uint_eq(g32(LINUX_BOOT_PARAMS + 0x21C), 0);
}
END_TEST

START_TEST(test_e820_reference_shape)
{
    /* The map of the reference QEMU boot (-m 512, dmesg "BIOS-e820" lines),
     * without QEMU's 0xfd00000000 HyperTransport hole. */
    struct e820_entry m[E820_MAX];
    unsigned n = e820_build(512 * MIB, m);
    static const struct { uint64_t first, last; uint32_t t; } ref[] = {
        { 0x0000000000000000, 0x000000000009fbff, 1 },
        { 0x000000000009fc00, 0x000000000009ffff, 2 },
        { 0x00000000000f0000, 0x00000000000fffff, 2 },
        { 0x0000000000100000, 0x000000001ffdffff, 1 },
        { 0x000000001ffe0000, 0x000000001fffffff, 2 },
        { 0x00000000fffc0000, 0x00000000ffffffff, 2 },
    };
    ck_assert_uint_eq(n, 6);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_uint_eq(m[i].addr, ref[i].first);
        ck_assert_uint_eq(m[i].addr + m[i].size - 1, ref[i].last);
        ck_assert_uint_eq(m[i].type, ref[i].t);
    }
    /* 5 GiB: low RAM stops at 3 GiB, 2 GiB more from 4 GiB. */
    n = e820_build(5ull << 30, m);
    ck_assert_uint_eq(n, 7);
    ck_assert_uint_eq(m[3].addr + m[3].size, 0xBFFE0000);
    ck_assert_uint_eq(m[4].addr, 0xBFFE0000);
    ck_assert_uint_eq(m[6].addr, 1ull << 32);
    ck_assert_uint_eq(m[6].size, 2ull << 30);
    ck_assert_uint_eq(m[6].type, E820_RAM);
    /* The encoding: u64 addr, u64 size, u32 type, little-endian. */
    uint8_t b[20];
    struct e820_entry e = { 0x0102030405060708ull, 0x1112131415161718ull, 3 };
    e820_encode(&e, b);
    static const uint8_t want[20] = { 8, 7, 6, 5, 4, 3, 2, 1, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, 3, 0, 0, 0 };
    ck_assert(memcmp(b, want, 20) == 0);
}
END_TEST

/* --- limits ---------------------------------------------------------------------- */

START_TEST(test_initrd_placement)
{
    uint64_t a;
    /* Below the limit, page-aligned down. */
    ck_assert(linux_place_initrd(0x1800, 0x7FFFFFFF, 0x2000000, 0x4000000, &a));
    ck_assert_uint_eq(a, 0x4000000 - 0x2000);
    /* initrd_addr_max is the highest byte address: the top is max + 1. */
    ck_assert(linux_place_initrd(0x1000, 0x2FFFFFF, 0x2000000, 0x4000000, &a));
    ck_assert_uint_eq(a, 0x2FFF000);
    /* Exactly fits between floor and top. */
    ck_assert(linux_place_initrd(0x1000000, 0x2FFFFFF, 0x2000000, 0x4000000, &a));
    ck_assert_uint_eq(a, 0x2000000);
    /* One byte more does not. */
    ck_assert(!linux_place_initrd(0x1000001, 0x2FFFFFF, 0x2000000, 0x4000000, &a));
    /* Larger than everything below the top. */
    ck_assert(!linux_place_initrd(0x5000000, 0x7FFFFFFF, 0, 0x4000000, &a));
}
END_TEST

START_TEST(test_initrd_limits_load)
{
    make_good();
    struct linux_result r;
    /* Larger than RAM. */
    static uint8_t dummy[1];
    ck_assert(!linux_load(pm, 1, bz, sizeof bz, "", dummy, RAM + 1, &r, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "larger than RAM"));
    assert_memory_untouched();
    /* Fits in RAM but not below initrd_addr_max: 18 MiB - 1 leaves 0 bytes above
     * the kernel's end (16 MiB + 2 MiB). */
    wr32(bz + LX_INITRD_ADDR_MAX, 0x11FFFFF);
    uint8_t *big = calloc(1, 4096);
    ck_assert(!linux_load(pm, 1, bz, sizeof bz, "", big, 4096, &r, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "does not fit"));
    assert_memory_untouched();
    /* With one more page of room it fits, at that page. */
    wr32(bz + LX_INITRD_ADDR_MAX, 0x1200FFF);
    ck_assert_msg(linux_load(pm, 1, bz, sizeof bz, "", big, 4096, &r, err, sizeof err), "%s", err);
    ck_assert_uint_eq(r.initrd_addr, 0x1200000);
    free(big);
}
END_TEST

START_TEST(test_cmdline_limits)
{
    make_good();
    wr32(bz + LX_CMDLINE_SIZE, 16);
    struct linux_result r;
    ck_assert(!linux_load(pm, 1, bz, sizeof bz, "0123456789abcdefg", NULL, 0, &r, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    assert_memory_untouched();
    /* Exactly cmdline_size characters (the terminating zero not counted) is fine. */
    ck_assert_msg(linux_load(pm, 1, bz, sizeof bz, "0123456789abcdef", NULL, 0, &r, err, sizeof err), "%s", err);
    char buf[20];
    physmem_read_bytes(pm, r.cmdline, buf, 17);
    ck_assert_str_eq(buf, "0123456789abcdef");
}
END_TEST

START_TEST(test_kernel_needs_ram)
{
    physmem_free(pm);
    new_ram(16 * MIB);
    make_good();
    struct linux_result r;
    ck_assert(!linux_load(pm, 1, bz, sizeof bz, "", NULL, 0, &r, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "-m"));
    /* 16 MiB + 2 MiB of init_size + the 128 KiB firmware region: 19 MiB is enough. */
    physmem_free(pm);
    new_ram(19 * MIB);
    ck_assert_msg(linux_load(pm, 1, bz, sizeof bz, "", NULL, 0, &r, err, sizeof err), "%s", err);
}
END_TEST

/* --- the entry state ------------------------------------------------------------- */

static const struct cpu_env null_env;

START_TEST(test_entry_state_and_run)
{
    make_good();
    const char *cl = "HVEM rest";
    struct linux_result r;
    ck_assert(linux_load(pm, 1, bz, sizeof bz, cl, NULL, 0, &r, err, sizeof err));

    struct mmu m;
    const char *why = NULL;
    ck_assert_msg(mmu_init(&m, pm, 0, "skylake", TLB_MODEL_FAST, &why), "%s", why ? why : "?");
    static struct cpu c;
    memset(&c, 0, sizeof c);
    cpu_init(&c, &m, &null_env, NULL);
    linux_enter(&c, &r);

    ck_assert_int_eq(c.mode, MODE_LONG64);
    ck_assert_uint_eq(c.cpl, 0);
    ck_assert_uint_eq(c.rip, 0x1000200);
    ck_assert_uint_eq(c.gpr[RSI], 0x10000);
    ck_assert_uint_eq(c.rflags & FL_IF, 0);
    ck_assert_uint_eq(c.seg[SEG_CS].sel, 0x10);
    ck_assert_uint_eq(c.seg[SEG_DS].sel, 0x18);
    ck_assert_uint_eq(c.seg[SEG_ES].sel, 0x18);
    ck_assert_uint_eq(c.seg[SEG_SS].sel, 0x18);
    ck_assert(c.cr0 & CR0_PG);
    ck_assert(c.cr0 & CR0_PE);
    ck_assert(c.cr4 & CR4_PAE);
    ck_assert_uint_eq(c.efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
    /* The GDT the selectors name: flat 64-bit code at 0x10, flat data at 0x18
     * (SDM Vol. 3A 3.4.5: limit 0xFFFFF, G; code type 0xB + L, data type 0x3 + D/B). */
    ck_assert_uint_ge(c.gdtr.limit, 0x1F);
    ck_assert_uint_eq(g64(c.gdtr.base + 0x10), 0x00AF9B000000FFFFull);
    ck_assert_uint_eq(g64(c.gdtr.base + 0x18), 0x00CF93000000FFFFull);
    /* Page tables: 2 MiB identity pages up to 4 GiB. */
    ck_assert_uint_eq(c.cr3, 0x1000);
    ck_assert_uint_eq(g64(0x1000) & ~0xFFFull, 0x2000);
    uint64_t pdpt3 = g64(0x2000 + 3 * 8) & ~0xFFFull;
    ck_assert_uint_eq(g64(pdpt3 + 511 * 8), 0xFFE00000ull | 0x83);   /* P, RW, PS */
    uint64_t pd0 = g64(0x2000) & ~0xFFFull;
    ck_assert_uint_eq(g64(pd0 + 8 * 8), 0x1000000ull | 0x83);

    /* Run the synthetic kernel from the entry point to its HLT. */
    enum cpu_exit why_exit = CPU_EXIT_BUDGET;
    for (int k = 0; k < 100 && why_exit == CPU_EXIT_BUDGET; k++)
        why_exit = cpu_run(&c, 10000);
    ck_assert_int_eq(why_exit, CPU_EXIT_HALT);
    ck_assert_uint_eq(g32(OUT_AREA + 0x0), 0xFF);                   /* type_of_loader via RSI */
    ck_assert_uint_eq(g32(OUT_AREA + 0x4), 0x10);                   /* CS */
    ck_assert_uint_eq(g64(OUT_AREA + 0x8), 0x10000);                /* RSI */
    ck_assert_uint_eq(g32(OUT_AREA + 0x10), 0x4D455648);            /* "HVEM" through cmd_line_ptr */
    ck_assert_uint_eq(g64(OUT_AREA + 0x18), 0x1000200 + 53);        /* RIP-relative: we run at +0x200 */
    mmu_destroy(&m);
}
END_TEST

/* A VP-like cpu: its own mmu and a decoded-block cache, as hv/partition.c builds them. */
static void vp_setup(struct cpu *c, struct mmu *m, struct block_cache **bc)
{
    const char *why = NULL;
    ck_assert_msg(mmu_init(m, pm, 0, "skylake", TLB_MODEL_FAST, &why), "%s", why ? why : "?");
    *bc = block_cache_new(pm);
    ck_assert_ptr_nonnull(*bc);
    cpu_init(c, m, &null_env, NULL);
    c->bcache = *bc;
}

START_TEST(test_rep_copy_in_block)
{
    bz_code = copy_code;
    bz_code_len = sizeof copy_code;
    make_good();
    bz_code = entry_code;
    bz_code_len = sizeof entry_code;
    static uint8_t src[COPY_QW * 8], dst[COPY_QW * 8];
    for (unsigned i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 13 + i / 256);
    struct linux_result r;
    ck_assert(linux_load(pm, 1, bz, sizeof bz, "", NULL, 0, &r, err, sizeof err));
    physmem_write_bytes(pm, COPY_SRC, src, sizeof src);

    struct mmu m;
    struct block_cache *bc;
    static struct cpu c;
    memset(&c, 0, sizeof c);
    vp_setup(&c, &m, &bc);
    linux_enter(&c, &r);
    enum cpu_exit why_exit = CPU_EXIT_BUDGET;
    for (int k = 0; k < 1000 && why_exit == CPU_EXIT_BUDGET; k++)
        why_exit = cpu_run(&c, 2000);
    ck_assert_int_eq(why_exit, CPU_EXIT_HALT);
    ck_assert_uint_eq(g64(OUT_AREA + 0x20), 0);     /* RCX after the copy */
    physmem_read_bytes(pm, COPY_DST, dst, sizeof dst);
    ck_assert(memcmp(dst, src, sizeof src) == 0);
    block_cache_free(bc);
    mmu_destroy(&m);
}
END_TEST

/* --- Debian's kernel, when installed (not required) ------------------------------- */

static uint8_t *real_img;
static size_t real_len;

START_TEST(test_real_kernel)
{
    struct linux_header h;
    ck_assert_msg(linux_parse_header(real_img, real_len, &h, err, sizeof err), "%s", err);
    ck_assert_uint_ge(h.version, 0x020C);
    ck_assert(h.xloadflags & XLF_KERNEL_64);
    ck_assert_uint_eq(h.pref_address, 0x1000000);
    physmem_free(pm);
    new_ram(512 * MIB);
    struct linux_result r;
    static uint8_t initrd[1000];
    ck_assert_msg(linux_load(pm, 2, real_img, real_len, "console=ttyS0", initrd, sizeof initrd, &r, err, sizeof err),
                  "%s", err);
    ck_assert_uint_eq(r.entry, 0x1000200);
    ck_assert_uint_eq(g8(LINUX_BOOT_PARAMS + 0x210), 0xFF);
    ck_assert_uint_ge(r.initrd_addr, 0x1000000 + h.init_size);
    ck_assert_uint_le(r.initrd_addr + sizeof initrd, 0x1FFE0000);
}
END_TEST

static void load_real_kernel(void)
{
    glob_t g;
    if (glob("/boot/vmlinuz-6.1.0-*-cloud-amd64", 0, NULL, &g) != 0)
        return;
    FILE *f = fopen(g.gl_pathv[0], "rb");
    globfree(&g);
    if (!f)
        return;
    real_img = malloc(64 << 20);
    if (real_img)
        real_len = fread(real_img, 1, 64 << 20, f);
    fclose(f);
}

static Suite *linux_suite(void)
{
    Suite *s = suite_create("linux_loader");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_parse_header);
    tcase_add_test(tc, test_reject_bad_images);
    tcase_add_test(tc, test_boot_params);
    tcase_add_test(tc, test_boot_params_e820);
    tcase_add_test(tc, test_e820_reference_shape);
    tcase_add_test(tc, test_initrd_placement);
    tcase_add_test(tc, test_initrd_limits_load);
    tcase_add_test(tc, test_cmdline_limits);
    tcase_add_test(tc, test_kernel_needs_ram);
    tcase_add_test(tc, test_entry_state_and_run);
    tcase_add_test(tc, test_rep_copy_in_block);
    load_real_kernel();
    if (real_len) {
        tcase_add_test(tc, test_real_kernel);
    } else {
        printf("note: no /boot/vmlinuz-6.1.0-*-cloud-amd64, test_real_kernel not run\n");
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(linux_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(real_img);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
