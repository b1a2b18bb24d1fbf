/* The decoder: prefixes, opcode maps, ModRM/SIB, immediates -> struct insn.
 *
 * The tables (cpu/decode_tables*.c) say what each opcode is; this file only knows
 * the encoding rules of SDM Vol. 2 chapter 2 (prefixes 2.1.1, REX 2.2.1, ModRM/SIB
 * 2.1.5 Tables 2-1..2-3, 64-bit operand/address sizes 2.2.1.2-2.2.1.7) and the few
 * opcodes whose meaning depends on a prefix or the mode (the SP_* specials).
 *
 * Every byte is read through get(), which reports "need more bytes" at the end of
 * the window and "too long" at the 16th byte, so no input can make us read past
 * the buffer or loop.
 */
#include <string.h>
#include "cpu/cpu_models.h"
#include "cpu/cpu_quirks.h"
#include "cpu/decode.h"
#include "cpu/decode_tab.h"
#include "cpu/exception.h"
#include "cpu/timing.h"

const insn_handler hid_fn[HID_COUNT] = {
#define X(name) h_##name,
    HVEMU_HANDLERS(X)
#undef X
};

const char *const hid_name[HID_COUNT] = {
#define X(name) #name,
    HVEMU_HANDLERS(X)
#undef X
};

void decode_h_too_long(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_raise_gp0(c);
}

/* An undefined encoding reached from a table hole. */
static const struct op_row row_undef = { .name = "(bad)", .kind = ROW_OP, .hid = HID_ud, .flags = R_UD };
/* A ModRM-bearing unsupported encoding (0F 38 xx, VEX...). */
static const struct op_row row_ud_modrm = { .name = "(bad)", .kind = ROW_OP, .hid = HID_ud,
                                            .flags = R_UD | R_MODRM, .opnd = { M, 0, 0 } };
static const struct op_row row_ud_modrm_ib = { .name = "(bad)", .kind = ROW_OP, .hid = HID_ud,
                                               .flags = R_UD | R_MODRM, .opnd = { M, Ib, 0 } };

struct dctx {
    const uint8_t *b;
    unsigned avail;
    unsigned pos;
    const struct cpu_model *model;  /* decoding differs by model: cpu/cpu_quirks.h */
};

/* Byte at ctx->pos, or a negative "error" code: -2 need more, -1 too long. */
#define GET_NEED -2
#define GET_LONG -1
static inline int get(struct dctx *d)
{
    if (d->pos >= INSN_MAX_LEN)
        return GET_LONG;
    if (d->pos >= d->avail)
        return GET_NEED;
    return d->b[d->pos++];
}

/* Little-endian immediate of n bytes (1, 2, 4, 8); *err set on failure. */
static int get_le(struct dctx *d, unsigned n, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned k = 0; k < n; k++) {
        int c = get(d);
        if (c < 0)
            return c;
        x |= (uint64_t)c << (8 * k);
    }
    *v = x;
    return 0;
}

#define TRY(expr) do { int r_ = (expr); if (r_ < 0) return r_; } while (0)

/* Rows of a ModRM group (SDM Vol. 2 Table A-6), memory or register form. */
static const struct op_row *group_row(unsigned g, unsigned modrm)
{
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7;
    switch (g) {
    case G6_0F00:  return &op_g6[reg];
    case G7_0F01:  return mod == 3 ? &op_0f01_reg[modrm & 0x3f] : &op_g7[reg];
    case G8_0FBA:  return &op_g8[reg];
    case G9_0FC7:  return mod == 3 ? &op_g9_reg[reg] : &op_g9[reg];
    case G15_0FAE: return mod == 3 ? &op_g15_reg[reg] : &op_g15[reg];
    default:       return &op_groups1[g][reg];
    }
}

/* An x87 row of D8-DF by ModRM (cpu/decode_tables_x87.c). */
static const struct op_row *x87_row(unsigned op, unsigned modrm)
{
    return (modrm >> 6) == 3 ? &op_x87_reg[op & 7][modrm & 0x3f] : &op_x87_mem[op & 7][(modrm >> 3) & 7];
}

/* Prefix-selected rows; rexb and rep are the REX.B bit and the F3 prefix. */
static const struct op_row *special_row(unsigned sp, bool is64, bool rexb, bool rep)
{
    switch (sp) {
    case SP_NOP90: return rexb ? &op_nop90[2] : rep ? &op_nop90[1] : &op_nop90[0];
    case SP_63:    return &op_63[is64];
    case SP_F3_B8: case SP_F3_BC: case SP_F3_BD:
        return &op_f3sel[sp - SP_F3_B8][rep];
    default:       return &row_undef;
    }
}

