#!/bin/bash
# sender --targets FILE (fan-out), and controller --targets FILE (a TWAMP server
# per line): many reflectors from one process, each with
# its own socket, sequence space and report, then the total; a line's options
# on top of the command line's; errors name the file and line; exit 1 when a
# target got no usable reply. Also 200 targets against one responder.
source "$(dirname "$0")/lib.sh" "$@"

start_responder r1 127.0.0.1:0
P1=$PORT
start_responder r2 127.0.0.1:0 --stateless
P2=$PORT
"$PROBE" freeport 127.0.0.1 udp >"$WORK/free" 2>&1 || fail "no free port: $(cat "$WORK/free")"
CLOSED=$(cat "$WORK/free")

T=$WORK/targets
cat >"$T" <<EOT
# reflectors of the test
127.0.0.1:$P1

127.0.0.1:$P2 --stamp -c 7 --dscp af41   # STAMP, its own count and DSCP
EOT

note "two targets: a report each, then the total; exit 0"
expect_exit 0 "$TWAMPY" sender --targets "$T" -c 12 -i 5 --timeout 2
grep -qE "^Target 1 of 2: TWAMP light to 127.0.0.1:$P1 from " "$OUT" || fail "no target 1 header: $(head -n 3 "$OUT")"
grep -qE "^Target 2 of 2: STAMP to 127.0.0.1:$P2 from " "$OUT" || fail "no target 2 header"
grep -q "^All 2 targets$" "$OUT" || fail "no total"
grep -q "^Packets: 12 sent, 12 received, 0 lost" "$OUT" || fail "target 1 is not 12/12"
grep -q "^Packets: 7 sent, 7 received, 0 lost" "$OUT" || fail "target 2 (-c 7 on its line) is not 7/7"
grep -q "^Packets: 19 sent, 19 received, 0 lost" "$OUT" || fail "the total is not 19/19"

note "JSON: one object per target, the total in counters"
expect_exit 0 "$TWAMPY" sender --targets "$T" -c 12 -i 5 --timeout 2 --json
python3 - "$OUT" "$P1" "$P2" <<'PY' || fail "JSON: $(head -c 600 "$OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
p1, p2 = sys.argv[2], sys.argv[3]
assert d["config"]["targets"] == 2, d["config"]
assert d["counters"]["sent"] == 19 and d["counters"]["received"] == 19, d["counters"]
t = d["targets"]
assert [x["target"] for x in t] == [1, 2]
assert t[0]["remote"] == "127.0.0.1:" + p1 and t[0]["mode"] == "twamp-light"
assert t[1]["remote"] == "127.0.0.1:" + p2 and t[1]["mode"] == "stamp"
assert t[0]["count"] == 12 and t[1]["count"] == 7
assert t[1]["dscp"] == 34 and t[0]["dscp"] == 0, (t[0]["dscp"], t[1]["dscp"])
assert t[0]["counters"]["received"] == 12 and t[1]["counters"]["received"] == 7
# Own sockets: two local ports.
assert t[0]["local"] != t[1]["local"], (t[0]["local"], t[1]["local"])
PY

note "a target where nothing listens: its ICMP named, exit 1, the others measured"
echo "127.0.0.1:$CLOSED -c 3" >>"$T"
expect_exit 1 "$TWAMPY" sender --targets "$T" -c 12 -i 5 --timeout 1
grep -q "^Target 3 of 3: TWAMP light to 127.0.0.1:$CLOSED" "$OUT" || fail "no target 3"
grep -q "127.0.0.1:$CLOSED answered ICMP port unreachable to 3 of 3 packets" "$OUT" ||
    fail "target 3's ICMP not named: $(grep -A12 'Target 3' "$OUT")"
grep -q "1 of 3 targets sent no usable reply" "$ERR" || fail "no notice: $(cat "$ERR")"

