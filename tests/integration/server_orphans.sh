#!/usr/bin/env bash
# Sessions left behind cannot lock the TWAMP server (issue 9, finding 6b):
#  - default options: 64 short connections from one address each request 16
#    sessions with a 24-hour Timeout, start them and close without
#    Stop-Sessions; at most --max-sessions-per-source (128) are accepted, the
#    rest refused with Accept 5, those accepted reflect at most
#    --max-orphan-time (120 s), not a day; a controller from another address
#    then gets its session and ends with 0.0% loss;
#  - --max-total-sessions 32 --max-orphan-time 2: the same from four addresses
#    fills the server, a controller is refused (Accept 5), and once the orphans
#    have ended (2 s) a controller gets its session.
# Needs python3 (exit 77, skipped, without it).
source "$(dirname "$0")/lib.sh" "$@"
need_attacker --addr=127.0.2.4

H=127.0.0.1
start_server srv "$H:0"
P=$PORT
t0=$(now_ms)
run python3 "$ATTACK" orphans "$H" "$P" --conns 64 --sessions 16 --timeout 86400 \
    --sources 127.0.2.1:1
[ "$RC" -eq 0 ] || fail "the orphan attack failed: $(tail -n 3 "$ERR")"
note "orphan attack from one address ($(($(now_ms) - t0)) ms): $(cat "$OUT")"
grep -qx 'accepted 128 refused 896' "$OUT" ||
    fail "expected 128 sessions accepted (--max-sessions-per-source) and 896 refused: $(cat "$OUT")"
log_has srv 'refused with Accept 5 \(temporary resource limitation\): 127\.0\.2\.1 has 128 sessions, those of closed connections included \(--max-sessions-per-source 128\)$'
log_has srv '127\.0\.2\.1:[0-9]+: 16 sessions reflect for 120 s more, not their whole Timeout, now that the connection is gone \(--max-orphan-time\)$'
controller_ok -c 20 -i 5 --timeout 0.5 "$H:$P" "$H:0"
note "a controller from another address got its session"
stop_server srv
expect_counters "129 sessions accepted, 896 refused"

# ---- the whole server full of orphans: --max-orphan-time ---------------------------
start_server small "$H:0" --max-total-sessions 32 --max-orphan-time 2
P=$PORT
run python3 "$ATTACK" orphans "$H" "$P" --conns 4 --sessions 16 --timeout 86400 \
    --sources 127.0.2.1:4
[ "$RC" -eq 0 ] || fail "the orphan attack failed: $(tail -n 3 "$ERR")"
grep -qx 'accepted 32 refused 32' "$OUT" || fail "expected 32 accepted and 32 refused: $(cat "$OUT")"
expect_exit 1 "$TWAMPY" controller -c 5 --control-timeout 5 "$H:$P" "$H:0"
grep -qE 'refused session 1 in Accept-Session: Accept 5' "$ERR" ||
    fail "a controller against a full server: $(cat "$ERR")"
# The orphans end after --max-orphan-time, then a controller gets in.
wait_count small err 'session [0-9]+ \(port [0-9]+\) ended: ' 32
controller_ok -c 20 -i 5 --timeout 0.5 "$H:$P" "$H:0"
stop_server small
expect_counters "33 sessions accepted, 33 refused"
note "--max-orphan-time 2: the server full of orphans, free again 2 s later"
finish
