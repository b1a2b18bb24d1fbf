/* Differential tests of MOVS, STOS, LODS, CMPS, SCAS against the host CPU
 * (tests/diff/support_native.h): every element size, REP / REPE / REPNE with counts
 * 0..N, both directions, overlapping buffers, 64- and 32-bit address sizes (the
 * latter with garbage in the upper halves of RSI/RDI/RCX), and the segment
 * overrides that 64-bit mode ignores on the source.
 *
 * Not covered here (the host cannot run them or maps no memory where the emulator
 * has RAM): INS/OUTS, FS/GS overrides (host bases differ), faults in mid-string
 * (tests/unit/test_ops_control.c covers those).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/diff/support_native.h"

#define CASES 48
/* Largest count * element size a case uses: with both buffers and slack it stays
 * inside the 4 KiB scratch page whatever the direction. */
#define MAX_BYTES 1024u

enum str_op { S_MOVS, S_STOS, S_LODS, S_CMPS, S_SCAS };

static const struct {
    const char *name;
    uint8_t op;             /* byte-form opcode; +1 for the word/dword/qword form */
    bool src, dst;          /* uses RSI / RDI */
} ops[] = {
    [S_MOVS] = { "movs", 0xa4, true, true },
    [S_STOS] = { "stos", 0xaa, false, true },
    [S_LODS] = { "lods", 0xac, true, false },
    [S_CMPS] = { "cmps", 0xa6, true, true },
    [S_SCAS] = { "scas", 0xae, false, true },
};

struct form {
    enum str_op op;
    unsigned size;          /* 1, 2, 4, 8 */
    uint8_t rep;            /* 0, 0xf3, 0xf2 */
    bool a32;               /* 67 prefix */
    uint8_t segovr;         /* 0 or an ignored override (2e/3e/26/36) */
    bool overlap;           /* source and destination overlap */
};

/* Fill the scratch with data that makes REPE/REPNE stop somewhere interesting: two
 * regions that agree mostly, with a few random differences, and repeated bytes. */
static void fill_scratch(uint8_t *mem)
{
    for (unsigned k = 0; k < DIFF_SCRATCH_SIZE; k++)
        mem[k] = (uint8_t)(diff_rand() & 3);    /* few distinct values: SCAS hits, CMPS agrees often */
    if (diff_rand() & 1)
        for (unsigned k = 0; k < DIFF_SCRATCH_SIZE / 2; k++)
            mem[k + DIFF_SCRATCH_SIZE / 2] = (diff_rand() % 64) ? mem[k] : (uint8_t)diff_rand();
}

/* A random count biased towards the edges: 0, 1, 2, small, up to MAX_BYTES / size. */
static uint64_t pick_count(unsigned size)
{
    uint64_t max = MAX_BYTES / size;
    switch (diff_rand() % 6) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 2;
    case 3: return diff_rand() % 8;
    default: return diff_rand() % (max + 1);
    }
}