/* An SSE/MMX row of op (0x1xx, 0x2xx, 0x3xx) by mandatory prefix (cpu/decode_tables_sse.c);
 * an empty cell is #UD with a ModRM, plus Ib in 0F 3A and at 0F 70-73/C2/C4-C6. */
static unsigned sse_column(unsigned pfx)
{
    return (pfx & PFX_REP) ? 2 : (pfx & PFX_REPNE) ? 3 : (pfx & PFX_OPSIZE) ? 1 : 0;
}
static const struct op_row *sse_row(unsigned op, unsigned pfx)
{
    unsigned map = op >> 8, b = op & 0xff;
    const struct op_row *row = map == 1 ? &op_sse0f[b][sse_column(pfx)]
                             : map == 2 ? &op_sse38[b][sse_column(pfx)] : &op_sse3a[b][sse_column(pfx)];
    if (row->kind == ROW_OP)
        return row;
    bool ib = map == 3 || (map == 1 && ((b >= 0x70 && b <= 0x73) || b == 0xc2 || (b >= 0xc4 && b <= 0xc6)));
    return ib ? &row_ud_modrm_ib : &row_ud_modrm;
}

/* ModRM (+SIB, +displacement) into out; regform: mod is ignored (MOV CR/DR). */
static int parse_modrm(struct dctx *d, struct insn *out, unsigned modrm, unsigned rex,
                       bool is64, bool regform, bool *ss_default)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    uint64_t v;
    *ss_default = false;
    if (regform)
        mod = 3;
    out->mod = (uint8_t)mod;
    out->rm = (uint8_t)(rm | (rex & 1) << 3);
    if (mod == 3)
        return 0;

    if (out->asize == 2) {
        /* SDM Vol. 2 Table 2-1: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 when mod 0), BX. */
        static const uint8_t base16[8] = { RBX, RBX, RBP, RBP, RSI, RDI, RBP, RBX };
        static const uint8_t index16[8] = { RSI, RDI, RSI, RDI, EA_NONE, EA_NONE, EA_NONE, EA_NONE };
        out->base = base16[rm];
        out->index = index16[rm];
        if (mod == 0 && rm == 6) {
            out->base = EA_NONE;
            TRY(get_le(d, 2, &v));
            out->disp = (int16_t)v;
            return 0;
        }
        *ss_default = out->base == RBP;
        if (mod == 1) {
            TRY(get_le(d, 1, &v));
            out->disp = (int8_t)v;
        } else if (mod == 2) {
            TRY(get_le(d, 2, &v));
            out->disp = (int16_t)v;
        }
        return 0;
    }

    /* 32/64-bit addressing: SDM Vol. 2 Tables 2-2, 2-3 and 2.2.1.6 (RIP-relative). */
    bool disp32 = mod == 2;
    if (rm == 4) {
        int sib = get(d);
        if (sib < 0)
            return sib;
        unsigned idx = ((sib >> 3) & 7) | (rex & 2) << 2;
        out->scale = (uint8_t)(sib >> 6);
        out->index = idx == 4 ? EA_NONE : (uint8_t)idx;
        if ((sib & 7) == 5 && mod == 0) {
            out->base = EA_NONE;
            disp32 = true;
        } else {
            out->base = (uint8_t)((sib & 7) | (rex & 1) << 3);
        }
    } else if (rm == 5 && mod == 0) {
        out->base = is64 ? EA_RIP : EA_NONE;
        disp32 = true;
    } else {
        out->base = (uint8_t)(rm | (rex & 1) << 3);
    }
    *ss_default = out->base == RSP || out->base == RBP;
    if (mod == 1) {
        TRY(get_le(d, 1, &v));
        out->disp = (int8_t)v;
    } else if (disp32) {
        TRY(get_le(d, 4, &v));
        out->disp = (int32_t)v;
    }
    return 0;
}

/* Length of a VEX/EVEX/XOP-encoded instruction (all #UD here); *pos is after the
 * opcode escape byte.  vex_bytes = payload bytes before the opcode; map 1 = 0F,
 * 2 = 0F38, 3 = 0F3A (SDM Vol. 2 2.3.5, 2.7.1; AMD APM Vol. 3 1.8 for XOP). */
