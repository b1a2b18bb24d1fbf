/* The ACPI tables (roms/acpi.c) and the AML emitter (roms/aml.c), against the
 * ACPI 6.4 specification: every table's checksum and length, the RSDP (both
 * checksums, found by a legacy scan), the XSDT/RSDT entries, the FADT fields
 * Linux reads, the MADT entries for N VPs, the HPET table, and the DSDT's \_S5
 * decoded by hand.  Expected values are written out here from the spec, not
 * taken from the code under test. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mmu/physmem.h"
#include "roms/acpi.h"
#include "roms/aml.h"
#include "roms/e820.h"

#define REGION_BASE 0x1FFE0000ull
#define REGION_CAP  (128 * 1024)

static uint8_t region[REGION_CAP];
static uint8_t rsdp[ACPI_RSDP_LEN];
static struct acpi_layout L;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* The table at guest address gpa, inside the built region. */
static const uint8_t *at(uint64_t gpa)
{
    ck_assert_uint_ge(gpa, REGION_BASE);
    ck_assert_uint_lt(gpa, REGION_BASE + REGION_CAP);
    return region + (gpa - REGION_BASE);
}

static const uint8_t *table(uint64_t gpa, const char *sig)
{
    const uint8_t *t = at(gpa);
    ck_assert_msg(memcmp(t, sig, 4) == 0, "expected %s at 0x%llx", sig, (unsigned long long)gpa);
    uint32_t len = rd32(t + 4);
    ck_assert_uint_ge(len, 36);
    ck_assert_uint_le(gpa - REGION_BASE + len, L.region_used);
    ck_assert_msg(sum(t, len) == 0, "%s checksum", sig);
    ck_assert(memcmp(t + 10, "HVEMU ", 6) == 0);    /* OEM ID */
    return t;
}

static void build(unsigned nr_vps)
{
    struct acpi_config cfg = { nr_vps, 512ull << 20 };
    ck_assert(acpi_build(&cfg, REGION_BASE, region, sizeof region, rsdp, &L));
}

START_TEST(test_rsdp)
{
    build(2);
    ck_assert(memcmp(rsdp, "RSD PTR ", 8) == 0);
    ck_assert_uint_eq(sum(rsdp, 20), 0);            /* ACPI 1.0 checksum, bytes 0-19 */
    ck_assert_uint_eq(sum(rsdp, 36), 0);            /* extended checksum */
    ck_assert_uint_eq(rsdp[15], 2);                 /* revision 2: XSDT present */
    ck_assert_uint_eq(rd32(rsdp + 20), 36);
    ck_assert_uint_eq(rd32(rsdp + 16), L.rsdt);
    ck_assert_uint_eq(rd64(rsdp + 24), L.xsdt);
    ck_assert_uint_eq(L.rsdp, 0xF5A00);
    ck_assert_uint_eq(L.rsdp % 16, 0);
    ck_assert_uint_ge(L.rsdp, 0xE0000);
    ck_assert_uint_lt(L.rsdp, 0x100000);
}
END_TEST

START_TEST(test_xsdt_rsdt)
{
    build(2);
    const uint8_t *x = table(L.xsdt, "XSDT");
    const uint8_t *r = table(L.rsdt, "RSDT");
    ck_assert_uint_eq(rd32(x + 4), 36 + 3 * 8);
    ck_assert_uint_eq(rd32(r + 4), 36 + 3 * 4);
    static const char *sigs[3] = { "FACP", "APIC", "HPET" };
    for (unsigned i = 0; i < 3; i++) {
        uint64_t a = rd64(x + 36 + 8 * i);
        ck_assert_uint_eq(rd32(r + 36 + 4 * i), a);
        table(a, sigs[i]);
    }
}
END_TEST

