/* The PC platform: device instances and their wiring.  See hv/platform.h. */
#include "hv/platform.h"
#include "hv/partition.h"
#include "hv/interrupts.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/hpet.h"
#include "devices/i8042.h"
#include "devices/io.h"
#include "devices/pci_host.h"
#include "devices/pit8254.h"
#include "devices/port80.h"
#include "devices/reset.h"
#include "devices/uart16550.h"
#include "devices/vga_text.h"
#include "mmu/physmem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEV_TIMERS 4

/* One device's window on the machine: pc_env.opaque points here. */
struct plat_dev {
    struct platform *pl;
    void *dev;
    void (*fire)(void *dev, unsigned which, uint64_t now);
    int timer_id[MAX_DEV_TIMERS];
    struct plat_timer {
        struct plat_dev *d;
        unsigned which;
    } timers[MAX_DEV_TIMERS];
};

enum { D_PIT, D_RTC, D_HPET, D_ACPI, D_I8042, D_RESET, D_COUNT };

struct platform {
    struct partition *p;
    struct plat_dev dev[D_COUNT];
    struct pit8254 pit;
    struct cmos_rtc rtc;
    struct hpet hpet;
    struct acpi_pm acpi;
    struct i8042 kbc;
    struct pc_reset rcr;
    struct pci_host pci;
    struct vga_text vga;
    bool no_reboot;
    int watchdog_timer;
    uint64_t watchdog_seconds;
};

static struct platform *pl_of(struct partition *p) { return p->platform; }

/* --- pc_env callbacks ------------------------------------------------------------ */

/* Virtual time as the device sees it: the accessing VP's (cpu_now keeps every VP's
 * reading monotonic), or the event time when a clock event runs the device. */
static uint64_t env_now(void *opaque)
{
    struct partition *p = ((struct plat_dev *)opaque)->pl->p;
    return p->running ? cpu_now(&p->running->cpu) : p->clock.now;
}

static void on_clock(void *opaque, uint64_t now)
{
    struct plat_timer *t = opaque;
    t->d->fire(t->d->dev, t->which, now);
}

static void env_timer_arm(void *opaque, unsigned which, uint64_t deadline)
{
    struct plat_dev *d = opaque;
    struct partition *p = d->pl->p;
    if (which >= MAX_DEV_TIMERS || d->timer_id[which] < 0)
        return;
    if (deadline == PC_NEVER) {
        clock_timer_disarm(&p->clock, d->timer_id[which]);
        return;
    }
    /* The running VP's budget ends at the deadline known when its turn began: an
     * earlier new one must send it back to the scheduler (as hv/interrupts.c does). */
    if (p->running && deadline < clock_next_deadline(&p->clock))
        p->running->cpu.attention |= ATTN_YIELD;
    clock_timer_arm(&p->clock, d->timer_id[which], deadline);
}

static void env_set_isa_irq(void *opaque, unsigned irq, bool level)
{
    struct plat_dev *d = opaque;
    struct platform *pl = d->pl;
    /* The HPET's legacy replacement route owns IRQ 0 and IRQ 8 (spec §2.3.9.2.2). */
    if ((d == &pl->dev[D_PIT] || d == &pl->dev[D_RTC]) && hpet_legacy_route(&pl->hpet))
        return;
    intr_set_isa_irq(pl->p, irq, level);
}

static void env_set_gsi(void *opaque, unsigned gsi, bool level)
{
    intr_set_gsi(((struct plat_dev *)opaque)->pl->p, gsi, level);
}

static void env_power_off(void *opaque)
{
    struct partition *p = ((struct plat_dev *)opaque)->pl->p;
    if (p->exit_requested)
        return;
    fprintf(stderr, "hvemu: ACPI power-off\n");
    partition_request_exit(p, HVEMU_EXIT_POWEROFF, "ACPI power-off");
}