static const struct op_row *vex_row(struct dctx *d, unsigned vex_bytes, unsigned map, int *err)
{
    d->pos += vex_bytes;          /* payload bytes were already checked by the caller */
    int opc = get(d);
    if (opc < 0) {
        *err = opc;
        return NULL;
    }
    if (map == 1 && opc == 0x77)
        return &row_undef;        /* VZEROUPPER/VZEROALL: no ModRM */
    if (map == 3 || (map == 1 && ((opc >= 0x70 && opc <= 0x73) || opc == 0xc2 ||
                                  (opc >= 0xc4 && opc <= 0xc6))))
        return &row_ud_modrm_ib;
    return &row_ud_modrm;
}

/* insn.oreg[n] for the accessors' fast path: register operands whose number alone
 * names them (not AH..BH, which byte operands 4..7 mean without REX), and immediates. */
static uint8_t fast_reg(const struct insn *out, unsigned k, bool byte_norex)
{
    unsigned r;
    switch (k) {
    case OPK_REG:   r = out->reg; break;
    case OPK_RM:    if (out->mod != 3) return 0; r = out->rm; break;
    case OPK_OPREG: r = out->rm; break;
    case OPK_ACC:   r = RAX; break;
    case OPK_IMM:   return OREG_IMM;
    default:        return 0;
    }
    if (byte_norex && r >= 4 && r < 8)
        return 0;
    return (uint8_t)(r + 1);
}

/* A near branch (JMP, CALL, RET, Jcc, LOOPcc, JrCXZ) with 66h and no REX.W in 64-bit
 * mode: 16-bit operand size on models with QUIRK_NEAR_BRANCH_O16 (the rel16
 * displacement is 2 bytes then: the length differs by vendor), else 64 bits. */
static bool near_branch_o16(const struct dctx *d, unsigned fl, unsigned pfx, bool rexw)
{
    return (fl & R_BR) && (pfx & PFX_OPSIZE) && !rexw && (d->model->quirks & QUIRK_NEAR_BRANCH_O16);
}

