#!/usr/bin/env bash
# Runs one freestanding guest kernel and checks how it ended.
#   run_guest.sh hvemu|qemu EMULATOR pass|triple-fault KERNEL [extra emulator args...]
# pass:         exit status 33 (the guest wrote 0x10 to isa-debug-exit at 0xf4)
#               and a line "PASS: <name>" on the serial console, no "FAIL:" line.
# poweroff:     exit status 0 (ACPI S5 through PM1a_CNT) after a "PASS: <name>" line.
# triple-fault: the guest printed "TRIPLE-FAULT-NEXT" and then
#               hvemu: stopped with a non-zero status that is not one of the
#                      guest's debug-exit codes (33/35/37) and printed a register
#                      dump (a line mentioning RIP);
#               qemu:  with -no-reboot QEMU treats the triple fault as a reset
#                      request and exits with status 0.
set -u
kind=$1 emu=$2 expect=$3 kernel=$4
shift 4
timeout_s=${GUEST_TIMEOUT:-120}

if [ ! -x "$emu" ]; then
    echo "run_guest: emulator '$emu' not built" >&2
    exit 1
fi
if [ ! -f "$kernel" ]; then
    echo "run_guest: kernel '$kernel' missing" >&2
    exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
args=(-kernel "$kernel" -serial stdio -display none -no-reboot
      -device isa-debug-exit,iobase=0xf4,iosize=4 -m 128)
stats=()
if [ "$expect" = determinism ]; then
    stats=(-stats "$out.s1.json")
    trap 'rm -f "$out" "$out".*' EXIT
fi
echo "+ $emu ${args[*]} ${stats[*]} $*"
timeout "$timeout_s" "$emu" "${args[@]}" "${stats[@]}" "$@" </dev/null >"$out" 2>&1
status=$?
cat "$out"
echo "run_guest: exit status $status"
if [ $status -eq 124 ]; then
    echo "run_guest: FAILED: timed out after ${timeout_s}s"
    exit 1
fi

case $expect in
poweroff)
    # The guest printed its PASS line and then powered off through ACPI S5: status 0.
    if [ $status -ne 0 ] || ! grep -q '^PASS: ' "$out" || grep -q '^FAIL' "$out"; then
        echo "run_guest: FAILED: expected a PASS line and an ACPI power-off (status 0), got status $status"
        exit 1
    fi
    ;;
pass|determinism)
    if [ $status -ne 33 ]; then
        case $status in
        35) why="the guest reported failures (exit code 0x11)";;
        37) why="unexpected exception in the guest (exit code 0x12)";;
        *)  why="status $status is not the guest's PASS code 33";;
        esac
        echo "run_guest: FAILED: $why"
        exit 1
    fi
    if ! grep -q '^PASS: ' "$out"; then
        echo "run_guest: FAILED: status 33 but no PASS line"
        exit 1
    fi
    if grep -q '^FAIL' "$out"; then
        echo "run_guest: FAILED: a FAIL line was printed"
        exit 1
    fi
    if [ "$expect" = determinism ]; then
        echo "run_guest: second run for determinism"
        timeout "$timeout_s" "$emu" "${args[@]}" -stats "$out.s2.json" "$@" </dev/null >"$out.2" 2>&1
        status2=$?
        [ $status2 -eq $status ] || { echo "run_guest: FAILED: second run status $status2 != $status"; exit 1; }
        if ! cmp -s "$out" "$out.2"; then
            echo "run_guest: FAILED: serial output differs between two runs"
            diff "$out" "$out.2" | head -20
            exit 1
        fi
        for f in "$out.s1.json" "$out.s2.json"; do
            [ -s "$f" ] || { echo "run_guest: FAILED: -stats file $f not written"; exit 1; }
            sed '/"host"/,$d' "$f" >"$f.det"
        done
        if ! cmp -s "$out.s1.json.det" "$out.s2.json.det"; then
            echo "run_guest: FAILED: -stats differ between two runs"
            diff "$out.s1.json.det" "$out.s2.json.det" | head -20
            exit 1
        fi
        echo "run_guest: two runs byte-identical (serial output and stats)"
        if command -v python3 >/dev/null; then
            python3 - "$out.s1.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
bad = 0
def kinds(t, key):
    v = t.get(key)
    return v if isinstance(v, dict) else None
for vp in d.get("vps", []):
    t = vp.get("tlb", {})
    acc, h, m, s, w = (kinds(t, k) for k in ("accesses", "l1_hits", "l1_misses", "stlb_hits", "walks"))
    if None in (acc, h, m, s, w):
        print("run_guest: conservation: counters missing in the stats of VP", vp.get("vp"))
        bad += 1
        continue
    for k in acc:
        if acc[k] != h.get(k, 0) + m.get(k, 0):
            print(f"run_guest: conservation: VP {vp.get('vp')} {k}: accesses {acc[k]} != l1_hits {h.get(k)} + l1_misses {m.get(k)}")
            bad += 1
        if m.get(k, 0) != s.get(k, 0) + w.get(k, 0):
            print(f"run_guest: conservation: VP {vp.get('vp')} {k}: l1_misses {m.get(k)} != stlb_hits {s.get(k)} + walks {w.get(k)}")
            bad += 1
if bad:
    print("run_guest: FAILED: counters not conserved")
    sys.exit(1)
print("run_guest: counters conserved")
PY
        else
            echo "run_guest: note: python3 not installed, conservation of counters not checked"
        fi
    fi
    ;;
triple-fault)
    if ! grep -q 'TRIPLE-FAULT-NEXT' "$out"; then
        echo "run_guest: FAILED: the guest did not reach the triple fault"
        exit 1
    fi
    if grep -q '^PASS: \|^FAIL: ' "$out"; then
        echo "run_guest: FAILED: the guest kept running after the triple fault"
        exit 1
    fi
    if [ "$kind" = qemu ]; then
        [ $status -eq 0 ] || { echo "run_guest: FAILED: QEMU status $status, expected 0"; exit 1; }
    else
        case $status in
        0|33|35|37) echo "run_guest: FAILED: status $status, expected a triple-fault stop"; exit 1;;
        esac
        if ! grep -qi 'rip' "$out"; then
            echo "run_guest: FAILED: no register dump (no line mentioning RIP)"
            exit 1
        fi
        if ! grep -qi 'triple' "$out"; then
            echo "run_guest: FAILED: the stop reason does not mention a triple fault"
            exit 1
        fi
    fi
    ;;
*)
    echo "run_guest: unknown expectation '$expect'" >&2
    exit 2
    ;;
esac
echo "run_guest: ok"
exit 0
