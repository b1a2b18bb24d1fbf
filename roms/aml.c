/* AML emitter; encodings from ACPI 6.4 §20.2 (see roms/aml.h). */
#include "roms/aml.h"

#include <string.h>

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
    a->buf = buf;
    a->cap = cap;
    a->len = 0;
    a->overflow = false;
}

void aml_byte(struct aml *a, uint8_t b)
{
    if (a->len >= a->cap) {
        a->overflow = true;
        return;
    }
    a->buf[a->len++] = b;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aml_byte(a, ((const uint8_t *)p)[i]);
}

void aml_integer(struct aml *a, uint64_t v)
{
    unsigned n;
    if (v == 0) {
        aml_byte(a, AML_ZERO_OP);
        return;
    }
    if (v == 1) {
        aml_byte(a, AML_ONE_OP);
        return;
    }
    if (v <= 0xff) {
        aml_byte(a, AML_BYTE_PREFIX);
        n = 1;
    } else if (v <= 0xffff) {
        aml_byte(a, AML_WORD_PREFIX);
        n = 2;
    } else if (v <= 0xffffffffu) {
        aml_byte(a, AML_DWORD_PREFIX);
        n = 4;
    } else {
        aml_byte(a, AML_QWORD_PREFIX);
        n = 8;
    }
    for (unsigned i = 0; i < n; i++)
        aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_namestring(struct aml *a, const char *path)
{
    if (*path == '\\') {
        aml_byte(a, AML_ROOT_CHAR);
        path++;
    }
    unsigned nseg = 1;
    for (const char *p = path; *p; p++)
        nseg += *p == '.';
    if (nseg == 2) {
        aml_byte(a, AML_DUAL_NAME);
    } else if (nseg > 2) {
        aml_byte(a, AML_MULTI_NAME);
        aml_byte(a, (uint8_t)nseg);
    }
    while (nseg--) {
        size_t n = strcspn(path, ".");
        for (size_t i = 0; i < 4; i++)
            aml_byte(a, i < n ? (uint8_t)path[i] : '_');
        path += n + (path[n] == '.');
    }
}

unsigned aml_pkglength(size_t body_len, uint8_t out[4])
{
    /* One byte holds 0-63; with 1-3 follow bytes the lead byte keeps 4 bits
     * (bits 7-6 = follow count) and each follow byte 8 more. */
    if (body_len + 1 < 0x40) {
        out[0] = (uint8_t)(body_len + 1);
        return 1;
    }
    for (unsigned n = 2; n <= 4; n++) {
        size_t total = body_len + n;
        if (total < (1ull << (4 + 8 * (n - 1)))) {
            out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
            for (unsigned i = 1; i < n; i++)
                out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
            return n;
        }
    }
    return 0;
}

size_t aml_open(struct aml *a, const uint8_t *op, size_t oplen)
{
    aml_bytes(a, op, oplen);
    return a->len;
}

void aml_close(struct aml *a, size_t body_start)
{
    uint8_t pl[4];
    unsigned n = aml_pkglength(a->len - body_start, pl);
    if (n == 0 || a->overflow || a->len + n > a->cap) {
        a->overflow = true;
        return;
    }
    memmove(a->buf + body_start + n, a->buf + body_start, a->len - body_start);
    memcpy(a->buf + body_start, pl, n);
    a->len += n;
}

uint32_t aml_eisaid(const char *id)
{
    /* Three letters of 5 bits ('A' = 1), then four hex digits, stored big-endian
     * in a little-endian DWord (ACPI 6.4 §19.6.35 EISAID). */
    uint32_t v = 0;
    for (int i = 0; i < 3; i++)
        v = (v << 5) | ((uint32_t)(id[i] - 0x40) & 0x1f);
    for (int i = 3; i < 7; i++) {
        char c = id[i];
        uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0') : (uint32_t)((c | 0x20) - 'a' + 10);
        v = (v << 4) | (d & 0xf);
    }
    return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}
