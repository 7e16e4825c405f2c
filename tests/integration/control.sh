#!/usr/bin/env bash
# TWAMP-Control end to end: twampy controller and controlclient against twampy
# server, over 127.0.0.1 and ::1:
#  - one session: exit 0, three rows with 0.0% loss; the server logs the
#    connection, Request-TW-Session (with the controller's sender port), accept,
#    Start-Sessions, Stop-Sessions, the close and "session 1 (port R) ended: N
#    reflected" in this order, after the session's Timeout;
#  - --sessions 4: four "Session i of 4" tables and the "All 4 sessions" total,
#    all 0.0%; four sessions requested, accepted, started, stopped and ended;
#  - --reflector-port: honoured when the port is free; when it is taken (by a
#    twampy responder) the server returns another port, the controller tests
#    that one (0.0% loss) and the responder on the taken port sees nothing;
#  - controlclient --dscp ef for an external sender (twampy_probe send, bound to
#    the sender port given to controlclient): the server's replies carry TOS
#    0xB8 / Traffic Class 184 and TTL 64, the SID starts with the receiver
#    address, "Session stopped" after SIGINT; controlclient --duration;
#  - SIGINT to a controller mid-test: Stop-Sessions, a report, exit 0;
#  - a local address without host (":0"): the server uses the control
#    connection's address as the sender's;
#  - a dual-stack server (no address): IPv4 and IPv6 controllers, the IPv4 one
#    logged as plain IPv4;
#  - the server's counters line when it is stopped.
source "$(dirname "$0")/lib.sh" "$@"

