#!/usr/bin/env bash
# Source address of replies (twampy_probe srcaddr): a responder bound to a
# wildcard address answers a request sent to 127.0.0.2 (or any 127.x.y.z) from
# that same address and its port, not from the kernel's choice (127.0.0.1).
source "$(dirname "$0")/lib.sh" "$@"

srcaddr_against() {
    local name=$1 addr
    shift
    start_responder "$name" "$@"
    for addr in 127.0.0.2 127.1.2.3 127.255.255.254 127.0.0.1; do
        expect_exit 0 "$PROBE" srcaddr "$PORT" --to "$addr"
        note "$name ($*): $(cat "$OUT")"
    done
    stop_responder "$name"
    expect_counters "4 received, 4 reflected, 0 too short"
}

# No address: the dual-stack [::] socket (IPv4 arrives v4-mapped).
srcaddr_against rdual :0
# The IPv4 wildcard.
srcaddr_against rany 0.0.0.0:0
srcaddr_against rany_sl --stateless 0.0.0.0:0

# A responder bound to one address is only reached there, and answers from it.
start_responder rone 127.0.0.2:0
expect_exit 0 "$PROBE" srcaddr "$PORT" --to 127.0.0.2
stop_responder rone

note "srcaddr: all checks passed"
