#!/usr/bin/env bash
# Conformance warnings (issue 11 item 4): fake reflectors that break one rule
# each (twampy_probe reflect --style ...), and the sender's report names it once:
# a text line "Warning [code] RFC ...: N of M replies ..." after the table, and
# a JSON `warnings` entry {code, severity, rfc, count, of, text}. What kind of
# reflector it is (stateless or stateful sequence) is a note (severity info).
# Our own responder and server, in every format, give no warning at all.
source "$(dirname "$0")/lib.sh" "$@"

H=127.0.0.1
HAVE_PY=1
command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null || HAVE_PY=0

show() { printf '\n%s' "$(cat "$OUT")"; }

# line TEXT: the text report has exactly this line.
line() {
    grep -qxF -- "$1" "$OUT" || fail "no line '$1' in the report:$(show)"
}

# jwarn CODE SEVERITY RFC COUNT OF: the JSON report's warnings hold exactly one
# CODE entry with these members (and a text).
jwarn() {
    [ "$HAVE_PY" -eq 1 ] || return 0
    python3 - "$OUT" "$@" <<'PY' || fail "JSON warnings: see above:$(show)"
import json, sys
d = json.load(open(sys.argv[1]))
code, sev, rfc, count, of = sys.argv[2:7]
w = [x for x in d["warnings"] if x["code"] == code]
if len(w) != 1:
    sys.exit("%d '%s' entries in %s" % (len(w), code, d["warnings"]))
w = w[0]
want = {"severity": sev, "rfc": rfc, "count": int(count), "of": int(of)}
for k, v in want.items():
    if w[k] != v:
        sys.exit("%s: %s is %r, expected %r" % (code, k, w[k], v))
if not w["text"].startswith("%s of " % count):
    sys.exit("%s: text %r" % (code, w["text"]))
PY
}

# jnone: no JSON warning with a clause (no conformance warning) at all.
jnone() {
    [ "$HAVE_PY" -eq 1 ] || return 0
    python3 - "$OUT" <<'PY' || fail "JSON: conformance warnings from our own reflector:$(show)"
import json, sys
d = json.load(open(sys.argv[1]))
bad = [x for x in d["warnings"] if x["rfc"] is not None and x["severity"] != "info"]
for s in d.get("sessions", []):
    bad += [x for x in s["warnings"] if x["rfc"] is not None and x["severity"] != "info"]
if bad:
    sys.exit(str(bad))
PY
}

# fake STYLE COUNT [SENDER OPTIONS...]: the sender against a fake reflector of
# STYLE, text report in $OUT (exit 0); then again with --json.
fake() {
    local style=$1 count=$2
    shift 2
    start_reflect "$style" "$H" --count "$count" --style "$style"
    expect_exit 0 "$TWAMPY" sender -c "$count" -i 5 --timeout 0.5 "$@" "$H:$PORT" "$H:0"
    probe_done "$style"
    cp "$OUT" "$WORK/$style.txt"
}
fake_json() {
    local style=$1 count=$2
    shift 2
    [ "$HAVE_PY" -eq 1 ] || return 0
    start_reflect "${style}j" "$H" --count "$count" --style "$style"
    expect_exit 0 "$TWAMPY" sender --json -c "$count" -i 5 --timeout 0.5 "$@" "$H:$PORT" "$H:0"
    probe_done "${style}j"
}

STATELESS_TWAMP='Note [sequence-stateless] RFC 5357 §4.2.1: 4 of 4 replies carry our Sequence Number as the reflector'"'"'s: a stateless reflector (a lost packet then has no known direction), or a stateful one that missed none of ours'

fake mbz 4
line 'Warning [mbz-not-zero] RFC 5357 §4.2.1: 4 of 4 replies have MBZ octets that are not zero (the first: offset 14 is 0x5a)'
line "$STATELESS_TWAMP"
fake_json mbz 4
jwarn mbz-not-zero warn 'RFC 5357 §4.2.1' 4 4
jwarn sequence-stateless info 'RFC 5357 §4.2.1' 4 4
note "mbz: MBZ octets not zero, once, with the first offset"