note "errors name the file and line"
printf '127.0.0.1:%s\n\n127.0.0.1:%s --ttl 300\n' "$P1" "$P2" >"$WORK/bad1"
expect_exit 2 "$TWAMPY" sender --targets "$WORK/bad1"
grep -q "bad1:3: --ttl 300 is out of range" "$ERR" || fail "no file:line: $(cat "$ERR")"
printf '127.0.0.1:%s --json\n' "$P1" >"$WORK/bad2"
expect_exit 2 "$TWAMPY" sender --targets "$WORK/bad2"
grep -q "bad2:1: --json is for the command line, not a --targets line" "$ERR" || fail "$(cat "$ERR")"
printf '# nothing\n\n' >"$WORK/empty"
expect_exit 1 "$TWAMPY" sender --targets "$WORK/empty"
grep -q "names no reflector" "$ERR" || fail "$(cat "$ERR")"
expect_exit 2 "$TWAMPY" sender --targets "$T" 127.0.0.1:$P1
grep -q "no reflector address '127.0.0.1:$P1' as well" "$ERR" || fail "$(cat "$ERR")"
expect_exit 1 "$TWAMPY" sender --targets "$WORK/no-such-file"
grep -q "cannot read the --targets file" "$ERR" || fail "$(cat "$ERR")"

note "200 targets against one responder: every one 5 of 5, one process"
start_responder many 127.0.0.1:0 --max-senders 1024
for _ in $(seq 200); do echo "127.0.0.1:$PORT"; done >"$WORK/t200"
expect_exit 0 "$TWAMPY" sender --targets "$WORK/t200" -c 5 -i 20 --timeout 3 --json
python3 - "$OUT" <<'PY' || fail "200 targets: $(head -c 400 "$OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["targets"]
assert len(t) == 200
bad = [x["target"] for x in t if x["counters"]["received"] != 5]
assert not bad, bad
assert len({x["local"] for x in t}) == 200  # a socket each
assert d["counters"]["sent"] == 1000 and d["counters"]["received"] == 1000
PY

note "controller --targets: a TWAMP server per line, one session each"
start_server srv 127.0.0.1:0
SP=$PORT
printf '127.0.0.1:%s\n127.0.0.1:%s -c 5 --dscp ef\n127.0.0.1:%s\n' "$SP" "$SP" "$CLOSED" >"$WORK/ct"
expect_exit 1 "$TWAMPY" controller --targets "$WORK/ct" -c 8 -i 5 --timeout 1 --json
grep -q "ct:3: cannot connect to TWAMP server 127.0.0.1:$CLOSED" "$ERR" ||
    fail "no file:line error for the dead server: $(cat "$ERR")"
python3 - "$OUT" "$SP" "$CLOSED" <<'PY' || fail "controller --targets JSON: $(head -c 600 "$OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
sp, closed = sys.argv[2], sys.argv[3]
t = d["targets"]
assert d["config"]["targets"] == 3 and d["config"]["mode"] == "twamp", d["config"]
assert [x["mode"] for x in t] == ["twamp"] * 3
assert [x["server"] for x in t] == ["127.0.0.1:" + sp] * 2 + ["127.0.0.1:" + closed]
assert [x["counters"]["received"] for x in t] == [8, 5, 0], [x["counters"] for x in t]
assert t[1]["dscp"] == 46
assert d["counters"]["sent"] == 13 and d["counters"]["received"] == 13
PY
printf '127.0.0.1:%s --sessions 2\n' "$SP" >"$WORK/ct2"
expect_exit 2 "$TWAMPY" controller --targets "$WORK/ct2"
grep -q "ct2:1: --sessions 2: with --targets each line is one session" "$ERR" || fail "$(cat "$ERR")"
head -n 2 "$WORK/ct" >"$WORK/ct3"
expect_exit 0 "$TWAMPY" controller --targets "$WORK/ct3" -c 8 -i 5 --timeout 1
grep -q "^Target 2 of 2: TWAMP via server 127.0.0.1:$SP to 127.0.0.1:" "$OUT" || fail "no target 2: $(head -n 3 "$OUT")"
grep -q "^Packets: 13 sent, 13 received, 0 lost" "$OUT" || fail "the total is not 13/13"
# One line: its report still says what the line was (a TWAMP server), even
# when that server is not there.
tail -n 1 "$WORK/ct" >"$WORK/ct4"
expect_exit 1 "$TWAMPY" controller --targets "$WORK/ct4" -c 2 -i 5 --timeout 1
grep -q "^Target 1 of 1: TWAMP via server 127.0.0.1:$CLOSED " "$OUT" ||
    fail "a one-line file's failed server: $(head -n 2 "$OUT")"
stop_server srv
finish
