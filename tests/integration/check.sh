#!/usr/bin/env bash
# twampy check: the conformance battery against our own responder (TWAMP light
# and STAMP, stateless, authenticated STAMP, IPv6) and our own server, where
# every test must PASS, and against the fake reflectors of twampy_probe (the
# Python twampy layout, swapped fields, short replies, t3 before t2, replies
# from another port), where the right test must FAIL or WARN with the right
# clause; a silent port fails at once. Every result is read from --json (one
# test a line).
source "$(dirname "$0")/lib.sh" "$@"

H=127.0.0.1

# result_of FILE NAME: the result of test NAME in check's JSON output FILE.
result_of() {
    sed -n "s|.*\"test\": \"$2\", .*\"result\": \"\([A-Z]*\)\".*|\1|p" "$1" | head -n 1
}
# expect_result FILE NAME RESULT [CLAUSE [SEEN]]: test NAME has RESULT (and its
# clause and seen texts contain CLAUSE and SEEN).
expect_result() {
    local file=$1 name=$2 want=$3 clause=${4:-} seen=${5:-} got line
    got=$(result_of "$file" "$name")
    [ "$got" = "$want" ] || fail_later "$(basename "$file"): test '$name' is '$got', expected $want"
    line=$(grep -F "\"test\": \"$name\"," "$file" | head -n 1)
    [ -z "$clause" ] || case "$line" in *"\"clause\": \"$clause"*) ;; *)
        fail_later "$(basename "$file"): test '$name' does not cite $clause: $line" ;;
    esac
    [ -z "$seen" ] || case "$line" in *"$seen"*) ;; *)
        fail_later "$(basename "$file"): test '$name' does not say '$seen': $line" ;;
    esac
}
# all_pass FILE [NAME...]: every test PASSes, except NAMEs, which may WARN.
all_pass() {
    local file=$1 name res ok
    shift
    [ "$(grep -c '"test": ' "$file")" -gt 5 ] || fail "$(basename "$file"): no tests in the output"
    while IFS= read -r line; do
        name=$(printf '%s\n' "$line" | sed -n 's|.*"test": "\([^"]*\)".*|\1|p')
        res=$(printf '%s\n' "$line" | sed -n 's|.*"result": "\([A-Z]*\)".*|\1|p')
        [ "$res" = PASS ] && continue
        ok=0
        for allowed in "$@"; do
            [ "$name" = "$allowed" ] && [ "$res" = WARN ] && ok=1
        done
        [ "$ok" = 1 ] || fail_later "$(basename "$file"): $line"
    done < <(grep '"test": ' "$file")
}
# check NAME EXPECTED-EXIT ARGS...: twampy check --json ARGS into $WORK/NAME.json.
check() {
    local name=$1 want=$2
    shift 2
    run "$TWAMPY" check --json "$@"
    cp "$OUT" "$WORK/$name.json"
    [ "$RC" -eq "$want" ] || fail_later "twampy check $* exited $RC, expected $want: $(cat "$ERR")"
}

# 1. Our responder, answering both formats.
start_responder resp "$H:0"
check resp 0 "$H:$PORT"
all_pass "$WORK/resp.json"
expect_result "$WORK/resp.json" "TLV Extra Padding" PASS "RFC 8972 §4, §4.1"
expect_result "$WORK/resp.json" "TLV unknown type" PASS "RFC 8972 §4" "U set"
expect_result "$WORK/resp.json" "reflector sequence" PASS "RFC 8762 §4.3.1" "stateful"
expect_result "$WORK/resp.json" "datagrams < 14 octets" PASS
expect_result "$WORK/resp.json" "length 1472" PASS
grep -q '"result": "PASS"$\|"result": "PASS"}$' "$WORK/resp.json" || fail_later "no overall PASS"
# The text table: a row per test, the counts, exit 0.
run "$TWAMPY" check "$H:$PORT"
[ "$RC" -eq 0 ] || fail_later "twampy check (table) exited $RC"
grep -qE '^reply +RFC 5357 §4\.2\.1 .* PASS$' "$OUT" || fail_later "no 'reply' row in the table"
grep -qE '^[0-9]+ tests: [0-9]+ PASS, [0-9]+ WARN, 0 FAIL, 0 SKIP\. Result: PASS$' "$OUT" ||
    fail_later "no summary line: $(tail -n 1 "$OUT")"
stop_responder resp

