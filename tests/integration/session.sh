#!/usr/bin/env bash
# Sender <-> responder sessions over 127.0.0.1 and ::1, TWAMP light and STAMP:
# exit 0, the three report rows with 0.0% loss, packet sizes on the wire for
# --padding 0 / 8000 / the 9000-octet maximum / IMIX, -c 1, -i 0.5, and the
# responder's counters line.
source "$(dirname "$0")/lib.sh" "$@"

# Sessions against one responder, then its counters must add up.
session_set() {
    local name=$1 rhost=$2 lhost=$3
    start_responder "$name" "$rhost:0"
    local p=$PORT
    note "$name: responder on $rhost:$p"
    sender_ok -c 10 -i 5 "$rhost:$p" "$lhost:0"
    sender_ok --stamp -c 10 -i 5 "$rhost:$p" "$lhost:0"
    sender_ok --stamp --ssid 4660 --padding 100 -c 5 -i 5 "$rhost:$p" "$lhost:0"
    sender_ok -c 1 "$rhost:$p" "$lhost:0"
    sender_ok --padding 0 -c 5 -i 2 "$rhost:$p" "$lhost:0"
    sender_ok --padding 8000 -c 5 -i 2 "$rhost:$p" "$lhost:0"
    sender_ok -c 20 -i 0.5 "$rhost:$p" "$lhost:0"
    # -v logs one "Reply from" line per packet.
    sender_ok -v -c 4 -i 5 "$rhost:$p" "$lhost:0"
    local replies
    replies=$(grep -c 'Reply from ' "$ERR")
    [ "$replies" -eq 4 ] || fail "sender -v -c 4 logged $replies 'Reply from' lines, expected 4"
    stop_responder "$name"
    expect_counters "60 received, 60 reflected, 0 too short, 0 truncated, 0 send errors"
}

session_set r4 127.0.0.1 127.0.0.1
if have_ipv6; then
    session_set r6 '[::1]' '[::1]'
else
    note "SKIP: no ::1 on this host, IPv6 sessions not run"
fi

# A dual-stack responder (no address: [::] with IPV6_V6ONLY off) answers both.
start_responder rdual :0
grep -q '(IPv6 and IPv4)' "$WORK/rdual.err" || note "responder :0 is IPv4 only on this host"
sender_ok -c 5 -i 5 "127.0.0.1:$PORT" 127.0.0.1:0
dual_n=5
if have_ipv6; then
    sender_ok -c 5 -i 5 --stamp "[::1]:$PORT" '[::1]:0'
    dual_n=10
fi
stop_responder rdual
expect_counters "$dual_n received, $dual_n reflected, 0 too short"

# Small packet sizes on the wire, seen in a responder's hex dumps (-d):
# "received: HEX (N bytes)" and "transmit: HEX (N bytes)" (packets of up to a few
# hundred octets: see debuglog.sh for the longer ones).
# size_check NAME HOST EXPECT_RX EXPECT_TX SENDER_ARGS...
size_check() {
    local name=$1 host=$2 rx=$3 tx=$4
    shift 4
    start_responder "$name" -d "$host:0"
    sender_ok "$@" -c 3 -i 5 "$host:$PORT" "$host:0"
    stop_responder "$name"
    expect_counters "3 received, 3 reflected, 0 too short, 0 truncated"
    local got
    got=$(dumped_sizes "$name" received | sort -u | tr '\n' ' ')
    [ "$got" = "$rx " ] || fail "$name: sender $* sent ${got}octet requests, expected $rx"
    got=$(dumped_sizes "$name" transmit | sort -u | tr '\n' ' ')
    [ "$got" = "$tx " ] || fail "$name: replies to sender $* were ${got}octets, expected $tx"
    [ "$(dumped_sizes "$name" received | wc -l)" -eq 3 ] || fail "$name: expected 3 requests"
}

size_check pad0 127.0.0.1 14 41 --padding 0
size_check default 127.0.0.1 41 41
size_check stamp 127.0.0.1 44 44 --stamp
size_check stamp100 127.0.0.1 114 114 --stamp --padding 100
if have_ipv6; then
    size_check pad0v6 '[::1]' 14 41 --padding 0
fi

# Request sizes and SSIDs as twampy_probe reflect receives them: one line
# "packet SEQ: len N tos N ttl N ssid N" per request.
# probe_sizes HOST COUNT SENDER_ARGS...: sets SIZES (one per line)
probe_sizes() {
    local host=$1 count=$2
    shift 2
    start_reflect refl "$host" --count "$count"
    sender_ok "$@" -c "$count" -i 2 "$host:$PORT" "$host:0"
    probe_done refl
    SIZES=$(sed -n 's/^packet [0-9]*: len \([0-9]*\) .*/\1/p' "$WORK/refl.out")
    [ "$(echo "$SIZES" | wc -l)" -eq "$count" ] || fail "probe saw no $count requests"
}
# expect_sizes "SENDER ARGS" SIZE...: every request had one of the sizes.
expect_sizes() {
    local what=$1 s want ok
    shift
    for s in $SIZES; do
        ok=0
        for want in "$@"; do [ "$s" -eq "$want" ] && ok=1; done
        [ $ok -eq 1 ] || fail "sender $what: a request of $s octets, expected one of: $*"
    done
}

probe_sizes 127.0.0.1 3 --padding 8000
expect_sizes "--padding 8000" 8014
# The largest padding: a 9000-octet IPv4 packet (20 + 8 + 14 + 8958).
probe_sizes 127.0.0.1 2 --padding 8958
expect_sizes "--padding 8958" 8972
probe_sizes 127.0.0.1 2 --stamp --padding 8958
expect_sizes "--stamp --padding 8958" 8972
if have_ipv6; then
    probe_sizes '[::1]' 3 --padding 8000
    expect_sizes "--padding 8000 (IPv6)" 8014
    # 40 + 8 + 14 + 8938 = 9000
    probe_sizes '[::1]' 2 --padding 8938
    expect_sizes "--padding 8938 (IPv6)" 8952
fi

# IMIX (--padding -1): every request has one of the three IMIX sizes, and with
# 24 packets more than one size shows up (all 24 alike: p < 3e-6).
probe_sizes 127.0.0.1 24 --padding -1
expect_sizes "--padding -1" 22 548 1472
[ "$(echo "$SIZES" | sort -u | wc -l)" -ge 2 ] || fail "24 IMIX requests of one size"
if have_ipv6; then
    probe_sizes '[::1]' 24 --padding -1
    expect_sizes "--padding -1 (IPv6)" 14 528 1452
    [ "$(echo "$SIZES" | sort -u | wc -l)" -ge 2 ] || fail "24 IPv6 IMIX requests of one size"
fi
# IMIX against the real responder: no loss.
start_responder rimix 127.0.0.1:0
sender_ok --padding -1 -c 24 -i 2 "127.0.0.1:$PORT" 127.0.0.1:0
stop_responder rimix
expect_counters "24 received, 24 reflected, 0 too short"

# STAMP SSID on the wire: the probe checks length 44 and SSID 4660 of each request.
start_reflect refl 127.0.0.1 --count 3 --expect-len 44 --expect-ssid 4660
sender_ok --stamp --ssid 4660 -c 3 -i 5 "127.0.0.1:$PORT" 127.0.0.1:0
probe_done refl

note "session: all checks passed"
