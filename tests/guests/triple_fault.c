/* Triple fault: with an empty IDT, INT3 cannot be delivered (#GP), neither can
 * the #GP (-> #DF), nor the #DF: the processor shuts down. hvemu must stop with
 * a non-zero status, saying why, with a register dump; QEMU with -no-reboot
 * exits with status 0. The runner (run_guest.sh triple-fault) checks that. */
#include "rt.h"

const char rt_test_name[] = "triple_fault";

void test_main(void)
{
    struct { u16 limit; u64 base; } __attribute__((packed)) empty = { 0, 0 };
    printf("loading an empty IDT and executing INT3\n");
    printf("TRIPLE-FAULT-NEXT\n");
    __asm__ volatile("lidt %0\n\tint3" :: "m"(empty));
    printf("FAIL: %s (still running after the triple fault)\n", rt_test_name);
    rt_exit(RT_EXIT_FAIL);
}
