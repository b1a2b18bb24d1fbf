/* Differential tests of data movement and stack instructions against the host CPU
 * (tests/diff/support_native.h): MOV in every general-register/memory/immediate/moffs
 * form and size, MOVZX, MOVSX, MOVSXD, LEA (64/32/16-bit results, 64/32-bit
 * addresses), XLAT, the NOP family, PUSH, POP, POPF, ENTER, LEAVE.  Register values
 * are random (support_native's edge-biased operands); memory operands and the
 * stack point into the scratch page, whose contents are random too.
 *
 * Not here: PUSHF (the host runs at CPL 3 with IF = 1 and the harness loads the
 * emulator with IF = 0, so the pushed images differ in bit 9 by construction;
 * tests/unit/test_ops_control.c covers PUSHF/POPF masks), and the RIP-relative forms
 * (the code sits at different addresses on the two sides).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/diff/support_native.h"

#define CASES 64

/* How a case's registers are prepared besides being random. */
enum setup {
    K_PLAIN,    /* nothing: register-only forms, LEA, NOPs */
    K_MEM,      /* RBX points into the scratch ([rbx+disp8] operands) */
    K_MOFFS64,  /* code[moff..+8] = a scratch address */
    K_MOFFS32,  /* code[moff..+4] = a scratch address (67 prefix) */
    K_STACK,    /* RSP (and RBX) in the scratch */
    K_POPF,     /* RSP in the scratch, [RSP] = a flags image the host may load at CPL 3 */
    K_ENTER,    /* RSP and RBP in the scratch with room for 32 frame pointers */
    K_LEAVE,    /* RBP in the scratch */
    K_XLAT,     /* RBX in the scratch with 256 bytes of room */
    K_XLAT32,   /* the same with garbage in RBX[63:32] (67 prefix: EBX) */
};

struct form {
    const char *name;
    uint8_t len;
    uint8_t code[15];
    uint8_t rnd_off, rnd_len;   /* bytes of code[] randomised per case (immediates) */
    uint8_t kind;               /* enum setup */
    uint8_t moff;               /* K_MOFFS*: offset of the address in code[] */
};

#define F(nm, kd, ro, rl, ...) { nm, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, ro, rl, kd, 0 }
#define FM(nm, kd, mo, ...) { nm, sizeof((uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, 0, 0, kd, mo }

