#!/bin/busybox sh
# /init of the guest kit's initramfs (tests/linux/mkinitramfs.sh puts it there).
# Runs as PID 1 under the Debian kernel, on hvemu or QEMU alike, and prints
# lines the tests and the benchmark look for (tests/linux/run_linux.sh):
#   gk: ready                  userspace is up (the benchmark's "ready" time)
#   cpus online: N (LIST)      N = CPUs the kernel brought up
#   gk: dmesg: ...             the kernel's hypervisor lines (grep -i hyper)
#   ... the workload's output ...
#   gk: work W status S        the workload's exit status
#   gk: done                   then an ACPI S5 power-off (poweroff -f)
# Kernel command-line parameters (read from /proc/cmdline; the kernel ignores
# dotted parameters it does not know, so they cost nothing):
#   gk.work=0                  no workload (default)
#   gk.work=stress             /bin/tlbstress ROUNDS (gk.rounds=N, default 400)
#   gk.work=shell              an interactive shell on the console; power-off
#                              when it exits
#   gk.dmesg=1                 also print the whole kernel log before "done"
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# If the kernel found no /dev/console in the archive, stdio is closed: take
# the console now that devtmpfs has it.
[ -t 1 ] || exec </dev/console >/dev/console 2>&1

work=0
rounds=400
show_dmesg=0
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        gk.work=*) work=${arg#gk.work=} ;;
        gk.rounds=*) rounds=${arg#gk.rounds=} ;;
        gk.dmesg=*) show_dmesg=${arg#gk.dmesg=} ;;
    esac
done

echo "gk: ready"
echo "cpus online: $(nproc) ($(cat /sys/devices/system/cpu/online))"
dmesg | grep -i hyper | sed 's/^/gk: dmesg: /'

case "$work" in
    0|none) status=0 ;;
    stress) /bin/tlbstress "$rounds"; status=$? ;;
    shell)
        echo "gk: shell (exit or Ctrl-D powers off)"
        setsid cttyhack sh -l
        status=$? ;;
    *) echo "gk: unknown workload '$work'"; status=127 ;;
esac
echo "gk: work $work status $status"

[ "$show_dmesg" = 1 ] && dmesg | sed 's/^/gk: log: /'
echo "gk: done"
poweroff -f
# Only reached if the power-off did not take (no ACPI): the kernel then panics
# on init's exit, which -no-reboot / panic=-1 turns into the end of the run.
sleep 5
exit 1
