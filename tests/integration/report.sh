#!/usr/bin/env bash
# Reports: --json, --csv, --report-interval, --histogram, --schedule/--seed,
# --count 0/--duration, SIGTERM, --timestamping, --ptp, the progress display,
# and the figures under loss, duplication and reordering made by twampy_relay
# (the third argument) between the sender and a responder:
#  - --json is one document on stdout that python3's json module reads; its
#    counters equal the CSV's rows by status, its round-trip median the median
#    of the CSV's rtt column (within 1 %); the CSV has a row per packet sent;
#  - the relay drops every 5th packet: 10 of 50 lost, outbound (or inbound
#    with --inbound), as the relay counted, in the JSON and in the text report
#    (the 50th, lost after the last reply, has no known direction: n/a; so
#    are replies lost when every reply carries our own sequence number);
#    two relays in a row, one per direction: the exact split;
#    duplicates every 7th: 7 duplicates, not in the statistics; swaps pairs:
#    reordered packets;
#  - kernel timestamps on loopback: "Timestamps: t1 kernel 50/50" in the text
#    report and its -v log line, t1/t4 kernel counts = sent/received in JSON;
#  - --schedule poisson --seed 42 twice: the same schedule_head_us;
#  - control characters in the CSV file name survive the JSON escaping;
#  - a controller with --sessions 2: per-session JSON and the total.
# Needs python3 (exit 77, skipped, without it).
source "$(dirname "$0")/lib.sh" "$@"
# One responder serves the whole script (about 25 s, several times that under
# a sanitizer on a loaded machine): it may live longer than lib.sh's default.
BG_LIMIT=150

RELAY=${3:-}
[ -x "$RELAY" ] || fail "the third argument must be twampy_relay"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import json' 2>/dev/null; then
    echo "SKIP [$TEST_NAME]: python3 with its json module is not installed" >&2
    exit 77
fi

# The progress line a terminal shows (sender_opts.c: progress_line).
PROGRESS_RE='(left|waiting for replies|elapsed, sent [0-9]+), rtt '

# py EXPR FILE: evaluate EXPR with d = the JSON document in FILE (with JSON
# Lines: the last line) and print it; fails when FILE is not JSON.
cat >"$WORK/py.py" <<'EOF'
import csv, json, sys
expr, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
lines = [l for l in text.splitlines() if l.strip()]
try:
    d = json.loads(text)
    docs = [d]
except json.JSONDecodeError:
    docs = [json.loads(l) for l in lines]  # JSON Lines
    d = docs[-1]
def rows(p):
    with open(p, newline="") as f:
        return list(csv.DictReader(f))
def status(p, s):
    return sum(1 for r in rows(p) if r["status"] == s)
