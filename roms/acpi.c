/* ACPI tables for the configured machine; layout and sources in roms/acpi.h. */
#include "roms/acpi.h"
#include "roms/aml.h"
#include "roms/e820.h"
#include "mmu/physmem.h"
#include "devices/acpi_pm.h"
#include "devices/reset.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/hpet.h"
#include "devices/uart16550.h"

#include <stdio.h>
#include <string.h>

#define COM1_IRQ 4
#define IOAPIC_ID 0             /* devices/ioapic.c: the ID register resets to 0 */

static void put8(uint8_t *p, uint8_t v) { p[0] = v; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return (uint8_t)-s;
}

/* The common header (§5.2.6, Table 5.4); the checksum is set by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    put8(t + 8, rev);
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
    put32(t + 24, 1);                   /* OEM revision */
    memcpy(t + 28, ACPI_CREATOR_ID, 4);
    put32(t + 32, 1);                   /* creator revision */
}

static void finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = acpi_checksum(t, len);
}

/* Generic Address Structure (§5.2.3.2, Table 5.1). */
static void gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access, uint64_t addr)
{
    p[0] = space;
    p[1] = bit_width;
    p[2] = 0;                           /* bit offset */
    p[3] = access;                      /* 0: undefined, the OS uses bit_width */
    put64(p + 4, addr);
}

size_t acpi_dsdt_body(uint8_t *buf, size_t cap)
{
    struct aml a;
    aml_init(&a, buf, cap);

    /* Name (\_S5, Package (4) { S5, S5, 0, 0 }): SLP_TYPa, SLP_TYPb, reserved
     * (§7.4.2); the value is what devices/acpi_pm.c powers off on. */
    aml_byte(&a, AML_NAME_OP);
    aml_namestring(&a, "\\_S5");
    static const uint8_t pkg_op[] = { AML_PACKAGE_OP };
    size_t pkg = aml_open(&a, pkg_op, 1);
    aml_byte(&a, 4);                    /* NumElements */
    aml_integer(&a, ACPI_PM_S5_SLP_TYP);
    aml_integer(&a, ACPI_PM_S5_SLP_TYP);
    aml_integer(&a, 0);
    aml_integer(&a, 0);
    aml_close(&a, pkg);

    /* Scope (\_SB) { Device (COM1) { _HID PNP0501, _UID 1, _CRS IO 0x3F8/8 + IRQ 4 } } */
    static const uint8_t scope_op[] = { AML_SCOPE_OP };
    static const uint8_t dev_op[] = { AML_EXT_OP, AML_DEVICE_OP };
    size_t sb = aml_open(&a, scope_op, 1);
    aml_namestring(&a, "\\_SB");
    size_t dev = aml_open(&a, dev_op, 2);
    aml_namestring(&a, "COM1");
    aml_byte(&a, AML_NAME_OP);
    aml_namestring(&a, "_HID");
    aml_integer(&a, aml_eisaid("PNP0501"));
    aml_byte(&a, AML_NAME_OP);
    aml_namestring(&a, "_UID");
    aml_integer(&a, 1);
    aml_byte(&a, AML_NAME_OP);
    aml_namestring(&a, "_CRS");
    /* Resource descriptors (§6.4.2): I/O port (decode16, min = max = base, align 1,
     * length 8), IRQ without flags (mask bit 4), end tag (checksum 0 = none). */
    const uint8_t crs[] = {
        0x47, 0x01, UART_COM1_BASE & 0xff, UART_COM1_BASE >> 8, UART_COM1_BASE & 0xff,
        UART_COM1_BASE >> 8, 0x01, 0x08,
        0x22, 1u << COM1_IRQ, 0x00,
        0x79, 0x00,
    };
    static const uint8_t buf_op[] = { AML_BUFFER_OP };
    size_t b = aml_open(&a, buf_op, 1);
    aml_integer(&a, sizeof crs);
    aml_bytes(&a, crs, sizeof crs);
    aml_close(&a, b);
    aml_close(&a, dev);
    aml_close(&a, sb);
    return a.overflow ? 0 : a.len;
}

