#!/usr/bin/env bash
# The authenticated, encrypted and mixed modes end to end, on loopback:
#   - controller <-> server in modes 2, 4 and 8 (and the default preference),
#     0.0% loss and the mode on the report's first line (not in the log);
#   - authenticated STAMP, sender <-> responder;
#   - a wrong passphrase in each mode, an unknown KeyID, a key file others can
#     read: one clear error line (exit 1), the server's log says which, and the
#     server goes on serving a good client;
#   - a Count no client should spend time on, from a fake server: refused fast;
#   - an octet flipped in flight (twampy_probe flip): in the control stream the
#     server closes the connection on the HMAC; in test packets the reflector
#     drops what fails its check, the sender counts replies that fail it as
#     integrity failures, and neither is ever measured.
# Authenticated mode covers octets 0..15 of a TWAMP-Test packet only (RFC 4656
# §4.1.2), so the test flips an octet there; STAMP covers 0..95.
source "$(dirname "$0")/lib.sh" "$@"

H=127.0.0.1
FAST=(-c 10 -i 5 --timeout 2)

# ---- key files ----------------------------------------------------------------
KEYS=$WORK/keys
cat >"$KEYS" <<'EOF'
# twampy test keys: KEYID PASSPHRASE
alice correct horse battery staple
bob 0x00112233445566778899aabbccddeeff
EOF
chmod 600 "$KEYS"
WRONG=$WORK/wrong-keys # alice with another passphrase, and carol the server lacks
printf 'alice Correct horse battery staple\ncarol correct horse battery staple\n' >"$WRONG"
chmod 600 "$WRONG"
ONE=$WORK/one-key
printf 'stamp 0x0102030405060708090a0b0c0d0e0f10\n' >"$ONE"
chmod 600 "$ONE"
OPEN=$WORK/readable-keys
cp "$KEYS" "$OPEN"
chmod 644 "$OPEN"

# mode_reported MODE: the last run's report names MODE on its first line
# ("...; mode MODE; clocks ..."), and its log at the normal level says nothing
# of it (no "Mode: ..." line under the report).
mode_reported() {
    head -n 1 "$OUT" | grep -qE "; mode $1; clocks " ||
        fail_later "no 'mode $1' on the report's first line:$(printf '\n%s' "$(head -n 2 "$OUT")")"
    if grep -qE "NOTICE +Mode:" "$ERR"; then
        fail_later "a 'Mode:' line at the normal level: $(grep -E 'Mode:' "$ERR")"
    fi
}

# one_error RE: the last command wrote exactly one line, "twampy: error: RE".
one_error() {
    [ "$(wc -l <"$ERR")" -eq 1 ] ||
        fail "expected one line on stderr, got:$(printf '\n%s' "$(cat "$ERR")")"
    grep -qE -- "^twampy: error: $1" "$ERR" ||
        fail_later "the error is '$(cat "$ERR")', expected /twampy: error: $1/"
}

# ---- controller <-> server in each mode -----------------------------------------
start_server srv --keyfile "$KEYS" "$H:0"
SP=$PORT
for mode in authenticated encrypted mixed open; do
    controller_ok --keyfile "$KEYS" --keyid alice --modes "$mode" "${FAST[@]}" "$H:$SP" "$H:0"
    mode_reported "$mode"
done
for mode in authenticated encrypted mixed; do
    log_has srv "mode $mode, KeyID 'alice'"
done
note "modes 2, 4, 8 and 1: 0.0% loss, each mode reported"

# Strongest first by default; a hex passphrase (bob) works the same.
controller_ok --keyfile "$KEYS" --keyid bob "${FAST[@]}" --sessions 2 "$H:$SP" "$H:0"
mode_reported encrypted
# No key file: only open is possible, and this server offers it.
controller_ok "${FAST[@]}" "$H:$SP" "$H:0"
mode_reported open

# Key derivations are paced per source (8 in a row, then 4 a second): each
# section below has a server of its own, so that none depends on how fast the
# one before it ran.
stop_server srv