static void make_case(struct diff_case *dc, const struct form *f)
{
    memset(dc, 0, sizeof *dc);
    unsigned n = 0;
    if (f->a32)
        dc->code[n++] = 0x67;
    if (f->segovr)
        dc->code[n++] = f->segovr;
    if (f->size == 2)
        dc->code[n++] = 0x66;
    if (f->rep)
        dc->code[n++] = f->rep;
    if (f->size == 8)
        dc->code[n++] = 0x48;
    dc->code[n++] = (uint8_t)(ops[f->op].op + (f->size > 1));
    dc->len = (uint8_t)n;

    for (unsigned r = 0; r < 16; r++)
        dc->in.gpr[r] = diff_operand(8);
    dc->in.rflags = diff_rand() & DIFF_FLAGS_IN;
    bool down = (dc->in.rflags & FL_DF) != 0;
    fill_scratch(dc->mem);

    /* Without REP exactly one element moves. */
    uint64_t count = f->rep ? pick_count(f->size) : 1;
    uint64_t bytes = count * f->size;
    /* Place each buffer so that it lies in the scratch page for the whole run:
     * going up it starts at 'lo', going down the first element is at its top. */
    uint64_t span = DIFF_SCRATCH_SIZE - MAX_BYTES - 16;
    uint64_t lo_s = 8 + diff_rand() % (span - 16), lo_d = diff_rand() % span;
    if (f->overlap)
        lo_d = lo_s - 8 + diff_rand() % 17;         /* within +/- 8 bytes of the source */
    uint64_t rsi = DIFF_SCRATCH + lo_s + (down && bytes ? bytes - f->size : 0);
    uint64_t rdi = DIFF_SCRATCH + lo_d + (down && bytes ? bytes - f->size : 0);
    /* 32-bit addressing uses ESI/EDI/ECX: garbage above bit 31 must be ignored. */
    uint64_t hi = f->a32 ? (diff_rand() << 32) : 0;
    dc->in.gpr[RSI] = rsi | hi;
    dc->in.gpr[RDI] = rdi | (f->a32 ? (diff_rand() << 32) : 0);
    dc->in.gpr[RCX] = count | (f->a32 ? (diff_rand() << 32) : (f->rep ? 0 : diff_rand()));
    if (f->op == S_SCAS && (diff_rand() & 1))
        dc->in.gpr[RAX] = (dc->in.gpr[RAX] & ~0xffull) | (diff_rand() & 3);  /* likely to be found */

    dc->gpr_mask = 0xffff;
    /* CMPS/SCAS define all six arithmetic flags; the others change none. */
    dc->flag_mask = FL_ARITH | FL_DF;
}

static void run_form(struct diff_ctx *d, const struct form *f)
{
    static struct diff_case cases[CASES];
    for (unsigned k = 0; k < CASES; k++)
        make_case(&cases[k], f);
    char name[96];
    snprintf(name, sizeof name, "%s%s size %u%s%s%s",
             f->rep == 0xf3 ? "rep " : f->rep == 0xf2 ? "repne " : "",
             ops[f->op].name, f->size, f->a32 ? " a32" : "",
             f->segovr ? " segovr" : "", f->overlap ? " overlap" : "");
    diff_run(d, name, cases, CASES);
}

int main(void)
{
    struct diff_ctx *d = diff_init();
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    static const uint8_t reps[] = { 0, 0xf3, 0xf2 };
    for (unsigned op = S_MOVS; op <= S_SCAS; op++)
        for (unsigned s = 0; s < 4; s++)
            for (unsigned r = 0; r < 3; r++)
                for (unsigned a = 0; a < 2; a++) {
                    struct form f = { .op = op, .size = sizes[s], .rep = reps[r], .a32 = a };
                    run_form(d, &f);
                }
    /* Overlapping MOVS in both directions (DF is random per case), every size. */
    for (unsigned s = 0; s < 4; s++) {
        struct form f = { .op = S_MOVS, .size = sizes[s], .rep = 0xf3, .overlap = true };
        run_form(d, &f);
    }
    /* Overlapping CMPS: the same buffer compared with itself shifted. */
    for (unsigned s = 0; s < 4; s++) {
        struct form f = { .op = S_CMPS, .size = sizes[s], .rep = 0xf3, .overlap = true };
        run_form(d, &f);
    }
    /* Source overrides 64-bit mode ignores (CS, DS, ES, SS). */
    static const uint8_t ovr[] = { 0x2e, 0x3e, 0x26, 0x36 };
    for (unsigned o = 0; o < 4; o++) {
        struct form f = { .op = S_MOVS, .size = 4, .rep = 0xf3, .segovr = ovr[o] };
        run_form(d, &f);
        struct form g = { .op = S_LODS, .size = 1, .segovr = ovr[o] };
        run_form(d, &g);
    }
    return diff_finish(d);
}
