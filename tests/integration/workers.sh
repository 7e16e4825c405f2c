#!/usr/bin/env bash
# responder --workers: several threads, each with its own SO_REUSEPORT socket
# on one port. Six senders at once (distinct source ports) all get every
# reply; the merged counters line adds up to what they sent, and so do the
# per-worker lines. A port another responder holds is refused with several
# workers as with one; --workers 0 is a usage error.
source "$(dirname "$0")/lib.sh" "$@"

SENDERS=6
COUNT=40
start_responder rw --workers 2 127.0.0.1:0
note "responder with 2 workers on 127.0.0.1:$PORT"
for i in $(seq 1 "$SENDERS"); do
    bg "s$i" "$TWAMPY" sender -c "$COUNT" -i 2 "127.0.0.1:$PORT" 127.0.0.1:0
done
for i in $(seq 1 "$SENDERS"); do
    bg_wait "s$i"
    [ "$BG_RC" -eq 0 ] || fail "sender s$i exited with $BG_RC"
    expect_no_loss "$WORK/s$i.out"
done
# One more, STAMP, with a port of its own: still 0 loss.
sender_ok --stamp -c 10 -i 2 "127.0.0.1:$PORT" 127.0.0.1:0

# A second responder on the same port is refused (no silent sharing).
expect_exit 1 "$TWAMPY" responder --workers 2 "127.0.0.1:$PORT"
grep -q 'in use' "$ERR" || fail "second responder on port $PORT: no 'in use' in: $(cat "$ERR")"

stop_responder rw
total=$((SENDERS * COUNT + 10))
expect_counters "$total received, $total reflected, 0 too short, 0 truncated, 0 send errors"
rx=0
tx=0
n=0
while read -r a b; do
    rx=$((rx + a))
    tx=$((tx + b))
    n=$((n + 1))
done < <(sed -n 's/.*worker [0-9]* of 2: \([0-9]*\) received, \([0-9]*\) reflected.*/\1 \2/p' \
    "$WORK/rw.err")
[ "$n" -eq 2 ] || fail "expected 2 per-worker counter lines, got $n"
[ "$rx" -eq "$total" ] && [ "$tx" -eq "$total" ] ||
    fail "per-worker counters add up to $rx received, $tx reflected, not $total"

# One worker logs no per-worker lines.
start_responder r1 --workers 1 127.0.0.1:0
sender_ok -c 5 -i 2 "127.0.0.1:$PORT" 127.0.0.1:0
stop_responder r1
expect_counters "5 received, 5 reflected"
if grep -q 'worker 1 of' "$WORK/r1.err"; then fail "--workers 1 logged per-worker lines"; fi

# server --workers 2: every connection of one source goes to one worker
# (tw_reuseport_by_source), its sessions reflected there, all with 0 loss.
start_server srv --workers 2 127.0.0.1:0
for i in 1 2 3 4; do
    controller_ok -c 5 -i 2 --timeout 0.3 "127.0.0.1:$PORT" 127.0.0.1:0
done
expect_exit 1 "$TWAMPY" server --workers 2 "127.0.0.1:$PORT"
grep -q 'in use' "$ERR" || fail "second server on port $PORT: no 'in use' in: $(cat "$ERR")"
stop_server srv
expect_counters "4 connections (0 refused, 0 closed for protocol errors), 4 sessions accepted"
per=$(sed -n 's/.*worker [0-9]* of 2: \([0-9]*\) connections, \([0-9]*\) sessions accepted.*/\1 \2/p' \
    "$WORK/srv.err" | sort | tr '\n' ' ')
[ "$per" = "0 0 4 4 " ] || fail "server workers: expected '0 0' and '4 4' (one source, one worker), got '$per'"

expect_exit 2 "$TWAMPY" responder --workers 0 127.0.0.1:0
grep -q -- '--workers' "$ERR" || fail "--workers 0: no reason given"
finish