def median_rtt(p):
    # nearest rank, over the packets in the statistics (not lost, not late)
    v = sorted(int(r["rtt_ns"]) for r in rows(p) if r["status"] in ("ok", "duplicate", "reordered"))
    return v[(len(v) + 1) // 2 - 1] / 1000.0
r = eval(expr)
print(str(r).lower() if isinstance(r, bool) else r)
EOF
py() {
    python3 "$WORK/py.py" "$1" "$2" 2>"$WORK/py.err" ||
        fail "python3 could not evaluate '$1' on $2: $(tail -n 3 "$WORK/py.err")$(printf '\n  %s' "$(head -c 1500 "$2")")"
}
# expect_py EXPR FILE WANT: py EXPR FILE prints WANT.
expect_py() {
    local got
    got=$(py "$1" "$2")
    [ "$got" = "$3" ] || fail_later "$1 is '$got', expected '$3'"
}

# start_relay NAME TARGET_PORT ARGS...: the relay in front of TARGET_PORT; sets RPORT.
start_relay() {
    local name=$1 target=$2
    shift 2
    bg "$name" "$RELAY" 0 "$target" "$@"
    wait_for "$name" out '^listening on [0-9]+$'
    RPORT=$(sed -n 's/^listening on \([0-9][0-9]*\)$/\1/p' "$WORK/$name.out")
}
# stop_relay NAME: SIGTERM; its counters line in RELAY_LINE.
stop_relay() {
    kill -TERM "${PID_OF[$1]}"
    bg_wait "$1"
    [ "$BG_RC" -eq 0 ] || fail "relay $1 exited with $BG_RC"
    RELAY_LINE=$(grep '^relay: ' "$WORK/$1.out")
    [ -n "$RELAY_LINE" ] || fail "relay $1 printed no counters"
}
relay_count() { # WHAT: the relay's counter (dropped, duplicated, swapped)
    echo "$RELAY_LINE" | sed -n "s/.* $1 \([0-9]*\).*/\1/p"
}

start_responder resp 127.0.0.1:0
rport=$PORT

# ---- JSON and CSV of one run ----------------------------------------------------
csv=$WORK/run.csv
expect_exit 0 "$TWAMPY" sender -c 50 -i 2 --timeout 1 --json --csv "$csv" \
    "127.0.0.1:$rport" 127.0.0.1:0
cp "$OUT" "$WORK/run.json"
j=$WORK/run.json
expect_py 'd["schema"]' "$j" twampy-report/1
expect_py 'd["type"]' "$j" report
expect_py 'd["config"]["count"]' "$j" 50
expect_py 'd["config"]["csv"] == sys.argv[2].replace("run.json", "run.csv")' "$j" true
[ "$(wc -l <"$csv")" -eq 51 ] || fail_later "CSV: $(wc -l <"$csv") lines, expected a header and 50 rows"
head -n 1 "$csv" | grep -q '^session,seq,status,t1,t2,t3,t4,t1_ntp,t2_ntp,t3_ntp,t4_ntp,rtt_ns,outbound_ns,inbound_ns,ttl_out,ttl_in,dscp_in,size$' ||
    fail_later "CSV header: $(head -n 1 "$csv")"
grep -qE '^1,0,ok,20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z,([^,]+,){3}[0-9a-f]{16},' "$csv" ||
    fail_later "CSV row of packet 0: $(sed -n 2p "$csv")"
expect_py 'len(rows(sys.argv[2].replace("run.json", "run.csv")))' "$j" 50
expect_py 'd["counters"]["sent"]' "$j" 50
for s in ok lost duplicate reordered late; do
    n=$(py "status(sys.argv[2].replace('run.json', 'run.csv'), '$s')" "$j")
    case $s in
    ok) expect_py 'd["counters"]["received"] - d["counters"]["duplicates"] - d["counters"]["reordered"]' "$j" "$n" ;;
    lost) expect_py 'd["counters"]["lost"]["round_trip"] - d["counters"]["late"]' "$j" "$n" ;;
    duplicate) expect_py 'd["counters"]["duplicates"]' "$j" "$n" ;;
    reordered) expect_py 'd["counters"]["reordered"]' "$j" "$n" ;;
    late) expect_py 'd["counters"]["late"]' "$j" "$n" ;;
    esac
done
expect_py 'abs(d["statistics"]["round_trip"]["median"] - median_rtt(sys.argv[2].replace("run.json", "run.csv"))) <= 0.01 * median_rtt(sys.argv[2].replace("run.json", "run.csv"))' "$j" true
expect_py 'd["statistics"]["round_trip"]["min"] <= d["statistics"]["round_trip"]["median"] <= d["statistics"]["round_trip"]["p99"] <= d["statistics"]["round_trip"]["max"]' "$j" true
expect_py 'sum(b["count"] for b in d["histogram"]["buckets"])' "$j" 50
# Kernel timestamps really in use on loopback.
expect_py 'd["timestamps"]["t1_kernel"] == d["counters"]["sent"]' "$j" true
expect_py 'd["timestamps"]["t4_kernel"] == d["counters"]["received"]' "$j" true
expect_py 'd["timestamps"]["summary"]' "$j" kernel
if grep -qE "$PROGRESS_RE" "$ERR" || grep -q $'\r' "$ERR"; then
    fail_later "a progress line on stderr although it is not a terminal"
