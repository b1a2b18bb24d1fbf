/* Writes the small kernel images the CLI tests boot or reject:
 *   ok.elf       Multiboot ELF32: prints "OK\n" on COM1, then writes 0x21 to port
 *                0xf4 (isa-debug-exit: status 0x43 = 67), then halts
 *   loop.elf     jmp $ forever (for -max-insns / -max-cycles)
 *   halt.elf     cli; hlt (every VP halted with interrupts disabled)
 *   nomb.elf     a valid ELF32 without a Multiboot header
 *   trunc.elf    ok.elf cut inside its program headers
 *   truncseg.elf ok.elf cut inside its segment
 *   outside.elf  a segment at 1 GiB (outside a 128 MiB machine)
 *   empty.elf    zero bytes
 * usage: hvemu_mkimage DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD 0x100000u
#define CODE_OFF 0x1000u

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }

/* ELF32 header + one PT_LOAD at 'paddr' holding code; Multiboot header at 0x80. */
static size_t build(uint8_t *img, uint32_t paddr, const uint8_t *code, size_t n, int with_mb)
{
    memset(img, 0, CODE_OFF + n);
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 1; img[5] = 1; img[6] = 1;
    wr16(img + 16, 2);              /* ET_EXEC */
    wr16(img + 18, 3);              /* EM_386 */
    wr32(img + 20, 1);
    wr32(img + 24, paddr);          /* entry: first code byte */
    wr32(img + 28, 52);
    wr16(img + 40, 52);
    wr16(img + 42, 32);
    wr16(img + 44, 1);
    uint8_t *ph = img + 52;
    wr32(ph, 1);                    /* PT_LOAD */
    wr32(ph + 4, CODE_OFF);
    wr32(ph + 8, paddr);
    wr32(ph + 12, paddr);
    wr32(ph + 16, (uint32_t)n);
    wr32(ph + 20, (uint32_t)n);
    wr32(ph + 24, 5);               /* R X */
    if (with_mb) {
        uint32_t flags = 0x3;       /* page-align modules, memory info */
        wr32(img + 0x80, 0x1BADB002u);
        wr32(img + 0x84, flags);
        wr32(img + 0x88, (uint32_t)-(0x1BADB002u + flags));
    }
    memcpy(img + CODE_OFF, code, n);
    return CODE_OFF + n;
}

static int save(const char *dir, const char *name, const uint8_t *img, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(img, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    static const uint8_t ok[] = {
        0xBA, 0xF8, 0x03, 0x00, 0x00,   /* mov edx, 0x3f8 */
        0xB0, 'O', 0xEE,                /* mov al, 'O'; out dx, al */
        0xB0, 'K', 0xEE,
        0xB0, '\n', 0xEE,
        0xBA, 0xF4, 0x00, 0x00, 0x00,   /* mov edx, 0xf4 */
        0xB8, 0x21, 0x00, 0x00, 0x00,   /* mov eax, 0x21 */
        0xEF,                           /* out dx, eax  -> exit (0x21 << 1) | 1 = 67 */
        0xF4, 0xEB, 0xFD,               /* hlt; jmp hlt */
    };
    static const uint8_t loop[] = { 0xEB, 0xFE };          /* jmp $ */
    static const uint8_t halt[] = { 0xFA, 0xF4, 0xEB, 0xFC };  /* cli; hlt; jmp cli */
    static uint8_t img[CODE_OFF + 256];
    const char *d = argv[1];
    int bad = 0;
    size_t n;

    n = build(img, LOAD, ok, sizeof ok, 1);
    bad |= save(d, "ok.elf", img, n);
    bad |= save(d, "trunc.elf", img, 70);                  /* inside the program header */
    bad |= save(d, "truncseg.elf", img, n - 4);            /* inside the segment */
    n = build(img, LOAD, loop, sizeof loop, 1);
    bad |= save(d, "loop.elf", img, n);
    n = build(img, LOAD, halt, sizeof halt, 1);
    bad |= save(d, "halt.elf", img, n);
    n = build(img, LOAD, ok, sizeof ok, 0);
    bad |= save(d, "nomb.elf", img, n);
    n = build(img, 0x40000000u, ok, sizeof ok, 1);
    bad |= save(d, "outside.elf", img, n);
    bad |= save(d, "empty.elf", img, 0);
    return bad;
}
