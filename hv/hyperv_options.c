/* Command-line syntax of the Hyper-V interface (frontend/options.c calls these):
 *   -hyperv on|off|NAME=on|off|compat=kvm|compat=tlfs[,...]   (NAME: hv_feature_names)
 *   -tlb-lock vp=V,at=CYCLES,for=CYCLES                       (may be repeated)
 * Every error is one line naming the option and the problem (exit status 2). */
#include "hv/hyperv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* The next comma-separated item of *s into buf; false at the end. */
static bool next_item(const char **s, char *buf, size_t n)
{
    if (!**s)
        return false;
    size_t len = strcspn(*s, ",");
    if (len >= n)
        len = n - 1;
    memcpy(buf, *s, len);
    buf[len] = 0;
    *s += strcspn(*s, ",");
    if (**s == ',')
        (*s)++;
    return true;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    char *e;
    unsigned long long x = strtoull(s, &e, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
    if (errno || *e)
        return false;
    *v = x;
    return true;
}

bool hv_parse_hyperv_option(const char *arg, struct hv_config *cfg, char *err, size_t errlen)
{
    const char *s = arg;
    char item[64];
    if (!*arg)
        return fail(err, errlen, "-hyperv: expected on, off or NAME=on|off,... (e.g. -hyperv tlbflush=off)");
    while (next_item(&s, item, sizeof item)) {
        if (!strcmp(item, "on")) {
            cfg->off = false;
            continue;
        }
        if (!strcmp(item, "off")) {
            cfg->off = true;
            continue;
        }
        char *eq = strchr(item, '=');
        if (!eq)
            return fail(err, errlen, "-hyperv %s: '%s' is not on, off or NAME=VALUE", arg, item);
        *eq = 0;
        const char *val = eq + 1;
        if (!strcmp(item, "compat")) {
            if (!strcmp(val, "kvm"))
                cfg->compat_kvm = true;
            else if (!strcmp(val, "tlfs") || !strcmp(val, "strict"))
                cfg->compat_kvm = false;
            else
                return fail(err, errlen, "-hyperv %s: compat=%s: expected kvm or tlfs", arg, val);
            continue;
        }
        int f = -1;
        for (int k = 0; k < HVF_COUNT; k++)
            if (!strcmp(item, hv_feature_names[k]))
                f = k;
        if (f < 0) {
            char names[256] = "";
            for (int k = 0; k < HVF_COUNT; k++) {
                strncat(names, hv_feature_names[k], sizeof names - strlen(names) - 1);
                if (k + 1 < HVF_COUNT)
                    strncat(names, ", ", sizeof names - strlen(names) - 1);
            }
            return fail(err, errlen, "-hyperv %s: unknown feature '%s' (known: %s, compat)", arg, item, names);
        }
        if (!strcmp(val, "on")) {
            cfg->features_on |= HVF_BIT(f);
            cfg->features_off &= ~HVF_BIT(f);
        } else if (!strcmp(val, "off")) {
            cfg->features_off |= HVF_BIT(f);
            cfg->features_on &= ~HVF_BIT(f);
        } else {
            return fail(err, errlen, "-hyperv %s: %s=%s: expected on or off", arg, item, val);
        }
    }
    return true;
}

bool hv_parse_tlb_lock_option(const char *arg, struct hv_config *cfg, char *err, size_t errlen)
{
    if (cfg->nlocks == HV_MAX_LOCK_EVENTS)
        return fail(err, errlen, "-tlb-lock: at most %d entries", HV_MAX_LOCK_EVENTS);
    const char *s = arg;
    char item[64];
    uint64_t vp = 0, at = 0, dur = 0;
    bool have_vp = false, have_at = false, have_for = false;
    while (next_item(&s, item, sizeof item)) {
        char *eq = strchr(item, '=');
        if (!eq)
            return fail(err, errlen, "-tlb-lock %s: '%s' is not KEY=VALUE (expected vp=V,at=CYCLES,for=CYCLES)", arg, item);
        *eq = 0;
        uint64_t v;
        if (!parse_u64(eq + 1, &v))
            return fail(err, errlen, "-tlb-lock %s: %s=%s is not a number", arg, item, eq + 1);
        if (!strcmp(item, "vp")) {
            vp = v;
            have_vp = true;
        } else if (!strcmp(item, "at")) {
            at = v;
            have_at = true;
        } else if (!strcmp(item, "for")) {
            dur = v;
            have_for = true;
        } else {
            return fail(err, errlen, "-tlb-lock %s: unknown key '%s' (expected vp, at, for)", arg, item);
        }
    }
    if (!have_vp || !have_at || !have_for)
        return fail(err, errlen, "-tlb-lock %s: expected vp=V,at=CYCLES,for=CYCLES", arg);
    if (vp >= HV_MAX_VPS)
        return fail(err, errlen, "-tlb-lock %s: vp=%llu is not a VP index (0..%d)", arg,
                    (unsigned long long)vp, HV_MAX_VPS - 1);
    if (dur == 0)
        return fail(err, errlen, "-tlb-lock %s: for=0 locks nothing", arg);
    cfg->locks[cfg->nlocks].vp = (unsigned)vp;
    cfg->locks[cfg->nlocks].at = at;
    cfg->locks[cfg->nlocks].duration = dur;
    cfg->nlocks++;
    return true;
}
