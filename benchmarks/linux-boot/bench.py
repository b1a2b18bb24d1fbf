#!/usr/bin/env python3
"""Times Debian's kernel + the guest kit's initramfs to the ready marker and to
power-off, under hvemu and (when given) QEMU TCG; prints one JSON object.

usage: bench.py --kernel K --initrd I --append STR --hvemu BIN [--qemu BIN]
                [--smp 1,2] [--max-insns N] [--timeout S]

Per run: wall seconds to the line "gk: ready" (userspace up) and to the end
of the process (the ACPI power-off), the exit status, and for hvemu the guest
instructions and virtual seconds (-stats totals) and MIPS = instructions /
wall seconds.  ratio_ready / ratio_poweroff = hvemu time / QEMU time.
The issue's target: ratio_ready <= 3.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time


def run(cmd, timeout):
    """Runs cmd with the serial console on stdout; returns timings."""
    t0 = time.monotonic()
    res = {"ready_seconds": None}
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    tail = []

    def reader():
        for raw in p.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if res["ready_seconds"] is None and line.startswith("gk: ready"):
                res["ready_seconds"] = round(time.monotonic() - t0, 3)
            tail.append(line)
            del tail[:-5]

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
        res["error"] = f"timeout after {timeout} s"
    th.join(5)
    res["poweroff_seconds"] = round(time.monotonic() - t0, 3)
    res["exit_status"] = rc
    err = p.stderr.read().decode(errors="replace").strip()
    if rc != 0 and "error" not in res:
        res["error"] = (err.splitlines() or tail or ["?"])[-1][:300]
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--append", required=True)
    ap.add_argument("--hvemu", required=True)
    ap.add_argument("--qemu")
    ap.add_argument("--smp", default="1,2")
    ap.add_argument("--max-insns", default="20G")
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()

    out = {"kernel": a.kernel, "initrd": a.initrd, "append": a.append,
           "target": "hvemu ready time <= 3 x QEMU TCG ready time", "runs": []}
    tmp = tempfile.mkdtemp()
    for smp in [int(s) for s in a.smp.split(",")]:
        entry = {"smp": smp}
        stats = os.path.join(tmp, f"s{smp}.json")
        cmd = [a.hvemu, "-kernel", a.kernel, "-initrd", a.initrd, "-append", a.append,
               "-m", "512M", "-smp", str(smp), "-serial", "stdio", "-display", "none",
               "-no-reboot", "-stats", stats, "-max-insns", a.max_insns, "-watchdog", "300"]
        print(f"bench: hvemu -smp {smp} ...", file=sys.stderr)
        h = run(cmd, a.timeout)
        try:
            st = json.load(open(stats))
            h["guest_instructions"] = st["totals"]["instructions"]
            h["virtual_seconds"] = st["totals"]["virtual_seconds"]
            h["mips"] = round(st["totals"]["instructions"] / h["poweroff_seconds"] / 1e6, 1)
        except (OSError, ValueError, KeyError):
            h["guest_instructions"] = None
        entry["hvemu"] = h
        if a.qemu:
            cmd = [a.qemu, "-M", "pc", "-accel", "tcg", "-m", "512", "-smp", str(smp),
                   "-kernel", a.kernel, "-initrd", a.initrd, "-append", a.append,
                   "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot"]
            print(f"bench: qemu -smp {smp} ...", file=sys.stderr)
            q = run(cmd, a.timeout)
            entry["qemu_tcg"] = q
            ok = h["exit_status"] == 0 and q["exit_status"] == 0
            for k in ("ready", "poweroff"):
                hs, qs = h.get(f"{k}_seconds"), q.get(f"{k}_seconds")
                entry[f"ratio_{k}"] = round(hs / qs, 2) if ok and hs and qs else None
        out["runs"].append(entry)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
