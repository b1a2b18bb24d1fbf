#!/usr/bin/env bash
# The machine-level requests of the PC platform (hv/platform.h) end to end, on
# tiny multiboot kernels (a.out-kludge headers, written here with printf):
#   ACPI S5 through PM1a_CNT       -> status 0, "ACPI power-off" on stderr
#   reset via 0xCF9 / i8042 0xFE   -> status 0 with -no-reboot, 6 without
#   -watchdog on a spinning guest  -> status 8, a register dump of every VP
#   -rtc / -watchdog bad values    -> status 2, one line
# usage: platform.sh HVEMU SCRATCH_DIR
set -u
hvemu=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
fails=0
check() {
    local what=$1; shift
    if "$@"; then echo "ok:   $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}

# kernel NAME HEX-CODE: header at 1 MiB, code right after it (entry 0x100020, 32-bit).
kernel() {
    local magic=1BADB002 flags=00010000
    le() { printf '%08x' "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\\x\4\\x\3\\x\2\\x\1/'; }
    local sum=$(( (0x100000000 - 0x1BADB002 - 0x00010000) & 0xFFFFFFFF ))
    printf "$(le 0x$magic)$(le 0x$flags)$(le $sum)$(le 0x100000)$(le 0x100000)$(le 0)$(le 0)$(le 0x100020)$2" >"$1"
}
kernel s5.bin    '\x66\xba\x04\x06\x66\xb8\x00\x20\x66\xef\xeb\xfe'   # outw 0x2000 -> 0x604
kernel cf9.bin   '\x66\xba\xf9\x0c\xb0\x06\xee\xeb\xfe'               # outb 6 -> 0xCF9
kernel kbc.bin   '\xb0\xfe\xe6\x64\xeb\xfe'                           # outb 0xFE -> 0x64
kernel spin.bin  '\xeb\xfe'                                           # jmp $

"$hvemu" -kernel s5.bin -display none >out.txt 2>err.txt; rc=$?
check "ACPI S5: status 0 (got $rc)" [ "$rc" = 0 ]
check "ACPI S5: one line 'ACPI power-off'" [ "$(cat err.txt)" = "hvemu: ACPI power-off" ]

"$hvemu" -kernel cf9.bin -display none -no-reboot >out.txt 2>err.txt; rc=$?
check "0xCF9 reset with -no-reboot: status 0 (got $rc)" [ "$rc" = 0 ]
check "0xCF9 reset: the line names the port" grep -q '0xCF9' err.txt
"$hvemu" -kernel cf9.bin -display none >out.txt 2>err.txt; rc=$?
check "0xCF9 reset without -no-reboot: status 6 (got $rc)" [ "$rc" = 6 ]
"$hvemu" -kernel kbc.bin -display none -no-reboot >out.txt 2>err.txt; rc=$?
check "i8042 0xFE pulse with -no-reboot: status 0 (got $rc)" [ "$rc" = 0 ]
check "i8042 reset: the line names the i8042" grep -q 'i8042' err.txt

# 1 s of virtual time at 1 MHz: a million cycles.
"$hvemu" -kernel spin.bin -display none -cpu-freq 1000000 -smp 2 -watchdog 1 >out.txt 2>err.txt; rc=$?
check "-watchdog: status 8 (got $rc)" [ "$rc" = 8 ]
check "-watchdog: the reason line" grep -q '^hvemu: watchdog: .* 1 s of virtual time' err.txt
check "-watchdog: a register dump of both VPs" [ "$(grep -c '^RIP=' err.txt)" = 2 ]

for bad in "-rtc base=2026-02-29" "-rtc tomorrow" "-watchdog 0" "-watchdog x"; do
    # shellcheck disable=SC2086
    "$hvemu" -kernel s5.bin -display none $bad >out.txt 2>err.txt; rc=$?
    check "$bad: status 2 and one line (got $rc)" [ "$rc" = 2 -a "$(wc -l <err.txt)" = 1 ]
done
"$hvemu" -kernel s5.bin -display none -rtc base=2030-06-01T10:00:00 >out.txt 2>err.txt; rc=$?
check "-rtc base=DATE accepted (got $rc)" [ "$rc" = 0 ]

[ "$fails" = 0 ] && echo "platform: all passed" || echo "platform: $fails failed"
exit $(( fails != 0 ))
