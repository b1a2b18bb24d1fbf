#!/usr/bin/env bash
# Boots Debian's kernel with the guest kit's initramfs and checks the run
# (ctest label `linux`; tests/linux/CMakeLists.txt registers the cases).
#
# usage: run_linux.sh [checks...] EMU BINARY KERNEL INITRD -- EMULATOR-ARGS...
#   EMU        hvemu or qemu (qemu: BINARY is qemu-system-x86_64, -accel tcg)
#   checks     --smp N            `cpus online: N` expected (and passed as -smp N)
#              --hyperv on|off    the Hyper-V dmesg lines must / must not appear
#              --ipi yes|no       with --hyperv on: the IPI-hypercall line too
#              --work W           gk.work=W (0, stress); "stress" must PASS
#              --rounds N         gk.rounds=N for the stress program
#              --stats KIND       hvemu -stats checked by check_linux_stats.py
#                                 (hvflush, ipiflush, lock)
#              --determinism      boot twice: serial logs and stats (outside
#                                 "host") must be byte-identical
# Always: exit status 0 (ACPI S5 power-off), "gk: ready", "gk: done", the
# workload's status 0, and none of WARNING:, Oops, BUG:, Kernel panic,
# Call Trace: in the log.  Every run is bounded: hvemu by -watchdog (virtual
# seconds, with a register dump), -max-cycles and -max-insns, QEMU by
# `timeout`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/defaults.sh"

smp=1 hyperv="" ipi="" work=0 rounds="" stats="" determinism=0
while [ $# -gt 0 ]; do
    case "$1" in
        --smp) smp=$2; shift 2 ;;
        --hyperv) hyperv=$2; shift 2 ;;
        --ipi) ipi=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --stats) stats=$2; shift 2 ;;
        --determinism) determinism=1; shift ;;
        *) break ;;
    esac
done
emu=${1:?EMU}; bin=${2:?BINARY}; kernel=${3:?KERNEL}; initrd=${4:?INITRD}; shift 4
[ "${1:-}" = -- ] && shift
extra=("$@")

fail() { echo "run_linux: FAILED: $*"; [ -n "${log:-}" ] && [ -f "$log" ] && { echo "--- last lines of the serial log:"; tail -n 40 "$log"; }; exit 1; }
[ -r "$kernel" ] || fail "kernel $kernel not readable"
[ -r "$initrd" ] || fail "initrd $initrd not readable"

append="$GK_APPEND_BASE gk.work=$work"
[ -n "$rounds" ] && append="$append gk.rounds=$rounds"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Guards: a boot to power-off is ~1 G guest instructions and a few virtual
# seconds (LINUX-GUEST.md); the stress workload adds some.  A hang ends at
# whichever bound comes first.
MAX_INSNS=${GK_MAX_INSNS:-12G}
MAX_VSECONDS=${GK_MAX_VSECONDS:-120}
QEMU_TIMEOUT=${GK_QEMU_TIMEOUT:-300}

# run NAME: boots once; serial log in $tmp/NAME.log, stats in $tmp/NAME.json.
run() {
    local name=$1 rc
    log=$tmp/$name.log
    if [ "$emu" = qemu ]; then
        timeout "$QEMU_TIMEOUT" "$bin" -M pc -accel tcg -m 512 -smp "$smp" -kernel "$kernel" \
            -initrd "$initrd" -append "$append" -display none -serial "file:$log" \
            -monitor none -no-reboot "${extra[@]}" </dev/null
        rc=$?
    else
        local guard=(-max-insns "$MAX_INSNS" -max-cycles "$((MAX_VSECONDS * 3000000000))")
        guard+=(-watchdog "$MAX_VSECONDS")
        "$bin" -kernel "$kernel" -initrd "$initrd" -append "$append" -m 512M -smp "$smp" \
            -serial "file:$log" -display none -no-reboot -stats "$tmp/$name.json" \
            "${guard[@]}" "${extra[@]}" </dev/null
        rc=$?
    fi
    [ "$rc" = 0 ] || fail "$emu exited with status $rc (0 = ACPI power-off; 4 = -max-insns/-max-cycles reached; 8 = -watchdog expired)"
    check_log "$log"
}

