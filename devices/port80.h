/* Port 0x80, the POST-code port Linux writes as an I/O delay (io_delay=0x80):
 * writes are dropped, reads return all ones, as on a PC without a POST card. */
#ifndef HVEMU_DEVICES_PORT80_H
#define HVEMU_DEVICES_PORT80_H
#include <stdbool.h>
struct io_bus;
bool port80_attach(struct io_bus *bus);
#endif
