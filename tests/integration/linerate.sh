#!/usr/bin/env bash
# Intervals below the timer's resolution: the sender sends the packets that
# are due in sendmmsg batches (issue 12). Every packet goes, numbered in
# order, and is accounted for; the responder gets them all. Against a closed
# port the batched sends meet the ICMP errors as single sends do. No timing
# is checked: loss is allowed (the host may drop replies when loaded), but
# every loss must be accounted for.
source "$(dirname "$0")/lib.sh" "$@"

N=2000
start_responder r --workers 1 127.0.0.1:0
expect_exit 0 "$TWAMPY" sender -v -c "$N" -i 0.02 --timeout 2 "127.0.0.1:$PORT" 127.0.0.1:0
sent=$(grep -c 'Sent to 127.0.0.1' "$ERR")
[ "$sent" -eq "$N" ] || fail "$sent 'Sent to' lines, expected $N"
seqs=$(sed -n 's/.*Sent to .*\[sseq=\([0-9]*\)\].*/\1/p' "$ERR" | awk -v n="$N" '
    $1 != NR - 1 {bad++} END {print (NR == n && !bad) ? "in order" : "out of order"}')
[ "$seqs" = "in order" ] || fail "sequence numbers sent $seqs"
line=$(grep -o 'Packets: [0-9]* sent, [0-9]* received, [0-9]* lost' "$OUT")
read -r s r l < <(echo "$line" | sed 's/Packets: \([0-9]*\) sent, \([0-9]*\) received, \([0-9]*\) lost/\1 \2 \3/')
[ "$s" -eq "$N" ] && [ $((r + l)) -eq "$N" ] || fail "not all accounted for: $line"
note "sender -i 0.02 -c $N: $line"
stop_responder r
expect_counters "$N received, $N reflected, 0 too short, 0 truncated, 0 send errors"

# A closed port: ICMP port unreachable for the batched packets, named.
start_reflect closed 127.0.0.1
closed=$PORT
kill -TERM "${PID_OF[closed]}"
bg_wait closed
expect_exit 1 "$TWAMPY" sender -c 200 -i 0.02 --timeout 0.5 "127.0.0.1:$closed" 127.0.0.1:0
grep -q "answered ICMP port unreachable to [0-9]* of 200 packets" "$OUT" ||
    fail "no ICMP port unreachable line:$(printf '\n%s' "$(cat "$OUT")")"
finish
