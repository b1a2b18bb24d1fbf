/* The PCI host bridge's configuration mechanism #1 (PCI Local Bus Specification 3.0
 * §3.2.2.3.2): CONFIG_ADDRESS at 0xCF8 (dword), CONFIG_DATA at 0xCFC-0xCFF (byte,
 * word, dword).  Bus 0 holds what QEMU's pc machine has where Linux looks for PIIX
 * quirks and ACPI:
 *   00.0  i440FX host bridge        8086:1237  class 06 00 00
 *   01.0  PIIX3 PCI-to-ISA bridge   8086:7000  class 06 01 00  (multi-function)
 *   01.3  PIIX4 power management    8086:7113  class 06 80 00  (PMBA 0x40 = 0x601, the
 *                                                               PM block of devices/acpi_pm.h)
 * No BARs (they read 0 and ignore writes); the command register, cache line size,
 * latency, interrupt line and the device-specific space 0x40-0xFF are storage
 * (PIIX3 PIRQ routing 0x60-0x63, i440FX PAM 0x59-0x5F...), except the PIIX4 PMBA.
 * Every other bus/slot/function reads all ones.
 *
 * The byte at 0xCF9 is the reset control register (devices/reset.h), which shares
 * the CONFIG_ADDRESS dword: byte accesses to it go there; other non-dword accesses
 * to 0xCF8-0xCFB are not configuration cycles (reads all ones, writes dropped).
 */
#ifndef HVEMU_DEVICES_PCI_HOST_H
#define HVEMU_DEVICES_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC

struct pc_reset;

struct pci_function {
    uint8_t devfn;                  /* device << 3 | function */
    uint8_t cfg[256];
    uint8_t wmask[256];             /* bit set: the guest may write it */
};

#define PCI_HOST_FUNCTIONS 3

struct pci_host {
    uint32_t address;               /* CONFIG_ADDRESS */
    struct pci_function fn[PCI_HOST_FUNCTIONS];
    struct pc_reset *rcr;           /* 0xCF9, or NULL */
};

void pci_host_init(struct pci_host *h, struct pc_reset *rcr);
struct io_bus;
bool pci_host_attach(struct pci_host *h, struct io_bus *bus);

/* Configuration read/write of bus 0 (tests, firmware). */
uint32_t pci_config_read(struct pci_host *h, uint8_t bus, uint8_t devfn, uint8_t reg, unsigned size);
void pci_config_write(struct pci_host *h, uint8_t bus, uint8_t devfn, uint8_t reg, uint32_t val, unsigned size);

uint32_t pci_host_read(void *opaque, uint16_t offset, unsigned size);
void pci_host_write(void *opaque, uint16_t offset, uint32_t val, unsigned size);

#endif
