#!/usr/bin/env bash
# A controller <-> server run captured on loopback (dumpcap) and decoded by
# tshark, an implementation independent of twampy's codecs:
#  - TWAMP-Control: the eight messages in order; the greeting's modes include
#    1; Set-Up-Response mode 1 plus symmetrical size when offered; Server-Start
#    Accept 0; Request-TW-Session command 5, IPVN 4, the sender's address and
#    port, receiver port 20001, padding length 73 (--padding 100 less the 27
#    MBZ octets of the symmetrical-size format, RFC 6038 4.2), Type-P DSCP 46,
#    Timeout 1 s
#    (raw octets); Accept-Session Accept 0 with the port the controller tested
#    and a SID that starts with the receiver address; Start-Sessions, Start-Ack
#    Accept 0, Stop-Sessions with 1 session;
#  - TWAMP-Test: the sender's packets carry sequence numbers 0..N-1, 114
#    octets, DSCP EF and TTL 17; the reflector's replies carry its own and the
#    sender's sequence numbers 0..N-1, Sender TTL 17, zero MBZ fields, DSCP EF
#    (the session's Type-P) and TTL 64;
#  - nothing malformed, no expert warning.
# Needs tshark and dumpcap and the right to capture (root): prints "SKIP: ..."
# and passes without them.
source "$(dirname "$0")/lib.sh" "$@"

for tool in tshark dumpcap; do
    command -v "$tool" >/dev/null || {
        echo "SKIP: $tool is not installed (apt-get install tshark)"
        exit 0
    }
done

# An address of 127.0.0.0/8 that no other test uses: the capture filter then
# keeps this test's packets only, whatever runs in parallel on lo.
H=127.86.79.55
N=10

start_server srv "$H:0"
P=$PORT

# capture_marker TEXT: send TEXT to $H:9 in a UDP datagram (again every 0.5 s)
# until it is in the capture file. dumpcap writes packets in order but in
# blocks: once a marker is in the file, the capture is running and every packet
# sent before the marker is in the file too.
capture_marker() {
    local deadline=$((SECONDS + 20)) n=0
    until grep -qa -- "$1" "$WORK/cap.pcapng" 2>/dev/null; do
        if [ $((n % 25)) -eq 0 ]; then
            printf '%s' "$1" >"/dev/udp/$H/9" || fail "cannot send the marker datagram"
        fi
        n=$((n + 1))
        if ! alive "${PID_OF[cap]}"; then
            if [ "$(id -u)" -ne 0 ] && grep -qiE 'permission|not permitted' "$WORK/cap.err"; then
                echo "SKIP: dumpcap may not capture on lo here (not root): $(grep -m 1 -i permission "$WORK/cap.err")"
                exit 0
            fi
            fail "dumpcap exited: $(grep -v '^$' "$WORK/cap.err" | head -n 3)"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "the marker '$1' never reached the capture file"
        sleep 0.02
    done
}

bg cap dumpcap -q -i lo -f "host $H" -a duration:50 -w "$WORK/cap.pcapng"
capture_marker "twampy-capture-start-$$"

controller_ok -v --dscp ef --ttl 17 --padding 100 --timeout 1 -c "$N" -i 5 "$H:$P" "$H:0"
sport=$(sed -n 's/.*Request-TW-Session 1 of 1: sender port \([0-9]*\), .*/\1/p' "$ERR")
R=$(sed -n "s/.*Session 1 accepted: reflector $(re_of "$H"):\([0-9]*\)\$/\1/p" "$ERR")
{ [ -n "$sport" ] && [ -n "$R" ]; } || fail "no sender port or reflector port in the controller's log"
note "server $H:$P, sender port $sport, reflector port $R"

capture_marker "twampy-capture-end-$$"
kill -INT "${PID_OF[cap]}"
bg_wait cap
[ "$BG_RC" -eq 0 ] || fail "dumpcap exited with $BG_RC"

# shark NAME ARGS...: tshark -r the capture ARGS, fields separated by '|' (not
# tabs: read merges empty fields between IFS white space), into $WORK/NAME.tsv.
shark() {
    local name=$1
    shift
    TZ=UTC timeout -k 5 "$RUN_LIMIT" tshark -r "$WORK/cap.pcapng" -T fields -E 'separator=|' \
        "$@" >"$WORK/$name.tsv" 2>"$WORK/$name.tshark-err" ||
        fail "tshark $* failed: $(grep -v 'Running as user' "$WORK/$name.tshark-err" | head -n 3)"
}

# ---- TWAMP-Control ----------------------------------------------------------------
shark ctl -d "tcp.port==$P,twamp.control" -Y "tcp.port==$P && twamp.control" \
    -e tcp.srcport -e _ws.col.Info -e twamp.control.modes -e twamp.control.mode \
    -e twamp.control.accept -e twamp.control.command -e twamp.control.ipvn \
    -e twamp.control.sender_ipv4 -e twamp.control.sender_port -e twamp.control.receiver_ipv4 \
    -e twamp.control.receiver_port -e twamp.control.padding_length -e twamp.control.type-p \
    -e twamp.control.session_id -e twamp.control.numsessions -e tcp.payload
want=("Server Greeting" "Setup Response" "Server Start" "Request Session" "Accept Session"
    "Start Sessions" "Start Sessions ACK" "Stop Session")
[ "$(wc -l <"$WORK/ctl.tsv")" -eq "${#want[@]}" ] ||
    fail "tshark decoded $(wc -l <"$WORK/ctl.tsv") TWAMP-Control messages, expected ${#want[@]}:$(printf '\n%s' "$(cut -f 1-2 "$WORK/ctl.tsv")")"