static int decode_body(struct dctx *d, struct insn *out, enum cpu_mode mode, unsigned *hid_out)
{
    const bool is64 = mode == MODE_LONG64;
    unsigned pfx = 0, rex = 0;
    int segovr = -1;
    int c;

    /* Legacy prefixes in any order; REX counts only when it immediately precedes the
     * opcode (SDM Vol. 2 2.2.1), so every legacy prefix cancels an earlier REX. */
    for (;;) {
        c = get(d);
        if (c < 0)
            return c;
        switch (c) {
        case 0xf0: pfx |= PFX_LOCK; break;
        /* F2/F3: the last one decides (as on current Intel processors). */
        case 0xf2: pfx = (pfx & ~PFX_REP) | PFX_REPNE; break;
        case 0xf3: pfx = (pfx & ~PFX_REPNE) | PFX_REP; break;
        case 0x66: pfx |= PFX_OPSIZE; break;
        case 0x67: pfx |= PFX_ADSIZE; break;
        case 0x26: case 0x2e: case 0x36: case 0x3e: segovr = (c >> 3) & 3; break;
        case 0x64: segovr = SEG_FS; break;
        case 0x65: segovr = SEG_GS; break;
        default:
            if (is64 && (c & 0xf0) == 0x40) {
                rex = (unsigned)c;
                continue;
            }
            goto opcode;
        }
        rex = 0;
    }

opcode:;
    const bool rexw = rex & 8;
    unsigned op = (unsigned)c;
    const struct op_row *row = &op_map1[op];
    int modrm = -1;
    int err = 0;

    if (rex)
        pfx |= PFX_REX;

    /* Escapes and prefix/mode-selected opcodes. */
    while (row->kind == ROW_SPECIAL) {
        unsigned sp = row->arg;
        if (sp == SP_ESC_0F) {
            TRY(c = get(d));
            op = 0x100 | (unsigned)c;
            row = &op_map0f[c];
        } else if (sp == SP_ESC_0F38 || sp == SP_ESC_0F3A) {
            TRY(c = get(d));
            op = (sp == SP_ESC_0F38 ? 0x200 : 0x300) | (unsigned)c;
            if (op == 0x282 && (pfx & PFX_OPSIZE) && !(pfx & (PFX_REP | PFX_REPNE)))
                row = &op_0f38_66_82;
            else
                row = sse_row(op, pfx);
        } else if (sp == SP_SSE) {
            row = sse_row(op, pfx);
        } else if (sp == SP_VEX3 || sp == SP_VEX2 || sp == SP_EVEX) {
            /* Outside 64-bit mode these are LES/LDS/BOUND unless the next byte has
             * mod = 11 (SDM Vol. 2 2.3.5). */
            TRY(c = get(d));     /* peek at the first payload byte */
            d->pos--;
            if (!is64 && (c >> 6) != 3) {
                row = &op_les_lds_bound[sp - SP_VEX3];    /* LES/LDS/BOUND Gv,M */
                break;
            }
            unsigned n = sp == SP_VEX2 ? 1 : sp == SP_VEX3 ? 2 : 3;
            unsigned map = sp == SP_VEX2 ? 1 : sp == SP_VEX3 ? (c & 0x1f) : (c & 3);
            for (unsigned k = 1; k < n; k++) {      /* check the rest of the payload */
                unsigned p = d->pos + k;
                if (p >= INSN_MAX_LEN)
                    return GET_LONG;
                if (p >= d->avail)
                    return GET_NEED;
            }
            row = vex_row(d, n, map, &err);
            if (!row)
                return err;
            op = 0x400;
        } else if (sp == SP_X87) {
            TRY(modrm = get(d));
            row = x87_row(op, (unsigned)modrm);
        } else if (sp == SP_XOP) {
            /* 8F /0 is POP Ev; any other reg field is an AMD XOP prefix (#UD here,
             * length as a plain ModRM form). */
            TRY(modrm = get(d));
            row = ((modrm >> 3) & 7) == 0 ? &op_groups1[G1A_8F][0] : &row_ud_modrm;
        } else {
            row = special_row(sp, is64, rex & 1, pfx & PFX_REP);
        }
    }

    if (row->kind == ROW_GROUP) {
        if (modrm < 0)
            TRY(modrm = get(d));
        row = group_row(row->arg, (unsigned)modrm);
        if (row->kind != ROW_OP)
            row = &row_undef;
    } else if (row->kind != ROW_OP) {
        row = &row_undef;
    }

    const unsigned fl = row->flags;
    out->op = (uint16_t)op;

    /* Operand and address sizes (SDM Vol. 1 Table 3-4, Vol. 2 2.2.1.2). */
    unsigned osv, asz;
    if (is64) {
        if (fl & R_F64)
            osv = near_branch_o16(d, fl, pfx, rexw) ? 2 : 8;
        else if (rexw)
            osv = 8;
        else if (pfx & PFX_OPSIZE)
            osv = 2;
        else
            osv = (fl & R_D64) ? 8 : 4;
        asz = (pfx & PFX_ADSIZE) ? 4 : 8;
    } else {
        bool big = mode == MODE_PROT32;
        osv = (big != !!(pfx & PFX_OPSIZE)) ? 4 : 2;
        asz = (big != !!(pfx & PFX_ADSIZE)) ? 4 : 2;
    }
    out->asize = (uint8_t)asz;

    unsigned osize = 0;
    if (fl & R_REGFORM) {
        osize = is64 ? 8 : 4;     /* MOV CR/DR ignore 66 */
    } else {
        for (unsigned n = 0; n < 3 && !osize; n++) {
            unsigned s = row->opnd[n], k = OPS_KIND(s);
            if (k == OPK_IMM || k == OPK_REL || k == OPK_FARPTR || (s & OPS_FIXSEG))
                continue;
            switch (OPS_SZ(s)) {
            case SZ_B: osize = 1; break;
            case SZ_W: osize = 2; break;
            case SZ_D: osize = 4; break;
            case SZ_Q: osize = 8; break;
            case SZ_V: osize = osv; break;
            case SZ_Z: osize = osv > 4 ? 4 : osv; break;
            case SZ_Y: osize = (is64 && rexw) ? 8 : 4; break;
            default: break;
            }
        }
        if (!osize)
            osize = osv;
        if ((fl & R_F64) && is64)
            osize = osv;
    }
    out->osize = (uint8_t)osize;

    /* ModRM, when an operand or the row needs one. */
    bool need_modrm = (fl & R_MODRM) || modrm >= 0;
    for (unsigned n = 0; n < 3; n++) {
        unsigned k = OPS_KIND(row->opnd[n]);
        if (!(row->opnd[n] & OPS_FIXSEG) &&
            (k == OPK_REG || k == OPK_RM || k == OPK_MEM || k == OPK_SREG || k == OPK_CREG || k == OPK_DREG))
            need_modrm = true;
    }
    bool ss_default = false;
    bool grouped = modrm >= 0;
    out->base = out->index = EA_NONE;
    if (need_modrm) {
        if (modrm < 0)
            TRY(modrm = get(d));
        TRY(parse_modrm(d, out, (unsigned)modrm, rex, is64, fl & R_REGFORM, &ss_default));
        unsigned regf = ((unsigned)modrm >> 3) & 7;
        out->reg = (uint8_t)(grouped ? regf : regf | (rex & 4) << 1);
    }

    /* Operands and immediates, in encoding order. */
    bool have_imm = false;
    for (unsigned n = 0; n < 3; n++) {
        unsigned s = row->opnd[n];
        unsigned k = OPS_KIND(s);
        out->opnd[n] = (uint8_t)k;
        if (s & OPS_FIXSEG)
            out->reg = (uint8_t)OPS_SEGNUM(s);
        else if (k == OPK_SREG) {
            /* REX.R does not extend Sreg; 6 and 7 are reserved and CS cannot be loaded
             * with MOV (SDM Vol. 2 MOV: #UD). */
            out->reg = (uint8_t)(((unsigned)modrm >> 3) & 7);
            if (out->reg >= SEG_COUNT || (n == 0 && out->reg == SEG_CS))
                err = 1;
        }
        else if (k == OPK_OPREG)
            out->rm = (uint8_t)((op & 7) | (rex & 1) << 3);
        if (k == OPK_MEM && out->mod == 3)
            err = 1;                 /* memory-only operand in register form: #UD */
        if ((fl & R_REGONLY) && out->mod != 3)
            err = 1;                 /* register-only form with a memory operand: #UD */
        if ((fl & R_REGONLY) && (out->mod != 3 || (row->arg && !((row->arg >> ((modrm >> 3) & 7)) & 1))))
            err = 1;                 /* register-only form with a memory operand or a bad /digit: #UD */
        out->oreg[n] = fast_reg(out, k, OPS_SZ(s) == SZ_B && !(pfx & PFX_REX));

        unsigned im = OPS_IM(s), nb = 0;
        bool sx = false;
        switch (im) {
        case IM_B:  nb = 1; break;
        case IM_BS: nb = 1; sx = true; break;
        case IM_W:  nb = 2; break;
        case IM_Z:  nb = osize == 2 ? 2 : 4; sx = true; break;
        case IM_V:  nb = osize; break;
        case IM_O:  nb = asz; break;
        case IM_A:  nb = osize == 2 ? 2 : 4; break;
        default: break;
        }
        if (!nb)
            continue;
        uint64_t v;
        TRY(get_le(d, nb, &v));
        if (sx)
            v = nb == 1 ? (uint64_t)(int64_t)(int8_t)v : nb == 2 ? (uint64_t)(int64_t)(int16_t)v
                                                                : (uint64_t)(int64_t)(int32_t)v;
        if (im == IM_A) {
            uint64_t sel;
            TRY(get_le(d, 2, &sel));
            out->imm = v;
            out->imm2 = (uint16_t)sel;
        } else if (have_imm) {
            out->imm2 = (uint16_t)v;
        } else {
            out->imm = v;
        }
        have_imm = true;
    }

    /* Segment: the override, else SS for rBP/rSP-based (and 16-bit BP) forms, else DS.
     * In 64-bit mode ES/CS/SS/DS overrides keep their number but insn_ea ignores their base. */
    if (segovr >= 0) {
        out->seg = (uint8_t)segovr;
        pfx |= PFX_SEGOVR;
    } else {
        out->seg = ss_default ? SEG_SS : SEG_DS;
    }
    out->pfx = (uint8_t)pfx;

    unsigned iflags = 0;
    if (fl & R_BR)
        iflags |= IF_BRANCH;
    if (fl & R_END)
        iflags |= IF_ENDS_BLOCK;
    if (osize == 1)
        iflags |= IF_BYTEOP;
    for (unsigned n = 0; n < 3; n++) {
        unsigned k = out->opnd[n];
        if ((k == OPK_RM && out->mod != 3) || k == OPK_MEM || k == OPK_MOFFS)
            iflags |= IF_MEM;
    }
    out->flags = (uint8_t)iflags;
    if (fl & R_COND)
        out->cond = op & 0xf;

    /* Validity (SDM Vol. 2 Table A-2 i64/o64; LOCK: SDM Vol. 2 "LOCK", #UD when the
     * instruction is not lockable or its destination is not memory). */
    unsigned hid = row->hid;
    if ((fl & R_NP) && (pfx & (PFX_OPSIZE | PFX_REP | PFX_REPNE)))
        err = 1;
    if ((fl & R_F3) && !(pfx & PFX_REP))
        err = 1;
    if (err || (fl & R_UD) || ((fl & R_I64) && is64) || ((fl & R_O64) && !is64))
        hid = HID_ud;
    if ((pfx & PFX_LOCK) &&
        (!(fl & R_LOCK) || !((out->opnd[0] == OPK_RM && out->mod != 3) || out->opnd[0] == OPK_MEM)))
        hid = HID_ud;
    *hid_out = hid;
    return (int)d->pos;
}

