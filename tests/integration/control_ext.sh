#!/usr/bin/env bash
# TWAMP-Control extensions end to end, twampy controller against twampy server:
#  - RFC 6038 reflect octets, in every security mode (open, mixed: the padding
#    to reflect at 14, or at 41 after the 27 MBZ octets in symmetrical size;
#    authenticated, encrypted: at 48, back at 112): the server logs the
#    session's octets, the controller checks every reply ("Reflect octets
#    (RFC 6038): N of N replies carried the padding back"), with the server's
#    --server-octets first in the padding;
#  - --symmetrical against a server that does not offer it (--modes without
#    64 is impossible: the option is checked against a too-short --padding
#    instead, a usage error) and the auto choice of mode 64 with the Padding
#    Length announced after the 27 MBZ octets;
#  - RFC 5357 Start Time: --start-time +1 delays the packets and the server's
#    session until then ("starts at its Start Time", then "Start Time is
#    due"), an ISO 8601 time too; a Start Time later than the server's
#    --servwait is refused (Accept 3, exit 1); a bad --start-time is a usage
#    error;
#  - RFC 7750 --monitor-dscp-ecn with --dscp ef --ecn 2 (open, encrypted):
#    "At the reflector (RFC 7750): ECN ECT(0) 5; DSCP 46", the replies
#    Not-ECT; with reflect octets (padding back at 44) and --ecn 3 (CE);
#  - RFC 5938 --individual-control --sessions 3: each session started by its
#    own Start-N-Sessions (acknowledged), run, stopped by its own
#    Stop-N-Sessions, the next one started after; mode 81; 0.0% loss;
#  - with tshark and dumpcap (root): the TWAMP-Control messages of a
#    reflect-octets run decoded by tshark: Set-Up-Response mode 97, the
#    Request-TW-Session's Padding Length 13 (40 - 27), Octets to be reflected
#    and Length of padding to reflect (raw octets 88..91: 1234 0006),
#    Accept-Session's Reflected octets and Server octets (raw 20..23: 1234
#    0a0b), the Start Time the controller asked for (raw 68..75).
source "$(dirname "$0")/lib.sh" "$@"

H=127.86.79.61
KEYS=$WORK/keys
printf 'alice correct horse battery staple\n' >"$KEYS"
chmod 600 "$KEYS"
# --timeout 3: the run ends as soon as every reply is in; the margin is for a loaded machine.
FAST=(-c 5 -i 5 --timeout 3)

start_server srv -v --server-octets 0a0b --keyfile "$KEYS" --servwait 60 "$H:0"
P=$PORT

# ---- RFC 6038 reflect octets --------------------------------------------------
for mode in open mixed authenticated encrypted; do
    controller_ok -v --keyfile "$KEYS" --keyid alice --modes "$mode" --reflect-octets 1234 \
        --reflect-padding 6 --padding 100 "${FAST[@]}" "$H:$P" "$H:0"
    out_has '^Reflect octets \(RFC 6038\): 5 of 5 replies carried the padding back$'
    log_has srv "session 1 reflects 6 octets of padding \(RFC 6038; octets 0x1234, server octets 0x0a0b\)"
    case $mode in
    open | mixed) at=41 ;; # symmetrical size chosen: after the 27 MBZ octets
    *) at=48 ;;
    esac
    grep -qE "Session 1: 6 octets of padding to reflect at offset $at, expected back at (41|112) \(server octets 0x0a0b\)" "$ERR" ||
        fail "mode $mode: the controller did not put the padding to reflect at $at: $(grep -m1 'to reflect' "$ERR")"
    note "reflect octets in mode $mode: 5 of 5 replies"
done
# Without symmetrical size (a padding too short for it and the octets after
# it): the padding to reflect right after the 14-octet header.
controller_ok -v --reflect-octets beef --reflect-padding 2 --padding 27 "${FAST[@]}" "$H:$P" "$H:0"
out_has '^Reflect octets \(RFC 6038\): 5 of 5 replies carried the padding back$'
grep -qE 'Session 1: 2 octets of padding to reflect at offset 14, expected back at 41' "$ERR" ||
    fail "the padding to reflect is not at 14 without symmetrical size"
grep -qE 'Mode open \(Set-Up-Response mode 33\)' "$ERR" || fail "mode 33 (1|32) not chosen"
note "reflect octets without symmetrical size: mode 33, at offset 14"

