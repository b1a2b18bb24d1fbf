/* Target sets of the flush and IPI hypercalls (HV-SPEC.md B-2.4): 64-bit masks and
 * sparse HV_VP_SETs, including garbage from the guest. */
#include "hv/hyperv.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct hv_call call_on(const uint64_t *q, size_t nq)
{
    struct hv_call hc;
    memset(&hc, 0, sizeof hc);
    hc.in = (const uint8_t *)q;
    hc.in_len = nq * 8;
    return hc;
}

START_TEST(tlfs_example)
{
    /* TLFS: VPs {0, 5, 130} -> ValidBanksMask 0x5, banks {0x21, 0x4} */
    const uint64_t q[4] = { HV_GENERIC_SET_SPARSE_4K, 0x5, 0x21, 0x4 };
    struct hv_call hc = call_on(q, 4);
    struct hv_vpset s;
    uint64_t fmt;
    bool named;
    /* 128 VPs: 130 cannot exist and is ignored */
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 128, &fmt, &named), HV_STATUS_SUCCESS);
    ck_assert(named);
    ck_assert_uint_eq(fmt, 0);
    ck_assert_uint_eq(hv_vpset_count(&s), 2);
    ck_assert(hv_vpset_has(&s, 0) && hv_vpset_has(&s, 5) && !hv_vpset_has(&s, 130));
    /* 4 VPs: only VP 0 */
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 4, &fmt, &named), HV_STATUS_SUCCESS);
    ck_assert_uint_eq(hv_vpset_count(&s), 1);
    ck_assert(hv_vpset_has(&s, 0));
}
END_TEST

START_TEST(bank1_and_empty_banks)
{
    /* {65}: bank 1 only */
    const uint64_t q1[3] = { 0, 0x2, 0x2 };
    struct hv_call hc = call_on(q1, 3);
    struct hv_vpset s;
    uint64_t fmt;
    bool named;
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 128, &fmt, &named), 0);
    ck_assert_uint_eq(hv_vpset_count(&s), 1);
    ck_assert(hv_vpset_has(&s, 65));
    /* Linux's contiguous banks with an empty one: banks 0 and 1, bank 0 empty */
    const uint64_t q2[4] = { 0, 0x3, 0, 0x8000000000000000ull };
    hc = call_on(q2, 4);
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 128, &fmt, &named), 0);
    ck_assert(named);
    ck_assert_uint_eq(hv_vpset_count(&s), 1);
    ck_assert(hv_vpset_has(&s, 127));
    /* all banks zero: nothing named */
    const uint64_t q3[4] = { 0, 0x3, 0, 0 };
    hc = call_on(q3, 4);
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 128, &fmt, &named), 0);
    ck_assert(!named);
    ck_assert(hv_vpset_empty(&s));
}
END_TEST

START_TEST(all_format_and_garbage)
{
    struct hv_vpset s;
    uint64_t fmt;
    bool named;
    const uint64_t all[2] = { HV_GENERIC_SET_ALL, 0xFFFF };
    struct hv_call hc = call_on(all, 2);
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 70, &fmt, &named), 0);
    ck_assert_uint_eq(fmt, HV_GENERIC_SET_ALL);
    ck_assert_uint_eq(hv_vpset_count(&s), 70);
    ck_assert(hv_vpset_has(&s, 69) && !hv_vpset_has(&s, 70));
    /* format 7: reported to the caller, nothing parsed */
    const uint64_t f7[2] = { 7, 1 };
    hc = call_on(f7, 2);
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 70, &fmt, &named), 0);
    ck_assert_uint_eq(fmt, 7);
    ck_assert(hv_vpset_empty(&s));
    /* 64 valid banks but only 2 present in the input: INVALID_HYPERCALL_INPUT, no overread */
    const uint64_t many[4] = { 0, ~0ull, 1, 1 };
    hc = call_on(many, 4);
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 128, &fmt, &named), HV_STATUS_INVALID_HYPERCALL_INPUT);
    /* header itself truncated */
    hc = call_on(many, 1);
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 128, &fmt, &named), HV_STATUS_INVALID_HYPERCALL_INPUT);
    /* all 64 banks present and full: only VPs < nr_vps */
    static uint64_t full[66];
    full[0] = 0;
    full[1] = ~0ull;
    for (int i = 0; i < 64; i++)
        full[2 + i] = ~0ull;
    hc = call_on(full, 66);
    ck_assert_uint_eq(hv_vpset_parse(&s, &hc, 0, 100, &fmt, &named), 0);
    ck_assert_uint_eq(hv_vpset_count(&s), 100);
}
END_TEST

START_TEST(masks)
{
    struct hv_vpset s;
    hv_vpset_from_mask(&s, 0x51, 128);          /* TLFS example: VPs 0, 4, 6 */
    ck_assert_uint_eq(hv_vpset_count(&s), 3);
    ck_assert(hv_vpset_has(&s, 0) && hv_vpset_has(&s, 4) && hv_vpset_has(&s, 6));
    hv_vpset_from_mask(&s, ~0ull, 3);
    ck_assert_uint_eq(hv_vpset_count(&s), 3);
    hv_vpset_from_mask(&s, 1ull << 63, 64);
    ck_assert(hv_vpset_has(&s, 63));
    hv_vpset_all(&s, 128);
    ck_assert_uint_eq(hv_vpset_count(&s), 128);
    hv_vpset_all(&s, 1);
    ck_assert_uint_eq(hv_vpset_count(&s), 1);
    ck_assert(!hv_vpset_has(&s, 1000));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hv_vpset");
    TCase *t = tcase_create("core");
    tcase_add_test(t, tlfs_example);
    tcase_add_test(t, bank1_and_empty_banks);
    tcase_add_test(t, all_format_and_garbage);
    tcase_add_test(t, masks);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