static uint32_t build_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
    /* Offsets: ACPI 6.4 §5.2.9, Table 5.9. */
    memset(t, 0, ACPI_FADT_LEN);
    header(t, "FACP", ACPI_FADT_LEN, ACPI_FADT_REV);
    put32(t + 36, (uint32_t)facs);      /* FIRMWARE_CTRL */
    put32(t + 40, (uint32_t)dsdt);      /* DSDT */
    put16(t + 46, ACPI_SCI_IRQ);        /* SCI_INT */
    put32(t + 48, ACPI_SMI_CMD);
    put8(t + 52, ACPI_ENABLE_VALUE);
    put8(t + 53, ACPI_DISABLE_VALUE);
    put32(t + 56, ACPI_PM1A_EVT_BLK);
    put32(t + 64, ACPI_PM1A_CNT_BLK);
    put32(t + 76, ACPI_PM_TMR_BLK);
    put32(t + 80, ACPI_GPE0_BLK);
    put8(t + 88, ACPI_PM1_EVT_LEN);
    put8(t + 89, ACPI_PM1_CNT_LEN);
    put8(t + 91, ACPI_PM_TMR_LEN);
    put8(t + 92, ACPI_GPE0_BLK_LEN);
    put16(t + 96, 0xFFF);               /* P_LVL2_LAT > 100: no C2 */
    put16(t + 98, 0xFFF);               /* P_LVL3_LAT > 1000: no C3 */
    put8(t + 108, FADT_CENTURY);
    put16(t + 109, FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042);  /* i8042 is emulated */
    put32(t + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
                   FADT_F_RESET_REG_SUP);   /* TMR_VAL_EXT clear: 24-bit PM timer */
    gas(t + 116, GAS_IO, 8, 1, PC_RESET_PORT);  /* RESET_REG, byte access */
    put8(t + 128, FADT_RESET_VALUE);
    put8(t + 131, 0);                   /* FADT minor version: 6.0 */
    /* X_FIRMWARE_CTRL stays 0: only one FACS pointer may be set (Table 5.9), and
     * Linux (ACPICA) installs the FACS twice when both are. */
    put64(t + 140, dsdt);               /* X_DSDT */
    gas(t + 148, GAS_IO, 8 * ACPI_PM1_EVT_LEN, 0, ACPI_PM1A_EVT_BLK);
    gas(t + 172, GAS_IO, 8 * ACPI_PM1_CNT_LEN, 0, ACPI_PM1A_CNT_BLK);
    gas(t + 208, GAS_IO, 8 * ACPI_PM_TMR_LEN, 0, ACPI_PM_TMR_BLK);
    gas(t + 220, GAS_IO, 8 * ACPI_GPE0_BLK_LEN, 0, ACPI_GPE0_BLK);
    finish(t, ACPI_FADT_LEN);
    return ACPI_FADT_LEN;
}

