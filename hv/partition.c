/* The partition: builds the machine and implements struct cpu_env. */
#include "hv/partition.h"
#include "cpu/env.h"
#include "mmu/physmem.h"
#include "devices/io.h"
#include "devices/uart16550.h"
#include "devices/fw_cfg.h"
#include "devices/debug_exit.h"
#include "hv/interrupts.h"
#include "hv/platform.h"

#include "cpu/block.h"
#include "cpu/cpu_models.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A preset mmu_init accepts (an unknown one gets mmu_init's own error). */
static bool tlb_preset_known(const char *name)
{
    for (unsigned k = 0; mmu_preset_name(k); k++)
        if (strcmp(mmu_preset_name(k), name) == 0)
            return true;
    return false;
}

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* --- struct cpu_env ------------------------------------------------------------ */

static uint32_t env_io_in(void *opaque, struct cpu *c, uint16_t port, unsigned size)
{
    struct partition *p = opaque;
    return io_read(p->io, port, size);
}

static void env_io_out(void *opaque, struct cpu *c, uint16_t port, uint32_t val, unsigned size)
{
    struct partition *p = opaque;
    io_write(p->io, port, val, size);
}

/* No MSR outside the CPU's own exists yet (the APIC and Hyper-V synthetic MSRs come
 * with later issues): the CPU raises #GP(0), as on hardware without them. */
static bool env_msr_read(void *opaque, struct cpu *c, uint32_t msr, uint64_t *val)
{
    bool ok;
    if (intr_msr_read(opaque, c, msr, val, &ok))
        return ok;
    return hv_msr_read(((struct partition *)opaque)->hv, c, msr, val);
}

static bool env_msr_write(void *opaque, struct cpu *c, uint32_t msr, uint64_t val)
{
    bool ok;
    if (intr_msr_write(opaque, c, msr, val, &ok))
        return ok;
    return hv_msr_write(((struct partition *)opaque)->hv, c, msr, val);
}

static void env_cpuid(void *opaque, struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    intr_cpuid(opaque, c, leaf, subleaf, out);     /* x2APIC, TSC-deadline */
    hv_cpuid(((struct partition *)opaque)->hv, c, leaf, subleaf, out);     /* Hyper-V leaves */
}

static void env_hypercall(void *opaque, struct cpu *c)
{
    hv_hypercall(((struct partition *)opaque)->hv, c);
}

/* hypercall: NULL for now, i.e. a plain PC
 * with no hypervisor leaves, VMCALL -> #UD and no interrupt controller. */
const struct cpu_env partition_cpu_env = {
    .io_in = env_io_in,
    .io_out = env_io_out,
    .msr_read = env_msr_read,
    .msr_write = env_msr_write,
    .cpuid = env_cpuid,
    .hypercall = env_hypercall,
    .intr_ack = intr_env_ack,
    .nmi_ack = intr_env_nmi_ack,
    .tpr_write = intr_env_tpr_write,
};

/* --- construction -------------------------------------------------------------- */