fi

# The text report of a run: kernel timestamps in the report and the -v log.
expect_exit 0 "$TWAMPY" sender -v -c 50 -i 2 --timeout 1 "127.0.0.1:$rport" 127.0.0.1:0
expect_no_loss "$OUT"
grep -qx 'Timestamps: t1 kernel 50/50, t4 kernel 50/50' "$OUT" ||
    fail_later "no 'Timestamps: t1 kernel 50/50, t4 kernel 50/50' in the text report"
grep -q "Timestamps: t1 from the kernel's transmit timestamp for 50 of 50 packets, t4 from the kernel's receive timestamp for 50 of 50" "$ERR" ||
    fail_later "no kernel timestamps line in the -v log"
grep -q 'periodic schedule, random seed [0-9]* (--seed repeats it)' "$ERR" ||
    fail_later "-v did not log the seed"

# ---- loss, duplicates and reordering through the relay --------------------------
# relay_run NAME RELAY-ARGS -- SENDER-ARGS: a JSON run through a new relay
# (the JSON in $WORK/NAME.json, the CSV in $WORK/NAME.csv), then the relay's counters.
relay_run() {
    local name=$1 rargs=() sargs=()
    shift
    while [ "$1" != -- ]; do
        rargs+=("$1")
        shift
    done
    shift
    sargs=("$@")
    start_relay "relay_$name" "$rport" "${rargs[@]}"
    expect_exit 0 "$TWAMPY" sender -i 2 --timeout 1 --json --csv "$WORK/$name.csv" "${sargs[@]}" \
        "127.0.0.1:$RPORT" 127.0.0.1:0
    cp "$OUT" "$WORK/$name.json"
    stop_relay "relay_$name"
}

relay_run drop --drop-every 5 -- -c 50
j=$WORK/drop.json
[ "$(relay_count dropped)" -eq 10 ] || fail_later "relay dropped $(relay_count dropped), expected 10"
# The 50th, lost after the last reply, may have been lost either way: n/a.
expect_py 'd["counters"]["lost"]' "$j" "{'round_trip': 10, 'outbound': None, 'inbound': None, 'unattributed': 1, 'outbound_at_least': 9, 'inbound_at_least': 0, 'direction_unknown': ['edges']}"
expect_py 'd["counters"]["received"]' "$j" 40
expect_py 'd["statistics"]["round_trip"]["samples"]' "$j" 40
expect_py 'status(sys.argv[2].replace(".json", ".csv"), "lost")' "$j" 10
expect_py '[int(r["seq"]) for r in rows(sys.argv[2].replace(".json", ".csv")) if r["status"] == "lost"]' "$j" \
    "[4, 9, 14, 19, 24, 29, 34, 39, 44, 49]"
expect_py '[r["rtt_ns"] + r["t2"] for r in rows(sys.argv[2].replace(".json", ".csv")) if r["status"] == "lost"][0]' "$j" ""
# The text report of the same impairment, one more packet so that a reply
# comes after the last loss: every loss outbound.
start_relay relay_text "$rport" --drop-every 5
expect_exit 0 "$TWAMPY" sender -c 51 -i 2 --timeout 1 "127.0.0.1:$RPORT" 127.0.0.1:0
stop_relay relay_text
grep -q '^Packets: 51 sent, 41 received, 10 lost (outbound 10, inbound 0), 0 duplicate' "$OUT" ||
    fail_later "text report: $(grep '^Packets:' "$OUT")"
grep -qE '^  Roundtrip: .* 19\.6%$' "$OUT" || fail_later "text report: no 19.6% round-trip loss"
grep -qE '^  Outbound: .* 19\.6%$' "$OUT" || fail_later "text report: no 19.6% outbound loss"

