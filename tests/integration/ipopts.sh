#!/usr/bin/env bash
# IP options on the wire, both directions, and the reflector's sequence numbers:
#  - sender --dscp/--tos/--ecn/--ttl, as twampy_probe reflect receives the
#    requests;
#  - responder --dscp/--ecn/--ttl, as twampy_probe request receives the replies, with
#    the Sender TTL field, t2/t3 and rseq (stateful and --stateless) checked too.
source "$(dirname "$0")/lib.sh" "$@"

hosts=(127.0.0.1)
if have_ipv6; then
    hosts+=('[::1]')
else
    note "SKIP: no ::1 on this host, IPv6 checks not run"
fi

# sender_wire HOST "SENDER ARGS" TOS TTL: the requests of `twampy sender ARGS`
# arrive with this TOS/Traffic Class and TTL/Hop Limit.
sender_wire() {
    local host=$1 args=$2 tos=$3 ttl=$4
    start_reflect refl "$host" --count 3 --expect-tos "$tos" --expect-ttl "$ttl"
    # shellcheck disable=SC2086 # args is a list of options
    sender_ok $args -c 3 -i 5 "$host:$PORT" "$host:0"
    probe_done refl
    note "sender $args -> $host: tos $tos ttl $ttl on the wire"
}

for h in "${hosts[@]}"; do
    sender_wire "$h" "--dscp ef --ttl 17" 184 17
    sender_wire "$h" "--tos 40" 40 64
    sender_wire "$h" "--dscp af41" 136 64
    sender_wire "$h" "--dscp 10 --ttl 255" 40 255
    sender_wire "$h" "--stamp --dscp cs5 --ttl 1" 160 1
    sender_wire "$h" "" 0 64
    # --dscp sets the upper six bits and keeps the ECN bits of --tos.
    sender_wire "$h" "--dscp ef --tos 1" 185 64
    # --ecn sets the two ECN bits (RFC 3168), TWAMP light and STAMP alike.
    sender_wire "$h" "--dscp ef --ecn 2" 186 64
    sender_wire "$h" "--stamp --ecn 3" 3 64
    sender_wire "$h" "--tos 3 --ecn 1" 1 64
done

# Replies: responder --dscp af41 --ttl 9 sends them with TOS 136 and TTL 9; the
# probe sends with TTL 33 and expects 33 in the reply's Sender TTL field.
for h in "${hosts[@]}"; do
    start_responder rtos --dscp af41 --ttl 9 "$h:0"
    expect_exit 0 "$PROBE" request "$h" "$PORT" --expect-tos 136 --expect-ttl 9 --ttl 33
    expect_exit 0 "$PROBE" request "$h" "$PORT" --expect-tos 136 --expect-ttl 9 --stamp
    stop_responder rtos
    start_responder rtos --tos 40 "$h:0"
    expect_exit 0 "$PROBE" request "$h" "$PORT" --expect-tos 40 --expect-ttl 64 --ttl 200
    stop_responder rtos
    start_responder rtos --dscp ef --ecn 1 "$h:0"
    expect_exit 0 "$PROBE" request "$h" "$PORT" --expect-tos 185 --expect-ttl 64
    stop_responder rtos
done

# The dual-stack responder (no address) sets the options for both families.
start_responder rdual --dscp af41 --ttl 9 :0
expect_exit 0 "$PROBE" request 127.0.0.1 "$PORT" --expect-tos 136 --expect-ttl 9 --ttl 5
if grep -q '(IPv6 and IPv4)' "$WORK/rdual.err"; then
    expect_exit 0 "$PROBE" request ::1 "$PORT" --expect-tos 136 --expect-ttl 9 --ttl 5
fi
stop_responder rdual

# Reflector sequence numbers: stateful by default (0, 1, 2 per sender address,
# port and SSID), the sender's own with --stateless.
for h in "${hosts[@]}"; do
    start_responder rseq "$h:0"
    expect_exit 0 "$PROBE" request "$h" "$PORT"
    expect_exit 0 "$PROBE" request "$h" "$PORT" --stamp
    # A stateless expectation must fail against a stateful reflector.
    expect_exit 1 "$PROBE" request "$h" "$PORT" --expect-rseq-stateless
    stop_responder rseq
    start_responder rseq --stateless "$h:0"
    expect_exit 0 "$PROBE" request "$h" "$PORT" --expect-rseq-stateless
    expect_exit 0 "$PROBE" request "$h" "$PORT" --expect-rseq-stateless --stamp
    stop_responder rseq
done

note "ipopts: all checks passed"
