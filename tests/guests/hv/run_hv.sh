#!/usr/bin/env bash
# Runs one Hyper-V guest kernel under hvemu and checks the result.
#   run_hv.sh MODE HVEMU KERNEL [hvemu args...]
# MODE
#   pass         the guest's own verdict (tests/guests/run_guest.sh: exit status
#                33 and a PASS line, no FAIL line).
#   stats        pass, and then the -stats JSON must agree with the STAT and
#                HVSTAT claims the guest printed (check_gran_stats.py: TLB
#                invalidations per cause, over-flushes, under_flushes = 0, the
#                "hyperv" section's counters).
#   determinism  pass twice with -stats (and -trace when hvemu has it): serial
#                output, stats (outside "host") and traces byte-identical; then,
#                if hvemu-trace is built, `hvemu-trace replay` must reproduce
#                the live counts.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=$1 emu=$2 kernel=$3
shift 3
timeout_s=${GUEST_TIMEOUT:-240}

[ -x "$emu" ] || { echo "run_hv: emulator '$emu' not built" >&2; exit 1; }
[ -f "$kernel" ] || { echo "run_hv: kernel '$kernel' missing" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
base=(-kernel "$kernel" -serial stdio -display none -no-reboot
      -device isa-debug-exit,iobase=0xf4,iosize=4)

# run NAME [extra args]: runs hvemu, output in $tmp/NAME.out, status in $tmp/NAME.st
run() {
    local name=$1
    shift
    echo "+ $emu ${base[*]} $*"
    timeout "$timeout_s" "$emu" "${base[@]}" "$@" </dev/null >"$tmp/$name.out" 2>&1
    echo $? >"$tmp/$name.st"
}

# verdict NAME: the pass rules of run_guest.sh
verdict() {
    local name=$1 st
    st=$(cat "$tmp/$name.st")
    cat "$tmp/$name.out"
    echo "run_hv: [$name] exit status $st"
    case $st in
    33) ;;
    124) echo "run_hv: FAILED: [$name] timed out after ${timeout_s}s"; return 1;;
    35) echo "run_hv: FAILED: [$name] the guest reported failures"; return 1;;
    37) echo "run_hv: FAILED: [$name] unexpected exception in the guest"; return 1;;
    *)  echo "run_hv: FAILED: [$name] status $st is not the guest's PASS code 33"; return 1;;
    esac
    grep -q '^PASS: ' "$tmp/$name.out" || { echo "run_hv: FAILED: [$name] no PASS line"; return 1; }
    if grep -q '^FAIL' "$tmp/$name.out"; then echo "run_hv: FAILED: [$name] a FAIL line"; return 1; fi
    return 0
}

# Is an option in hvemu's --help?
has_opt() { "$emu" --help 2>&1 | grep -qE -- "^ +$1( |\$)"; }

case $mode in
pass)
    run a "$@"
    verdict a || exit 1
    ;;
stats)
    run a -stats "$tmp/s.json" "$@"
    verdict a || exit 1
    [ -s "$tmp/s.json" ] || { echo "run_hv: FAILED: -stats file not written"; exit 1; }
    python3 "$here/check_gran_stats.py" "$tmp/s.json" "$tmp/a.out" || exit 1
    ;;
determinism)
    tr=()
    # replay needs every lookup of an exact-mode run (hvemu-trace replay; trace/replay.h)
    if has_opt '-trace'; then tr=(-trace "$tmp/t1.trc" -trace-filter hits=all -tlb-model exact); else echo "run_hv: note: hvemu has no -trace yet; comparing serial output and stats only"; fi
    run a -stats "$tmp/s1.json" "${tr[@]}" "$@"
    verdict a || exit 1
    [ ${#tr[@]} -gt 0 ] && tr=(-trace "$tmp/t2.trc" -trace-filter hits=all -tlb-model exact)
    run b -stats "$tmp/s2.json" "${tr[@]}" "$@"
    verdict b >/dev/null || { cat "$tmp/b.out"; echo "run_hv: FAILED: second run"; exit 1; }
    cmp -s "$tmp/a.out" "$tmp/b.out" || { echo "run_hv: FAILED: serial output differs"; diff "$tmp/a.out" "$tmp/b.out" | head -20; exit 1; }
    for f in s1 s2; do sed '/"host"/,$d' "$tmp/$f.json" >"$tmp/$f.det"; done
    cmp -s "$tmp/s1.det" "$tmp/s2.det" || { echo "run_hv: FAILED: -stats differ"; diff "$tmp/s1.det" "$tmp/s2.det" | head -20; exit 1; }
    echo "run_hv: serial output and stats byte-identical across two runs"
    if [ ${#tr[@]} -gt 0 ]; then
        cmp -s "$tmp/t1.trc" "$tmp/t2.trc" || { echo "run_hv: FAILED: traces differ"; exit 1; }
        echo "run_hv: traces byte-identical ($(stat -c %s "$tmp/t1.trc") bytes)"
        tool=${HVEMU_TRACE:-$(dirname "$emu")/../tools/hvemu-trace/hvemu-trace}
        if [ -x "$tool" ]; then
            "$tool" replay "$tmp/t1.trc" >"$tmp/replay.out" 2>&1
            st=$?
            cat "$tmp/replay.out"
            [ $st -eq 0 ] || { echo "run_hv: FAILED: hvemu-trace replay status $st"; exit 1; }
            echo "run_hv: hvemu-trace replay reproduces the live counts"
        else
            echo "run_hv: FAILED: hvemu-trace not found at $tool"; exit 1
        fi
    fi
    ;;
*)
    echo "run_hv: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
echo "run_hv: ok"
exit 0
