#!/usr/bin/env bash
# Replies dropped by the sender's own receive buffer are reported as dropped
# by this host, never as network loss (issue 12). twampy_burst holds the
# replies to N requests; the sender is stopped (SIGSTOP) while they all come
# at once, far more than its receive buffer (sized for 1000 packets/s) holds;
# then the last reply, and SIGINT once it is read. Every loss is inbound and
# every one of them is counted as dropped by this host: the report says "N
# lost inbound, of which N dropped by this host's receive buffer", and the
# JSON has "receive_buffer": N. No timing: each step waits for a line.
source "$(dirname "$0")/lib.sh" "$@"
BURST=${3:?usage: localdrops.sh TWAMPY PROBE BURST}
N=1000

# drop_run NAME [SENDER ARGS...]: one run; sets DROPS (the dropped count).
drop_run() {
    local name=$1 b=burst_$1 pid bpid
    shift
    bg "$b" "$BURST" "$N"
    wait_for "$b" out '^listening on [0-9]+$'
    local port
    port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$WORK/$b.out")
    bg "$name" "$TWAMPY" sender -v -c "$N" -i 1 --timeout 60 "$@" "127.0.0.1:$port" 127.0.0.1:0
    wait_for "$b" out "^holding $N\$" 30
    # The programs themselves, not the `timeout` that runs each (lib.sh's bg).
    bpid=$(pgrep -P "${PID_OF[$b]}" twampy_burst || true)
    [ -n "$bpid" ] || fail "no twampy_burst process under ${PID_OF[$b]}"
    pid=$(pgrep -P "${PID_OF[$name]}" twampy || true)
    [ -n "$pid" ] || fail "no twampy process under ${PID_OF[$name]}"
    kill -STOP "$pid"
    kill -USR1 "$bpid"
    wait_for "$b" out '^burst sent$'
    kill -CONT "$pid"
    kill -USR1 "$bpid"
    wait_for "$b" out '^done$'
    bg_wait "$b"
    wait_for "$name" err "sseq=$((N - 1)) " 30
    kill -INT "$pid"
    bg_wait "$name"
    [ "$BG_RC" -eq 0 ] || fail "sender $name exited with $BG_RC"
}

drop_run text
line=$(grep -o '[0-9]* lost inbound, of which [0-9]* dropped by this host.s receive buffer' \
    "$WORK/text.out" | head -n 1)
[ -n "$line" ] || fail "no 'lost inbound, of which ... dropped by this host' in the report:
$(cat "$WORK/text.out")"
lost=${line%% *}
dropped=$(echo "$line" | sed 's/.*of which \([0-9]*\) dropped.*/\1/')
note "text report: $line"
[ "$dropped" -gt 0 ] || fail "nothing dropped: the burst fit the receive buffer"
[ "$dropped" -eq "$lost" ] || fail "$lost lost inbound but $dropped dropped by this host"
grep -qE "^  Inbound: .* [0-9.]+%\$" "$WORK/text.out" || fail "no Inbound row"

drop_run json --json
grep -qE '"receive_buffer": *[1-9][0-9]*' "$WORK/json.out" ||
    fail "no dropped_by_this_host.receive_buffer > 0 in the JSON:
$(grep -A3 dropped_by_this_host "$WORK/json.out")"
finish
