/* Runtime of the freestanding guest kernels: console, formatting, exit, GDT/TSS,
 * IDT and trap dispatch, SYSCALL, user mode, paging helpers. See rt.h. */
#include "rt.h"

u32 rt_mb_magic, rt_mb_info;
struct rt_features rt_cpu;
int rt_failures, rt_checks;
const char *rt_cmdline = "";
int rt_strict_tlb;

/* ------------------------------------------------------------------ serial */
#define COM1 0x3F8

static void serial_init(void)
{
    outb(COM1 + 1, 0x00);    /* no interrupts */
    outb(COM1 + 3, 0x80);    /* DLAB */
    outb(COM1 + 0, 0x01);    /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);    /* 8N1 */
    outb(COM1 + 2, 0xC7);    /* FIFO on, cleared */
    outb(COM1 + 4, 0x03);    /* DTR | RTS */
}

void rt_putc(char c)
{
    /* Poll LSR.THRE, bounded so a missing UART cannot hang the guest. */
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        ;
    outb(COM1, (u8)c);
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

/* ------------------------------------------------------------------ printf */
static int put_num(unsigned long long v, int base, int upper, int width, int zero,
                   int left, int neg, const char *prefix)
{
    char buf[32];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0, len, plen = prefix ? (int)strlen(prefix) : 0, out = 0;
    do {
        buf[n++] = digits[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    len = n + neg + plen;
    if (!left && !zero)
        for (; len < width; width--, out++)
            rt_putc(' ');
    if (neg)
        rt_putc('-'), out++;
    for (int i = 0; i < plen; i++)
        rt_putc(prefix[i]), out++;
    if (!left && zero)
        for (; len < width; width--, out++)
            rt_putc('0');
    while (n)
        rt_putc(buf[--n]), out++;
    if (left)
        for (; len < width; width--, out++)
            rt_putc(' ');
    return out;
}

int rt_vprintf(const char *fmt, va_list ap)
{
    int out = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            rt_putc(*fmt);
            out++;
            continue;
        }
        int zero = 0, left = 0, alt = 0, width = 0, lng = 0;
        for (;; fmt++) {
            if (fmt[1] == '0') zero = 1;
            else if (fmt[1] == '-') left = 1;
            else if (fmt[1] == '#') alt = 1;
            else break;
        }
        fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z' || *fmt == 'h') {
            if (*fmt != 'h')
                lng++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': case 'i': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
            out += put_num(u, 10, 0, width, zero, left, v < 0, NULL);
            break;
        }
        case 'u': case 'x': case 'X': {
            unsigned long long v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
            int base = *fmt == 'u' ? 10 : 16;
            out += put_num(v, base, *fmt == 'X', width, zero, left, 0,
                           alt && base == 16 ? "0x" : NULL);
            break;
        }
        case 'p':
            out += put_num((unsigned long long)(uintptr_t)va_arg(ap, void *), 16, 0, width,
                           zero, left, 0, "0x");
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int len = (int)strlen(s);
            if (!left) for (; len < width; width--) rt_putc(' '), out++;
            rt_puts(s);
            out += len;
            if (left) for (; len < width; width--) rt_putc(' '), out++;
            break;
        }
        case 'c':
            rt_putc((char)va_arg(ap, int));
            out++;
            break;
        case '%':
            rt_putc('%');
            out++;
            break;
        default:
            rt_putc('%');
            rt_putc(*fmt);
            out += 2;
            if (!*fmt) return out;
        }
    }
    return out;
}

int rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = rt_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* ------------------------------------------------------------------ exit, checks */
void rt_exit(u32 code)
{
    outl(0xF4, code);
    /* Only reached without an isa-debug-exit device. */
    rt_printf("rt_exit(%#x): no isa-debug-exit device at 0xf4, halting\n", code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void rt_finish(void)
{
    if (rt_failures) {
        rt_printf("FAIL: %s (%d of %d checks failed)\n", rt_test_name, rt_failures, rt_checks);
        rt_exit(RT_EXIT_FAIL);
    }
    rt_printf("PASS: %s (%d checks)\n", rt_test_name, rt_checks);
    rt_exit(RT_EXIT_PASS);
}

void rt_check_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    rt_failures++;
    rt_printf("  check failed at %s:%d: %s: ", file, line, expr);
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    rt_printf("\n");
}

/* ------------------------------------------------------------------ libc bits */
void *memset(void *d, int c, size_t n)
{
    u8 *p = d;
    if (n >= 16 && !((uintptr_t)p & 7)) {          /* 8 bytes at a time: page clears stay cheap */
        u64 v = 0x0101010101010101ull * (u8)c, *q = (u64 *)p;
        for (; n >= 8; n -= 8)
            *q++ = v;
        p = (u8 *)q;
    }
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (u8)*a - (u8)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

static u64 rand_state = 0x9E3779B97F4A7C15ull;
void rt_srand(u64 seed) { rand_state = seed ? seed : 1; }
u64 rt_rand(void)
{
    rand_state ^= rand_state >> 12;
    rand_state ^= rand_state << 25;
    rand_state ^= rand_state >> 27;
    return rand_state * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------------ command line */
int rt_cmdline_has(const char *word)
{
    size_t n = strlen(word);
    for (const char *p = rt_cmdline; *p;) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - w) == n && !strncmp(w, word, n))
            return 1;
    }
    return 0;
}

u64 rt_cmdline_num(const char *key, u64 dflt)
{
    size_t n = strlen(key);
    for (const char *p = rt_cmdline; *p;) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, key, n) && p[n] == '=') {
            const char *q = p + n + 1;
            u64 v = 0;
            int base = 10;
            if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
                base = 16, q += 2;
            for (;; q++) {
                int d;
                if (*q >= '0' && *q <= '9') d = *q - '0';
                else if (base == 16 && *q >= 'a' && *q <= 'f') d = *q - 'a' + 10;
                else if (base == 16 && *q >= 'A' && *q <= 'F') d = *q - 'A' + 10;
                else break;
                v = v * (u64)base + (u64)d;
            }
            return v;
        }
        while (*p && *p != ' ')
            p++;
    }
    return dflt;
}

/* ------------------------------------------------------------------ GDT / TSS */
u64 rt_gdt[8] __attribute__((aligned(16))) = {
    0,
    0x00AF9A000000FFFFull,   /* 0x08 kernel code, 64-bit */
    0x00CF92000000FFFFull,   /* 0x10 kernel data */
    0x00CFFA000000FFFFull,   /* 0x18 user code, 32-bit (SYSRET base) */
    0x00CFF2000000FFFFull,   /* 0x20 user data */
    0x00AFFA000000FFFFull,   /* 0x28 user code, 64-bit */
    0, 0,                    /* 0x30 TSS, filled at run time */
};
struct {
    u16 limit;
    u64 base;
} __attribute__((packed)) rt_gdt_ptr = { sizeof(rt_gdt) - 1, (u64)(uintptr_t)rt_gdt };

struct tss64 rt_tss __attribute__((aligned(16)));
u8 rt_ist_stack1[RT_IST_STACK_SIZE] __attribute__((aligned(16)));
u8 rt_ist_stack2[RT_IST_STACK_SIZE] __attribute__((aligned(16)));
static u8 kstack0[16384] __attribute__((aligned(16)));       /* TSS.RSP0 */
static u8 syscall_stack[16384] __attribute__((aligned(16)));
u64 rt_syscall_stack_top, rt_syscall_user_rsp;

static void gdt_tss_init(void)
{
    u64 base = (u64)(uintptr_t)&rt_tss, limit = sizeof(rt_tss) - 1;
    rt_tss.rsp[0] = (u64)(uintptr_t)(kstack0 + sizeof(kstack0));
    rt_tss.ist[0] = (u64)(uintptr_t)(rt_ist_stack1 + RT_IST_STACK_SIZE);
    rt_tss.ist[1] = (u64)(uintptr_t)(rt_ist_stack2 + RT_IST_STACK_SIZE);
    rt_tss.iomap_base = sizeof(rt_tss);
    rt_gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
                (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    rt_gdt[7] = base >> 32;
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq $0x08\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw $0x10, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "movw $0x30, %%ax\n\t"
        "ltr %%ax"
        :: "m"(rt_gdt_ptr) : "rax", "memory");
}

/* ------------------------------------------------------------------ IDT and traps */
struct idt_gate {
    u16 off0, sel;
    u8 ist, type_attr;
    u16 off1;
    u32 off2, zero;
} __attribute__((packed));
static struct idt_gate idt[256] __attribute__((aligned(16)));
extern char rt_isr_stubs[];
volatile struct trap_record rt_last_trap;
volatile u64 rt_trap_count[256];
struct catch_ctx *volatile rt_current_catch;
static trap_handler_fn handlers[256];

