#!/usr/bin/env bash
# The TWAMP server stays up for everyone while clients misbehave (twampy_probe
# tcp plays the misbehaving client); each case runs while a good controller's
# test is in progress, and that controller must still finish with 0.0% loss;
# after each misbehaving client the server must still greet a new one:
#  - an HTTP request one octet per write then a close, an unknown command, a
#    Request-TW-Session with IPVN 7, half a Start-Sessions then a close: each
#    connection is closed and logged with the reason;
#  - half a Request-TW-Session then silence, and a client idle after the
#    greeting: closed by --servwait 1 ("idle"), while a 2 s controller test on
#    the same server is not (its test packets are activity);
#  - a whole Set-Up-Response, then a Request-TW-Session one octet per write: it
#    is accepted (Accept 0, a port), started and stopped;
#  - eight controllers at once: all exit 0 with 0.0% loss;
#  - --max-connections 2 with two set-up, held connections: the third gets a greeting
#    with Modes 0 and is closed, logged as refused, a controller then fails with
#    "refuses service"; after one is released a controller succeeds;
#    --max-sessions 2 refuses a third session with Accept 5;
#  - Set-Up-Response with mode 0, with authenticated (not offered) and all ones
#    instead of a Set-Up-Response: Server-Start Accept 3 where a mode is refused,
#    the connection closed and logged (on a server of their own, last);
#  - the servers' counters lines add all this up.
source "$(dirname "$0")/lib.sh" "$@"

H=127.0.0.1
start_server srv "$H:0" --servwait 1
P=$PORT
note "server on $H:$P with --servwait 1"

# hexrep OCTET N: N times the octet, as hex.
hexrep() {
    local i s=''
    for ((i = 0; i < $2; i++)); do s+=$1; done
    printf '%s' "$s"
}

# bad_client EXPECTED-SERVER-LOG-ERE STEPS...: twampy_probe tcp with STEPS exits
# 0 (every step as expected), the server logs a line for that connection
# matching the ERE, and it still answers a new client. Sets CPORT (the probe's
# port). Uses SRV and P.
bad_client() {
    local re=$1
    shift
    probe_ok tcp "$H" "$P" "$@"
    CPORT=$(sed -n 's/^connected from \([0-9]*\)$/\1/p' "$OUT")
    [ -n "$CPORT" ] || fail "twampy_probe tcp printed no 'connected from PORT'"
    wait_for "$SRV" err "Connection from $H:$CPORT closed: $re"
    server_answers "$SRV" "$H" "$P" "a client's $*"
}
SRV=srv conns=0 perr=0 sessions=0

# ---- garbage after a good Set-Up-Response, or a cut message ------------------------
# (each bad_client adds a connection of its own and one to check the server)
start_controller g1 -c 60 -i 20 --timeout 1 "$H:$P" "$H:0"
conns=$((conns + 1)) sessions=$((sessions + 1))
# An HTTP request, one octet per write, then the client closes: 18 of 164.
bad_client "the client closed the connection in the middle of a message \(18 of 164 octets\)" \
    greeting "hexslow=$(printf 'GET / HTTP/1.1\r\n\r\n' | od -An -tx1 | tr -d ' \n')" close
# Command 99 after a good set-up.
bad_client "unknown or unsupported command 99" \
    greeting setup serverstart=0 "hex=63$(hexrep 00 15)" eof=5
# A Request-TW-Session with IPVN 7.
bad_client "malformed Request-TW-Session \(IPVN 7\)" \
    greeting setup serverstart=0 "hex=0507$(hexrep 00 110)" eof=5
# Half a Start-Sessions, then the client closes.
bad_client "the client closed the connection in the middle of a message \(16 of 32 octets\)" \
    greeting setup serverstart=0 "hex=02$(hexrep 00 15)" close
conns=$((conns + 8)) perr=$((perr + 4))
alive "${PID_OF[g1]}" || note "(the good controller had finished before the last garbage client)"
controller_done g1
note "garbage: four clients closed as expected, the good controller unharmed"

# ---- half a message, idle: --servwait 1 --------------------------------------------
start_probe half '^sent 56 of 112 octets' tcp "$H" "$P" greeting setup serverstart=0 half-request eof=5
start_probe idle '^greeting modes 369$' tcp "$H" "$P" greeting eof=5
conns=$((conns + 2))
# A 2 s test on the same server: twice --servwait, with the two stuck clients
# still there when it starts.
alive "${PID_OF[half]}" || fail "the half-request client was gone before the good controller started"
start_controller g2 -c 100 -i 20 --timeout 1 "$H:$P" "$H:0"
conns=$((conns + 1)) sessions=$((sessions + 1))
for name in half idle; do
    probe_done "$name"
    t=$(sed -n 's/^closed by the server after \([0-9.]*\) s.*/\1/p' "$WORK/$name.out")
    # From the probe's last step; the server counts from its last whole message.
    awk -v t="$t" 'BEGIN { exit !(t >= 0.5 && t < 4) }' ||
        fail "$name: closed by the server after ${t}s, expected about 1 s (--servwait 1)"
    cport=$(sed -n 's/^connected from \([0-9]*\)$/\1/p' "$WORK/$name.out")
    wait_for srv err "Connection from $H:$cport closed: idle for 1 s \(--servwait\)"
done
controller_done g2
# The controller's own control connection was closed by the controller, not
# as idle: its test packets count as activity.
g2conn=$(grep -E "Connection from $H:[0-9]+\$" "$WORK/srv.err" | tail -n 1 | sed 's/.*Connection from //')
log_has srv "Connection from $(re_of "$g2conn") closed: the client closed the connection\$"
note "half a request and an idle client: closed after --servwait; a 2 s test was not"