static uint32_t build_madt(uint8_t *t, size_t cap, unsigned nr_vps)
{
    size_t need = ACPI_HDR_LEN + 8 + (size_t)nr_vps * 16 + 12 + 2 * 10 + 6;
    if (need > cap)
        return 0;
    memset(t, 0, need);
    uint32_t o = ACPI_HDR_LEN;
    put32(t + o, (uint32_t)LAPIC_DEFAULT_BASE);
    put32(t + o + 4, MADT_FLAG_PCAT_COMPAT);    /* 8259s present (hv/interrupts.c) */
    o += 8;
    for (unsigned i = 0; i < nr_vps; i++) {
        if (i < 255) {                  /* §5.2.12.2: 8-bit IDs; 0xFF is broadcast */
            t[o] = MADT_LAPIC;
            t[o + 1] = 8;
            t[o + 2] = (uint8_t)i;      /* ACPI processor UID */
            t[o + 3] = (uint8_t)i;      /* APIC ID (devices/lapic.c: the VP index) */
            put32(t + o + 4, MADT_LAPIC_ENABLED);
            o += 8;
        } else {                        /* §5.2.12.12 Processor Local x2APIC */
            t[o] = MADT_X2APIC;
            t[o + 1] = 16;
            put32(t + o + 4, i);
            put32(t + o + 8, MADT_LAPIC_ENABLED);
            put32(t + o + 12, i);
            o += 16;
        }
    }
    t[o] = MADT_IOAPIC;                 /* §5.2.12.3 */
    t[o + 1] = 12;
    t[o + 2] = IOAPIC_ID;
    put32(t + o + 4, (uint32_t)IOAPIC_DEFAULT_BASE);
    put32(t + o + 8, 0);                /* GSI base */
    o += 12;
    /* §5.2.12.5: ISA IRQ 0 is I/O APIC pin 2 (hv/interrupts.c), bus-default
     * flags; the SCI (IRQ 9) is level, active high (devices/acpi_pm.h), as QEMU. */
    static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } ovr[] = {
        { 0, 2, 0 },
        { ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_ACTIVE_HIGH | MPS_LEVEL },
    };
    for (unsigned i = 0; i < 2; i++) {
        t[o] = MADT_INT_OVERRIDE;
        t[o + 1] = 10;
        t[o + 2] = 0;                   /* bus: ISA */
        t[o + 3] = ovr[i].irq;
        put32(t + o + 4, ovr[i].gsi);
        put16(t + o + 8, ovr[i].flags);
        o += 10;
    }
    t[o] = MADT_LAPIC_NMI;              /* §5.2.12.7: LINT1 of every processor is NMI */
    t[o + 1] = 6;
    t[o + 2] = 0xFF;                    /* all processors */
    put16(t + o + 3, 0);
    t[o + 5] = 1;                       /* LINT1 */
    o += 6;
    header(t, "APIC", o, 5);
    finish(t, o);
    return o;
}

static uint32_t build_hpet(uint8_t *t)
{
    /* IA-PC HPET specification 1.0a, Table 3. */
    memset(t, 0, ACPI_HPET_LEN);
    header(t, "HPET", ACPI_HPET_LEN, 1);
    put32(t + 36, HPET_ID);             /* event timer block ID = GCAP_ID bits 31:0 */
    gas(t + 40, GAS_MEMORY, 64, 0, HPET_BASE);
    put8(t + 52, 0);                    /* HPET number */
    put16(t + 53, 0);                   /* minimum clock tick in periodic mode */
    put8(t + 55, 0);                    /* no page protection */
    finish(t, ACPI_HPET_LEN);
    return ACPI_HPET_LEN;
}

