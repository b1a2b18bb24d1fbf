/* The runtime of hvemu's freestanding guest kernels (tests/guests, benchmarks).
 *
 * A guest is one C file defining
 *     const char rt_test_name[] = "name";
 *     void test_main(void);
 * The runtime boots into 64-bit mode (entry.S), sets up serial, GDT/TSS/IDT,
 * calls test_main() and finishes with rt_finish(): "PASS: name" and exit code
 * RT_EXIT_PASS, or "FAIL: name" and RT_EXIT_FAIL.
 *
 * Exit convention (isa-debug-exit at 0xF4, status = (v << 1) | 1):
 *     RT_EXIT_PASS  0x10 -> status 33
 *     RT_EXIT_FAIL  0x11 -> status 35
 *     RT_EXIT_TRAP  0x12 -> status 37   (unexpected exception)
 */
#ifndef HVEMU_GUEST_RT_H
#define HVEMU_GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;   /* so that %llx fits */

#define RT_EXIT_PASS 0x10
#define RT_EXIT_FAIL 0x11
#define RT_EXIT_TRAP 0x12

/* Selectors (STAR-compatible layout). */
#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE32 0x1B
#define SEL_UDATA   0x23
#define SEL_UCODE   0x2B
#define SEL_TSS     0x30

/* Exception vectors. */
enum { VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
       VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
       VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18 };

/* #PF error code bits. */
#define PFE_P    0x01u
#define PFE_W    0x02u
#define PFE_U    0x04u
#define PFE_RSVD 0x08u
#define PFE_I    0x10u

/* Page-table entry bits. */
#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_G   (1ull << 8)
#define PTE_NX  (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE   (1ull << 5)
#define CR4_PGE   (1ull << 7)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP  (1ull << 20)
#define CR4_SMAP  (1ull << 21)
#define CR3_NOFLUSH (1ull << 63)

#define MSR_EFER   0xC0000080u
#define MSR_STAR   0xC0000081u
#define MSR_LSTAR  0xC0000082u
#define MSR_CSTAR  0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Base of the virtual region the tests map 4K pages into (PML4 slot 32):
 * its paging structures are built at run time by pt_map_*(), with A = 0. */
#define TEST_VA_BASE 0x0000100000000000ull

/* ---- port I/O, control registers, MSRs, CPUID ---- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u64 read_cr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 read_cr4(void) { u64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr2(u64 v) { __asm__ volatile("mov %0, %%cr2" :: "r"(v) : "memory"); }
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
/* MOV CR3 with bit 63 set: with CR4.PCIDE=1 the new PCID's entries may be kept. */
static inline void write_cr3_noflush(u64 v) { write_cr3(v | CR3_NOFLUSH); }
static inline void invlpg(const volatile void *va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void invlpg_va(u64 va) { invlpg((const volatile void *)va); }
static inline u64 rdmsr(u32 msr) { u32 lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((u64)hi << 32) | lo; }
static inline void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory"); }
static inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline void stac(void) { __asm__ volatile("stac" ::: "memory", "cc"); }
static inline void clac(void) { __asm__ volatile("clac" ::: "memory", "cc"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline u64 read_cs(void) { u64 v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }

/* ---- CPU features (filled by the runtime from CPUID) ---- */
struct rt_features {
    u32 max_leaf, max_ext_leaf;
    char vendor[13];
    char hv_vendor[13];      /* CPUID 0x40000000 signature if the hypervisor bit is set */
    int nx, pcid, invpcid, smep, smap, pge, gbpages, hypervisor;
    int maxphyaddr;
};
extern struct rt_features rt_cpu;
/* QEMU's TCG accelerator (hypervisor signature "TCGTCGTCGTCG"), for the few
 * places where its behaviour differs from hardware and hvemu. */
int rt_on_qemu_tcg(void);

/* ---- serial console and formatting ---- */
void rt_putc(char c);
void rt_puts(const char *s);
int rt_vprintf(const char *fmt, va_list ap);
int rt_printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
#define printf rt_printf

/* ---- exit ---- */
void rt_exit(u32 code) __attribute__((noreturn));
void rt_finish(void) __attribute__((noreturn));   /* PASS/FAIL from rt_failures */

/* ---- checks ---- */
extern int rt_failures, rt_checks;
void rt_check_fail(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(__printf__, 4, 5)));
/* CHECK(cond, "fmt", ...): counts, and on failure prints file:line, the condition
 * and the message. */
#define CHECK(cond, ...) do { rt_checks++; if (!(cond)) rt_check_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); } while (0)
#define CHECK_EQ(a, b, what) do { u64 _a = (u64)(a), _b = (u64)(b); rt_checks++; \
    if (_a != _b) rt_check_fail(__FILE__, __LINE__, #a " == " #b, "%s: got %#llx, expected %#llx", what, \
                                (unsigned long long)_a, (unsigned long long)_b); } while (0)
#define SKIP(...) do { rt_printf("SKIP: "); rt_printf(__VA_ARGS__); rt_printf("\n"); } while (0)

/* ---- command line (multiboot) ---- */
extern const char *rt_cmdline;
int rt_cmdline_has(const char *word);                 /* exact word match */
u64 rt_cmdline_num(const char *key, u64 dflt);        /* key=NUMBER (dec or 0x) */
/* "strict-tlb" on the command line: the machine models a TLB that keeps
 * entries until invalidated (hvemu); tests then require stale translations. */
extern int rt_strict_tlb;

/* ---- traps ---- */
struct trap_frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss;
};
struct trap_record {
    u64 vector, error, cr2, rip, cs, rflags, rsp, ss;
    u64 frame_addr;          /* where the handler's frame was (stack / IST check) */
};
extern volatile struct trap_record rt_last_trap;
extern volatile u64 rt_trap_count[256];
/* A handler returns 1 when it has dealt with the trap (IRETQ to the frame, which
 * it may modify), 0 to fall through to catch / fatal. */
