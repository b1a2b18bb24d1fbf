/* 16550A UART.  Register offsets and bit names: PC16550D datasheet, table II. */
#include "devices/uart16550.h"
#include "devices/io.h"

#include <stdlib.h>

/* Register offsets (DLAB = LCR bit 7 switches offsets 0/1 to the divisor latch). */
enum { R_RBR_THR = 0, R_IER = 1, R_IIR_FCR = 2, R_LCR = 3, R_MCR = 4, R_LSR = 5, R_MSR = 6, R_SCR = 7 };

#define IER_RDA   0x01   /* received data available */
#define IER_THRE  0x02   /* transmitter holding register empty */
#define IER_RLS   0x04   /* receiver line status */
#define IER_MS    0x08   /* modem status */

#define IIR_NONE  0x01   /* bit 0 set: no interrupt pending */
#define IIR_MS    0x00
#define IIR_THRE  0x02
#define IIR_RDA   0x04
#define IIR_RLS   0x06
#define IIR_FIFO  0xc0   /* both bits set when the FIFOs are enabled */

#define FCR_ENABLE   0x01
#define FCR_CLR_RX   0x02
#define FCR_CLR_TX   0x04

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MCR_MASK  0x1f

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_ERRS  0x9e   /* OE, PE, FE, BI, RX FIFO error: cleared by reading LSR */
#define LSR_THRE  0x20
#define LSR_TEMT  0x40

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
#define MSR_DELTA 0x0f

/* With no cable model, the modem inputs read as a connected, ready peer (as QEMU). */
#define MSR_IDLE_LINES (MSR_DCD | MSR_DSR | MSR_CTS)

#define RX_FIFO_SIZE 16  /* 16550A receive FIFO depth */

struct uart16550 {
    FILE *out;
    uint64_t tx_count;
    uint16_t divisor;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    bool thr_ipending;          /* the THR-empty interrupt condition (cleared by reading IIR) */
    uint8_t rx[RX_FIFO_SIZE];
    unsigned rx_head, rx_count;
    int irq_level;
    void (*set_irq)(void *opaque, int level);
    void *irq_opaque;
};

static uint8_t current_iir(const struct uart16550 *u)
{
    uint8_t id = IIR_NONE;
    if ((u->ier & IER_RLS) && (u->lsr & LSR_ERRS))
        id = IIR_RLS;
    else if ((u->ier & IER_RDA) && u->rx_count)
        id = IIR_RDA;
    else if ((u->ier & IER_THRE) && u->thr_ipending)
        id = IIR_THRE;
    else if ((u->ier & IER_MS) && (u->msr & MSR_DELTA))
        id = IIR_MS;
    return id;
}

static void update_irq(struct uart16550 *u)
{
    int level = current_iir(u) != IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        if (u->set_irq)
            u->set_irq(u->irq_opaque, level);
    }
}

static void rx_push(struct uart16550 *u, uint8_t b)
{
    if (u->rx_count == RX_FIFO_SIZE) {
        u->lsr |= LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = b;
    u->rx_count++;
    u->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct uart16550 *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
    if (--u->rx_count == 0)
        u->lsr &= ~LSR_DR;
    return b;
}

/* Modem status inputs: from the idle line levels, or in loopback from MCR
 * (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD; datasheet, MCR bit 4). */
static void set_modem_inputs(struct uart16550 *u)
{
    uint8_t lines = MSR_IDLE_LINES;
    if (u->mcr & MCR_LOOP) {
        lines = 0;
        if (u->mcr & MCR_DTR)  lines |= MSR_DSR;
        if (u->mcr & MCR_RTS)  lines |= MSR_CTS;
        if (u->mcr & MCR_OUT1) lines |= MSR_RI;
        if (u->mcr & MCR_OUT2) lines |= MSR_DCD;
    }
    uint8_t old = u->msr & ~MSR_DELTA, delta = 0;
    if ((old ^ lines) & MSR_CTS) delta |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR) delta |= MSR_DDSR;
    if ((old & MSR_RI) && !(lines & MSR_RI)) delta |= MSR_TERI;   /* trailing edge only */
    if ((old ^ lines) & MSR_DCD) delta |= MSR_DDCD;
    u->msr = (uint8_t)(lines | (u->msr & MSR_DELTA) | delta);
}

