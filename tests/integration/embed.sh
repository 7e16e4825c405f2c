#!/bin/sh
# The library as another program sees it: `cmake --install` into a scratch
# prefix, then examples/measure.c built against the installed headers only
# (<twampy/twampy.h>), with the flags of the installed twampy.pc, linked to the
# shared library, and run against its own loopback reflector.
# Usage: embed.sh BUILD_DIR SOURCE_DIR CC
set -u
BUILD=$1 SRC=$2 CC=$3
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
    fail "cmake --install: $(tail -n 5 "$T/install.log")"
PC=$(find "$T/prefix" -name twampy.pc | head -n 1)
[ -n "$PC" ] || fail "no twampy.pc installed"
[ -f "$T/prefix/include/twampy/twampy.h" ] || fail "no include/twampy/twampy.h installed"
# Internal headers stay inside: a public header never includes one.
for h in control_server keyfile testfmt peertable ratelimit siphash server_guard; do
    [ ! -e "$T/prefix/include/twampy/$h.h" ] || fail "internal header $h.h installed"
done
LIB=$(find "$T/prefix" -name 'libtwampy.so.0' | head -n 1)
[ -n "$LIB" ] || fail "no libtwampy.so.0 installed"
soname=$(readelf -d "$LIB" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libtwampy.so.0 ] || fail "SONAME is '$soname', not libtwampy.so.0"

export PKG_CONFIG_PATH="$(dirname "$PC")"
pkg-config --exists twampy || fail "pkg-config does not find twampy in $PKG_CONFIG_PATH"
cflags=$(pkg-config --cflags twampy) libs=$(pkg-config --libs twampy)
case "$cflags" in *"$SRC"*) fail "the flags name the source tree: $cflags" ;; esac
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -Werror -pedantic $cflags "$SRC/examples/measure.c" $libs \
    -o "$T/measure" 2>"$T/cc.log" || fail "examples/measure.c does not build: $(cat "$T/cc.log")"
ldd "$T/measure" | grep -q "libtwampy.so.0 => $T/prefix" ||
    LD_LIBRARY_PATH="$(dirname "$LIB")" ldd "$T/measure" | grep -q "libtwampy.so.0 => $T/prefix" ||
    fail "measure is not linked to the installed libtwampy.so.0: $(ldd "$T/measure")"

LD_LIBRARY_PATH="$(dirname "$LIB")" "$T/measure" >"$T/out" 2>"$T/err" ||
    fail "measure exited $?: $(cat "$T/err")"
grep -q "^STAMP to 127.0.0.1:[0-9]* from " "$T/out" || fail "no report header: $(head -n 3 "$T/out")"
grep -q "Packets: 20 sent, 20 received, 0 lost" "$T/out" || fail "not 20 of 20: $(cat "$T/out")"
LD_LIBRARY_PATH="$(dirname "$LIB")" "$T/measure" -j >"$T/json" 2>"$T/err" ||
    fail "measure -j exited $?: $(cat "$T/err")"
python3 - "$T/json" <<'PY' || fail "the JSON report is not what the schema says"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "twampy-report/1", d["schema"]
assert d["command"] == "measure"
assert d["config"]["mode"] == "stamp"
assert d["counters"]["sent"] == 20 and d["counters"]["received"] == 20, d["counters"]
PY
echo "PASS: installed headers, twampy.pc, SONAME $soname; examples/measure.c built and measured 20/20"