static void env_reset(void *opaque, const char *why)
{
    struct platform *pl = ((struct plat_dev *)opaque)->pl;
    struct partition *p = pl->p;
    if (p->exit_requested)
        return;
    char msg[160];
    if (pl->no_reboot) {
        snprintf(msg, sizeof msg, "%s: the guest rebooted (-no-reboot)", why);
        fprintf(stderr, "hvemu: %s\n", msg);
        partition_request_exit(p, HVEMU_EXIT_POWEROFF, msg);
    } else {
        snprintf(msg, sizeof msg, "%s: hvemu does not reboot, stopping", why);
        fprintf(stderr, "hvemu: %s\n", msg);
        partition_request_exit(p, HVEMU_EXIT_RESET, msg);
    }
}

static void env_set_a20(void *opaque, bool enabled)
{
    partition_set_a20(((struct plat_dev *)opaque)->pl->p, enabled);
}

static void fire_pit(void *dev, unsigned w, uint64_t now) { pit_timer_event(dev, w, now); }
static void fire_rtc(void *dev, unsigned w, uint64_t now) { rtc_timer_event(dev, w, now); }
static void fire_hpet(void *dev, unsigned w, uint64_t now) { hpet_timer_event(dev, w, now); }
static void fire_acpi(void *dev, unsigned w, uint64_t now) { acpi_pm_timer_event(dev, w, now); }

/* Fill the env of device k with ntimers clock timers. */
static bool make_env(struct platform *pl, unsigned k, void *dev, const char *name, unsigned ntimers,
                     void (*fire)(void *, unsigned, uint64_t), struct pc_env *env)
{
    struct plat_dev *d = &pl->dev[k];
    d->pl = pl;
    d->dev = dev;
    d->fire = fire;
    for (unsigned i = 0; i < MAX_DEV_TIMERS; i++) {
        d->timer_id[i] = -1;
        d->timers[i] = (struct plat_timer){ d, i };
        if (i < ntimers) {
            d->timer_id[i] = clock_timer_new(&pl->p->clock, name, on_clock, &d->timers[i]);
            if (d->timer_id[i] < 0)
                return false;
        }
    }
    *env = (struct pc_env){
        .opaque = d,
        .freq_hz = pl->p->clock.freq_hz,
        .now = env_now,
        .set_isa_irq = env_set_isa_irq,
        .set_gsi = env_set_gsi,
        .timer_arm = env_timer_arm,
        .power_off = env_power_off,
        .reset = env_reset,
        .set_a20 = env_set_a20,
    };
    return true;
}

/* --- construction --------------------------------------------------------------- */

static bool fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "cannot set up the PC platform: %s", what);
    return false;
}

bool platform_init(struct partition *p, char *err, size_t errlen)
{
    struct platform *pl = calloc(1, sizeof *pl);
    if (!pl)
        return fail(err, errlen, "out of host memory");
    p->platform = pl;
    pl->p = p;
    pl->watchdog_timer = -1;
    struct pc_env env;

    if (!make_env(pl, D_PIT, &pl->pit, "pit", 1, fire_pit, &env))
        return fail(err, errlen, "no clock timer left");
    pit_init(&pl->pit, &env);
    if (!make_env(pl, D_RTC, &pl->rtc, "rtc", 1, fire_rtc, &env))
        return fail(err, errlen, "no clock timer left");
    rtc_init(&pl->rtc, &env, RTC_DEFAULT_BASE);
    uint64_t ram = p->cfg.ram_size, low = ram < (3ull << 30) ? ram : 3ull << 30;
    rtc_set_memory(&pl->rtc, low, ram - low, p->nr_vps);
    if (!make_env(pl, D_HPET, &pl->hpet, "hpet", HPET_TIMERS, fire_hpet, &env))
        return fail(err, errlen, "no clock timer left");
    hpet_init(&pl->hpet, &env);
    if (!make_env(pl, D_ACPI, &pl->acpi, "acpi-pm", 1, fire_acpi, &env))
        return fail(err, errlen, "no clock timer left");
    acpi_pm_init(&pl->acpi, &env);
    make_env(pl, D_I8042, &pl->kbc, "i8042", 0, NULL, &env);
    i8042_init(&pl->kbc, &env);
    make_env(pl, D_RESET, &pl->rcr, "reset", 0, NULL, &env);
    pc_reset_init(&pl->rcr, &env);
    pci_host_init(&pl->pci, &pl->rcr);
    vga_text_init(&pl->vga);

    if (!pit_attach(&pl->pit, p->io) || !i8042_attach(&pl->kbc, p->io) || !rtc_attach(&pl->rtc, p->io)
        || !port80_attach(p->io) || !acpi_pm_attach(&pl->acpi, p->io) || !pci_host_attach(&pl->pci, p->io)
        || !vga_text_attach(&pl->vga, p->io))
        return fail(err, errlen, "a device's ports are already taken");
    if (!physmem_add_mmio(p->pm, HPET_BASE, 0x1000, hpet_mmio_read, hpet_mmio_write, &pl->hpet, "hpet"))
        return fail(err, errlen, "the HPET page is already taken");
    return true;
}