static void transmit(struct uart16550 *u, uint8_t b)
{
    if (u->mcr & MCR_LOOP) {
        rx_push(u, b);          /* loopback: the line is disconnected from the outside */
    } else {
        u->tx_count++;
        if (u->out) {
            fputc(b, u->out);
            if (b == '\n')
                fflush(u->out);  /* keep the console readable if the host dies */
        }
    }
    u->thr_ipending = true;     /* sent instantly: THR is empty again */
}

static uint32_t uart_read(void *opaque, uint16_t off, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t v = 0xff;
    switch (off) {
    case R_RBR_THR:
        v = (u->lcr & LCR_DLAB) ? (uint8_t)u->divisor : rx_pop(u);
        break;
    case R_IER:
        v = (u->lcr & LCR_DLAB) ? (uint8_t)(u->divisor >> 8) : u->ier;
        break;
    case R_IIR_FCR: {
        uint8_t id = current_iir(u);
        if (id == IIR_THRE)
            u->thr_ipending = false;    /* reading IIR acknowledges THRE (datasheet table IV) */
        v = (uint8_t)(id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0));
        break;
    }
    case R_LCR: v = u->lcr; break;
    case R_MCR: v = u->mcr; break;
    case R_LSR:
        v = u->lsr;
        u->lsr &= ~LSR_ERRS;
        break;
    case R_MSR:
        v = u->msr;
        u->msr &= ~MSR_DELTA;
        break;
    case R_SCR: v = u->scr; break;
    }
    update_irq(u);
    return v;
}

static void uart_write(void *opaque, uint16_t off, uint32_t val, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t b = (uint8_t)val;
    switch (off) {
    case R_RBR_THR:
        if (u->lcr & LCR_DLAB)
            u->divisor = (uint16_t)((u->divisor & 0xff00) | b);
        else
            transmit(u, b);
        break;
    case R_IER:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0x00ff) | (b << 8));
        } else {
            uint8_t old = u->ier;
            u->ier = b & 0x0f;
            /* Enabling THRE with an empty THR raises the condition at once; disabling drops it. */
            if (!(u->ier & IER_THRE))
                u->thr_ipending = false;
            else if (!(old & IER_THRE) && (u->lsr & LSR_THRE))
                u->thr_ipending = true;
        }
        break;
    case R_IIR_FCR:
        if (b & FCR_CLR_RX) {
            u->rx_head = u->rx_count = 0;
            u->lsr &= ~LSR_DR;
        }
        u->fcr = b & 0xc9;  /* keep enable, DMA mode and trigger level; the clear bits self-reset */
        break;
    case R_LCR: u->lcr = b; break;
    case R_MCR:
        u->mcr = b & MCR_MASK;
        set_modem_inputs(u);
        break;
    case R_LSR: break;      /* factory test register on real parts: writes ignored */
    case R_MSR: break;      /* read-only */
    case R_SCR: u->scr = b; break;
    }
    update_irq(u);
}

struct uart16550 *uart_new(FILE *out)
{
    struct uart16550 *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->out = out;
    u->divisor = 12;                    /* 9600 baud from the 1.8432 MHz clock: 1843200 / 16 / 12 */
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = MSR_IDLE_LINES;
    return u;
}

void uart_free(struct uart16550 *u)
{
    if (u && u->out)
        fflush(u->out);
    free(u);
}

void uart_set_output(struct uart16550 *u, FILE *out)
{
    if (u->out)
        fflush(u->out);
    u->out = out;
}

bool uart_attach(struct uart16550 *u, struct io_bus *bus, uint16_t base)
{
    return io_register(bus, base, 8, uart_read, uart_write, u, "uart16550");
}

void uart_set_irq(struct uart16550 *u, void (*set_irq)(void *opaque, int level), void *opaque)
{
    u->set_irq = set_irq;
    u->irq_opaque = opaque;
}

void uart_receive(struct uart16550 *u, uint8_t byte)
{
    rx_push(u, byte);
    update_irq(u);
}

uint64_t uart_tx_count(const struct uart16550 *u)
{
    return u->tx_count;
}
