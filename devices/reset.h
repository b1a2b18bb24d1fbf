/* The PIIX3 Reset Control Register at port 0xCF9 (Intel 82371SB datasheet §4.1.8):
 * bit 1 SYS_RST (hard reset), bit 2 RST_CPU (a 0 -> 1 write starts the reset), bit 3
 * FULL_RST.  Linux's reboot=pci writes 0x02 then 0x06 (or 0x0E): the write that sets
 * RST_CPU asks the machine to reset through pc_env.reset.  The port shares the dword
 * at 0xCF8 with PCI CONFIG_ADDRESS, so devices/pci_host.c forwards byte accesses of
 * 0xCF9 here.
 */
#ifndef HVEMU_DEVICES_RESET_H
#define HVEMU_DEVICES_RESET_H

#include <stdint.h>
#include "devices/pc_env.h"

#define PC_RESET_PORT 0xCF9
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define RCR_FULL_RST 0x08

struct pc_reset {
    struct pc_env env;
    uint8_t rcr;
};

void pc_reset_init(struct pc_reset *r, const struct pc_env *env);
uint8_t pc_reset_read(struct pc_reset *r);
void pc_reset_write(struct pc_reset *r, uint8_t val);

#endif