void rt_idt_set_raw(int v, u64 h, int dpl, int ist, int type)
{
    idt[v].off0 = (u16)h;
    idt[v].sel = SEL_KCODE;
    idt[v].ist = (u8)ist;
    idt[v].type_attr = (u8)(0x80 | (dpl << 5) | type);
    idt[v].off1 = (u16)(h >> 16);
    idt[v].off2 = (u32)(h >> 32);
    idt[v].zero = 0;
}

void rt_idt_set_gate(int v, int dpl, int ist)
{
    rt_idt_set_raw(v, (u64)(uintptr_t)(rt_isr_stubs + 16 * v), dpl, ist, 0xE);
}

void rt_set_handler(int v, trap_handler_fn fn) { handlers[v] = fn; }

void rt_trap_reset(void)
{
    memset((void *)&rt_last_trap, 0, sizeof(rt_last_trap));
    rt_last_trap.vector = ~0ull;
    for (int i = 0; i < 256; i++)
        rt_trap_count[i] = 0;
}

static void idt_init(void)
{
    struct { u16 limit; u64 base; } __attribute__((packed)) p = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
    for (int v = 0; v < 256; v++)
        rt_idt_set_gate(v, 0, 0);
    __asm__ volatile("lidt %0" :: "m"(p));
    rt_trap_reset();
}

static void dump_frame(const struct trap_frame *f)
{
    rt_printf("  vector %llu error %#llx rip %#llx cs %#llx rflags %#llx rsp %#llx ss %#llx cr2 %#llx\n",
              f->vector, f->error, f->rip, f->cs, f->rflags, f->rsp, f->ss, read_cr2());
    rt_printf("  rax %#llx rbx %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx rbp %#llx\n",
              f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp);
}

void rt_trap_dispatch(struct trap_frame *f)
{
    u64 v = f->vector & 0xFF;
    rt_last_trap.vector = v;
    rt_last_trap.error = f->error;
    rt_last_trap.cr2 = read_cr2();
    rt_last_trap.rip = f->rip;
    rt_last_trap.cs = f->cs;
    rt_last_trap.rflags = f->rflags;
    rt_last_trap.rsp = f->rsp;
    rt_last_trap.ss = f->ss;
    rt_last_trap.frame_addr = (u64)(uintptr_t)f;
    rt_trap_count[v]++;

    if (handlers[v] && handlers[v](f))
        return;
    struct catch_ctx *c = rt_current_catch;
    if (c) {
        rt_current_catch = 0;
        f->rbx = c->rbx;
        f->rbp = c->rbp;
        f->r12 = c->r12;
        f->r13 = c->r13;
        f->r14 = c->r14;
        f->r15 = c->r15;
        f->rsp = c->rsp;
        f->rip = c->rip;
        f->rax = 1;
        f->cs = SEL_KCODE;
        f->ss = SEL_KDATA;
        f->rflags = 0x2;
        return;
    }
    rt_printf("unexpected trap in %s\n", rt_test_name);
    dump_frame(f);
    rt_printf("FAIL: %s (unexpected exception %llu)\n", rt_test_name, v);
    rt_exit(RT_EXIT_TRAP);
}

/* ------------------------------------------------------------------ syscalls / user */
extern char rt_syscall_entry[], rt_user_trampoline[];
void rt_enter_user_iret(u64 rip, u64 rsp, u64 a0, u64 a1) __attribute__((noreturn));
void rt_enter_user_sysret(u64 rip, u64 rsp, u64 a0, u64 a1) __attribute__((noreturn));
static struct catch_ctx user_exit_ctx;
static volatile long user_ret;
static u8 user_stack[16384] USER_DATA __attribute__((aligned(16)));
struct syscall_frame rt_last_syscall;
u64 rt_syscall_cs_seen, rt_syscall_rflags_seen;

long rt_syscall_dispatch(struct syscall_frame *f)
{
    switch (f->rax) {
    case SYS_EXIT:
        user_ret = (long)f->rdi;
        rt_catch_jump(&user_exit_ctx, 1);
    case SYS_PUTS: {
        /* Copies from user memory; with SMAP on this needs STAC. */
        u64 ac = read_cr4() & CR4_SMAP;
        if (ac) stac();
        rt_puts((const char *)(uintptr_t)f->rdi);
        if (ac) clac();
        return 0;
    }
    case SYS_ADD:
        return (long)(f->rdi + f->rsi);
    case SYS_INFO:
        rt_last_syscall = *f;
        rt_syscall_cs_seen = read_cs();
        __asm__ volatile("pushfq; popq %0" : "=r"(rt_syscall_rflags_seen));
        return 0x5157;
    }
    return -1;
}