START_TEST(test_fadt)
{
    build(1);
    const uint8_t *f = table(L.fadt, "FACP");
    ck_assert_uint_eq(rd32(f + 4), 276);            /* revision 6 length */
    ck_assert_uint_eq(f[8], 6);
    uint32_t facs = rd32(f + 36), dsdt = rd32(f + 40);
    ck_assert_uint_eq(rd64(f + 140), dsdt);         /* X_DSDT agrees */
    ck_assert_uint_eq(rd64(f + 132), 0);            /* X_FIRMWARE_CTRL unused: one FACS pointer */
    const uint8_t *fc = at(facs);
    ck_assert(memcmp(fc, "FACS", 4) == 0);
    ck_assert_uint_eq(rd32(fc + 4), 64);
    ck_assert_uint_eq(facs % 64, 0);                /* §5.2.10: 64-byte aligned */
    table(dsdt, "DSDT");
    ck_assert_uint_eq(rd16(f + 46), 9);             /* SCI_INT */
    ck_assert_uint_eq(rd32(f + 48), 0xB2);          /* SMI_CMD */
    ck_assert_uint_eq(f[52], 0xF1);
    ck_assert_uint_eq(f[53], 0xF0);
    ck_assert_uint_eq(rd32(f + 56), 0x600);         /* PM1a_EVT_BLK */
    ck_assert_uint_eq(rd32(f + 64), 0x604);         /* PM1a_CNT_BLK */
    ck_assert_uint_eq(rd32(f + 76), 0x608);         /* PM_TMR_BLK */
    ck_assert_uint_eq(rd32(f + 80), 0xAFE0);        /* GPE0_BLK */
    ck_assert_uint_eq(f[88], 4);
    ck_assert_uint_eq(f[89], 2);
    ck_assert_uint_eq(f[91], 4);
    ck_assert_uint_eq(f[92], 4);
    ck_assert_uint_eq(rd32(f + 60), 0);             /* no PM1b */
    ck_assert_uint_eq(rd16(f + 109) & 0x2, 0x2);    /* IAPC_BOOT_ARCH: 8042 */
    uint32_t flags = rd32(f + 112);
    ck_assert(flags & (1u << 10));                  /* RESET_REG_SUP */
    ck_assert(!(flags & (1u << 8)));                /* TMR_VAL_EXT clear: 24-bit timer */
    ck_assert(!(flags & (1u << 20)));               /* not HW_REDUCED_ACPI */
    /* RESET_REG: system I/O, 8 bits, offset 0, byte access, 0xCF9; value 6. */
    static const uint8_t reset_gas[12] = { 1, 8, 0, 1, 0xF9, 0x0C, 0, 0, 0, 0, 0, 0 };
    ck_assert(memcmp(f + 116, reset_gas, 12) == 0);
    ck_assert_uint_eq(f[128], 6);
    /* X_ blocks: I/O space, widths 8 * the lengths above, same addresses. */
    static const struct { unsigned off; uint8_t width; uint64_t addr; } x[] = {
        { 148, 32, 0x600 }, { 172, 16, 0x604 }, { 208, 32, 0x608 }, { 220, 32, 0xAFE0 },
    };
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_eq(f[x[i].off], 1);
        ck_assert_uint_eq(f[x[i].off + 1], x[i].width);
        ck_assert_uint_eq(rd64(f + x[i].off + 4), x[i].addr);
    }
    for (unsigned off = 160; off < 172; off++)      /* X_PM1b_EVT_BLK all zero */
        ck_assert_uint_eq(f[off], 0);
}
END_TEST

static void check_madt(unsigned n)
{
    build(n);
    const uint8_t *m = table(L.madt, "APIC");
    uint32_t len = rd32(m + 4);
    ck_assert_uint_eq(rd32(m + 36), 0xFEE00000);
    ck_assert_uint_eq(rd32(m + 40) & 1, 1);         /* PCAT_COMPAT */
    unsigned nlapic = 0, nioapic = 0, novr = 0, nnmi = 0;
    bool seen[256] = { false };
    uint32_t o = 44;
    while (o < len) {
        const uint8_t *e = m + o;
        ck_assert_uint_ge(e[1], 2);
        ck_assert_uint_le(o + e[1], len);
        switch (e[0]) {
        case 0:
            ck_assert_uint_eq(e[1], 8);
            ck_assert_uint_lt(e[3], n);
            ck_assert(!seen[e[3]]);
            seen[e[3]] = true;
            ck_assert_uint_eq(rd32(e + 4) & 1, 1);  /* enabled */
            nlapic++;
            break;
        case 1:
            ck_assert_uint_eq(e[1], 12);
            ck_assert_uint_eq(rd32(e + 4), 0xFEC00000);
            ck_assert_uint_eq(rd32(e + 8), 0);
            nioapic++;
            break;
        case 2:
            ck_assert_uint_eq(e[1], 10);
            ck_assert_uint_eq(e[2], 0);             /* ISA */
            if (e[3] == 0) {
                ck_assert_uint_eq(rd32(e + 4), 2);
                ck_assert_uint_eq(rd16(e + 8), 0);
            } else {
                ck_assert_uint_eq(e[3], 9);
                ck_assert_uint_eq(rd32(e + 4), 9);
                ck_assert_uint_eq(rd16(e + 8), 0x000D);     /* active high (01), level (11 << 2) */
            }
            novr++;
            break;
        case 4:
            ck_assert_uint_eq(e[1], 6);
            ck_assert_uint_eq(e[2], 0xFF);
            ck_assert_uint_eq(e[5], 1);             /* LINT1 */
            nnmi++;
            break;
        default:
            ck_abort_msg("unexpected MADT entry type %u", e[0]);
        }
        o += e[1];
    }
    ck_assert_uint_eq(o, len);
    ck_assert_uint_eq(nlapic, n);
    ck_assert_uint_eq(nioapic, 1);
    ck_assert_uint_eq(novr, 2);
    ck_assert_uint_eq(nnmi, 1);
    ck_assert_uint_eq(len, 44 + 8 * n + 12 + 2 * 10 + 6);
}

