#!/usr/bin/env bash
# twampy monitor end to end, on loopback:
#   - --check-config: a good file (exit 0), bad ones (exit 2, file:line:column);
#   - every protocol and security mode as a target (TWAMP light, STAMP open and
#     authenticated, TWAMP open, authenticated, encrypted and mixed via our
#     server), each for 2 rounds: the JSON totals count every packet once,
#     none lost;
#   - /metrics: the text format passes promtool's check, OpenMetrics is served
#     when asked for (Content-Type, # EOF), other paths 404;
#   - SIGHUP: an unchanged target keeps its counters, a changed one starts from
#     zero, a new one appears, a removed one goes; a bad file is refused with
#     its line and the running targets stay.
source "$(dirname "$0")/lib.sh" "$@"

H=127.0.0.1
KEYS=$WORK/keys
printf 'alice correct horse battery staple\nstampkey 0x0102030405060708090a0b0c0d0e0f10\n' >"$KEYS"
chmod 600 "$KEYS"
STAMPKEY=$WORK/stampkey
printf 'stampkey 0x0102030405060708090a0b0c0d0e0f10\n' >"$STAMPKEY"
chmod 600 "$STAMPKEY"

# http_get URL [ACCEPT]: the body in $WORK/http.body, headers in $WORK/http.head.
http_get() {
    timeout 20 python3 - "$1" "${2:-}" "$WORK/http" <<'PY'
import sys, urllib.request, urllib.error
url, accept, out = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
try:
    r = urllib.request.urlopen(req, timeout=10)
    status, head, body = r.status, r.headers, r.read()
except urllib.error.HTTPError as e:
    status, head, body = e.code, e.headers, e.read()
open(out + ".body", "wb").write(body)
open(out + ".head", "w").write("status: %d\n%s" % (status, head))
PY
}
# metric NAME_AND_LABELS_RE: the value of the first sample matching it.
metric() {
    grep -E "^$1 " "$WORK/http.body" | head -n 1 | awk '{print $2}'
}

# ---- --check-config ----------------------------------------------------------------
cat >"$WORK/bad.yml" <<'EOF2'
targets:
  - name: a
    address: 127.0.0.1:9
    interval: 10 fortnights
EOF2
expect_exit 2 "$TWAMPY" monitor --check-config "$WORK/bad.yml"
grep -qF "$WORK/bad.yml:4:15: interval '10 fortnights': not a duration" "$ERR" ||
    fail "bad interval: $(cat "$ERR")"
printf 'targets:\n  - address: 127.0.0.1:9\n    protocol: twamp\n    mode: encrypted\n    key: nobody\nkeyfile: %s\n' \
    "$KEYS" >"$WORK/nokey.yml"
expect_exit 2 "$TWAMPY" monitor --check-config "$WORK/nokey.yml"
grep -qF "line 2: target '127.0.0.1:9': key file $KEYS has no KeyID nobody" "$ERR" ||
    fail "unknown KeyID: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" monitor "$WORK/bad.yml"
expect_exit 2 "$TWAMPY" monitor
expect_exit 0 "$TWAMPY" monitor --help
grep -q -- '--check-config' "$OUT" || fail "--help does not mention --check-config"

# ---- every protocol and mode, 2 rounds each -------------------------------------------
start_responder light "$H:0" --metrics "$H:0"
LP=$PORT
start_responder stamp "$H:0" --format stamp
XP=$PORT
start_responder stampauth "$H:0" --format stamp --keyfile "$STAMPKEY"
AP=$PORT
start_server srv --keyfile "$KEYS" --kdf-count 1024 --metrics "$H:0" "$H:0"
SP=$PORT
cat >"$WORK/all.yml" <<EOF2
keyfile: $KEYS
defaults:
  interval: 5ms
  packets: 5
  rounds: 2
  timeout: 2s
targets:
  - {name: light, address: "$H:$LP"}
  - {name: stamp, address: "$H:$XP", protocol: stamp, dscp: af41}
  - {name: stamp-auth, address: "$H:$AP", protocol: stamp, mode: authenticated, key: stampkey}
  - {name: twamp-open, address: "$H:$SP", protocol: twamp}
  - {name: twamp-auth, address: "$H:$SP", protocol: twamp, mode: authenticated, key: alice,
     interval: 100ms}
  - {name: twamp-enc, address: "$H:$SP", protocol: twamp, mode: encrypted, key: alice,
     interval: 100ms}
  - {name: twamp-mixed, address: "$H:$SP", protocol: twamp, mode: mixed, key: alice,
     padding: imix, interval: 100ms}