# 2. STAMP only, and a stateless responder.
start_responder stamp --format stamp --stateless "$H:0"
check stamp 0 --format stamp "$H:$PORT"
all_pass "$WORK/stamp.json"
expect_result "$WORK/stamp.json" "SSID" PASS "RFC 8972 §3"
expect_result "$WORK/stamp.json" "reflector sequence" PASS "RFC 8762 §4.3.1" "stateless"
# TWAMP light requests to a STAMP-only reflector: its 44-octet base packet
# answers the shorter ones (RFC 8762 §4.6), no amplification.
check stamp_both 0 "$H:$PORT"
all_pass "$WORK/stamp_both.json"
expect_result "$WORK/stamp_both.json" "length 14" PASS "" "STAMP reflector's base packet"
stop_responder stamp

# 3. Authenticated STAMP with a key file.
KEYS=$WORK/keys
echo "stamp1 a STAMP passphrase" >"$KEYS"
chmod 600 "$KEYS"
start_responder auth --keyfile "$KEYS" "$H:0"
check auth 0 --keyfile "$KEYS" "$H:$PORT"
all_pass "$WORK/auth.json"
expect_result "$WORK/auth.json" "reply HMAC" PASS "RFC 8762 §4.4"
expect_result "$WORK/auth.json" "wrong HMAC" PASS "RFC 8762 §4.4" "dropped"
expect_result "$WORK/auth.json" "unauthenticated request" PASS "RFC 8762 §4.4" "dropped"
expect_result "$WORK/auth.json" "length 1000" PASS
stop_responder auth

# 4. IPv6.
if have_ipv6; then
    start_responder resp6 "[::1]:0"
    check resp6 0 "[::1]:$PORT"
    all_pass "$WORK/resp6.json"
    expect_result "$WORK/resp6.json" "length 1452" PASS
    stop_responder resp6
fi

# 5. Our TWAMP server.
start_server srv "$H:0"
check srv 0 --control "$H:$PORT"
all_pass "$WORK/srv.json"
expect_result "$WORK/srv.json" "Server Greeting" PASS "RFC 4656 §3.1"
expect_result "$WORK/srv.json" "mode not offered" PASS "RFC 4656 §3.1" "Accept 3"
expect_result "$WORK/srv.json" "Conf-Sender 1" PASS "RFC 5357 §3.5" "Accept 3"
expect_result "$WORK/srv.json" "Accept-Session" PASS "RFC 5357 §3.5"
expect_result "$WORK/srv.json" "test packets" PASS "RFC 5357 §4.2.1" "3 of 3"
expect_result "$WORK/srv.json" "Timeout after Stop" PASS "RFC 5357 §3.8"
kill -TERM "${PID_OF[srv]}"
bg_wait srv

if have_ipv6; then
    start_server srv6 "[::1]:0"
    check srv6 0 --control "[::1]:$PORT"
    all_pass "$WORK/srv6.json"
    kill -TERM "${PID_OF[srv6]}"
    bg_wait srv6
fi

# 6. Our TWAMP server with a key file: the session in the strongest mode it
# offers (encrypted), then in authenticated mode; a wrong key refused.
start_server srvk --keyfile "$KEYS" "$H:0"
check srvk 0 --control --keyfile "$KEYS" --keyid stamp1 "$H:$PORT"
all_pass "$WORK/srvk.json"
expect_result "$WORK/srvk.json" "Server-Start" PASS "RFC 4656 §3.1" "mode encrypted"
expect_result "$WORK/srvk.json" "wrong key" PASS "RFC 4656 §3.1" "Accept 1"
expect_result "$WORK/srvk.json" "test packets" PASS "RFC 5357 §4.1.2, §4.2.1" "112 octets"
kill -TERM "${PID_OF[srvk]}"
bg_wait srvk
start_server srva --keyfile "$KEYS" --modes authenticated "$H:0"
check srva 0 --control --keyfile "$KEYS" --keyid stamp1 "$H:$PORT"
all_pass "$WORK/srva.json"
expect_result "$WORK/srva.json" "Server-Start" PASS "RFC 4656 §3.1" "mode authenticated"
expect_result "$WORK/srva.json" "mode not offered" PASS "RFC 4656 §3.1" "Accept 3"
expect_result "$WORK/srva.json" "test packets" PASS "RFC 5357 §4.1.2, §4.2.1" "3 of 3"
# Without the key, nothing this server offers can be checked: SKIP, no FAIL.
check srva_open 0 --control "$H:$PORT"
expect_result "$WORK/srva_open.json" "remaining tests" SKIP
kill -TERM "${PID_OF[srva]}"
bg_wait srva

