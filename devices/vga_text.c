/* VGA CRTC and misc-output storage.  See devices/vga_text.h. */
#include "devices/vga_text.h"
#include "devices/io.h"

#include <string.h>

void vga_text_init(struct vga_text *v)
{
    memset(v, 0, sizeof *v);
    v->misc = 0x67;             /* colour (CRTC at 0x3Dx), RAM enabled, 28 MHz clock: mode 3 */
    v->crtc[0x0A] = 0x0D;       /* cursor start/end scan lines of mode 3 */
    v->crtc[0x0B] = 0x0E;
}

static uint32_t crtc_read(void *opaque, uint16_t off, unsigned size)
{
    (void)size;
    struct vga_text *v = opaque;
    if (off == 0)
        return v->crtc_index;
    return v->crtc_index < sizeof v->crtc ? v->crtc[v->crtc_index] : 0xFF;
}

static void crtc_write(void *opaque, uint16_t off, uint32_t val, unsigned size)
{
    struct vga_text *v = opaque;
    if (off == 0) {
        v->crtc_index = (uint8_t)val;
        if (size == 2)          /* outw: index then data */
            off = 1, val >>= 8;
        else
            return;
    }
    if (v->crtc_index < sizeof v->crtc)
        v->crtc[v->crtc_index] = (uint8_t)val;
}

static uint32_t misc_read(void *opaque, uint16_t off, unsigned size)
{
    (void)off; (void)size;
    return ((struct vga_text *)opaque)->misc;
}

bool vga_text_attach(struct vga_text *v, struct io_bus *bus)
{
    return io_register(bus, 0x3D4, 2, crtc_read, crtc_write, v, "vga-crtc")
        && io_register(bus, 0x3CC, 1, misc_read, NULL, v, "vga-misc");
}
