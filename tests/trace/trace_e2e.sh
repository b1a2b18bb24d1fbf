#!/usr/bin/env bash
# End-to-end checks of hvemu -trace (TLB-MODEL.md A-7, issue 3):
#   1. two runs of a guest with -trace give byte-identical trace files;
#   2. hvemu-trace replay reproduces the live counts (-tlb-model exact, hits=all),
#      for the LRU preset (skylake) and the tree-PLRU preset (goldencove);
#   3. hvemu-trace stats --json is valid JSON whose live counts agree with -stats;
#   4. a run stopped by -max-insns, and a guest that triple-faults, still leave a
#      complete trace (FILE, not FILE.tmp, with its summary) that replays;
#   5. -trace-filter restricts the records but not the live counts;
#   6. a bad -trace-filter (or one without -trace) is one line on stderr, exit 2,
#      and no trace file.
#   trace_e2e.sh HVEMU HVEMU_TRACE GUEST_DIR WORK_DIR
set -u
hvemu=$1 tool=$2 gdir=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
fails=0
fail() { echo "trace_e2e: FAILED: $*"; fails=$((fails + 1)); }
ok() { echo "trace_e2e: ok: $*"; }

base=(-serial none -display none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -m 128
      -append strict-tlb)
stale=$gdir/guest_stale_tlb.elf
triple=$gdir/guest_triple_fault.elf
for k in "$stale" "$triple"; do
    [ -f "$k" ] || { echo "trace_e2e: guest kernel $k not built"; exit 1; }
done

run() {     # run STATUS_EXPECTED args...
    local want=$1
    shift
    "$hvemu" "$@" </dev/null >"$work/out" 2>"$work/err"
    local st=$?
    if [ "$st" -ne "$want" ]; then
        fail "hvemu $* exited $st, expected $want: $(head -3 "$work/err")"
        return 1
    fi
    return 0
}

# 1 + 2: determinism and replay, two presets.
for preset in skylake goldencove; do
    t1=$work/$preset.1.trace t2=$work/$preset.2.trace
    run 33 -kernel "$stale" "${base[@]}" -tlb "$preset" -tlb-model exact -trace "$t1" -trace-filter hits=all \
        -stats "$work/$preset.stats.json" || continue
    run 33 -kernel "$stale" "${base[@]}" -tlb "$preset" -tlb-model exact -trace "$t2" -trace-filter hits=all || continue
    [ -s "$t1" ] && [ ! -e "$t1.tmp" ] || fail "$preset: $t1 missing or left as .tmp"
    if cmp -s "$t1" "$t2"; then ok "$preset: two traces byte-identical ($(stat -c %s "$t1") bytes)"
    else fail "$preset: the two traces differ"; fi
    if "$tool" replay "$t1" >"$work/replay.out" 2>&1; then ok "$preset: $(tail -1 "$work/replay.out")"
    else fail "$preset: replay: $(cat "$work/replay.out")"; fi
done

# 3: stats --json parses, and its live counts are the -stats counters.
if "$tool" stats "$work/skylake.1.trace" --json >"$work/stats.json" 2>"$work/err"; then
    python3 - "$work/stats.json" "$work/skylake.stats.json" <<'PY' && ok "stats --json parses and agrees with -stats" || fail "stats --json"
import json, sys
t = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
def find_counts(obj):
    """the first dict mapping event names to live counts"""
    if isinstance(obj, dict):
        if "fill" in obj and "miss" in obj:
            return obj
        for v in obj.values():
            r = find_counts(v)
            if r is not None:
                return r
    if isinstance(obj, list):
        for v in obj:
            r = find_counts(v)
            if r is not None:
                return r
    return None
c = find_counts(t)
assert c is not None, "no event counts in the JSON"
def val(x):
    return x["seen"] if isinstance(x, dict) and "seen" in x else x
tlb = s["vps"][0]["tlb"]
want = {"fill": tlb["fills"], "miss": sum(tlb["walks"].values()),
        "stlb_hit": sum(tlb["stlb_hits"].values()), "l1_hit": sum(tlb["l1_hits"].values())}
