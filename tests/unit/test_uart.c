/* The 16550 UART through the port bus: output, register file, DLAB, IIR/THRE
 * interrupt rules, loopback and the modem-status deltas (PC16550D datasheet). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/io.h"
#include "devices/uart16550.h"

#define B UART_COM1_BASE

static struct io_bus *bus;
static struct uart16550 *u;
static char *outbuf;
static size_t outlen;
static FILE *out;
static int irq_level, irq_changes;

static void on_irq(void *opaque, int level)
{
    irq_level = level;
    irq_changes++;
}

static void setup(void)
{
    bus = io_bus_new();
    out = open_memstream(&outbuf, &outlen);
    u = uart_new(out);
    ck_assert(uart_attach(u, bus, B));
    irq_level = 0;
    irq_changes = 0;
    uart_set_irq(u, on_irq, NULL);
}

static void teardown(void)
{
    uart_free(u);
    fclose(out);
    free(outbuf);
    io_bus_free(bus);
}

static uint8_t in8(uint16_t port) { return (uint8_t)io_read(bus, port, 1); }
static void out8(uint16_t port, uint8_t v) { io_write(bus, port, v, 1); }

START_TEST(test_transmit_to_file)
{
    const char *msg = "hello, serial\n";
    for (const char *p = msg; *p; p++) {
        ck_assert_uint_eq(in8(B + 5) & 0x60, 0x60);     /* THRE and TEMT before every byte */
        out8(B, (uint8_t)*p);
    }
    fflush(out);
    ck_assert_uint_eq(outlen, strlen(msg));
    ck_assert_mem_eq(outbuf, msg, strlen(msg));
    ck_assert_uint_eq(uart_tx_count(u), strlen(msg));
}
END_TEST

START_TEST(test_reset_values)
{
    ck_assert_uint_eq(in8(B + 1), 0);           /* IER */
    ck_assert_uint_eq(in8(B + 2), 0x01);        /* IIR: nothing pending, FIFOs off */
    ck_assert_uint_eq(in8(B + 3), 0);           /* LCR */
    ck_assert_uint_eq(in8(B + 5), 0x60);        /* LSR: THRE | TEMT, no data */
    ck_assert_uint_eq(in8(B + 6), 0xb0);        /* MSR: DCD | DSR | CTS */
}
END_TEST

START_TEST(test_scratch_and_lcr)
{
    out8(B + 7, 0x5a);
    ck_assert_uint_eq(in8(B + 7), 0x5a);
    out8(B + 7, 0xa5);
    ck_assert_uint_eq(in8(B + 7), 0xa5);
    out8(B + 3, 0x03);                          /* 8N1 */
    ck_assert_uint_eq(in8(B + 3), 0x03);
}
END_TEST

START_TEST(test_divisor_latch)
{
    out8(B + 1, 0x05);                          /* IER with DLAB = 0 */
    out8(B + 3, 0x83);                          /* DLAB = 1 */
    ck_assert_uint_eq(in8(B + 0), 12);          /* reset divisor: 9600 baud */
    out8(B + 0, 0x01);                          /* 115200 baud */
    out8(B + 1, 0x00);
    ck_assert_uint_eq(in8(B + 0), 0x01);
    ck_assert_uint_eq(in8(B + 1), 0x00);
    out8(B + 3, 0x03);                          /* DLAB = 0: IER is back, untouched */
    ck_assert_uint_eq(in8(B + 1), 0x05);
    fflush(out);
    ck_assert_uint_eq(outlen, 0);               /* divisor writes are not output */
}
END_TEST

START_TEST(test_thre_interrupt)
{
    out8(B + 1, 0x02);                          /* enable THRE: THR is empty, so it is pending */
    ck_assert_int_eq(irq_level, 1);
    ck_assert_uint_eq(in8(B + 2), 0x02);        /* IIR = THRE; reading acknowledges */
    ck_assert_int_eq(irq_level, 0);
    ck_assert_uint_eq(in8(B + 2), 0x01);
    out8(B, 'x');                               /* sent at once: THRE pending again */
    ck_assert_int_eq(irq_level, 1);
    out8(B + 1, 0x00);                          /* disabling drops it */
    ck_assert_int_eq(irq_level, 0);
    ck_assert_uint_eq(in8(B + 2), 0x01);
}
END_TEST

