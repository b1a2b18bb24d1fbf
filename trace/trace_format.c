/* Byte-exact encoding of the trace format (layouts in trace_format.h). */
#include "trace/trace_format.h"

#include <ctype.h>
#include <string.h>

static const char *const event_names[TRACE_EV_COUNT] = {
#define TRACE_EV_NAME(id, name) name,
    TRACE_EVENT_LIST(TRACE_EV_NAME)
#undef TRACE_EV_NAME
};

/* The enum spellings, so "-trace-filter events=LOOKUP_L1_HIT" works as well. */
static const char *const event_ids[TRACE_EV_COUNT] = {
#define TRACE_EV_ID(id, name) #id,
    TRACE_EVENT_LIST(TRACE_EV_ID)
#undef TRACE_EV_ID
};

const char *trace_event_name(unsigned type)
{
    return type < TRACE_EV_COUNT ? event_names[type] : NULL;
}

static bool name_eq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (b[i] == '\0' || tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    }
    return b[len] == '\0';
}

int trace_event_from_name(const char *name, size_t len)
{
    for (unsigned t = 0; t < TRACE_EV_COUNT; t++) {
        if (name_eq(name, event_names[t], len) || name_eq(name, event_ids[t], len))
            return (int)t;
    }
    return -1;
}

const char *trace_struct_name(unsigned st)
{
    static const char *const names[TRACE_STRUCT_COUNT] = {
        "l1i_4k", "l1i_2m", "l1d_4k", "l1d_2m", "l1d_1g", "stlb", "stlb_1g", "psc",
    };
    return st < TRACE_STRUCT_COUNT ? names[st] : "?";
}

const char *trace_preset_name(unsigned preset)
{
    switch (preset) {
    case TRACE_PRESET_CUSTOM: return "custom";
    case TRACE_PRESET_SKYLAKE: return "skylake";
    case TRACE_PRESET_GOLDENCOVE: return "goldencove";
    case TRACE_PRESET_ZEN2: return "zen2";
    default: return "unknown";
    }
}

void trace_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
void trace_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
void trace_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
uint16_t trace_get_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
uint32_t trace_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
uint64_t trace_get_le64(const uint8_t *p)
{
    return (uint64_t)trace_get_le32(p) | ((uint64_t)trace_get_le32(p + 4) << 32);
}

void trace_encode_record(uint8_t out[TRACE_RECORD_SIZE], const struct trace_record *r)
{
    trace_put_le64(out + 0, r->cycle);
    trace_put_le64(out + 8, r->vaddr);
    trace_put_le64(out + 16, r->aux);
    trace_put_le16(out + 24, r->vp);
    trace_put_le16(out + 26, r->pcid_flags);
    out[28] = r->type;
    out[29] = r->info;
    trace_put_le16(out + 30, r->latency);
}

void trace_decode_record(const uint8_t in[TRACE_RECORD_SIZE], struct trace_record *r)
{
    r->cycle = trace_get_le64(in + 0);
    r->vaddr = trace_get_le64(in + 8);
    r->aux = trace_get_le64(in + 16);
    r->vp = trace_get_le16(in + 24);
    r->pcid_flags = trace_get_le16(in + 26);
    r->type = in[28];
    r->info = in[29];
    r->latency = trace_get_le16(in + 30);
}

void trace_encode_header(uint8_t out[TRACE_HEADER_SIZE], const struct trace_header *h)
{
    memset(out, 0, TRACE_HEADER_SIZE);
    memcpy(out, TRACE_MAGIC, TRACE_MAGIC_LEN);
    trace_put_le16(out + 8, h->version);
    trace_put_le16(out + 10, h->header_size);
    trace_put_le32(out + 12, h->ext_len);
    trace_put_le64(out + 16, h->event_mask);
    trace_put_le64(out + 24, h->seed);
    trace_put_le64(out + 32, h->filter_hash);
    trace_put_le64(out + 40, h->build_id);
    trace_put_le32(out + 48, h->core_khz);
    trace_put_le16(out + 52, h->vp_count);
    out[54] = h->preset_id;
    out[55] = h->flags;
    trace_put_le16(out + 56, h->l1d_entries);
    out[58] = h->l1d_ways;
    out[59] = h->stlb_ways;
    trace_put_le16(out + 60, h->stlb_entries);
    trace_put_le16(out + 62, h->hit_sample);
}

