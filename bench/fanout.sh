#!/usr/bin/env bash
# Fan-out benchmark: fanout.sh BUILD_DIR (`make bench` runs it after run.sh).
#
# `twampy sender --targets FILE` with N targets (BENCH_TARGETS, default 10,000)
# at one packet a second each for D seconds (BENCH_FANOUT_SECONDS, default 10)
# against one `twampy responder`, and the reference measured in the same run:
# one `twampy sender` sending the same N packets a second (-i 1000/N ms) for
# the same D seconds to the same responder. Printed: the sender's CPU (user +
# system) per packet and its peak RSS in both runs, the ratio of the CPU per
# packet fan-out/single (the price of N sockets, N schedules and N reports),
# and the RSS per target. Loopback only; the exit status is 0 whatever the
# figures (non-zero only when a tool cannot run).
set -u -o pipefail
BUILD=${1:?usage: fanout.sh BUILD_DIR}
TWAMPY=$BUILD/twampy
N=${BENCH_TARGETS:-10000}
D=${BENCH_FANOUT_SECONDS:-10}
[ -x "$TWAMPY" ] || {
    echo "fanout: $TWAMPY is missing; build $BUILD first" >&2
    exit 1
}
command -v /usr/bin/time >/dev/null || {
    echo "fanout: /usr/bin/time is missing (Debian package time)" >&2
    exit 1
}
TMP=$(mktemp -d /tmp/twampy-fanout.XXXXXX)
RPID=
cleanup() {
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

"$TWAMPY" responder 127.0.0.1:0 --max-senders $((2 * N)) 2>"$TMP/r.err" &
RPID=$!
for _ in $(seq 200); do
    grep -q 'Wait to receive test packets on' "$TMP/r.err" && break
    sleep 0.05
done
PORT=$(sed -n 's/.*Wait to receive test packets on .*:\([0-9][0-9]*\).*/\1/p' "$TMP/r.err")
[ -n "$PORT" ] || {
    echo "fanout: the responder did not start: $(cat "$TMP/r.err")" >&2
    exit 1
}
for _ in $(seq "$N"); do echo "127.0.0.1:$PORT"; done >"$TMP/targets"

# run NAME ARGS...: the sender under /usr/bin/time; prints "cpu_s rss_kb sent received"
run() {
    local name=$1
    shift
    /usr/bin/time -f '%U %S %M' -o "$TMP/$name.time" "$TWAMPY" sender "$@" --json -q \
        >"$TMP/$name.json" 2>"$TMP/$name.err"
    python3 - "$TMP/$name.time" "$TMP/$name.json" <<'PY'
import json, sys
u, s, m = open(sys.argv[1]).read().split()[-3:]
c = json.load(open(sys.argv[2]))["counters"]
print(float(u) + float(s), int(m), c["sent"], c["received"])
PY
}

echo "fan-out: $N targets at 1 packet/s each for $D s, against one sender at $N packets/s (same run)"
read -r fcpu frss fsent frecv < <(run fanout --targets "$TMP/targets" -c "$D" -i 1000 --timeout 2)
interval=$(python3 -c "print(1000.0 / $N)")
read -r scpu srss ssent srecv < <(run single "127.0.0.1:$PORT" -c $((N * D)) -i "$interval" --timeout 2)
python3 - "$N" "$fcpu" "$frss" "$fsent" "$frecv" "$scpu" "$srss" "$ssent" "$srecv" <<'PY'
import sys
n = int(sys.argv[1])
fcpu, frss, fsent, frecv = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
scpu, srss, ssent, srecv = float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
fpp = fcpu / max(fsent, 1) * 1e6
spp = scpu / max(ssent, 1) * 1e6
print(f"  fan-out   : {fsent} sent, {frecv} received, CPU {fcpu:.2f} s ({fpp:.1f} us/packet), peak RSS {frss/1024:.0f} MiB ({frss/n:.0f} KiB/target)")
print(f"  reference : {ssent} sent, {srecv} received, CPU {scpu:.2f} s ({spp:.1f} us/packet), peak RSS {srss/1024:.0f} MiB")
print(f"  ratio CPU per packet fan-out/single: {fpp/spp:.2f}")
PY
