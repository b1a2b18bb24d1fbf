/* The ACPI tables hvemu builds for the configured machine (ACPI 6.4 §5.2), the
 * firmware half of issue 5.  Values come from the devices they describe:
 * devices/acpi_pm.h (PM1 blocks, PM timer, GPE0, SCI, SMI command, \_S5),
 * devices/reset.h (0xCF9), devices/ioapic.h, devices/lapic.h, devices/hpet.h.
 *
 * Placement: the RSDP at ACPI_RSDP_ADDR in the BIOS area (16-byte aligned, so a
 * legacy scan of 0xE0000-0xFFFFF finds it, ACPI 6.4 §5.2.5.1), everything else
 * in the firmware region at the top of low RAM (roms/e820.h, reserved in e820):
 *   FACS (64-byte aligned, §5.2.10), DSDT, FADT, MADT, HPET, RSDT, XSDT.
 * The RSDP is revision 2 and points at both the RSDT and the XSDT; the FADT is
 * revision 6 with 32-bit and X_ fields that agree (the FACS pointer only 32-bit).
 */
#ifndef HVEMU_ROMS_ACPI_H
#define HVEMU_ROMS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct physmem;

#define ACPI_RSDP_ADDR      0xF5A00ull  /* inside e820's reserved 0xF0000-0xFFFFF */
#define ACPI_RSDP_LEN       36          /* revision 2 (§5.2.5.3) */
#define ACPI_HDR_LEN        36          /* the system description table header (§5.2.6) */
#define ACPI_FADT_LEN       276         /* revision 6 (§5.2.9, Table 5.9) */
#define ACPI_FADT_REV       6
#define ACPI_FACS_LEN       64
#define ACPI_HPET_LEN       56          /* IA-PC HPET spec 1.0a, Table 3 */
#define ACPI_OEM_ID         "HVEMU "    /* 6 bytes */
#define ACPI_OEM_TABLE_ID   "HVEMUPC "  /* 8 bytes */
#define ACPI_CREATOR_ID     "HVEM"

/* MADT entry types (§5.2.12) and lengths */
#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_INT_OVERRIDE   2
#define MADT_LAPIC_NMI      4
#define MADT_X2APIC         9
#define MADT_FLAG_PCAT_COMPAT 1u
#define MADT_LAPIC_ENABLED  1u
/* MPS INTI flags (Table 5.26): polarity bits 1:0, trigger bits 3:2 */
#define MPS_ACTIVE_HIGH     0x1
#define MPS_LEVEL           0xC

/* FADT fixed feature flags (Table 5.10) and IA-PC boot architecture flags (5.11) */
#define FADT_F_WBINVD        (1u << 0)
#define FADT_F_PROC_C1       (1u << 2)
#define FADT_F_PWR_BUTTON    (1u << 4)  /* 1: no fixed-feature power button */
#define FADT_F_SLP_BUTTON    (1u << 5)  /* 1: no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042           (1u << 1)
#define FADT_RESET_VALUE    0x06        /* 0xCF9: SYS_RST | RST_CPU (devices/reset.h) */
#define FADT_CENTURY        0x32        /* CMOS century byte, as QEMU */

/* GAS address spaces (§5.2.3.2) */
#define GAS_MEMORY 0
#define GAS_IO     1

struct acpi_config {
    unsigned nr_vps;        /* one enabled local APIC entry each, APIC ID = VP index */
    uint64_t ram_size;
};

/* Where each table went (guest-physical) and how long it is. */
struct acpi_layout {
    uint64_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt, hpet;
    uint32_t rsdt_len, xsdt_len, dsdt_len, madt_len;
    uint64_t region_base;   /* the firmware region the tables (but the RSDP) fill */
    uint32_t region_used;
};

/* Build the tables in host memory: region (region_cap bytes) is what goes at
 * region_base, rsdp the 36 bytes for ACPI_RSDP_ADDR.  False if they do not fit. */
bool acpi_build(const struct acpi_config *cfg, uint64_t region_base, uint8_t *region,
                size_t region_cap, uint8_t rsdp[ACPI_RSDP_LEN], struct acpi_layout *out);

/* Build and write them into guest memory (region at e820_fw_base(ram_size)).
 * False with a one-line reason in err. */
bool acpi_install(struct physmem *pm, const struct acpi_config *cfg, struct acpi_layout *out,
                  char *err, size_t errlen);

/* The 8-bit sum that makes a table's bytes add up to zero. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

/* The DSDT's AML body (after the header) for the tests: \_S5 and \_SB.COM1. */
size_t acpi_dsdt_body(uint8_t *buf, size_t cap);

#endif
