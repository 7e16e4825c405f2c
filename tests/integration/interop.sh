#!/usr/bin/env bash
# Field interop (issue 11): the sender against fake reflectors that answer as
# other implementations do (twampy_probe reflect --style), and against a port
# where nothing listens. Each case asserts what the text report and the JSON
# say, that the round trip is measured where it can be, and the exit status
# (1 when not a single usable reply came back).
#  - python: the Python twampy responder's 38-octet replies: measured, TTL n/a;
#  - swapped: a C++ TWAMP-light reflector (t1 at 4, t3 at 28), 41-octet
#    requests: measured with its t2/t3; 14-octet requests get 14-octet replies:
#    round trip only, one-way delays n/a;
#  - backwards: t3 before t2: round trip only, one-way n/a;
#  - short: 20-octet replies: none usable, said in the table's place, exit 1;
#  - wrongport: replies from another port: none usable, exit 1;
#  - a closed port: ICMP port unreachable named, exit 1 (sender, IPv4 and IPv6;
#    controller, a fake TWAMP server handing out a closed port).
source "$(dirname "$0")/lib.sh" "$@"

H=127.0.0.1
HAVE_PY=1
command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null || HAVE_PY=0

# jget EXPR: EXPR (Python, over the document d) from the JSON report in $OUT.
jget() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$OUT" "$1"
}
# jexpect EXPR WANT
jexpect() {
    [ "$HAVE_PY" -eq 1 ] || return 0
    local got
    got=$(jget "$1") || fail "JSON: cannot read $1: $(head -c 1500 "$OUT")"
    [ "$got" = "$2" ] || fail "JSON: $1 is '$got', expected '$2':$(printf '\n%s' "$(head -c 3000 "$OUT")")"
}

# fake NAME STYLE COUNT [probe options...] -- SENDER OPTIONS: a fake reflector
# answering COUNT packets, then the sender against it (text, then JSON).
fake_run() {
    local name=$1 style=$2 count=$3 want=$4
    shift 4
    start_reflect "$name" "$H" --count "$count" --style "$style"
    expect_exit "$want" "$TWAMPY" sender -c "$count" -i 5 --timeout 0.5 "$@" "$H:$PORT" "$H:0"
    probe_done "$name"
}
fake_json() {
    local name=$1 style=$2 count=$3 want=$4
    shift 4
    [ "$HAVE_PY" -eq 1 ] || return 0
    fake_run "$name" "$style" "$count" "$want" --json "$@"
}
roundtrip_measured() {
    grep -qE '^  Roundtrip: .* 0\.0%$' "$OUT" ||
        fail "$1: the round trip is not measured:$(printf '\n%s' "$(cat "$OUT")")"
}

# The Python twampy responder.
fake_run py python 4 0
roundtrip_measured python
grep -qE '^  Outbound: .* 0\.0%$' "$OUT" || fail "python: no one-way delays: $(cat "$OUT")"
grep -qx 'Reflector layout: 4 replies without a Sender TTL (shorter than 41 octets, or 0): outbound TTL unknown' "$OUT" ||
    fail "python: the missing Sender TTL is not said:$(printf '\n%s' "$(cat "$OUT")")"
grep -q 'TTL / Hop Limit: outbound n/a' "$OUT" || fail "python: outbound TTL not n/a: $(cat "$OUT")"
fake_json pyj python 4 0
jexpect 'd["statistics"]["round_trip"]["samples"]' 4
jexpect 'd["replies"]["measured_as"]["no_sender_ttl"]' 4
jexpect 'd["ttl"]["outbound"]' None
note "python layout: 4 of 4 measured, TTL n/a"

# The swapped layout, 41-octet requests (TTL at 40; 41 is past the end).
fake_run sw swapped 4 0
roundtrip_measured swapped
grep -qE '^  Outbound: .* 0\.0%$' "$OUT" || fail "swapped: no one-way delays: $(cat "$OUT")"
grep -qx 'Reflector layout: 4 replies with the Timestamp and Sender Timestamp fields swapped (our t1 at offset 4, its t3 at offset 28); measured' "$OUT" ||
    fail "swapped: not detected:$(printf '\n%s' "$(cat "$OUT")")"
grep -q 'TTL / Hop Limit: outbound 64 ' "$OUT" || fail "swapped: the TTL at 40 not read: $(cat "$OUT")"
fake_json swj swapped 4 0
jexpect 'd["replies"]["measured_as"]["swapped_timestamps"]' 4
jexpect 'd["statistics"]["outbound"]["samples"]' 4
jexpect 'd["residence"] is not None' True
note "swapped layout, 41 octets: 4 of 4 measured with the reflector's t2/t3"

# The swapped layout, 14-octet requests: 14-octet replies carry our sequence
# number and t1 only: the round trip, nothing else.
fake_run sw14 swapped 4 0 --padding 0
roundtrip_measured "swapped 14"
grep -qE '^  Outbound: +n/a +n/a +n/a +n/a +0\.0%$' "$OUT" ||
    fail "swapped 14: the outbound row is not n/a:$(printf '\n%s' "$(cat "$OUT")")"
