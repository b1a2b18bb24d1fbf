/* -stats JSON writer.  See frontend/stats.h for the layout and the determinism rule. */
#include "frontend/stats.h"
#include "hv/partition.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void write_json(FILE *f, struct partition *p, const struct run_summary *rs)
{
    const struct partition_config *cfg = &p->cfg;
    fputs("{\n", f);
    fputs("  \"hvemu_version\": ", f);
    json_string(f, rs->version);
    fprintf(f, ",\n  \"tlb_model\": \"%s\",\n", cfg->tlb_mode == TLB_MODEL_EXACT ? "exact" : "fast");
    fputs("  \"tlb_preset\": ", f);
    json_string(f, cfg->tlb_preset);
    fprintf(f, ",\n  \"cpu_freq_hz\": %llu,\n", (unsigned long long)cfg->cpu_freq_hz);
    fprintf(f, "  \"ram_bytes\": %llu,\n", (unsigned long long)cfg->ram_size);
    fprintf(f, "  \"exit_status\": %d,\n", rs->exit_status);
    fputs("  \"stop_reason\": ", f);
    json_string(f, rs->stop_reason);
    fputs(",\n  \"vps\": [\n", f);
    for (unsigned i = 0; i < p->nr_vps; i++) {
        struct vp *v = &p->vps[i];
        fprintf(f, "    {\n      \"vp\": %u,\n      \"instructions\": %llu,\n      \"cycles\": %llu,\n"
                   "      \"tlb\":\n",
                i, (unsigned long long)v->cpu.icount, (unsigned long long)v->cpu.cycles);
        mmu_stats_write_json_insns(&v->mmu, f, 8, v->cpu.icount);   /* MPKI rates, per-CR3 blocks */
        fprintf(f, "\n    }%s\n", i + 1 < p->nr_vps ? "," : "");
    }
    uint64_t insns = partition_total_insns(p), cycles = partition_max_cycles(p);
    double vsec = (double)cycles / (double)cfg->cpu_freq_hz;
    fputs("  ],\n", f);
    fprintf(f, "  \"totals\": {\n    \"instructions\": %llu,\n    \"max_cycles\": %llu,\n"
               "    \"virtual_seconds\": %.9f,\n    \"guest_mips_virtual\": %.3f\n  },\n",
            (unsigned long long)insns, (unsigned long long)cycles, vsec,
            vsec > 0 ? (double)insns / vsec / 1e6 : 0.0);
    if (p->hv) {
        hv_stats_write_json(p->hv, f, 2);       /* hv/hyperv_stats.c */
        fputs(",\n", f);
    }
    /* Host-dependent figures: last, in their own section (see stats.h). */
    fprintf(f, "  \"host\": {\n    \"wall_seconds\": %.6f,\n    \"host_mips\": %.3f\n  }\n}\n",
            rs->wall_seconds, rs->wall_seconds > 0 ? (double)insns / rs->wall_seconds / 1e6 : 0.0);
}

bool stats_write_file(const char *path, struct partition *p, const struct run_summary *rs,
                      char *err, size_t errlen)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return fail(err, errlen, "-stats %s: out of memory", path);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fail(err, errlen, "-stats %s: cannot create %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return false;
    }
    write_json(f, p, rs);
    bool ok = !ferror(f);
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0 || errno == EINVAL;  /* EINVAL: a pipe or special file */
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        fail(err, errlen, "-stats %s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return false;
    }
    free(tmp);
    return true;
}