START_TEST(test_fifo_bits_in_iir)
{
    out8(B + 2, 0x07);                          /* enable + clear both FIFOs */
    ck_assert_uint_eq(in8(B + 2), 0xc1);
    out8(B + 2, 0x00);
    ck_assert_uint_eq(in8(B + 2), 0x01);
}
END_TEST

START_TEST(test_loopback)
{
    out8(B + 4, 0x10);                          /* loopback, all modem outputs low */
    ck_assert_uint_eq(in8(B + 6) & 0xf0, 0x00);
    out8(B + 4, 0x1f);                          /* DTR RTS OUT1 OUT2 -> DSR CTS RI DCD */
    ck_assert_uint_eq(in8(B + 6), 0xf0 | 0x0b); /* and DCTS DDSR DDCD (RI rose: no TERI) */
    ck_assert_uint_eq(in8(B + 6), 0xf0);        /* deltas clear on read */
    out8(B + 4, 0x1b);                          /* OUT1 falls: TERI */
    ck_assert_uint_eq(in8(B + 6), 0xb4);

    out8(B, 'A');
    out8(B, 'B');
    ck_assert_uint_eq(in8(B + 5) & 0x01, 1);    /* data ready */
    ck_assert_uint_eq(in8(B), 'A');
    ck_assert_uint_eq(in8(B), 'B');
    ck_assert_uint_eq(in8(B + 5) & 0x01, 0);
    fflush(out);
    ck_assert_uint_eq(outlen, 0);               /* nothing left the chip */
    ck_assert_uint_eq(uart_tx_count(u), 0);
}
END_TEST

START_TEST(test_receive_interrupt_and_overrun)
{
    out8(B + 1, 0x05);                          /* RDA + RLS */
    uart_receive(u, 'q');
    ck_assert_int_eq(irq_level, 1);
    ck_assert_uint_eq(in8(B + 2), 0x04);        /* RDA */
    ck_assert_uint_eq(in8(B), 'q');
    ck_assert_int_eq(irq_level, 0);
    for (int i = 0; i < 17; i++)                /* one more than the 16-byte FIFO */
        uart_receive(u, (uint8_t)i);
    ck_assert_uint_eq(in8(B + 2), 0x06);        /* RLS outranks RDA */
    ck_assert_uint_eq(in8(B + 5) & 0x03, 0x03); /* DR | OE; reading LSR clears OE */
    ck_assert_uint_eq(in8(B + 5) & 0x02, 0);
    ck_assert_uint_eq(in8(B + 2), 0x04);
}
END_TEST

START_TEST(test_unclaimed_ports)
{
    ck_assert_uint_eq(io_read(bus, 0x2f8, 1), 0xff);
    ck_assert_uint_eq(io_read(bus, 0x2f8, 2), 0xffff);
    ck_assert_uint_eq(io_read(bus, 0x2f8, 4), 0xffffffffu);
    io_write(bus, 0x2f8, 0x41, 1);              /* dropped */
    ck_assert_str_eq(io_owner(bus, B + 7), "uart16550");
    ck_assert_ptr_null(io_owner(bus, B + 8));
    ck_assert(!uart_attach(u, bus, B + 4));     /* overlaps */
}
END_TEST

static Suite *uart_suite(void)
{
    Suite *s = suite_create("uart16550");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_transmit_to_file);
    tcase_add_test(tc, test_reset_values);
    tcase_add_test(tc, test_scratch_and_lcr);
    tcase_add_test(tc, test_divisor_latch);
    tcase_add_test(tc, test_thre_interrupt);
    tcase_add_test(tc, test_fifo_bits_in_iir);
    tcase_add_test(tc, test_loopback);
    tcase_add_test(tc, test_receive_interrupt_and_overrun);
    tcase_add_test(tc, test_unclaimed_ports);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(uart_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