static const struct form forms[] = {
    /* MOV Eb,Gb / Ev,Gv (88/89) */
    F("mov [rbx+16],al",   K_MEM, 0, 0, 0x88, 0x43, 0x10),
    F("mov [rbx+16],ah",   K_MEM, 0, 0, 0x88, 0x63, 0x10),
    F("mov [rbx+16],sil",  K_MEM, 0, 0, 0x40, 0x88, 0x73, 0x10),
    F("mov [rbx-8],r9b",   K_MEM, 0, 0, 0x44, 0x88, 0x4b, 0xf8),
    F("mov dl,ch",         K_PLAIN, 0, 0, 0x88, 0xea),
    F("mov r10b,dil",      K_PLAIN, 0, 0, 0x41, 0x88, 0xfa),
    F("mov [rbx+16],ax",   K_MEM, 0, 0, 0x66, 0x89, 0x43, 0x10),
    F("mov [rbx+16],eax",  K_MEM, 0, 0, 0x89, 0x43, 0x10),
    F("mov [rbx+16],rax",  K_MEM, 0, 0, 0x48, 0x89, 0x43, 0x10),
    F("mov ecx,edx",       K_PLAIN, 0, 0, 0x89, 0xd1),
    F("mov cx,dx",         K_PLAIN, 0, 0, 0x66, 0x89, 0xd1),
    F("mov rcx,rdx",       K_PLAIN, 0, 0, 0x48, 0x89, 0xd1),
    F("mov r14d,r8d",      K_PLAIN, 0, 0, 0x45, 0x89, 0xc6),
    /* MOV Gb,Eb / Gv,Ev (8A/8B) */
    F("mov al,[rbx+16]",   K_MEM, 0, 0, 0x8a, 0x43, 0x10),
    F("mov ah,[rbx+16]",   K_MEM, 0, 0, 0x8a, 0x63, 0x10),
    F("mov ax,[rbx-8]",    K_MEM, 0, 0, 0x66, 0x8b, 0x43, 0xf8),
    F("mov eax,[rbx+16]",  K_MEM, 0, 0, 0x8b, 0x43, 0x10),
    F("mov r12,[rbx+16]",  K_MEM, 0, 0, 0x4c, 0x8b, 0x63, 0x10),
    F("mov bh,dh",         K_PLAIN, 0, 0, 0x8a, 0xfe),
    /* MOV r,imm (B0+r, B8+r) and MOV Ev,Iz (C6/C7 /0) */
    F("mov al,ib",         K_PLAIN, 1, 1, 0xb0, 0),
    F("mov bh,ib",         K_PLAIN, 1, 1, 0xb7, 0),
    F("mov r11b,ib",       K_PLAIN, 2, 1, 0x41, 0xb3, 0),
    F("mov ax,iw",         K_PLAIN, 2, 2, 0x66, 0xb8, 0, 0),
    F("mov eax,id",        K_PLAIN, 1, 4, 0xb8, 0, 0, 0, 0),
    F("mov r13,iq",        K_PLAIN, 2, 8, 0x49, 0xbd, 0, 0, 0, 0, 0, 0, 0, 0),
    F("mov byte [rbx+16],ib",  K_MEM, 3, 1, 0xc6, 0x43, 0x10, 0),
    F("mov word [rbx+16],iw",  K_MEM, 4, 2, 0x66, 0xc7, 0x43, 0x10, 0, 0),
    F("mov dword [rbx+16],id", K_MEM, 3, 4, 0xc7, 0x43, 0x10, 0, 0, 0, 0),
    F("mov qword [rbx+16],sid", K_MEM, 4, 4, 0x48, 0xc7, 0x43, 0x10, 0, 0, 0, 0),
    F("mov rax,sid",       K_PLAIN, 3, 4, 0x48, 0xc7, 0xc0, 0, 0, 0, 0),
    F("mov eax,id (c7)",   K_PLAIN, 2, 4, 0xc7, 0xc0, 0, 0, 0, 0),
    /* MOV with moffs (A0-A3), 64- and 32-bit addresses */
    FM("mov al,[moffs64]",  K_MOFFS64, 1, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0),
    FM("mov ax,[moffs64]",  K_MOFFS64, 2, 0x66, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0),
    FM("mov eax,[moffs64]", K_MOFFS64, 1, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0),
    FM("mov rax,[moffs64]", K_MOFFS64, 2, 0x48, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0),
    FM("mov [moffs64],al",  K_MOFFS64, 1, 0xa2, 0, 0, 0, 0, 0, 0, 0, 0),
    FM("mov [moffs64],eax", K_MOFFS64, 1, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0),
    FM("mov [moffs64],rax", K_MOFFS64, 2, 0x48, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0),
    FM("mov eax,[moffs32]", K_MOFFS32, 2, 0x67, 0xa1, 0, 0, 0, 0),
    FM("mov [moffs32],rax", K_MOFFS32, 3, 0x67, 0x48, 0xa3, 0, 0, 0, 0),
    FM("mov [moffs32],al",  K_MOFFS32, 2, 0x67, 0xa2, 0, 0, 0, 0),
    /* MOVZX / MOVSX (0F B6/B7/BE/BF) */
    F("movzx eax,bl",      K_PLAIN, 0, 0, 0x0f, 0xb6, 0xc3),
    F("movzx ax,bh",       K_PLAIN, 0, 0, 0x66, 0x0f, 0xb6, 0xc7),
    F("movzx r9,sil",      K_PLAIN, 0, 0, 0x4c, 0x0f, 0xb6, 0xce),
    F("movzx rax,byte [rbx+16]", K_MEM, 0, 0, 0x48, 0x0f, 0xb6, 0x43, 0x10),
    F("movzx eax,word [rbx+16]", K_MEM, 0, 0, 0x0f, 0xb7, 0x43, 0x10),
    F("movzx cx,word [rbx+16]",  K_MEM, 0, 0, 0x66, 0x0f, 0xb7, 0x4b, 0x10),
    F("movzx rcx,dx",      K_PLAIN, 0, 0, 0x48, 0x0f, 0xb7, 0xca),
    F("movsx eax,bl",      K_PLAIN, 0, 0, 0x0f, 0xbe, 0xc3),
    F("movsx ax,bh",       K_PLAIN, 0, 0, 0x66, 0x0f, 0xbe, 0xc7),
    F("movsx r9,sil",      K_PLAIN, 0, 0, 0x4c, 0x0f, 0xbe, 0xce),
    F("movsx rax,byte [rbx+16]", K_MEM, 0, 0, 0x48, 0x0f, 0xbe, 0x43, 0x10),
    F("movsx eax,word [rbx+16]", K_MEM, 0, 0, 0x0f, 0xbf, 0x43, 0x10),
    F("movsx cx,word [rbx+16]",  K_MEM, 0, 0, 0x66, 0x0f, 0xbf, 0x4b, 0x10),
    F("movsx rcx,dx",      K_PLAIN, 0, 0, 0x48, 0x0f, 0xbf, 0xca),
    /* MOVSXD (63 /r) */
    F("movsxd rax,ecx",    K_PLAIN, 0, 0, 0x48, 0x63, 0xc1),
    F("movsxd rax,[rbx+16]", K_MEM, 0, 0, 0x48, 0x63, 0x43, 0x10),
    F("movsxd eax,ecx",    K_PLAIN, 0, 0, 0x63, 0xc1),
    F("movsxd eax,[rbx+16]", K_MEM, 0, 0, 0x63, 0x43, 0x10),
    F("movsxd ax,cx",      K_PLAIN, 0, 0, 0x66, 0x63, 0xc1),
    /* LEA (no memory access: every register random) */
    F("lea rax,[rbx+rcx*4+16]",  K_PLAIN, 0, 0, 0x48, 0x8d, 0x44, 0x8b, 0x10),
    F("lea eax,[rbx+rcx*4+16]",  K_PLAIN, 0, 0, 0x8d, 0x44, 0x8b, 0x10),
    F("lea ax,[rbx+rcx*4+16]",   K_PLAIN, 0, 0, 0x66, 0x8d, 0x44, 0x8b, 0x10),
    F("lea eax,[ebx+ecx*8-128]", K_PLAIN, 0, 0, 0x67, 0x8d, 0x44, 0xcb, 0x80),
    F("lea rax,[ebx+ecx]",       K_PLAIN, 0, 0, 0x67, 0x48, 0x8d, 0x04, 0x0b),
    F("lea r15,[r13+r12*2+d32]", K_PLAIN, 4, 4, 0x4f, 0x8d, 0xbc, 0x65, 0, 0, 0, 0),
    F("lea rax,[rsp+8]",         K_PLAIN, 0, 0, 0x48, 0x8d, 0x44, 0x24, 0x08),
    F("lea eax,[rbp+0]",         K_PLAIN, 0, 0, 0x8d, 0x45, 0x00),
    F("lea rdx,[d32]",           K_PLAIN, 4, 4, 0x48, 0x8d, 0x14, 0x25, 0, 0, 0, 0),
    F("lea cx,[ebp+esi*2+d8]",   K_PLAIN, 5, 1, 0x66, 0x67, 0x8d, 0x4c, 0x75, 0),
    /* XLAT */
    F("xlat",              K_XLAT, 0, 0, 0xd7),
    F("rex.w xlat",        K_XLAT, 0, 0, 0x48, 0xd7),
    F("xlat a32",          K_XLAT32, 0, 0, 0x67, 0xd7),
    /* NOP family and hints: nothing changes (memory operands are never accessed, so
     * their random addresses are harmless on both sides) */
    F("nop",               K_PLAIN, 0, 0, 0x90),
    F("xchg ax,ax (66 90)", K_PLAIN, 0, 0, 0x66, 0x90),
    F("nop [rax]",         K_PLAIN, 0, 0, 0x0f, 0x1f, 0x00),
    F("nop [rax+0]",       K_PLAIN, 0, 0, 0x0f, 0x1f, 0x40, 0x00),
    F("nop [rax+rax+0]",   K_PLAIN, 0, 0, 0x0f, 0x1f, 0x44, 0x00, 0x00),
    F("nop w [rax+rax+0]", K_PLAIN, 0, 0, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00),
    F("nop [rax+d32]",     K_PLAIN, 0, 0, 0x0f, 0x1f, 0x80, 0, 0, 0, 0),
    F("nop [rax+rax+d32]", K_PLAIN, 0, 0, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0),
    F("cs nop w [rax+rax+d32]", K_PLAIN, 0, 0, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0),
    F("endbr64",           K_PLAIN, 0, 0, 0xf3, 0x0f, 0x1e, 0xfa),
    F("prefetcht0 [rbx]",  K_PLAIN, 0, 0, 0x0f, 0x18, 0x0b),
    F("pause",             K_PLAIN, 0, 0, 0xf3, 0x90),
    /* PUSH */
    F("push rax",          K_STACK, 0, 0, 0x50),
    F("push rsp",          K_STACK, 0, 0, 0x54),
    F("push r15",          K_STACK, 0, 0, 0x41, 0x57),
    F("push ax",           K_STACK, 0, 0, 0x66, 0x50),
    F("push r12w",         K_STACK, 0, 0, 0x66, 0x41, 0x54),
    F("push sib",          K_STACK, 1, 1, 0x6a, 0),
    F("push sid",          K_STACK, 1, 4, 0x68, 0, 0, 0, 0),
    F("push w sib",        K_STACK, 2, 1, 0x66, 0x6a, 0),
    F("push iw",           K_STACK, 2, 2, 0x66, 0x68, 0, 0),
    F("push [rbx+8]",      K_STACK, 0, 0, 0xff, 0x73, 0x08),
    F("push w [rbx+8]",    K_STACK, 0, 0, 0x66, 0xff, 0x73, 0x08),
    F("push [rsp]",        K_STACK, 0, 0, 0xff, 0x34, 0x24),
    F("push [rsp+8]",      K_STACK, 0, 0, 0xff, 0x74, 0x24, 0x08),
    /* POP */
    F("pop rax",           K_STACK, 0, 0, 0x58),
    F("pop rbx",           K_STACK, 0, 0, 0x5b),
    F("pop rsp",           K_STACK, 0, 0, 0x5c),
    F("pop r15",           K_STACK, 0, 0, 0x41, 0x5f),
    F("pop ax",            K_STACK, 0, 0, 0x66, 0x58),
    F("pop sp",            K_STACK, 0, 0, 0x66, 0x5c),
    F("pop [rbx+8]",       K_STACK, 0, 0, 0x8f, 0x43, 0x08),
    F("pop w [rbx+8]",     K_STACK, 0, 0, 0x66, 0x8f, 0x43, 0x08),
    F("pop [rsp]",         K_STACK, 0, 0, 0x8f, 0x04, 0x24),
    F("pop [rsp+8]",       K_STACK, 0, 0, 0x8f, 0x44, 0x24, 0x08),
    F("pop [rsp-8]",       K_STACK, 0, 0, 0x8f, 0x44, 0x24, 0xf8),
    F("pop rsp-based w [rsp-2]", K_STACK, 0, 0, 0x66, 0x8f, 0x44, 0x24, 0xfe),
    /* POPF (the image holds only what CPL 3 may load: arithmetic flags, DF, IF = 1) */
    F("popfq",             K_POPF, 0, 0, 0x9d),
    F("popf w",            K_POPF, 0, 0, 0x66, 0x9d),
    /* ENTER / LEAVE */
    F("enter iw,0",        K_ENTER, 1, 2, 0xc8, 0, 0, 0x00),
    F("enter iw,1",        K_ENTER, 1, 2, 0xc8, 0, 0, 0x01),
    F("enter iw,2",        K_ENTER, 1, 2, 0xc8, 0, 0, 0x02),
    F("enter iw,3",        K_ENTER, 1, 2, 0xc8, 0, 0, 0x03),
    F("enter iw,7",        K_ENTER, 1, 2, 0xc8, 0, 0, 0x07),
    F("enter iw,31",       K_ENTER, 1, 2, 0xc8, 0, 0, 0x1f),
    F("enter iw,33",       K_ENTER, 1, 2, 0xc8, 0, 0, 0x21),
    F("enter iw,255",      K_ENTER, 1, 2, 0xc8, 0, 0, 0xff),
    F("enter w iw,0",      K_ENTER, 2, 2, 0x66, 0xc8, 0, 0, 0x00),
    F("enter w iw,1",      K_ENTER, 2, 2, 0x66, 0xc8, 0, 0, 0x01),
    F("enter w iw,4",      K_ENTER, 2, 2, 0x66, 0xc8, 0, 0, 0x04),
    F("leave",             K_LEAVE, 0, 0, 0xc9),
    F("leave w",           K_LEAVE, 0, 0, 0x66, 0xc9),
};

