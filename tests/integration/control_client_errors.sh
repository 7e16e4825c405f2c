#!/usr/bin/env bash
# TWAMP-Control client failures: twampy controller (and controlclient) exit 1
# with exactly one line "twampy: error: ..." that names the failed step and why,
# print no report, and do so within the control timeout:
#  - connection refused (a closed port, IPv4 and IPv6);
#  - a fake server (twampy_probe fakeserver) that: offers Modes 0; offers only
#    authenticated / authenticated|encrypted modes (the message lists them);
#    answers Server-Start with Accept 3; Accept-Session with Accept 4, Accept 5
#    or port 0 (also for the second of two sessions); Start-Ack with Accept 2;
#    sends half a greeting and closes; closes after the greeting; never
#    answers (--control-timeout 0.5: "timed out" at the right step, after about
#    0.5 s); stops the sessions during the test;
#  - a fake server that sends every message one octet per write and hands out a
#    twampy responder's port: the controller tests that port with 0.0% loss and
#    stops with Stop-Sessions for 1 session;
#  - what the client sends on the way: Set-Up-Response mode 1, or 65 when the
#    server offers symmetrical size; Request-TW-Session with the DSCP, padding
#    and reflector port asked for.
source "$(dirname "$0")/lib.sh" "$@"

H=127.0.0.1

# client_fails SECS_MAX ERE CMD ARGS...: twampy CMD ARGS exits 1 within
# SECS_MAX seconds, its stderr is one line matching "^twampy: error: ERE$", its
# stdout is empty. Sets ELAPSED_MS.
client_fails() {
    local max=$1 re=$2 t0
    shift 2
    t0=$(now_ms)
    expect_exit 1 "$TWAMPY" "$@"
    ELAPSED_MS=$(($(now_ms) - t0))
    [ "$(wc -l <"$ERR")" -eq 1 ] ||
        fail "twampy $*: expected one line on stderr, got:$(printf '\n%s' "$(cat "$ERR")")"
    grep -qxE -- "twampy: error: $re" "$ERR" ||
        fail_later "twampy $*: the message is '$(cat "$ERR")', expected /twampy: error: $re/"
    [ ! -s "$OUT" ] || fail "twampy $*: printed on stdout: $(head -c 300 "$OUT")"
    awk -v e="$ELAPSED_MS" -v m="$max" 'BEGIN { exit !(e < m * 1000) }' ||
        fail "twampy $*: took $ELAPSED_MS ms, expected less than $max s"
}

# fake NAME STEPS...: a fake server in the background; sets FP (its port).
fake() {
    local name=$1
    shift
    start_probe "$name" '^listening on [0-9]+$' fakeserver "$H" "$@"
    FP=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$WORK/$name.out")
    FRE=$(re_of "$H:$FP")
}

# fake_done NAME ERE: the fake server exits 0 (the client did as its script
# expected, then closed) and printed a line matching ERE.
fake_done() {
    probe_done "$1"
    grep -qE -- "$2" "$WORK/$1.out" ||
        fail "fake server $1 printed no /$2/:$(printf '\n%s' "$(cat "$WORK/$1.out")")"
}

CT=(--control-timeout 5)

# ---- connection refused -----------------------------------------------------
closed=$("$PROBE" freeport "$H" tcp) || fail "freeport failed"
client_fails 5 "cannot connect to TWAMP server $H:$closed: Connection refused \(no TWAMP server on that port: is TWAMP enabled there\? For a TWAMP light or STAMP reflector use 'twampy sender'\)" \
    controller "${CT[@]}" -c 3 "$H:$closed" "$H:0"
client_fails 5 "cannot connect to TWAMP server $H:$closed: Connection refused \(no TWAMP server on that port: is TWAMP enabled there\? For a TWAMP light or STAMP reflector use 'twampy sender'\)" \
    controlclient "${CT[@]}" "$H:20000" "$H:$closed"
if have_ipv6; then
    closed6=$("$PROBE" freeport ::1 tcp) || fail "freeport ::1 failed"
    client_fails 5 "cannot connect to TWAMP server \[::1\]:$closed6: Connection refused \(no TWAMP server on that port: is TWAMP enabled there\? For a TWAMP light or STAMP reflector use 'twampy sender'\)" \
        controller "${CT[@]}" -c 3 "[::1]:$closed6" '[::1]:0'
