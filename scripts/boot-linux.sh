#!/usr/bin/env bash
# Sets up everything and boots Debian's stock kernel to a shell prompt on the
# serial console, with the Hyper-V interface on:
#   1. Debian packages: hvemu's (scripts/setup.sh) and the guest kit's
#      (linux-image-cloud-amd64, busybox-static, cpio);
#   2. builds hvemu in build/ (or $BUILD_DIR) and the guest kit's initramfs;
#   3. hvemu -kernel /boot/vmlinuz-*-cloud-amd64 -initrd ... -append "... gk.work=shell".
# Leave the shell with `exit` (or Ctrl-D): the guest powers off and hvemu exits 0.
#
# usage: scripts/boot-linux.sh [--smp N] [--work shell|stress|0] [--qemu] [HVEMU-OPTIONS...]
#   --smp N     virtual processors (default 2)
#   --work W    what /init runs (default shell; stress = the TLB stress program)
#   --qemu      boot the same kernel and initramfs under qemu-system-x86_64 (TCG)
#               instead, for comparison
#   anything else goes to hvemu, e.g.
#     scripts/boot-linux.sh -stats boot.json             statistics at the end
#     scripts/boot-linux.sh -trace boot.trc -trace-filter events=hv
#                                                         hypercall flushes traced
#     scripts/boot-linux.sh -hyperv off                  no Hyper-V interface
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/linux/defaults.sh"

smp=2 work=shell use_qemu=0
while [ $# -gt 0 ]; do
    case "$1" in
        --smp) smp=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --qemu) use_qemu=1; shift ;;
        *) break ;;
    esac
done

echo "boot-linux: packages" >&2
"$top/scripts/setup.sh"
build=${BUILD_DIR:-$top/build}
initrd=$build/tests/linux/gk-initramfs.cpio.gz
mkdir -p "$build"
"$top/tests/linux/mkinitramfs.sh" --install "$initrd" >/dev/null
echo "boot-linux: building hvemu in $build" >&2
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target hvemu linux_kit >/dev/null

kernel=$(gk_find_kernel)
[ -n "$kernel" ] || { echo "boot-linux: no /boot/vmlinuz-*-cloud-amd64 after installing linux-image-cloud-amd64" >&2; exit 2; }
append="$GK_APPEND_BASE gk.work=$work"
echo "boot-linux: $kernel, -smp $smp, append \"$append\"" >&2

if [ "$use_qemu" = 1 ]; then
    exec qemu-system-x86_64 -M pc -accel tcg -m 512 -smp "$smp" -kernel "$kernel" \
        -initrd "$initrd" -append "$append" -nographic -no-reboot "$@"
fi
exec "$build/frontend/hvemu" -kernel "$kernel" -initrd "$initrd" -append "$append" \
    -m 512M -smp "$smp" -serial stdio -display none -no-reboot "$@"
