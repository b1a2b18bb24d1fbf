/* Segmentation: linear-address formation with limit/type checks (seg_linear) and
 * segment-register loads with the protection checks of SDM Vol. 3A ch. 5.
 */
#include "cpu/seg.h"
#include "cpu/exception.h"
#include "cpu/mem.h"

/* SDM Vol. 3A 5.3 (limit checking) and 5.4 (type checking).  Outside 64-bit mode
 * every access is checked against the cached limit and type; real mode included,
 * because the caches keep protected-mode limits ("unreal mode") and a word at
 * offset 0xFFFF does fault on a 286 and later. */
uint64_t seg_linear(struct cpu *c, unsigned seg, uint64_t off, unsigned size, enum mmu_access acc)
{
    uint32_t fault_vec = (seg == SEG_SS) ? EXC_SS : EXC_GP;

    if (c->mode == MODE_LONG64) {
        /* SDM Vol. 3A 3.4.4: only FS and GS bases apply; no limits or types. */
        uint64_t la = off + ((seg == SEG_FS || seg == SEG_GS) ? c->seg[seg].base : 0);
        if (!canonical48(la) || !canonical48(la + size - 1))
            cpu_raise(c, (int)fault_vec, 0);
        return la;
    }
    if (seg >= SEG_COUNT)
        cpu_raise_gp0(c);

    const struct segment *s = &c->seg[seg];
    if (c->mode != MODE_REAL) {
        uint16_t a = s->attr;
        if (!(a & SEG_ATTR_P))                      /* null or unusable selector */
            cpu_raise(c, (int)fault_vec, 0);
        if (acc == ACC_WRITE && (a & ST_CODE || !(a & ST_WRITE)))
            cpu_raise(c, (int)fault_vec, 0);
        if (acc == ACC_READ && (a & ST_CODE) && !(a & ST_READ))
            cpu_raise(c, (int)fault_vec, 0);
    }
    uint64_t last = off + size - 1;
    if (!(s->attr & ST_CODE) && (s->attr & ST_EXPDOWN) && (s->attr & SEG_ATTR_S)) {
        /* Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (B bit). */
        uint64_t upper = (s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
        if (off <= s->limit || last > upper)
            cpu_raise(c, (int)fault_vec, 0);
    } else if (last > s->limit) {
        cpu_raise(c, (int)fault_vec, 0);
    }
    return (s->base + off) & 0xffffffffull;
}

bool desc_read(struct cpu *c, uint16_t sel, uint64_t *d, uint64_t *addr)
{
    uint64_t base, limit;
    if (sel & SEL_TI) {
        if (SEL_NULL(c->ldtr.sel) || !(c->ldtr.attr & SEG_ATTR_P))
            return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    uint64_t off = sel & 0xfff8u;
    if (off + 7 > limit)
        return false;
    *addr = base + off;
    if (!(c->efer & EFER_LMA))
        *addr &= 0xffffffffull;
    *d = mem_read_sys(c, *addr, 8);
    return true;
}

void desc_set_accessed(struct cpu *c, uint64_t addr, uint64_t *d)
{
    if (*d & (1ull << 40))
        return;
    *d |= 1ull << 40;
    /* Byte 5 holds the type; the write is an implicit supervisor access (SDM 4.6). */
    mem_write_sys(c, addr + 5, (*d >> 40) & 0xff, 1);
}

void seg_from_desc(struct segment *s, uint16_t sel, uint64_t d)
{
    s->sel = sel;
    s->base = desc_base(d);
    s->limit = desc_limit(d);
    s->attr = desc_attr(d);
}

void seg_set_flat(struct segment *s, uint16_t sel, uint16_t attr)
{
    s->sel = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = attr;
}

/* Real mode: base = sel * 16; the limit and the size bits stay as they were (that
 * is what lets "unreal mode" work); the segment is made present, writable data or
 * readable code at DPL 0, which is how real-mode code can use it. */
void seg_load_real(struct cpu *c, unsigned seg, uint16_t sel)
{
    struct segment *s = &c->seg[seg];
    s->sel = sel;
    s->base = (uint64_t)sel << 4;
    s->attr = (uint16_t)((s->attr & 0xf00) | SEG_ATTR_P | SEG_ATTR_S |
                         (seg == SEG_CS ? (ST_CODE | ST_READ | ST_ACCESSED) : (ST_WRITE | ST_ACCESSED)));
    if (s->limit == 0 && !(s->attr & SEG_ATTR_G))
        s->limit = 0xffff;
}

static void load_null(struct cpu *c, unsigned seg, uint16_t sel)
{
    struct segment *s = &c->seg[seg];
    s->sel = sel;
    s->base = 0;        /* Intel zeroes the base of a nulled FS/GS too */
    s->limit = 0;
    s->attr = 0;
}

void seg_load(struct cpu *c, unsigned seg, uint16_t sel)
{
    if (c->mode == MODE_REAL || (c->rflags & FL_VM)) {
        seg_load_real(c, seg, sel);
        return;
    }
    unsigned cpl = c->cpl, rpl = SEL_RPL(sel);

    if (SEL_NULL(sel)) {
        if (seg != SEG_SS) {
            load_null(c, seg, sel);
            return;
        }
        /* SDM Vol. 2 MOV: a null SS is legal only in 64-bit mode, at CPL < 3, with RPL = CPL. */
        if (c->mode == MODE_LONG64 && cpl != 3 && rpl == cpl) {
            load_null(c, seg, sel);
            c->seg[SEG_SS].attr = (uint16_t)((cpl << 5) | SEG_ATTR_S | ST_WRITE); /* keeps the CPL */
            return;
        }
        cpu_raise_gp0(c);
    }

    uint64_t d, addr;
    if (!desc_read(c, sel, &d, &addr))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    uint16_t a = desc_attr(d);
    unsigned dpl = SEG_ATTR_DPL(a);

    if (seg == SEG_SS) {
        if (rpl != cpl || dpl != cpl || !attr_is_data(a) || !(a & ST_WRITE))
            cpu_raise(c, EXC_GP, SEL_ERR(sel));
        if (!(a & SEG_ATTR_P))
            cpu_raise(c, EXC_SS, SEL_ERR(sel));
    } else {
        if (!(a & SEG_ATTR_S) || (attr_is_code(a) && !(a & ST_READ)))
            cpu_raise(c, EXC_GP, SEL_ERR(sel));
        /* Data and non-conforming code: RPL and CPL must both be <= DPL (SDM Vol. 3A 5.6). */
        if (!(attr_is_code(a) && (a & ST_CONFORM)) && (rpl > dpl || cpl > dpl))
            cpu_raise(c, EXC_GP, SEL_ERR(sel));
        if (!(a & SEG_ATTR_P))
            cpu_raise(c, EXC_NP, SEL_ERR(sel));
    }
    desc_set_accessed(c, addr, &d);
    seg_from_desc(&c->seg[seg], sel, d);
}

uint64_t seg_check_code(struct cpu *c, uint16_t sel, uint64_t *addr)
{
    uint64_t d;
    if (SEL_NULL(sel))
        cpu_raise_gp0(c);
    if (!desc_read(c, sel, &d, addr))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    if (!attr_is_code(desc_attr(d)))
        cpu_raise(c, EXC_GP, SEL_ERR(sel));
    return d;
}

void seg_load_cs(struct cpu *c, uint16_t sel, uint64_t d, unsigned cpl)
{
    seg_from_desc(&c->seg[SEG_CS], (uint16_t)((sel & 0xfffc) | cpl), d);
    c->seg[SEG_CS].attr |= ST_ACCESSED;
    cpu_update_mode(c);
}

void seg_null_outer(struct cpu *c)
{
    static const unsigned regs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    for (unsigned k = 0; k < 4; k++) {
        struct segment *s = &c->seg[regs[k]];
        uint16_t a = s->attr;
        if (!(a & SEG_ATTR_P))
            continue;
        bool conforming = attr_is_code(a) && (a & ST_CONFORM);
        if (!conforming && SEG_ATTR_DPL(a) < c->cpl) {
            uint64_t base = s->base;
            load_null(c, regs[k], 0);
            /* In 64-bit mode FS/GS bases are MSR state that a return keeps. */
            if (c->mode == MODE_LONG64 && (regs[k] == SEG_FS || regs[k] == SEG_GS))
                s->base = base;
        }
    }
}

void seg_check_rip(struct cpu *c, const struct segment *cs, bool to64, uint64_t rip)
{
    if (to64 ? !canonical48(rip) : rip > cs->limit)
        cpu_raise_gp0(c);
}

struct segment seg_check_return_ss(struct cpu *c, uint16_t ss_sel, unsigned rpl, bool to64)
{
    struct segment ss;
    if (SEL_NULL(ss_sel)) {
        if (!to64 || rpl == 3)
            cpu_raise_gp0(c);
        return (struct segment){ .sel = ss_sel, .attr = (uint16_t)((rpl << 5) | SEG_ATTR_S | ST_WRITE) };
    }
    uint64_t sd, saddr;
    if (SEL_RPL(ss_sel) != rpl || !desc_read(c, ss_sel, &sd, &saddr))
        cpu_raise(c, EXC_GP, SEL_ERR(ss_sel));
    uint16_t sa = desc_attr(sd);
    if (!attr_is_data(sa) || !(sa & ST_WRITE) || SEG_ATTR_DPL(sa) != rpl)
        cpu_raise(c, EXC_GP, SEL_ERR(ss_sel));
    if (!(sa & SEG_ATTR_P))
        cpu_raise(c, EXC_SS, SEL_ERR(ss_sel));
    desc_set_accessed(c, saddr, &sd);
    seg_from_desc(&ss, ss_sel, sd);
    return ss;
}
