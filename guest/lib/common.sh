# Shared helpers for guest/build-kernel and guest/build-initramfs (sourced, not run).
# Part of both scripts' cache keys.

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${KILN_GUEST_CACHE:-/var/cache/kiln/guest-kit}
DEB_DIR=$CACHE_ROOT/debs

msg() { echo "${PROG:-guest}: $*" >&2; }
die() { msg "error: $*"; exit 1; }

# candidate_version PKG: the version apt would install, or empty.
candidate_version() {
    local v
    v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
    [ "$v" = "(none)" ] && v=
    echo "$v"
}

# resolve_version PKG [PIN]: PIN if given, else apt's candidate (one `apt-get update` if the
# lists do not know PKG yet).
resolve_version() {
    local pkg=$1 pin=${2:-} v
    if [ -n "$pin" ]; then echo "$pin"; return; fi
    v=$(candidate_version "$pkg")
    if [ -z "$v" ]; then
        msg "apt lists do not know $pkg; running apt-get update"
        apt-get update -qq >&2 || true
        v=$(candidate_version "$pkg")
    fi
    [ -n "$v" ] || die "no installable version of $pkg (apt-cache policy $pkg)"
    echo "$v"
}

# installed_version PKG: version of an installed host package (toolchain inputs of the key).
installed_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none
}

# fetch_deb PKG VERSION: prints the path of PKG_VERSION_*.deb in $DEB_DIR, downloading it with
# `apt-get download` if needed. Nothing is installed on the host.
fetch_deb() {
    local pkg=$1 ver=$2 f enc
    enc=${ver//:/%3a}
    mkdir -p "$DEB_DIR"
    f=$(find "$DEB_DIR" -maxdepth 1 -name "${pkg}_${enc}_*.deb" | head -1)
    if [ -z "$f" ]; then
        msg "downloading $pkg=$ver"
        (cd "$DEB_DIR" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) ||
            die "apt-get download $pkg=$ver failed"
        f=$(find "$DEB_DIR" -maxdepth 1 -name "${pkg}_${enc}_*.deb" | head -1)
    fi
    [ -n "$f" ] || die "downloaded $pkg=$ver but found no .deb in $DEB_DIR"
    echo "$f"
}

# cache_key FILE...: 16 hex digits over stdin (the version lines) and the files' contents.
cache_key() {
    { cat; for f in "$@"; do echo "== ${f#"$GUEST_DIR"/}"; cat "$f"; done; } |
        sha256sum | cut -c1-16
}

# lock_cache NAME: serialises builds of one kind (fd 9 stays open until the script exits).
lock_cache() {
    mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT (set KILN_GUEST_CACHE)"
    exec 9> "$CACHE_ROOT/.lock-$1"
    flock 9
}