# control_set NAME HOST: everything above against one server on HOST.
control_set() {
    local name=$1 host=$2 h
    h=$(re_of "$host")
    start_server "$name" "$host:0"
    local p=$PORT conns=0 sessions=0
    note "$name: server on $host:$p"

    # ---- one session -------------------------------------------------------
    controller_ok -v -c 10 -i 5 --timeout 0.5 "$host:$p" "$host:0"
    conns=$((conns + 1)) sessions=$((sessions + 1))
    local sport rport conn
    sport=$(sed -n 's/.*Request-TW-Session 1 of 1: sender port \([0-9]*\), receiver port 20001,.*/\1/p' "$ERR")
    [ -n "$sport" ] || fail "controller -v logged no 'Request-TW-Session 1 of 1: sender port ...'"
    rport=$(sed -n "s/.*Session 1 accepted: reflector $h:\([0-9]*\)\$/\1/p" "$ERR")
    [ -n "$rport" ] || fail "controller logged no 'Session 1 accepted: reflector $host:PORT'"
    # The session ends after its Timeout (0.5 s) following Stop-Sessions.
    wait_for "$name" err "session 1 \(port $rport\) ended: "
    conn=$(sed -n "s/.*NOTICE *Connection from \($h:[0-9]*\)\$/\1/p" "$WORK/$name.err" | tail -n 1)
    [ -n "$conn" ] || fail "server logged no 'Connection from $host:PORT'"
    local c
    c=$(re_of "$conn")
    # The server's lines of this connection, in order.
    grep -E "(Connection from $c|$c: )" "$WORK/$name.err" | sed 's/^.*NOTICE *//' >"$WORK/$name.conn1"
    local want=(
        "^Connection from $c\$"
        "^$c: Request-TW-Session 1: sender $h:$sport, receiver $h:20001, DSCP 0, padding 0, timeout 0\.500 s\$"
        "^$c: session 1 accepted on port $rport( \(the requested port (was taken|20001 is outside [0-9]+-[0-9]+)\))?\$"
        "^$c: Start-Sessions: 1 session started\$"
        "^$c: Stop-Sessions: 1 session stopping\$"
        "^Connection from $c closed: the client closed the connection\$"
        "^$c: session 1 \(port $rport\) ended: 10 reflected, 0 dropped \(not started 0, foreign sender 0, too short 0\)\$"
    )
    local i line
    [ "$(wc -l <"$WORK/$name.conn1")" -eq "${#want[@]}" ] ||
        fail "server: expected ${#want[@]} lines for connection $conn:$(printf '\n%s' "$(cat "$WORK/$name.conn1")")"
    i=0
    while IFS= read -r line; do
        [[ $line =~ ${want[$i]} ]] ||
            fail "server line $((i + 1)) of connection $conn is '$line', expected /${want[$i]}/"
        i=$((i + 1))
    done <"$WORK/$name.conn1"
    if [ "$rport" = 20001 ]; then
        grep -q "session 1 accepted on port 20001 (the" "$WORK/$name.conn1" &&
            fail "server says port 20001 was taken but gave out 20001"
    fi
    note "$name: one session: sender port $sport, reflector port $rport, 10 reflected"

    # ---- --sessions 4 ---------------------------------------------------------
    controller_ok --sessions 4 -c 5 -i 5 --timeout 0.3 "$host:$p" "$host:0"
    conns=$((conns + 1)) sessions=$((sessions + 4))
    for i in 1 2 3 4; do
        [ "$(grep -cx "Session $i of 4" "$OUT")" -eq 1 ] || fail "--sessions 4: no 'Session $i of 4' header"
    done
    [ "$(grep -cx 'All 4 sessions' "$OUT")" -eq 1 ] || fail "--sessions 4: no 'All 4 sessions' header"
    [ "$(grep -cE '^Session [0-9]+ of ' "$OUT")" -eq 4 ] || fail "--sessions 4: more than four session headers"
    wait_count "$name" err 'session [1-4] \(port [0-9]+\) ended: 5 reflected, 0 dropped' 4
    conn=$(sed -n "s/.*NOTICE *Connection from \($h:[0-9]*\)\$/\1/p" "$WORK/$name.err" | tail -n 1)
    c=$(re_of "$conn")
    for i in 1 2 3 4; do
        log_has "$name" "$c: Request-TW-Session $i: sender $h:[0-9]+, receiver $h:2000$i, DSCP 0, padding 0, timeout 0\.300 s\$"
        log_has "$name" "$c: session $i accepted on port [0-9]+"
        log_has "$name" "$c: session $i \(port [0-9]+\) ended: 5 reflected, 0 dropped"
    done
    log_has "$name" "$c: Start-Sessions: 4 sessions started\$"
    log_has "$name" "$c: Stop-Sessions: 4 sessions stopping\$"
    note "$name: --sessions 4: four tables and the total, 0.0% loss"

    # ---- --reflector-port ----------------------------------------------------
    # Free: a port the kernel just handed out and took back.
    local free
    free=$("$PROBE" freeport "$host" udp) || fail "twampy_probe freeport failed"
    controller_ok --reflector-port "$free" -c 5 -i 5 --timeout 0.3 "$host:$p" "$host:0"
    conns=$((conns + 1)) sessions=$((sessions + 1))
    grep -qE "Session 1 accepted: reflector $h:$free\$" "$ERR" ||
        fail "--reflector-port $free (free): controller tested $(grep -o 'reflector .*' "$ERR")"
    log_has "$name" ": session 1 accepted on port $free\$"
    # Taken: a twampy responder holds it; the server must give out another one.
    start_responder occ "$host:0"
    local taken=$PORT
    controller_ok --reflector-port "$taken" -c 5 -i 5 --timeout 0.3 "$host:$p" "$host:0"
    conns=$((conns + 1)) sessions=$((sessions + 1))
    local other
    other=$(sed -n "s/.*Session 1 accepted: reflector $h:\([0-9]*\)\$/\1/p" "$ERR")
    { [ -n "$other" ] && [ "$other" != "$taken" ]; } ||
        fail "--reflector-port $taken (taken): the controller was sent to port '$other'"
    log_has "$name" ": Request-TW-Session 1: sender $h:[0-9]+, receiver $h:$taken,"
    log_has "$name" ": session 1 accepted on port $other \(the requested port was taken\)\$"
    stop_responder occ
    expect_counters "stopped: 0 received"
    note "$name: --reflector-port $free honoured; $taken taken, $other used instead"

    # ---- controlclient --dscp ef, an external sender -------------------------
    local pf=$WORK/$name.rport
    start_probe "send$name" '^bound to [0-9]+$' send "$host" --port-file "$pf" --count 5 \
        --expect-tos 184 --expect-ttl 64
    local xport
    xport=$(sed -n 's/^bound to \([0-9]*\)$/\1/p' "$WORK/send$name.out")
    bg "cc$name" "$TWAMPY" controlclient --dscp ef --timeout 0.3 "$host:$xport" "$host:$p"
    wait_for "cc$name" out '^Session accepted: reflector '
    conns=$((conns + 1)) sessions=$((sessions + 1))
    local acc sid
    acc=$(head -n 1 "$WORK/cc$name.out")
    [[ $acc =~ ^Session\ accepted:\ reflector\ $h:([0-9]+),\ SID\ ([0-9a-f]{32}),\ mode\ open$ ]] ||
        fail "controlclient printed '$acc', expected 'Session accepted: reflector $host:PORT, SID <32 hex digits>, mode open'"
    rport=${BASH_REMATCH[1]} sid=${BASH_REMATCH[2]}
    # SID (RFC 4656 §3.5): the receiver's address first (IPv4, or the last
    # four octets of an IPv6 address).
    case $host in
    127.0.0.1) [ "${sid:0:8}" = 7f000001 ] || fail "SID $sid does not start with 127.0.0.1 (7f000001)" ;;
    *) [ "${sid:0:8}" = 00000001 ] || fail "SID $sid does not start with the last octets of ::1" ;;
    esac
    echo "$rport" >"$pf.tmp" && mv "$pf.tmp" "$pf"
    probe_done "send$name"
    [ "$(grep -c '^reply [0-9]*: len 41 tos 184 ttl 64$' "$WORK/send$name.out")" -eq 5 ] ||
        fail "the probe did not get 5 replies with tos 184 ttl 64"
    log_has "$name" ": Request-TW-Session [0-9]+: sender $h:$xport, receiver $h:20001, DSCP 46, padding 0, timeout 0\.300 s\$"
    conn=$(sed -n "s/.*NOTICE *\($h:[0-9]*\): Request-TW-Session [0-9]*: sender $h:$xport, .*/\1/p" \
        "$WORK/$name.err")
    c=$(re_of "$conn")
    kill -INT "${PID_OF[cc$name]}"
    bg_wait "cc$name"
    [ "$BG_RC" -eq 0 ] || fail "controlclient exited with $BG_RC after SIGINT, expected 0"
    grep -qx 'Session stopped' "$WORK/cc$name.out" || fail "controlclient printed no 'Session stopped'"
    log_has "$name" "$c: Stop-Sessions: 1 session stopping\$"
    wait_for "$name" err "$c: session 1 \(port $rport\) ended: 5 reflected, 0 dropped"
    note "$name: controlclient --dscp ef: 5 replies with TOS 184, TTL 64"

    # controlclient --duration stops by itself.
    expect_exit 0 "$TWAMPY" controlclient --duration 0.3 --timeout 0.2 "$host:$xport" "$host:$p"
    conns=$((conns + 1)) sessions=$((sessions + 1))
    grep -qE "^Session accepted: reflector $h:[0-9]+, SID [0-9a-f]{32}, mode open\$" "$OUT" ||
        fail "controlclient --duration: no 'Session accepted' line"
    [ "$(tail -n 1 "$OUT")" = "Session stopped" ] || fail "controlclient --duration: no 'Session stopped' at the end"

    # controlclient for an external `twampy sender` sending from the announced
    # sender port to the accepted reflector port: 0.0% loss.
    bg "ccs$name" "$TWAMPY" controlclient --timeout 0.3 "$host:$xport" "$host:$p"
    wait_for "ccs$name" out '^Session accepted: reflector '
    conns=$((conns + 1)) sessions=$((sessions + 1))
    acc=$(head -n 1 "$WORK/ccs$name.out")
    [[ $acc =~ ^Session\ accepted:\ reflector\ $h:([0-9]+), ]] ||
        fail "controlclient printed '$acc'"
    sender_ok -c 10 -i 5 "$host:${BASH_REMATCH[1]}" "$host:$xport"
    kill -INT "${PID_OF[ccs$name]}"
    bg_wait "ccs$name"
    [ "$BG_RC" -eq 0 ] || fail "controlclient exited with $BG_RC after SIGINT, expected 0"
    note "$name: controlclient + twampy sender from port $xport: 10 packets, 0.0% loss"

    # SIGINT in the middle of a long test: Stop-Sessions, the report, exit 0.
    start_controller "int$name" -c 100000 -i 10 --timeout 0.3 "$host:$p" "$host:0"
    conns=$((conns + 1)) sessions=$((sessions + 1))
    conn=$(sed -n "s/.*NOTICE *Connection from \($h:[0-9]*\)\$/\1/p" "$WORK/$name.err" | tail -n 1)
    c=$(re_of "$conn")
    kill -INT "${PID_OF[int$name]}"
    bg_wait "int$name"
    [ "$BG_RC" -eq 0 ] || fail "controller exited with $BG_RC after SIGINT, expected 0"
    grep -qE '^  Roundtrip: .* [0-9.]+%$' "$WORK/int$name.out" ||
        fail "controller stopped by SIGINT printed no report:$(printf '\n%s' "$(cat "$WORK/int$name.out")")"
    wait_for "$name" err "$c: Stop-Sessions: 1 session stopping\$"
    wait_for "$name" err "Connection from $c closed: the client closed the connection\$"

    # A local address without host (":0"): Request-TW-Session carries a zero
    # sender address and the server takes the control connection's.
    controller_ok -c 5 -i 5 --timeout 0.3 "$host:$p" :0
    conns=$((conns + 1)) sessions=$((sessions + 1))
    conn=$(sed -n "s/.*NOTICE *Connection from \($h:[0-9]*\)\$/\1/p" "$WORK/$name.err" | tail -n 1)
    log_has "$name" "$(re_of "$conn"): Request-TW-Session 1: sender $h:[1-9][0-9]*, receiver $h:20001,"

    stop_server "$name"
    expect_counters "TWAMP server stopped: $conns connections (0 refused, 0 closed for protocol errors), $sessions sessions accepted, 0 refused"
}