long rt_user_call(long (*fn)(long), long arg, int via_sysret)
{
    u64 sp = ((u64)(uintptr_t)(user_stack + sizeof(user_stack))) & ~15ull;
    if (rt_setjmp(&user_exit_ctx) == 0) {
        if (via_sysret)
            rt_enter_user_sysret((u64)(uintptr_t)rt_user_trampoline, sp, (u64)(uintptr_t)fn, (u64)arg);
        rt_enter_user_iret((u64)(uintptr_t)rt_user_trampoline, sp, (u64)(uintptr_t)fn, (u64)arg);
    }
    return user_ret;
}

static void syscall_init(void)
{
    rt_syscall_stack_top = (u64)(uintptr_t)(syscall_stack + sizeof(syscall_stack));
    wrmsr(MSR_STAR, (0x18ull << 48) | ((u64)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (u64)(uintptr_t)rt_syscall_entry);
    wrmsr(MSR_SFMASK, 0x47700);     /* TF IF DF IOPL NT AC */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

/* ------------------------------------------------------------------ paging */
extern u64 boot_pml4[];
extern char __image_end[];
static u64 pool_next, pool_end;

u64 *rt_pml4(void) { return boot_pml4; }

void *rt_alloc_pages(u64 n)
{
    if (pool_next + n * 4096 > pool_end) {
        rt_printf("FAIL: %s (out of guest memory: %llu pages wanted)\n", rt_test_name, n);
        rt_exit(RT_EXIT_FAIL);
    }
    void *p = (void *)(uintptr_t)pool_next;
    pool_next += n * 4096;
    memset(p, 0, n * 4096);
    return p;
}

void *rt_alloc_page(void) { return rt_alloc_pages(1); }

static u64 *table_of(u64 *e, int create)
{
    if (!(*e & PTE_P)) {
        if (!create)
            return NULL;
        *e = (u64)(uintptr_t)rt_alloc_page() | PTE_P | PTE_W | PTE_U;
    }
    if (*e & PTE_PS)
        return NULL;
    return (u64 *)(uintptr_t)(*e & PTE_ADDR_MASK);
}

static u64 *walk(u64 *pml4, u64 va, int level, int create)
{
    u64 *t = pml4;
    for (int l = 4; l > level; l--) {
        t = table_of(&t[(va >> (12 + 9 * (l - 1))) & 511], create);
        if (!t)
            return NULL;
    }
    return &t[(va >> (12 + 9 * (level - 1))) & 511];
}

u64 *pt_entry(u64 *pml4, u64 va, int level) { return walk(pml4, va, level, 0); }

u64 *pt_leaf(u64 *pml4, u64 va, int *level)
{
    u64 *t = pml4;
    for (int l = 4; l >= 1; l--) {
        u64 *e = &t[(va >> (12 + 9 * (l - 1))) & 511];
        if (l == 1 || ((*e & PTE_P) && (*e & PTE_PS) && l <= 3)) {
            if (level)
                *level = l;
            return e;
        }
        if (!(*e & PTE_P))
            return NULL;
        t = (u64 *)(uintptr_t)(*e & PTE_ADDR_MASK);
    }
    return NULL;
}

u64 *pt_map_4k(u64 *pml4, u64 va, u64 pa, u64 flags)
{
    u64 *e = walk(pml4, va, 1, 1);
    if (!e) {
        rt_printf("FAIL: %s (pt_map_4k %#llx: a large page is in the way)\n", rt_test_name, va);
        rt_exit(RT_EXIT_FAIL);
    }
    *e = (pa & PTE_ADDR_MASK) | flags;
    return e;
}

u64 *pt_map_2m(u64 *pml4, u64 va, u64 pa, u64 flags)
{
    u64 *e = walk(pml4, va, 2, 1);
    if (!e) {
        rt_printf("FAIL: %s (pt_map_2m %#llx: a large page is in the way)\n", rt_test_name, va);
        rt_exit(RT_EXIT_FAIL);
    }
    *e = (pa & 0x000fffffffe00000ull) | flags | PTE_PS;
    return e;
}

void pt_unmap(u64 *pml4, u64 va)
{
    u64 *e = pt_leaf(pml4, va, NULL);
    if (e)
        *e = 0;
}

void pt_set_bits(u64 *pml4, u64 va, u64 bits)
{
    u64 *e = pt_leaf(pml4, va, NULL);
    if (e)
        *e |= bits;
}

void pt_clear_bits(u64 *pml4, u64 va, u64 bits)
{
    u64 *e = pt_leaf(pml4, va, NULL);
    if (e)
        *e &= ~bits;
}

u64 *pt_clone_pml4(u64 *pml4)
{
    u64 *n = rt_alloc_page();
    memcpy(n, pml4, 4096);
    return n;
}

/* ------------------------------------------------------------------ start-up */
static void features_init(void)
{
    u32 a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    rt_cpu.max_leaf = a;
    memcpy(rt_cpu.vendor, &b, 4);
    memcpy(rt_cpu.vendor + 4, &d, 4);
    memcpy(rt_cpu.vendor + 8, &c, 4);
    cpuid(1, 0, &a, &b, &c, &d);
    rt_cpu.pcid = (c >> 17) & 1;
    rt_cpu.hypervisor = (c >> 31) & 1;
    rt_cpu.pge = (d >> 13) & 1;
    if (rt_cpu.max_leaf >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        rt_cpu.smep = (b >> 7) & 1;
        rt_cpu.invpcid = (b >> 10) & 1;
        rt_cpu.smap = (b >> 20) & 1;
    }
    cpuid(0x80000000u, 0, &a, &b, &c, &d);
    rt_cpu.max_ext_leaf = a;
    if (a >= 0x80000001u) {
        cpuid(0x80000001u, 0, &a, &b, &c, &d);
        rt_cpu.nx = (d >> 20) & 1;
        rt_cpu.gbpages = (d >> 26) & 1;
    }
    rt_cpu.maxphyaddr = 36;
    if (rt_cpu.max_ext_leaf >= 0x80000008u) {
        cpuid(0x80000008u, 0, &a, &b, &c, &d);
        rt_cpu.maxphyaddr = a & 0xFF;
    }
    if (rt_cpu.hypervisor) {
        cpuid(0x40000000u, 0, &a, &b, &c, &d);
        memcpy(rt_cpu.hv_vendor, &b, 4);
        memcpy(rt_cpu.hv_vendor + 4, &c, 4);
        memcpy(rt_cpu.hv_vendor + 8, &d, 4);
    }
}

int rt_on_qemu_tcg(void)
{
    return rt_cpu.hypervisor && !memcmp(rt_cpu.hv_vendor, "TCGTCGTCGTCG", 12);
}

static void memory_init(void)
{
    u64 end = 32ull << 20;
    if (rt_mb_magic == 0x2BADB002u && rt_mb_info) {
        const u32 *mbi = (const u32 *)(uintptr_t)rt_mb_info;
        if (mbi[0] & 1)
            end = 0x100000ull + (u64)mbi[2] * 1024;
        if (mbi[0] & 4)
            rt_cmdline = (const char *)(uintptr_t)mbi[4];
    }
    if (end > (4ull << 30))
        end = 4ull << 30;
    /* Stay clear of the multiboot info and modules QEMU puts after the image. */
    pool_next = (((u64)(uintptr_t)__image_end + 0xFFFFF) & ~0xFFFFFull) + (1ull << 20);
    pool_end = end & ~0xFFFull;
}

void rt_main(void)
{
    serial_init();
    memory_init();
    features_init();
    gdt_tss_init();
    idt_init();
    syscall_init();
    if (rt_cpu.nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    /* The 2 MiB identity page of the .user section is user-accessible. */
    pt_set_bits(rt_pml4(), (u64)(uintptr_t)__user_start, PTE_U);
    invlpg(__user_start);
    rt_strict_tlb = rt_cmdline_has("strict-tlb");
    rt_printf("guest %s: cpu \"%s\"%s%s%s, cmdline \"%s\", memory to %#llx\n", rt_test_name,
              rt_cpu.vendor, rt_cpu.hypervisor ? ", hypervisor \"" : "",
              rt_cpu.hypervisor ? rt_cpu.hv_vendor : "", rt_cpu.hypervisor ? "\"" : "",
              rt_cmdline, pool_end);
    test_main();
    rt_finish();
}