fi
note "connection refused: one line, exit 1"

# ---- the Server Greeting ------------------------------------------------------
fake f greeting=0
client_fails 5 "TWAMP server $FRE refuses service: its greeting offers no mode \(modes none\)" \
    controller "${CT[@]}" -c 3 "$H:$FP" "$H:0"
fake_done f '^client closed after'
fake f greeting=2
client_fails 5 "TWAMP server $FRE offers only modes that need a shared secret \(it offers authenticated\): give the key with --keyfile and --keyid" \
    controller "${CT[@]}" -c 3 "$H:$FP" "$H:0"
fake_done f '^client closed after'
fake f greeting=6
client_fails 5 "TWAMP server $FRE offers only modes that need a shared secret \(it offers authenticated\|encrypted\): give the key with --keyfile and --keyid" \
    controlclient "${CT[@]}" "$H:20000" "$H:$FP"
fake_done f '^client closed after'
# Half a greeting, then the server closes.
fake f "hex=$(printf '00%.0s' {1..32})" close
client_fails 5 "TWAMP server $FRE closed the connection after 32 of 64 octets while waiting for the Server Greeting" \
    controller "${CT[@]}" -c 3 "$H:$FP" "$H:0"
fake_done f '^closed$'
note "greeting: modes 0, authenticated only, half a greeting"

# ---- Server-Start ---------------------------------------------------------------
# Modes 1: the client must choose exactly 1.
fake f greeting=1 setup=1 serverstart=3
client_fails 5 "TWAMP server $FRE refused the connection in Server-Start: Accept 3 \(not supported\)" \
    controller "${CT[@]}" -c 3 "$H:$FP" "$H:0"
fake_done f '^set-up-response mode 1$'
# Modes 1|2|64: unauthenticated with symmetrical size (65).
fake f greeting=67 setup=65 close
client_fails 5 "TWAMP server $FRE closed the connection while waiting for Server-Start" \
    controller "${CT[@]}" -c 3 "$H:$FP" "$H:0"
fake_done f '^set-up-response mode 65$'
note "Server-Start: Accept 3, a close; Set-Up-Response modes 1 and 65"

# ---- Accept-Session -------------------------------------------------------------
fake f greeting=1 setup serverstart=0 request accept=4
client_fails 5 "TWAMP server $FRE refused session 1 in Accept-Session: Accept 4 \(permanent resource limitation\)" \
    controller "${CT[@]}" -c 3 --dscp ef --padding 100 --reflector-port 30123 "$H:$FP" "$H:0"
fake_done f '^request-tw-session command 5 ipvn 4 sender port [1-9][0-9]* receiver port 30123 padding 100 type-p 0x2e000000$'
fake f greeting=1 setup serverstart=0 request accept=5
client_fails 5 "TWAMP server $FRE refused session 1 in Accept-Session: Accept 5 \(temporary resource limitation\)" \
    controlclient "${CT[@]}" --dscp af41 "$H:20000" "$H:$FP"
fake_done f '^request-tw-session command 5 ipvn 4 sender port 20000 receiver port 20001 padding 27 type-p 0x22000000$'
fake f greeting=1 setup serverstart=0 request accept=0:0
client_fails 5 "TWAMP server $FRE accepted session 1 on port 0, which cannot be tested" \
    controller "${CT[@]}" -c 3 "$H:$FP" "$H:0"
fake_done f '^client closed after'
# The second of two sessions refused.
fake f greeting=1 setup serverstart=0 request accept=0:40000 request accept=5
client_fails 5 "TWAMP server $FRE refused session 2 in Accept-Session: Accept 5 \(temporary resource limitation\)" \
    controller "${CT[@]}" --sessions 2 -c 3 "$H:$FP" "$H:0"
fake_done f '^request-tw-session command 5 ipvn 4 sender port [0-9]+ receiver port 20002 '
note "Accept-Session: Accept 4, Accept 5, port 0, second session refused"