static uint64_t align(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

bool acpi_build(const struct acpi_config *cfg, uint64_t region_base, uint8_t *region,
                size_t region_cap, uint8_t rsdp[ACPI_RSDP_LEN], struct acpi_layout *out)
{
    memset(out, 0, sizeof *out);
    memset(region, 0, region_cap);
    out->region_base = region_base;
    size_t o = 0;
#define PLACE(field, len, al) do {                                  \
        o = align(o, (al));                                         \
        if (o + (len) > region_cap) return false;                   \
        out->field = region_base + o;                               \
    } while (0)

    /* FACS (§5.2.10, Table 5.14): 64-byte aligned, no checksum. */
    PLACE(facs, ACPI_FACS_LEN, 64);
    memcpy(region + o, "FACS", 4);
    put32(region + o + 4, ACPI_FACS_LEN);
    put8(region + o + 32, 2);           /* version */
    o += ACPI_FACS_LEN;

    PLACE(dsdt, ACPI_HDR_LEN, 16);
    uint8_t *d = region + o;
    size_t body = acpi_dsdt_body(d + ACPI_HDR_LEN, region_cap - o - ACPI_HDR_LEN);
    if (!body)
        return false;
    out->dsdt_len = (uint32_t)(ACPI_HDR_LEN + body);
    header(d, "DSDT", out->dsdt_len, 2);    /* revision 2: 64-bit integers */
    finish(d, out->dsdt_len);
    o += out->dsdt_len;

    PLACE(fadt, ACPI_FADT_LEN, 16);
    o += build_fadt(region + o, out->facs, out->dsdt);

    PLACE(madt, ACPI_HDR_LEN, 16);
    out->madt_len = build_madt(region + o, region_cap - o, cfg->nr_vps);
    if (!out->madt_len)
        return false;
    o += out->madt_len;

    PLACE(hpet, ACPI_HPET_LEN, 16);
    o += build_hpet(region + o);

    /* RSDT (§5.2.7) and XSDT (§5.2.8): FADT, MADT, HPET. */
    const uint64_t entries[] = { out->fadt, out->madt, out->hpet };
    const unsigned n = sizeof entries / sizeof entries[0];
    out->rsdt_len = ACPI_HDR_LEN + 4 * n;
    PLACE(rsdt, out->rsdt_len, 16);
    header(region + o, "RSDT", out->rsdt_len, 1);
    for (unsigned i = 0; i < n; i++)
        put32(region + o + ACPI_HDR_LEN + 4 * i, (uint32_t)entries[i]);
    finish(region + o, out->rsdt_len);
    o += out->rsdt_len;

    out->xsdt_len = ACPI_HDR_LEN + 8 * n;
    PLACE(xsdt, out->xsdt_len, 16);
    header(region + o, "XSDT", out->xsdt_len, 1);
    for (unsigned i = 0; i < n; i++)
        put64(region + o + ACPI_HDR_LEN + 8 * i, entries[i]);
    finish(region + o, out->xsdt_len);
    o += out->xsdt_len;
#undef PLACE
    out->region_used = (uint32_t)o;

    /* RSDP (§5.2.5.3, Table 5.3): the first checksum covers bytes 0-19, the
     * extended one all 36. */
    memset(rsdp, 0, ACPI_RSDP_LEN);
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, ACPI_OEM_ID, 6);
    rsdp[15] = 2;
    put32(rsdp + 16, (uint32_t)out->rsdt);
    put32(rsdp + 20, ACPI_RSDP_LEN);
    put64(rsdp + 24, out->xsdt);
    rsdp[8] = acpi_checksum(rsdp, 20);
    rsdp[32] = acpi_checksum(rsdp, ACPI_RSDP_LEN);
    out->rsdp = ACPI_RSDP_ADDR;
    (void)cfg->ram_size;
    return true;
}

bool acpi_install(struct physmem *pm, const struct acpi_config *cfg, struct acpi_layout *out,
                  char *err, size_t errlen)
{
    static uint8_t region[E820_FW_SIZE];
    uint8_t rsdp[ACPI_RSDP_LEN];
    uint64_t base = e820_fw_base(cfg->ram_size);
    if (!acpi_build(cfg, base, region, sizeof region, rsdp, out)) {
        snprintf(err, errlen, "the ACPI tables for %u CPUs do not fit in %llu KiB", cfg->nr_vps,
                 (unsigned long long)(E820_FW_SIZE >> 10));
        return false;
    }
    if (!physmem_is_ram(pm, base, sizeof region) || !physmem_is_ram(pm, ACPI_RSDP_ADDR, ACPI_RSDP_LEN)) {
        snprintf(err, errlen, "no RAM for the ACPI tables at 0x%llx", (unsigned long long)base);
        return false;
    }
    physmem_write_bytes(pm, base, region, sizeof region);
    physmem_write_bytes(pm, ACPI_RSDP_ADDR, rsdp, ACPI_RSDP_LEN);
    return true;
}