# ---- symmetrical size ----------------------------------------------------------
controller_ok -v --symmetrical --padding 60 "${FAST[@]}" "$H:$P" "$H:0"
grep -qE 'Mode open \(Set-Up-Response mode 65\)' "$ERR" || fail "--symmetrical: mode 65 not chosen"
grep -qE 'Request-TW-Session 1 of 1: .*Padding Length 33,' "$ERR" ||
    fail "--symmetrical --padding 60 did not announce Padding Length 33: $(grep -m1 'Request-TW' "$ERR")"
expect_exit 2 "$TWAMPY" controller --symmetrical --padding 20 "$H:$P"
grep -q 'needs 27 or more' "$ERR" || fail "--symmetrical --padding 20: $(head -c 300 "$ERR")"
expect_exit 2 "$TWAMPY" controller --reflect-padding 4 "$H:$P"
expect_exit 2 "$TWAMPY" controller --reflect-octets 12345 "$H:$P"
note "symmetrical size: mode 65, Padding Length = padding - 27; usage errors"

# ---- RFC 5357 Start Time ------------------------------------------------------
controller_ok -v --start-time +1 "${FAST[@]}" "$H:$P" "$H:0"
log_has srv "session 1 starts at its Start Time, in 0\.[0-9]+ s"
log_has srv "session 1 \(port [0-9]+\) starts: its Start Time is due"
grep -qE 'Sessions start at their Start Time, in 0\.[0-9]+ s' "$ERR" ||
    fail "the controller did not wait for the Start Time"
iso=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
controller_ok --start-time "$iso" "${FAST[@]}" "$H:$P" "$H:0"
expect_exit 1 "$TWAMPY" controller --start-time +3600 "${FAST[@]}" "$H:$P" "$H:0"
grep -q 'refused session 1 in Accept-Session: Accept 3' "$ERR" ||
    fail "a Start Time an hour ahead was not refused with Accept 3: $(head -c 300 "$ERR")"
log_has srv "Start Time is 3[56][0-9][0-9] s from now, later than --servwait \(60 s\)"
expect_exit 2 "$TWAMPY" controller --start-time 2026-12-02T07:30:00 "$H:$P"
expect_exit 2 "$TWAMPY" controller --start-time +x "$H:$P"
note "Start Time: +1 and ISO 8601 honoured by both ends, an hour ahead refused"

# ---- RFC 5938 individual session control ------------------------------------
controller_ok -v --individual-control --sessions 3 "${FAST[@]}" "$H:$P" "$H:0"
seq=$(grep -oE 'Session [0-9]: (Start-N-Sessions|Start-N-Ack|Stop-N-Sessions|Stop-N-Ack)' "$ERR" |
    sed 's/ (RFC 5938)//' | tr '\n' ';')
for i in 1 2 3; do
    case $seq in
    *"Session $i: Start-N-Sessions;"*"Session $i: Start-N-Ack;"*"Session $i: Stop-N-Sessions;"*"Session $i: Stop-N-Ack;"*) ;;
    *) fail "--individual-control: session $i not started and stopped on its own: $seq" ;;
    esac
done
# One after the other: session 2 starts after session 1's Stop-N-Sessions.
case $seq in
*"Session 1: Stop-N-Sessions;"*"Session 2: Start-N-Sessions;"*"Session 2: Stop-N-Sessions;"*"Session 3: Start-N-Sessions;"*) ;;
*) fail "--individual-control: the sessions did not run one after the other: $seq" ;;
esac
[ "$(grep -c 'Stop-N-Ack$' "$ERR")" -eq 3 ] || fail "not 3 Stop-N-Acks: $seq"
grep -q 'Mode open (Set-Up-Response mode 81)' "$ERR" || fail "mode 81 (1|16|64) not chosen"
[ "$(log_count srv 'Start-N-Sessions: 1 session, 1 started$')" -ge 3 ] ||
    fail "the server did not log three Start-N-Sessions"
[ "$(log_count srv 'Stop-N-Sessions: 1 session, 1 stopping$')" -ge 3 ] ||
    fail "the server did not log three Stop-N-Sessions"
note "individual session control: 3 sessions started and stopped one by one, 0.0% loss"

