/* The I/O permission bitmap (SDM Vol. 1 19.5.2, Vol. 3A 8.7): at CPL 3 with
 * IOPL = 0, IN/OUT/INS/OUTS are allowed only when every bit of the accessed ports
 * is clear in the bitmap of the current TSS, the bitmap bytes the processor reads
 * (two at a time) lie within the TSS limit; else #GP(0).  CPL 0 ignores the map.
 *
 * The test installs its own 64-bit TSS (a copy of the runtime's stack pointers)
 * with a 128-byte bitmap for ports 0..3FFh plus the trailing FFh byte, all ports
 * denied except 80h and 84h-87h, and a limit that ends right after it.
 */
#include "rt.h"

const char rt_test_name[] = "iobitmap";

#define MAP_OFF   0x68                      /* I/O map base: right after the 104-byte TSS */
#define MAP_BYTES 128                       /* ports 0..3FFh */

static u8 tss[MAP_OFF + MAP_BYTES + 1] __attribute__((aligned(16)));

static void load_tss(void *base, u32 limit)
{
    u64 b = (u64)(uintptr_t)base;
    rt_gdt[SEL_TSS / 8] = (limit & 0xffff) | ((b & 0xffffff) << 16) | (0x89ull << 40) |
                          ((u64)((limit >> 16) & 0xf) << 48) | (((b >> 24) & 0xff) << 56);
    rt_gdt[SEL_TSS / 8 + 1] = b >> 32;
    __asm__ volatile("ltr %w0" :: "r"((u16)SEL_TSS) : "memory");
}

/* ---- CPL 3 probes: each returns 0 when the access completed ---- */
USER_TEXT static long out_b(long port) { __asm__ volatile("outb %%al, %%dx" :: "a"(0), "d"(port)); return 0; }
USER_TEXT static long out_w(long port) { __asm__ volatile("outw %%ax, %%dx" :: "a"(0), "d"(port)); return 0; }
USER_TEXT static long out_l(long port) { __asm__ volatile("outl %%eax, %%dx" :: "a"(0), "d"(port)); return 0; }
USER_TEXT static long in_b(long port) { u8 v; __asm__ volatile("inb %%dx, %%al" : "=a"(v) : "d"(port)); return v & 0; }
USER_TEXT static long out_imm80(long unused) { __asm__ volatile("outb %%al, $0x80" :: "a"(0)); return 0; }
USER_TEXT static long out_imm81(long unused) { __asm__ volatile("outb %%al, $0x81" :: "a"(0)); return 0; }
static u8 user_buf[4] USER_DATA;
USER_TEXT static long outs_b(long port)
{
    const void *src = user_buf;
    __asm__ volatile("outsb" : "+S"(src) : "d"(port) : "memory");
    return 0;
}
USER_TEXT static long ins_b(long port)
{
    void *dst = user_buf;
    __asm__ volatile("insb" : "+D"(dst) : "d"(port) : "memory");
    return 0;
}

/* 0: completed; 1: #GP(0) from CPL 3 at the access; anything else is a failure. */
static int probe(const char *what, long (*fn)(long), long port)
{
    rt_trap_reset();
    if (!TRY(rt_user_call(fn, port, 0)))
        return 0;
    CHECK_EQ(rt_last_trap.vector, VEC_GP, what);
    CHECK_EQ(rt_last_trap.error, 0, what);
    CHECK_EQ(rt_last_trap.cs & 3, 3, what);
    return 1;
}

void test_main(void)
{
    /* Copy the runtime TSS (RSP0, IST) and put the bitmap after it. */
    memcpy(tss, &rt_tss, MAP_OFF);
    memset(tss + MAP_OFF, 0xff, MAP_BYTES + 1);
    tss[MAP_OFF + 0x80 / 8] &= (u8)~(1u << 0);              /* port 80h */
    tss[MAP_OFF + 0x84 / 8] &= (u8)~0xf0u;                   /* ports 84h-87h */
    *(u16 *)(tss + 0x66) = MAP_OFF;
    load_tss(tss, sizeof tss - 1);

    CHECK_EQ(probe("outb 80h", out_b, 0x80), 0, "outb 80h allowed");
    CHECK_EQ(probe("outb 81h", out_b, 0x81), 1, "outb 81h denied");
    CHECK_EQ(probe("outb imm 80h", out_imm80, 0), 0, "outb $80h allowed");
    CHECK_EQ(probe("outb imm 81h", out_imm81, 0), 1, "outb $81h denied");
    CHECK_EQ(probe("inb 80h", in_b, 0x80), 0, "inb 80h allowed");
    CHECK_EQ(probe("inb 7fh", in_b, 0x7f), 1, "inb 7fh denied");
    CHECK_EQ(probe("outw 86h", out_w, 0x86), 0, "outw 86h: bits 86h, 87h clear");
    CHECK_EQ(probe("outw 87h", out_w, 0x87), 1, "outw 87h: bit 88h set");
    CHECK_EQ(probe("outl 84h", out_l, 0x84), 0, "outl 84h: bits 84h-87h clear");
    CHECK_EQ(probe("outl 85h", out_l, 0x85), 1, "outl 85h: bit 88h set");
    CHECK_EQ(probe("outsb 80h", outs_b, 0x80), 0, "outsb 80h allowed");
    CHECK_EQ(probe("insb 81h", ins_b, 0x81), 1, "insb 81h denied");
    CHECK_EQ(probe("outb 800h", out_b, 0x800), 1, "port 800h: its bitmap byte is beyond the TSS limit");

    /* CPL 0 with IOPL = 0 ignores the bitmap. */
    CHECK(!TRY(outb(0x81, 0)), "outb 81h at CPL 0");

    /* The runtime's TSS again (limit 67h: no bitmap; CPL 3 port I/O is all denied). */
    load_tss(&rt_tss, sizeof rt_tss - 1);
    CHECK_EQ(probe("outb 80h, no bitmap", out_b, 0x80), 1, "no bitmap: denied");
}
