#!/usr/bin/env bash
# Runs one freestanding guest kernel and checks how it ended.
#   run_guest.sh hvemu|qemu EMULATOR pass|triple-fault KERNEL [extra emulator args...]
# pass:         exit status 33 (the guest wrote 0x10 to isa-debug-exit at 0xf4)
#               and a line "PASS: <name>" on the serial console, no "FAIL:" line.
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
echo "+ $emu ${args[*]} $*"
timeout "$timeout_s" "$emu" "${args[@]}" "$@" </dev/null >"$out" 2>&1
status=$?
cat "$out"
echo "run_guest: exit status $status"
if [ $status -eq 124 ]; then
    echo "run_guest: FAILED: timed out after ${timeout_s}s"
    exit 1
fi

case $expect in
pass)
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
