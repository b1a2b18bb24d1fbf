#!/usr/bin/env bash
# Bad user input: every case must exit with status 2, print exactly one line on
# stderr that starts with "hvemu: " and names the problem, print nothing on stdout,
# and write nothing: no -stats file, no serial file.
# usage: bad_input.sh HVEMU MKIMAGE SCRATCH_DIR
set -u
hvemu=$1 mkimage=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$mkimage" "$dir" || { echo "mkimage failed"; exit 1; }
cd "$dir" || exit 1
fails=0 n=0

# expect_bad KEYWORD ARGS...   (KEYWORD: a fixed string the line must contain)
expect_bad() {
    local key=$1; shift
    n=$((n + 1))
    rm -f stats.json serial.txt out.txt err.txt
    "$hvemu" -stats stats.json "$@" >out.txt 2>err.txt
    local rc=$? lines
    lines=$(wc -l <err.txt)
    local why=""
    [ "$rc" = 2 ] || why="exit status $rc, not 2"
    [ -z "$why" ] && [ "$lines" = 1 ] || why="${why:-stderr has $lines lines}"
    [ -z "$why" ] && ! grep -q '^hvemu: ' err.txt && why="stderr does not start with 'hvemu: '"
    [ -z "$why" ] && ! grep -qiF -- "$key" err.txt && why="stderr does not mention '$key'"
    [ -z "$why" ] && [ -s out.txt ] && why="stdout is not empty"
    [ -z "$why" ] && [ -e stats.json ] && why="the -stats file was written"
    [ -z "$why" ] && [ -e serial.txt ] && why="the serial file was created"
    [ -z "$why" ] && ls stats.json.tmp.* >/dev/null 2>&1 && why="a -stats temp file was left"
    if [ -n "$why" ]; then
        fails=$((fails + 1))
        echo "FAIL: hvemu $*: $why"
        sed 's/^/    stderr: /' err.txt | head -5
    else
        echo "ok:   hvemu $* -> $(cat err.txt)"
    fi
}

S="-serial file:serial.txt"
# options
expect_bad "-bogus"          -kernel ok.elf $S -bogus
expect_bad "stray"           -kernel ok.elf $S stray
expect_bad "needs a value"   $S -kernel
expect_bad "no -kernel"      $S -m 64
expect_bad "-m abc"          -kernel ok.elf $S -m abc
expect_bad "-m 1"            -kernel ok.elf $S -m 1
expect_bad "-m 1536K"        -kernel ok.elf $S -m 1536K
expect_bad "-m 2T"           -kernel ok.elf $S -m 2T
expect_bad "-m 99999999999G" -kernel ok.elf $S -m 99999999999G
expect_bad "-m 64M,slots=2"  -kernel ok.elf $S -m 64M,slots=2
expect_bad "-smp 0"          -kernel ok.elf $S -smp 0
expect_bad "-smp 129"        -kernel ok.elf $S -smp 129
expect_bad "-smp two"        -kernel ok.elf $S -smp two
expect_bad "-tlb-model slow" -kernel ok.elf $S -tlb-model slow
expect_bad "-cpu-freq fast"  -kernel ok.elf $S -cpu-freq fast
expect_bad "-cpu-freq 10"    -kernel ok.elf $S -cpu-freq 10
expect_bad "-max-insns 0"    -kernel ok.elf $S -max-insns 0
expect_bad "-max-cycles -5"  -kernel ok.elf $S -max-cycles -5
expect_bad "-serial tcp"     -kernel ok.elf -serial tcp::4444
expect_bad "-display sdl"    -kernel ok.elf $S -display sdl
expect_bad "e1000"           -kernel ok.elf $S -device e1000
expect_bad "iobase"          -kernel ok.elf $S -device isa-debug-exit,iobase=zz
expect_bad "speed"           -kernel ok.elf $S -device isa-debug-exit,speed=3
expect_bad "outside"         -kernel ok.elf $S -device isa-debug-exit,iobase=0xfffe,iosize=4
expect_bad "warp"            -kernel ok.elf $S -hyperv warp=on
expect_bad "tlbflush=maybe"  -kernel ok.elf $S -hyperv tlbflush=maybe
expect_bad "compat=xen"      -kernel ok.elf $S -hyperv compat=xen
expect_bad "-tlb-lock"       -kernel ok.elf $S -tlb-lock vp=1,at=100
expect_bad "not a number"    -kernel ok.elf $S -tlb-lock vp=1,at=x,for=5
expect_bad "unknown key"     -kernel ok.elf $S -tlb-lock vp=1,at=1,for=5,when=2
# the machine
expect_bad "nehalem"         -kernel ok.elf $S -tlb nehalem
expect_bad "has 2 VPs"       -kernel ok.elf $S -smp 2 -tlb-lock vp=2,at=10,for=10
expect_bad "already used by isa-debug-exit"       -kernel ok.elf $S -device isa-debug-exit,iobase=0x3f8,iosize=1
expect_bad "fw_cfg"          -kernel ok.elf $S -device isa-debug-exit,iobase=0x510,iosize=2
# the kernel and modules
expect_bad "missing.elf"     -kernel missing.elf $S
expect_bad "empty"           -kernel empty.elf $S
expect_bad "truncated"       -kernel trunc.elf $S
expect_bad "truncated"       -kernel truncseg.elf $S
expect_bad "not a Multiboot" -kernel nomb.elf $S
expect_bad "empty"           -kernel /dev/null $S
expect_bad "outside RAM"     -kernel outside.elf $S -m 128
head -c $((3 << 20)) /dev/zero >big.img
head -c $((1536 << 10)) /dev/zero >mid.img
expect_bad "larger than guest RAM" -kernel ok.elf $S -m 2 -initrd big.img
expect_bad "does not fit"    -kernel ok.elf $S -m 2 -initrd "mid.img arg=1"
expect_bad "nomodule.img"    -kernel ok.elf $S -initrd "ok.elf,nomodule.img arg"
expect_bad "serial-dir"      -kernel ok.elf -serial file:serial-dir/x/serial.txt

