#!/usr/bin/env bash
# systemd's readiness protocol: run with NOTIFY_SOCKET (a datagram socket this
# test binds, by path and in the abstract namespace), responder and server
# send READY=1 once their sockets are bound, and STOPPING=1 when SIGTERM stops
# them; without NOTIFY_SOCKET nothing changes (the other scripts).
source "$(dirname "$0")/lib.sh" "$@"
command -v python3 >/dev/null || {
    echo "SKIP: python3 is needed for the notify socket"
    exit 77
}

# listen NAME SOCKET: a python3 receiver of two datagrams on SOCKET ("@name"
# or a path), each printed on a line of its own; ready once it prints "bound".
listen() {
    bg "$1" python3 -c '
import socket, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name[0] == "@" else name)
print("bound", flush=True)
s.settimeout(60)
for _ in range(2):
    print(s.recv(4096).decode(), flush=True)
' "$2"
    wait_for "$1" out '^bound$'
}

# check WHAT NAME SOCKET CMD...: CMD under NOTIFY_SOCKET says READY=1 when
# ready (its own ready line is already out), STOPPING=1 on SIGTERM.
check() {
    local what=$1 name=$2 sock=$3 ready=$4
    shift 4
    listen "l$name" "$sock"
    bg "$name" env NOTIFY_SOCKET="$sock" "$TWAMPY" "$@"
    wait_for "l$name" out '^READY=1$'
    grep -q "$ready" "$WORK/$name.err" || fail "$what: READY=1 came before '$ready' was logged"
    kill -TERM "${PID_OF[$name]}"
    bg_wait "$name"
    [ "$BG_RC" -eq 0 ] || fail "$what exited with $BG_RC after SIGTERM"
    wait_for "l$name" out '^STOPPING=1$'
    note "$what: READY=1 once bound, STOPPING=1 on SIGTERM"
}

check "responder (abstract socket)" r1 "@twampy-test-$$-r" 'Wait to receive test packets on' \
    responder 127.0.0.1:0
check "responder (path)" r2 "$WORK/notify-r" 'Wait to receive test packets on' \
    responder 127.0.0.1:0
check "server (abstract socket)" s1 "@twampy-test-$$-s" 'TWAMP server listening on' \
    server 127.0.0.1:0
finish
