#!/usr/bin/env bash
# Ending a run early or without replies:
#  - Ctrl-C (SIGINT) and SIGTERM to a long sender: exit 0, the report for what
#    was sent (three rows with a Loss column);
#  - SIGTERM to a responder: exit 0 and its counters line, also with
#    --busy-poll while packets keep arriving faster than the poll period;
#  - a sender against a port where nothing listens: "NO STATS AVAILABLE (100%
#    loss)", the ICMP port unreachables named, and exit 1 (not a single usable
#    reply, as ping).
source "$(dirname "$0")/lib.sh" "$@"

start_responder resp 127.0.0.1:0
rport=$PORT

# stop_sender SIGNAL NAME: a sender of 100000 packets every 10 ms, stopped by
# SIGNAL as soon as its first reply is in.
stop_sender() {
    local sig=$1 name=$2
    shift 2
    bg "$name" "$TWAMPY" sender -c 100000 -i 10 -v "$@"
    wait_for "$name" err 'Reply from '
    kill -"$sig" "${PID_OF[$name]}"
    bg_wait "$name"
    [ "$BG_RC" -eq 0 ] || fail "sender exited with $BG_RC after SIG$sig, expected 0"
    grep -q "NOTICE   SIG$sig received: stop sending\$" "$WORK/$name.err" || fail "sender did not log SIG$sig"
    local row
    for row in Outbound Inbound Roundtrip; do
        # A packet in flight when the signal came may have been lost either
        # way: the directions' Loss may say n/a (never the round trip's).
        grep -qE "^  $row: .* ([0-9]+\.[0-9]%|n/a)\$" "$WORK/$name.out" ||
            fail "after SIG$sig: no '$row:' row with a loss percentage:$(printf '\n%s' "$(cat "$WORK/$name.out")")"
    done
    grep -qE "^  Roundtrip: .* [0-9]+\.[0-9]%\$" "$WORK/$name.out" ||
        fail "after SIG$sig: no round-trip loss percentage"
    grep -qE '^Direction +Min +Max +Avg +Jitter +Loss$' "$WORK/$name.out" ||
        fail "after SIG$sig: no table header with a Loss column"
    # It stopped long before 100000 packets: the report covers what was sent.
    local sent
    sent=$(grep -c 'Sent to ' "$WORK/$name.err")
    if [ "$sent" -lt 1 ] || [ "$sent" -ge 100000 ]; then
        fail "after SIG$sig: $sent packets logged as sent"
    fi
    # Loss is counted against the packets sent, not the 100000 asked for (at
    # least one reply is in, so it is below 99% unless 99 replies were missing).
    local loss
    loss=$(sed -n 's/^  Roundtrip: .* \([0-9.]*\)%$/\1/p' "$WORK/$name.out")
    awk -v l="$loss" 'BEGIN { exit !(l < 99.0) }' ||
        fail "after SIG$sig: roundtrip loss $loss% (counted against -c 100000?)"
    note "SIG$sig stopped the sender after $sent packets, roundtrip loss $loss%"
}

stop_sender INT sint "127.0.0.1:$rport" 127.0.0.1:0
stop_sender TERM sterm --stamp "127.0.0.1:$rport" 127.0.0.1:0

# The responder on SIGTERM: exit 0 and its counters. Its received count is at
# least what the two senders had answered.
kill -TERM "${PID_OF[resp]}"
bg_wait resp
[ "$BG_RC" -eq 0 ] || fail "responder exited with $BG_RC after SIGTERM, expected 0"
grep -q 'NOTICE   SIGTERM received: stop TWL session reflector$' "$WORK/resp.err" || fail "responder did not log SIGTERM"
COUNTERS=$(grep -o 'TWL session reflector stopped: .*' "$WORK/resp.err")
[ -n "$COUNTERS" ] || fail "responder logged no counters on SIGTERM"
received=$(echo "$COUNTERS" | sed -n 's/.*stopped: \([0-9]*\) received.*/\1/p')
replies=$(cat "$WORK/sint.err" "$WORK/sterm.err" | grep -c 'Reply from ')
[ "$received" -ge "$replies" ] || fail "responder received $received, senders got $replies replies"
expect_counters "0 too short, 0 truncated, 0 send errors"

# --busy-poll longer than the gap between packets: the responder never goes
# back to sleep, and SIGTERM must still stop it at once with its counters.
start_responder busy 127.0.0.1:0 --busy-poll 200000
bport=$PORT
bg busysender "$TWAMPY" sender -c 0 -i 5 -v "127.0.0.1:$bport" 127.0.0.1:0
wait_for busysender err 'Reply from '
wait_count busysender err 'Reply from ' 20
kill -TERM "${PID_OF[busy]}"
t0=$(now_ms)
deadline=$((SECONDS + 15))
while alive "${PID_OF[busy]}" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.02; done
alive "${PID_OF[busy]}" && fail "responder --busy-poll still running 15 s after SIGTERM under traffic"
note "responder --busy-poll stopped $(($(now_ms) - t0)) ms after SIGTERM under traffic"
bg_wait busy
[ "$BG_RC" -eq 0 ] || fail "responder --busy-poll exited with $BG_RC after SIGTERM, expected 0"
grep -q 'TWL session reflector stopped: ' "$WORK/busy.err" ||
    fail "responder --busy-poll logged no counters on SIGTERM"
kill -INT "${PID_OF[busysender]}"
bg_wait busysender

# Nothing listens on the port the stopped responder had.
expect_exit 1 "$TWAMPY" sender -c 2 --timeout 0.2 "127.0.0.1:$rport" 127.0.0.1:0
grep -qx "ICMP: 127.0.0.1:$rport answered ICMP port unreachable to 2 of 2 packets: is a reflector listening?" "$OUT" ||
    fail "the ICMP port unreachables are not named:$(printf '\n%s' "$(cat "$OUT")")"
grep -qx '  NO STATS AVAILABLE (100% loss)' "$OUT" ||
    fail "no 'NO STATS AVAILABLE (100% loss)' line:$(printf '\n%s' "$(cat "$OUT")")"
if grep -qE '^  (Outbound|Inbound|Roundtrip):' "$OUT"; then
    fail "report rows printed although nothing answered"
fi

# Half the replies missing: the probe answers the first of two requests and
# exits, so the report shows 50% roundtrip loss, and the sender exits 0.
start_reflect half 127.0.0.1 --count 1 --expect-len 41
expect_exit 0 "$TWAMPY" sender -c 2 -i 5 --timeout 0.2 "127.0.0.1:$PORT" 127.0.0.1:0
probe_done half
grep -qE '^  Roundtrip: .* 50\.0%$' "$OUT" ||
    fail "expected 50.0% roundtrip loss:$(printf '\n%s' "$(cat "$OUT")")"

note "interrupt: all checks passed"