static uint64_t scratch_at(uint64_t lo, uint64_t span)
{
    return DIFF_SCRATCH + lo + diff_rand() % span;
}

static void make_case(struct diff_case *dc, const struct form *f)
{
    memset(dc, 0, sizeof *dc);
    memcpy(dc->code, f->code, f->len);
    dc->len = f->len;
    for (unsigned b = 0; b < f->rnd_len; b++)
        dc->code[f->rnd_off + b] = (uint8_t)diff_rand();
    for (unsigned r = 0; r < 16; r++)
        dc->in.gpr[r] = diff_operand(8);
    dc->in.rflags = diff_rand() & DIFF_FLAGS_IN;
    for (unsigned k = 0; k < DIFF_SCRATCH_SIZE; k += 8) {
        uint64_t v = diff_operand(8);
        memcpy(&dc->mem[k], &v, 8);
    }
    dc->gpr_mask = 0xffff;
    dc->flag_mask = FL_ARITH | FL_DF;

    switch (f->kind) {
    case K_MEM:
        dc->in.gpr[RBX] = scratch_at(0x100, 0xd00);
        break;
    case K_MOFFS64: {
        uint64_t a = scratch_at(0, DIFF_SCRATCH_SIZE - 8);
        memcpy(&dc->code[f->moff], &a, 8);
        break;
    }
    case K_MOFFS32: {
        uint32_t a = (uint32_t)scratch_at(0, DIFF_SCRATCH_SIZE - 8);
        memcpy(&dc->code[f->moff], &a, 4);
        break;
    }
    case K_STACK:
        dc->in.gpr[RSP] = scratch_at(0x400, 0x800);
        dc->in.gpr[RBX] = scratch_at(0x100, 0xd00);
        break;
    case K_POPF: {
        uint64_t rsp = scratch_at(0x400, 0x800);
        dc->in.gpr[RSP] = rsp;
        uint64_t img = (diff_rand() & (FL_ARITH | FL_DF)) | FL_IF | FL_FIXED1;
        memcpy(&dc->mem[rsp - DIFF_SCRATCH], &img, 8);
        break;
    }
    case K_ENTER:
        /* AllocSize < 0x400 so the frame ends inside the scratch: the host checks the
         * final RSP (a fault there could not be matched, the emulator has RAM below the
         * scratch; tests/unit/test_ops_control.c covers that check) */
        dc->code[f->rnd_off + 1] &= 0x03;
        /* up to 32 pushes (256 bytes) below RSP, up to 31 reads below RBP */
        dc->in.gpr[RSP] = scratch_at(0xc00, 0x300);
        dc->in.gpr[RBP] = scratch_at(0x200, 0x800);
        break;
    case K_LEAVE:
        dc->in.gpr[RBP] = scratch_at(0, DIFF_SCRATCH_SIZE - 8);
        break;
    case K_XLAT:
        dc->in.gpr[RBX] = scratch_at(0, 0xe00);
        break;
    case K_XLAT32:
        dc->in.gpr[RBX] = scratch_at(0, 0xe00) | (diff_rand() << 32);
        break;
    default:
        break;
    }
}

int main(void)
{
    struct diff_ctx *d = diff_init();
    static struct diff_case cases[CASES];
    for (unsigned k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        for (unsigned c = 0; c < CASES; c++)
            make_case(&cases[c], &forms[k]);
        diff_run(d, forms[k].name, cases, CASES);
    }
    return diff_finish(d);
}