# ---- a wrong key: one clear line, the server says which, and goes on --------------
start_server srv --keyfile "$KEYS" "$H:0"
SP=$PORT
for mode in authenticated encrypted mixed; do
    expect_exit 1 "$TWAMPY" controller --keyfile "$WRONG" --keyid alice --modes "$mode" \
        "${FAST[@]}" "$H:$SP" "$H:0"
    one_error "TWAMP server $(re_of "$H:$SP") rejected the key in Server-Start \(Accept 1: failure\): in mode $mode this means the passphrase of KeyID 'alice' is wrong"
    log_has srv "closed: mode $mode: wrong passphrase for KeyID 'alice'"
done
expect_exit 1 "$TWAMPY" controller --keyfile "$WRONG" --keyid carol "${FAST[@]}" "$H:$SP" "$H:0"
one_error "TWAMP server .* rejected the key in Server-Start .*KeyID 'carol'"
log_has srv "closed: mode encrypted: unknown KeyID 'carol' \(not in the key file\)"
# A KeyID missing from the client's own key file never gets to the server.
expect_exit 1 "$TWAMPY" controller --keyfile "$KEYS" --keyid carol "${FAST[@]}" "$H:$SP" "$H:0"
one_error "key file .* has no KeyID carol"
server_answers srv "$H" "$SP" "four refused keys"
controller_ok --keyfile "$KEYS" --keyid alice --modes authenticated "${FAST[@]}" "$H:$SP" "$H:0"
stop_server srv
expect_counters "4 keys rejected (unknown KeyID or wrong passphrase), 0 closed for a failed integrity check"
note "wrong passphrase (modes 2, 4, 8) and unknown KeyID: refused cleanly, server still serves"
start_server srv --keyfile "$KEYS" "$H:0"
SP=$PORT

# ---- a control message altered in flight -------------------------------------------
# The relay flips octet 40 of the client's Request-TW-Session (its stream starts
# with the 164-octet Set-Up-Response): the server must close on the HMAC.
for mode in authenticated encrypted mixed; do
    start_probe tflip '^listening on [0-9]+$' flip tcp "$H" "$H" "$SP" --offset $((164 + 40))
    RP=$(sed -n 's/^listening on //p' "$WORK/tflip.out")
    expect_exit 1 "$TWAMPY" controller --keyfile "$KEYS" --keyid alice --modes "$mode" \
        "${FAST[@]}" "$H:$RP" "$H:0"
    one_error "TWAMP server .* closed the connection while waiting for Accept-Session \(in mode $mode a server closes it when a message fails its integrity check\)"
    probe_done tflip
    grep -q 'flipped 1$' "$WORK/tflip.out" || fail "the TCP relay flipped nothing: $(cat "$WORK/tflip.out")"
done
[ "$(log_count srv 'control message failed its integrity check \(HMAC\)')" -eq 3 ] ||
    fail "the server logged $(log_count srv 'failed its integrity check') integrity failures, expected 3"
controller_ok --keyfile "$KEYS" --keyid alice "${FAST[@]}" "$H:$SP" "$H:0"
stop_server srv
expect_counters "0 keys rejected (unknown KeyID or wrong passphrase), 3 closed for a failed integrity check"
note "tampered Request-TW-Session: closed on its HMAC in modes 2, 4, 8"

# ---- key files others can read, and usage errors --------------------------------------
expect_exit 1 "$TWAMPY" server --keyfile "$OPEN" "$H:0"
one_error "key file .*readable-keys has mode 0644: readable or writable by others; refusing it"
expect_exit 1 "$TWAMPY" controller --keyfile "$OPEN" --keyid alice "${FAST[@]}" "$H:9" "$H:0"
one_error "key file .* has mode 0644"
expect_exit 1 "$TWAMPY" responder --keyfile "$OPEN" --keyid alice "$H:0"
one_error "key file .* has mode 0644"
expect_exit 1 "$TWAMPY" sender --stamp --keyfile "$OPEN" --keyid alice "$H:9" "$H:0"
one_error "key file .* has mode 0644"
usage() {
    expect_exit 2 "$TWAMPY" "$@"
    [ "$(wc -l <"$ERR")" -eq 1 ] || fail "twampy $*: not one line on stderr: $(cat "$ERR")"
}
usage controller --keyfile "$KEYS" "$H:9"                    # no --keyid
usage controller --keyid alice "$H:9"                        # no --keyfile
usage controller --modes encrypted,open "$H:9"               # a secure mode without a key
usage controller --modes open,sometimes "$H:9"
usage controller --modes open,open "$H:9"
usage controller --kdf-max-count 100 "$H:9"                  # below 1024
usage controlclient --keyfile "$KEYS" --keyid alice --modes encrypted
usage server --modes authenticated "$H:0"                    # no --keyfile
usage server --kdf-count 3000 "$H:0"                         # not a power of two
usage server --keyfile "$KEYS" --keyid alice "$H:0"
usage sender --keyfile "$KEYS" --keyid alice "$H:9" "$H:0"   # TWAMP light: no --stamp
usage responder --keyfile "$KEYS" "$H:0"                     # two keys, no --keyid
usage demo --keyfile "$KEYS"
grep -q "is not an option of 'twampy demo'" "$ERR" || fail_later "demo --keyfile: $(cat "$ERR")"
note "readable key files refused, usage errors"

