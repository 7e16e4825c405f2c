#!/usr/bin/env bash
# `twampy demo` (a reflector and a sender in one process) and --do-not-fragment
# with large packets on loopback (MTU 65536, so 8000-octet packets pass).
source "$(dirname "$0")/lib.sh" "$@"

# demo: 100 packets every 10 ms by default.
expect_exit 0 "$TWAMPY" demo
expect_no_loss "$OUT"
grep -q 'twampy demo: reflector on 127.0.0.1:' "$ERR" || fail "demo did not say where its reflector is"
# Sender and reflector read the same clock: no warning about unsynchronized
# clocks, the report's first line says they are shared, with the mode; the
# default log says nothing more (no "Mode: open" under the report).
grep -qE '^TWAMP light to 127\.0\.0\.1:[0-9]+ from 127\.0\.0\.1:[0-9]+; mode open; clocks shared \(the reflector is on this host\)$' "$OUT" ||
    fail "demo: no header line with the mode and the shared clocks:$(printf '\n%s' "$(head -n 2 "$OUT")")"
if grep -q 'not synchronized' "$OUT"; then
    fail "demo on loopback warns about unsynchronized clocks: $(grep 'not synchronized' "$OUT")"
fi
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "demo logged more than its banner:$(printf '\n%s' "$(cat "$ERR")")"
expect_exit 0 "$TWAMPY" demo -c 5 -i 1 --json
grep -qE '"shared": *true' "$OUT" ||
    fail "demo --json: clock.shared is not true:$(printf '\n%s' "$(grep -A3 '"clock"' "$OUT")")"
grep -qE '"security_mode": *"open"' "$OUT" || fail "demo --json: no config.security_mode \"open\""
expect_exit 0 "$TWAMPY" demo --stamp -c 20
expect_no_loss "$OUT"
grep -q 'STAMP' "$ERR" || fail "demo --stamp did not announce STAMP packets"
expect_exit 0 "$TWAMPY" demo -c 24 -i 1 --padding -1
expect_no_loss "$OUT"
# -v logs one "Reply from" per packet.
expect_exit 0 "$TWAMPY" demo -v -c 5 -i 1
expect_no_loss "$OUT"
[ "$(grep -c 'Reply from ' "$ERR")" -eq 5 ] || fail "demo -v -c 5: expected 5 'Reply from' lines"

# --do-not-fragment with 8000 octets of padding (8042-octet IPv4 packets).
start_responder rdf 127.0.0.1:0
sender_ok --do-not-fragment --padding 8000 -c 3 -i 5 "127.0.0.1:$PORT" 127.0.0.1:0
sender_ok --do-not-fragment --stamp --padding 8000 -c 3 -i 5 "127.0.0.1:$PORT" 127.0.0.1:0
stop_responder rdf
expect_counters "6 received, 6 reflected, 0 too short"
if have_ipv6; then
    start_responder rdf6 '[::1]:0'
    sender_ok --do-not-fragment --padding 8000 -c 3 -i 5 "[::1]:$PORT" '[::1]:0'
    stop_responder rdf6
    expect_counters "3 received, 3 reflected, 0 too short"
fi
# The responder's own --do-not-fragment on its replies.
start_responder rdfr --do-not-fragment 127.0.0.1:0
sender_ok --do-not-fragment --padding 8000 -c 3 -i 5 "127.0.0.1:$PORT" 127.0.0.1:0
stop_responder rdfr
expect_counters "3 received, 3 reflected, 0 too short"

note "demo: all checks passed"