# Replies dropped: inbound loss (the last two replies pass, so that the
# reflector's count shows every request arrived). Every reply carries our own
# sequence number, as a stateless reflector's would: the direction is n/a.
relay_run dropin --inbound --drop-every 5 -- -c 52
expect_py 'd["counters"]["lost"]' "$WORK/dropin.json" "{'round_trip': 10, 'outbound': None, 'inbound': None, 'unattributed': 10, 'outbound_at_least': 0, 'inbound_at_least': 0, 'direction_unknown': ['stateless']}"
[ "$(relay_count dropped)" -eq 10 ] || fail_later "relay dropped $(relay_count dropped) replies, expected 10"
# Both ways at once, two relays in a row: the first drops every 10th request
# (sseq 9, 19, ..., 59), the second every 7th reply (of the 55 requests that
# reach the reflector: its rseq 6, 13, ..., 48); the last reply passes. The
# reflector's numbers are no longer ours: 6 outbound, 7 inbound, exactly.
start_relay relay_back "$rport" --inbound --drop-every 7
back=$RPORT
start_relay relay_there "$back" --drop-every 10
expect_exit 0 "$TWAMPY" sender -c 61 -i 2 --timeout 0.3 --json "127.0.0.1:$RPORT" 127.0.0.1:0
cp "$OUT" "$WORK/both.json"
stop_relay relay_there
[ "$(relay_count dropped)" -eq 6 ] || fail_later "relay dropped $(relay_count dropped) requests, expected 6"
stop_relay relay_back
[ "$(relay_count dropped)" -eq 7 ] || fail_later "relay dropped $(relay_count dropped) replies, expected 7"
expect_py 'd["counters"]["lost"]' "$WORK/both.json" "{'round_trip': 13, 'outbound': 6, 'inbound': 7, 'unattributed': 0, 'outbound_at_least': 6, 'inbound_at_least': 7, 'direction_unknown': []}"

relay_run dup --dup-every 7 -- -c 50
j=$WORK/dup.json
[ "$(relay_count duplicated)" -eq 7 ] || fail_later "relay duplicated $(relay_count duplicated), expected 7"
expect_py 'd["counters"]["duplicates"]' "$j" 7
expect_py 'd["counters"]["received"]' "$j" 50
expect_py 'd["counters"]["lost"]' "$j" "{'round_trip': 0, 'outbound': 0, 'inbound': 0, 'unattributed': 0, 'outbound_at_least': 0, 'inbound_at_least': 0, 'direction_unknown': []}"
expect_py 'd["statistics"]["round_trip"]["samples"]' "$j" 50
expect_py 'sum(b["count"] for b in d["histogram"]["buckets"])' "$j" 50
expect_py 'status(sys.argv[2].replace(".json", ".csv"), "duplicate")' "$j" 7

relay_run swap --swap-every 2 -- -c 50
j=$WORK/swap.json
[ "$(relay_count swapped)" -eq 25 ] || fail_later "relay swapped $(relay_count swapped), expected 25"
expect_py 'd["counters"]["reordered"] > 0' "$j" true
expect_py 'd["counters"]["reorder_extent"] >= 1' "$j" true
expect_py 'd["counters"]["lost"]["round_trip"]' "$j" 0
expect_py 'status(sys.argv[2].replace(".json", ".csv"), "reordered") == d["counters"]["reordered"]' "$j" true

# ---- --report-interval -----------------------------------------------------------
expect_exit 0 "$TWAMPY" sender --count 0 --duration 1.2 -i 10 --timeout 1 --report-interval 0.5 \
    "127.0.0.1:$rport" 127.0.0.1:0