void platform_free(struct partition *p)
{
    free(p->platform);
    p->platform = NULL;
}

void platform_set_rtc_base(struct partition *p, int64_t unix_seconds)
{
    pl_of(p)->rtc.base_seconds = unix_seconds - (int64_t)(p->clock.now / p->clock.freq_hz);
}

void platform_set_no_reboot(struct partition *p, bool no_reboot)
{
    pl_of(p)->no_reboot = no_reboot;
}

static void on_watchdog(void *opaque, uint64_t now)
{
    struct platform *pl = opaque;
    struct partition *p = pl->p;
    if (p->exit_requested)
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "watchdog: the run did not end within %llu s of virtual time "
             "(%llu cycles)", (unsigned long long)pl->watchdog_seconds, (unsigned long long)now);
    fprintf(stderr, "hvemu: %s\n", msg);
    for (unsigned i = 0; i < p->nr_vps; i++) {
        fprintf(stderr, "VP %u (state %d):\n", i, (int)p->vps[i].state);
        cpu_dump_state(&p->vps[i].cpu, stderr);
    }
    partition_request_exit(p, HVEMU_EXIT_WATCHDOG, msg);
}

bool platform_set_watchdog(struct partition *p, uint64_t seconds, char *err, size_t errlen)
{
    struct platform *pl = pl_of(p);
    if (seconds == 0 || seconds > UINT64_MAX / p->clock.freq_hz) {
        snprintf(err, errlen, "-watchdog %llu: the number of seconds must be 1..%llu",
                 (unsigned long long)seconds, (unsigned long long)(UINT64_MAX / p->clock.freq_hz));
        return false;
    }
    if (pl->watchdog_timer < 0)
        pl->watchdog_timer = clock_timer_new(&p->clock, "watchdog", on_watchdog, pl);
    if (pl->watchdog_timer < 0) {
        snprintf(err, errlen, "-watchdog: no clock timer left");
        return false;
    }
    pl->watchdog_seconds = seconds;
    clock_timer_arm(&p->clock, pl->watchdog_timer, seconds * p->clock.freq_hz);
    return true;
}

static void uart_irq(void *opaque, int level)
{
    intr_set_isa_irq(opaque, UART_COM1_IRQ, level != 0);
}

void platform_wire_uart(struct partition *p)
{
    if (p->uart)
        uart_set_irq(p->uart, uart_irq, p);
}

struct pit8254 *platform_pit(struct partition *p) { return &pl_of(p)->pit; }
struct cmos_rtc *platform_rtc(struct partition *p) { return &pl_of(p)->rtc; }
struct hpet *platform_hpet(struct partition *p) { return &pl_of(p)->hpet; }
struct acpi_pm *platform_acpi_pm(struct partition *p) { return &pl_of(p)->acpi; }
struct pci_host *platform_pci(struct partition *p) { return &pl_of(p)->pci; }
