#!/usr/bin/env bash
# twampy monitor checked against a real Prometheus (Debian's prometheus), on
# loopback: Prometheus scrapes the monitor every second (OpenMetrics, as
# Prometheus asks for it), and what its HTTP API answers must be what twampy
# itself says for the same packets (the monitor's --json totals):
#   - sent, received and lost per target, and lost by direction, exactly;
#   - histogram_quantile(0.5, twampy_rtt_seconds_bucket) exactly as computed
#     from twampy's own buckets, and within the bucket that holds twampy's exact
#     median (from its fine histogram);
#   - the scrape is healthy (up == 1, no scrape error).
# Two targets measure our responder: one directly, one through twampy_relay
# dropping every 7th request, so that loss is not zero. Each runs 10 rounds of
# 20 packets and then holds still, so both views are of the same packets.
# Skipped (77) when prometheus is not installed.
source "$(dirname "$0")/lib.sh" "$@"
RELAY=${3:-}
[ -x "$RELAY" ] || fail "the third argument must be twampy_relay"
PROMETHEUS=$(command -v prometheus) || {
    note "prometheus is not installed (apt-get install prometheus): skipped"
    exit 77
}
H=127.0.0.1

# ---- the monitor ------------------------------------------------------------------------
start_responder refl "$H:0"
LP=$PORT
bg relay "$RELAY" 0 "$LP" --drop-every 7
wait_for relay out '^listening on [0-9]+$'
RP=$(sed -n 's/^listening on \([0-9][0-9]*\)$/\1/p' "$WORK/relay.out")
cat >"$WORK/monitor.yml" <<EOF2
defaults: {interval: 5ms, packets: 20, rounds: 10, timeout: 300ms}
targets:
  - {name: direct, address: "$H:$LP"}
  - {name: lossy, address: "$H:$RP", dscp: af21}
EOF2
bg mon "$TWAMPY" monitor --metrics "$H:0" --json "$WORK/twampy.json" "$WORK/monitor.yml"
wait_for mon err 'metrics on http://'
MP=$(sed -n 's|.*metrics on http://.*:\([0-9][0-9]*\)/metrics.*|\1|p' "$WORK/mon.err" | head -n 1)