for k, v in want.items():
    got = val(c.get(k, 0))
    if got != v:
        print(f"stats --json {k} = {got}, -stats says {v}")
        sys.exit(1)
PY
else
    fail "hvemu-trace stats --json: $(cat "$work/err")"
fi

# 4: abrupt stops leave a complete trace.
tl=$work/limit.trace
if run 4 -kernel "$stale" "${base[@]}" -tlb-model exact -max-insns 20000 -trace "$tl" -trace-filter hits=all; then
    if [ -s "$tl" ] && [ ! -e "$tl.tmp" ] && "$tool" replay "$tl" >"$work/replay.out" 2>&1; then
        ok "-max-insns: complete trace, $(tail -1 "$work/replay.out")"
    else
        fail "-max-insns: trace incomplete or replay failed: $(tail -3 "$work/replay.out")"
    fi
fi
tt=$work/triple.trace
"$hvemu" -kernel "$triple" "${base[@]}" -tlb-model exact -trace "$tt" -trace-filter hits=all </dev/null >"$work/out" 2>&1
st=$?
if [ $st -eq 3 ] && [ -s "$tt" ] && [ ! -e "$tt.tmp" ] && "$tool" replay "$tt" >"$work/replay.out" 2>&1; then
    ok "triple fault (status 3): complete trace, $(tail -1 "$work/replay.out")"
else
    fail "triple fault: status $st, trace: $(ls -la "$tt"* 2>&1 | head -2), $(tail -2 "$work/replay.out" 2>/dev/null)"
fi

# 5: a filter keeps only what it names; the summary still has every live count.
tf=$work/filtered.trace
if run 33 -kernel "$stale" "${base[@]}" -tlb-model exact -trace "$tf" -trace-filter "vp=0,events=fill:invlpg"; then
    types=$("$tool" csv "$tf" | tail -n +2 | cut -d, -f3 | sort -u | tr '\n' ' ')
    "$tool" dump "$tf" >"$work/dump.out" 2>&1
    if grep -qv -e ' fill ' -e ' invlpg ' "$work/dump.out"; then
        other=$(grep -v -e ' fill ' -e ' invlpg ' "$work/dump.out" | head -2)
    else
        other=""
    fi
    "$tool" stats "$tf" >"$work/fstats.out" 2>&1
    if [ -z "$other" ] && grep -q '^miss ' "$work/fstats.out" && grep -q '^fill ' "$work/fstats.out"; then
        ok "events=fill:invlpg logs only those (csv types: $types); the summary still counts misses"
    else
        fail "filter: other records: '$other'; stats: $(head -12 "$work/fstats.out")"
    fi
    if "$tool" replay "$tf" >/dev/null 2>&1; then fail "replay accepted a filtered trace"; fi
fi

# 6: bad filters.
for spec in "vp=x" "events=nosuch" "hits=0" "va=9-1" "colour=red"; do
    tb=$work/bad.trace
    "$hvemu" -kernel "$stale" "${base[@]}" -trace "$tb" -trace-filter "$spec" </dev/null >"$work/out" 2>"$work/err"
    st=$?
    lines=$(wc -l <"$work/err")
    if [ $st -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -e "$tb" ] && [ ! -e "$tb.tmp" ]; then
        ok "-trace-filter $spec: exit 2, '$(cat "$work/err")'"
    else
        fail "-trace-filter $spec: status $st, $lines lines on stderr, files: $(ls "$tb"* 2>/dev/null)"
    fi
done
"$hvemu" -kernel "$stale" "${base[@]}" -trace "$work/no/such/dir/x.trace" </dev/null >"$work/out" 2>"$work/err"
st=$?
[ $st -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ok "-trace into a missing directory: exit 2, '$(cat "$work/err")'" \
    || fail "-trace into a missing directory: status $st"
"$hvemu" -kernel "$stale" "${base[@]}" -trace-filter hits=all </dev/null >"$work/out" 2>"$work/err"
st=$?
[ $st -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ok "-trace-filter without -trace: exit 2" \
    || fail "-trace-filter without -trace: status $st"

if [ $fails -ne 0 ]; then
    echo "trace_e2e: $fails check(s) FAILED"
    exit 1
fi
echo "trace_e2e: all checks passed"
