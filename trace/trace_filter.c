/* Parsing, printing and matching of trace filters (syntax in trace_filter.h). */
#include "trace/trace_filter.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EV(t) (1ull << TRACE_EV_##t)
#define ALL_EVENTS ((TRACE_EV_COUNT == 64) ? ~0ull : ((1ull << TRACE_EV_COUNT) - 1))

static const struct { const char *name; uint64_t mask; } event_groups[] = {
    { "all", ALL_EVENTS },
    { "lookup", EV(LOOKUP_L1_HIT) | EV(LOOKUP_STLB_HIT) | EV(MISS) },
    { "walk", EV(WALK_START) | EV(WALK_STEP) | EV(WALK_DONE) },
    { "tlb", EV(FILL) | EV(EVICT) },
    { "inv", EV(INV_INVLPG) | EV(INV_INVPCID0) | EV(INV_INVPCID1) | EV(INV_INVPCID2) |
             EV(INV_INVPCID3) | EV(INV_CR3) | EV(INV_CR3_NOFLUSH) | EV(INV_CR4) | EV(INV_PF) |
             EV(INV_CR0) | EV(INV_REFRESH) },
    { "hv", EV(HV_FLUSH_SPACE) | EV(HV_FLUSH_SPACE_EX) | EV(HV_FLUSH_LIST) |
            EV(HV_FLUSH_LIST_EX) | EV(HV_IPI) },
    { "shootdown", EV(SHOOTDOWN_SEND) | EV(SHOOTDOWN_ACK) },
    { "sched", EV(SUSPEND) | EV(RESUME) },
};

/* Events that carry a PCID and happen in one VP's TLB: pcid= and cr3= apply. */
static const uint64_t tlb_events = EV(LOOKUP_L1_HIT) | EV(LOOKUP_STLB_HIT) | EV(MISS) |
    EV(WALK_START) | EV(WALK_STEP) | EV(WALK_DONE) | EV(FILL) | EV(EVICT) |
    EV(INV_INVLPG) | EV(INV_INVPCID0) | EV(INV_INVPCID1) | EV(INV_CR3) |
    EV(INV_CR3_NOFLUSH) | EV(INV_CR4) | EV(INV_PF) | EV(CTX_MARKER) | EV(INV_CR0) | EV(INV_REFRESH);

/* Events whose vaddr is an address: va= applies. */
static const uint64_t addr_events = EV(LOOKUP_L1_HIT) | EV(LOOKUP_STLB_HIT) | EV(MISS) |
    EV(WALK_START) | EV(WALK_STEP) | EV(WALK_DONE) | EV(FILL) | EV(EVICT) |
    EV(INV_INVLPG) | EV(INV_INVPCID0) | EV(INV_PF) | EV(INV_REFRESH);

void trace_filter_default(struct trace_filter *f)
{
    memset(f, 0, sizeof *f);
    f->events = ALL_EVENTS;
}

