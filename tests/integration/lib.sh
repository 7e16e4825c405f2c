# shellcheck shell=bash
# Shared helpers of the integration scripts. Each script starts with
#
#   source "$(dirname "$0")/lib.sh" "$@"      # arguments: TWAMPY PROBE
#
# Rules kept here: loopback addresses only, kernel-chosen ports (parsed from the
# programs' own output), readiness by a line printed (never a fixed sleep),
# every process bounded by `timeout`, and every background process killed on exit.
set -u -o pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TWAMPY PROBE" >&2
    exit 2
fi
TWAMPY=$1
PROBE=$2
for _f in "$TWAMPY" "$PROBE"; do
    [ -x "$_f" ] || {
        echo "not an executable: $_f" >&2
        exit 2
    }
done

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/twampy-it-$TEST_NAME.XXXXXX") || exit 2
BG_LIMIT=150 # seconds any background process may live, whatever happens (a
# responder lives through report.sh, which takes minutes under ASan on a busy machine)
RUN_LIMIT=30 # seconds any foreground command may take
# Under valgrind everything runs 20-50 times slower: a server that lives
# through a whole script must not be stopped by its own limit.
if [ -n "${TWAMPY_UNDER_VALGRIND:-}" ]; then
    BG_LIMIT=240
    RUN_LIMIT=120
fi
declare -a BG_PIDS=()
declare -A PID_OF=()

# On exit: stop what is still running, show the logs when the test failed.
cleanup() {
    local rc=$? pid f
    for pid in "${BG_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${BG_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    if [ "$rc" -ne 0 ]; then
        for f in "$WORK"/*; do
            [ -s "$f" ] || continue
            echo "---- $(basename "$f") (last 40 lines) ----" >&2
            tail -n 40 "$f" | cut -c1-300 >&2
        done
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { echo "# $*"; }
fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}
# fail_later MESSAGE: report a failed check but go on with the independent
# checks after it; finish then fails the test.
FAILED_LATER=0
fail_later() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    FAILED_LATER=$((FAILED_LATER + 1))
}
# finish: the last line of a script: fails when a fail_later check failed.
finish() {
    [ "$FAILED_LATER" -eq 0 ] || fail "$FAILED_LATER check(s) failed, see the FAIL lines above"
    note "$TEST_NAME: all checks passed"
}

have_ipv6() {
    [ -r /proc/net/if_inet6 ] && grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# Is this (child) process still running? A zombie counts as gone.
alive() {
    local state
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ]
}

# bg NAME CMD...: run CMD in the background, stdout in $WORK/NAME.out, stderr in
# $WORK/NAME.err. Sets BG_PID and PID_OF[NAME]. `timeout` forwards SIGINT and
# SIGTERM to CMD and kills it after BG_LIMIT seconds in any case. --foreground
# makes it forward just that signal: without it, it follows up with SIGCONT,
# which can cancel the SIGSTOP of LeakSanitizer's ptrace attach at exit and
# leave an ASan build spinning until the SIGKILL.
bg() {
    local name=$1
    shift
    # Empty the files here: the background child's own redirections happen
    # later, and a reader must never see a previous run's lines.
    : >"$WORK/$name.out"
    : >"$WORK/$name.err"
    timeout --foreground -k 5 "$BG_LIMIT" "$@" >>"$WORK/$name.out" 2>>"$WORK/$name.err" &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
    PID_OF[$name]=$BG_PID
}

# bg_wait NAME: wait for it to exit (bounded by BG_LIMIT); sets BG_RC.
bg_wait() {
    local name=$1 pid=${PID_OF[$1]} i keep=()
    wait "$pid"
    BG_RC=$?
    for i in "${BG_PIDS[@]}"; do
        [ "$i" = "$pid" ] || keep+=("$i")
    done
    BG_PIDS=("${keep[@]}")
    unset "PID_OF[$name]"
    if [ "$BG_RC" -eq 124 ] || [ "$BG_RC" -eq 137 ]; then
        fail "$name was still running after ${BG_LIMIT}s and was killed"
    fi
}

# has_line FILE ERE: a complete (newline-terminated) line of FILE matches ERE.
has_line() {
    grep -qE -- "$2" "$1" 2>/dev/null && [ "$(tail -c 1 "$1" | wc -l)" -eq 1 ]
}

# wait_for NAME STREAM ERE [SECS]: until a line of $WORK/NAME.STREAM (out or
# err) matches ERE. Fails when NAME exits first or after SECS (default 20).
wait_for() {
    local name=$1 file=$WORK/$1.$2 re=$3 deadline=$((SECONDS + ${4:-20}))
    while ! has_line "$file" "$re"; do
        if ! alive "${PID_OF[$name]}"; then
            grep -qE -- "$re" "$file" 2>/dev/null && return 0
            fail "$name exited before printing /$re/ on std$2"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "$name printed no /$re/ on std$2 in time"
        sleep 0.02
    done
}

# start_responder NAME [ARGS...]: twampy responder ARGS in the background; waits
# for its "Wait to receive test packets on ADDR:PORT" line and sets PORT.
start_responder() {
    local name=$1
    shift
    bg "$name" "$TWAMPY" responder "$@"
    wait_for "$name" err 'Wait to receive test packets on '
    PORT=$(sed -n 's/.*Wait to receive test packets on .*:\([0-9][0-9]*\).*/\1/p' \
        "$WORK/$name.err" | head -n 1)
    [ -n "$PORT" ] || fail "no port in $name's ready line"
}