fake epoch 4
line 'Warning [clock-far-off] RFC 4656 §4.1.2: 4 of 4 replies carry timestamps -2208988800 s from our clock: the 70 years from 1900 to 1970, Unix time written where NTP time belongs'
fake_json epoch 4
jwarn clock-far-off warn 'RFC 4656 §4.1.2' 4 4
note "epoch: S bit set with Unix-epoch timestamps: named as such"

fake farclock 4
line 'Warning [clock-far-off] RFC 4656 §4.1.2: 4 of 4 replies carry timestamps +3600 s from our clock with the S bit set (synchronized to UTC): no one-way delay explains that; one-way delays are wrong'
fake_json farclock 4
jwarn clock-far-off warn 'RFC 4656 §4.1.2' 4 4
note "farclock: S bit set, an hour off"

fake zeroerr 4
line 'Warning [error-estimate-zero] RFC 4656 §4.1.2: 4 of 4 replies carry an Error Estimate whose Multiplier is 0, which must not be (such a packet should be taken as corrupt): measured anyway, the reflector'"'"'s timestamp error unknown'
fake_json zeroerr 4
jwarn error-estimate-zero warn 'RFC 4656 §4.1.2' 4 4
note "zeroerr: Error Estimate Multiplier 0"

fake t2eqt3 4
line 'Warning [t2-equals-t3] RFC 5357 §4.2.1: 4 of 4 replies carry Receive Timestamp = Timestamp: residence not reported (it is inside the round trip)'
fake_json t2eqt3 4
jwarn t2-equals-t3 warn 'RFC 5357 §4.2.1' 4 4
note "t2eqt3: residence not reported"

fake backwards 4
line 'Warning [t3-before-t2] RFC 5357 §4.2.1: 4 of 4 replies carry a Timestamp (t3) earlier than their Receive Timestamp (t2): one-way delays and residence n/a'
fake_json backwards 4
jwarn t3-before-t2 warn 'RFC 5357 §4.2.1' 4 4
note "backwards: t3 < t2"

fake ttl0 4
line 'Warning [no-sender-ttl] RFC 5357 §4.2.1: 4 of 4 replies carry no Sender TTL (it is 0): outbound TTL unknown'
fake_json ttl0 4
jwarn no-sender-ttl warn 'RFC 5357 §4.2.1' 4 4
note "ttl0: Sender TTL 0"

fake python 4
line 'Warning [no-sender-ttl] RFC 5357 §4.2.1: 4 of 4 replies carry no Sender TTL (they end before it): outbound TTL unknown'
line 'Warning [t2-equals-t3] RFC 5357 §4.2.1: 4 of 4 replies carry Receive Timestamp = Timestamp: residence not reported (it is inside the round trip)'
fake_json python 4
jwarn no-sender-ttl warn 'RFC 5357 §4.2.1' 4 4
jwarn t2-equals-t3 warn 'RFC 5357 §4.2.1' 4 4
note "python: 38-octet replies, one time as t2 and t3"

fake swapped 4
line 'Warning [swapped-timestamps] RFC 5357 §4.2.1: 4 of 4 replies carry our t1 in the Timestamp field and the reflector'"'"'s t3 in the Sender Timestamp field: the two fields are swapped'
fake_json swapped 4
jwarn swapped-timestamps warn 'RFC 5357 §4.2.1' 4 4
note "swapped: Timestamp and Sender Timestamp swapped"

fake swapped 4 --padding 0
line 'Warning [request-echoed] RFC 5357 §4.2.1: 4 of 4 replies echo the request (our Sequence Number and Timestamp at offsets 0 and 4) instead of the reflector'"'"'s fields: round trip only'
note "swapped, 14 octets: the request echoed"

fake erratic 4
line 'Warning [sequence-erratic] RFC 5357 §4.2.1: 2 of 4 replies carry a reflector Sequence Number that neither repeats ours nor counts up with it: loss by direction is not to be trusted'
fake_json erratic 4
jwarn sequence-erratic warn 'RFC 5357 §4.2.1' 2 4
note "erratic: a sequence that jumps up and down"

