#!/usr/bin/env bash
# The live progress line on a terminal, through a pseudo-terminal (python3's
# pty module): for a finite run a bar with the count and the time left, for an
# open-ended one the time elapsed; the latest and the median round trip in the
# report's units ("8us", as the table writes them), the loss so far; and once
# the run ends (or on SIGINT) nothing of it left on the screen above the report.
# Needs python3 (exit 77, skipped, without it).
source "$(dirname "$0")/lib.sh" "$@"

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP [$TEST_NAME]: python3 is not installed" >&2
    exit 77
fi

# onpty.py INTERRUPT_RE ARGV...: runs ARGV on a pseudo-terminal (stdout and
# stderr both), sends SIGINT once the output matches INTERRUPT_RE (unless it is
# empty), and writes the raw output to $WORK/raw and the final screen (a small
# terminal emulation: \r, \n, ESC[K) to $WORK/screen. Exits with the child's
# status; every wait has a deadline.
cat >"$WORK/onpty.py" <<'EOF'
import os, pty, re, select, signal, sys, time
work, pat, argv = sys.argv[1], sys.argv[2].encode(), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
raw, sent_int, deadline = b"", False, time.monotonic() + 30
while True:
    if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        sys.exit("no end within 30 s")
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break  # EIO: the child is gone
    if not data:
        break
    raw += data
    if pat and not sent_int and re.search(pat, raw):
        os.kill(pid, signal.SIGINT)
        sent_int = True
_, status = os.waitpid(pid, 0)
open(os.path.join(work, "raw"), "wb").write(raw)
lines, col, i = [[]], 0, 0
text = raw.decode("utf-8", "replace")
while i < len(text):
    c = text[i]
    if c == "\r":
        col = 0
    elif c == "\n":
        lines.append([])
        col = 0
    elif c == "\x1b":
        m = re.match(r"\x1b\[([0-9;]*)([A-Za-z])", text[i:])
        if m:
            if m.group(2) == "K":
                del lines[-1][col:]
            i += len(m.group(0))
            continue
    else:
        line = lines[-1]
        while len(line) < col:
            line.append(" ")
        if col < len(line):
            line[col] = c
        else:
            line.append(c)
        col += 1
    i += 1
open(os.path.join(work, "screen"), "w").write("\n".join("".join(l) for l in lines))
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
EOF

# The progress line in any of its forms, and a delay as the report writes it.
PROGRESS_RE='(left|waiting for replies|elapsed, sent [0-9]+), rtt '
D='([0-9]+us|[0-9]+\.[0-9]{2}ms)'

# on_pty INTERRUPT_RE ARGS...: twampy ARGS on a terminal; exit status 0 expected.
on_pty() {
    local pat=$1
    shift
    timeout "$RUN_LIMIT" python3 "$WORK/onpty.py" "$WORK" "$pat" "$TWAMPY" "$@" 2>"$WORK/pty.err" ||
        fail "twampy $* on a terminal: exit $?:$(printf '\n%s' "$(cat "$WORK/pty.err")")"
}

# nothing_left WHAT: the final screen has no progress line, and the report's
# first line starts at the left margin.
nothing_left() {
    if grep -qE "$PROGRESS_RE" "$WORK/screen"; then
        fail_later "$1: a progress line left on the screen:$(printf '\n%s' "$(grep -E "$PROGRESS_RE" "$WORK/screen")")"
    fi
    grep -qE '^TWAMP light to 127\.0\.0\.1:[0-9]+ from ' "$WORK/screen" ||
        fail_later "$1: the report's first line does not start a line:$(printf '\n%s' "$(head -n 4 "$WORK/screen")")"
    grep -qE '^  Roundtrip: ' "$WORK/screen" || fail_later "$1: no report on the screen"
}

# ---- a finite run: a bar, the count, the time left ---------------------------------
on_pty '' demo -c 50 -i 10
grep -qE $'\r'"\\[[#.]{20}\\] [0-9]+/50, [0-9.]+s left, rtt $D median $D, loss [0-9.]+%" "$WORK/raw" ||
    fail_later "no bar with count, time left, rtt and median in the report's units:$(printf '\n%s' "$(head -c 600 "$WORK/raw" | cat -v)")"
if grep -qE '[0-9]\.[0-9]{3} ms' "$WORK/raw"; then
    fail_later "a delay in ms with three decimals (a unit the report never uses)"
fi
nothing_left "-c 50"
note "finite run: bar, count, time left, rtt and median as the table writes them; erased"

# ---- --duration: a bar by time, the count sent -------------------------------------
on_pty '' demo -c 0 --duration 0.5 -i 10
grep -qE $'\r'"\\[[#.]{20}\\] sent [0-9]+, [0-9.]+s left, rtt $D median $D, loss [0-9.]+%" "$WORK/raw" ||
    fail_later "--duration: no bar with the count sent and the time left:$(printf '\n%s' "$(head -c 600 "$WORK/raw" | cat -v)")"
nothing_left "--duration"

# ---- open-ended, stopped by SIGINT: time elapsed, then nothing left ------------------
on_pty 'elapsed, sent [0-9]+, rtt [0-9]' demo -c 0 -i 10
grep -qE $'\r'"[0-9.]+s elapsed, sent [0-9]+, rtt $D median $D, loss [0-9.]+%" "$WORK/raw" ||
    fail_later "-c 0: no elapsed time:$(printf '\n%s' "$(head -c 600 "$WORK/raw" | cat -v)")"
if grep -qE '\[[#.]{20}\]' "$WORK/raw"; then
    fail_later "-c 0: a progress bar for a run without an end"
fi
nothing_left "-c 0 and SIGINT"
grep -qE '^[0-9/]+ [0-9:,]+ +NOTICE +SIGINT received' "$WORK/screen" ||
    fail_later "SIGINT: its log line does not start a line:$(printf '\n%s' "$(head -n 3 "$WORK/screen")")"
note "open-ended run: time elapsed; SIGINT erases the line before the log and the report"

finish