START_TEST(test_madt)
{
    check_madt(1);
    check_madt(2);
    check_madt(4);
    check_madt(128);
}
END_TEST

START_TEST(test_hpet)
{
    build(1);
    const uint8_t *h = table(L.hpet, "HPET");
    ck_assert_uint_eq(rd32(h + 4), 56);
    ck_assert_uint_eq(rd32(h + 36), 0x8086A201);
    ck_assert_uint_eq(h[40], 0);                    /* system memory */
    ck_assert_uint_eq(rd64(h + 44), 0xFED00000);
}
END_TEST

START_TEST(test_dsdt_s5)
{
    build(1);
    const uint8_t *d = table(L.dsdt, "DSDT");
    uint32_t len = rd32(d + 4);
    ck_assert_uint_eq(d[8], 2);
    /* Name (\_S5, Package (4) { 0, 0, 0, 0 }) by hand (ACPI 6.4 §20.2.5.1, §20.2.5.4):
     * NameOp 08, '\' 5C, "_S5_", PackageOp 12, PkgLength 06 (itself + NumElements +
     * four ZeroOps), NumElements 04, ZeroOp x4.  SLP_TYP 0 = QEMU's PIIX4 S5 value,
     * the one devices/acpi_pm.c powers off on. */
    static const uint8_t want[] = { 0x08, 0x5C, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
    ck_assert(memcmp(d + 36, want, sizeof want) == 0);
    /* \_SB.COM1 with _HID EISAID("PNP0501") = 0x0105D041 as a DWord (0C 41 D0 05 01). */
    static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01 };
    bool found = false;
    for (uint32_t o = 36; o + sizeof hid <= len && !found; o++)
        found = memcmp(d + o, hid, sizeof hid) == 0;
    ck_assert(found);
    /* Scope (\_SB): ScopeOp 10, PkgLength covering the rest of the table. */
    uint32_t s = 36 + sizeof want;
    ck_assert_uint_eq(d[s], 0x10);
    ck_assert_uint_eq(d[s + 1], len - s - 1);       /* one-byte PkgLength: body + itself */
    ck_assert(memcmp(d + s + 2, "\\_SB_", 5) == 0);
}
END_TEST

