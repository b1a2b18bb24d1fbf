/* The i8042 controller.  See devices/i8042.h. */
#include "devices/i8042.h"
#include "devices/io.h"

#include <string.h>

/* Controller commands (IBM PC AT technical reference; Linux's i8042.h names). */
enum {
    CMD_RCTR = 0x20, CMD_WCTR = 0x60,
    CMD_AUX_DISABLE = 0xA7, CMD_AUX_ENABLE = 0xA8, CMD_AUX_TEST = 0xA9,
    CMD_SELF_TEST = 0xAA, CMD_KBD_TEST = 0xAB,
    CMD_KBD_DISABLE = 0xAD, CMD_KBD_ENABLE = 0xAE,
    CMD_READ_OUTPORT = 0xD0, CMD_WRITE_OUTPORT = 0xD1,
    CMD_KBD_LOOP = 0xD2, CMD_AUX_LOOP = 0xD3, CMD_AUX_SEND = 0xD4,
    CMD_PULSE_RESET = 0xFE,
};

#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_SYS    0x04

static void put(struct i8042 *k, uint8_t v, bool aux)
{
    k->out = v;
    k->status |= I8042_STR_OBF;
    if (aux)
        k->status |= I8042_STR_AUXOBF;
    else
        k->status &= (uint8_t)~I8042_STR_AUXOBF;
}

static void set_outport(struct i8042 *k, uint8_t v)
{
    if ((v ^ k->outport) & 2)
        k->env.set_a20(k->env.opaque, v & 2);
    k->outport = v;
    if (!(v & 1))
        k->env.reset(k->env.opaque, "reset through the i8042 output port");
}

void i8042_init(struct i8042 *k, const struct pc_env *env)
{
    memset(k, 0, sizeof *k);
    k->env = *env;
    k->ctr = 0x47 & ~CTR_AUXDIS;    /* IRQs on, SYS, translation: as a BIOS leaves it */
    k->status = I8042_STR_SYS | I8042_STR_UNLOCK;
    k->outport = 0x03;              /* not in reset, A20 on */
    k->port92 = 0x02;
}

static void command(struct i8042 *k, uint8_t c)
{
    switch (c) {
    case CMD_RCTR: put(k, k->ctr, false); break;
    case CMD_WCTR: case CMD_WRITE_OUTPORT: case CMD_KBD_LOOP: case CMD_AUX_LOOP: case CMD_AUX_SEND:
        k->pending_cmd = c;
        break;
    case CMD_AUX_DISABLE: k->ctr |= CTR_AUXDIS; break;
    case CMD_AUX_ENABLE: k->ctr &= (uint8_t)~CTR_AUXDIS; break;
    case CMD_KBD_DISABLE: k->ctr |= CTR_KBDDIS; break;
    case CMD_KBD_ENABLE: k->ctr &= (uint8_t)~CTR_KBDDIS; break;
    case CMD_AUX_TEST: case CMD_KBD_TEST: put(k, 0x00, false); break;   /* 0: no error */
    case CMD_SELF_TEST: put(k, 0x55, false); k->status |= I8042_STR_SYS; break;
    case CMD_READ_OUTPORT: put(k, k->outport, false); break;
    default:
        /* 0xF0-0xFF pulse output port bits 0-3 low for 6 us: bit 0 is the CPU reset. */
        if (c >= 0xF0 && !(c & 1))
            k->env.reset(k->env.opaque, "reset through the i8042 (command 0xFE)");
        break;      /* anything else: no response, as a controller without that command */
    }
}

static void data(struct i8042 *k, uint8_t v)
{
    uint8_t c = k->pending_cmd;
    k->pending_cmd = 0;
    switch (c) {
    case CMD_WCTR:
        k->ctr = v;
        k->status = (uint8_t)((k->status & ~I8042_STR_SYS) | (v & CTR_SYS));
        break;
    case CMD_WRITE_OUTPORT: set_outport(k, v); break;
    case CMD_KBD_LOOP: put(k, v, false); break;
    case CMD_AUX_LOOP: put(k, v, true); break;
    default: break;     /* to the keyboard or (0xD4) the mouse: none is attached */
    }
}

uint32_t i8042_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct i8042 *k = opaque;
    if (port == 4)
        return k->status;
    if (port != 0)
        return 0xFF;
    k->status &= (uint8_t)~(I8042_STR_OBF | I8042_STR_AUXOBF);
    return k->out;
}

void i8042_write(void *opaque, uint16_t port, uint32_t val, unsigned size)
{
    (void)size;
    struct i8042 *k = opaque;
    if (port == 4) {
        k->status |= I8042_STR_CMD;
        command(k, (uint8_t)val);
    } else if (port == 0) {
        k->status &= (uint8_t)~I8042_STR_CMD;
        data(k, (uint8_t)val);
    }
}

uint32_t port92_read(void *opaque, uint16_t offset, unsigned size)
{
    (void)offset; (void)size;
    struct i8042 *k = opaque;
    return k->port92 & ~1u;     /* bit 0 reads back 0 once the reset pulse is over */
}

void port92_write(void *opaque, uint16_t offset, uint32_t val, unsigned size)
{
    (void)offset; (void)size;
    struct i8042 *k = opaque;
    if ((val ^ k->port92) & 2)
        k->env.set_a20(k->env.opaque, val & 2);
    k->port92 = (uint8_t)(val & 0x02);
    if (val & 1)
        k->env.reset(k->env.opaque, "reset through port 0x92");
}

static uint32_t data_port_read(void *o, uint16_t off, unsigned size) { (void)off; return i8042_read(o, 0, size); }
static void data_port_write(void *o, uint16_t off, uint32_t v, unsigned size) { (void)off; i8042_write(o, 0, v, size); }
static uint32_t cmd_port_read(void *o, uint16_t off, unsigned size) { (void)off; return i8042_read(o, 4, size); }
static void cmd_port_write(void *o, uint16_t off, uint32_t v, unsigned size) { (void)off; i8042_write(o, 4, v, size); }

bool i8042_attach(struct i8042 *k, struct io_bus *bus)
{
    /* 0x60-0x64 as one range: 0x61 belongs to the PIT (speaker gate) and is claimed
     * first, so the controller takes 0x60 and 0x64 separately. */
    return io_register(bus, I8042_DATA, 1, data_port_read, data_port_write, k, "i8042")
        && io_register(bus, I8042_CMD, 1, cmd_port_read, cmd_port_write, k, "i8042")
        && io_register(bus, PORT92, 1, port92_read, port92_write, k, "port92");
}