# Linux bzImages (roms/linux.h), written here: setup_sects 4, header through
# init_size (protocol 2.15 layout), a 4 KiB protected-mode part.
# mkbz FILE VERSION LOADFLAGS XLOADFLAGS [INITRD_ADDR_MAX [CMDLINE_SIZE]]   (hex)
put() { printf "$3" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none; }
le32() { local v=$((16#$1)); printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v & 255)) $((v >> 8 & 255)) $((v >> 16 & 255)) $((v >> 24 & 255)); }
mkbz() {
    head -c $((0xA00 + 0x1000)) /dev/zero >"$1"
    put "$1" 0x1f1 '\x04'
    put "$1" 0x1fe '\x55\xaa'
    put "$1" 0x200 '\xeb\x6a'
    put "$1" 0x202 'HdrS'
    put "$1" 0x206 "$(le32 "$2" | cut -c1-16)"
    put "$1" 0x211 "$(le32 "$3" | cut -c1-4)"
    put "$1" 0x22c "$(le32 "${5:-7fffffff}")"
    put "$1" 0x230 "$(le32 200000)"
    put "$1" 0x236 "$(le32 "$4" | cut -c1-8)"
    put "$1" 0x238 "$(le32 "${6:-7ff}")"
    put "$1" 0x258 "$(le32 1000000)"
    put "$1" 0x260 "$(le32 200000)"
}
mkbz ok.bz 020f 01 7f
mkbz old.bz 020b 01 7f
mkbz zimage.bz 020f 00 7f
mkbz no64.bz 020f 01 7e
mkbz lowinitrd.bz 020f 01 7f 017fffff
mkbz shortcl.bz 020f 01 7f 7fffffff 10
printf 'this is not a kernel\n%.0s' {1..20} >garbage.bin
head -c $((0x240)) no64.bz >truncbz.bz; put truncbz.bz 0x206 '\x0f\x02'
truncate -s 40M huge.img
head -c $((8 << 20)) /dev/zero >eight.img
expect_bad "neither a Linux bzImage" -kernel garbage.bin $S
expect_bad "too old"         -kernel old.bz $S
expect_bad "not a bzImage"   -kernel zimage.bz $S
expect_bad "XLF_KERNEL_64"   -kernel no64.bz $S
expect_bad "truncated"       -kernel truncbz.bz $S
expect_bad "larger than guest RAM" -kernel ok.bz $S -m 32 -initrd huge.img
expect_bad "does not fit"    -kernel lowinitrd.bz $S -m 64 -initrd eight.img
expect_bad "one initrd"      -kernel ok.bz $S -m 64 -initrd mid.img,mid.img
expect_bad "command line too long" -kernel shortcl.bz $S -m 64 -append "console=ttyS0 x=1"
expect_bad "-m 19"           -kernel ok.bz $S -m 16

echo "$((n - fails))/$n bad-input cases pass"
[ "$fails" = 0 ]
