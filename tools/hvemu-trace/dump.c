/* dump (one readable line per record) and csv. */
#include <inttypes.h>
#include <stdio.h>

#include "tool.h"

static const char *const size_names[4] = { "4K", "2M", "1G", "?" };
static const char *const access_names[4] = { "R", "W", "X", "?" };

static bool is_hv_flush(unsigned t)
{
    return t == TRACE_EV_HV_FLUSH_SPACE || t == TRACE_EV_HV_FLUSH_SPACE_EX || t == TRACE_EV_HV_FLUSH_LIST ||
           t == TRACE_EV_HV_FLUSH_LIST_EX;
}

static bool dump_one(void *ctx, const struct trace_record *r)
{
    FILE *out = ctx;
    fprintf(out, "%14" PRIu64 " vp%-3u %-17s va=0x%016" PRIx64 " aux=0x%" PRIx64 " pcid=%u%s %s%s",
            r->cycle, r->vp, trace_event_name(r->type), r->vaddr, r->aux, TRACE_PF_PCID(r->pcid_flags),
            (r->pcid_flags & TRACE_PF_GLOBAL) ? " G" : "", size_names[TRACE_PF_SIZE(r->pcid_flags)],
            (r->pcid_flags & TRACE_PF_GUEST) ? "" : " host");
    if (is_hv_flush(r->type)) {
        fprintf(out, " %s%s%s%s", (r->info & TRACE_HV_TARGET_ACTION) ? "target" : "call",
                (r->info & TRACE_HV_ALL_PROCESSORS) ? " all-vps" : "",
                (r->info & TRACE_HV_ALL_SPACES) ? " all-spaces" : "",
                (r->info & TRACE_HV_NON_GLOBAL_ONLY) ? " non-global" : "");
    } else {
        fprintf(out, " %s%s %s lvl=%u", access_names[TRACE_INFO_ACCESS(r->info)],
                (r->info & TRACE_INFO_USER) ? " user" : "", trace_struct_name(TRACE_INFO_STRUCT(r->info)),
                TRACE_INFO_LEVEL(r->info));
    }
    fprintf(out, " lat=%u\n", r->latency);
    return !ferror(out);
}

int cmd_dump(struct trace_reader *rd, const struct tool_opts *o)
{
    FILE *out = tool_open_out(o);
    if (!out)
        return EXIT_BAD;
    bool ok = tool_for_each(rd, o, dump_one, out);
    return tool_close_out(o, out) && ok ? EXIT_OK : EXIT_BAD;
}

static bool csv_one(void *ctx, const struct trace_record *r)
{
    FILE *out = ctx;
    fprintf(out, "%" PRIu64 ",%u,%s,0x%" PRIx64 ",0x%" PRIx64 ",%u,%u,%s,%u,%s,%u,%s,%u,0x%02x,%u\n", r->cycle, r->vp,
            trace_event_name(r->type), r->vaddr, r->aux, TRACE_PF_PCID(r->pcid_flags),
            !!(r->pcid_flags & TRACE_PF_GLOBAL), size_names[TRACE_PF_SIZE(r->pcid_flags)],
            !!(r->pcid_flags & TRACE_PF_GUEST), access_names[TRACE_INFO_ACCESS(r->info)],
            !!(r->info & TRACE_INFO_USER), trace_struct_name(TRACE_INFO_STRUCT(r->info)), TRACE_INFO_LEVEL(r->info),
            r->info, r->latency);
    return !ferror(out);
}

int cmd_csv(struct trace_reader *rd, const struct tool_opts *o)
{
    FILE *out = tool_open_out(o);
    if (!out)
        return EXIT_BAD;
    fputs("cycle,vp,type,vaddr,aux,pcid,global,page_size,guest,access,user,structure,level,info,latency\n", out);
    bool ok = tool_for_each(rd, o, csv_one, out);
    return tool_close_out(o, out) && ok ? EXIT_OK : EXIT_BAD;
}