static bool fail(char *err, size_t n, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Decimal or 0x-hex, the whole of [s, s+len), no sign, no overflow. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        char c = s[i];
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && isxdigit((unsigned char)c))
            d = (unsigned)(tolower((unsigned char)c) - 'a' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

enum key { K_VP, K_PCID, K_CR3, K_VA, K_CYCLES, K_EVENTS, K_HITS, K_NONE };
static const char *const key_names[] = { "vp", "pcid", "cr3", "va", "cycles", "events", "hits" };

static struct trace_range_list *key_list(struct trace_filter *f, enum key k)
{
    switch (k) {
    case K_VP: return &f->vp;
    case K_PCID: return &f->pcid;
    case K_CR3: return &f->cr3;
    case K_VA: return &f->va;
    case K_CYCLES: return &f->cycles;
    default: return NULL;
    }
}

static bool parse_item(struct trace_filter *f, enum key k, bool *events_seen,
                       const char *s, size_t len, char *err, size_t n)
{
    if (len == 0)
        return fail(err, n, "trace filter: empty value for %s=", key_names[k]);

    if (k == K_EVENTS) {
        if (!*events_seen) {        /* the first events= item replaces "all" */
            f->events = 0;
            *events_seen = true;
        }
        for (size_t g = 0; g < sizeof event_groups / sizeof event_groups[0]; g++) {
            if (strlen(event_groups[g].name) == len && strncmp(s, event_groups[g].name, len) == 0) {
                f->events |= event_groups[g].mask;
                return true;
            }
        }
        int t = trace_event_from_name(s, len);
        if (t < 0)
            return fail(err, n, "trace filter: unknown event '%.*s'", (int)len, s);
        f->events |= 1ull << t;
        return true;
    }
    if (k == K_HITS) {
        uint64_t v;
        if (len == 4 && strncmp(s, "none", 4) == 0)
            f->hit_sample = 0;
        else if (len == 3 && strncmp(s, "all", 3) == 0)
            f->hit_sample = 1;
        else if (parse_u64(s, len, &v) && v >= 1 && v <= 65535)
            f->hit_sample = (uint32_t)v;
        else
            return fail(err, n, "trace filter: hits= wants none, all or 1..65535, not '%.*s'", (int)len, s);
        return true;
    }

    struct trace_range_list *l = key_list(f, k);
    const char *dash = memchr(s, '-', len);
    struct trace_range r;
    bool ok = dash ? parse_u64(s, (size_t)(dash - s), &r.lo) &&
                     parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &r.hi)
                   : parse_u64(s, len, &r.lo);
    if (!ok)
        return fail(err, n, "trace filter: bad number or range '%.*s' for %s=", (int)len, s, key_names[k]);
    if (!dash)
        r.hi = r.lo;
    if (r.lo > r.hi)
        return fail(err, n, "trace filter: empty range '%.*s' for %s=", (int)len, s, key_names[k]);
    if (k == K_VP && r.hi > 0xFFFF)
        return fail(err, n, "trace filter: vp %" PRIu64 " out of range", r.hi);
    if (k == K_PCID && r.hi > 0xFFF)
        return fail(err, n, "trace filter: pcid %" PRIu64 " out of range (12 bits)", r.hi);
    if (k == K_CR3) {       /* compare roots, whatever PCID bits the user typed */
        r.lo &= TRACE_CR3_ROOT_MASK;
        r.hi &= TRACE_CR3_ROOT_MASK;
    }
    if (l->n == TRACE_FILTER_MAX_RANGES)
        return fail(err, n, "trace filter: more than %d values for %s=", TRACE_FILTER_MAX_RANGES, key_names[k]);
    l->r[l->n++] = r;
    return true;
}

/* Items of one token, separated by '+' or ':'. */
static bool parse_items(struct trace_filter *f, enum key k, bool *events_seen,
                        const char *s, size_t len, char *err, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '+' || s[i] == ':') {
            if (!parse_item(f, k, events_seen, s + start, i - start, err, n))
                return false;
            start = i + 1;
        }
    }
    return true;
}

bool trace_filter_parse(struct trace_filter *f, const char *spec, char *err, size_t n)
{
    trace_filter_default(f);
    if (!spec)
        return true;
    enum key cur = K_NONE;
    bool events_seen = false;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ";,");
        const char *eq = memchr(p, '=', len);
        if (len == 0) {
            /* "a=1;;b=2" or a trailing separator: tolerate, nothing to parse */
        } else if (eq) {
            size_t klen = (size_t)(eq - p);
            cur = K_NONE;
            for (int k = 0; k < K_NONE; k++) {
                if (strlen(key_names[k]) == klen && strncmp(p, key_names[k], klen) == 0)
                    cur = (enum key)k;
            }
            if (cur == K_NONE)
                return fail(err, n, "trace filter: unknown key '%.*s' (vp, pcid, cr3, va, cycles, events, hits)",
                            (int)klen, p);
            if (!parse_items(f, cur, &events_seen, eq + 1, len - klen - 1, err, n))
                return false;
        } else {
            if (cur == K_NONE)
                return fail(err, n, "trace filter: '%.*s' is not key=value", (int)len, p);
            if (!parse_items(f, cur, &events_seen, p, len, err, n))
                return false;
        }
        p += len;
        if (*p)
            p++;
    }
    return true;
}

