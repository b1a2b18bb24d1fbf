/* Guest physical memory (mmu/physmem.h): the RAM layout, MMIO and ROM regions, accesses to
 * nothing, and the code-page marks with their hook and listeners. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include "mmu/mmu.h"
#include "mmu/physmem.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static struct physmem *pm;

static void setup(void)
{
    const char *err = NULL;
    pm = physmem_new(8 * MIB, &err);
    ck_assert_ptr_nonnull(pm);
}

static void teardown(void) { physmem_free(pm); }

START_TEST(ram_read_write)
{
    ck_assert_uint_eq(physmem_ram_size(pm), 8 * MIB);
    physmem_write(pm, 0x1000, 0x1122334455667788ull, 8);
    ck_assert_uint_eq(physmem_read(pm, 0x1000, 8), 0x1122334455667788ull);
    ck_assert_uint_eq(physmem_read(pm, 0x1000, 4), 0x55667788u);
    ck_assert_uint_eq(physmem_read(pm, 0x1006, 2), 0x1122u);
    ck_assert_uint_eq(physmem_read(pm, 0x1007, 1), 0x11u);
    uint8_t *p = physmem_page_ptr(pm, 0x1234, true);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[0], 0x88);                  /* the start of the page */
    ck_assert(physmem_is_ram(pm, 0, 8 * MIB));
    ck_assert(!physmem_is_ram(pm, 8 * MIB - 4096, 8192));
    /* bulk copies across pages */
    uint8_t buf[10000], back[10000];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7);
    physmem_write_bytes(pm, 0x2ff0, buf, sizeof buf);
    physmem_read_bytes(pm, 0x2ff0, back, sizeof back);
    ck_assert_mem_eq(buf, back, sizeof buf);
}
END_TEST

START_TEST(nothing_reads_all_ones)
{
    ck_assert_uint_eq(physmem_read(pm, 8 * MIB, 1), 0xff);
    ck_assert_uint_eq(physmem_read(pm, 8 * MIB, 2), 0xffff);
    ck_assert_uint_eq(physmem_read(pm, 8 * MIB, 4), 0xffffffffu);
    ck_assert_uint_eq(physmem_read(pm, 5 * GIB, 8), ~0ull);
    physmem_write(pm, 8 * MIB, 0, 8);               /* dropped, no crash */
    ck_assert_uint_eq(physmem_read(pm, 8 * MIB, 8), ~0ull);
    ck_assert_ptr_null(physmem_page_ptr(pm, 8 * MIB, false));
    uint8_t b[4];
    physmem_read_bytes(pm, 8 * MIB - 2, b, 4);
    ck_assert_uint_eq(b[2], 0xff);
    ck_assert_uint_eq(b[3], 0xff);
}
END_TEST

START_TEST(high_ram_above_4g)
{
    /* 3 GiB + 8 MiB: 3 GiB low, 8 MiB at 4 GiB (host pages stay untouched zero pages) */
    const char *err;
    struct physmem *big = physmem_new(3 * GIB + 8 * MIB, &err);
    if (!big) {
        fprintf(stderr, "high_ram_above_4g: skipped, host cannot reserve 3 GiB\n");
        return;
    }
    ck_assert(physmem_is_ram(big, 3 * GIB - 4096, 4096));
    ck_assert(!physmem_is_ram(big, 3 * GIB, 4096));     /* the PCI hole */
    ck_assert(physmem_is_ram(big, 4 * GIB, 8 * MIB));
    ck_assert(!physmem_is_ram(big, 4 * GIB + 8 * MIB, 1));
    physmem_write(big, 4 * GIB + 0x10, 0xabcd, 2);
    ck_assert_uint_eq(physmem_read(big, 4 * GIB + 0x10, 2), 0xabcd);
    ck_assert_uint_eq(physmem_read(big, 3 * GIB + 0x10, 2), 0xffff);
    physmem_free(big);
}
END_TEST

struct dev { uint64_t last_off, last_val; unsigned last_size, reads, writes; };

