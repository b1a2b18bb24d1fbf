#!/usr/bin/env bash
# Install the Debian packages hvemu builds and tests with (idempotent).
set -euo pipefail
need=()
for p in build-essential cmake pkg-config check zlib1g-dev libcapstone-dev qemu-system-x86 valgrind \
         linux-image-cloud-amd64 busybox-static cpio python3; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
