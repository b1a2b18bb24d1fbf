/* Benchmark: an integer loop (ALU ops, a data-dependent branch, loads and
 * stores to a small array). The loop is written in assembly so that the guest
 * instruction count does not depend on the compiler: 13 instructions per
 * iteration, plus 1 when the branch falls through (half of the iterations).
 * iters=N on the command line (default 20M: about 270M instructions). */
#include "rt.h"

const char rt_test_name[] = "intloop";

static u64 arr[64];

void test_main(void)
{
    u64 iters = rt_cmdline_num("iters", 20000000);
    u64 a = 1, b = 0x9E3779B97F4A7C15ull, s = 0, odd = 0, idx = 0, n = iters;
    u64 t0 = rdtsc();
    __asm__ volatile(
        "1:\n\t"
        "add  %[n], %[a]\n\t"
        "xor  %[a], %[b]\n\t"
        "rol  $5, %[b]\n\t"
        "lea  (%[a],%[b],2), %%rdx\n\t"
        "sub  %%rdx, %[s]\n\t"
        "mov  %[s], (%[arr],%[idx],8)\n\t"
        "add  8(%[arr],%[idx],8), %[a]\n\t"
        "test $1, %b[n]\n\t"
        "jz   2f\n\t"
        "inc  %[odd]\n"
        "2:\n\t"
        "inc  %[idx]\n\t"
        "and  $62, %[idx]\n\t"
        "dec  %[n]\n\t"
        "jnz  1b\n\t"
        : [a] "+r"(a), [b] "+r"(b), [s] "+r"(s), [odd] "+r"(odd), [idx] "+r"(idx), [n] "+r"(n)
        : [arr] "r"(arr)
        : "rdx", "cc", "memory");
    u64 t1 = rdtsc();
    u64 insns = iters * 13 + iters / 2;
    printf("intloop: %llu iterations, ~%llu loop instructions, checksum %#llx, odd %llu\n",
           iters, insns, a ^ b ^ s, odd);
    printf("intloop: %llu TSC ticks, %llu.%02llu ticks per instruction\n", t1 - t0,
           (t1 - t0) / (insns ? insns : 1), ((t1 - t0) * 100 / (insns ? insns : 1)) % 100);
    CHECK_EQ(odd, iters / 2, "branch taken count");
}