START_TEST(test_aml_encodings)
{
    uint8_t pl[4];
    ck_assert_uint_eq(aml_pkglength(0, pl), 1);
    ck_assert_uint_eq(pl[0], 0x01);
    ck_assert_uint_eq(aml_pkglength(62, pl), 1);
    ck_assert_uint_eq(pl[0], 0x3F);
    /* 63-byte body: total 65 = 0x41 in two bytes: lead 0x40 | 0x1, then 0x41 >> 4. */
    ck_assert_uint_eq(aml_pkglength(63, pl), 2);
    ck_assert_uint_eq(pl[0], 0x41);
    ck_assert_uint_eq(pl[1], 0x04);
    /* 5000-byte body: 2 bytes hold < 4096, so 3: total 5003 = 0x138B. */
    ck_assert_uint_eq(aml_pkglength(5000, pl), 3);
    ck_assert_uint_eq(pl[0], 0x8B);
    ck_assert_uint_eq(pl[1], 0x38);
    ck_assert_uint_eq(pl[2], 0x01);

    ck_assert_uint_eq(aml_eisaid("PNP0501"), 0x0105D041);
    ck_assert_uint_eq(aml_eisaid("PNP0A03"), 0x030AD041);

    uint8_t buf[64];
    struct aml a;
    aml_init(&a, buf, sizeof buf);
    aml_integer(&a, 0);
    aml_integer(&a, 1);
    aml_integer(&a, 0x20);
    aml_integer(&a, 0x3F8);
    aml_integer(&a, 0x12345678);
    static const uint8_t ints[] = { 0x00, 0x01, 0x0A, 0x20, 0x0B, 0xF8, 0x03, 0x0C, 0x78, 0x56, 0x34, 0x12 };
    ck_assert_uint_eq(a.len, sizeof ints);
    ck_assert(memcmp(buf, ints, sizeof ints) == 0);

    aml_init(&a, buf, sizeof buf);
    aml_namestring(&a, "\\_SB.COM1");
    static const uint8_t ns[] = { 0x5C, 0x2E, '_', 'S', 'B', '_', 'C', 'O', 'M', '1' };
    ck_assert_uint_eq(a.len, sizeof ns);
    ck_assert(memcmp(buf, ns, sizeof ns) == 0);

    /* A construct whose body needs a two-byte PkgLength moves the body right. */
    static uint8_t big[200];
    aml_init(&a, big, sizeof big);
    static const uint8_t op = 0x10;
    size_t st = aml_open(&a, &op, 1);
    for (int i = 0; i < 70; i++)
        aml_byte(&a, (uint8_t)i);
    aml_close(&a, st);
    ck_assert(!a.overflow);
    ck_assert_uint_eq(a.len, 1 + 2 + 70);
    ck_assert_uint_eq(big[1], 0x40 | ((72) & 0xF));
    ck_assert_uint_eq(big[2], 72 >> 4);
    ck_assert_uint_eq(big[3], 0);
    ck_assert_uint_eq(big[72], 69);

    /* Overflow is reported, not written past. */
    uint8_t tiny[4] = { 0 };
    aml_init(&a, tiny, 3);
    aml_namestring(&a, "_S5");
    ck_assert(a.overflow);
}
END_TEST

START_TEST(test_install_and_scan)
{
    const char *why = NULL;
    struct physmem *pm = physmem_new(64ull << 20, &why);
    ck_assert(pm);
    struct acpi_config cfg = { 4, 64ull << 20 };
    char err[256];
    struct acpi_layout lay;
    ck_assert_msg(acpi_install(pm, &cfg, &lay, err, sizeof err), "%s", err);
    /* A legacy scan (§5.2.5.1): 16-byte boundaries of 0xE0000-0xFFFFF. */
    uint64_t found = 0;
    for (uint64_t a = 0xE0000; a < 0x100000 && !found; a += 16) {
        uint8_t b[36];
        physmem_read_bytes(pm, a, b, 36);
        if (memcmp(b, "RSD PTR ", 8) == 0 && sum(b, 20) == 0)
            found = a;
    }
    ck_assert_uint_eq(found, lay.rsdp);
    /* Every table lies in the e820 entry reserved for the firmware. */
    struct e820_entry map[E820_MAX];
    unsigned n = e820_build(cfg.ram_size, map);
    const struct e820_entry *fw = NULL;
    for (unsigned i = 0; i < n; i++)
        if (map[i].addr <= lay.xsdt && lay.xsdt < map[i].addr + map[i].size)
            fw = &map[i];
    ck_assert_ptr_nonnull(fw);
    ck_assert_uint_eq(fw->type, E820_RESERVED);
    ck_assert_uint_ge(lay.facs, fw->addr);
    ck_assert_uint_le(lay.region_base + lay.region_used, fw->addr + fw->size);
    uint8_t sig[4];
    physmem_read_bytes(pm, lay.madt, sig, 4);
    ck_assert(memcmp(sig, "APIC", 4) == 0);
    physmem_free(pm);
}
END_TEST

static Suite *acpi_suite(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rsdp);
    tcase_add_test(tc, test_xsdt_rsdt);
    tcase_add_test(tc, test_fadt);
    tcase_add_test(tc, test_madt);
    tcase_add_test(tc, test_hpet);
    tcase_add_test(tc, test_dsdt_s5);
    tcase_add_test(tc, test_aml_encodings);
    tcase_add_test(tc, test_install_and_scan);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(acpi_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
