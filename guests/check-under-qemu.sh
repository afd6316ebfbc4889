#!/bin/bash
# Boots kiln's test guests under QEMU (TCG) as a second VMM and checks what they print.
#
# Usage: check-under-qemu.sh PVH_ELF [BZIMAGE]
#   PVH_ELF   boot-check-pvh.elf, booted with -M microvm (qboot enters it through PVH)
#   BZIMAGE   boot-check.bzimage, booted with -M pc (SeaBIOS runs its real-mode setup, which
#             enters the payload through the Linux 32-bit boot protocol); optional
# Exit status: 0 all checks passed, 1 a check failed, 77 qemu-system-x86_64 is missing (skip).
# Env: QEMU (default qemu-system-x86_64), QEMU_TIMEOUT seconds per boot (default 60).
# Reads no stdin; on a time-out it kills only the QEMU it started, by PID.
set -u

PVH_ELF=${1:?usage: check-under-qemu.sh PVH_ELF [BZIMAGE]}
BZIMAGE=${2:-}
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${QEMU_TIMEOUT:-60}

command -v "$QEMU" >/dev/null 2>&1 || { echo "SKIP: $QEMU not found"; exit 77; }
for f in "$PVH_ELF" $BZIMAGE; do
    [ -f "$f" ] || { echo "FAIL: $f does not exist (build target test_guests)"; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kiln-guest-qemu.XXXXXX")
QEMU_PID=
cleanup() {
    [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }

# FNV-1a 64 over the bytes of a file: offset basis 0xcbf29ce484222325, prime 0x100000001b3,
# hash = (hash ^ byte) * prime mod 2^64 (bash arithmetic wraps at 64 bits).
fnv1a64() {
    local h=$((0xcbf29ce484222325)) b
    for b in $(od -An -v -tu1 "$1"); do h=$(( (h ^ b) * 0x100000001b3 )); done
    printf '0x%016x' "$h"
}

# run_qemu NAME UNTIL ARGS...: runs QEMU with the serial port on $WORK/NAME.out.
#   UNTIL=exit: wait for QEMU to exit by itself (guest reset with -no-reboot);
#   UNTIL=<text>: wait until a line equal to <text> appears, then kill QEMU.
# Sets QEMU_STATUS (exit status, "killed" or "timeout") and leaves the guest's lines (from
# "KILN-TEST-GUEST" on, firmware noise before it dropped) in $WORK/NAME.lines.
run_qemu() {
    local name=$1 until=$2 out=$WORK/$1.out
    shift 2
    : > "$out"  # exists before the first poll below
    "$QEMU" -accel tcg -nodefaults -no-user-config -nographic -serial stdio -no-reboot "$@" \
        < /dev/null > "$out" 2> "$WORK/$name.err" &
    QEMU_PID=$!
    QEMU_STATUS=timeout
    local deadline=$((SECONDS + TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! kill -0 "$QEMU_PID" 2>/dev/null; then
            wait "$QEMU_PID"
            QEMU_STATUS=$?
            break
        fi
        if [ "$until" != exit ] && tr -d '\r' < "$out" | grep -qxF "$until"; then
            kill "$QEMU_PID"
            wait "$QEMU_PID" 2>/dev/null
            QEMU_STATUS=killed
            break
        fi
        sleep 0.1
    done
    if [ "$QEMU_STATUS" = timeout ]; then
        kill "$QEMU_PID" 2>/dev/null
        wait "$QEMU_PID" 2>/dev/null
    fi
    QEMU_PID=
    # SeaBIOS prints "Booting from ROM.." without a newline before the guest's first line.
    tr -d '\r' < "$out" | sed -n '/KILN-TEST-GUEST\|first-byte/,$p' |
        sed 's/^.*\(KILN-TEST-GUEST\|first-byte\)/\1/' > "$WORK/$name.lines"
}

# expect_line NAME LINE: LINE must appear in the guest output.
expect_line() {
    grep -qxF -- "$2" "$WORK/$1.lines" || fail "$1: missing line '$2'"
}

# check_memory NAME: e820 lines well-formed, ram= equals the sum of their type-1 sizes and is
# close to the 128 MiB the VM was given.
check_memory() {
    local name=$1 lines=$WORK/$1.lines sum=0 start size type ram
    grep -q '^e820 ' "$lines" || fail "$name: no e820 lines"
    while read -r _ start size type; do
        [[ $start =~ ^0x[0-9a-f]+$ && $size =~ ^0x[0-9a-f]+$ && $type =~ ^[0-9]+$ ]] ||
            fail "$name: malformed e820 line '$start $size $type'"
        [ "$type" = 1 ] && sum=$((sum + size))
    done < <(grep '^e820 ' "$lines")
    ram=$(sed -n 's/^ram=//p' "$lines")
    [ "$ram" = "$sum" ] || fail "$name: ram=$ram but the type-1 e820 sizes add up to $sum"
    [ "$sum" -gt $((120 << 20)) ] && [ "$sum" -le $((128 << 20)) ] ||
        fail "$name: $sum bytes of RAM for a 128 MiB VM"
}

show() {
    echo "---- $1 (QEMU status $QEMU_STATUS)"
    cat "$WORK/$1.lines"
    [ -s "$WORK/$1.err" ] && sed 's/^/stderr: /' "$WORK/$1.err"
}

# An initrd of odd length (the guest hashes 8 bytes at a time, then the tail).
head -c 65541 /dev/urandom > "$WORK/initrd"
INITRD_HASH=$(fnv1a64 "$WORK/initrd")
INITRD_SIZE=$(stat -c %s "$WORK/initrd")
MICROVM=(-M microvm -m 128 -device i8042 -kernel "$PVH_ELF")  # i8042: so that reset exits

# 1. PVH, full report, reset ends QEMU.
run_qemu pvh exit "${MICROVM[@]}" -append "hello world action=reset" -initrd "$WORK/initrd"
show pvh
[ "$QEMU_STATUS" = 0 ] || fail "pvh: QEMU did not exit cleanly after the guest's reset ($QEMU_STATUS)"
[ "$(head -1 "$WORK/pvh.lines")" = "KILN-TEST-GUEST boot=pvh" ] || fail "pvh: bad first line"
expect_line pvh "cmdline=hello world action=reset"
check_memory pvh
initrd_line=$(grep '^initrd ' "$WORK/pvh.lines")
[[ $initrd_line =~ ^initrd\ addr=0x[0-9a-f]+\ size=$INITRD_SIZE\ fnv1a64=$INITRD_HASH$ ]] ||
    fail "pvh: initrd line '$initrd_line', expected size=$INITRD_SIZE fnv1a64=$INITRD_HASH"
[ "$(tail -1 "$WORK/pvh.lines")" = "result ok" ] || fail "pvh: last line is not 'result ok'"

# 2. PVH, no initrd, action=spin: the guest keeps running until killed.
run_qemu spin spinning "${MICROVM[@]}" -append "action=spin"
show spin
[ "$QEMU_STATUS" = killed ] || fail "spin: guest did not print 'spinning' and keep running"
expect_line spin "initrd none"
expect_line spin "result ok"

# 3. PVH, action=fill: "first-byte" comes before everything else.
run_qemu fill exit "${MICROVM[@]}" -append "action=fill"
show fill
[ "$QEMU_STATUS" = 0 ] || fail "fill: QEMU did not exit after the guest's reset ($QEMU_STATUS)"
[ "$(head -1 "$WORK/fill.lines")" = "first-byte" ] || fail "fill: first line is not 'first-byte'"
expect_line fill "result ok"

# 4. PVH, unknown action: reported as a failure, then reset.
run_qemu unknown exit "${MICROVM[@]}" -append "action=dance"
show unknown
[ "$QEMU_STATUS" = 0 ] || fail "unknown: QEMU did not exit after the guest's reset ($QEMU_STATUS)"
[ "$(tail -1 "$WORK/unknown.lines")" = "result fail unknown action" ] ||
    fail "unknown: last line is not 'result fail unknown action'"

# 5. bzImage through SeaBIOS (-M pc has an i8042).
if [ -n "$BZIMAGE" ]; then
    run_qemu bzimage exit -M pc -m 128 -kernel "$BZIMAGE" -append "hello world" \
        -initrd "$WORK/initrd"
    show bzimage
    [ "$QEMU_STATUS" = 0 ] || fail "bzimage: QEMU did not exit after the guest's reset ($QEMU_STATUS)"
    [ "$(head -1 "$WORK/bzimage.lines")" = "KILN-TEST-GUEST boot=bzimage" ] ||
        fail "bzimage: bad first line"
    expect_line bzimage "cmdline=hello world"
    check_memory bzimage
    initrd_line=$(grep '^initrd ' "$WORK/bzimage.lines")
    [[ $initrd_line =~ ^initrd\ addr=0x[0-9a-f]+\ size=$INITRD_SIZE\ fnv1a64=$INITRD_HASH$ ]] ||
        fail "bzimage: initrd line '$initrd_line', expected size=$INITRD_SIZE fnv1a64=$INITRD_HASH"
    [ "$(tail -1 "$WORK/bzimage.lines")" = "result ok" ] || fail "bzimage: last line is not 'result ok'"
fi

if [ "$FAILED" = 0 ]; then
    echo "PASS: guests behave under QEMU (initrd fnv1a64 $INITRD_HASH, $INITRD_SIZE bytes)"
fi
exit "$FAILED"