static uint64_t dev_rd(void *o, uint64_t off, unsigned size)
{
    struct dev *d = o;
    d->reads++;
    d->last_off = off;
    d->last_size = size;
    return 0x1234 + off;
}

static void dev_wr(void *o, uint64_t off, uint64_t val, unsigned size)
{
    struct dev *d = o;
    d->writes++;
    d->last_off = off;
    d->last_val = val;
    d->last_size = size;
}

START_TEST(mmio_regions)
{
    struct dev d = { 0 };
    ck_assert(physmem_add_mmio(pm, 0x100800, 0x100, dev_rd, dev_wr, &d, "dev"));
    ck_assert(!physmem_add_mmio(pm, 0x1008f0, 0x100, dev_rd, dev_wr, &d, "overlap"));
    ck_assert_uint_eq(physmem_read(pm, 0x100810, 4), 0x1234 + 0x10);
    ck_assert_uint_eq(d.last_size, 4);
    physmem_write(pm, 0x1008ff, 0x5a, 1);
    ck_assert_uint_eq(d.last_off, 0xff);
    ck_assert_uint_eq(d.last_val, 0x5a);
    /* the region overlays RAM: its page is no longer plain RAM */
    ck_assert_ptr_null(physmem_page_ptr(pm, 0x100000, false));
    ck_assert_ptr_null(physmem_ram_page(pm, 0x100000));
    ck_assert(!physmem_is_ram(pm, 0x100000, 1));
    ck_assert_ptr_nonnull(physmem_ram_page(pm, 0x101000));
    /* RAM outside the region in the same page still goes to RAM through the slow path */
    physmem_write(pm, 0x100000, 0x77, 1);
    ck_assert_uint_eq(physmem_read(pm, 0x100000, 1), 0x77);
    ck_assert_uint_eq(d.writes, 1);
}
END_TEST

START_TEST(rom_regions)
{
    uint8_t rom[0x2000];
    for (unsigned i = 0; i < sizeof rom; i++)
        rom[i] = (uint8_t)i;
    ck_assert(physmem_add_rom(pm, 0xfe000, rom, sizeof rom, "bios"));
    ck_assert_uint_eq(physmem_read(pm, 0xfe010, 1), 0x10);
    physmem_write(pm, 0xfe010, 0x99, 1);            /* dropped */
    ck_assert_uint_eq(physmem_read(pm, 0xfe010, 1), 0x10);
    uint8_t *p = physmem_page_ptr(pm, 0xff000, false);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[1], 0x01);                  /* rom[0x1001] */
    ck_assert_ptr_null(physmem_page_ptr(pm, 0xff000, true));
    ck_assert_ptr_null(physmem_ram_page(pm, 0xff000));
    ck_assert(!physmem_add_rom(pm, 0xff800, rom, 16, "overlap"));
}
END_TEST

static uint64_t hook_pages[16];
static unsigned hook_n, listen_n;
static uint64_t listen_page;

static void hook(void *o, uint64_t page) { if (hook_n < 16) hook_pages[hook_n] = page; hook_n++; }
static void listener(void *o, uint64_t page) { listen_n++; listen_page = page; }

