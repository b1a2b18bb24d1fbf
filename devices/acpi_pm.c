/* The PIIX4 ACPI PM block.  See devices/acpi_pm.h. */
#include "devices/acpi_pm.h"
#include "devices/io.h"

#include <string.h>

static uint64_t pm_ticks(struct acpi_pm *pm)
{
    return pc_ratio_apply(pm->tick, pm->env.now(pm->env.opaque));
}

/* TMR_STS: set each time bit 23 of the timer changes (ACPI 6.4 §4.8.3.3), i.e.
 * when ticks >> 23 moves past the value it had when the bit was last cleared. */
static uint16_t status(struct acpi_pm *pm)
{
    uint16_t s = pm->sts;
    if ((pm_ticks(pm) >> 23) != pm->tmr_epoch)
        s |= PM1_TMR_STS;
    return s;
}

static void update_sci(struct acpi_pm *pm)
{
    bool level = (pm->cnt & PM1_SCI_EN)
        && ((status(pm) & pm->en & (PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN_STS))
            || (pm->gpe_sts[0] & pm->gpe_en[0]) || (pm->gpe_sts[1] & pm->gpe_en[1]));
    if (level != pm->sci_level) {
        pm->sci_level = level;
        pm->env.set_isa_irq(pm->env.opaque, ACPI_SCI_IRQ, level);
    }
    /* The next carry of bit 23 matters only while TMR_EN can turn it into an SCI. */
    uint64_t deadline = PC_NEVER;
    if ((pm->en & PM1_TMR_STS) && !(status(pm) & PM1_TMR_STS))
        deadline = pc_ratio_ceil_inverse(pm->tick, (pm->tmr_epoch + 1) << 23);
    pm->env.timer_arm(pm->env.opaque, 0, deadline);
}

void acpi_pm_init(struct acpi_pm *pm, const struct pc_env *env)
{
    memset(pm, 0, sizeof *pm);
    pm->env = *env;
    pm->tick = pc_ratio_make(ACPI_PM_TIMER_HZ, env->freq_hz);
    pm->cnt = PM1_SCI_EN;
    pm->tmr_epoch = pm_ticks(pm) >> 23;
}

uint32_t acpi_pm_timer(struct acpi_pm *pm)
{
    return (uint32_t)(pm_ticks(pm) & 0xFFFFFF);
}

void acpi_pm_timer_event(struct acpi_pm *pm, unsigned which, uint64_t now)
{
    (void)which;
    (void)now;
    update_sci(pm);
}

static uint8_t read_byte(struct acpi_pm *pm, unsigned off)
{
    uint32_t reg;
    switch (off & ~3u) {
    case 0x00: reg = status(pm) | (uint32_t)pm->en << 16; break;
    case 0x04: reg = pm->cnt & ~PM1_SLP_EN; break;      /* SLP_EN is write-only */
    case 0x08: reg = acpi_pm_timer(pm); break;          /* bits 31:24 read 0 (24-bit timer) */
    default:   reg = 0; break;
    }
    return (uint8_t)(reg >> (8 * (off & 3)));
}

static void write_byte(struct acpi_pm *pm, unsigned off, uint8_t v)
{
    switch (off) {
    case 0x00:                          /* PM1_STS low: write 1 to clear */
        if (v & PM1_TMR_STS)
            pm->tmr_epoch = pm_ticks(pm) >> 23;
        pm->sts &= (uint16_t)~(v & (PM1_GBL_STS & 0xFF));
        break;
    case 0x01:
        pm->sts &= (uint16_t)~((v << 8) & (PM1_PWRBTN_STS | PM1_WAK_STS));
        break;
    case 0x02: pm->en = (pm->en & 0xFF00) | (v & (PM1_TMR_STS | PM1_GBL_STS)); break;
    case 0x03: pm->en = (uint16_t)((pm->en & 0x00FF) | ((v << 8) & (PM1_PWRBTN_STS | PM1_RTC_STS))); break;
    case 0x04: pm->cnt = (uint16_t)((pm->cnt & 0xFF00) | v); break;
    case 0x05: {
        uint16_t hi = (uint16_t)(v << 8);
        pm->cnt = (uint16_t)((pm->cnt & 0x00FF) | (hi & ~PM1_SLP_EN));
        unsigned slp_typ = (hi >> PM1_SLP_TYP_SHIFT) & 7;
        /* Only S5 exists; other sleep types are dropped (the DSDT offers only \_S5). */
        if ((hi & PM1_SLP_EN) && slp_typ == ACPI_PM_S5_SLP_TYP && !pm->powered_off) {
            pm->powered_off = true;
            pm->env.power_off(pm->env.opaque);
        }
        break;
    }
    default: break;                     /* the timer and the rest are read-only */
    }
}

uint32_t acpi_pm_read(void *opaque, uint16_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    if (offset == 0x08 && size == 4)
        return acpi_pm_timer(pm);       /* one sample for the whole dword */
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)read_byte(pm, offset + i) << (8 * i);
    return v;
}

void acpi_pm_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    struct acpi_pm *pm = opaque;
    for (unsigned i = 0; i < size; i++)
        write_byte(pm, offset + i, (uint8_t)(val >> (8 * i)));
    update_sci(pm);
}

static uint32_t gpe_read(void *opaque, uint16_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint32_t v = 0;
    for (unsigned i = 0; i < size && offset + i < ACPI_GPE0_BLK_LEN; i++) {
        unsigned o = offset + i;
        v |= (uint32_t)(o < 2 ? pm->gpe_sts[o] : pm->gpe_en[o - 2]) << (8 * i);
    }
    return v;
}

static void gpe_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    struct acpi_pm *pm = opaque;
    for (unsigned i = 0; i < size && offset + i < ACPI_GPE0_BLK_LEN; i++) {
        unsigned o = offset + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (o < 2)
            pm->gpe_sts[o] &= (uint8_t)~b;      /* write 1 to clear */
        else
            pm->gpe_en[o - 2] = b;
    }
    update_sci(pm);
}

static void smi_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    struct acpi_pm *pm = opaque;
    (void)size;
    if (offset != 0)
        return;                                 /* 0xB3 (APM status) is storage-free */
    if ((val & 0xFF) == ACPI_ENABLE_VALUE)
        pm->cnt |= PM1_SCI_EN;
    else if ((val & 0xFF) == ACPI_DISABLE_VALUE)
        pm->cnt &= (uint16_t)~PM1_SCI_EN;
    update_sci(pm);
}

bool acpi_pm_attach(struct acpi_pm *pm, struct io_bus *bus)
{
    return io_register(bus, ACPI_PM_BASE, ACPI_PM_LEN, acpi_pm_read, acpi_pm_write, pm, "acpi-pm")
        && io_register(bus, ACPI_GPE0_BLK, ACPI_GPE0_BLK_LEN, gpe_read, gpe_write, pm, "acpi-gpe0")
        && io_register(bus, ACPI_SMI_CMD, 2, NULL, smi_write, pm, "apm-smi");
}
