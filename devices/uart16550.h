/* A National Semiconductor 16550A UART (the PC's COM1 at 0x3F8, IRQ 4).
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the output
 * FILE (or, in loopback mode, to the receiver), so THRE/TEMT always read as ready
 * and the THR-empty interrupt condition is raised again at once.  Nothing depends on
 * host time.  Host input is not wired yet (uart_receive exists for it); loopback
 * (MCR bit 4) works, because Linux's 8250 driver probes the chip with it.
 * Register map and bits: PC16550D datasheet (National Semiconductor, 1995), table II.
 */
#ifndef HVEMU_DEVICES_UART16550_H
#define HVEMU_DEVICES_UART16550_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct io_bus;
struct uart16550;

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ  4

/* out: where transmitted bytes go (not owned; NULL discards them). */
struct uart16550 *uart_new(FILE *out);
void uart_free(struct uart16550 *u);

/* Change where transmitted bytes go (the frontend attaches first and opens the
 * output file last, so a port conflict never leaves an empty file behind). */
void uart_set_output(struct uart16550 *u, FILE *out);

/* Claim the 8 ports [base, base + 8). False if they are taken. */
bool uart_attach(struct uart16550 *u, struct io_bus *bus, uint16_t base);

/* The interrupt line (level); optional until an interrupt controller exists. */
void uart_set_irq(struct uart16550 *u, void (*set_irq)(void *opaque, int level), void *opaque);

/* A byte arriving on the serial line (host input). Sets OE when the FIFO is full. */
void uart_receive(struct uart16550 *u, uint8_t byte);

/* Bytes transmitted so far (stats, tests). */
uint64_t uart_tx_count(const struct uart16550 *u);

#endif
