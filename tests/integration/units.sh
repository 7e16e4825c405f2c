#!/usr/bin/env bash
# The hardened systemd units in contrib/: each one's exposure score from
# `systemd-analyze security --offline=yes` is printed and must be at most 2.0
# (issue 14), and each is Type=notify.
# Skipped (77) without systemd-analyze.
set -u -o pipefail
CONTRIB=$(cd "$(dirname "$0")/../../contrib" && pwd)
command -v systemd-analyze >/dev/null || {
    echo "SKIP: systemd-analyze is not installed (Debian: systemd)"
    exit 77
}
rc=0
for unit in twampy-server twampy-responder twampy-monitor; do
    out=$(systemd-analyze security --offline=yes --no-pager "$CONTRIB/$unit.service" 2>&1)
    score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
    if [ -z "$score" ]; then
        echo "FAIL: no score for $unit:" >&2
        printf '%s\n' "$out" | tail -n 20 >&2
        rc=1
        continue
    fi
    echo "# $unit.service: systemd-analyze security score $score (target <= 2.0)"
    if awk -v s="$score" 'BEGIN { exit !(s > 2.0) }'; then
        echo "FAIL: $unit.service scores $score, above 2.0:" >&2
        printf '%s\n' "$out" | grep '✗' >&2
        rc=1
    fi
    grep -q '^Type=notify$' "$CONTRIB/$unit.service" || {
        echo "FAIL: $unit.service is not Type=notify" >&2
        rc=1
    }
done
exit $rc