static void append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
{
    if (*pos >= outlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
    va_end(ap);
    if (k > 0)
        *pos += (size_t)k;
}

static void format_list(char *out, size_t outlen, size_t *pos, const char *key,
                        const struct trace_range_list *l, bool hex)
{
    if (l->n == 0)
        return;
    append(out, outlen, pos, "%s%s=", *pos ? ";" : "", key);
    for (unsigned i = 0; i < l->n; i++) {
        const char *fmt1 = hex ? "%s0x%" PRIx64 : "%s%" PRIu64;
        append(out, outlen, pos, fmt1, i ? "+" : "", l->r[i].lo);
        if (l->r[i].hi != l->r[i].lo)
            append(out, outlen, pos, hex ? "-0x%" PRIx64 : "-%" PRIu64, l->r[i].hi);
    }
}

void trace_filter_format(const struct trace_filter *f, char *out, size_t outlen)
{
    size_t pos = 0;
    if (outlen)
        out[0] = '\0';
    format_list(out, outlen, &pos, "vp", &f->vp, false);
    format_list(out, outlen, &pos, "pcid", &f->pcid, false);
    format_list(out, outlen, &pos, "cr3", &f->cr3, true);
    format_list(out, outlen, &pos, "va", &f->va, true);
    format_list(out, outlen, &pos, "cycles", &f->cycles, false);
    if (f->events != ALL_EVENTS) {
        append(out, outlen, &pos, "%sevents=", pos ? ";" : "");
        bool first = true;
        for (unsigned t = 0; t < TRACE_EV_COUNT; t++) {
            if (f->events & (1ull << t)) {
                append(out, outlen, &pos, "%s%s", first ? "" : "+", trace_event_name(t));
                first = false;
            }
        }
    }
    if (f->hit_sample == 1)
        append(out, outlen, &pos, "%shits=all", pos ? ";" : "");
    else if (f->hit_sample > 1)
        append(out, outlen, &pos, "%shits=%u", pos ? ";" : "", f->hit_sample);
}

bool trace_filter_restricts(const struct trace_filter *f)
{
    return f->vp.n || f->pcid.n || f->cr3.n || f->va.n || f->cycles.n || f->events != ALL_EVENTS;
}

static bool in_list(const struct trace_range_list *l, uint64_t v)
{
    if (l->n == 0)
        return true;
    for (unsigned i = 0; i < l->n; i++) {
        if (v >= l->r[i].lo && v <= l->r[i].hi)
            return true;
    }
    return false;
}

static bool overlaps_list(const struct trace_range_list *l, uint64_t lo, uint64_t hi)
{
    if (l->n == 0)
        return true;
    for (unsigned i = 0; i < l->n; i++) {
        if (lo <= l->r[i].hi && hi >= l->r[i].lo)
            return true;
    }
    return false;
}

bool trace_filter_match(const struct trace_filter *f, const struct trace_record *r, uint64_t cr3_root)
{
    if (r->type >= TRACE_EV_COUNT || !(f->events & (1ull << r->type)))
        return false;
    if (!in_list(&f->vp, r->vp) || !in_list(&f->cycles, r->cycle))
        return false;
    uint64_t bit = 1ull << r->type;
    if (bit & tlb_events) {
        if (!in_list(&f->pcid, TRACE_PF_PCID(r->pcid_flags)) || !in_list(&f->cr3, cr3_root & TRACE_CR3_ROOT_MASK))
            return false;
    }
    if (bit & addr_events)
        return in_list(&f->va, r->vaddr);
    if ((r->type == TRACE_EV_HV_FLUSH_LIST || r->type == TRACE_EV_HV_FLUSH_LIST_EX) &&
        (r->info & TRACE_HV_TARGET_ACTION)) {
        uint64_t pages = (r->aux & 0xFFF) + 1;
        uint64_t lo = r->vaddr & ~0xFFFull;
        uint64_t hi = lo + pages * 4096 - 1;
        if (hi < lo)
            hi = UINT64_MAX;
        return overlaps_list(&f->va, lo, hi);
    }
    return true;
}