struct partition *partition_new(const struct partition_config *cfg, char *err, size_t errlen)
{
    const char *why = NULL;
    if (cfg->nr_vps < 1 || cfg->nr_vps > PARTITION_MAX_VPS) {
        fail(err, errlen, "-smp %u: the number of CPUs must be 1..%d", cfg->nr_vps, PARTITION_MAX_VPS);
        return NULL;
    }
    struct partition *p = calloc(1, sizeof *p);
    if (!p) {
        fail(err, errlen, "out of host memory");
        return NULL;
    }
    p->cfg = *cfg;
    /* -cpu: the model's CPUID TLB leaves describe its own TLB preset, so -tlb defaults
     * to it, -tlb P alone selects the model of preset P (models and presets share their
     * names), and -cpu with another model's preset is refused (cpu/cpu_models.h). */
    const struct cpu_model *model = cpu_model_find(cfg->cpu_model);
    if (!cfg->cpu_model && cfg->tlb_preset && cpu_model_find(cfg->tlb_preset))
        model = cpu_model_find(cfg->tlb_preset);
    if (!model) {
        fail(err, errlen, "-cpu %s: unknown CPU model (hvemu has: skylake, goldencove, zen2)", cfg->cpu_model);
        free(p);
        return NULL;
    }
    if (!p->cfg.tlb_preset)
        p->cfg.tlb_preset = model->tlb_preset;
    if (strcmp(p->cfg.tlb_preset, model->tlb_preset) != 0 && tlb_preset_known(p->cfg.tlb_preset)) {
        fail(err, errlen, "-tlb %s: CPU model %s reports the TLB of preset %s in CPUID; "
             "use -cpu %s, or -tlb %s", p->cfg.tlb_preset, model->name, model->tlb_preset,
             p->cfg.tlb_preset, model->tlb_preset);
        free(p);
        return NULL;
    }
    if (!p->cfg.cpu_freq_hz)
        p->cfg.cpu_freq_hz = CLOCK_DEFAULT_HZ;
    clock_init(&p->clock, p->cfg.cpu_freq_hz);

    p->pm = physmem_new(cfg->ram_size, &why);
    if (!p->pm) {
        fail(err, errlen, "-m %llu MiB: %s", (unsigned long long)(cfg->ram_size >> 20),
             why ? why : "cannot allocate guest RAM");
        goto out_free;
    }
    p->io = io_bus_new();
    p->vps = calloc(cfg->nr_vps, sizeof *p->vps);
    if (!p->io || !p->vps) {
        fail(err, errlen, "out of host memory for %u VPs", cfg->nr_vps);
        goto out_free;
    }
    p->bc = block_cache_new(p->pm);
    if (!p->bc) {
        fail(err, errlen, "out of host memory for the block cache");
        goto out_free;
    }
    for (unsigned i = 0; i < cfg->nr_vps; i++) {
        struct vp *v = &p->vps[i];
        v->index = i;
        if (!mmu_init(&v->mmu, p->pm, (int)i, p->cfg.tlb_preset, cfg->tlb_mode, &why)) {
            fail(err, errlen, "-tlb %s: %s", p->cfg.tlb_preset, why ? why : "unknown TLB preset");
            p->nr_vps = i;      /* destroy only the mmus initialised so far */
            goto out_free;
        }
        p->nr_vps = i + 1;
        v->cpu.cpu_freq_hz = p->cfg.cpu_freq_hz;
        v->cpu.vp_index = (int)i;
        v->cpu.model = model;
        v->cpu.nr_vps = cfg->nr_vps;
        v->cpu.rng_seed = cfg->rng_seed;
        cpu_init(&v->cpu, &v->mmu, &partition_cpu_env, p);
        v->cpu.bcache = p->bc;
        v->cpu.time_floor = &p->time_floor;
        v->mmu.cycles = &v->cpu.cycles;     /* trace stamps, refill window (mmu/trace_hooks.h) */
        v->mmu.icount = &v->cpu.icount;
        v->state = i == 0 ? VP_RUNNABLE : VP_WAIT_SIPI;
    }

    p->fw_cfg = fw_cfg_new();
    if (!p->fw_cfg
        || !fw_cfg_add_machine(p->fw_cfg, cfg->ram_size, (uint16_t)cfg->nr_vps, cfg->nographic,
                               cfg->version_text ? cfg->version_text : "hvemu")
        || !fw_cfg_attach(p->fw_cfg, p->io, FW_CFG_IO_BASE)) {
        fail(err, errlen, "cannot set up fw_cfg");
        goto out_free;
    }
    if (!intr_init(p, err, errlen))
        goto out_free;
    p->hv = hv_new(p, &p->cfg.hyperv);
    if (!p->hv) {
        fail(err, errlen, "out of host memory for the Hyper-V interface");
        goto out_free;
    }
    if (!hv_lock_schedule_init(p->hv, err, errlen))
        goto out_free;
    if (!platform_init(p, err, errlen))     /* after intr_init: the devices drive its lines */
        goto out_free;
    return p;

out_free:
    partition_free(p);
    return NULL;
}