check_log() {
    # The console ends lines with CR LF: check a copy without the CRs.
    local l=$1.txt
    tr -d '\r' < "$1" > "$l"
    grep -q '^gk: ready' "$l" || fail "no ready marker 'gk: ready'"
    local want="cpus online: $smp "
    grep -q "^$want" "$l" || fail "expected '$want...', got '$(grep '^cpus online' "$l")'"
    grep -q "^gk: work $work status 0\$" "$l" || fail "workload $work did not end with status 0: $(grep '^gk: work' "$l")"
    grep -q '^gk: done' "$l" || fail "no done marker 'gk: done'"
    local bad
    bad=$(grep -n -E 'WARNING:|Oops|BUG:|Kernel panic|Call Trace:' "$l" | head -5)
    [ -z "$bad" ] || fail "kernel trouble in the log: $bad"
    case "$hyperv" in
        on)
            grep -q 'Hypervisor detected: Microsoft Hyper-V' "$l" || fail "no 'Hypervisor detected: Microsoft Hyper-V'"
            grep -q 'Hyper-V: Using hypercall for remote TLB flush' "$l" || fail "no 'Hyper-V: Using hypercall for remote TLB flush'"
            if [ "$ipi" = yes ]; then
                grep -q 'Hyper-V: Using IPI hypercalls' "$l" || fail "no 'Hyper-V: Using IPI hypercalls'"
            elif [ "$ipi" = no ]; then
                ! grep -q 'Hyper-V: Using IPI hypercalls' "$l" || fail "'Using IPI hypercalls' with ipi=off"
            fi ;;
        off)
            ! grep -q 'Hypervisor detected' "$l" || fail "a hypervisor was detected with the interface off: $(grep 'Hypervisor detected' "$l")"
            ! grep -q 'Hyper-V: Using hypercall for remote TLB flush' "$l" || fail "remote-flush hypercalls with the interface off" ;;
    esac
    if [ "$work" = stress ]; then
        grep -q '^tlbstress: PASS' "$l" || fail "tlbstress did not pass: $(grep '^tlbstress' "$l" | tail -n 2)"
    fi
}

run a
echo "run_linux: $emu -smp $smp${hyperv:+ hyperv=$hyperv} work=$work: $(grep -E '^(cpus online|tlbstress:)' "$tmp/a.log.txt" | tr -d '\r' | tr '\n' ';')"

if [ -n "$stats" ]; then
    [ "$emu" = hvemu ] || fail "--stats needs hvemu"
    [ -s "$tmp/a.json" ] || fail "-stats file not written"
    python3 "$here/check_linux_stats.py" "$stats" "$tmp/a.json" || fail "stats check '$stats'"
fi

if [ "$determinism" = 1 ]; then
    run b
    cmp -s "$tmp/a.log" "$tmp/b.log" || { diff "$tmp/a.log" "$tmp/b.log" | head -20; fail "serial logs differ between two identical boots"; }
    if [ "$emu" = hvemu ]; then
        # Everything but the "host" section (wall time, host MIPS) must match.
        for r in a b; do python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d.pop("host", None)
print(json.dumps(d, indent=1, sort_keys=True))' "$tmp/$r.json" > "$tmp/$r.det" || fail "stats $r unreadable"; done
        cmp -s "$tmp/a.det" "$tmp/b.det" || { diff "$tmp/a.det" "$tmp/b.det" | head -20; fail "stats differ between two identical boots"; }
    fi
    what="serial logs"; [ "$emu" = hvemu ] && what="serial logs and stats"
    echo "run_linux: two boots gave byte-identical $what"
fi
echo "run_linux: passed"
