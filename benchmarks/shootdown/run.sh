#!/usr/bin/env bash
# TLB shootdown scaling (TLB-MODEL.md B-(c) 4): runs bench_shootdown.elf under
# hvemu for k = 1, 2, 4, ..., 64 target VPs (-smp k+1) with the flush hypercall
# and with IPI + INVLPG, and prints one JSON object on stdout:
#   results[mode][k] = { stall_avg, stall_min, stall_max  (initiator cycles per
#                        shootdown, RDTSC in the guest),
#                        stall_per_target (stall_avg / k),
#                        target_cycles    (cycles each target lost per shootdown,
#                                          measured in the guest),
#                        refill_walks_per_target (page walks of each target VP
#                                          over the whole run / REPS, from -stats:
#                                          the refill after each shootdown plus
#                                          the warm-up),
#                        exit_status }
#   per_target[mode] = { initiator_slope: (stall_avg(k_max) - stall_avg(k_min)) /
#                        (k_max - k_min), the initiator's marginal cycles per
#                        extra target; target_cycles: mean over k of the cycles
#                        each target loses; total: the sum of the two }
#   pages_sweep[mode][N] = the same fields for k = PAGES_K (default 4) targets and
#                        N pages unmapped at once (PAGES, default "1 8 33 34 64"):
#                        above 33 pages both paths become full flushes and the
#                        targets' refill walks jump (TLB-MODEL B-(c) 4).
#   checks: stall grows with k (per mode); the hypercall path costs less per
#   target than the IPI path (per_target total; the initiator-only and the
#   target-only comparisons are reported as well, not required).
# Usage: benchmarks/shootdown/run.sh [BUILD_DIR]   (default: build)
# Environment: HVEMU (binary), KS (default "1 2 4 8 16 32 64"), PAGES, PAGES_K, HYPERV_ARGS
# (default "-hyperv on").  Exit status 0 when every run worked and every check
# holds, 1 otherwise (the JSON is printed either way).  Progress goes to stderr.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
build=$(cd "$build" && pwd) || { echo "run.sh: no build directory $1" >&2; exit 2; }
hvemu=${HVEMU:-$build/frontend/hvemu}
kernel=$build/benchmarks/bench_shootdown.elf
ks=${KS:-1 2 4 8 16 32 64}
pages_list=${PAGES:-1 8 33 34 64}
pages_k=${PAGES_K:-4}
hvargs=${HYPERV_ARGS:--hyperv on}
[ -x "$hvemu" ] || { echo "run.sh: hvemu not found at $hvemu" >&2; exit 2; }
[ -f "$kernel" ] || { echo "run.sh: $kernel missing (cmake --build $build --target benchmarks)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one NAME K PAGES MODE
one() {
    echo "run.sh: k=$2 pages=$3 mode=$4" >&2
    # shellcheck disable=SC2086
    timeout 600 "$hvemu" -kernel "$kernel" -serial stdio -display none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=4 -m 256 -smp $(($2 + 1)) $hvargs \
        -stats "$tmp/$1.json" -append "k=$2 mode=$4 pages=$3" </dev/null >"$tmp/$1.out" 2>&1
    echo $? >"$tmp/$1.st"
}
for mode in hypercall ipi; do
    for k in $ks; do one "$mode.$k" "$k" 1 "$mode"; done
    for p in $pages_list; do one "pages.$mode.$p" "$pages_k" "$p" "$mode"; done
done

python3 - "$tmp" "$ks" "$pages_list" "$pages_k" <<'PY'
import json, os, re, sys
tmp, ks = sys.argv[1], [int(x) for x in sys.argv[2].split()]
plist, pk = [int(x) for x in sys.argv[3].split()], int(sys.argv[4])
ok = True

def entry(name, k):
    global ok
    st = int(open(f"{tmp}/{name}.st").read())
    out = open(f"{tmp}/{name}.out", errors="replace").read()
    m = re.search(r"^RESULT k=(\d+) pages=(\d+) mode=(\w+) reps=(\d+) stall_avg=(\d+) stall_min=(\d+) "
                  r"stall_max=(\d+) target_avg=(\d+)", out, re.M)
    e = {"exit_status": st}
    if st != 33 or not m:
        ok = False
        e["error"] = (out.strip().splitlines() or ["no output"])[-1][:200]
        return e
    g = [int(x) if x.isdigit() else x for x in m.groups()]
    reps = g[3]
    e.update(stall_avg=g[4], stall_min=g[5], stall_max=g[6], stall_per_target=round(g[4] / k, 1),
             target_cycles=g[7])
    try:
        s = json.load(open(f"{tmp}/{name}.json"))
        walks = sum(sum(vp["tlb"]["walks"].values()) for vp in s["vps"] if 1 <= vp["vp"] <= k)
        e["refill_walks_per_target"] = round(walks / (k * reps), 2)
    except Exception as ex:   # stats missing or in another shape
        e["refill_walks_per_target"] = None
        e["stats_error"] = str(ex)[:100]
    return e

res = {mode: {str(k): entry(f"{mode}.{k}", k) for k in ks} for mode in ("hypercall", "ipi")}
pages_sweep = {mode: {str(p): entry(f"pages.{mode}.{p}", pk) for p in plist} for mode in ("hypercall", "ipi")}
checks = {}
for mode in res:
    s = [res[mode][str(k)].get("stall_avg") for k in ks]
    checks[f"{mode}_stall_grows_with_k"] = None not in s and all(a < b for a, b in zip(s, s[1:]))
per_target = {}
for mode in res:
    r = [res[mode][str(k)] for k in ks]
    if len(ks) < 2 or any("stall_avg" not in e for e in r):
        per_target[mode] = None
        continue
    slope = (r[-1]["stall_avg"] - r[0]["stall_avg"]) / (ks[-1] - ks[0])
    tc = sum(e["target_cycles"] for e in r) / len(r)
    per_target[mode] = {"initiator_slope": round(slope, 1), "target_cycles": round(tc, 1),
                        "total": round(slope + tc, 1)}
h, i = per_target.get("hypercall"), per_target.get("ipi")
if h and i:
    checks["hypercall_cheaper_per_target_total"] = h["total"] < i["total"]
    checks["hypercall_cheaper_per_target_initiator_only"] = h["initiator_slope"] < i["initiator_slope"]
    checks["hypercall_cheaper_per_target_target_only"] = h["target_cycles"] < i["target_cycles"]
else:
    checks["hypercall_cheaper_per_target_total"] = None
all_ok = ok and all(v is True for k, v in checks.items() if k.endswith("grows_with_k")) and \
    checks["hypercall_cheaper_per_target_total"] is True
print(json.dumps({"ks": ks, "results": res, "per_target": per_target, "pages_k": pk, "pages_sweep": pages_sweep,
                  "checks": checks,
                  "all_checks_hold": all_ok}, indent=2))
sys.exit(0 if all_ok else 1)
PY
