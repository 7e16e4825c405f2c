#!/usr/bin/env bash
# TWAMP light with pseudo-random padding (RFC 4656 §4.1.2) over loopback: the
# responder must not take it for STAMP. twampy_probe request --random-padding
# sends 64- and 1000-octet TWAMP light requests with random padding from two
# sockets: the replies are as long as the requests, their MBZ octets 14..15
# zero, and the reflector's sequence numbers count 0, 1, 2 per sender (a
# padding octet in the state key would start a new count with every packet).
# Then --format: STAMP requests against --format stamp get their SSID back,
# and --format and --rate-limit are checked on the command line.
source "$(dirname "$0")/lib.sh" "$@"

padding_against() {
    local name=$1 host=$2
    shift 2
    start_responder "$name" "$@"
    expect_exit 0 "$PROBE" request "$host" "$PORT" --random-padding 64
    expect_exit 0 "$PROBE" request "$host" "$PORT" --random-padding 1000
    # STAMP from the same responder: SSID back, one count per SSID.
    expect_exit 0 "$PROBE" request "$host" "$PORT" --stamp
    stop_responder "$name"
    expect_counters "16 received, 16 reflected, 0 too short"
    expect_counters "0 senders forgotten"
}

padding_against r4 127.0.0.1 127.0.0.1:0
if have_ipv6; then
    padding_against r6 ::1 '[::1]:0'
else
    note "SKIP: no ::1 on this host, IPv6 not run"
fi
padding_against rauto 127.0.0.1 --format auto --rate-limit 1000:1000 127.0.0.1:0
expect_counters "0 over --rate-limit"

# --format stamp: STAMP requests get their SSID back, one count per SSID.
start_responder rstamp --format stamp 127.0.0.1:0
expect_exit 0 "$PROBE" request 127.0.0.1 "$PORT" --stamp
stop_responder rstamp
expect_counters "6 received, 6 reflected"

# --format twamp answers every request as TWAMP: random padding as above.
start_responder rtwamp --format twamp 127.0.0.1:0
expect_exit 0 "$PROBE" request 127.0.0.1 "$PORT" --random-padding 64
stop_responder rtwamp
expect_counters "5 received, 5 reflected"

# Usage errors: exit 2 with the reason.
expect_exit 2 "$TWAMPY" responder --format stamps 127.0.0.1:0
grep -q "'stamps' is not auto, twamp or stamp" "$ERR" || fail "no reason for --format stamps"
expect_exit 2 "$TWAMPY" responder --rate-limit 0 127.0.0.1:0
expect_exit 2 "$TWAMPY" responder --rate-limit 10:x 127.0.0.1:0
# (Not a pipe into grep -q: it may exit before --help is written, SIGPIPE.)
help=$("$TWAMPY" responder --help)
grep -q -- '--format auto|twamp|stamp' <<<"$help" || fail "--help has no --format"
grep -q -- '--rate-limit PPS\[:BURST\]' <<<"$help" || fail "--help has no --rate-limit"

note "padding: all checks passed"
