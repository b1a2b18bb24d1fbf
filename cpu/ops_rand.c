/* RDRAND, RDSEED and RDPID (SDM Vol. 2B).
 *
 * Determinism (DESIGN.md: nothing a guest observes depends on the host): the
 * "random" numbers are a xoshiro256** stream (Blackman & Vigna, 2018) per VP, whose
 * state is filled by splitmix64 from -rng-seed and the VP index at power-on.  The
 * same seed gives every VP the same sequence on every run; different VPs get
 * different sequences.  The generator never runs dry: CF is always 1.
 */
#include "cpu/cpu.h"
#include "cpu/cpu_models.h"
#include "cpu/exception.h"
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void cpu_rng_init(struct cpu *c)
{
    /* Distinct VP streams: the VP index goes through a round of splitmix64 first so
     * that seeds s and s+1 do not give overlapping VP streams. */
    uint64_t vp = (uint64_t)c->vp_index;
    uint64_t x = c->rng_seed ^ splitmix64(&vp);
    for (int k = 0; k < 4; k++)
        c->rng_state[k] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t cpu_rng_next(struct cpu *c)
{
    uint64_t *s = c->rng_state;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* The destination gets osize random bytes; CF = 1, OF SF ZF AF PF = 0 ("valid random
 * data"). F2/F3 are #UD (the "NFx" of the opcode column; F3 /7 is RDPID). */
static void rand_to_reg(struct cpu *c, const struct insn *i)
{
    if (i->pfx & (PFX_REP | PFX_REPNE))
        cpu_raise_ud(c);
    opnd_write(c, i, 0, cpu_rng_next(c) & size_mask(i->osize));
    flags_put_arith(c, FL_CF);
}

void h_rdrand(struct cpu *c, const struct insn *i)
{
    rand_to_reg(c, i);
}

/* F3 0F C7 /7 is RDPID: IA32_TSC_AUX into r32, or r64 in 64-bit mode (the operand
 * size prefixes do not apply).  Without F3 it is RDSEED.  Same stream as RDRAND: a
 * real RDSEED draws from the entropy source RDRAND's DRBG is seeded from. */
void h_rdseed(struct cpu *c, const struct insn *i)
{
    if ((i->pfx & (PFX_REP | PFX_REPNE)) == PFX_REP) {
        gpr_write(c, i->rm, c->mode == MODE_LONG64 ? 8 : 4, (uint32_t)c->msr.tsc_aux, true);
        return;
    }
    rand_to_reg(c, i);
}
