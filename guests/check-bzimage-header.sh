#!/bin/bash
# Checks the Linux boot protocol header of boot-check.bzimage (Documentation/arch/x86/boot.rst):
# the fields a validating loader such as kiln looks at, and that the sizes match the file.
# Usage: check-bzimage-header.sh BZIMAGE      Exit status: 0 ok, 1 mismatch.
set -u
IMAGE=${1:?usage: check-bzimage-header.sh BZIMAGE}
[ -f "$IMAGE" ] || { echo "FAIL: $IMAGE does not exist"; exit 1; }

# u OFFSET BYTES: little-endian unsigned field (BYTES = 1, 2, 4 or 8).
u() { od -An -v --endian=little -tu"$2" -j "$1" -N "$2" "$IMAGE" | tr -d ' '; }

FAILED=0
# want NAME OFFSET BYTES VALUE
want() {
    local got
    got=$(u "$2" "$3")
    if [ "$got" = "$4" ]; then
        printf '%-20s 0x%x\n' "$1" "$got"
    else
        printf 'FAIL: %s at 0x%x is %s, expected %s\n' "$1" "$2" "$got" "$4"
        FAILED=1
    fi
}
check() { "$@" || { echo "FAIL: $*"; FAILED=1; }; }

want boot_flag 0x1fe 2 $((0xaa55))
want header 0x202 4 $((0x53726448))  # "HdrS"
want version 0x206 2 $((0x020f))
want jump_opcode 0x200 1 $((0xeb))
want loadflags 0x211 1 1  # LOADED_HIGH
want code32_start 0x214 4 $((0x100000))
want initrd_addr_max 0x22c 4 $((0x7fffffff))
want kernel_alignment 0x230 4 $((0x200000))
want relocatable_kernel 0x234 1 1
want xloadflags 0x236 2 3  # XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
want pref_address 0x258 8 $((0x100000))
want handover_offset 0x264 4 0

setup_sects=$(u $((0x1f1)) 1)
syssize=$(u $((0x1f4)) 4)
cmdline_size=$(u $((0x238)) 4)
init_size=$(u $((0x260)) 4)
file_size=$(stat -c %s "$IMAGE")
payload=$((file_size - (setup_sects + 1) * 512))
printf '%-20s %d\n%-20s %d\n%-20s %d\n%-20s %d\n%-20s %d\n' setup_sects "$setup_sects" \
    "payload bytes" "$payload" "syssize*16" $((syssize * 16)) cmdline_size "$cmdline_size" \
    init_size "$init_size"
check [ "$setup_sects" -ge 1 ]
check [ "$payload" -gt $((0x200)) ]                  # the 64-bit entry is at payload + 0x200
check [ $((syssize * 16)) -ge "$payload" ]
check [ $((syssize * 16)) -lt $((payload + 16)) ]
check [ "$cmdline_size" -ge 2047 ]
check [ "$init_size" -ge "$payload" ]
check [ $((init_size % 4096)) -eq 0 ]

[ "$FAILED" = 0 ] && echo "PASS: $IMAGE has a valid boot protocol 2.15 header"
exit "$FAILED"