void partition_free(struct partition *p)
{
    if (!p)
        return;
    if (p->trace)
        partition_close_trace(p, NULL, 0);     /* a run that ended without main's close */
    platform_free(p);
    intr_free(p);
    hv_free(p->hv);
    for (unsigned i = 0; i < p->nr_vps; i++)
        mmu_destroy(&p->vps[i].mmu);
    free(p->vps);
    for (unsigned i = 0; i < p->n_debug_exit; i++)
        debug_exit_free(p->debug_exit[i]);
    uart_free(p->uart);
    fw_cfg_free(p->fw_cfg);
    io_bus_free(p->io);
    if (p->bc)
        block_cache_free(p->bc);
    if (p->pm)
        physmem_free(p->pm);
    free(p);
}

/* --- devices ------------------------------------------------------------------- */

bool partition_add_uart(struct partition *p, uint16_t base, FILE *out, char *err, size_t errlen)
{
    if (p->uart)
        return fail(err, errlen, "only one serial port is supported");
    p->uart = uart_new(out);
    if (!p->uart)
        return fail(err, errlen, "out of host memory");
    if (!uart_attach(p->uart, p->io, base)) {
        const char *owner = io_owner(p->io, base);
        return fail(err, errlen, "serial port at 0x%x: ports already used by %s", base, owner ? owner : "another device");
    }
    if (base == UART_COM1_BASE)
        platform_wire_uart(p);              /* COM1: IRQ 4 */
    return true;
}

static void on_debug_exit(void *opaque, uint32_t status)
{
    partition_request_exit(opaque, (int)status, "the guest wrote to isa-debug-exit");
}

bool partition_add_debug_exit(struct partition *p, uint16_t iobase, uint32_t iosize,
                              char *err, size_t errlen)
{
    if (p->n_debug_exit == PARTITION_MAX_DEBUG_EXITS)
        return fail(err, errlen, "too many isa-debug-exit devices (at most %d)", PARTITION_MAX_DEBUG_EXITS);
    if (iosize == 0 || iobase + iosize > 0x10000)
        return fail(err, errlen, "isa-debug-exit: iobase=0x%x,iosize=0x%x is outside the I/O space", iobase, iosize);
    struct debug_exit *d = debug_exit_new(p->io, iobase, iosize, on_debug_exit, p);
    if (!d) {
        const char *owner = NULL;
        for (uint32_t port = iobase; port < iobase + iosize && !owner; port++)
            owner = io_owner(p->io, (uint16_t)port);
        return fail(err, errlen, "isa-debug-exit: ports 0x%x-0x%x overlap %s", iobase, iobase + iosize - 1,
                    owner ? owner : "another device");
    }
    p->debug_exit[p->n_debug_exit++] = d;
    return true;
}

void partition_request_exit(struct partition *p, int status, const char *msg)
{
    if (p->exit_requested)
        return;         /* the first reason wins */
    p->exit_requested = true;
    p->exit_status = status;
    snprintf(p->exit_msg, sizeof p->exit_msg, "%s", msg ? msg : "");
    if (p->running)
        cpu_request_stop(&p->running->cpu, CPU_EXIT_STOP, msg ? msg : "guest requested exit");
}

void partition_set_a20(struct partition *p, bool enabled)
{
    for (unsigned i = 0; i < p->nr_vps; i++)
        mmu_set_a20(&p->vps[i].mmu, enabled);
}

uint64_t partition_total_insns(const struct partition *p)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < p->nr_vps; i++)
        n += p->vps[i].cpu.icount;
    return n;
}

uint64_t partition_max_cycles(const struct partition *p)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < p->nr_vps; i++)
        if (p->vps[i].cpu.cycles > m)
            m = p->vps[i].cpu.cycles;
    return m;
}
