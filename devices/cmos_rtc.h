/* The MC146818 real-time clock and CMOS memory at ports 0x70 (index, bit 7 = NMI
 * mask) and 0x71 (data) (Motorola MC146818A datasheet; the PC AT CMOS map).
 *
 * The clock is base_seconds (from -rtc base=, default a fixed date, so a run never
 * depends on the host clock) plus the virtual time elapsed.  Registers 0-9 read the
 * time in BCD or binary (register B bit 2) and 12- or 24-hour form (bit 1); UIP
 * (register A bit 7) is set during the last 244 us of each second; register C
 * carries PF/AF/UF and IRQF and is cleared by reading it.  Periodic, alarm and
 * update-ended interrupts drive ISA IRQ 8 (high from IRQF until C is read).
 * Writing the time while SET (B bit 7) is on moves the clock; SET stops updates.
 * The CMOS bytes beyond 0x0D are storage, with the memory sizes QEMU writes there:
 * 0x15/0x16 base memory (640 KiB), 0x17/0x18 and 0x30/0x31 extended memory in KiB
 * (above 1 MiB, at most 63 MiB), 0x34/0x35 memory above 16 MiB in 64 KiB units,
 * 0x5B-0x5D memory above 4 GiB in 64 KiB units, 0x5F the CPU count - 1, 0x32 the
 * century (BCD).
 */
#ifndef HVEMU_DEVICES_CMOS_RTC_H
#define HVEMU_DEVICES_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/pc_env.h"

#define RTC_BASE 0x70
#define RTC_IRQ  8
/* The default date (2026-01-01T00:00:00, Unix time): the same for every run. */
#define RTC_DEFAULT_BASE 1767225600ll

#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_A_UIP   0x80
#define RTC_B_SET   0x80
#define RTC_B_PIE   0x40
#define RTC_B_AIE   0x20
#define RTC_B_UIE   0x10
#define RTC_B_DM    0x04        /* 1: binary, 0: BCD */
#define RTC_B_24H   0x02
#define RTC_C_IRQF  0x80
#define RTC_C_PF    0x40
#define RTC_C_AF    0x20
#define RTC_C_UF    0x10

struct cmos_rtc {
    struct pc_env env;
    uint8_t index;
    bool nmi_masked;                /* port 0x70 bit 7 (no NMI source exists; stored) */
    uint8_t mem[128];               /* registers A, B, D and the CMOS bytes; 0-9 are computed */
    int64_t base_seconds;           /* Unix time at virtual cycle 0 */
    uint64_t freq_hz;
    bool set_frozen;                /* B.SET: the time is held at frozen_seconds */
    int64_t frozen_seconds;
    uint64_t last_c_read;           /* cycle register C was last read */
    uint8_t reg_c;                  /* the flags the timer event latched */
    bool irq_level;
};

/* env is copied; timer 0 is the next periodic / update / alarm event. */
void rtc_init(struct cmos_rtc *r, const struct pc_env *env, int64_t base_unix_seconds);
/* The memory-size and CPU-count bytes QEMU's pc machine writes. */
void rtc_set_memory(struct cmos_rtc *r, uint64_t ram_below_4g, uint64_t ram_above_4g, unsigned nr_cpus);
struct io_bus;
bool rtc_attach(struct cmos_rtc *r, struct io_bus *bus);
void rtc_timer_event(struct cmos_rtc *r, unsigned which, uint64_t now);

/* "YYYY-MM-DDTHH:MM:SS" (or "YYYY-MM-DD") -> Unix seconds; false if malformed. */
bool rtc_parse_base(const char *s, int64_t *out);
/* Unix seconds <-> civil date (proleptic Gregorian, UTC). */
int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d);
void rtc_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

uint32_t rtc_read(void *opaque, uint16_t offset, unsigned size);
void rtc_write(void *opaque, uint16_t offset, uint32_t val, unsigned size);

#endif