START_TEST(code_marks_hook_and_listeners)
{
    hook_n = listen_n = 0;
    physmem_set_code_hook(pm, hook, NULL);
    physmem_add_code_listener(pm, listener, NULL);
    ck_assert(!physmem_is_code(pm, 0x5000));
    physmem_mark_code(pm, 0x5123);
    ck_assert(physmem_is_code(pm, 0x5fff));
    ck_assert_uint_eq(listen_n, 1);
    ck_assert_uint_eq(listen_page, 0x5000);
    physmem_mark_code(pm, 0x5000);                  /* already marked: no second call */
    ck_assert_uint_eq(listen_n, 1);
    /* slow-path writes to the page run the hook; reads do not */
    physmem_read(pm, 0x5010, 4);
    ck_assert_uint_eq(hook_n, 0);
    physmem_write(pm, 0x5010, 1, 4);
    ck_assert_uint_eq(hook_n, 1);
    ck_assert_uint_eq(hook_pages[0], 0x5000);
    ck_assert_ptr_nonnull(physmem_page_ptr(pm, 0x5800, true));
    ck_assert_uint_eq(hook_n, 2);
    ck_assert_ptr_nonnull(physmem_page_ptr(pm, 0x5800, false));
    ck_assert_ptr_nonnull(physmem_ram_page(pm, 0x5800));    /* never runs hooks */
    ck_assert_uint_eq(hook_n, 2);
    uint8_t z[0x2000] = { 0 };
    physmem_write_bytes(pm, 0x4000, z, sizeof z);   /* pages 0x4000 and 0x5000 */
    ck_assert_uint_eq(hook_n, 3);
    physmem_write(pm, 0x6000, 1, 4);                /* not code */
    ck_assert_uint_eq(hook_n, 3);
    physmem_clear_code(pm, 0x5000);
    ck_assert(!physmem_is_code(pm, 0x5000));
    physmem_write(pm, 0x5010, 1, 4);
    ck_assert_uint_eq(hook_n, 3);
    physmem_remove_code_listener(pm, listener, NULL);
    physmem_mark_code(pm, 0x7000);
    ck_assert_uint_eq(listen_n, 1);
}
END_TEST

START_TEST(fast_write_entries_dropped_when_page_becomes_code)
{
    /* two VPs (paging off): both drop their fast write entry to a page that becomes code */
    struct mmu *m = calloc(2, sizeof *m);
    const char *err;
    for (int i = 0; i < 2; i++) {
        ck_assert(mmu_init(&m[i], pm, i, "skylake", TLB_MODEL_FAST, &err));
        mmu_set_cr0(&m[i], 1);
        struct xlate x;
        ck_assert(mmu_translate(&m[i], 0x9008, ACC_WRITE, &x));
        ck_assert_uint_eq(x.pa, 0x9008);
        ck_assert_uint_eq(m[i].fast[FAST_SUP].e[ACC_WRITE][9].tag, 0x9000);
    }
    physmem_mark_code(pm, 0x9000);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(m[i].fast[FAST_SUP].e[ACC_WRITE][9].tag, FAST_TAG_INVALID);
        struct xlate x;
        ck_assert(mmu_translate(&m[i], 0x9008, ACC_WRITE, &x));
        ck_assert_uint_eq(m[i].fast[FAST_SUP].e[ACC_WRITE][9].tag, FAST_TAG_INVALID);
        mmu_destroy(&m[i]);
    }
    free(m);
}
END_TEST


START_TEST(new_region_drops_fast_entries)
{
    /* a device mapped over RAM after a VP cached a host pointer to it */
    struct mmu *m = calloc(1, sizeof *m);
    const char *err;
    ck_assert(mmu_init(m, pm, 0, "skylake", TLB_MODEL_FAST, &err));
    mmu_set_cr0(m, 1);
    struct xlate x;
    ck_assert(mmu_translate(m, 0xa000, ACC_READ, &x));
    ck_assert_uint_eq(m->fast[FAST_SUP].e[ACC_READ][10].tag, 0xa000);
    struct dev d = { 0 };
    ck_assert(physmem_add_mmio(pm, 0xa000, 0x1000, dev_rd, dev_wr, &d, "late"));
    ck_assert_uint_eq(m->fast[FAST_SUP].e[ACC_READ][10].tag, FAST_TAG_INVALID);
    ck_assert(mmu_translate(m, 0xa000, ACC_READ, &x));
    ck_assert_uint_eq(m->fast[FAST_SUP].e[ACC_READ][10].tag, FAST_TAG_INVALID);
    mmu_destroy(m);
    free(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("physmem");
    TCase *t = tcase_create("physmem");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, ram_read_write);
    tcase_add_test(t, nothing_reads_all_ones);
    tcase_add_test(t, high_ram_above_4g);
    tcase_add_test(t, mmio_regions);
    tcase_add_test(t, rom_regions);
    tcase_add_test(t, code_marks_hook_and_listeners);
    tcase_add_test(t, fast_write_entries_dropped_when_page_becomes_code);
    tcase_add_test(t, new_region_drops_fast_entries);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
