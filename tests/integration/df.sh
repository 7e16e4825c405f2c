#!/usr/bin/env bash
# --do-not-fragment really sets DF: in a network namespace of the test's own
# (loopback only) a route with an MTU of 1280 leads to 127.0.0.77; a 2014-octet
# packet with DF is a clear error (exit 1, one line naming the size and DF),
# the same packet without DF is fragmented and reflected with 0.0% loss.
source "$(dirname "$0")/lib.sh" "$@"

if ! unshare -rn true 2>/dev/null; then
    echo "SKIP: unshare -rn is not available (a private network namespace is needed)"
    exit 0
fi
inner=$WORK/inner.sh
cat >"$inner" <<INNER
set -u
ip link set lo up || exit 3
ip route add local 127.0.0.77/32 dev lo table local mtu lock 1280 || exit 3
"$TWAMPY" responder 127.0.0.77:20001 2>"$WORK/resp.err" &
rpid=\$!
for _ in \$(seq 200); do grep -q 'Wait to receive' "$WORK/resp.err" && break; sleep 0.02; done
"$TWAMPY" sender 127.0.0.77:20001 127.0.0.1:0 --do-not-fragment --padding 2000 -c 2 \
    --timeout 0.5 >"$WORK/df.out" 2>"$WORK/df.err"
echo "df_rc=\$?"
"$TWAMPY" sender 127.0.0.77:20001 127.0.0.1:0 --padding 2000 -c 3 -i 5 --timeout 2 \
    >"$WORK/frag.out" 2>"$WORK/frag.err"
echo "frag_rc=\$?"
kill -INT \$rpid; wait \$rpid
INNER
timeout --foreground -k 5 60 unshare -rn bash "$inner" >"$WORK/inner.out" 2>&1
rc=$?
[ "$rc" -ne 3 ] || { echo "SKIP: cannot set up the namespace's route"; exit 0; }
grep -qx 'df_rc=1' "$WORK/inner.out" || fail "with DF: expected exit 1: $(cat "$WORK/inner.out" "$WORK/df.err")"
grep -q '^twampy: error: a 2014-octet test packet is too big to send to 127.0.0.77:20001 with do-not-fragment' \
    "$WORK/df.err" || fail "with DF: no clear error: $(cat "$WORK/df.err")"
[ "$(grep -c 'too big' "$WORK/df.err")" -eq 1 ] || fail "the error is printed more than once: $(cat "$WORK/df.err")"
# The error names the path MTU, and the report the kernel's refusal (issue 11).
grep -q '^twampy: error: .* with do-not-fragment (the path MTU is 1280)' "$WORK/df.err" ||
    fail "with DF: the error does not name the MTU: $(cat "$WORK/df.err")"
grep -qx 'ICMP: the kernel refused 1 packet to 127.0.0.77:20001 as too big to send with do-not-fragment (local EMSGSIZE, path MTU 1280); lower --padding' "$WORK/df.out" ||
    fail "with DF: the report does not name the local EMSGSIZE:$(printf '\n%s' "$(cat "$WORK/df.out")")"
grep -qx 'frag_rc=0' "$WORK/inner.out" || fail "without DF: expected exit 0: $(cat "$WORK/inner.out" "$WORK/frag.err")"
expect_no_loss "$WORK/frag.out"
note "df: DF refused past the 1280 MTU with a clear error; without DF 0.0% loss"
