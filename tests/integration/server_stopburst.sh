#!/usr/bin/env bash
# The server-level reproduction of issue 9, finding 1 (a use-after-free in
# the event loop): an open-mode client opens connections of 16 sessions with
# Timeout 0 (the issue's 5; here 16 from two addresses, 256 sessions, to
# make the race likely), starts them, sends test packets to every session's
# port and Stop-Sessions on all of them at once: every session's timer expires
# in the same loop round as packet events still pending for the reflectors it
# closes. Ten rounds; the server must answer afterwards and exit 0 on SIGINT
# (under ASan, a read of a freed watch aborts it).
# Needs python3 (exit 77, skipped, without it).
source "$(dirname "$0")/lib.sh" "$@"
need_attacker

H=127.0.0.1
start_server srv "$H:0"
P=$PORT
run python3 "$ATTACK" stopburst "$H" "$P" --conns 16 --sessions 16 \
    --sources 127.0.0.1:2 --rounds 10 --bursts 20
server_answers srv "$H" "$P" "256 sessions stopped in one round"
[ "$RC" -eq 0 ] || fail "stopburst: $(tail -n 3 "$ERR")"
note "$(tr '\n' ' ' <"$OUT")"
grep -qx 'round 10: 256 sessions stopped' "$OUT" || fail "stopburst did not finish: $(cat "$OUT")"
# Every session ends (Timeout 0), then the server still answers.
wait_count srv err 'session [0-9]+ \(port [0-9]+\) ended: ' 2560 30
server_answers srv "$H" "$P" "256 sessions stopped in one round, ten times"
controller_ok -c 10 -i 5 --timeout 0.3 "$H:$P" "$H:0"
stop_server srv
expect_counters "2561 sessions accepted, 0 refused"
finish
