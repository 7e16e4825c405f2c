#!/usr/bin/env bash
# IPv6 flow labels (--flow-label) end to end on ::1:
#  - usage errors: an IPv4 reflector (sender, controller, a --targets line),
#    a label out of range;
#  - sender --flow-label 0x12345 against twampy responder: every reply came
#    back with the label (report, text and JSON: reflected == received);
#    per-packet (one packet a timer, and sendmmsg batches): as many distinct
#    labels as packets, all reflected; label 0 comes back 0;
#  - controller --flow-label random against twampy server: the same;
#  - on the wire (dumpcap, tshark, when there and permitted): the requests
#    carry ipv6.flow 0x12345 and the replies the same; per-packet, each reply
#    its request's label; the server's session reflector likewise;
#  - in a network namespace of the test's own (root, unshare), another
#    process holding an exclusive flow label lease: a fixed label is leased
#    and sent, the responder answers without it (counted), a per-packet run
#    ends with exit 1 and the reason.
# Skips (exit 0, "SKIP: ...") without IPv6 loopback.
source "$(dirname "$0")/lib.sh" "$@"

# A namespace of our own (below) starts with lo down.
[ "${3:-}" = netns ] && { ip link set lo up || exit 2; }
have_ipv6 || {
    echo "SKIP: no IPv6 loopback (::1) on this host"
    exit 0
}

# flow_line FILE: the report's "Flow label:" line (the last: a total's).
flow_line() {
    grep '^Flow label: ' "$1" | tail -n 1
}

# json_check FILE PYTHON: a Python expression over d (the JSON report) is true.
json_check() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
print("ok" if ok else "no: %s / %s" % (d.get("flow_label"), d["counters"]["received"]))
sys.exit(0 if ok else 1)' "$1" "$2" >"$WORK/json_check.out" 2>&1 ||
        fail "JSON report: $2 is false: $(cat "$WORK/json_check.out")"
}

# ---- in a network namespace: an exclusive lease held by another process ----
if [ "${3:-}" = netns ]; then
    bg lease python3 -c '
import socket, struct, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
# struct in6_flowlabel_req: ::1, label 1, IPV6_FL_A_GET, IPV6_FL_S_EXCL, IPV6_FL_F_CREATE
req = struct.pack("16s4sBBHHHI", socket.inet_pton(socket.AF_INET6, "::1"),
                  struct.pack("!I", 1), 0, 1, 1, 0, 0, 0)
s.setsockopt(socket.IPPROTO_IPV6, 32, req)  # IPV6_FLOWLABEL_MGR
print("leased", flush=True)
time.sleep(100)'
    wait_for lease out '^leased$'
    start_responder nsresp '[::1]:0'
    R=$PORT
    # A fixed label: leased by the sender, sent; the responder's replies go
    # without it (the kernel refuses it there), counted.
    expect_exit 0 "$TWAMPY" sender -v -c 5 -i 5 --flow-label 0x12345 "[::1]:$R" "[::1]:0"
    grep -q 'flow label 0x12345 leased' "$ERR" || fail "the sender did not lease its label"
    line=$(flow_line "$OUT")
    case "$line" in
    *"0 of 5 replies came back with the label sent, 5 with another"*) ;;
    *) fail "exclusive lease, fixed label: '$line'" ;;
    esac
    # Per-packet labels cannot be leased: exit 1 and the reason.
    expect_exit 1 "$TWAMPY" sender -c 5 -i 5 --flow-label per-packet "[::1]:$R" "[::1]:0"
    grep -q 'exclusive flow label lease' "$ERR" ||
        fail "per-packet under an exclusive lease: no reason given: $(cat "$ERR")"
    stop_responder nsresp
    expect_counters "5 without their request's flow label"
    grep -q "replies sent without their request's IPv6 flow label" "$WORK/nsresp.err" ||
        fail "the responder did not say why its replies went without the label"
    note "exclusive lease: fixed label leased, per-packet refused, the responder counted"
    exit 0
fi

# ---- usage errors ---------------------------------------------------------
expect_exit 2 "$TWAMPY" sender --flow-label 5 127.0.0.1:9
grep -q -- '--flow-label needs an IPv6 reflector' "$ERR" || fail "sender, IPv4: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" controller --flow-label random 127.0.0.1
grep -q -- '--flow-label needs an IPv6 reflector' "$ERR" || fail "controller, IPv4: $(cat "$ERR")"
printf '127.0.0.1:9 --flow-label per-packet\n' >"$WORK/targets4"
expect_exit 2 "$TWAMPY" sender --targets "$WORK/targets4"
grep -q -- '--flow-label needs an IPv6 reflector' "$ERR" || fail "--targets, IPv4: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" sender --flow-label 0x100000 '[::1]:9'
grep -q -- '--flow-label needs a label 0..0xFFFFF' "$ERR" || fail "0x100000: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" responder --flow-label 5
note "usage errors: IPv4 reflectors and out-of-range labels refused"

