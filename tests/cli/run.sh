#!/usr/bin/env bash
# End-to-end runs of the hvemu command line on tiny kernels (made by hvemu_mkimage):
# the debug-exit status and serial output, -serial file:, the limits (status 4),
# all-halted (status 3), -smp, --help/--version, and byte-identical -stats outside
# the "host" section across two runs.
# usage: run.sh HVEMU MKIMAGE SCRATCH_DIR
set -u
hvemu=$1 mkimage=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$mkimage" "$dir" || { echo "mkimage failed"; exit 1; }
cd "$dir" || exit 1
fails=0
DX="-device isa-debug-exit,iobase=0xf4,iosize=4"

check() {   # check DESCRIPTION CONDITION...
    local what=$1; shift
    if "$@"; then echo "ok:   $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}

"$hvemu" -kernel ok.elf -serial stdio -display none -no-reboot $DX >out.txt 2>err.txt
rc=$?
check "debug-exit 0x21 gives status 67 (got $rc)" [ "$rc" = 67 ]
check "serial output on stdout is OK" [ "$(cat out.txt)" = "OK" ]
check "nothing on stderr" [ ! -s err.txt ]

"$hvemu" -kernel ok.elf -nographic -serial file:serial.txt $DX >out.txt 2>err.txt
rc=$?
check "-serial file: status 67 (got $rc)" [ "$rc" = 67 ]
check "-serial file: holds the output" [ "$(cat serial.txt)" = "OK" ]
check "-serial file: stdout empty" [ ! -s out.txt ]

"$hvemu" -kernel ok.elf -smp 4 -m 64M $DX -stats smp.json >out.txt 2>err.txt
rc=$?
check "-smp 4: the BSP still runs, status 67 (got $rc)" [ "$rc" = 67 ]
check "-smp 4: four VPs in the stats" [ "$(grep -c '^      "vp": ' smp.json)" = 4 ]

"$hvemu" -kernel loop.elf -max-insns 10000 -stats limit.json >out.txt 2>err.txt
rc=$?
check "-max-insns: status 4 (got $rc)" [ "$rc" = 4 ]
check "-max-insns: one line naming the limit" \
    [ "$(wc -l <err.txt)" = 1 -a -n "$(grep 'instruction limit' err.txt)" ]
insns=$(sed -n 's/^ *"instructions": \([0-9]*\),\{0,1\}$/\1/p' limit.json | tail -1)
check "-max-insns: stats total $insns >= 10000" [ "${insns:-0}" -ge 10000 ]
if command -v python3 >/dev/null; then
    check "-stats is valid JSON" python3 -m json.tool limit.json >/dev/null
fi

"$hvemu" -kernel loop.elf -max-cycles 200000 >out.txt 2>err.txt
rc=$?
check "-max-cycles: status 4 (got $rc)" [ "$rc" = 4 ]
check "-max-cycles: one line naming the limit" \
    [ "$(wc -l <err.txt)" = 1 -a -n "$(grep 'cycle limit' err.txt)" ]

"$hvemu" -kernel halt.elf >out.txt 2>err.txt
rc=$?
check "cli; hlt: status 3 (got $rc)" [ "$rc" = 3 ]
check "cli; hlt: says all VPs halted with interrupts disabled" \
    grep -q 'all VPs halted with interrupts disabled' err.txt

for run in a b; do
    "$hvemu" -kernel loop.elf -max-insns 50000 -tlb-model exact -stats det_$run.json >/dev/null 2>&1
done
sed '/"host": {/,$d' det_a.json >det_a.cut
sed '/"host": {/,$d' det_b.json >det_b.cut
check "two runs: identical -stats outside \"host\"" cmp -s det_a.cut det_b.cut
check "the stats say exact mode" grep -q '"tlb_model": "exact"' det_a.json

"$hvemu" --help >help.txt 2>&1
rc=$?
check "--help: status 0" [ "$rc" = 0 ]
for opt in -kernel -append -initrd -m -smp -serial -nographic -display -no-reboot -device \
           -tlb -tlb-model -stats -cpu-freq -max-insns -max-cycles --version "Exit status"; do
    check "--help documents $opt" grep -qF -- "$opt" help.txt
done
check "--version prints the version" bash -c "'$hvemu' --version | grep -q '^hvemu [0-9]'"

[ "$fails" = 0 ] && echo "all runs pass"
[ "$fails" = 0 ]