n=$(grep -cE '^\[ *[0-9]+\.[0-9]{2}- *[0-9]+\.[0-9]{2} s\] sent [0-9]+ received [0-9]+ lost [0-9]+ rtt (min/avg/max -?[0-9]+(us|\.[0-9]{2}ms|\.[0-9]{2}sec|\.[0-9]min)/-?[0-9]+(us|\.[0-9]{2}ms|\.[0-9]{2}sec|\.[0-9]min)/-?[0-9]+(us|\.[0-9]{2}ms|\.[0-9]{2}sec|\.[0-9]min)|-)$' "$OUT")
[ "$n" -ge 2 ] || fail_later "$n interval lines in text, expected at least 2:$(printf '\n%s' "$(head -n 5 "$OUT")")"
expect_no_loss "$OUT"
expect_exit 0 "$TWAMPY" sender --count 0 --duration 1.2 -i 10 --timeout 1 --report-interval 0.5 \
    --json "127.0.0.1:$rport" 127.0.0.1:0
cp "$OUT" "$WORK/iv.json"
expect_py 'len(docs) == len(lines) and all(x["type"] == "interval" for x in docs[:-1])' "$WORK/iv.json" true
expect_py 'len(docs) >= 3 and d["type"] == "report"' "$WORK/iv.json" true
expect_py 'sum(x["sent"] for x in docs[:-1]) <= d["counters"]["sent"]' "$WORK/iv.json" true
expect_py 'd["config"]["count"] == 0 and d["config"]["duration_s"] == 1.2' "$WORK/iv.json" true

# ---- --count 0: --duration and SIGTERM end it ----------------------------------------
expect_exit 0 "$TWAMPY" sender --count 0 --duration 1 -i 20 --timeout 1 --json \
    "127.0.0.1:$rport" 127.0.0.1:0
expect_py 'd["counters"]["sent"] > 0 and not d["interrupted"]' "$OUT" true
bg term "$TWAMPY" sender --count 0 -i 10 -v --json "127.0.0.1:$rport" 127.0.0.1:0
wait_for term err 'Reply from '
kill -TERM "${PID_OF[term]}"
bg_wait term
[ "$BG_RC" -eq 0 ] || fail_later "sender --count 0 exited with $BG_RC after SIGTERM"
expect_py 'd["interrupted"] and d["counters"]["received"] >= 1' "$WORK/term.out" true
bg termtext "$TWAMPY" sender --count 0 -i 10 -v "127.0.0.1:$rport" 127.0.0.1:0
wait_for termtext err 'Reply from '
kill -TERM "${PID_OF[termtext]}"
bg_wait termtext
[ "$BG_RC" -eq 0 ] || fail_later "sender --count 0 (text) exited with $BG_RC after SIGTERM"
grep -qE '^  Roundtrip: ' "$WORK/termtext.out" || fail_later "no report after SIGTERM"
grep -qE '^Packets: [1-9][0-9]* sent' "$WORK/termtext.out" || fail_later "no Packets line after SIGTERM"

# ---- --schedule poisson --seed ---------------------------------------------------------
for k in 1 2; do
    expect_exit 0 "$TWAMPY" sender -c 5 -i 1 --timeout 1 --schedule poisson --seed 42 --json \
        "127.0.0.1:$rport" 127.0.0.1:0
    cp "$OUT" "$WORK/poisson$k.json"
done
h1=$(py 'd["config"]["schedule_head_us"]' "$WORK/poisson1.json")
h2=$(py 'd["config"]["schedule_head_us"]' "$WORK/poisson2.json")
[ "$h1" = "$h2" ] || fail_later "--seed 42 twice: schedules $h1 and $h2"
expect_py 'd["config"]["seed"] == 42 and d["config"]["schedule"] == "poisson"' "$WORK/poisson1.json" true
expect_py 'd["config"]["schedule_head_us"] != [1000 * k for k in range(8)]' "$WORK/poisson1.json" true
expect_exit 0 "$TWAMPY" sender -c 5 -i 1 --timeout 1 --schedule poisson --seed 43 --json \
    "127.0.0.1:$rport" 127.0.0.1:0
