#!/usr/bin/env bash
# The TWAMP server out of file descriptors (issue 9, finding 4):
#  - a running server whose descriptor limit is lowered (prlimit --pid) to a
#    few above what it holds, then 60 connections at once: accept() fails with
#    EMFILE; the listener pauses instead of firing again at once, so the log
#    stays small (the spinning server wrote ~100,000 lines a second); once the
#    clients close, a controller completes with 0.0% loss under the same limit;
#  - at start, limits that cannot fit RLIMIT_NOFILE are refused with a reason
#    (exit 1), and smaller ones are served.
# Needs python3 and prlimit (exit 77, skipped, without them).
source "$(dirname "$0")/lib.sh" "$@"
need_attacker prlimit pgrep

H=127.0.0.1
start_server srv "$H:0"
P=$PORT
spid=$(pgrep -P "${PID_OF[srv]}" | head -n 1)
[ -n "$spid" ] || fail "no twampy process under ${PID_OF[srv]}"
# A limit that leaves it four free descriptor numbers.
held=$(find "/proc/$spid/fd" -mindepth 1 -maxdepth 1 | wc -l)
free=0 limit=0
while [ "$free" -lt 4 ]; do
    [ -e "/proc/$spid/fd/$limit" ] || free=$((free + 1))
    limit=$((limit + 1))
done
prlimit --pid "$spid" --nofile="$limit:$limit" || fail "prlimit --pid $spid failed"
note "server on $H:$P holds $held descriptors; limit now $limit (4 free)"

before=$(wc -l <"$WORK/srv.err")
bg hold python3 "$ATTACK" hold "$H" "$P" 60
wait_for hold out "^connected 60$"
wait_for srv err 'accept'
# The measurement: the log over two seconds of the attack.
sleep 2
during=$(($(wc -l <"$WORK/srv.err") - before))
note "out of descriptors for 2 s: $during log lines"
[ "$during" -lt 30 ] ||
    fail "the server logged $during lines in 2 s out of descriptors: $(sed -n "$((before + 1)),$((before + 5))p" "$WORK/srv.err" | cut -c1-200)"
log_has srv 'cannot accept a connection: Too many open files; the listener pauses'

# The clients go: the server takes what is left in its queue, then serves a
# controller with the same limit.
kill -TERM "${PID_OF[hold]}"
probe_done hold
server_answers srv "$H" "$P" "the clients out of descriptors closed"
controller_ok -c 20 -i 5 --timeout 0.5 "$H:$P" "$H:0"
stop_server srv
note "$COUNTERS"
case "$COUNTERS" in
*" accept failures"*) ;;
*) fail "the counters line does not count the accept failures: $COUNTERS" ;;
esac

# ---- limits that cannot fit RLIMIT_NOFILE -------------------------------------
run prlimit --nofile=40:40 "$TWAMPY" server "$H:0"
[ "$RC" -eq 1 ] || fail "the default limits under a 40-descriptor limit: exit $RC, expected 1"
grep -qE '^twampy: error: --max-connections 64 and --max-total-sessions 1024 need up to [0-9]+ file descriptors, but the limit is 40 ' "$ERR" ||
    fail "no reason given: $(cat "$ERR")"
need_plain=$(sed -n 's/.* need up to \([0-9]*\) file descriptors.*/\1/p' "$ERR")
# --metrics: its endpoint's descriptors (16 scrapers, a listener, its thread's
# epoll and pipe) are counted too.
run prlimit --nofile=40:40 "$TWAMPY" server --metrics 127.0.0.1:0 "$H:0"
[ "$RC" -eq 1 ] || fail "--metrics under a 40-descriptor limit: exit $RC, expected 1"
need_metrics=$(sed -n 's/.* need up to \([0-9]*\) file descriptors.*/\1/p' "$ERR")
[ "$((need_metrics - need_plain))" -eq 20 ] ||
    fail "--metrics should need 20 descriptors more: $need_plain without, $need_metrics with"
# The soft limit is raised to the hard one when that is enough.
bg small prlimit --nofile=40:200 "$TWAMPY" server --max-connections 20 --max-total-sessions 100 "$H:0"
wait_for small err 'TWAMP server listening on '
stop_server small
note "limits that do not fit RLIMIT_NOFILE: refused at start; a soft limit below them is raised"
finish
