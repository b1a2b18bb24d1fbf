/* The VGA text mode the kernel may poke without a display: the text buffer at
 * 0xB8000-0xBFFFF is ordinary guest RAM in physmem's low-memory layout (writes stay
 * readable, nothing is shown), and the CRT controller's index/data ports 0x3D4/0x3D5
 * (cursor position, start address) plus the miscellaneous output register (read at
 * 0x3CC: colour mode, so the CRTC lives at 0x3Dx) are storage.
 */
#ifndef HVEMU_DEVICES_VGA_TEXT_H
#define HVEMU_DEVICES_VGA_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#define VGA_TEXT_BASE 0xB8000
#define VGA_TEXT_SIZE 0x8000

struct vga_text {
    uint8_t crtc_index;
    uint8_t crtc[0x19];         /* CRTC registers 0x00-0x18 */
    uint8_t misc;               /* miscellaneous output */
};

void vga_text_init(struct vga_text *v);
struct io_bus;
bool vga_text_attach(struct vga_text *v, struct io_bus *bus);

#endif