# stop_responder NAME: SIGINT, exit status 0, and its counters line in COUNTERS.
stop_responder() {
    local name=$1
    kill -INT "${PID_OF[$name]}"
    bg_wait "$name"
    [ "$BG_RC" -eq 0 ] || fail "responder $name exited with $BG_RC after SIGINT, expected 0"
    COUNTERS=$(grep -o 'TWL session reflector stopped: .*' "$WORK/$name.err")
    [ -n "$COUNTERS" ] || fail "responder $name logged no counters line when stopped"
}

# expect_counters TEXT: the last stopped responder's (or server's) counters
# line contains TEXT.
expect_counters() {
    case "$COUNTERS" in
    *"$1"*) ;;
    *) fail "counters: expected '$1' in '$COUNTERS'" ;;
    esac
}

# start_reflect NAME HOST [ARGS...]: twampy_probe reflect HOST 0 ARGS in the
# background; waits for "listening on PORT" and sets PORT.
start_reflect() {
    local name=$1 host=$2
    shift 2
    bg "$name" "$PROBE" reflect "$host" 0 "$@"
    wait_for "$name" out '^listening on [0-9]+$'
    PORT=$(sed -n 's/^listening on \([0-9][0-9]*\)$/\1/p' "$WORK/$name.out")
}

# probe_done NAME: the background probe exits 0.
probe_done() {
    bg_wait "$1"
    [ "$BG_RC" -eq 0 ] || fail "probe $1 failed: $(grep FAIL "$WORK/$1.err")"
}

# run CMD...: run CMD in the foreground (bounded); stdout in $OUT, stderr in
# $ERR (files), exit status in RC.
OUT=$WORK/last.out
ERR=$WORK/last.err
run() {
    timeout --foreground -k 5 "$RUN_LIMIT" "$@" >"$OUT" 2>"$ERR"
    RC=$?
    if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
        fail "still running after ${RUN_LIMIT}s: $*"
    fi
}

# expect_exit CODE CMD...: run CMD and check its exit status.
expect_exit() {
    local want=$1
    shift
    run "$@"
    [ "$RC" -eq "$want" ] ||
        fail "exit status $RC, expected $want: $*$(printf '\n  stderr: %s' "$(head -c 2000 "$ERR")")"
}

# expect_no_loss FILE: twampy's table with Outbound, Inbound and Roundtrip rows,
# each ending in 0.0% loss.
expect_no_loss() {
    local f=$1 row
    for row in Outbound Inbound Roundtrip; do
        grep -qE "^  $row: .* 0\.0%\$" "$f" ||
            fail "no '$row:' row with 0.0% loss in the report:$(printf '\n%s' "$(cat "$f")")"
    done
    if grep -q 'NO STATS AVAILABLE' "$f"; then
        fail "report says NO STATS AVAILABLE"
    fi
}

# sender_ok ARGS...: twampy sender ARGS exits 0 and reports no loss.
sender_ok() {
    expect_exit 0 "$TWAMPY" sender "$@"
    expect_no_loss "$OUT"
}

