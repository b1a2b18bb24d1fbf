#!/usr/bin/env bash
# Runs the benchmark guests and prints one JSON object on stdout:
#   for each guest (intloop, ptrchase, sse_matvec) and each -tlb-model (fast, exact):
#     guest instructions (hvemu -stats: totals.instructions), wall seconds, MIPS,
#     and host instructions per guest instruction under valgrind --tool=callgrind
#     (a shorter run, -max-insns $CG_INSNS);
#   the same kernels timed on qemu-system-x86_64 (TCG) when installed, and the
#   wall-time ratio hvemu/qemu.
# Usage: benchmarks/run.sh [BUILD_DIR]   (default: build)
# Environment: HVEMU (path to the binary), QEMU (path or "none"), CG_INSNS
# (default 20000000), NO_CALLGRIND=1, TLB_PRESET (default skylake),
# INTLOOP_ARGS / PTRCHASE_ARGS / SSE_ARGS (guest command line, e.g. "iters=5000000").
# "mips" at the end puts the SSE guest's MIPS beside the integer loop's (fast model).
# Progress goes to stderr.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd) || { echo "run.sh: no build directory $1" >&2; exit 2; }
hvemu=${HVEMU:-$build/frontend/hvemu}
qemu=${QEMU:-$(command -v qemu-system-x86_64 || echo none)}
cg_insns=${CG_INSNS:-20000000}
preset=${TLB_PRESET:-skylake}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A gargs=([intloop]="${INTLOOP_ARGS:-}" [ptrchase]="${PTRCHASE_ARGS:-}" [sse_matvec]="${SSE_ARGS:-}")
common=(-serial stdio -display none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -m 128)

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "null" }'; }
# totals.instructions from an hvemu -stats file
stats_insns() {
    awk '/"totals"/ { t = 1 } t && /"instructions"/ { gsub(/[^0-9]/, ""); print; exit }' "$1" 2>/dev/null
}
jstr() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

[ -x "$hvemu" ] || echo "run.sh: hvemu not found at $hvemu (set HVEMU=...)" >&2

out="{\n  \"preset\": $(jstr "$preset"),\n  \"callgrind_max_insns\": $cg_insns,\n  \"hvemu\": {"
first=1
for g in intloop ptrchase sse_matvec; do
    kernel=$build/benchmarks/bench_$g.elf
    [ -f "$kernel" ] || { echo "run.sh: $kernel missing (cmake --build $build --target benchmarks)" >&2; exit 2; }
    for m in fast exact; do
        entry="null"
        if [ -x "$hvemu" ]; then
            echo "run.sh: hvemu $g -tlb-model $m" >&2
            t0=$(now)
            "$hvemu" -kernel "$kernel" -append "${gargs[$g]}" "${common[@]}" -tlb "$preset" \
                -tlb-model "$m" -stats "$tmp/$g.$m.json" </dev/null >"$tmp/$g.$m.out" 2>&1
            st=$?
            t1=$(now)
            wall=$(fsub "$t1" "$t0")
            insns=$(stats_insns "$tmp/$g.$m.json")
            [ -n "$insns" ] || insns=null
            mips=$( [ "$insns" = null ] && echo null || fdiv "$insns" "$(awk -v w="$wall" 'BEGIN{print w*1e6}')")
            ticks=$(grep -o '[0-9.]* ticks per [a-z]*' "$tmp/$g.$m.out" | head -1)
            cg=null cg_guest=null
            if [ -z "${NO_CALLGRIND:-}" ] && command -v valgrind >/dev/null; then
                echo "run.sh: callgrind $g -tlb-model $m -max-insns $cg_insns" >&2
                valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$g.$m" \
                    "$hvemu" -kernel "$kernel" -append "${gargs[$g]}" "${common[@]}" -tlb "$preset" \
                    -tlb-model "$m" -max-insns "$cg_insns" -stats "$tmp/cg.$g.$m.json" \
                    </dev/null >"$tmp/cg.$g.$m.log" 2>&1
                ir=$(grep -E '^(summary|totals):' "$tmp/cg.$g.$m" 2>/dev/null | head -1 | awk '{print $2}')
                cg_guest=$(stats_insns "$tmp/cg.$g.$m.json")
                [ -n "$cg_guest" ] || cg_guest=null
                if [ -n "$ir" ] && [ "$cg_guest" != null ]; then cg=$(fdiv "$ir" "$cg_guest"); fi
            fi
            entry="{\"exit_status\": $st, \"guest_instructions\": $insns, \"wall_seconds\": $wall, \"mips\": $mips, \"guest_timing\": $(jstr "$ticks"), \"callgrind_guest_instructions\": $cg_guest, \"host_insns_per_guest_insn\": $cg}"
            eval "wall_${g}_$m=$wall"
            eval "mips_${g}_$m=$mips"
        fi
        [ $first = 1 ] || out+=","
        first=0
        out+="\n    \"$g.$m\": $entry"
    done
done
out+="\n  },\n  \"qemu\": "
if [ "$qemu" != none ] && [ -x "$qemu" ]; then
    out+="{"
    first=1
    for g in intloop ptrchase sse_matvec; do
        kernel=$build/benchmarks/bench_$g.elf
        echo "run.sh: qemu $g" >&2
        t0=$(now)
        "$qemu" -kernel "$kernel" -append "${gargs[$g]}" "${common[@]}" </dev/null >"$tmp/q.$g.out" 2>&1
        st=$?
        t1=$(now)
        wall=$(fsub "$t1" "$t0")
        ratio=null
        w=$(eval echo "\${wall_${g}_fast:-}")
        [ -n "$w" ] && ratio=$(fdiv "$w" "$wall")
        [ $first = 1 ] || out+=","
        first=0
        out+="\n    \"$g\": {\"exit_status\": $st, \"wall_seconds\": $wall, \"hvemu_fast_over_qemu_wall\": $ratio}"
    done
    out+="\n  }"
else
    out+="null"
fi
out+=",\n  \"mips\": {\"intloop.fast\": ${mips_intloop_fast:-null}, \"sse_matvec.fast\": ${mips_sse_matvec_fast:-null}}"
out+="\n}"
printf "%b\n" "$out"