# ---- the capture (optional) -----------------------------------------------
CAPTURE=0
if command -v tshark >/dev/null && command -v dumpcap >/dev/null && [ "$(id -u)" -eq 0 ]; then
    CAPTURE=1
    bg cap dumpcap -q -i lo -f 'ip6 and udp' -a duration:100 -w "$WORK/cap.pcapng"
    # A marker datagram until it is in the file: the capture runs.
    deadline=$((SECONDS + 20))
    until grep -qa "twampy-flowlabel-start-$$" "$WORK/cap.pcapng" 2>/dev/null; do
        alive "${PID_OF[cap]}" || fail "dumpcap exited: $(head -n 3 "$WORK/cap.err")"
        printf '%s' "twampy-flowlabel-start-$$" >/dev/udp/::1/9 2>/dev/null
        [ "$SECONDS" -lt "$deadline" ] || fail "the capture never started"
        sleep 0.1
    done
else
    note "no tshark/dumpcap or not root: the wire is not checked"
fi

# sport_of FILE: the sender's local port from the report's first line.
sport_of() {
    sed -n '1s/.* from \[::1\]:\([0-9]*\);.*/\1/p' "$1"
}

start_responder resp '[::1]:0'
R=$PORT
N=20

# A fixed label.
sender_ok -c "$N" -i 5 --flow-label 0x12345 "[::1]:$R" "[::1]:0"
line=$(flow_line "$OUT")
case "$line" in
"Flow label: 0x12345 (fixed); $N of $N replies came back with the label sent, 0 with another"*) ;;
*) fail "fixed label: '$line'" ;;
esac
SP_FIXED=$(sport_of "$OUT")
[ -n "$SP_FIXED" ] || fail "no sender port in '$(head -n 1 "$OUT")'"
expect_exit 0 "$TWAMPY" sender --json -c "$N" -i 5 --flow-label 74565 "[::1]:$R" "[::1]:0"
json_check "$OUT" 'd["flow_label"]["mode"] == "fixed" and d["flow_label"]["label"] == 0x12345 and d["flow_label"]["reflected"] == d["counters"]["received"] == '"$N"' and d["flow_label"]["changed"] == 0 and d["paths"]["distinct"] == 1'

# Per-packet: a timer per packet, then sendmmsg batches (-i below 50 us).
expect_exit 0 "$TWAMPY" sender --json -c "$N" -i 5 --flow-label per-packet "[::1]:$R" "[::1]:0"
json_check "$OUT" 'd["flow_label"]["mode"] == "per-packet" and d["flow_label"]["labels_sent"] == '"$N"' and d["flow_label"]["reflected"] == d["counters"]["received"] == '"$N"
SP_PP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["local"].rsplit(":", 1)[1])' "$OUT")
expect_exit 0 "$TWAMPY" sender --json -c 200 -i 0.01 --timeout 2 --flow-label per-packet "[::1]:$R" "[::1]:0"
json_check "$OUT" 'd["flow_label"]["labels_sent"] == 200 and d["flow_label"]["reflected"] == d["counters"]["received"] and d["counters"]["received"] > 100 and d["flow_label"]["changed"] == 0'

# Label 0: sent as 0 (no automatic label), back as 0.
sender_ok -c 5 -i 5 --flow-label 0 "[::1]:$R" "[::1]:0"
case "$(flow_line "$OUT")" in
"Flow label: 0x00000 (fixed); 5 of 5 replies came back with the label sent"*) ;;
*)
    if [ "$(cat /proc/sys/net/ipv6/auto_flowlabels 2>/dev/null)" = 3 ]; then
        note "net.ipv6.auto_flowlabels = 3 (forced): label 0 is not sent as 0 here"
    else
        fail "label 0: '$(flow_line "$OUT")'"
    fi
    ;;
esac
note "responder: fixed, per-packet and 0 labels all came back"

