# Sourced by tests/linux/run_linux.sh, scripts/boot-linux.sh and
# benchmarks/linux-boot/run.sh: where the kernel is and the command line every
# boot starts from.  Each parameter is here for a reason:
#   console=ttyS0      the kernel log and /init's output on the first 16550
#                      (the tests read the whole log from the serial port, so
#                      no `quiet`: a WARNING is printed at KERN_WARNING, which
#                      `quiet` would hide from the console).
#   cryptomgr.notests  skips the crypto self-tests: 58 % of the 1.49 G guest
#                      instructions before the shell (LINUX-GUEST.md).  They
#                      test the kernel's crypto code, not the machine.
#   panic=-1           a panic reboots at once instead of waiting forever;
#                      with -no-reboot that ends the run, so a broken boot
#                      costs seconds, not the watchdog's timeout.  (hvemu and
#                      QEMU both exit 0 on a reset with -no-reboot: the tests
#                      catch a panic by its log line and the missing
#                      "gk: done", not by the exit status.)
# Deliberately absent: tsc=reliable, no_timer_check, clocksource=,
# lpj=, mitigations=off: each would hide something the machine must get right
# (TSC synchronisation, the timer check, clock calibration, PTI's CR3 switches).

GK_APPEND_BASE="console=ttyS0 cryptomgr.notests panic=-1"

# The newest Debian cloud kernel installed (LINUX-GUEST.md: it boots about
# twice as fast as the generic flavour).  GK_KERNEL in the environment wins.
gk_find_kernel() {
    if [ -n "${GK_KERNEL:-}" ]; then
        echo "$GK_KERNEL"
        return
    fi
    ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n 1
}