int decode_insn(struct insn *out, const uint8_t *bytes, unsigned avail, enum cpu_mode mode,
                const struct cpu_model *model)
{
    struct dctx d = { .b = bytes, .avail = avail, .pos = 0, .model = model ? model : cpu_model_find(NULL) };
    unsigned hid = HID_ud;
    memset(out, 0, sizeof *out);
    int r = decode_body(&d, out, mode, &hid);
    if (r == GET_NEED)
        return DECODE_NEED_MORE;
    if (r == GET_LONG) {
        memset(out, 0, sizeof *out);
        out->fn = decode_h_too_long;
        out->len = INSN_MAX_LEN;
        out->base = out->index = EA_NONE;
        out->flags = IF_ENDS_BLOCK;
        out->cost = timing_cost(HID_ud, out);
        return DECODE_TOO_LONG;
    }
    out->len = (uint8_t)r;
    out->fn = hid_fn[hid];
    if (hid == HID_ud)
        out->flags |= IF_ENDS_BLOCK;   /* nothing after a #UD runs: do not decode on */
    out->cost = timing_cost(hid, out);
    return r;
}

/* ---- mnemonics for logs ---- */

static const char *const cc_name[16] = {
    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
};

/* Re-find the table row of a decoded (valid) instruction. */
static const struct op_row *row_of(const struct insn *i)
{
    unsigned op = i->op, modrm = (unsigned)i->mod << 6 | (i->reg & 7) << 3 | (i->rm & 7);
    const struct op_row *row;
    if (op < 0x100)
        row = &op_map1[op];
    else if (op < 0x200)
        row = &op_map0f[op & 0xff];
    else if (op == 0x282)
        return &op_0f38_66_82;
    else if (op < 0x400)
        return sse_row(op, i->pfx);
    else
        return &row_undef;
    if (row->kind == ROW_SPECIAL && row->arg == SP_SSE)
        return sse_row(op, i->pfx);
    if (row->kind == ROW_SPECIAL) {
        if (row->arg == SP_XOP)
            return &op_groups1[G1A_8F][0];
        if (row->arg == SP_X87) {
            row = x87_row(op, modrm);
            return row->kind == ROW_OP ? row : &row_undef;
        }
        if (row->arg >= SP_VEX3 && row->arg <= SP_EVEX)     /* decoded: so not VEX/EVEX */
            return &op_les_lds_bound[row->arg - SP_VEX3];
        row = special_row(row->arg, i->fn == h_movsxd, i->fn == h_xchg, i->pfx & PFX_REP);
    }
    if (row->kind == ROW_GROUP)
        row = group_row(row->arg, modrm);
    return row->kind == ROW_OP ? row : &row_undef;
}

const char *insn_mnemonic(const struct insn *i)
{
    static _Thread_local char buf[16];
    if (i->fn == decode_h_too_long)
        return "(too long)";
    if (i->fn == h_ud)
        return i->op == 0x10b ? "ud2" : "(bad)";
    const struct op_row *row = row_of(i);
    if (row->flags & R_COND) {
        const char *p = i->fn == h_jcc ? "j" : i->fn == h_setcc ? "set" : "cmov";
        strcpy(buf, p);
        strcat(buf, cc_name[i->cond & 15]);
        return buf;
    }
    if (i->fn == h_cbw)
        return i->osize == 2 ? "cbw" : i->osize == 4 ? "cwde" : "cdqe";
    if (i->fn == h_cwd)
        return i->osize == 2 ? "cwd" : i->osize == 4 ? "cdq" : "cqo";
    return row->name;
}
