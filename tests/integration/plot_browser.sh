#!/usr/bin/env bash
# A picture as a real browser shows it: headless Chromium renders the crafted
# run's SVG (six lost packets) to PNG, and plot_check.py reads the pixels: the
# three series' colours in the time panel in the order of their delays, a red
# mark above each lost packet's send time and none elsewhere, the histogram's
# bars, the summary's text. Skipped (77) without chromium or python3.
source "$(dirname "$0")/lib.sh" "$@"
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] || ! command -v python3 >/dev/null; then
    echo "SKIP: needs chromium (Debian: apt-get install chromium) and python3"
    exit 77
fi
python3 "$HERE/plot_check.py" crafted "$WORK/crafted.csv" "$WORK/spec.json"
expect_exit 0 "$TWAMPY" plot "$WORK/crafted.csv" -o "$WORK/crafted.svg" --title "crafted: 6 lost"
# Its own profile directory and HOME: nothing written outside $WORK.
HOME=$WORK timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --user-data-dir="$WORK/profile" --screenshot="$WORK/crafted.png" --window-size=1200,900 \
    "file://$WORK/crafted.svg" >"$WORK/chromium.log" 2>&1 ||
    fail "chromium could not render the SVG: $(tail -n 5 "$WORK/chromium.log")"
[ -s "$WORK/crafted.png" ] || fail "chromium wrote no screenshot"
python3 "$HERE/plot_check.py" png "$WORK/crafted.png" "$HERE/../../include/twampy/plot_svg.h" \
    "$WORK/spec.json" || fail "the rendered picture: see above"
if [ -n "${TWAMPY_PLOT_PNG:-}" ]; then
    cp "$WORK/crafted.png" "$TWAMPY_PLOT_PNG" # to look at it
fi
finish
