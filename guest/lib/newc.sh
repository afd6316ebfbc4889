# Writes an uncompressed cpio "newc" archive (the initramfs format of Linux's
# Documentation/driver-api/early-userspace/buffer-format.rst) to stdout, without root, the
# cpio tool or files on disk for device nodes. Sourced by guest/build-initramfs.
#
# Every entry: uid 0, gid 0, mtime $NEWC_MTIME (default 0), inode numbers 1, 2, ... in order.
# Header: "070701" then 13 fields of 8 hex digits; the header + NUL-terminated name and the
# file data are each padded with zeros to a multiple of 4 bytes.

NEWC_INO=0
NEWC_MTIME=${NEWC_MTIME:-0}

# _newc_pad LEN: zeros up to the next multiple of 4 after LEN bytes.
_newc_pad() { head -c $(( (4 - $1 % 4) % 4 )) /dev/zero; }

# _newc_header NAME MODE SIZE NLINK RDEVMAJOR RDEVMINOR
_newc_header() {
    local name=$1 namesize
    namesize=$(( $(LC_ALL=C; echo ${#name}) + 1 ))
    NEWC_INO=$((NEWC_INO + 1))
    printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
        "$NEWC_INO" "$2" 0 0 "$4" "$NEWC_MTIME" "$3" 0 0 "$5" "$6" "$namesize" 0
    printf '%s\0' "$name"
    _newc_pad $((110 + namesize))
}

newc_dir() { _newc_header "$1" $((0040000 | ${2:-0755})) 0 2 0 0; }           # NAME [PERM]
newc_chardev() { _newc_header "$1" $((0020000 | $2)) 0 1 "$3" "$4"; }         # NAME PERM MAJ MIN
newc_symlink() {                                                               # NAME TARGET
    _newc_header "$1" $((0120000 | 0777)) "${#2}" 1 0 0
    printf '%s' "$2"
    _newc_pad "${#2}"
}
newc_file() {                                                                  # NAME PERM SRC
    local size
    size=$(stat -c %s "$3")
    _newc_header "$1" $((0100000 | $2)) "$size" 1 0 0
    cat "$3"
    _newc_pad "$size"
}
newc_trailer() { NEWC_INO=-1; _newc_header "TRAILER!!!" 0 0 1 0 0; }
