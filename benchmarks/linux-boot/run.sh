#!/usr/bin/env bash
# Linux boot benchmark (issue 5): Debian's cloud kernel + the guest kit's
# initramfs (tests/linux), gk.work=0, for -smp 1 and 2.  Prints one JSON
# object: wall seconds to "gk: ready" and to the ACPI power-off, guest
# instructions and MIPS (hvemu -stats), and, when qemu-system-x86_64 is
# installed, the same kernel and initramfs under QEMU TCG (SeaBIOS + its own
# ACPI) in the same run, with the ratios hvemu / QEMU.
#
# usage: benchmarks/linux-boot/run.sh [BUILD_DIR]   (default: build)
# Environment: HVEMU, QEMU (path or "none"), GK_KERNEL, SMP (default "1,2"),
# BENCH_APPEND (extra kernel parameters).  Progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
build=$(cd "$build" && pwd) || { echo "run.sh: no build directory $1" >&2; exit 2; }
. "$top/tests/linux/defaults.sh"

hvemu=${HVEMU:-$build/frontend/hvemu}
[ -x "$hvemu" ] || { echo "run.sh: hvemu not found at $hvemu (build first, or set HVEMU=)" >&2; exit 2; }
qemu=${QEMU:-$(command -v qemu-system-x86_64 || echo none)}
kernel=$(gk_find_kernel)
[ -n "$kernel" ] && [ -r "$kernel" ] || { echo "run.sh: no /boot/vmlinuz-*-cloud-amd64 (tests/linux/mkinitramfs.sh --install)" >&2; exit 2; }

initrd=$build/tests/linux/gk-initramfs.cpio.gz
if [ ! -s "$initrd" ]; then
    cmake --build "$build" --target linux_kit >&2 || "$top/tests/linux/mkinitramfs.sh" "$initrd" >&2
fi

qemu_arg=()
[ "$qemu" != none ] && qemu_arg=(--qemu "$qemu")
exec python3 "$here/bench.py" --kernel "$kernel" --initrd "$initrd" \
    --append "$GK_APPEND_BASE gk.work=0 ${BENCH_APPEND:-}" \
    --hvemu "$hvemu" "${qemu_arg[@]}" --smp "${SMP:-1,2}"