typedef int (*trap_handler_fn)(struct trap_frame *f);
void rt_set_handler(int vector, trap_handler_fn fn);
void rt_idt_set_gate(int vector, int dpl, int ist);   /* interrupt gate to the stub */
void rt_idt_set_raw(int vector, u64 handler, int dpl, int ist, int type);
void rt_trap_reset(void);                             /* clear last trap and counts */

struct catch_ctx { u64 rbx, rbp, r12, r13, r14, r15, rsp, rip; };
extern struct catch_ctx *volatile rt_current_catch;
int rt_catch_enter(struct catch_ctx *c) __attribute__((returns_twice));
int rt_setjmp(struct catch_ctx *c) __attribute__((returns_twice));
void rt_catch_jump(struct catch_ctx *c, long v) __attribute__((noreturn));
/* TRY(stmt): runs stmt; evaluates to 0 if it completed, 1 if a trap cut it
 * short (the trap is in rt_last_trap; execution resumes after TRY at CPL 0). */
#define TRY(...) ({ struct catch_ctx _cc; int _f; \
    if (rt_catch_enter(&_cc) == 0) { __VA_ARGS__; barrier(); rt_current_catch = 0; _f = 0; } \
    else { _f = 1; } \
    _f; })

/* ---- segmentation / TSS ---- */
extern u64 rt_gdt[];
struct tss64 {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3, iomap_base;
} __attribute__((packed));
extern struct tss64 rt_tss;
extern u8 rt_ist_stack1[], rt_ist_stack2[];
#define RT_IST_STACK_SIZE 8192

/* ---- user mode ---- */
#define USER_TEXT __attribute__((section(".user.text"), noinline))
#define USER_DATA __attribute__((section(".user.data")))
extern char __user_start[], __user_end[];
/* Runs fn(arg) at CPL 3 (entered with IRETQ, or SYSRETQ if via_sysret), returns
 * what fn returned (it comes back through SYSCALL 0). fn must live in .user.text. */
long rt_user_call(long (*fn)(long), long arg, int via_sysret);
/* Syscalls available to user code (numbers in RAX, args RDI, RSI, RDX). */
#define SYS_EXIT   0
#define SYS_PUTS   1      /* (const char *) */
#define SYS_ADD    2      /* (a, b) -> a + b */
#define SYS_INFO   3      /* () -> records the SYSCALL state in rt_last_syscall */
struct syscall_frame {
    u64 r15, r14, r13, r12, rbp, rbx, rax, rdi, rsi, rdx, r10, r8, r9, rcx, r11, rsp;
};
extern struct syscall_frame rt_last_syscall;
extern u64 rt_syscall_cs_seen;      /* CS read inside the syscall handler */
extern u64 rt_syscall_rflags_seen;  /* RFLAGS inside the handler (after SFMASK) */
static inline long user_syscall(long nr, long a, long b)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return ret;
}

/* ---- paging ---- */
u64 *rt_pml4(void);                      /* the boot PML4 (identity maps 0..4 GiB) */
void *rt_alloc_page(void);               /* zeroed 4 KiB page, identity-mapped */
void *rt_alloc_pages(u64 n);             /* n contiguous zeroed pages */
/* Leaf entry for va in the tables rooted at pml4 (4K PTE or large PDE/PDPTE),
 * NULL if not mapped; *level gets 1 (PTE), 2 (PDE) or 3 (PDPTE). */
u64 *pt_leaf(u64 *pml4, u64 va, int *level);
/* Entry at level (4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE), NULL if absent. */
u64 *pt_entry(u64 *pml4, u64 va, int level);
/* Maps a 4K (or 2M) page; missing tables are created with P|W|U and A = 0.
 * Returns the leaf entry. Does not invalidate. */
u64 *pt_map_4k(u64 *pml4, u64 va, u64 pa, u64 flags);
u64 *pt_map_2m(u64 *pml4, u64 va, u64 pa, u64 flags);
void pt_unmap(u64 *pml4, u64 va);
void pt_set_bits(u64 *pml4, u64 va, u64 bits);
void pt_clear_bits(u64 *pml4, u64 va, u64 bits);
u64 *pt_clone_pml4(u64 *pml4);           /* new PML4 sharing the lower levels */
/* Shorthands on the boot PML4. */
#define map_4k(va, pa, fl) pt_map_4k(rt_pml4(), (va), (pa), (fl))
#define map_2m(va, pa, fl) pt_map_2m(rt_pml4(), (va), (pa), (fl))

/* ---- misc ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
u64 rt_rand(void);                       /* xorshift64*, fixed seed */
void rt_srand(u64 seed);

void test_main(void);
extern const char rt_test_name[];
extern u32 rt_mb_magic, rt_mb_info;

#endif
