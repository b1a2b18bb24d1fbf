#!/usr/bin/env python3
"""Checks hvemu's -stats JSON against the claims a Hyper-V guest printed.

usage: check_gran_stats.py STATS.json SERIAL.out

Each serial line "STAT vp=V CAUSE ops=N entries>=M over=K" claims that VP V's
TLB counters (vps[V].tlb.invalidations.CAUSE) show exactly N operations, at
least M entries removed and exactly K over-flushed entries.  Each line
"HVSTAT PATH OP N" (OP one of == >= <=) claims a value of the "hyperv" section,
PATH dotted (list elements by index: suspended_cycles_per_vp.1).  Every VP must
also report under_flushes = 0 (HV-SPEC.md A-6: an under-flush is a bug).  The
expectations come from the guest, which counts the hypercalls it made and the
entries it proved were cached; nothing is taken from the emulator's code.
"""
import json
import re
import sys


def main():
    stats = json.load(open(sys.argv[1]))
    serial = open(sys.argv[2], errors="replace").read().splitlines()
    claim_re = re.compile(r"^STAT vp=(\d+) (\w+) ops=(\d+) entries>=(\d+) over=(\d+)$")
    claims = [claim_re.match(l) for l in serial]
    claims = [m for m in claims if m]
    hv_re = re.compile(r"^HVSTAT ([\w.]+) (==|>=|<=) (\d+)$")
    hv_claims = [m for m in (hv_re.match(l) for l in serial) if m]
    if not claims and not hv_claims:
        print("check_gran_stats: FAILED: the guest printed no STAT or HVSTAT lines")
        return 1
    vps = {v["vp"]: v for v in stats.get("vps", [])}
    bad = 0
    for m in hv_claims:
        path, op, want = m.group(1), m.group(2), int(m.group(3))
        node = stats.get("hyperv")
        for part in path.split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                node = None
                break
        if not isinstance(node, int):
            print(f"check_gran_stats: FAILED: hyperv.{path} not in the stats")
            bad += 1
            continue
        ok = {"==": node == want, ">=": node >= want, "<=": node <= want}[op]
        print(f"check_gran_stats: hyperv.{path} = {node} (want {op} {want}) {'ok' if ok else 'MISMATCH'}")
        bad += not ok
    for m in claims:
        vp, cause = int(m.group(1)), m.group(2)
        ops, min_entries, over = int(m.group(3)), int(m.group(4)), int(m.group(5))
        if vp not in vps:
            print(f"check_gran_stats: FAILED: no VP {vp} in the stats")
            bad += 1
            continue
        inv = vps[vp]["tlb"].get("invalidations", {}).get(cause)
        if inv is None:
            print(f"check_gran_stats: FAILED: VP {vp} has no invalidation cause '{cause}'")
            bad += 1
            continue
        got = (inv.get("ops"), inv.get("entries"), inv.get("over_flushed_entries"))
        ok = got[0] == ops and got[1] is not None and got[1] >= min_entries and got[2] == over
        print(f"check_gran_stats: VP {vp} {cause}: ops {got[0]} (want {ops}), entries {got[1]} "
              f"(want >= {min_entries}), over-flushed {got[2]} (want {over}) {'ok' if ok else 'MISMATCH'}")
        bad += not ok
    for vp, v in sorted(vps.items()):
        uf = v["tlb"].get("under_flushes")
        if uf != 0:
            print(f"check_gran_stats: FAILED: VP {vp} under_flushes = {uf}")
            bad += 1
    if bad:
        print(f"check_gran_stats: FAILED: {bad} mismatch(es)")
        return 1
    print("check_gran_stats: statistics agree with the guest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
