#!/usr/bin/env bash
# Reply lengths and too-short requests (twampy_probe lengths): every request of
# 14..9000 octets is answered with max(request, 41) octets and its Sender
# Sequence Number; 0- and 13-octet datagrams get no reply and are counted as
# "2 too short"; STAMP SSID and TLVs come back as RFC 8972 says; the responder
# goes on reflecting afterwards.
source "$(dirname "$0")/lib.sh" "$@"

# probe lengths sends 8987 requests of 14..9000 octets, a 0- and a 13-octet
# datagram, one 41-octet request and three STAMP requests.
lengths_against() {
    local name=$1 host=$2 local_=$3
    shift 3
    start_responder "$name" "$@"
    expect_exit 0 "$PROBE" lengths "$host" "$PORT"
    note "$name: $(tr '\n' ' ' <"$OUT")"
    # Still reflecting: a twampy sender session without loss.
    sender_ok -c 5 -i 2 "$local_:$PORT" "$local_:0"
    stop_responder "$name"
    expect_counters "8998 received, 8996 reflected, 2 too short, 0 truncated, 0 send errors"
}

lengths_against r4 127.0.0.1 127.0.0.1 127.0.0.1:0
if have_ipv6; then
    lengths_against r6 ::1 '[::1]' '[::1]:0'
else
    note "SKIP: no ::1 on this host, IPv6 lengths not run"
fi
# The dual-stack wildcard socket, reached over IPv4.
lengths_against rdual 127.0.0.1 127.0.0.1 :0
# --stateless changes nothing about lengths.
lengths_against rsl 127.0.0.1 127.0.0.1 --stateless 127.0.0.1:0

note "lengths: all checks passed"
