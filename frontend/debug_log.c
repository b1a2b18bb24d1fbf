/* The -d / -D debug log: the implementation of the cpu/debug_hook.h hooks and of the
 * unclaimed-port hook of devices/io.h.  See frontend/debug_log.h. */
#include "frontend/debug_log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/debug_hook.h"
#include "cpu/decode.h"
#include "cpu/insn.h"
#include "devices/io.h"
#include "mmu/mmu.h"
#include "mmu/physmem.h"

#ifdef HVEMU_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

#define PAGE_SIZE 4096u

static const struct { const char *name; unsigned bit; } items[] = {
    { "in_asm", CPU_DBG_IN_ASM }, { "int", CPU_DBG_INT },
    { "cpu", CPU_DBG_CPU }, { "unimp", CPU_DBG_UNIMP },
};

static struct {
    FILE *f;
    bool own_file;
    unsigned n_ud, n_msr, n_port;       /* unimp lines written per kind */
    unsigned long long dropped;         /* unimp events past the limit */
#ifdef HVEMU_HAVE_CAPSTONE
    csh cs[3];                          /* 16-, 32-, 64-bit handles */
    bool cs_ok[3];
#endif
} g;

bool debug_log_parse(const char *spec, unsigned *mask, char *err, size_t errlen)
{
    *mask = 0;
    const char *p = spec;
    while (*p) {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (size_t k = 0; k < sizeof items / sizeof items[0]; k++)
            if (strlen(items[k].name) == n && !strncmp(items[k].name, p, n)) {
                *mask |= items[k].bit;
                found = true;
            }
        if (!found) {
            snprintf(err, errlen, "-d %s: unknown item '%.*s' (known: in_asm, int, cpu, unimp)",
                     spec, (int)n, p);
            return false;
        }
        p += n + (p[n] == ',');
    }
    if (!*mask) {
        snprintf(err, errlen, "-d '%s': expected a list of in_asm, int, cpu, unimp", spec);
        return false;
    }
    return true;
}

/* Count an unimp line of one kind; false once the kind is past its limit. */
static bool unimp_budget(unsigned *n)
{
    if (*n >= DEBUG_LOG_UNIMP_MAX) {
        g.dropped++;
        return false;
    }
    if (++*n == DEBUG_LOG_UNIMP_MAX)
        fprintf(g.f, "(unimp: this is the last line of its kind; the rest are counted)\n");
    return true;
}

