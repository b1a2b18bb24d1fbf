/* Target sets of the flush and IPI hypercalls: 64-bit processor masks and sparse
 * HV_VP_SETs (HV-SPEC.md B-2.4: Format, ValidBanksMask, one bank per set bit in
 * ascending order; bank b covers VPs 64b..64b+63). */
#include "hv/hyperv.h"

#include <string.h>

bool hv_vpset_empty(const struct hv_vpset *s)
{
    for (unsigned i = 0; i < HV_VP_WORDS; i++)
        if (s->w[i])
            return false;
    return true;
}

unsigned hv_vpset_count(const struct hv_vpset *s)
{
    unsigned n = 0;
    for (unsigned i = 0; i < HV_VP_WORDS; i++)
        n += (unsigned)__builtin_popcountll(s->w[i]);
    return n;
}

bool hv_vpset_has(const struct hv_vpset *s, unsigned vp)
{
    return vp < HV_MAX_VPS && (s->w[vp / 64] >> (vp % 64) & 1);
}

void hv_vpset_add(struct hv_vpset *s, unsigned vp)
{
    if (vp < HV_MAX_VPS)
        s->w[vp / 64] |= 1ull << (vp % 64);
}

static void clip(struct hv_vpset *s, unsigned nr_vps)
{
    for (unsigned i = 0; i < HV_VP_WORDS; i++) {
        unsigned lo = i * 64;
        if (nr_vps <= lo)
            s->w[i] = 0;
        else if (nr_vps - lo < 64)
            s->w[i] &= (1ull << (nr_vps - lo)) - 1;
    }
}

void hv_vpset_all(struct hv_vpset *s, unsigned nr_vps)
{
    memset(s, 0xFF, sizeof *s);
    clip(s, nr_vps);
}

void hv_vpset_from_mask(struct hv_vpset *s, uint64_t mask, unsigned nr_vps)
{
    memset(s, 0, sizeof *s);
    s->w[0] = mask;
    clip(s, nr_vps);
}

unsigned hv_vpset_parse(struct hv_vpset *s, const struct hv_call *hc, size_t off,
                        unsigned nr_vps, uint64_t *format, bool *named_any)
{
    memset(s, 0, sizeof *s);
    *named_any = false;
    if (off + 16 > hc->in_len)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    *format = hv_in_u64(hc, off);
    uint64_t valid = hv_in_u64(hc, off + 8);
    if (*format == HV_GENERIC_SET_ALL) {
        hv_vpset_all(s, nr_vps);
        *named_any = true;
        return HV_STATUS_SUCCESS;
    }
    if (*format != HV_GENERIC_SET_SPARSE_4K)
        return HV_STATUS_SUCCESS;           /* the caller decides (INVALID_PARAMETER / KVM: all) */
    size_t bank_off = off + 16;
    if (bank_off + 8 * (size_t)__builtin_popcountll(valid) > hc->in_len)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    for (unsigned b = 0; b < 64; b++) {
        if (!(valid >> b & 1))
            continue;
        uint64_t bank = hv_in_u64(hc, bank_off);
        bank_off += 8;
        if (bank)
            *named_any = true;
        if (b < HV_VP_WORDS)
            s->w[b] = bank;                 /* higher banks name VPs that cannot exist */
    }
    clip(s, nr_vps);
    return HV_STATUS_SUCCESS;
}
