#!/usr/bin/env bash
# TWAMP server at scale: serverscale.sh BUILD_DIR (`make bench` runs it after
# run.sh and fanout.sh).
#
# One `twampy server --workers 1`, and controllers of up to 64 sessions each
# (many control connections, `--sessions`), every session at 2 packets a
# second, added in steps until the server holds each N of BENCH_SESSIONS
# (default "10 100 1000 10000") sessions at once. At each step, once the
# server's log says all N started: its RSS, and over the next
# BENCH_SCALE_WINDOW seconds (default 5) its CPU time (all threads,
# /proc/PID/task/*/schedstat) and the packets it reflected (its own counter,
# twampy_server_test_packets_reflected on --metrics). Printed per N: the RSS per
# session past the first step ((RSS(N) - RSS(first N)) / (N - first N)) and
# the CPU per reflected packet, with ratios to the first figure of the same
# run: flat means ratios near 1. Loopback only; the exit status is 0 whatever
# the figures (non-zero only when a tool cannot run). --setup-timeout 120: a
# hundred controllers negotiating at once on a small shared machine can take
# longer than the default 10 s between Server-Start and Start-Sessions.
set -u -o pipefail
BUILD=${1:?usage: serverscale.sh BUILD_DIR}
TWAMPY=$BUILD/twampy
LIST=${BENCH_SESSIONS:-10 1000 10000}
WIN=${BENCH_SCALE_WINDOW:-5}
PER=64 # sessions per control connection
[ -x "$TWAMPY" ] || {
    echo "serverscale: $TWAMPY is missing; build $BUILD first" >&2
    exit 1
}
TMP=$(mktemp -d /tmp/twampy-srvscale.XXXXXX)
SPID=
CPIDS=()
stop_controllers() {
    local p
    for p in "${CPIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${CPIDS[@]}"; do wait "$p" 2>/dev/null; done
    CPIDS=()
}
cleanup() {
    stop_controllers
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
    [ -n "${BENCH_KEEP:-}" ] && echo "serverscale: kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two sockets per session (the server's reflector, the controller's sender).
MAX=0
for n in $LIST; do [ "$n" -gt "$MAX" ] && MAX=$n; done
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((MAX + 512)) ]; then
    echo "serverscale: $MAX sessions need $((MAX + 512)) file descriptors in the server;" \
        "the limit is $(ulimit -n): lower BENCH_SESSIONS or raise ulimit -n" >&2
    exit 1
fi

# rss_kb PID, cpu_ns PID: from /proc.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# cpu_ns: time on CPU of all its threads, in ns (schedstat: finer than clock ticks).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
# reflected: the server's counter, from its metrics endpoint (bash's /dev/tcp).
reflected() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$MPORT" || return 1
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    while IFS= read -r line <&3; do
        case $line in
        twampy_server_test_packets_reflected*) echo "${line##* }" | tr -d '\r' ;;
        esac
    done
    exec 3<&-
}
# started: sessions started so far, from the server's log.
started() {
    sed -n 's/.*Start-Sessions: \([0-9][0-9]*\) sessions* started.*/\1/p' "$TMP/s.err" |
        awk '{s += $1} END {print s + 0}'
}

echo "-- (h) TWAMP server at scale: --workers 1, $PER sessions per control connection," \
    "2 packets/s per session, ${WIN} s measured at each step"
"$TWAMPY" server 127.0.0.1:0 --workers 1 --metrics 127.0.0.1:0 --max-sessions $PER \
    --max-connections $((MAX / PER + 16)) --max-connections-per-source $((MAX / PER + 16)) \
    --max-total-sessions "$MAX" --max-sessions-per-source "$MAX" --setup-timeout 120 \
    2>"$TMP/s.err" &
SPID=$!
for _ in $(seq 200); do
    grep -q 'TWAMP server listening on' "$TMP/s.err" && break
    sleep 0.05
done
PORT=$(sed -n 's/.*TWAMP server listening on .*:\([0-9][0-9]*\).*/\1/p' "$TMP/s.err" | head -n1)
MPORT=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9][0-9]*\)/.*|\1|p' "$TMP/s.err" | head -n1)
if [ -z "$PORT" ] || [ -z "$MPORT" ]; then
    echo "serverscale: the server did not start:" >&2
    cat "$TMP/s.err" >&2
    exit 1
fi
echo "  idle server: RSS $(rss_kb "$SPID") KiB"
ROWS=()
HAVE=0 # sessions requested so far
i=0
for N in $LIST; do
    left=$((N - HAVE))
    while [ "$left" -gt 0 ]; do
        k=$((left < PER ? left : PER))
        # -c 0: until stopped; a local port of 0: the kernel's choice for each.
        "$TWAMPY" controller "127.0.0.1:$PORT" 127.0.0.1:0 --sessions "$k" -c 0 -i 500 -q \
            >/dev/null 2>"$TMP/c$i.err" &
        CPIDS+=($!)
        left=$((left - k))
        i=$((i + 1))
    done
    HAVE=$N
    for _ in $(seq $((20 * (30 + N / 200)))); do
        [ "$(started)" -ge "$N" ] && break
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
    done
    if [ "$(started)" -lt "$N" ]; then
        echo "  $N sessions: only $(started) started; stopping here. The server's last" \
            "lines, a controller's:" >&2
        grep -v 'ended: ' "$TMP/s.err" | tail -n 3 >&2
        tail -n 2 "$TMP/c$((i - 1)).err" >&2
        break
    fi
    RSS=$(rss_kb "$SPID")
    C0=$(cpu_ns "$SPID")
    P0=$(reflected)
    sleep "$WIN"
    C1=$(cpu_ns "$SPID")
    P1=$(reflected)
    PKTS=$((P1 - P0))
    NS_PER=$(awk -v a="$C0" -v b="$C1" -v p="$PKTS" 'BEGIN {
        if (p > 0) printf "%.0f", (b - a) / p; else print "n/a" }')
    printf '  %6d sessions: RSS %d KiB; %d packets reflected in %d s, %s ns CPU per packet\n' \
        "$N" "$RSS" "$PKTS" "$WIN" "$NS_PER"
    ROWS+=("$N $RSS $NS_PER $PKTS")
done
stop_controllers

echo
echo "(h) TWAMP server at scale (one server, sessions added in steps; ratios to the first"
echo "    figure of this run: flat = near 1)"
printf '    %-10s %10s %18s %8s %16s %8s\n' sessions "RSS KiB" "KiB/session past" ratio \
    "ns CPU/packet" ratio
N0=
for r in "${ROWS[@]}"; do
    read -r n rss ns p <<<"$r"
    if [ -z "$N0" ]; then
        N0=$n
        R0=$rss
        NS0=$ns
        KB0=
        printf '    %-10s %10s %18s %8s %16s %8s\n' "$n" "$rss" "-" "-" "$ns" 1.00
        continue
    fi
    kb=$(awk -v a="$rss" -v b="$R0" -v n="$n" -v m="$N0" 'BEGIN {printf "%.2f", (a - b) / (n - m)}')
    [ -n "$KB0" ] || KB0=$kb
    printf '    %-10s %10s %18s %8s %16s %8s\n' "$n" "$rss" "$kb" \
        "$(awk -v a="$kb" -v b="$KB0" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}')" \
        "$ns" \
        "$(awk -v a="$ns" -v b="$NS0" 'BEGIN {if (b + 0 > 0 && a != "n/a") printf "%.2f", a / b; else print "n/a"}')"
done
echo "    note: at a few packets a second per session each packet wakes the server on its own;"
echo "    with more sessions the packets come closer and more share a wake-up"
