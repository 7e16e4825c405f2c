#!/usr/bin/env bash
# Remote ICMP errors named in the report (issue 11 item 3), from a router the
# test builds itself: in a private network namespace (unshare -rn) the sender
# sits on one end of a veth pair, and a second namespace on the other end
# routes (forwarding on, ICMP rate limits off):
#   10.9.8.0/24, fd09:8::/64   an "unreachable" route: ICMP host unreachable
#                              (ICMPv6 no route) from the router;
#   10.9.9.0/24, fd09:9::/64   routed on (back to the sender's namespace): with
#                              --ttl 1 the router answers ICMP TTL exceeded
#                              (ICMPv6 hop limit exceeded).
# Each kind is named once with its count and the router's address, in the text
# report and in JSON `icmp`; not a single usable reply: exit 1. Nothing leaves
# the test's own namespaces. Skips (77) where namespaces or veth are missing.
source "$(dirname "$0")/lib.sh" "$@"

if ! unshare -rn true 2>/dev/null; then
    echo "SKIP: unshare -rn is not available (a private network namespace is needed)"
    exit 77
fi
HAVE_PY=1
command -v python3 >/dev/null 2>&1 && python3 -c 'import json' 2>/dev/null || HAVE_PY=0

inner=$WORK/inner.sh
cat >"$inner" <<INNER
set -u
ip link set lo up || exit 3
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 || exit 3
# The router: a second network namespace, held open by a sleeping process.
unshare -n sleep 60 &
R=\$!
me=\$(readlink /proc/self/ns/net)
for _ in \$(seq 500); do
    ns=\$(readlink /proc/\$R/ns/net 2>/dev/null) && [ "\$ns" != "\$me" ] && break
    sleep 0.01
done
[ "\$(readlink /proc/\$R/ns/net 2>/dev/null)" != "\$me" ] || exit 3
ip link add v0 type veth peer name v1 || exit 3
ip link set v1 netns \$R || exit 3
# Two source addresses a family: the text report's run, the JSON's (the router
# paces its IPv4 unreachables per source: a burst of 5).
ip addr add 10.200.0.1/24 dev v0 || exit 3
ip addr add 10.200.0.3/24 dev v0 || exit 3
ip -6 addr add fd00::1/64 dev v0 nodad || exit 3
ip -6 addr add fd00::3/64 dev v0 nodad || exit 3
ip link set v0 up || exit 3
ip route add 10.9.0.0/16 via 10.200.0.2 || exit 3
ip -6 route add default via fd00::2 || exit 3
nsenter -t \$R -n sh -e -c '
    ip link set lo up
    sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip addr add 10.200.0.2/24 dev v1
    ip -6 addr add fd00::2/64 dev v1 nodad
    ip link set v1 up
    sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
    ip route add unreachable 10.9.8.0/24
    ip route add 10.9.9.0/24 via 10.200.0.1
    ip -6 route add unreachable fd09:8::/64
    ip -6 route add default via fd00::1
' || exit 3
# Host unreachable first: the router paces those per source (a burst of 5),
# and its TTL-exceeded answers would use up the same allowance.
run() { # NAME TO FROM FROM-FOR-JSON [ARGS...]
    n=\$1 to=\$2 from=\$3 jfrom=\$4
    shift 4
    "$TWAMPY" sender -c 3 -i 5 --timeout 0.5 "\$@" "\$to" "\$from" >"$WORK/\$n.out" 2>"$WORK/\$n.err"
    echo "\$n=\$?"
    "$TWAMPY" sender -c 3 -i 5 --timeout 0.5 --json "\$@" "\$to" "\$jfrom" >"$WORK/\$n.json" 2>/dev/null
}
run unreach4 10.9.8.1:20001 10.200.0.1:0 10.200.0.3:0
run unreach6 [fd09:8::1]:20001 [fd00::1]:0 [fd00::3]:0
run ttl4 10.9.9.1:20001 10.200.0.1:0 10.200.0.3:0 --ttl 1
run ttl6 [fd09:9::1]:20001 [fd00::1]:0 [fd00::3]:0 --ttl 1
kill \$R
INNER
timeout --foreground -k 5 60 unshare -rn bash "$inner" >"$WORK/inner.out" 2>&1
rc=$?
if [ "$rc" -eq 3 ]; then
    echo "SKIP: cannot build the namespace router (veth, a second namespace): $(tail -n 3 "$WORK/inner.out")"
    exit 77
fi

# check NAME LINE KIND FROM: exit 1, the text line, the JSON count and sender.
check() {
    local name=$1 want=$2 kind=$3 from=$4
    grep -qx "$name=1" "$WORK/inner.out" ||
        fail "$name: expected exit 1:$(printf '\n%s' "$(cat "$WORK/inner.out" "$WORK/$name.err")")"
    grep -qxF -- "$want" "$WORK/$name.out" ||
        fail "$name: no line '$want':$(printf '\n%s' "$(cat "$WORK/$name.out")")"
    [ "$HAVE_PY" -eq 1 ] || return 0
    python3 - "$WORK/$name.json" "$kind" "$from" <<'PY' || fail "$name: JSON icmp: $(cat "$WORK/$name.json")"
import json, sys
d = json.load(open(sys.argv[1]))
kind, frm = sys.argv[2], sys.argv[3]
for k, v in d["icmp"].items():
    if not isinstance(v, dict):
        continue
    want = 3 if k == kind else 0
    if v["count"] != want:
        sys.exit("icmp.%s.count is %s, expected %d" % (k, v["count"], want))
if d["icmp"][kind]["from"] != frm:
    sys.exit("icmp.%s.from is %r" % (kind, d["icmp"][kind]["from"]))
if d["counters"]["received"] != 0:
    sys.exit("replies received")
PY
}

check unreach4 'ICMP: 10.200.0.2 answered ICMP host unreachable to 3 of 3 packets: is the address right, the host up and the path open?' \
    host_unreachable 10.200.0.2
note "IPv4 host unreachable from the router: named, 3 of 3, exit 1"
check unreach6 'ICMP: fd00::2 answered ICMP host unreachable to 3 of 3 packets: is the address right, the host up and the path open?' \
    host_unreachable fd00::2
note "IPv6 no route from the router: named as host unreachable, 3 of 3, exit 1"
check ttl4 'ICMP: 10.200.0.2 answered ICMP TTL exceeded to 3 of 3 packets: the reflector is farther than --ttl hops' \
    ttl_exceeded 10.200.0.2
note "IPv4 TTL exceeded at the router with --ttl 1: named, 3 of 3, exit 1"
check ttl6 'ICMP: fd00::2 answered ICMP TTL exceeded to 3 of 3 packets: the reflector is farther than --ttl hops' \
    ttl_exceeded fd00::2
note "IPv6 hop limit exceeded at the router with --ttl 1: named, 3 of 3, exit 1"
finish