h3=$(py 'd["config"]["schedule_head_us"]' "$OUT")
[ "$h1" != "$h3" ] || fail_later "--seed 42 and --seed 43 gave the same schedule $h1"
expect_exit 0 "$TWAMPY" sender -c 5 -i 1 --timeout 1 --json "127.0.0.1:$rport" 127.0.0.1:0
expect_py 'd["config"]["schedule_head_us"]' "$OUT" "[0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]"

# ---- control characters in a file name (the CSV's, echoed in the JSON) ------------------
weird=$WORK/$'we\tird "q" \\ \x01 \xc3\xa9.csv'
expect_exit 0 "$TWAMPY" sender -c 3 -i 1 --timeout 1 --json --csv "$weird" "127.0.0.1:$rport" 127.0.0.1:0
[ -f "$weird" ] || fail_later "the CSV file with control characters in its name was not written"
printf '%s' "$weird" >"$WORK/weird.name"
expect_py 'd["config"]["csv"] == open(sys.argv[2].replace("last.out", "weird.name"), encoding="utf-8").read()' "$OUT" true
grep -qF '\t' "$OUT" && grep -qF '\u0001' "$OUT" && grep -qF '\"q\"' "$OUT" && grep -qF '\\' "$OUT" ||
    fail_later "the file name is not escaped as \\t, \\u0001, \\\" and \\\\ in the JSON"

# ---- timestamping modes, PTP, histogram -----------------------------------------------------
expect_exit 0 "$TWAMPY" sender -c 10 -i 1 --timeout 1 --timestamping hw --json "127.0.0.1:$rport" 127.0.0.1:0
grep -qE 'hardware timestamps are not available \(interface lo: no hardware timestamping\); using software timestamps' "$ERR" ||
    fail_later "--timestamping hw: no fallback message"
[ "$(grep -c 'hardware timestamps are not available' "$ERR")" -eq 1 ] || fail_later "--timestamping hw: the message more than once"
expect_py 'd["config"]["timestamping"] + "/" + d["config"]["timestamping_used"] + "/" + d["timestamps"]["t1"]' "$OUT" hw/sw/kernel
expect_exit 0 "$TWAMPY" sender -c 10 -i 1 --timeout 1 --timestamping user --json "127.0.0.1:$rport" 127.0.0.1:0
expect_py 'd["timestamps"]["t1"] + "/" + str(d["timestamps"]["t1_kernel"])' "$OUT" user/0
expect_exit 0 "$TWAMPY" sender -c 10 -i 1 --timeout 1 --ptp --json "127.0.0.1:$rport" 127.0.0.1:0
expect_py 'd["config"]["ptp"] and d["counters"]["received"] == 10' "$OUT" true
expect_py 'd["statistics"]["round_trip"]["min"] > 0' "$OUT" true
expect_exit 0 "$TWAMPY" sender -c 40 -i 1 --timeout 1 --histogram "127.0.0.1:$rport" 127.0.0.1:0
grep -qx 'Round-trip delay histogram (40 replies)' "$OUT" || fail_later "--histogram: no histogram header"
rows=$(sed -n '/^Round-trip delay histogram/,$p' "$OUT" | grep -cE '^ +[0-9.]+(us|ms|s) - ')
sum=$(sed -n '/^Round-trip delay histogram/,$p' "$OUT" | awk '/^ +[0-9.]+(us|ms|s) - / { s += $4 } END { print s }')
[ "$rows" -ge 1 ] && [ "$rows" -le 20 ] || fail_later "--histogram: $rows rows"
# A round trip is never negative: the reflector's t3 may be early, never
# later than its reply left (a late t3 shortens the round trip).
if grep -qE '^  Roundtrip: +-' "$OUT"; then
    fail_later "--histogram: a negative round trip:$(printf '\n%s' "$(cat "$OUT")")"