static const char *const exc_name[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF9", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void on_event(struct cpu *c, int vec, uint32_t err, bool has_err, enum cpu_dbg_event kind)
{
    const char *k = kind == CPU_DBG_EXC ? "exception" : kind == CPU_DBG_SOFTINT ? "softint" : "interrupt";
    fprintf(g.f, "vp%d %s v=%02x", c->vp_index, k, vec & 0xff);
    if (kind == CPU_DBG_EXC && vec < 32 && exc_name[vec])
        fprintf(g.f, " %s", exc_name[vec]);
    if (has_err)
        fprintf(g.f, " e=%04" PRIx32, err);
    /* For a fault insn_rip is the faulting instruction; for an interrupt taken at a
     * boundary both are the next instruction. */
    fprintf(g.f, " rip=%016" PRIx64 " next=%016" PRIx64 " cpl=%u cs=%04x",
            c->insn_rip, c->rip, c->cpl, c->seg[SEG_CS].sel);
    if (vec == EXC_PF && kind == CPU_DBG_EXC)
        fprintf(g.f, " cr2=%016" PRIx64, c->cr2);
    fprintf(g.f, " icount=%" PRIu64 "\n", c->icount);
}

static void on_ud(struct cpu *c, const struct insn *i)
{
    if (!unimp_budget(&g.n_ud))
        return;
    const char *map = i->op < 0x100 ? "" : i->op < 0x200 ? "0f " : i->op < 0x300 ? "0f38 " :
                      i->op < 0x400 ? "0f3a " : "? ";
    fprintf(g.f, "vp%d unimp #UD rip=%016" PRIx64 " mode=%u op=%s%02x modrm=%u/%u/%u pfx=%02x len=%u icount=%" PRIu64 "\n",
            c->vp_index, c->insn_rip, c->mode, map, i->op & 0xff, i->mod, i->reg & 7, i->rm & 7,
            i->pfx, i->len, c->icount);
}

static void on_msr(struct cpu *c, uint32_t msr, bool write, uint64_t val)
{
    if (!unimp_budget(&g.n_msr))
        return;
    if (write)
        fprintf(g.f, "vp%d unimp wrmsr %#" PRIx32 " <- %#" PRIx64 " (#GP) rip=%016" PRIx64 "\n",
                c->vp_index, msr, val, c->insn_rip);
    else
        fprintf(g.f, "vp%d unimp rdmsr %#" PRIx32 " (#GP) rip=%016" PRIx64 "\n", c->vp_index, msr, c->insn_rip);
}

static void on_port(void *opaque, uint16_t port, bool write, uint32_t val, unsigned size)
{
    (void)opaque;
    if (!unimp_budget(&g.n_port))
        return;
    if (write)
        fprintf(g.f, "unimp out port %#06x <- %#x (size %u, unclaimed)\n", port, val, size);
    else
        fprintf(g.f, "unimp in port %#06x (size %u, unclaimed: all ones)\n", port, size);
}

static void on_block(struct cpu *c, uint64_t la, uint64_t pa, const struct insn *insns, unsigned n)
{
    unsigned bytes = 0;
    for (unsigned k = 0; k < n; k++)
        bytes += insns[k].len;
    fprintf(g.f, "IN: vp%d la=%016" PRIx64 " pa=%016" PRIx64 " mode=%u (%u insns)\n",
            c->vp_index, la, pa, c->mode, n);
    uint8_t buf[2 * PAGE_SIZE];
    if (bytes > sizeof buf)
        bytes = sizeof buf;
    /* RAM only (no device side effects); the bytes may run into the next page only
     * for an uncached step, whose second page is not read here. */
    const uint8_t *p = physmem_page_ptr(c->mmu->pm, pa, false);
    unsigned off = (unsigned)(pa & (PAGE_SIZE - 1));
    unsigned avail = p ? PAGE_SIZE - off : 0;
    if (bytes > avail)
        bytes = avail;
    if (p)
        memcpy(buf, p + off, bytes);
#ifdef HVEMU_HAVE_CAPSTONE
    unsigned m = c->mode == MODE_LONG64 ? 2 : c->mode == MODE_PROT32 ? 1 : 0;
    if (g.cs_ok[m] && bytes) {
        cs_insn *ci;
        size_t cnt = cs_disasm(g.cs[m], buf, bytes, la, 0, &ci);
        for (size_t k = 0; k < cnt; k++)
            fprintf(g.f, "  %016" PRIx64 ":  %-8s %s\n", ci[k].address, ci[k].mnemonic, ci[k].op_str);
        if (cnt)
            cs_free(ci, cnt);
        if (cnt == n) {
            fputc('\n', g.f);
            return;
        }
    }
#endif
    /* Without Capstone (or where it disagrees on the count): hvemu's mnemonics + bytes. */
    uint64_t a = la;
    unsigned pos = 0;
    for (unsigned k = 0; k < n; k++) {
        fprintf(g.f, "  %016" PRIx64 ":  %-10s", a, insn_mnemonic(&insns[k]));
        for (unsigned b = 0; b < insns[k].len && pos + b < bytes; b++)
            fprintf(g.f, " %02x", buf[pos + b]);
        fputc('\n', g.f);
        a += insns[k].len;
        pos += insns[k].len;
    }
    fputc('\n', g.f);
}

static void on_regs(struct cpu *c)
{
    fprintf(g.f, "vp%d icount=%" PRIu64 " cycles=%" PRIu64 "\n", c->vp_index, c->icount, c->cycles);
    cpu_dump_state(c, g.f);
}

static const struct cpu_debug_hooks hooks = {
    .event = on_event, .ud = on_ud, .msr = on_msr, .block = on_block, .regs = on_regs,
};

bool debug_log_start(unsigned mask, const char *path, struct io_bus *io, char *err, size_t errlen)
{
    memset(&g, 0, sizeof g);
    if (path) {
        g.f = fopen(path, "w");
        if (!g.f) {
            snprintf(err, errlen, "-D %s: cannot open for writing", path);
            return false;
        }
        g.own_file = true;
    } else {
        g.f = stderr;
    }
#ifdef HVEMU_HAVE_CAPSTONE
    static const cs_mode modes[3] = { CS_MODE_16, CS_MODE_32, CS_MODE_64 };
    if (mask & CPU_DBG_IN_ASM)
        for (int k = 0; k < 3; k++)
            g.cs_ok[k] = cs_open(CS_ARCH_X86, modes[k], &g.cs[k]) == CS_ERR_OK;
#endif
    if ((mask & CPU_DBG_UNIMP) && io)
        io_set_unclaimed_hook(io, on_port, NULL);
    cpu_debug_hooks = &hooks;
    cpu_debug_mask = mask;
    return true;
}

void debug_log_stop(void)
{
    if (!g.f)
        return;
    cpu_debug_mask = 0;
    if (g.dropped)
        fprintf(g.f, "unimp: %llu further events not logged (limit %u per kind)\n",
                g.dropped, DEBUG_LOG_UNIMP_MAX);
#ifdef HVEMU_HAVE_CAPSTONE
    for (int k = 0; k < 3; k++)
        if (g.cs_ok[k])
            cs_close(&g.cs[k]);
#endif
    if (g.own_file)
        fclose(g.f);
    else
        fflush(g.f);
    g.f = NULL;
}
