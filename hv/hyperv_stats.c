/* The "hyperv" member of the -stats JSON: hypercall counts per call and per form,
 * statuses, flush targets and pages, IPI targets, the cycles charged to callers
 * (stall), suspend/resume counts and suspended time, per VP where it is per VP.
 * Integers only, fixed key order: identical inputs give identical bytes. */
#include "hv/hyperv.h"
#include "hv/partition.h"

void hv_stats_write_json(const struct hyperv *hv, FILE *f, int indent)
{
    const struct hv_stats *s = &hv->st;
    int in = indent + 2;
    fprintf(f, "%*s\"hyperv\": {\n", indent, "");
    fprintf(f, "%*s\"enabled\": %d,\n", in, "", hv->enabled ? 1 : 0);
    fprintf(f, "%*s\"compat_kvm\": %d,\n", in, "", hv->cfg.compat_kvm ? 1 : 0);
    fprintf(f, "%*s\"features\": %u,\n", in, "", hv->enabled ? hv->features : 0);
    fprintf(f, "%*s\"hypercalls\": %llu,\n", in, "", (unsigned long long)s->calls);
    fprintf(f, "%*s\"by_call\": {", in, "");
    for (unsigned r = 0; hv_call_name(r); r++)
        fprintf(f, "%s\"%s\": %llu", r ? ", " : "", hv_call_name(r), (unsigned long long)s->by_code[r]);
    fprintf(f, ", \"unknown\": %llu},\n", (unsigned long long)s->unknown_code);
    fprintf(f, "%*s\"by_form\": {\"slow\": %llu, \"fast\": %llu, \"xmm_fast\": %llu},\n", in, "",
            (unsigned long long)s->slow, (unsigned long long)s->fast, (unsigned long long)s->xmm_fast);
    static const char *const names[7] = { "success", "unused1", "invalid_hypercall_code",
        "invalid_hypercall_input", "invalid_alignment", "invalid_parameter", "access_denied" };
    fprintf(f, "%*s\"by_status\": {", in, "");
    for (unsigned k = 0; k < 7; k++)
        if (k != 1)
            fprintf(f, "%s\"%s\": %llu", k ? ", " : "", names[k], (unsigned long long)s->by_status[k]);
    fprintf(f, ", \"other\": %llu, \"ud\": %llu},\n", (unsigned long long)s->other_status,
            (unsigned long long)s->ud);
    fprintf(f, "%*s\"continuations\": %llu,\n", in, "", (unsigned long long)s->continuations);
    fprintf(f, "%*s\"flush\": {\"calls\": %llu, \"targets\": %llu, \"pages\": %llu},\n", in, "",
            (unsigned long long)s->flush_calls, (unsigned long long)s->flush_targets,
            (unsigned long long)s->flush_pages);
    fprintf(f, "%*s\"ipi\": {\"calls\": %llu, \"targets\": %llu},\n", in, "",
            (unsigned long long)s->ipi_calls, (unsigned long long)s->ipi_targets);
    fprintf(f, "%*s\"stall_cycles\": %llu,\n", in, "", (unsigned long long)s->stall_cycles);
    fprintf(f, "%*s\"tlb_lock\": {\"locks\": %llu, \"unlocks\": %llu, \"suspends\": %llu, "
               "\"resumes\": %llu, \"suspended_cycles\": %llu},\n", in, "",
            (unsigned long long)s->tlb_locks, (unsigned long long)s->tlb_unlocks,
            (unsigned long long)s->suspends, (unsigned long long)s->resumes,
            (unsigned long long)s->suspended_cycles);
    fprintf(f, "%*s\"suspended_cycles_per_vp\": [", in, "");
    for (unsigned v = 0; v < hv->p->nr_vps; v++)
        fprintf(f, "%s%llu", v ? ", " : "", (unsigned long long)hv->vp[v].suspended_cycles);
    fprintf(f, "]\n%*s}", indent, "");
}