# ---- a Request-TW-Session one octet per write ----------------------------------
start_controller g3 -c 40 -i 20 --timeout 1 "$H:$P" "$H:0"
conns=$((conns + 1)) sessions=$((sessions + 1))
bad_client "the client closed the connection\$" \
    greeting setup serverstart=0 request-slow accept=0 start startack=0 stop close
conns=$((conns + 2)) sessions=$((sessions + 1))
acc=$(sed -n 's/^accept-session accept 0 port \([0-9]*\)$/\1/p' "$OUT")
[ -n "$acc" ] || fail "no 'accept-session accept 0 port N' from the slow client"
log_has srv "$H:$CPORT: session 1 accepted on port $acc\$"
log_has srv "$H:$CPORT: Start-Sessions: 1 session started\$"
log_has srv "$H:$CPORT: Stop-Sessions: 1 session stopping\$"
controller_done g3
note "Request-TW-Session one octet per write: accepted on port $acc"

# ---- eight controllers at once ------------------------------------------------------
for i in 1 2 3 4 5 6 7 8; do
    bg "m$i" "$TWAMPY" controller -c 40 -i 10 --timeout 2 "$H:$P" "$H:0"
    CTL_ARGS[m$i]="-c 40"
done
for i in 1 2 3 4 5 6 7 8; do
    controller_done "m$i"
done
conns=$((conns + 8)) sessions=$((sessions + 8))
note "eight controllers at once: all 0.0% loss"

stop_server srv
expect_counters "TWAMP server stopped: $conns connections (0 refused, $perr closed for protocol errors), $sessions sessions accepted, 0 refused"
# Every good session reflected all its packets.
for n in 60 100 40; do
    log_has srv "session 1 \(port [0-9]+\) ended: $n reflected, 0 dropped"
done
[ "$(log_count srv 'session 1 \(port [0-9]+\) ended: 40 reflected, 0 dropped')" -eq 9 ] ||
    fail "expected 9 sessions (g3 and eight controllers) with 40 reflected"

# ---- --max-connections 2, --max-sessions 2 -----------------------------------------
# (The held connections have set up: one still without a Set-Up-Response
# would be evicted to make room.)
start_server lim "$H:0" --max-connections 2 --max-sessions 2 --setup-timeout 60
P=$PORT
start_probe h1 '^holding$' tcp "$H" "$P" greeting=369 setup serverstart=0 hold
start_probe h2 '^holding$' tcp "$H" "$P" greeting=369 setup serverstart=0 hold
probe_ok tcp "$H" "$P" greeting=0 eof=5
cport=$(sed -n 's/^connected from \([0-9]*\)$/\1/p' "$OUT")
wait_for lim err "Connection from $H:$cport refused: 2 connections already \(--max-connections\)"
# A controller gets the same "go away" greeting.
expect_exit 1 "$TWAMPY" controller -c 5 --control-timeout 5 "$H:$P" "$H:0"
grep -qE "^twampy: error: TWAMP server $H:$P refuses service: its greeting offers no mode" "$ERR" ||
    fail "controller against a full server: $(cat "$ERR")"
wait_count lim err 'refused: 2 connections already' 2
# Release one: once the server has seen it go, a controller gets through.
h1port=$(sed -n 's/^connected from \([0-9]*\)$/\1/p' "$WORK/h1.out")
kill -TERM "${PID_OF[h1]}"
probe_done h1
wait_for lim err "Connection from $H:$h1port closed: the client closed the connection\$"
# --max-sessions 2: the third session of a connection is refused with Accept 5.
expect_exit 1 "$TWAMPY" controller --sessions 3 -c 5 --control-timeout 5 "$H:$P" "$H:0"
grep -qxE "twampy: error: TWAMP server $H:$P refused session 3 in Accept-Session: Accept 5 \(temporary resource limitation\)" "$ERR" ||
    fail "--sessions 3 against --max-sessions 2: $(cat "$ERR")"
log_has lim ": session 3 refused with Accept 5 \(temporary resource limitation\): this connection has 2 sessions \(--max-sessions 2\)"
wait_count lim err 'closed: the client closed the connection$' 2
controller_ok --sessions 2 -c 10 -i 5 --timeout 1 "$H:$P" "$H:0"
wait_count lim err 'closed: the client closed the connection$' 3
kill -TERM "${PID_OF[h2]}"
probe_done h2
stop_server lim
expect_counters "TWAMP server stopped: 4 connections (2 refused, 0 closed for protocol errors), 4 sessions accepted, 1 refused"
note "--max-connections 2: third refused with Modes 0; --max-sessions 2: third session Accept 5"

# ---- Set-Up-Responses the server refuses ------------------------------------------
# Last and on a server of their own: a server that dies here (a use-after-free
# was seen) must not hide the results above.
start_server setup "$H:0"
SRV=setup P=$PORT
start_controller g4 -c 50 -i 20 --timeout 1 "$H:$P" "$H:0"
# Mode 0: the client declines; closed, not a protocol error.
bad_client "the client declined every mode \(Set-Up-Response mode 0\)" greeting setup=0 eof=5
# Authenticated (2): not offered, Server-Start Accept 3.
bad_client "the client chose mode authenticated, which this server did not offer" \
    greeting setup=2 serverstart=3 eof=5
# All ones: Mode 0xffffffff (several security modes, bits never offered).
bad_client "the client chose mode .*which this server did not offer" \
    greeting=369 "hex=$(hexrep ff 164)" serverstart=3 eof=5
controller_done g4
stop_server setup
expect_counters "TWAMP server stopped: 7 connections (0 refused, 2 closed for protocol errors), 1 sessions accepted, 0 refused"
note "Set-Up-Response mode 0, 2 and all ones: refused and closed, the server unharmed"

finish