EOF2
expect_exit 0 "$TWAMPY" monitor --check-config "$WORK/all.yml"
grep -qx "$WORK/all.yml: 7 targets, OK" "$OUT" || fail "check-config: $(cat "$OUT")"
expect_exit 0 "$TWAMPY" monitor --exit-when-done --json "$WORK/all.json" "$WORK/all.yml"
# The server paces key derivations (Accept 5 beyond them; slow under the
# sanitizers): a keyed TWAMP round it turns away is a round failure, said in
# the log; every target still measures at least one round (the keyed ones'
# rounds are 500 ms apart, the server's Count the lowest).
paced=0
grep -q 'refused the connection in Server-Start: Accept 5' "$ERR" && paced=1
python3 - "$WORK/all.json" "$paced" <<'PY' || fail "JSON totals: $(cat "$WORK/all.json")"
import json, sys
d = json.load(open(sys.argv[1]))
paced = sys.argv[2] == "1"
assert d["schema"] == "twampy-monitor/1"
names = [t["name"] for t in d["targets"]]
assert names == ["light", "stamp", "stamp-auth", "twamp-open", "twamp-auth", "twamp-enc",
                 "twamp-mixed"], names
for t in d["targets"]:
    n = t["rounds"]
    keyed = t["name"] in ("twamp-auth", "twamp-enc", "twamp-mixed")
    assert n == 2 or (keyed and paced and n >= 1), (t["name"], n, t["round_failures"])
    want = dict(rounds=n, round_failures=2 - n, sent=5 * n, received=5 * n, lost=0,
                integrity_failures=0)
    got = {k: t[k] for k in want}
    assert got == want, (t["name"], got)
    h = t["rtt_histogram"]
    assert h["count"] == 5 * n and h["buckets"][-1] == ["+Inf", 5 * n], (t["name"], h)
    assert t["rtt_median_us"] > 0
print("all 7 targets measured: %s" % ", ".join("%s %d rounds" % (t["name"], t["rounds"])
                                               for t in d["targets"]))
PY