fi
[ "$sum" = 40 ] || fail_later "--histogram: the rows count $sum replies, not 40:$(printf '\n%s' "$(cat "$OUT")")"

# ---- the progress display: on a terminal only ---------------------------------------------------
if command -v script >/dev/null 2>&1; then
    run script -qec "$TWAMPY demo -c 40 -i 10" /dev/null
    grep -qE $'\r\\[[#.]{20}\\] [0-9]+/40, [0-9.]+s left, rtt [0-9.]+(us|ms) median [0-9.]+(us|ms), loss [0-9.]+%' "$OUT" ||
        fail_later "no progress line on a terminal:$(printf '\n%s' "$(head -c 600 "$OUT" | cat -v)")"
    grep -q 'Roundtrip:' "$OUT" || fail_later "no report after the progress line"
    run script -qec "$TWAMPY demo -c 40 -i 10 --no-progress" /dev/null
    if grep -qE "$PROGRESS_RE" "$OUT"; then
        fail_later "--no-progress: a progress line"
    fi
    run script -qec "$TWAMPY demo -c 40 -i 10 -q" /dev/null
    if grep -qE "$PROGRESS_RE" "$OUT"; then
        fail_later "-q: a progress line"
    fi
else
    note "no 'script' command: the progress display on a terminal is not tested"
fi

# ---- usage errors ------------------------------------------------------------------------------
for args in "--csv -" "--schedule sometimes" "--timestamping nic" "--seed 0" "--seed -1" \
    "--seed x" "--json --histogram" "--report-interval 0" "--csv="; do
    # shellcheck disable=SC2086 # the arguments, split
    expect_exit 2 "$TWAMPY" sender $args 127.0.0.1:9 127.0.0.1:0
    [ "$(wc -l <"$ERR")" -eq 1 ] || fail_later "sender $args: not one line on stderr"
done
expect_exit 2 "$TWAMPY" controlclient --json
grep -q "is not an option of 'twampy controlclient'" "$ERR" || fail_later "controlclient --json"
expect_exit 1 "$TWAMPY" sender -c 1 --csv "$WORK/no/such/dir.csv" 127.0.0.1:9 127.0.0.1:0
grep -q "cannot open the CSV file" "$ERR" || fail_later "no message for a CSV file that cannot be opened"

# ---- a controller with two sessions -------------------------------------------------------------
start_server srv 127.0.0.1:0
sp=$PORT
expect_exit 0 "$TWAMPY" controller -c 20 -i 2 --timeout 0.5 --sessions 2 --json \
    --csv "$WORK/ctl.csv" "127.0.0.1:$sp" 127.0.0.1:0
cp "$OUT" "$WORK/ctl.json"
j=$WORK/ctl.json
expect_py 'd["command"] + "/" + d["config"]["mode"] + "/" + str(d["config"]["sessions"])' "$j" controller/twamp/2
expect_py '[s["session"] for s in d["sessions"]]' "$j" "[1, 2]"
expect_py 'd["counters"]["sent"] == sum(s["counters"]["sent"] for s in d["sessions"]) == 40' "$j" true
expect_py 'd["statistics"]["round_trip"]["samples"] == 40' "$j" true
expect_py 'd["statistics"]["round_trip"]["min"] == min(s["statistics"]["round_trip"]["min"] for s in d["sessions"])' "$j" true
expect_py 'sorted(set(r["session"] for r in rows(sys.argv[2].replace(".json", ".csv"))))' "$j" "['1', '2']"
expect_py 'len(rows(sys.argv[2].replace(".json", ".csv")))' "$j" 40
expect_exit 0 "$TWAMPY" controller -c 10 -i 2 --timeout 0.5 --sessions 2 --histogram \
    "127.0.0.1:$sp" 127.0.0.1:0
expect_tables "$OUT" 3
grep -qx 'Round-trip delay histogram (20 replies)' "$OUT" || fail_later "controller --histogram: no total histogram"
stop_server srv

stop_responder resp
finish