# A stateful reflector that never saw request 2: its count is its own.
start_reflect sf "$H" --count 5 --style stateful
expect_exit 0 "$TWAMPY" sender -c 5 -i 5 --timeout 0.5 "$H:$PORT" "$H:0"
probe_done sf
line 'Note [sequence-stateful] RFC 5357 §4.2.1: 4 of 4 replies are numbered by the reflector itself: a stateful reflector, whose count splits the loss by direction where it did not restart'
grep -q '^Packets: 5 sent, 4 received, 1 lost (outbound 1, inbound 0)' "$OUT" ||
    fail "stateful: the loss is not split:$(show)"
if grep -q '^Warning \[' "$OUT"; then fail "stateful: a conformance warning:$(show)"; fi
note "stateful: a note, no warning; the loss split by direction"

# STAMP: the SSID not echoed; a 41-octet reply to a 44-octet request.
fake nossid 4 --stamp --ssid 9
line 'Warning [ssid-not-echoed] RFC 8972 §3: 4 of 4 replies carry SSID 0, not the 9 sent'
fake_json nossid 4 --stamp --ssid 9
jwarn ssid-not-echoed warn 'RFC 8972 §3' 4 4
jwarn sequence-stateless info 'RFC 8762 §4' 4 4
fake stamp41 4 --stamp
line 'Warning [reply-length] RFC 8762 §4: 4 of 4 replies are not as long as their request (the first: 41 octets to a 44-octet request)'
fake_json stamp41 4 --stamp
jwarn reply-length warn 'RFC 8762 §4' 4 4
note "STAMP: SSID not echoed; reply shorter than the request"

# Each warning once, not per packet.
for style in mbz epoch zeroerr t2eqt3 ttl0 swapped erratic nossid stamp41; do
    n=$(grep -c '^Warning \[' "$WORK/$style.txt")
    [ "$n" -eq 1 ] || fail "$style: $n conformance warnings, expected 1:$(printf '\n%s' "$(cat "$WORK/$style.txt")")"
done
note "one conformance warning per fake, once each"

# ---- our own responder and server: no conformance warning at all ----------------
KEYS=$WORK/keys
printf 'alice correct horse battery staple\n' >"$KEYS"
chmod 600 "$KEYS"
own() {
    expect_exit 0 "$TWAMPY" "$@"
    if grep -q '^Warning \[' "$OUT"; then fail "our own reflector: a conformance warning ($*):$(show)"; fi
    expect_exit 0 "$TWAMPY" "$@" --json
    jnone
}
start_responder resp "$H:0"
own sender -c 5 -i 5 --timeout 1 "$H:$PORT" "$H:0"
own sender -c 5 -i 5 --timeout 1 --padding 0 "$H:$PORT" "$H:0"
own sender -c 5 -i 5 --timeout 1 --padding 200 "$H:$PORT" "$H:0"
own sender -c 5 -i 5 --timeout 1 --ptp "$H:$PORT" "$H:0"
own sender -c 5 -i 5 --timeout 1 --stamp "$H:$PORT" "$H:0"
own sender -c 5 -i 5 --timeout 1 --stamp --ptp --ssid 77 "$H:$PORT" "$H:0"
own sender -c 5 -i 5 --timeout 1 --stamp --ssid 78 --padding 100 "$H:$PORT" "$H:0"
if have_ipv6; then
    start_responder resp6 "[::1]:0"
    own sender -c 5 -i 5 --timeout 1 "[::1]:$PORT" "[::1]:0"
    own sender -c 5 -i 5 --timeout 1 --stamp --ssid 5 "[::1]:$PORT" "[::1]:0"
fi
start_responder aresp --keyfile "$KEYS" --keyid alice "$H:0"
own sender -c 5 -i 5 --timeout 1 --stamp --keyfile "$KEYS" --keyid alice --ssid 3 "$H:$PORT" "$H:0"
start_server srv --keyfile "$KEYS" "$H:0"
for mode in open authenticated encrypted mixed; do
    own controller -c 5 -i 5 --timeout 1 --keyfile "$KEYS" --keyid alice --modes "$mode" \
        --sessions 2 "$H:$PORT" "$H:0"
done
note "our responder (TWAMP light, STAMP, NTP and PTP timestamps, authenticated STAMP, IPv4/6) and server (4 modes): no conformance warning"
finish
