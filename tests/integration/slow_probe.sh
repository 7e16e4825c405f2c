#!/usr/bin/env bash
# Probes further apart than the reflector's idle reset (issue 9, finding 2).
# The responder's --timer (0.1 s here, a fraction of a second) restarts a
# sender's reflector sequence numbers when it has been idle that long, so
# every reply to `sender -i 600` carries rseq 0, as a once-a-minute probe
# against a default (30 s) responder does:
#  - nothing lost: 0 lost, outbound 0 and inbound 0, every Loss cell 0.0%
#    (the old report: "0 lost (outbound 2)", Outbound 66.7%);
#  - twampy_relay (the third argument) dropping every 2nd request: the
#    direction of the losses cannot be known across the restarts: n/a in the
#    table, null in JSON with the reasons, and never a direction's loss above
#    the round trip's (the old report: 3 lost outbound of 2 lost);
#  - --timer below 0.001 s is a usage error.
source "$(dirname "$0")/lib.sh" "$@"

RELAY=${3:-}
[ -x "$RELAY" ] || fail "the third argument must be twampy_relay"

start_responder resp -v --timer 0.1 127.0.0.1:0
rport=$PORT

# ---- nothing lost ------------------------------------------------------------
expect_exit 0 "$TWAMPY" sender -c 3 -i 600 --timeout 1 -v "127.0.0.1:$rport" 127.0.0.1:0
# The reflector's counter did restart for every probe, else this proves nothing.
n=$(grep -cE 'Reply from .*\[rseq=0 sseq=[0-2] ' "$ERR")
[ "$n" -eq 3 ] ||
    fail "expected 3 replies with rseq=0 (a counter restarted by --timer 0.1), got: $(grep 'Reply from' "$ERR")"
grep -q '^Packets: 3 sent, 3 received, 0 lost (outbound 0, inbound 0), ' "$OUT" ||
    fail_later "text report: $(grep '^Packets:' "$OUT")"
expect_no_loss "$OUT"
grep -q 'loss n/a' "$OUT" && fail_later "a loss warning with nothing lost: $(grep Warning "$OUT")"
# The responder says why it restarted, with the timer as given.
grep -q 'reset rseq:=0   (session timeout, 0.1s)' "$WORK/resp.err" ||
    fail_later "responder: no 'session timeout, 0.1s' line: $(grep 'reset rseq' "$WORK/resp.err")"

expect_exit 0 "$TWAMPY" sender -c 3 -i 600 --timeout 1 --json "127.0.0.1:$rport" 127.0.0.1:0
grep -q '"lost": {"round_trip": 0, "outbound": 0, "inbound": 0, "unattributed": 0, ' "$OUT" ||
    fail_later "JSON: $(grep '"lost"' "$OUT")"

# ---- every 2nd request lost: 0 and 2 answered (each rseq 0), 1 and 3 not -------
start_relay() {
    bg "$1" "$RELAY" 0 "$rport" --drop-every 2
    wait_for "$1" out '^listening on [0-9]+$'
    RPORT=$(sed -n 's/^listening on \([0-9][0-9]*\)$/\1/p' "$WORK/$1.out")
}
start_relay relay_text
expect_exit 0 "$TWAMPY" sender -c 4 -i 600 --timeout 0.5 "127.0.0.1:$RPORT" 127.0.0.1:0
kill -TERM "${PID_OF[relay_text]}"
bg_wait relay_text
grep -q '^Packets: 4 sent, 2 received, 2 lost (outbound n/a, inbound n/a), ' "$OUT" ||
    fail_later "text report: $(grep '^Packets:' "$OUT")"
grep -qE '^  Roundtrip: .* 50\.0%$' "$OUT" || fail_later "no 50.0% round-trip loss: $(cat "$OUT")"
for row in Outbound Inbound; do
    grep -qE "^  $row: .*  n/a\$" "$OUT" || fail_later "no n/a in the $row row: $(cat "$OUT")"
done
grep -q "^Warning: outbound and inbound loss n/a: 2 of the 2 lost packets cannot be given a direction (.*sequence counter restarted" "$OUT" ||
    fail_later "no warning on the loss: $(grep Warning "$OUT")"

start_relay relay_json
expect_exit 0 "$TWAMPY" sender -c 4 -i 600 --timeout 0.5 --json "127.0.0.1:$RPORT" 127.0.0.1:0
kill -TERM "${PID_OF[relay_json]}"
bg_wait relay_json
want='"lost": {"round_trip": 2, "outbound": null, "inbound": null, "unattributed": 2, "outbound_at_least": 0, "inbound_at_least": 0, "direction_unknown": ["edges", "counter_restart"]}'
grep -qF "$want" "$OUT" || fail_later "JSON: $(grep '"lost"' "$OUT"), expected $want"
grep -qF '"loss_percent": {"round_trip": 50, "outbound": null, "inbound": null}' "$OUT" ||
    fail_later "JSON: $(grep '"loss_percent"' "$OUT")"

stop_responder resp

# ---- --timer: fractions, not below 1 ms ---------------------------------------
expect_exit 2 "$TWAMPY" responder --timer 0.0001 127.0.0.1:0
grep -q -- '--timer' "$ERR" || fail "no reason for --timer 0.0001: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" responder --timer soon 127.0.0.1:0
finish
