/* The PC platform of a partition (issue 5): instantiates the devices Linux touches
 * after the firmware and wires them into the machine -- ports on the partition's
 * io_bus, the HPET page in physmem, interrupt lines through hv/interrupts.h
 * (intr_set_isa_irq / intr_set_gsi), timers on the virtual clock (hv/clock.h):
 *
 *   0x40-0x43, 0x61   8254 PIT + speaker gate   devices/pit8254.h   IRQ 0
 *   0x60, 0x64, 0x92  i8042, port A             devices/i8042.h     (no IRQ 1/12)
 *   0x70-0x71         MC146818 RTC + CMOS       devices/cmos_rtc.h  IRQ 8
 *   0x80              POST / I/O delay          devices/port80.h
 *   0x600-0x63F, 0xAFE0-0xAFE3, 0xB2
 *                     PIIX4 ACPI PM             devices/acpi_pm.h   SCI = IRQ 9 (level)
 *   0xCF8-0xCFF       PCI config #1 (+0xCF9 reset control)  devices/pci_host.h, reset.h
 *   0x3D4/0x3D5, 0x3CC  VGA CRTC storage         devices/vga_text.h
 *   0xFED00000        HPET                      devices/hpet.h      IRQ 0/8 legacy, or GSI 20-23
 *   COM1 (when added)  IRQ 4                    devices/uart16550.h
 *
 * While the HPET's legacy replacement route is on, the PIT and the RTC lose IRQ 0
 * and IRQ 8 (HPET spec 1.0a §2.3.9.2.2).
 *
 * Machine-level requests:
 *   ACPI S5        "hvemu: ACPI power-off" on stderr, exit status 0 (HVEMU_EXIT_POWEROFF).
 *   reset (0xCF9, the i8042 pulse or output port, port 0x92 bit 0)
 *                  with -no-reboot: the run ends with status 0, as QEMU's -no-reboot
 *                  (its guest-reset shutdown exits 0); without it: hvemu does not
 *                  reboot the machine, it stops with one line and HVEMU_EXIT_RESET.
 *   -watchdog S    after S seconds of virtual time a run that has not ended stops
 *                  with a register dump of every VP and HVEMU_EXIT_WATCHDOG.
 */
#ifndef HVEMU_HV_PLATFORM_H
#define HVEMU_HV_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Even numbers: odd statuses are isa-debug-exit's (v << 1) | 1. */
#define HVEMU_EXIT_RESET     6      /* the guest reset the machine without -no-reboot */
#define HVEMU_EXIT_WATCHDOG  8      /* -watchdog expired */

struct partition;
struct platform;

/* Create and wire the devices (called by partition_new).  False with a reason. */
bool platform_init(struct partition *p, char *err, size_t errlen);
void platform_free(struct partition *p);

/* Options, before the run. */
void platform_set_rtc_base(struct partition *p, int64_t unix_seconds);
void platform_set_no_reboot(struct partition *p, bool no_reboot);
/* -watchdog SECONDS of virtual time; false (with a reason) if out of range. */
bool platform_set_watchdog(struct partition *p, uint64_t seconds, char *err, size_t errlen);

/* COM1's interrupt line (partition_add_uart). */
void platform_wire_uart(struct partition *p);

/* The devices (tests, stats). */
struct pit8254 *platform_pit(struct partition *p);
struct cmos_rtc *platform_rtc(struct partition *p);
struct hpet *platform_hpet(struct partition *p);
struct acpi_pm *platform_acpi_pm(struct partition *p);
struct pci_host *platform_pci(struct partition *p);

#endif