# ---- the responder's and the server's --metrics ----------------------------------------
# metrics_port NAME: the port of NAME's "metrics on http://..." line.
metrics_port() {
    wait_for "$1" err 'metrics on http://'
    sed -n 's|.*metrics on http://.*:\([0-9][0-9]*\)/metrics.*|\1|p' "$WORK/$1.err" | head -n 1
}
RMP=$(metrics_port light)
# The exposition is refreshed every second: until it shows the 10 reflected.
deadline=$((SECONDS + 20))
until http_get "http://$H:$RMP/metrics" && [ "$(metric twampy_reflector_packets_reflected_total)" = 10 ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "responder metrics: $(cat "$WORK/http.body")"
    sleep 0.2
done
grep -q '^twampy_reflector_packets_dropped_total{reason="too_short"} 0$' "$WORK/http.body" ||
    fail_later "responder: no dropped-by-reason counters"
SMP=$(metrics_port srv)
# 4 TWAMP targets x 2 rounds: 8 connections; a session for each round measured.
TWAMP_ROUNDS=$(python3 -c 'import json,sys
print(sum(t["rounds"] for t in json.load(open(sys.argv[1]))["targets"] if t["protocol"] == "twamp"))' \
    "$WORK/all.json")
deadline=$((SECONDS + 20))
until http_get "http://$H:$SMP/metrics" &&
    [ "$(metric twampy_server_sessions_accepted_total)" = "$TWAMP_ROUNDS" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "server metrics: $(cat "$WORK/http.body")"
    sleep 0.2
done
[ "$(metric twampy_server_connections_total)" = 8 ] || fail_later "server: not 8 connections"
# Every TWAMP round's packets were reflected by a session of this server (the
# sessions have ended: their counts are in).
TWAMP_PACKETS=$(python3 -c 'import json,sys
print(sum(t["received"] for t in json.load(open(sys.argv[1]))["targets"] if t["protocol"] == "twamp"))' \
    "$WORK/all.json")
[ "$(metric twampy_server_test_packets_reflected_total)" -ge "$TWAMP_PACKETS" ] ||
    fail_later "server: $(metric twampy_server_test_packets_reflected_total) test packets reflected, the monitor got $TWAMP_PACKETS replies"
if command -v promtool >/dev/null; then
    promtool check metrics <"$WORK/http.body" >"$WORK/promtool.out" 2>&1 ||
        fail_later "promtool check metrics (server): $(cat "$WORK/promtool.out")"
fi

# ---- /metrics and SIGHUP ---------------------------------------------------------------
cat >"$WORK/run.yml" <<EOF2
defaults: {interval: 5ms, packets: 10}
targets:
  - {name: keep, address: "$H:$LP"}
  - {name: change, address: "$H:$XP", protocol: stamp}
  - {name: drop, address: "$H:$LP", dscp: 10}
EOF2
bg mon "$TWAMPY" monitor --metrics "$H:0" "$WORK/run.yml"
wait_for mon err 'metrics on http://'
MP=$(sed -n 's|.*metrics on http://.*:\([0-9][0-9]*\)/metrics.*|\1|p' "$WORK/mon.err" | head -n 1)
URL=http://$H:$MP/metrics
# Until every target has completed a round (readiness, with a deadline).
deadline=$((SECONDS + 30))
while :; do
    http_get "$URL"
    n=$(grep -cE '^twampy_rounds_total\{.*\} [1-9]' "$WORK/http.body")
    [ "$n" -eq 3 ] && break
    [ "$SECONDS" -lt "$deadline" ] || fail "targets did not complete a round: $(cat "$WORK/http.body")"
    sleep 0.1
done
grep -q '^status: 200' "$WORK/http.head" || fail "GET /metrics: $(cat "$WORK/http.head")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/http.head" ||
    fail "text format content type: $(cat "$WORK/http.head")"
if command -v promtool >/dev/null; then
    promtool check metrics <"$WORK/http.body" >"$WORK/promtool.out" 2>&1 ||
        fail "promtool check metrics: $(cat "$WORK/promtool.out")"
else
    note "promtool not installed: the exposition's lint is skipped"
fi
for m in twampy_packets_sent_total twampy_packets_lost_direction_total twampy_rtt_seconds_bucket \
    twampy_oneway_delay_seconds_bucket twampy_last_rtt_seconds twampy_ttl twampy_up \
    twampy_reflector_clock_synchronized twampy_icmp_errors_total; do
    grep -q "^$m{" "$WORK/http.body" || fail_later "no $m in /metrics"
done
grep -q '^twampy_rtt_seconds_bucket{target="127.0.0.1:'"$LP"'",name="keep",protocol="twamp-light",dscp="0",le="1e-06"} ' \
    "$WORK/http.body" || fail_later "no labelled 1 us bucket: $(grep rtt_seconds_bucket "$WORK/http.body" | head -n 2)"
http_get "$URL" 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'
grep -qi '^Content-Type: application/openmetrics-text; version=1.0.0' "$WORK/http.head" ||
    fail_later "OpenMetrics content type: $(cat "$WORK/http.head")"
[ "$(tail -n 1 "$WORK/http.body")" = "# EOF" ] || fail_later "OpenMetrics does not end in # EOF"
grep -q '^# UNIT twampy_rtt_seconds seconds$' "$WORK/http.body" || fail_later "no # UNIT"
grep -q '^twampy_packets_sent_created{' "$WORK/http.body" || fail_later "no _created"
http_get "http://$H:$MP/nothing"
grep -q '^status: 404' "$WORK/http.head" || fail_later "GET /nothing: $(head -n 1 "$WORK/http.head")"

http_get "$URL"
keep_before=$(metric 'twampy_packets_sent_total\{[^}]*name="keep"[^}]*\}')
[ "${keep_before:-0}" -gt 0 ] || fail "keep sent nothing"
# change: another DSCP; drop: gone; new: added; keep: the same.
cat >"$WORK/run.yml" <<EOF2
defaults: {interval: 5ms, packets: 10}
targets:
  - {name: new, address: "$H:$XP", protocol: stamp}
  - {name: keep, address: "$H:$LP"}
  - {name: change, address: "$H:$XP", protocol: stamp, dscp: 46}
EOF2
kill -HUP "${PID_OF[mon]}"
wait_for mon err 'reloaded '
grep -q 'monitor: 3 targets (2 started, 2 stopped, 1 kept)' "$WORK/mon.err" ||
    fail_later "reload summary: $(grep 'monitor:' "$WORK/mon.err")"
http_get "$URL"
keep_after=$(metric 'twampy_packets_sent_total\{[^}]*name="keep"[^}]*\}')
[ "${keep_after:-0}" -ge "$keep_before" ] ||
    fail_later "keep's counter went back from $keep_before to $keep_after after SIGHUP"
grep -q 'name="drop"' "$WORK/http.body" && fail_later "the removed target is still in /metrics"
grep -qE '^twampy_packets_sent_total\{[^}]*name="change",protocol="stamp",dscp="46"\}' \
    "$WORK/http.body" || fail_later "the changed target has not its new DSCP label"
grep -qE '^twampy_packets_sent_total\{[^}]*name="new"' "$WORK/http.body" ||
    fail_later "the new target is not in /metrics"
# A bad file: refused with its line, the running targets stay.
printf 'targets:\n  - {name: x, address: "%s:%s"}\n  - {name: x, address: "%s:%s"}\n' \
    "$H" "$LP" "$H" "$LP" >"$WORK/run.yml"
kill -HUP "${PID_OF[mon]}"
wait_for mon err "reload: .*run.yml:3:5: target name 'x' used twice \(also on line 2\); the running configuration stays"
http_get "$URL"
grep -qE '^twampy_packets_sent_total\{[^}]*name="keep"' "$WORK/http.body" ||
    fail_later "a bad reload dropped the running targets"
kill -TERM "${PID_OF[mon]}"
bg_wait mon
[ "$BG_RC" -eq 0 ] || fail "monitor exited with $BG_RC after SIGTERM"
finish
