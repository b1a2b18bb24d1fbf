/* The ACPI power-management block of a PIIX4 (as QEMU's pc machine has it, ACPI 6.4
 * §4.8): PM1a event block (PM1_STS/PM1_EN), PM1a control (SCI_EN, SLP_TYP/SLP_EN),
 * the 24-bit PM timer at 3.579545 MHz of virtual time, a GPE0 block (status and
 * enable storage only: nothing here raises a GPE) and the SMI command port that
 * switches ACPI mode on and off.  The SCI is ISA IRQ 9, level-triggered, active high
 * (the MADT's interrupt source override for IRQ 9 must say so).
 *
 * S5 (SLP_TYP = ACPI_PM_S5_SLP_TYP with SLP_EN) powers the machine off through
 * pc_env.power_off; other sleep types are ignored (no S1-S4: the DSDT should offer
 * only \_S5).  SCI_EN reads 1 from reset, i.e. the machine starts in ACPI mode
 * (as a firmware that already enabled it); ACPI_ENABLE/ACPI_DISABLE written to the
 * SMI command port set and clear it, so a FADT with SMI_CMD = 0xB2 works as well as
 * one with SMI_CMD = 0.
 *
 * The ACPI tables (roms/acpi.c) take their FADT and DSDT values from here.
 */
#ifndef HVEMU_DEVICES_ACPI_PM_H
#define HVEMU_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/pc_env.h"

#define ACPI_PM_BASE        0x600   /* PIIX4 PMBASE as QEMU's SeaBIOS/pc sets it */
#define ACPI_PM_LEN         0x40    /* the PIIX4 PM I/O space is 64 bytes */
#define ACPI_PM1A_EVT_BLK   (ACPI_PM_BASE + 0x00)   /* FADT PM1a_EVT_BLK, PM1_EVT_LEN 4 */
#define ACPI_PM1_EVT_LEN    4
#define ACPI_PM1A_CNT_BLK   (ACPI_PM_BASE + 0x04)   /* FADT PM1a_CNT_BLK, PM1_CNT_LEN 2 */
#define ACPI_PM1_CNT_LEN    2
#define ACPI_PM_TMR_BLK     (ACPI_PM_BASE + 0x08)   /* FADT PM_TMR_BLK, PM_TMR_LEN 4 */
#define ACPI_PM_TMR_LEN     4
#define ACPI_GPE0_BLK       0xAFE0  /* FADT GPE0_BLK, as QEMU's PIIX4 */
#define ACPI_GPE0_BLK_LEN   4       /* 2 status bytes, 2 enable bytes */
#define ACPI_SCI_IRQ        9       /* FADT SCI_INT; level, active high */
#define ACPI_SMI_CMD        0xB2    /* FADT SMI_CMD (APM control port) */
#define ACPI_ENABLE_VALUE   0xF1    /* FADT ACPI_ENABLE, as QEMU */
#define ACPI_DISABLE_VALUE  0xF0    /* FADT ACPI_DISABLE */

/* The DSDT's \_S5 package: SLP_TYPa (and SLP_TYPb) for soft-off.  0 as QEMU's PIIX4. */
#define ACPI_PM_S5_SLP_TYP  0

#define ACPI_PM_TIMER_HZ    3579545ull  /* ACPI 6.4 §4.8.3.3 */

/* PM1_STS / PM1_EN bits (ACPI 6.4 tables 4.16, 4.17) */
#define PM1_TMR_STS     0x0001
#define PM1_GBL_STS     0x0020
#define PM1_PWRBTN_STS  0x0100
#define PM1_RTC_STS     0x0400  /* RTC_EN: stored (Linux's rtc_cmos enables it and reads it
                                 * back); the status never sets: no RTC alarm wake-up */
#define PM1_WAK_STS     0x8000
/* PM1_CNT bits (table 4.18) */
#define PM1_SCI_EN      0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN      0x2000

struct acpi_pm {
    struct pc_env env;
    struct pc_ratio tick;           /* cycles -> PM timer ticks */
    uint16_t sts, en, cnt;
    uint64_t tmr_epoch;             /* PM timer ticks >> 23 when TMR_STS was last clear */
    uint8_t gpe_sts[2], gpe_en[2];
    bool sci_level;
    bool powered_off;
};

/* env is copied; its timer 0 is the PM timer's carry (TMR_STS) event. */
void acpi_pm_init(struct acpi_pm *pm, const struct pc_env *env);
struct io_bus;
/* Claim the PM block, GPE0 and the SMI command port.  False if a port is taken. */
bool acpi_pm_attach(struct acpi_pm *pm, struct io_bus *bus);
/* The 24-bit PM timer value now. */
uint32_t acpi_pm_timer(struct acpi_pm *pm);
/* The machine calls this when timer 0 fires. */
void acpi_pm_timer_event(struct acpi_pm *pm, unsigned which, uint64_t now);

/* Port handlers (exported for the unit tests; offsets are from ACPI_PM_BASE). */
uint32_t acpi_pm_read(void *opaque, uint16_t offset, unsigned size);
void acpi_pm_write(void *opaque, uint16_t offset, uint32_t val, unsigned size);

#endif