# The sizes of the datagrams a responder started with -d received (or sent:
# transmit), one per line, from its hex dump lines "received: HEX (N bytes)".
dumped_sizes() {
    sed -n "s/.* DEBUG .*$2: [0-9a-f]*\(\.\.\.\)\{0,1\} (\([0-9][0-9]*\) bytes)\$/\2/p" \
        "$WORK/$1.err"
}

# ---- TWAMP-Control: server, controller, probe ------------------------------

# now_ms: a wall clock in milliseconds, for "this took at most ..." checks.
now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# re_of TEXT: TEXT as a regular expression (sed BRE or ERE) that matches
# itself: 127.0.0.1 -> 127\.0\.0\.1, [::1]:862 -> \[::1\]:862.
re_of() {
    printf '%s' "$1" | sed 's/[].[]/\\&/g'
}

# wait_count NAME STREAM ERE N [SECS]: until N lines of $WORK/NAME.STREAM match
# ERE. Fails when NAME exits with fewer or after SECS (default 20).
wait_count() {
    local name=$1 file=$WORK/$1.$2 re=$3 n=$4 deadline=$((SECONDS + ${5:-20}))
    while [ "$(grep -cE -- "$re" "$file" 2>/dev/null)" -lt "$n" ]; do
        if ! alive "${PID_OF[$name]}"; then
            [ "$(grep -cE -- "$re" "$file" 2>/dev/null)" -ge "$n" ] && return 0
            fail "$name exited before printing $n lines /$re/ on std$2"
        fi
        [ "$SECONDS" -lt "$deadline" ] ||
            fail "$name printed $(grep -cE -- "$re" "$file") lines /$re/ on std$2, not $n, in time"
        sleep 0.02
    done
}

# log_has NAME ERE: a line of NAME's stderr (its log) matches ERE.
log_has() {
    grep -qE -- "$2" "$WORK/$1.err" ||
        fail "$1 logged no line matching /$2/$(printf '\n  its last lines:\n%s' "$(tail -n 8 "$WORK/$1.err" | cut -c1-250)")"
}

# log_count NAME ERE: the number of lines of NAME's stderr that match ERE.
log_count() {
    grep -cE -- "$2" "$WORK/$1.err"
}

# start_server NAME [ARGS...]: twampy server ARGS in the background; waits for
# its "TWAMP server listening on ADDR:PORT" line and sets PORT.
start_server() {
    local name=$1
    shift
    bg "$name" "$TWAMPY" server "$@"
    wait_for "$name" err 'TWAMP server listening on '
    PORT=$(sed -n 's/.*TWAMP server listening on .*:\([0-9][0-9]*\).*/\1/p' "$WORK/$name.err" |
        head -n 1)
    [ -n "$PORT" ] || fail "no port in server $name's ready line"
}

# server_answers NAME HOST PORT WHAT: server NAME on HOST:PORT still answers a
# new connection with a greeting after WHAT; else fail, quoting the
# sanitizer's report if it died of one. (The server is single-threaded: once it
# has greeted a new client, it has handled everything sent to it before.)
server_answers() {
    local name=$1 host=$2 port=$3 what=$4 i why
    if timeout --foreground -k 5 10 "$PROBE" tcp "$host" "$port" greeting close >/dev/null 2>&1 &&
        alive "${PID_OF[$name]}"; then
        return 0
    fi
    for ((i = 0; i < 250; i++)); do
        alive "${PID_OF[$name]}" || break
        sleep 0.02
    done
    why=$(grep -E 'ERROR: AddressSanitizer|runtime error|SUMMARY: ' "$WORK/$name.err" | head -n 3)
    fail "server $name stopped answering after $what${why:+:$(printf '\n%s' "$why")}"
}

# stop_server NAME: SIGINT, exit status 0, its counters line in COUNTERS.
stop_server() {
    local name=$1
    kill -INT "${PID_OF[$name]}"
    bg_wait "$name"
    [ "$BG_RC" -eq 0 ] || fail "server $name exited with $BG_RC after SIGINT, expected 0"
    COUNTERS=$(grep -o 'TWAMP server stopped: .*' "$WORK/$name.err")
    [ -n "$COUNTERS" ] || fail "server $name logged no counters line when stopped"
}