grep -q '^Reflector layout: 4 replies echo the request' "$OUT" || fail "swapped 14: echo not said: $(cat "$OUT")"
grep -qx 'One-way delays and residence: n/a for 4 of 4 replies (the round trip from our t1 and t4 only)' "$OUT" ||
    fail "swapped 14: one-way n/a not said:$(printf '\n%s' "$(cat "$OUT")")"
grep -q '^Reflector residence (t3 - t2): n/a' "$OUT" || fail "swapped 14: residence not n/a: $(cat "$OUT")"
fake_json sw14j swapped 4 0 --padding 0
jexpect 'd["statistics"]["round_trip"]["samples"]' 4
jexpect 'd["statistics"]["outbound"]' None
jexpect 'd["residence"]' None
jexpect 'd["replies"]["round_trip_only"]' 4
jexpect 'd["replies"]["measured_as"]["request_echoed"]' 4
note "swapped layout, 14 octets: 4 of 4 round trips, one-way n/a"

# t3 before t2: the reflector's timestamps are not used.
fake_run bw backwards 3 0
roundtrip_measured backwards
grep -qE '^  Inbound: +n/a' "$OUT" || fail "backwards: inbound not n/a: $(cat "$OUT")"
grep -q '^Reflector timestamps: 3 replies with t2/t3 unusable' "$OUT" ||
    fail "backwards: not said:$(printf '\n%s' "$(cat "$OUT")")"
fake_json bwj backwards 3 0
jexpect 'd["replies"]["measured_as"]["implausible_timestamps"]' 3
jexpect 'd["statistics"]["inbound"]' None
note "t3 < t2: 3 of 3 round trips, one-way n/a"

# Too short: nothing usable, said in the table's place; exit 1.
fake_run sh short 3 1
grep -qx '  NO STATS AVAILABLE (3 replies came back, none usable: see "Replies not used")' "$OUT" ||
    fail "short: the table says nothing of the replies:$(printf '\n%s' "$(cat "$OUT")")"
grep -q '^Replies not used: 3 too short (20 octets;' "$OUT" || fail "short: reason not said: $(cat "$OUT")"
fake_json shj short 3 1
jexpect 'd["replies"]["unusable"]["too_short"]' 3
jexpect 'd["replies"]["too_short_octets"]["min"]' 20
note "20-octet replies: 3 too short, exit 1"

# From another port.
fake_run wp wrongport 3 1
grep -q '^Replies not used: 3 came from another address or port' "$OUT" ||
    fail "wrongport: reason not said:$(printf '\n%s' "$(cat "$OUT")")"
fake_json wpj wrongport 3 1
jexpect 'd["replies"]["unusable"]["wrong_source"]' 3
note "replies from another port: 3 not used, exit 1"

# Nothing listens: the kernel's ICMP port unreachables, named.
CP=$("$PROBE" freeport "$H" udp)
expect_exit 1 "$TWAMPY" sender -c 3 -i 5 --timeout 0.3 "$H:$CP" "$H:0"
grep -qx "ICMP: $H:$CP answered ICMP port unreachable to 3 of 3 packets: is a reflector listening?" "$OUT" ||
    fail "closed port: ICMP not named:$(printf '\n%s' "$(cat "$OUT")")"
if [ "$HAVE_PY" -eq 1 ]; then
    expect_exit 1 "$TWAMPY" sender -c 3 -i 5 --timeout 0.3 --json "$H:$CP" "$H:0"
    jexpect 'd["icmp"]["port_unreachable"]["count"]' 3
    jexpect 'd["icmp"]["port_unreachable"]["from"]' "$H:$CP"
fi
note "closed port: 3 of 3 ICMP port unreachable, exit 1"
if have_ipv6; then
    CP6=$("$PROBE" freeport ::1 udp)
    expect_exit 1 "$TWAMPY" sender -c 2 -i 5 --timeout 0.3 "[::1]:$CP6" "[::1]:0"
    grep -qx "ICMP: \[::1\]:$CP6 answered ICMP port unreachable to 2 of 2 packets: is a reflector listening?" "$OUT" ||
        fail "closed IPv6 port: ICMPv6 not named:$(printf '\n%s' "$(cat "$OUT")")"
    note "closed IPv6 port: 2 of 2 ICMPv6 port unreachable, exit 1"
fi

# The controller: a fake TWAMP server accepts the session on a closed port.
CP=$("$PROBE" freeport "$H" udp)
start_probe fsrv '^listening on [0-9]+$' fakeserver "$H" greeting=1 setup=1 serverstart=0 request \
    "accept=0:$CP" startsessions startack=0 stopsessions
FP=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$WORK/fsrv.out")
expect_exit 1 "$TWAMPY" controller --control-timeout 5 -c 3 -i 5 --timeout 0.3 "$H:$FP" "$H:0"
grep -qx "ICMP: $H:$CP answered ICMP port unreachable to 3 of 3 packets: is a reflector listening?" "$OUT" ||
    fail "controller: ICMP not named:$(printf '\n%s' "$(cat "$OUT")")"
probe_done fsrv
note "controller to a closed reflector port: ICMP named, exit 1"
finish
