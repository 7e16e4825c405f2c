#!/usr/bin/env bash
# `twampy demo` (a reflector and a sender in one process) and --do-not-fragment
# with large packets on loopback (MTU 65536, so 8000-octet packets pass).
source "$(dirname "$0")/lib.sh" "$@"

# demo: 100 packets every 10 ms by default.
expect_exit 0 "$TWAMPY" demo
expect_no_loss "$OUT"
grep -q 'twampy demo: reflector on 127.0.0.1:' "$ERR" || fail "demo did not say where its reflector is"
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
