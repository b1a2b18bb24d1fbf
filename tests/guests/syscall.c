/* SYSCALL/SYSRET round trips to CPL 3 and back: entry to user mode via IRETQ
 * and via SYSRETQ, user-mode data (read, modify, pass by pointer), RCX/R11
 * saved by SYSCALL, SFMASK applied in the kernel and RFLAGS restored by
 * SYSRET, CS/SS selectors on both sides, and user code not reaching kernel data. */
#include "rt.h"

const char rt_test_name[] = "syscall";

USER_DATA static volatile u64 user_counter = 40;
USER_DATA static char user_msg[] = "hello from CPL 3\n";
USER_DATA static volatile u64 user_cs, user_ss, user_rsp_before, user_rsp_after;
USER_DATA static volatile u64 user_rflags_after, user_rcx_ret;
static volatile u64 kernel_secret = 0x5EC12E7;
extern char user_after_syscall[];

static long USER_TEXT user_main(long arg)
{
    u64 cs, ss;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
    user_cs = cs;
    user_ss = ss;
    user_counter += (u64)arg;                       /* user data, written at CPL 3 */
    if (arg)
        user_syscall(SYS_PUTS, (long)user_msg, 0);
    long sum = user_syscall(SYS_ADD, (long)user_counter, 1000);
    return sum;
}

/* SYSCALL with DF set: the kernel must see DF=0 (SFMASK), the user gets DF back
 * (SYSRET restores R11). Also records RSP and the return address. */
static long USER_TEXT user_flags(long arg)
{
    u64 rsp0, rsp1, fl, ret;
    __asm__ volatile(
        "mov %%rsp, %0\n\t"
        "std\n\t"
        "mov $3, %%eax\n\t"                /* SYS_INFO */
        "syscall\n"
        "user_after_syscall:\n\t"
        "pushfq\n\t"
        "popq %2\n\t"
        "cld\n\t"
        "mov %%rsp, %1"
        : "=&r"(rsp0), "=&r"(rsp1), "=&r"(fl), "=&a"(ret)
        :: "rcx", "r11", "rdi", "rsi", "rdx", "r8", "r9", "r10", "memory");
    user_rsp_before = rsp0;
    user_rsp_after = rsp1;
    user_rflags_after = fl;
    return (long)ret;
}

static long USER_TEXT user_peek(long addr) { return (long)*(volatile u64 *)addr; }

void test_main(void)
{
    CHECK_EQ(rdmsr(MSR_STAR) >> 32, (0x18ull << 16) | SEL_KCODE, "STAR selectors");
    CHECK(rdmsr(MSR_EFER) & EFER_SCE, "EFER.SCE set");

    /* Round trip, entered with IRETQ. */
    long r = rt_user_call(user_main, 2, 0);
    CHECK_EQ(user_cs, SEL_UCODE, "CS at CPL 3 (IRETQ entry)");
    CHECK_EQ(user_ss, SEL_UDATA, "SS at CPL 3 (IRETQ entry)");
    CHECK_EQ(user_counter, 42, "user data updated at CPL 3");
    CHECK_EQ(r, 1042, "SYS_ADD result returned through SYSRET and back through SYSCALL 0");

    /* Round trip, entered with SYSRETQ. */
    user_cs = user_ss = 0;
    r = rt_user_call(user_main, 8, 1);
    CHECK_EQ(user_cs, SEL_UCODE, "CS at CPL 3 (SYSRET entry)");
    CHECK_EQ(user_ss, SEL_UDATA, "SS at CPL 3 (SYSRET entry)");
    CHECK_EQ(user_counter, 50, "user data (second call)");
    CHECK_EQ(r, 1050, "SYS_ADD result (second call)");

    /* RCX/R11, SFMASK, RFLAGS restore, RSP preserved. */
    r = rt_user_call(user_flags, 0, 1);
    CHECK_EQ(r, 0x5157, "SYS_INFO result");
    CHECK_EQ(rt_last_syscall.rcx, (u64)user_after_syscall, "RCX = return RIP");
    CHECK(rt_last_syscall.r11 & (1u << 10), "R11 = user RFLAGS with DF (%#llx)", rt_last_syscall.r11);
    CHECK_EQ(rt_syscall_cs_seen, SEL_KCODE, "CS in the syscall handler");
    CHECK(!(rt_syscall_rflags_seen & (1u << 10)), "DF masked by SFMASK in the kernel (%#llx)",
          rt_syscall_rflags_seen);
    CHECK(user_rflags_after & (1u << 10), "DF restored by SYSRET (%#llx)", user_rflags_after);
    CHECK_EQ(user_rsp_after, user_rsp_before, "user RSP preserved across SYSCALL/SYSRET");
    CHECK_EQ(rt_last_syscall.rsp, user_rsp_before, "kernel saw the user RSP");

    /* User code cannot read kernel data (supervisor page). */
    rt_trap_reset();
    int f = TRY(rt_user_call(user_peek, (long)&kernel_secret, 0));
    CHECK(f && rt_last_trap.vector == VEC_PF, "user read of kernel data did not fault");
    CHECK_EQ(rt_last_trap.error, PFE_P | PFE_U, "#PF error code for the user read");
    CHECK_EQ(rt_last_trap.cr2, (u64)&kernel_secret, "CR2");
    /* ... but can read its own data. */
    r = rt_user_call(user_peek, (long)&user_counter, 1);
    CHECK_EQ(r, 50, "user read of user data");

    /* Many round trips in a row (exercises the path repeatedly). */
    u64 total = 0;
    for (int i = 0; i < 100; i++)
        total += (u64)rt_user_call(user_main, 0, i & 1);
    CHECK_EQ(total, 100 * 1050, "100 round trips");
    printf("syscall: %d checks done\n", rt_checks);
}
