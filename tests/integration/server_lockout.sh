#!/usr/bin/env bash
# Nobody locks the TWAMP server without a key (issue 9, finding 6a), with the
# default options:
#  - a controller's test runs while 100 idle connections, 20 that send a
#    Set-Up-Response one octet a second and 20 that send garbage (from 20
#    loopback addresses, each reconnecting when the server closes it) hold
#    more than --max-connections: its test ends with 0.0% loss;
#  - a controller started in the middle of the attack gets in (the oldest
#    connection without a Set-Up-Response is evicted for it) and ends with
#    0.0% loss; the time it took to get its session is printed;
#  - --setup-timeout 1: a client silent after the greeting and one that sets up
#    but never starts a session are closed after 1 s, a controller is not.
# Needs python3 (exit 77, skipped, without it).
source "$(dirname "$0")/lib.sh" "$@"
need_attacker --addr=127.0.1.20

H=127.0.0.1
start_server srv "$H:0"
P=$PORT
note "server on $H:$P, default options"

# The first controller: 5 s of test, under attack from its second on.
start_controller g1 -c 500 -i 10 --timeout 1 "$H:$P" "$H:0"
bg attack python3 "$ATTACK" lockout "$H" "$P" --idle 100 --slow 20 --garbage 20 \
    --sources 127.0.1.1:20
wait_for attack out '^ready: 140 attackers'
alive "${PID_OF[g1]}" || fail "the first controller was done before the attack was ready"
# The second one, in the middle of the attack.
t0=$(now_ms)
start_controller g2 -c 100 -i 10 --timeout 1 "$H:$P" "$H:0"
t1=$(now_ms)
note "a controller started mid-attack had its session after $((t1 - t0)) ms"
alive "${PID_OF[attack]}" || fail "the attack had stopped before the second controller got in"
controller_done g2
controller_done g1
note "two controllers, 0.0% loss: $(grep -E '^  Roundtrip:' "$WORK/g1.out" | head -n 1)"
kill -TERM "${PID_OF[attack]}"
bg_wait attack
[ "$BG_RC" -eq 0 ] || fail "the attack tool failed: $(tail -n 3 "$WORK/attack.err")"
note "$(cat "$WORK/attack.out" | tail -n 1)"
server_answers srv "$H" "$P" "the attack"
stop_server srv
note "$COUNTERS"
evicted=$(echo "$COUNTERS" | sed -n 's/.*; \([0-9]*\) evicted without a Set-Up-Response.*/\1/p')
[ "${evicted:-0}" -gt 0 ] || fail "no connection was evicted: $COUNTERS"

# ---- --setup-timeout -----------------------------------------------------------
start_server st "$H:0" --setup-timeout 1
P=$PORT
start_controller g3 -c 150 -i 10 --timeout 1 "$H:$P" "$H:0"
probe_ok tcp "$H" "$P" greeting eof=5
cport=$(sed -n 's/^connected from \([0-9]*\)$/\1/p' "$OUT")
log_has st "Connection from $H:$cport closed: no Set-Up-Response within 1 s of the greeting \(--setup-timeout\)\$"
probe_ok tcp "$H" "$P" greeting setup serverstart=0 eof=5
cport=$(sed -n 's/^connected from \([0-9]*\)$/\1/p' "$OUT")
log_has st "Connection from $H:$cport closed: no Start-Sessions within 1 s of Server-Start \(--setup-timeout\)\$"
controller_done g3
stop_server st
expect_counters "; 0 evicted without a Set-Up-Response, 2 closed by --setup-timeout,"
note "--setup-timeout 1: silent and never-starting clients closed, a 1.5 s test was not"
finish