# ---- what the server offers, and what the client accepts -------------------------------
start_server enc --keyfile "$KEYS" --modes encrypted --kdf-count 4096 "$H:0"
EP=$PORT
expect_exit 1 "$TWAMPY" controller "${FAST[@]}" "$H:$EP" "$H:0"
one_error "TWAMP server .* offers only modes that need a shared secret \(it offers encrypted\|individual-session-control\|reflect-octets\|symmetrical-size(\|dscp-ecn-monitoring)?\): give the key with --keyfile and --keyid"
# The Count announced is --kdf-count: a client whose ceiling is lower refuses it.
expect_exit 1 "$TWAMPY" controller --keyfile "$KEYS" --keyid alice --kdf-max-count 2048 \
    "${FAST[@]}" "$H:$EP" "$H:0"
one_error "TWAMP server .* announces a key derivation Count of 4096, above this client's ceiling of 2048 \(--kdf-max-count\): refused"
controller_ok --keyfile "$KEYS" --keyid alice "${FAST[@]}" "$H:$EP" "$H:0"
mode_reported encrypted
stop_server enc

# An absurd Count from a fake server is refused at once, with the default ceiling.
start_probe fake '^listening on [0-9]+$' fakeserver "$H" greeting=2:4294967295
FP=$(sed -n 's/^listening on //p' "$WORK/fake.out")
t0=$(now_ms)
expect_exit 1 "$TWAMPY" controller --keyfile "$KEYS" --keyid alice "${FAST[@]}" "$H:$FP" "$H:0"
elapsed=$(($(now_ms) - t0))
one_error "TWAMP server .* announces a key derivation Count of 4294967295, above this client's ceiling of 1048576 \(--kdf-max-count\): refused"
[ "$elapsed" -lt 3000 ] || fail "refusing an absurd Count took $elapsed ms"
probe_done fake
grep -q '^client closed after .*, 0 more octets' "$WORK/fake.out" ||
    fail "the client sent something to the fake server: $(cat "$WORK/fake.out")"
note "absurd Count refused in $elapsed ms"

# ---- TWAMP-Test packets altered in flight ------------------------------------------------
# The server listens on 127.0.0.2; the controller talks to it through a plain
# TCP relay on 127.0.0.1, so it sends its test packets to 127.0.0.1:N, where
# the UDP flip relay listens and forwards to the session's reflector on
# 127.0.0.2:N (N: the port the relay got, asked for with --reflector-port).
H2=127.0.0.2
if ! "$PROBE" freeport "$H2" udp >/dev/null 2>&1; then
    note "no $H2 on this host: the TWAMP-Test tamper checks are skipped"
