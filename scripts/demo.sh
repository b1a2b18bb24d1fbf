#!/usr/bin/env bash
# Set up (Debian packages), build, and run the demo guest: a freestanding 64-bit
# kernel that greets on the serial console and shows the modelled TLB keeping a
# stale translation until INVLPG.  Statistics go to demo-stats.json.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target hvemu hello >/dev/null
set +e
./build/frontend/hvemu -kernel build/examples/hello.elf -append strict-tlb \
    -serial stdio -display none -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=4 -stats demo-stats.json "$@"
status=$?
set -e
echo "hvemu exit status: $status (33 = the guest passed; see --help for the others)"
echo "statistics: demo-stats.json"
[ "$status" -eq 33 ]
