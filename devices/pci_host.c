/* PCI configuration mechanism #1 and the bus-0 functions.  See devices/pci_host.h. */
#include "devices/pci_host.h"
#include "devices/acpi_pm.h"
#include "devices/io.h"
#include "devices/reset.h"

#include <string.h>

static void put16(uint8_t *c, unsigned off, uint16_t v) { c[off] = (uint8_t)v; c[off + 1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *c, unsigned off, uint32_t v) { put16(c, off, (uint16_t)v); put16(c, off + 2, (uint16_t)(v >> 16)); }

static void header(struct pci_function *f, uint8_t devfn, uint16_t vendor, uint16_t device,
                   uint8_t rev, uint32_t class, uint8_t header_type)
{
    memset(f, 0, sizeof *f);
    f->devfn = devfn;
    put16(f->cfg, 0x00, vendor);
    put16(f->cfg, 0x02, device);
    f->cfg[0x08] = rev;
    f->cfg[0x09] = (uint8_t)class;          /* programming interface */
    f->cfg[0x0A] = (uint8_t)(class >> 8);   /* subclass */
    f->cfg[0x0B] = (uint8_t)(class >> 16);  /* base class */
    f->cfg[0x0E] = header_type;
    put16(f->cfg, 0x04, 0x0007);            /* I/O, memory, bus master on (as firmware leaves it) */
    put16(f->cfg, 0x06, 0x0280);            /* status: medium DEVSEL, fast back-to-back */
    f->wmask[0x04] = 0xFF;
    f->wmask[0x05] = 0x07;
    f->wmask[0x0C] = f->wmask[0x0D] = 0xFF; /* cache line size, latency timer */
    f->wmask[0x3C] = 0xFF;                  /* interrupt line */
    memset(f->wmask + 0x40, 0xFF, 0xC0);
}

void pci_host_init(struct pci_host *h, struct pc_reset *rcr)
{
    memset(h, 0, sizeof *h);
    h->rcr = rcr;
    /* Revisions as QEMU's: i440FX 02, PIIX3 00, PIIX4 PM 03. */
    header(&h->fn[0], 0x00, 0x8086, 0x1237, 0x02, 0x060000, 0x00);
    header(&h->fn[1], 0x08, 0x8086, 0x7000, 0x00, 0x060100, 0x80);
    for (unsigned i = 0x60; i < 0x64; i++)
        h->fn[1].cfg[i] = 0x80;             /* PIRQA-D routing: disabled (82371SB §2.2.11) */
    struct pci_function *pm = &h->fn[2];
    header(pm, 0x0B, 0x8086, 0x7113, 0x03, 0x068000, 0x00);
    pm->cfg[0x3D] = 1;                      /* INTA (the SCI is on ISA IRQ 9 anyway) */
    put32(pm->cfg, 0x40, ACPI_PM_BASE | 1); /* PMBA, bit 0: I/O space (82371AB §3.2.6) */
    memset(pm->wmask + 0x40, 0, 4);         /* the PM block does not move */
    pm->cfg[0x80] = 0x01;                   /* PMREGMISC: PM I/O space enabled */
    pm->wmask[0x80] = 0;
}

static struct pci_function *find(struct pci_host *h, uint8_t bus, uint8_t devfn)
{
    if (bus != 0)
        return NULL;
    for (unsigned i = 0; i < PCI_HOST_FUNCTIONS; i++)
        if (h->fn[i].devfn == devfn)
            return &h->fn[i];
    return NULL;
}

uint32_t pci_config_read(struct pci_host *h, uint8_t bus, uint8_t devfn, uint8_t reg, unsigned size)
{
    struct pci_function *f = find(h, bus, devfn);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)(f ? f->cfg[(uint8_t)(reg + i)] : 0xFF) << (8 * i);
    return v;
}

void pci_config_write(struct pci_host *h, uint8_t bus, uint8_t devfn, uint8_t reg, uint32_t val, unsigned size)
{
    struct pci_function *f = find(h, bus, devfn);
    if (!f)
        return;
    for (unsigned i = 0; i < size; i++) {
        uint8_t r = (uint8_t)(reg + i), m = f->wmask[r];
        f->cfg[r] = (uint8_t)((f->cfg[r] & ~m) | ((val >> (8 * i)) & m));
    }
}

uint32_t pci_host_read(void *opaque, uint16_t offset, unsigned size)
{
    struct pci_host *h = opaque;
    if (offset < 4) {
        if (offset == 0 && size == 4)
            return h->address;
        if (offset == 1 && size == 1 && h->rcr)
            return pc_reset_read(h->rcr);
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    }
    if (!(h->address & 0x80000000u))
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    /* The data port's byte lane picks the byte of the dword register (PCI 3.0 §3.2.2.3.2). */
    uint8_t reg = (uint8_t)((h->address & 0xFC) | (offset & 3));
    return pci_config_read(h, (uint8_t)(h->address >> 16), (uint8_t)(h->address >> 8), reg, size);
}

void pci_host_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    struct pci_host *h = opaque;
    if (offset < 4) {
        if (offset == 0 && size == 4)
            h->address = val & 0x80FFFFFCu;     /* reserved bits 30:24 and 1:0 read 0 */
        else if (offset == 1 && size == 1 && h->rcr)
            pc_reset_write(h->rcr, (uint8_t)val);
        return;
    }
    if (!(h->address & 0x80000000u))
        return;
    uint8_t reg = (uint8_t)((h->address & 0xFC) | (offset & 3));
    pci_config_write(h, (uint8_t)(h->address >> 16), (uint8_t)(h->address >> 8), reg, val, size);
}

bool pci_host_attach(struct pci_host *h, struct io_bus *bus)
{
    return io_register(bus, PCI_CONFIG_ADDRESS, 8, pci_host_read, pci_host_write, h, "pci-host");
}
