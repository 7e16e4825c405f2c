#!/usr/bin/env bash
# The -d hex dumps show every packet whole and name its length,
# "received: HEX (N bytes)", also for packets over 1 KB.
source "$(dirname "$0")/lib.sh" "$@"

start_responder rdbg -d 127.0.0.1:0
sender_ok --padding 100 -c 1 "127.0.0.1:$PORT" 127.0.0.1:0
sender_ok --padding 2000 -c 1 "127.0.0.1:$PORT" 127.0.0.1:0
stop_responder rdbg
sizes=$(dumped_sizes rdbg received | tr '\n' ' ')
[ "$(dumped_sizes rdbg received | head -n 1)" = 114 ] ||
    fail "responder -d did not log a 114-octet request (logged sizes: $sizes)"
[ "$sizes" = "114 2014 " ] || fail "responder -d logged the request sizes as: $sizes (want 114 2014)"
note "debuglog: all checks passed"
