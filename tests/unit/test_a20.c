/* The A20 gate in the mmu (mmu_set_a20): with the gate off, physical address bit 20
 * is 0 outside IA-32e mode (real-mode addresses wrap at 1 MiB); fast-cache entries
 * made under the other setting are dropped. */
#include <check.h>
#include <stdlib.h>
#include "mmu/mmu.h"
#include "mmu/physmem.h"

static struct physmem *pm;
static struct mmu m;

static void setup(void)
{
    const char *err = NULL;
    pm = physmem_new(4u << 20, &err);
    ck_assert_ptr_nonnull(pm);
    ck_assert(mmu_init(&m, pm, 0, "skylake", TLB_MODEL_FAST, &err));
    mmu_set_cr0(&m, 0x10);          /* PE=0, PG=0: real mode */
}

static void teardown(void)
{
    mmu_destroy(&m);
    physmem_free(pm);
}

START_TEST(gate_on_is_identity)
{
    struct xlate x;
    ck_assert(mmu_translate(&m, 0x10fff0, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x10fff0);
}
END_TEST

START_TEST(gate_off_wraps_at_1mib)
{
    struct xlate x;
    mmu_set_a20(&m, false);
    ck_assert(mmu_translate(&m, 0x10fff0, ACC_READ, &x));     /* FFFF:FFFF-ish */
    ck_assert_uint_eq(x.pa, 0x00fff0);
    ck_assert(mmu_translate(&m, 0x30fff0, ACC_WRITE, &x));    /* only bit 20 is masked */
    ck_assert_uint_eq(x.pa, 0x20fff0);
    mmu_set_a20(&m, true);
    ck_assert(mmu_translate(&m, 0x10fff0, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x10fff0);
}
END_TEST

START_TEST(toggle_drops_fast_entries)
{
    struct xlate x;
    uint64_t la = 0x101000;
    ck_assert(mmu_translate(&m, la, ACC_READ, &x));           /* fills the fast cache */
    const struct fast_entry *e = &m.fast_cur->e[ACC_READ][(la >> 12) & (FAST_ENTRIES - 1)];
    ck_assert_uint_eq(e->tag, la);
    mmu_set_a20(&m, false);
    ck_assert(e->tag != la);        /* would still point at the page above 1 MiB */
    ck_assert(mmu_translate(&m, la, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x001000);
}
END_TEST

START_TEST(long_mode_ignores_the_gate)
{
    struct xlate x;
    mmu_set_a20(&m, false);
    mmu_set_efer(&m, (1ull << 8) | (1ull << 10));   /* LME | LMA, paging still off here */
    ck_assert(mmu_translate(&m, 0x10fff0, ACC_READ, &x));
    ck_assert_uint_eq(x.pa, 0x10fff0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("a20");
    TCase *tc = tcase_create("gate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, gate_on_is_identity);
    tcase_add_test(tc, gate_off_wraps_at_1mib);
    tcase_add_test(tc, toggle_drops_fast_entries);
    tcase_add_test(tc, long_mode_ignores_the_gate);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
