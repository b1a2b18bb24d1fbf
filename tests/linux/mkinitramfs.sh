#!/usr/bin/env bash
# The guest kit: a reproducible busybox initramfs for Debian's stock kernel.
#
# usage: mkinitramfs.sh [--install] OUT.cpio.gz [TLBSTRESS]
#   --install   first install linux-image-cloud-amd64, busybox-static and cpio
#               with apt when missing (needs root or sudo)
#   TLBSTRESS   a static tlbstress binary; without it, tests/linux/tlbstress.c
#               is compiled here with the host gcc (-static, glibc's libc.a)
#
# The archive is byte-for-byte reproducible from the same inputs: every file
# has mtime 0 (or $SOURCE_DATE_EPOCH), owner 0:0 and fixed permissions, entries
# are in sorted order with inode numbers assigned by `cpio --reproducible`, and
# gzip -n stores no name or time.  The last line printed is the sha256.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

install=0
if [ "${1:-}" = --install ]; then install=1; shift; fi
out=${1:?usage: mkinitramfs.sh [--install] OUT.cpio.gz [TLBSTRESS]}
stress_bin=${2:-}

if [ "$install" = 1 ]; then
    need=()
    for p in linux-image-cloud-amd64 busybox-static cpio; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
        echo "mkinitramfs: installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
fi

busybox=""
for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && file -b "$b" 2>/dev/null | grep -q 'statically linked'; then busybox=$b; break; fi
    # `file` may be missing: busybox-static's binary has no PT_INTERP.
    if [ -x "$b" ] && ! readelf -l "$b" 2>/dev/null | grep -q INTERP; then busybox=$b; break; fi
done
[ -n "$busybox" ] || { echo "mkinitramfs: no static busybox (apt-get install busybox-static, or run with --install)" >&2; exit 2; }
command -v cpio >/dev/null || { echo "mkinitramfs: no cpio (apt-get install cpio, or run with --install)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}

if [ -z "$stress_bin" ]; then
    stress_bin=$tmp/tlbstress
    ${CC:-gcc} -std=gnu17 -O2 -Wall -Wextra -static -pthread -o "$stress_bin" "$here/tlbstress.c"
fi
install -m 0755 "$busybox" "$root/bin/busybox"
install -m 0755 "$stress_bin" "$root/bin/tlbstress"
install -m 0755 "$here/init.sh" "$root/init"
# Every applet as a symlink, made here rather than by `busybox --install` at
# boot: the archive lists them, and the guest does not spend time on it.
for applet in $("$busybox" --list-full); do
    case "$applet" in
        */*) dir=${applet%/*} ;;
        *) dir=bin ;;
    esac
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$root/$dir"
    rel=$(realpath -m --relative-to="$root/$dir" "$root/bin/busybox")
    ln -sf "$rel" "$root/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"
# The shell of gk.work=shell: a prompt that says where it runs.
printf 'export PS1="hvemu-guest:\\w# "\n' > "$root/etc/profile"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/profile"
chmod 0755 "$root"/{bin,sbin,usr,usr/bin,usr/sbin,proc,sys,dev,root,etc}
chmod 1777 "$root/tmp"

# The initial console: the kernel opens /dev/console before running /init.
# Creating the node needs root; without it /init takes the console from
# devtmpfs instead (and the kernel prints "unable to open an initial console").
if [ "$(id -u)" = 0 ]; then
    mknod -m 0600 "$root/dev/console" c 5 1
else
    echo "mkinitramfs: not root: no /dev/console node in the archive" >&2
fi

epoch=${SOURCE_DATE_EPOCH:-0}
find "$root" -exec touch -h -d "@$epoch" {} +
mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --quiet -o -0 -H newc --reproducible -R 0:0) | gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
sha256sum "$out" | cut -d' ' -f1
