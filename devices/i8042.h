/* The i8042 keyboard controller at ports 0x60 (data) and 0x64 (status/command), and
 * the PS/2 system control port A at 0x92 — enough for Linux's probe (drivers/input/
 * serio/i8042.c): self test (0xAA -> 0x55), interface tests (0xAB, 0xA9 -> 0x00),
 * the command byte (0x20 / 0x60), port enables (0xA7/0xA8/0xAD/0xAE), the AUX
 * loopback (0xD3, which the driver uses to look for a mouse port), the output port
 * (0xD0/0xD1: bit 0 reset, bit 1 A20) and the reset pulse (0xFE).
 *
 * No keyboard or mouse is attached: bytes sent to them get no answer, so IRQ 1 and
 * IRQ 12 never fire (the loopback and command results are polled, as the driver
 * does).  Port 0x92: bit 1 drives A20, writing bit 0 = 1 resets the machine (the
 * "fast reset"), through pc_env.set_a20 / pc_env.reset.
 */
#ifndef HVEMU_DEVICES_I8042_H
#define HVEMU_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/pc_env.h"

#define I8042_DATA   0x60
#define I8042_CMD    0x64
#define PORT92       0x92

/* Status register bits */
#define I8042_STR_OBF    0x01
#define I8042_STR_SYS    0x04
#define I8042_STR_CMD    0x08   /* the last write went to the command port */
#define I8042_STR_UNLOCK 0x10   /* keyboard not inhibited */
#define I8042_STR_AUXOBF 0x20

struct i8042 {
    struct pc_env env;
    uint8_t ctr;                /* the command byte */
    uint8_t status;
    uint8_t out;                /* the output buffer (valid with OBF) */
    uint8_t pending_cmd;        /* a command waiting for its data byte, or 0 */
    uint8_t outport;            /* 0xD0/0xD1: bit 0 !reset, bit 1 A20 */
    uint8_t port92;
};

void i8042_init(struct i8042 *k, const struct pc_env *env);
struct io_bus;
bool i8042_attach(struct i8042 *k, struct io_bus *bus);

uint32_t i8042_read(void *opaque, uint16_t port, unsigned size);   /* port: 0 = 0x60, 4 = 0x64 */
void i8042_write(void *opaque, uint16_t port, uint32_t val, unsigned size);
uint32_t port92_read(void *opaque, uint16_t offset, unsigned size);
void port92_write(void *opaque, uint16_t offset, uint32_t val, unsigned size);

#endif