# ---- the TWAMP server's session reflector ---------------------------------
start_server srv '[::1]:0'
C=$PORT
controller_ok -v -c "$N" -i 5 --flow-label random "[::1]:$C" "[::1]:0"
line=$(flow_line "$OUT")
LABEL=$(printf '%s' "$line" | sed -n 's/^Flow label: \(0x[0-9a-f]*\) (random); .*/\1/p')
case "$line" in
"Flow label: 0x"*" (random); $N of $N replies came back with the label sent, 0 with another"*) ;;
*) fail "controller, random label: '$line'" ;;
esac
{ [ -n "$LABEL" ] && [ "$LABEL" != 0x00000 ]; } || fail "no random non-zero label in '$line'"
CSP=$(sed -n 's/.*Request-TW-Session 1 of 1: sender port \([0-9]*\), .*/\1/p' "$ERR")
CRP=$(sed -n 's/.*Session 1 accepted: reflector \[::1\]:\([0-9]*\)$/\1/p' "$ERR")
{ [ -n "$CSP" ] && [ -n "$CRP" ]; } || fail "no sender or reflector port in the controller's log"
note "server: random label $LABEL came back on all $N replies"

# ---- the wire -------------------------------------------------------------
if [ "$CAPTURE" -eq 1 ]; then
    until grep -qa "twampy-flowlabel-end-$$" "$WORK/cap.pcapng" 2>/dev/null; do
        alive "${PID_OF[cap]}" || fail "dumpcap exited: $(head -n 3 "$WORK/cap.err")"
        printf '%s' "twampy-flowlabel-end-$$" >/dev/udp/::1/9 2>/dev/null
        sleep 0.1
    done
    kill -INT "${PID_OF[cap]}"
    bg_wait cap
    # flows FILTER: "srcport dstport flow" of the matching packets.
    flows() {
        timeout -k 5 "$RUN_LIMIT" tshark -r "$WORK/cap.pcapng" -Y "$1" -T fields \
            -e udp.srcport -e udp.dstport -e ipv6.flow 2>"$WORK/tshark.err"
    }
    flows "udp.srcport == $SP_FIXED && udp.dstport == $R" >"$WORK/req.tsv"
    flows "udp.srcport == $R && udp.dstport == $SP_FIXED" >"$WORK/rep.tsv"
    [ "$(wc -l <"$WORK/req.tsv")" -eq "$N" ] || fail "$(wc -l <"$WORK/req.tsv") requests captured, not $N"
    [ "$(wc -l <"$WORK/rep.tsv")" -eq "$N" ] || fail "$(wc -l <"$WORK/rep.tsv") replies captured, not $N"
    [ "$(cut -f3 "$WORK/req.tsv" | sort -u)" = 0x012345 ] ||
        fail "requests' labels: $(cut -f3 "$WORK/req.tsv" | sort -u | tr '\n' ' ')"
    [ "$(cut -f3 "$WORK/rep.tsv" | sort -u)" = 0x012345 ] ||
        fail "replies' labels: $(cut -f3 "$WORK/rep.tsv" | sort -u | tr '\n' ' ')"
    # Per-packet: N distinct labels out, the same N back.
    flows "udp.srcport == $SP_PP && udp.dstport == $R" | cut -f3 | sort >"$WORK/ppreq"
    flows "udp.srcport == $R && udp.dstport == $SP_PP" | cut -f3 | sort >"$WORK/pprep"
    [ "$(sort -u "$WORK/ppreq" | wc -l)" -eq "$N" ] ||
        fail "per-packet: $(sort -u "$WORK/ppreq" | wc -l) distinct labels on the wire, not $N"
    cmp -s "$WORK/ppreq" "$WORK/pprep" || fail "per-packet: the replies' labels are not the requests'"
    # The server's session reflector.
    want=$(printf '0x%06x' "$LABEL")
    flows "udp.srcport == $CSP && udp.dstport == $CRP" >"$WORK/creq.tsv"
    flows "udp.srcport == $CRP && udp.dstport == $CSP" >"$WORK/crep.tsv"
    [ "$(wc -l <"$WORK/crep.tsv")" -eq "$N" ] || fail "$(wc -l <"$WORK/crep.tsv") server replies captured, not $N"
    [ "$(cut -f3 "$WORK/creq.tsv" "$WORK/crep.tsv" | sort -u)" = "$want" ] ||
        fail "server session: labels $(cut -f3 "$WORK/creq.tsv" "$WORK/crep.tsv" | sort -u | tr '\n' ' '), not $want"
    note "wire: requests and replies carry 0x012345; per-packet $N labels each way; server $want"
fi

# ---- an exclusive lease in a namespace of our own ---------------------------
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null &&
    unshare -n true 2>/dev/null; then
    run unshare -n "$BASH" "$0" "$TWAMPY" "$PROBE" netns
    [ "$RC" -eq 0 ] || fail "in the namespace: $(grep -h FAIL "$ERR" "$OUT" | head -n 3)"
    grep -q 'exclusive lease: ' "$OUT" || fail "the namespace part did not run: $(cat "$OUT" "$ERR")"
    grep '^# ' "$OUT"
else
    note "not root or no unshare: the exclusive-lease case is not checked"
fi

finish