# get URL: the body on stdout (python3: no curl needed).
get() {
    timeout 20 python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"
}
# Every round done: the monitor's counters hold still from here on.
deadline=$((SECONDS + 60))
until [ "$(get "http://$H:$MP/metrics" 2>/dev/null | grep -cE '^twampy_rounds_total\{.*\} 10$')" = 2 ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the monitor did not finish its 10 rounds in time"
    sleep 0.2
done
# SIGUSR1 to twampy itself (timeout, its parent, would die of it).
MON_PID=$(cat "/proc/${PID_OF[mon]}/task/${PID_OF[mon]}/children")
kill -USR1 $MON_PID
wait_for mon err 'SIGUSR1 received'
deadline=$((SECONDS + 20))
until python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/twampy.json" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no --json file after SIGUSR1"
    sleep 0.05
done

# ---- Prometheus ---------------------------------------------------------------------------
PP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: twampy
    static_configs:
      - targets: ["$H:$MP"]
EOF2
if command -v promtool >/dev/null; then
    promtool check config "$WORK/prometheus.yml" >"$WORK/promtool.out" 2>&1 ||
        fail "promtool check config: $(cat "$WORK/promtool.out")"
fi
mkdir -p "$WORK/tsdb"
bg prom "$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="$H:$PP" --log.level=warn
API=http://$H:$PP/api/v1
# query PROMQL: the result vector as JSON lines "name value" (sorted by name).
query() {
    timeout 20 python3 - "$API" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
api, q = sys.argv[1], sys.argv[2]
d = json.load(urllib.request.urlopen(api + "/query?" + urllib.parse.urlencode({"query": q}),
                                     timeout=10))
assert d["status"] == "success", d
for r in sorted(d["data"]["result"], key=lambda r: sorted(r["metric"].items())):
    print(r["metric"].get("name", "-"), r["metric"].get("direction", "-"), r["value"][1])
PY
}
# Readiness, not sleeps: until Prometheus holds both targets' final counters.
deadline=$((SECONDS + 90))
until [ "$(query 'twampy_packets_sent_total == 200' 2>/dev/null | wc -l)" = 2 ]; do
    alive "${PID_OF[prom]}" || fail "prometheus exited: $(tail -n 5 "$WORK/prom.err")"
    [ "$SECONDS" -lt "$deadline" ] || fail "Prometheus has no twampy_packets_sent_total == 200 after 90 s"
    sleep 0.5
done
query 'up{job="twampy"}' >"$WORK/up.txt"
grep -q ' 1$' "$WORK/up.txt" || fail "up{job=twampy} is not 1: $(cat "$WORK/up.txt")"
get "$API/targets" >"$WORK/targets.json"
python3 -c 'import json,sys
t = json.load(open(sys.argv[1]))["data"]["activeTargets"]
assert len(t) == 1 and t[0]["health"] == "up" and not t[0]["lastError"], t' "$WORK/targets.json" ||
    fail "scrape target not healthy: $(cat "$WORK/targets.json")"

for q in twampy_packets_sent_total twampy_packets_received_total twampy_packets_lost_total \
    twampy_packets_lost_direction_total twampy_rtt_seconds_count \
    'histogram_quantile(0.5, twampy_rtt_seconds_bucket)'; do
    echo "== $q"
    query "$q"
done >"$WORK/prom.txt"

# ---- Prometheus' view == twampy's view --------------------------------------------------
python3 - "$WORK/twampy.json" "$WORK/prom.txt" <<'PY' || fail "Prometheus and twampy disagree"
import json, sys
tw = {t["name"]: t for t in json.load(open(sys.argv[1]))["targets"]}
prom, q = {}, None
for line in open(sys.argv[2]):
    if line.startswith("== "):
        q = line[3:].strip()
        continue
    name, direction, value = line.split()
    prom[(q, name, direction)] = float(value)

def prom_quantile(q, buckets):
    # Prometheus' histogram_quantile (promql/quantile.go bucketQuantile).
    bounds = [float("inf") if b == "+Inf" else b for b, _ in buckets]
    counts = [c for _, c in buckets]
    rank = q * counts[-1]
    b = next(i for i, c in enumerate(counts[:-1] + [counts[-1]]) if c >= rank)
    if b == len(bounds) - 1:
        return bounds[-2]
    start, end = (0.0 if b == 0 else bounds[b - 1]), bounds[b]
    below = 0 if b == 0 else counts[b - 1]
    return start + (end - start) * (rank - below) / (counts[b] - below)

ok = True
def check(what, got, want, tol=0.0):
    global ok
    good = abs(got - want) <= tol * max(abs(want), 1e-12)
    print("%-44s twampy %-14s prometheus %-14s %s" % (what, want, got, "ok" if good else "DIFFERENT"))
    ok &= good

print("%-44s %s" % ("figure", "values"))
for name in ("direct", "lossy"):
    t = tw[name]
    check(name + " sent", prom[("twampy_packets_sent_total", name, "-")], t["sent"])
    check(name + " received", prom[("twampy_packets_received_total", name, "-")], t["received"])
    check(name + " lost", prom[("twampy_packets_lost_total", name, "-")], t["lost"])
    for d, k in (("outbound", "lost_outbound"), ("inbound", "lost_inbound"),
                 ("unknown", "lost_unknown")):
        check("%s lost %s" % (name, d), prom[("twampy_packets_lost_direction_total", name, d)], t[k])
    check(name + " rtt count", prom[("twampy_rtt_seconds_count", name, "-")],
          t["rtt_histogram"]["count"])
    p50 = prom[("histogram_quantile(0.5, twampy_rtt_seconds_bucket)", name, "-")]
    check(name + " rtt p50 (s) from twampy's buckets", p50,
          prom_quantile(0.5, t["rtt_histogram"]["buckets"]), 1e-9)
    # twampy's exact median lies in the bucket Prometheus interpolated in.
    med = t["rtt_median_us"] / 1e6
    bounds = [0.0] + [b for b, _ in t["rtt_histogram"]["buckets"][:-1]]
    lo = max(x for x in bounds if x < p50) if p50 > 0 else 0.0
    hi = min(x for x in bounds[1:] if x >= p50)
    inside = lo < med <= hi
    print("%-44s twampy %-14s prometheus %-14s %s" % (name + " rtt median (s), bucket (%g, %g]" % (lo, hi),
          med, p50, "ok" if inside else "DIFFERENT"))
    ok &= inside
assert tw["direct"]["lost"] == 0, "loss on the direct path"
assert tw["lossy"]["lost"] > 0, "no loss through the relay"
sys.exit(0 if ok else 1)
PY
finish
