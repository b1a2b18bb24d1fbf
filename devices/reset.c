/* The 0xCF9 reset control register.  See devices/reset.h. */
#include "devices/reset.h"

#include <string.h>

void pc_reset_init(struct pc_reset *r, const struct pc_env *env)
{
    memset(r, 0, sizeof *r);
    r->env = *env;
}

uint8_t pc_reset_read(struct pc_reset *r)
{
    return r->rcr & (RCR_SYS_RST | RCR_FULL_RST);   /* RST_CPU reads back 0 */
}

void pc_reset_write(struct pc_reset *r, uint8_t val)
{
    bool start = (val & RCR_RST_CPU) && !(r->rcr & RCR_RST_CPU);
    r->rcr = val & (RCR_SYS_RST | RCR_FULL_RST);
    if (start)
        r->env.reset(r->env.opaque, (val & (RCR_SYS_RST | RCR_FULL_RST))
                     ? "reset through port 0xCF9 (hard)" : "reset through port 0xCF9 (soft)");
}