else
    start_server srv2 --keyfile "$KEYS" "$H2:0"
    S2=$PORT
    for mode in authenticated encrypted; do
        for dir in req rep; do
            start_probe ctl '^listening on [0-9]+$' flip tcp "$H" "$H2" "$S2"
            CP=$(sed -n 's/^listening on //p' "$WORK/ctl.out")
            start_probe uflip '^listening on [0-9]+$' flip udp "$H" "$H2" 0 --offset 1 --every 5 \
                --dir "$dir"
            N=$(sed -n 's/^listening on //p' "$WORK/uflip.out")
            expect_exit 0 "$TWAMPY" controller --keyfile "$KEYS" --keyid alice --modes "$mode" \
                --reflector-port "$N" -c 20 -i 5 --timeout 1 "$H:$CP" "$H:0"
            grep -q "Session 1 accepted: reflector $(re_of "$H:$N")\$" "$ERR" ||
                fail "the server did not give port $N: $(grep accepted "$ERR")"
            # 4 of 20 altered: lost, never measured.
            grep -qE '^  Roundtrip: .* 20\.0%$' "$OUT" ||
                fail_later "$mode, $dir flipped: no 20.0% round-trip loss:$(printf '\n%s' "$(head -n 8 "$OUT")")"
            if [ "$dir" = rep ]; then
                grep -qE "NOTICE +Integrity failures: 4 replies failed the integrity check" "$ERR" ||
                    fail_later "$mode: 4 altered replies not counted: $(grep -i integrity "$ERR")"
            else
                wait_for srv2 err "session [0-9]+ \(port $N\) ended: 16 reflected, 4 dropped \(not started 0, foreign sender 0, too short 0, failed the integrity check 4\)"
                if grep -q 'Integrity failures' "$ERR"; then
                    fail_later "$mode: replies counted as integrity failures though none was altered"
                fi
            fi
            mode_reported "$mode"
            kill -TERM "${PID_OF[uflip]}"
            probe_done uflip
            grep -q 'flipped 4$' "$WORK/uflip.out" || fail "the UDP relay: $(cat "$WORK/uflip.out")"
            probe_done ctl
        done
    done
    stop_server srv2
    note "altered TWAMP-Test packets: dropped by the reflector, counted by the sender (modes 2, 4)"
fi

# ---- authenticated STAMP ----------------------------------------------------------------
start_responder resp --keyfile "$KEYS" --keyid bob "$H:0"
RP=$PORT
sender_ok --stamp --keyfile "$KEYS" --keyid bob "${FAST[@]}" "$H:$RP" "$H:0"
mode_reported authenticated
sender_ok --stamp --keyfile "$KEYS" --keyid bob --padding 100 --ssid 7 "${FAST[@]}" "$H:$RP" "$H:0"
# Unauthenticated STAMP and a wrong key: dropped, never answered.
# Nothing usable came back: exit 1 (as ping).
expect_exit 1 "$TWAMPY" sender --stamp -c 5 -i 5 --timeout 1 "$H:$RP" "$H:0"
grep -q 'NO STATS AVAILABLE' "$OUT" || fail "an unauthenticated STAMP packet was answered"
expect_exit 1 "$TWAMPY" sender --stamp --keyfile "$KEYS" --keyid alice -c 5 -i 5 --timeout 1 \
    "$H:$RP" "$H:0"
grep -q 'NO STATS AVAILABLE' "$OUT" || fail "a STAMP packet with another key was answered"
grep -qE "NOTICE +No reply passed the integrity check" "$ERR" ||
    fail_later "no hint when nothing passed: $(cat "$ERR")"
# Altered in flight: octet 20 (the Timestamp, covered by the HMAC).
for dir in req rep; do
    start_probe sflip '^listening on [0-9]+$' flip udp "$H" "$H" "$RP" --offset 20 --every 4 \
        --dir "$dir"
    FP=$(sed -n 's/^listening on //p' "$WORK/sflip.out")
    expect_exit 0 "$TWAMPY" sender --stamp --keyfile "$KEYS" --keyid bob -c 20 -i 5 --timeout 1 \
        "$H:$FP" "$H:0"
    grep -qE '^  Roundtrip: .* 25\.0%$' "$OUT" ||
        fail_later "STAMP, $dir flipped: no 25.0% round-trip loss:$(printf '\n%s' "$(head -n 8 "$OUT")")"
    if [ "$dir" = rep ]; then
        grep -qE "NOTICE +Integrity failures: 5 replies failed the integrity check" "$ERR" ||
            fail_later "STAMP: 5 altered replies not counted: $(grep -i integrity "$ERR")"
    fi
    kill -TERM "${PID_OF[sflip]}"
    probe_done sflip
done
stop_responder resp
expect_counters "5 unauthenticated, 10 failed the integrity check (dropped unanswered)"
# A key file with one line needs no --keyid.
start_responder one --keyfile "$ONE" "$H:0"
sender_ok --stamp --keyfile "$ONE" "${FAST[@]}" "$H:$PORT" "$H:0"
mode_reported authenticated
stop_responder one
note "authenticated STAMP: answered, and what fails its HMAC dropped or counted"

finish
