#!/usr/bin/env bash
# make deb: build the Debian packages from this work tree (tracked and new
# files, not the build directories) in a temporary directory, check them and
# leave the .deb files in OUTDIR (default: build-deb).
#
#   1. dpkg-buildpackage -us -uc -b on a copy of the tree
#   2. lintian: no error (warnings and infos are printed)
#   3. dpkg -c: the binary, man page, completion, units, library and headers
#   4. unpacked into a throwaway root (dpkg-deb -x): twampy --version runs,
#      and a program built against libtwampy-dev's headers, pkg-config file
#      and libtwampy0's shared library runs
# Exit 77 (skip) when dpkg-buildpackage or debhelper is missing.
set -u -o pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTDIR=${1:-$SRC/build-deb}
fail() {
    echo "FAIL [deb]: $*" >&2
    exit 1
}
note() { echo "# $*"; }
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
    echo "SKIP: needs dpkg-buildpackage and debhelper (apt-get install dpkg-dev debhelper)"
    exit 77
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/twampy-deb.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/src" "$WORK/root"

# 1. The build, on a copy: dpkg-buildpackage writes its results next to the
# source directory, and must not see a build directory of ours.
(cd "$SRC" && git ls-files -co --exclude-standard -z) | grep -zv '^build' |
    (cd "$SRC" && tar -cf - --null -T -) | tar -xf - -C "$WORK/src" ||
    fail "cannot copy the tree"
start=$SECONDS
(cd "$WORK/src" && dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 || {
    tail -n 40 "$WORK/build.log" >&2
    fail "dpkg-buildpackage failed (the log's end above)"
}
note "dpkg-buildpackage: $((SECONDS - start)) s"
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
DEB=$WORK/twampy_${VERSION}_$ARCH.deb
LIB=$WORK/libtwampy0_${VERSION}_$ARCH.deb
DEV=$WORK/libtwampy-dev_${VERSION}_$ARCH.deb
for f in "$DEB" "$LIB" "$DEV"; do
    [ -s "$f" ] || fail "no $(basename "$f")"
done

# 2. lintian, when installed: errors fail, the rest is shown.
if command -v lintian >/dev/null; then
    lintian --tag-display-limit 0 -I "$WORK/twampy_${VERSION}_$ARCH.changes" \
        >"$WORK/lintian.log" 2>&1
    grep -v 'running with root privileges' "$WORK/lintian.log" | sed 's/^/#   /'
    if grep -q '^E: ' "$WORK/lintian.log"; then
        fail "lintian reports errors"
    fi
    note "lintian: $(grep -c '^E: ' "$WORK/lintian.log") errors, $(grep -c '^W: ' "$WORK/lintian.log") warnings, $(grep -c '^I: ' "$WORK/lintian.log") infos"
else
    note "lintian is not installed: not run (apt-get install lintian)"
fi

# 3. What each package holds.
expect_in() {
    local deb=$1
    shift
    local listing p
    listing=$(dpkg -c "$deb") || fail "dpkg -c $deb"
    for p in "$@"; do
        grep -qE " \./$p( |$)" <<<"$listing" || fail "$(basename "$deb") has no $p"
    done
}
expect_in "$DEB" usr/bin/twampy usr/share/man/man1/twampy.1.gz \
    usr/share/bash-completion/completions/twampy \
    lib/systemd/system/twampy-server.service lib/systemd/system/twampy-responder.service \
    lib/systemd/system/twampy-monitor.service
expect_in "$LIB" "usr/lib/$MA/libtwampy.so.0"
expect_in "$DEV" usr/include/twampy/twampy.h "usr/lib/$MA/libtwampy.so" \
    "usr/lib/$MA/pkgconfig/twampy.pc"
note "dpkg -c: binary, man page, completion, 3 units; libtwampy.so.0; headers, .so, twampy.pc"

# 4. Unpacked into a throwaway root and run from there.
for f in "$DEB" "$LIB" "$DEV"; do
    dpkg-deb -x "$f" "$WORK/root" || fail "dpkg-deb -x $f"
done
got=$("$WORK/root/usr/bin/twampy" --version) || fail "the packaged twampy --version failed"
[ "$got" = "twampy ${VERSION%%-*}" ] || fail "twampy --version says '$got', the package is $VERSION"
note "packaged binary: $got"
"$WORK/root/usr/bin/twampy" demo -c 3 -i 1 -q >/dev/null 2>&1 || fail "the packaged twampy demo failed"
cat >"$WORK/embed.c" <<'EOC'
#include <stdio.h>
#include <twampy/twampy.h>
int main(void)
{
    tw_plot_info_t info = {.title = "empty"};
    return tw_plot_svg(stdout, NULL, 0, &info) == 0 && tw_sd_notify("READY=1") == 0 ? 0 : 1;
}
EOC
PC=$WORK/root/usr/lib/$MA/pkgconfig
# The .pc names /usr: point its paths into the throwaway root.
cflags=$(PKG_CONFIG_SYSROOT_DIR=$WORK/root PKG_CONFIG_LIBDIR=$PC:/usr/lib/$MA/pkgconfig:/usr/share/pkgconfig \
    pkg-config --cflags --libs twampy) || fail "pkg-config twampy"
# _GNU_SOURCE: net.h's struct in6_pktinfo is a GNU extension of <netinet/in.h>.
# shellcheck disable=SC2086
cc -D_GNU_SOURCE -o "$WORK/embed" "$WORK/embed.c" $cflags || fail "cannot build a program against libtwampy-dev"
env -u NOTIFY_SOCKET LD_LIBRARY_PATH="$WORK/root/usr/lib/$MA" "$WORK/embed" >"$WORK/embed.svg" ||
    fail "the program linked to libtwampy.so.0 failed"
grep -q '</svg>' "$WORK/embed.svg" || fail "the embedded tw_plot_svg wrote no SVG"
readelf -d "$WORK/embed" | grep -q "NEEDED.*\[libtwampy.so.0\]" || fail "not linked to libtwampy.so.0"
note "a program built with pkg-config twampy runs on the packaged libtwampy.so.0"

mkdir -p "$OUTDIR" && cp "$DEB" "$LIB" "$DEV" "$OUTDIR"/ || fail "cannot copy to $OUTDIR"
note "deb: $(cd "$OUTDIR" && ls ./*.deb | tr '\n' ' ')in $OUTDIR"