i=0
while IFS='|' read -r src info modes mode accept cmd ipvn saddr sp raddr rp pad typep sid nsess payload; do
    what=${want[$i]}
    case $info in
    "$what" | "$what, "*) ;;
    *) fail "TWAMP-Control message $((i + 1)) is '$info', expected '$what'" ;;
    esac
    case $what in
    "Server Greeting" | "Server Start" | "Accept Session" | "Start Sessions ACK")
        [ "$src" = "$P" ] || fail "$what came from port $src, not the server's $P" ;;
    *) [ "$src" != "$P" ] || fail "$what came from the server" ;;
    esac
    case $what in
    "Server Greeting")
        [ $((modes & 1)) -eq 1 ] || fail "the Server Greeting offers modes $modes, without 1 (unauthenticated)"
        offered=$modes
        ;;
    "Setup Response")
        [ "$mode" -eq $((1 | (offered & 64))) ] ||
            fail "Set-Up-Response mode $mode, expected $((1 | (offered & 64))) for offered modes $offered"
        ;;
    "Server Start") [ "$accept" = 0 ] || fail "Server-Start Accept $accept" ;;
    "Request Session")
        got="cmd=$cmd ipvn=$ipvn sender=$saddr:$sp receiver=$raddr:$rp padding=$pad type-p=$typep"
        exp="cmd=5 ipvn=4 sender=$H:$sport receiver=0.0.0.0:20001 padding=73 type-p=0x2e000000"
        [ "$got" = "$exp" ] || fail "Request-TW-Session: $got, expected $exp"
        # Timeout (octets 76..83), NTP format: 1 s.
        [ "${payload:152:16}" = 0000000100000000 ] ||
            fail "Request-TW-Session Timeout octets ${payload:152:16}, expected 0000000100000000 (1 s)"
        ;;
    "Accept Session")
        { [ "$accept" = 0 ] && [ "$rp" = "$R" ]; } ||
            fail "Accept-Session: Accept $accept port $rp, expected Accept 0 and the port tested, $R"
        # shellcheck disable=SC2086 # the four octets of H as words
        [ "${sid:0:8}" = "$(printf "%02x" ${H//./ })" ] ||
            fail "Accept-Session SID $sid does not start with the receiver address $H"
        ;;
    "Start Sessions") [ "$cmd" = 2 ] || fail "Start-Sessions command $cmd" ;;
    "Start Sessions ACK") [ "$accept" = 0 ] || fail "Start-Ack Accept $accept" ;;
    "Stop Session")
        { [ "$cmd" = 3 ] && [ "$nsess" = 1 ] && [ "$accept" = 0 ]; } ||
            fail "Stop-Sessions: command $cmd, Accept $accept, $nsess sessions, expected 3, 0, 1"
        ;;
    esac
    i=$((i + 1))
done <"$WORK/ctl.tsv"
note "TWAMP-Control: 8 messages as expected (modes $offered)"

# ---- TWAMP-Test, the sender's packets ----------------------------------------------
shark snd --disable-protocol twamp.control -d "udp.port==$R,owamp.test" \
    -Y "udp.srcport==$sport && udp.dstport==$R" \
    -e twamp.test.seq_number -e udp.length -e ip.dsfield -e ip.ttl
[ "$(wc -l <"$WORK/snd.tsv")" -eq "$N" ] || fail "$(wc -l <"$WORK/snd.tsv") sender packets captured, expected $N"
i=0
while IFS='|' read -r seq ulen ds ttl; do
    got="seq=$seq udp-length=$ulen dsfield=$ds ttl=$ttl"
    exp="seq=$i udp-length=122 dsfield=0xb8 ttl=17"
    [ "$got" = "$exp" ] || fail "sender packet $((i + 1)): $got, expected $exp"
    i=$((i + 1))
done <"$WORK/snd.tsv"

# ---- TWAMP-Test, the reflector's replies ---------------------------------------------
shark refl -d "udp.port==$R,twamp.test" -Y "udp.srcport==$R && udp.dstport==$sport" \
    -e twamp.test.seq_number -e twamp.test.sender_seq_number -e twamp.test.sender_ttl \
    -e twamp.test.mbz1 -e twamp.test.mbz2 -e udp.length -e ip.dsfield -e ip.ttl
[ "$(wc -l <"$WORK/refl.tsv")" -eq "$N" ] || fail "$(wc -l <"$WORK/refl.tsv") replies captured, expected $N"
i=0
while IFS='|' read -r seq sseq sttl mbz1 mbz2 ulen ds ttl; do
    got="seq=$seq sender-seq=$sseq sender-ttl=$sttl mbz=$mbz1,$mbz2 udp-length=$ulen dsfield=$ds ttl=$ttl"
    exp="seq=$i sender-seq=$i sender-ttl=17 mbz=0,0 udp-length=122 dsfield=0xb8 ttl=64"
    [ "$got" = "$exp" ] || fail "reply $((i + 1)): $got, expected $exp"
    i=$((i + 1))
done <"$WORK/refl.tsv"
note "TWAMP-Test: $N requests and $N replies as expected"

# ---- nothing malformed ------------------------------------------------------------
shark bad -d "tcp.port==$P,twamp.control" -d "udp.port==$R,twamp.test" \
    -Y "(tcp.port==$P || udp.port==$R) && (_ws.malformed || _ws.expert.severity >= \"Warning\")" \
    -e frame.number -e _ws.col.Info
[ ! -s "$WORK/bad.tsv" ] || fail "tshark flags packets:$(printf '\n%s' "$(cat "$WORK/bad.tsv")")"

stop_server srv
expect_counters "TWAMP server stopped: 1 connections (0 refused, 0 closed for protocol errors), 1 sessions accepted, 0 refused"
finish