# 7. The fake reflectors (TWAMP light only: they know no STAMP).
fake() {
    local style=$1
    start_reflect "fake_$style" "$H" --count 0 --style "$style"
    check "fake_$style" "$2" --format twamp --timeout 1 "$H:$PORT"
    kill -TERM "${PID_OF[fake_$style]}"
    bg_wait "fake_$style"
}
fake python 1
F=$WORK/fake_python.json
expect_result "$F" reply FAIL "RFC 5357 §4.2.1" "38 octets"
expect_result "$F" "echoed fields" PASS
expect_result "$F" "Sender TTL" FAIL "RFC 5357 §4.2.1" "missing"
expect_result "$F" "t2/t3" WARN "RFC 5357 §4.2.1" "t2 = t3"
expect_result "$F" "length 100" FAIL "RFC 5357 §4.2.1, RFC 6038 §3" "38 octets"
fake swapped 1
F=$WORK/fake_swapped.json
expect_result "$F" "echoed fields" FAIL "RFC 5357 §4.2.1" "swapped"
expect_result "$F" "t2/t3" PASS
expect_result "$F" "length 14" FAIL "RFC 5357 §4.2.1, RFC 6038 §3" "14 octets"
expect_result "$F" "length 100" PASS
expect_result "$F" "reflector sequence" PASS "RFC 8762 §4.3.1" "stateless"
fake short 1
F=$WORK/fake_short.json
expect_result "$F" reply FAIL "RFC 5357 §4.2.1" "20 octets"
expect_result "$F" "Sender TTL" FAIL
expect_result "$F" "datagrams < 14 octets" PASS
fake backwards 1
F=$WORK/fake_backwards.json
expect_result "$F" "t2/t3" FAIL "RFC 5357 §4.2.1" "before t2"
expect_result "$F" reply PASS
fake wrongport 1
F=$WORK/fake_wrongport.json
expect_result "$F" "reply source" FAIL "RFC 8972 §3"
# An RFC 5357 reply of 41 octets whatever the request's size: no FAIL, but
# no symmetrical size either.
fake rfc 0
F=$WORK/fake_rfc.json
expect_result "$F" "length 1000" WARN "RFC 5357 §4.2.1, RFC 6038 §3" "41 octets"
expect_result "$F" "length 41" PASS

# A scripted TWAMP server (one connection): a greeting whose Count is below
# RFC 4656's 1024, and one that offers no mode at all.
for case in "count:greeting=1:512" "modes0:greeting=0"; do
    name=fakesrv_${case%%:*}
    start_probe "$name" '^listening on [0-9]+$' fakeserver "$H" "${case#*:}" close
    port=$(sed -n 's/^listening on \([0-9][0-9]*\)$/\1/p' "$WORK/$name.out")
    check "$name" 1 --control --timeout 1 "$H:$port"
    bg_wait "$name"
done
expect_result "$WORK/fakesrv_count.json" "greeting Count" FAIL "RFC 4656 §3.1" "512"
expect_result "$WORK/fakesrv_modes0.json" "Server Greeting" FAIL "RFC 4656 §3.1" "Modes 0"

# 8. Nothing listening: FAIL at once (ICMP port unreachable), exit 1.
free=$("$PROBE" freeport "$H" udp) || fail "twampy_probe freeport failed"
check silent 1 --timeout 5 "$H:$free"
expect_result "$WORK/silent.json" reply FAIL "RFC 5357 §4.2.1" "port unreachable"
grep -q '"answered": false' "$WORK/silent.json" || fail_later "silent: answered is not false"
free=$("$PROBE" freeport "$H" tcp) || fail "twampy_probe freeport failed"
check silent_ctl 1 --control --timeout 5 "$H:$free"
expect_result "$WORK/silent_ctl.json" "Server Greeting" FAIL "RFC 4656 §3.1"

# 9. Usage errors.
expect_exit 2 "$TWAMPY" check
expect_exit 2 "$TWAMPY" check --control --keyfile "$KEYS" "$H:862" # no --keyid
expect_exit 2 "$TWAMPY" check --format nonsense "$H:862"
run "$TWAMPY" check --help
if [ "$RC" -ne 0 ] || ! grep -q 'usage: twampy check' "$OUT"; then
    fail_later "check --help"
fi

finish