# expect_tables FILE N: the report in FILE has exactly N tables (N Outbound,
# Inbound and Roundtrip rows), every row with 0.0% loss.
expect_tables() {
    local f=$1 n=$2 row got
    for row in Outbound Inbound Roundtrip; do
        got=$(grep -cE "^  $row: " "$f")
        [ "$got" -eq "$n" ] ||
            fail "$got '$row:' rows in the report, expected $n:$(printf '\n%s' "$(cat "$f")")"
        got=$(grep -E "^  $row: " "$f" | grep -cvE ' 0\.0%$')
        [ "$got" -eq 0 ] ||
            fail "$got '$row:' rows without 0.0% loss:$(printf '\n%s' "$(cat "$f")")"
    done
    if grep -q 'NO STATS AVAILABLE' "$f"; then
        fail "report says NO STATS AVAILABLE"
    fi
}

# tables_for ARGS...: how many tables a controller run with ARGS prints (one, or
# N + 1 with --sessions N).
tables_for() {
    local n=1 prev='' a
    for a in "$@"; do
        [ "$prev" = --sessions ] && n=$((a + 1))
        prev=$a
    done
    echo "$n"
}

# controller_ok ARGS...: twampy controller ARGS exits 0, reports 0.0% loss in
# every table and logs no error.
controller_ok() {
    expect_exit 0 "$TWAMPY" controller "$@"
    expect_tables "$OUT" "$(tables_for "$@")"
    if grep -qE 'twampy: error|ERROR|WARN' "$ERR"; then
        fail "controller $* logged an error: $(grep -E 'error|ERROR|WARN' "$ERR" | head -n 3)"
    fi
}

# start_controller NAME ARGS...: twampy controller ARGS in the background; waits
# until its test runs (its "Session 1 accepted: reflector ..." line).
declare -A CTL_ARGS=()
start_controller() {
    local name=$1
    shift
    bg "$name" "$TWAMPY" controller "$@"
    CTL_ARGS[$name]="$*"
    wait_for "$name" err 'Session 1 accepted: reflector '
}

# controller_done NAME: the background controller exits 0 with 0.0% loss.
controller_done() {
    local name=$1
    bg_wait "$name"
    [ "$BG_RC" -eq 0 ] ||
        fail "controller $name exited with $BG_RC: $(grep 'error' "$WORK/$name.err" | head -n 3)"
    # shellcheck disable=SC2086 # the arguments, split again
    expect_tables "$WORK/$name.out" "$(tables_for ${CTL_ARGS[$name]})"
}

# start_probe NAME ERE ARGS...: twampy_probe ARGS in the background; waits for
# a line of its stdout that matches ERE.
start_probe() {
    local name=$1 re=$2
    shift 2
    bg "$name" "$PROBE" "$@"
    wait_for "$name" out "$re"
}

# probe_ok ARGS...: twampy_probe ARGS in the foreground exits 0 (its output in $OUT).
probe_ok() {
    run "$PROBE" "$@"
    [ "$RC" -eq 0 ] || fail "twampy_probe $* exited with $RC: $(head -c 600 "$ERR")"
}

# out_has ERE: a line of the last foreground command's stdout matches.
out_has() {
    grep -qE -- "$1" "$OUT" ||
        fail "no stdout line matching /$1/:$(printf '\n%s' "$(head -c 1500 "$OUT")")"
}

# need_attacker [TOOL...] [--addr LAST]: the hostile-client tool
# (twamp_attack.py) in ATTACK; skip the test (exit 77) without python3 or any
# TOOL, or when loopback does not answer on LAST (the last of the source
# addresses the attack binds to).
need_attacker() {
    local tool last=""
    ATTACK=$(dirname "$0")/twamp_attack.py
    for tool in python3 "$@"; do
        case $tool in
        --addr=*) last=${tool#--addr=} ;;
        *)
            if ! command -v "$tool" >/dev/null 2>&1; then
                echo "SKIP [$TEST_NAME]: $tool is not installed" >&2
                exit 77
            fi
            ;;
        esac
    done
    if [ -n "$last" ] && ! "$PROBE" freeport "$last" tcp >/dev/null 2>&1; then
        echo "SKIP [$TEST_NAME]: no $last on this host's loopback" >&2
        exit 77
    fi
}
