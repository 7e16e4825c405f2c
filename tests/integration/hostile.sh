#!/usr/bin/env bash
# A reflector under hostile traffic: every length from 0 to 65507 octets with
# valid headers and hostile padding, then random bytes (a reply only for 14
# octets or more, never longer than max(request, 41)); then a flood from
# 100,000 distinct source addresses and ports, with --max-senders bounding its
# memory: RSS stays flat and the reflector keeps answering.
source "$(dirname "$0")/lib.sh" "$1" "$2"
HOSTILE=$3
[ -x "$HOSTILE" ] || fail "not an executable: $HOSTILE"

start_responder rhost 127.0.0.1:0
run "$HOSTILE" lengths 127.0.0.1 "$PORT"
[ "$RC" -eq 0 ] || fail "lengths: $(cat "$ERR")"
note "$(cat "$OUT")"
sender_ok -c 5 -i 1 "127.0.0.1:$PORT" 127.0.0.1:0
stop_responder rhost
note "$COUNTERS"
expect_counters "0 send errors"

start_responder rflood --max-senders 20000 127.0.0.1:0
pid=${PID_OF[rflood]}
# the responder is timeout's child: find twampy's own PID
rpid=$(pgrep -P "$pid" | head -n 1)
[ -n "$rpid" ] || rpid=$pid
run "$HOSTILE" flood 127.0.0.1 "$PORT" 100000 "$rpid"
[ "$RC" -eq 0 ] || fail "flood: $(cat "$ERR")"
note "$(tr '\n' ' ' <"$OUT")"
growth=$(sed -n 's/^rss_growth_kb: //p' "$OUT")
[ -n "$growth" ] || fail "no RSS figure"
# 80,000 more senders after the table is full may not cost memory
[ "$growth" -lt 1024 ] || fail "RSS grew by $growth kB between 20,000 and 100,000 senders"
sender_ok -c 5 -i 1 "127.0.0.1:$PORT" 127.0.0.1:0
stop_responder rflood
note "$COUNTERS"
forgotten=$(echo "$COUNTERS" | sed -n 's/.* \([0-9]*\) senders forgotten.*/\1/p')
received=$(echo "$COUNTERS" | sed -n 's/.*stopped: \([0-9]*\) received.*/\1/p')
# Under load the kernel may drop some of the flood: every sender that did
# arrive beyond the 20,000 the table holds must have pushed an older one out
# (a few requests came from the probe's one sync socket).
[ "${received:-0}" -ge 50000 ] || fail "only ${received:-0} of the flood arrived: $COUNTERS"
[ "${forgotten:-0}" -ge $((received - 20000 - 20)) ] ||
    fail "expected about $((received - 20000)) senders forgotten: $COUNTERS"
# A TWAMP server facing 1,000 connections opened at once from one address:
# --max-connections-per-source (16) are greeted with modes, the rest refused
# politely with modes 0, and a controller running at the same time completes
# with 0.0% loss.
ulimit -n 4096 2>/dev/null || true
start_server srv --max-connections 64 127.0.0.1:0
sport=$PORT
start_controller good 127.0.0.1:"$sport" 127.0.0.1:0 -c 50 -i 10
run "$HOSTILE" conns 127.0.0.1 "$sport" 1000
[ "$RC" -eq 0 ] || fail "conns: $(cat "$ERR")"
note "$(cat "$OUT")"
offered=$(sed -n 's/.*: \([0-9]*\) greetings with modes,.*/\1/p' "$OUT")
refused=$(sed -n 's/.* \([0-9]*\) with modes 0,.*/\1/p' "$OUT")
# The controller holds one of the 16 places of 127.0.0.1.
[ "${offered:-0}" -ge 12 ] && [ "${offered:-0}" -le 16 ] || fail "expected about 15 greetings with modes: $(cat "$OUT")"
[ $((offered + refused)) -eq 1000 ] || fail "every connection should get a greeting: $(cat "$OUT")"
controller_done good
stop_server srv
note "$COUNTERS"
note "hostile: all checks passed"