# ---- RFC 7750 DSCP and ECN monitoring, --ecn ------------------------------------
for mode in open encrypted; do
    controller_ok --keyfile "$KEYS" --keyid alice --modes "$mode" --monitor-dscp-ecn --dscp ef \
        --ecn 2 "${FAST[@]}" "$H:$P" "$H:0"
    out_has '^At the reflector \(RFC 7750\): ECN ECT\(0\) 5; DSCP 46 \(0 of 5 replies with another DSCP than sent\)$'
    # The server's replies: the session's DSCP, ECN Not-ECT (RFC 7750 2.2.1).
    out_has '^ECN of the replies as received: Not-ECT 5$'
done
controller_ok --monitor-dscp-ecn --reflect-octets 4242 --padding 40 --ecn 3 "${FAST[@]}" "$H:$P" "$H:0"
out_has '^At the reflector \(RFC 7750\): ECN CE 5; DSCP 0 '
out_has '^Reflect octets \(RFC 6038\): 5 of 5 replies carried the padding back$'
expect_exit 2 "$TWAMPY" controller --ecn 4 "$H:$P"
note "DSCP and ECN monitoring: EF/ECT(0) and CE seen at the reflector, open and encrypted"

# ---- tshark's decode of the reflect-octets fields ---------------------------------
if ! command -v tshark >/dev/null || ! command -v dumpcap >/dev/null || [ "$(id -u)" -ne 0 ]; then
    echo "SKIP (tshark part): tshark, dumpcap or root missing"
    finish
fi
bg cap dumpcap -q -i lo -f "host $H and tcp port $P" -a duration:50 -w "$WORK/cap.pcapng"
wait_for cap err 'Capturing on'
start=$(date -u -d '+1 seconds' +%Y-%m-%dT%H:%M:%S.500Z)
controller_ok -v --reflect-octets 1234 --reflect-padding 6 --padding 40 --start-time "$start" \
    "${FAST[@]}" "$H:$P" "$H:0"
kill -INT "${PID_OF[cap]}"
bg_wait cap
TZ=UTC timeout -k 5 30 tshark -r "$WORK/cap.pcapng" -d "tcp.port==$P,twamp.control" \
    -Y "twamp.control" -T fields -E 'separator=|' -e _ws.col.Info -e twamp.control.mode \
    -e twamp.control.padding_length -e tcp.payload >"$WORK/ctl.tsv" 2>"$WORK/tshark.err" ||
    fail "tshark failed: $(head -n 3 "$WORK/tshark.err")"
bad=$(TZ=UTC tshark -r "$WORK/cap.pcapng" -d "tcp.port==$P,twamp.control" \
    -Y '_ws.malformed || _ws.expert.severity >= "Warning"' 2>/dev/null | head -n 3)
[ -z "$bad" ] || fail "tshark finds malformed packets: $bad"
# The last control connection in the capture is the one above.
mode=$(grep '^Setup Response|' "$WORK/ctl.tsv" | tail -n 1 | cut -d'|' -f2)
[ "$mode" = 97 ] || fail "tshark: Set-Up-Response mode '$mode', expected 97 (1|32|64)"
req=$(grep '^Request Session' "$WORK/ctl.tsv" | tail -n 1)
pad=$(echo "$req" | cut -d'|' -f3)
[ "$pad" = 13 ] || fail "tshark: Padding Length '$pad', expected 13 (40 - 27)"
rp=$(echo "$req" | cut -d'|' -f4)
[ "${rp:176:8}" = 12340006 ] || fail "Request-TW-Session octets 88..91 are ${rp:176:8}, expected 12340006"
want_start=$(printf '%08x' $(($(date -u -d "${start%.500Z}Z" +%s) + 2208988800)))
[ "${rp:136:8}" = "$want_start" ] && [ "${rp:144:2}" = 80 ] ||
    fail "Request-TW-Session Start Time ${rp:136:16}, expected ${want_start}80000000 ($start)"
acc=$(grep '^Accept Session' "$WORK/ctl.tsv" | tail -n 1 | cut -d'|' -f4)
[ "${acc:40:8}" = 12340a0b ] || fail "Accept-Session octets 20..23 are ${acc:40:8}, expected 12340a0b"
note "tshark: mode 97, Padding Length 13, octets 1234/6 requested, 1234/0a0b accepted, Start Time $start"
finish
