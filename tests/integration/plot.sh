#!/usr/bin/env bash
# --plot (sender, demo, controller) and `twampy plot`: the SVG is well-formed
# XML, self-contained (no script, style sheet, link or external reference)
# and has one polyline per direction and one mark per lost packet; a --csv
# file draws the same picture afterwards; a --json report is refused with the
# reason. plot_browser.sh renders a picture in a real browser.
source "$(dirname "$0")/lib.sh" "$@"
CHECK="python3 $(dirname "$0")/plot_check.py"
command -v python3 >/dev/null || {
    echo "SKIP: python3 is needed to parse the SVG"
    exit 77
}

# demo: no loss, three series.
expect_exit 0 "$TWAMPY" demo -c 50 -i 1 --plot "$WORK/demo.svg" --csv "$WORK/demo.csv"
expect_no_loss "$OUT"
$CHECK svg "$WORK/demo.svg" 3 0 || fail "demo --plot: see above"
grep -q '<title>twampy: TWAMP light to 127.0.0.1:' "$WORK/demo.svg" || fail "demo --plot: no title"
grep -q '>50</text>' "$WORK/demo.svg" || fail "demo --plot: the summary does not say 50 packets"
# The same run from its CSV: the same series, point for point.
expect_exit 0 "$TWAMPY" plot "$WORK/demo.csv" -o "$WORK/again.svg"
$CHECK svg "$WORK/again.svg" 3 0 || fail "twampy plot demo.csv: see above"
diff <(grep -o '<polyline[^>]*>' "$WORK/demo.svg") <(grep -o '<polyline[^>]*>' "$WORK/again.svg") >/dev/null ||
    fail "twampy plot of the run's CSV draws other series than --plot did"
# To standard output, with a title (escaped).
expect_exit 0 "$TWAMPY" plot --title 'a<b & c' "$WORK/demo.csv"
grep -q 'a&lt;b &amp; c' "$OUT" || fail "plot --title: not escaped in the SVG on stdout"

# A sender whose every packet is lost: no series, exit 1 as ever; a mark per
# pixel column with a lost packet (1 to 5: a late timer on a busy machine can
# send two in the same column), the summary counts all five.
start_responder gone 127.0.0.1:0
stop_responder gone
expect_exit 1 "$TWAMPY" sender "127.0.0.1:$PORT" 127.0.0.1:0 -c 5 -i 1 --timeout 0.2 -q \
    --plot "$WORK/lost.svg"
$CHECK svg "$WORK/lost.svg" 0 1-5 || fail "sender --plot, all lost: see above"
grep -q '>5 (100.00 %)</text>' "$WORK/lost.svg" || fail "sender --plot, all lost: the summary does not say 5 lost"

# controller --plot through our server.
start_server srv 127.0.0.1:0
expect_exit 0 "$TWAMPY" controller "127.0.0.1:$PORT" 127.0.0.1:0 -c 20 -i 1 --sessions 2 \
    --plot "$WORK/ctl.svg"
$CHECK svg "$WORK/ctl.svg" 3 0 || fail "controller --plot: see above"
grep -q '>40</text>' "$WORK/ctl.svg" || fail "controller --plot: the summary does not count 2 x 20 packets"

# The crafted run with six lost packets.
$CHECK crafted "$WORK/crafted.csv" "$WORK/spec.json"
expect_exit 0 "$TWAMPY" plot "$WORK/crafted.csv" -o "$WORK/crafted.svg"
$CHECK svg "$WORK/crafted.svg" 3 6 || fail "plot crafted.csv: see above"

# Refused: a --json report (no per-packet data), a CSV with a bad row, a file
# that is not ours, bad usage.
expect_exit 0 "$TWAMPY" demo -c 3 -i 1 --json
cp "$OUT" "$WORK/run.json"
expect_exit 1 "$TWAMPY" plot "$WORK/run.json" -o "$WORK/x.svg"
grep -q 'is a --json report: it has the run.s totals but no per-packet records' "$ERR" ||
    fail "plot run.json: no reason given: $(cat "$ERR")"
sed '3s/,ok,/,fine,/' "$WORK/demo.csv" >"$WORK/bad.csv"
expect_exit 1 "$TWAMPY" plot "$WORK/bad.csv" -o "$WORK/x.svg"
grep -q 'bad.csv:3: column 3 (status)' "$ERR" || fail "plot bad.csv: the line not named: $(cat "$ERR")"
printf 'a,b\n1,2\n' >"$WORK/other.csv"
expect_exit 1 "$TWAMPY" plot "$WORK/other.csv"
grep -q 'not a twampy --csv file' "$ERR" || fail "plot other.csv: $(cat "$ERR")"
expect_exit 2 "$TWAMPY" plot
expect_exit 2 "$TWAMPY" plot a.csv b.csv
expect_exit 2 "$TWAMPY" responder --plot x.svg
expect_exit 2 "$TWAMPY" demo --plot ''
expect_exit 1 "$TWAMPY" demo -c 1 --plot "$WORK/no/such/dir.svg"
grep -q "cannot open the plot file" "$ERR" || fail "demo --plot into a missing directory: $(cat "$ERR")"
finish