# ---- Start-Ack --------------------------------------------------------------------
fake f greeting=1 setup serverstart=0 request accept=0:40000 startsessions startack=2
client_fails 5 "TWAMP server $FRE refused Start-Sessions: Accept 2 \(internal error\)" \
    controller "${CT[@]}" -c 3 "$H:$FP" "$H:0"
fake_done f '^start-sessions command 2$'
note "Start-Ack: Accept 2"

# ---- a fake server that works: messages one octet per write ----------------------
# It hands out a twampy responder's port in Accept-Session: the controller must
# test that port (0.0.0% loss) and finish with Stop-Sessions for 1 session.
start_responder resp "$H:0"
fake f slow greeting=1 setup=1 serverstart=0 request "accept=0:$PORT" startsessions startack=0 \
    stopsessions
controller_ok "${CT[@]}" -c 5 -i 5 --timeout 0.3 "$H:$FP" "$H:0"
grep -qE "Session 1 accepted: reflector $H:$PORT\$" "$ERR" ||
    fail "the controller did not test the port of Accept-Session ($PORT): $(cat "$ERR")"
fake_done f '^stop-sessions command 3 sessions 1$'
stop_responder resp
expect_counters "5 received, 5 reflected"
note "messages one octet per write: parsed; the test went to the accepted port"

# ---- timeouts (--control-timeout 0.5) --------------------------------------------
# timeout_case STEP-NAME FAKE-STEPS...: the client gives up after 0.5 s (not much
# before, and within 3 s even under a sanitizer) naming the step.
timeout_case() {
    local step=$1
    shift
    fake f "$@"
    client_fails 3 "TWAMP server $FRE: timed out after 0\.5 s $step" \
        controller --control-timeout 0.5 -c 3 "$H:$FP" "$H:0"
    [ "$ELAPSED_MS" -ge 450 ] || fail "timed out $step after $ELAPSED_MS ms, before the 0.5 s"
    fake_done f '^client closed after'
    local t
    t=$(sed -n 's/^client closed after \([0-9.]*\) s.*/\1/p' "$WORK/f.out")
    awk -v t="$t" 'BEGIN { exit !(t >= 0.3 && t < 3) }' ||
        fail "timed out $step: the fake server saw the client close ${t} s after its last step"
}
timeout_case "waiting for the Server Greeting"
timeout_case "waiting for Server-Start" greeting=1 setup
timeout_case "waiting for Accept-Session" greeting=1 setup serverstart=0 request
timeout_case "waiting for Start-Ack" greeting=1 setup serverstart=0 request accept=0:40000 startsessions
note "silent server: timed out after 0.5 s at each step"

# ---- the server stops the sessions during the test ------------------------------
# Stop-Sessions with Accept 5 (command 3, accept 5, 1 session). The test goes to
# the fake server's UDP port 40000, where nobody answers: the report is printed
# for what was sent, and the exit status is 1.
fake f greeting=1 setup serverstart=0 request accept=0:40000 startsessions startack=0 \
    "hex=0305000000000001$(printf '00%.0s' {1..24})"
t0=$(now_ms)
expect_exit 1 "$TWAMPY" controller "${CT[@]}" -c 1000 -i 10 "$H:$FP" "$H:0"
elapsed=$(($(now_ms) - t0))
grep -qxE "twampy: error: TWAMP server $FRE stopped the sessions \(Stop-Sessions, Accept 5: temporary resource limitation\)" "$ERR" ||
    fail "server Stop-Sessions during the test: stderr $(cat "$ERR")"
[ "$(grep -c 'twampy: error' "$ERR")" -eq 1 ] || fail "more than one error line: $(cat "$ERR")"
[ "$elapsed" -lt 5000 ] || fail "the controller ran on for $elapsed ms after the server stopped the sessions"
grep -qE '^  Roundtrip: ' "$OUT" || grep -q 'NO STATS AVAILABLE' "$OUT" ||
    fail "no report after the server stopped the sessions: $(cat "$OUT")"
fake_done f '^client closed after'
note "Stop-Sessions from the server: exit 1 with the report"

finish