control_set s4 127.0.0.1
if have_ipv6; then
    control_set s6 '[::1]'
else
    note "SKIP: no ::1 on this host, IPv6 control sessions not run"
fi

# A server without address: dual-stack where the host allows it. An IPv4 client
# is logged and served as plain IPv4 (not ::ffff:127.0.0.1).
start_server sd :0
if grep -q '(IPv6 and IPv4)' "$WORK/sd.err"; then
    controller_ok -c 5 -i 5 --timeout 0.3 "127.0.0.1:$PORT" 127.0.0.1:0
    log_has sd ": Request-TW-Session 1: sender 127\.0\.0\.1:[0-9]+, receiver 127\.0\.0\.1:20001,"
    log_has sd "Connection from 127\.0\.0\.1:[0-9]+\$"
    controller_ok -c 5 -i 5 --timeout 0.3 "[::1]:$PORT" '[::1]:0'
    log_has sd ": Request-TW-Session 1: sender \[::1\]:[0-9]+, receiver \[::1\]:20001,"
    stop_server sd
    expect_counters "TWAMP server stopped: 2 connections (0 refused, 0 closed for protocol errors), 2 sessions accepted"
    note "dual-stack server: IPv4 and IPv6 controllers"
else
    controller_ok -c 5 -i 5 --timeout 0.3 "127.0.0.1:$PORT" 127.0.0.1:0
    stop_server sd
    note "server :0 is IPv4 only on this host"
fi

finish