void trace_decode_header(const uint8_t in[TRACE_HEADER_SIZE], struct trace_header *h)
{
    h->version = trace_get_le16(in + 8);
    h->header_size = trace_get_le16(in + 10);
    h->ext_len = trace_get_le32(in + 12);
    h->event_mask = trace_get_le64(in + 16);
    h->seed = trace_get_le64(in + 24);
    h->filter_hash = trace_get_le64(in + 32);
    h->build_id = trace_get_le64(in + 40);
    h->core_khz = trace_get_le32(in + 48);
    h->vp_count = trace_get_le16(in + 52);
    h->preset_id = in[54];
    h->flags = in[55];
    h->l1d_entries = trace_get_le16(in + 56);
    h->l1d_ways = in[58];
    h->stlb_ways = in[59];
    h->stlb_entries = trace_get_le16(in + 60);
    h->hit_sample = trace_get_le16(in + 62);
}

void trace_encode_chunk_header(uint8_t out[TRACE_CHUNK_HEADER_SIZE], const struct trace_chunk_header *c)
{
    trace_put_le32(out + 0, c->compressed_len);
    trace_put_le32(out + 4, c->raw_len);
    trace_put_le32(out + 8, c->n_records);
    trace_put_le64(out + 12, c->first_cycle);
    trace_put_le16(out + 20, c->vp);
    trace_put_le16(out + 22, c->kind);
}

void trace_decode_chunk_header(const uint8_t in[TRACE_CHUNK_HEADER_SIZE], struct trace_chunk_header *c)
{
    c->compressed_len = trace_get_le32(in + 0);
    c->raw_len = trace_get_le32(in + 4);
    c->n_records = trace_get_le32(in + 8);
    c->first_cycle = trace_get_le64(in + 12);
    c->vp = trace_get_le16(in + 20);
    c->kind = trace_get_le16(in + 22);
}

void trace_encode_geometry(uint8_t out[TRACE_GEOMETRY_SIZE], const struct trace_geometry_entry g[TRACE_STRUCT_COUNT])
{
    for (int i = 0; i < TRACE_STRUCT_COUNT; i++) {
        uint8_t *p = out + 8 * i;
        trace_put_le16(p + 0, g[i].entries);
        trace_put_le16(p + 2, g[i].ways);
        p[4] = g[i].policy;
        p[5] = g[i].page_size_mask;
        trace_put_le16(p + 6, g[i].hit_latency);
    }
}

void trace_decode_geometry(const uint8_t in[TRACE_GEOMETRY_SIZE], struct trace_geometry_entry g[TRACE_STRUCT_COUNT])
{
    for (int i = 0; i < TRACE_STRUCT_COUNT; i++) {
        const uint8_t *p = in + 8 * i;
        g[i].entries = trace_get_le16(p + 0);
        g[i].ways = trace_get_le16(p + 2);
        g[i].policy = p[4];
        g[i].page_size_mask = p[5];
        g[i].hit_latency = trace_get_le16(p + 6);
    }
}

void trace_encode_summary_entry(uint8_t out[TRACE_SUMMARY_ENTRY_SIZE], const struct trace_summary_entry *e)
{
    memset(out, 0, TRACE_SUMMARY_ENTRY_SIZE);
    trace_put_le64(out + 0, e->seen);
    trace_put_le64(out + 8, e->logged);
    trace_put_le16(out + 24, e->vp);
    out[26] = e->type;
}

void trace_decode_summary_entry(const uint8_t in[TRACE_SUMMARY_ENTRY_SIZE], struct trace_summary_entry *e)
{
    e->seen = trace_get_le64(in + 0);
    e->logged = trace_get_le64(in + 8);
    e->vp = trace_get_le16(in + 24);
    e->type = in[26];
}

uint64_t trace_fnv1a64(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
