#!/usr/bin/env bash
# The command line: help and version (exit 0), usage errors (exit 2 and exactly
# one line on stderr, nothing on stdout), a name that does not resolve (exit 1),
# and `twampy dscptable`. None of these needs a socket.
source "$(dirname "$0")/lib.sh" "$@"

# expect_stdout ERE: some line of the last command's stdout matches.
expect_stdout() {
    grep -qE -- "$1" "$OUT" || fail "stdout has no line matching /$1/:$(printf '\n%s' "$(head -c 1500 "$OUT")")"
}

# Help and version.
for v in -v --version; do
    expect_exit 0 "$TWAMPY" "$v"
    [ "$(cat "$OUT")" = "$(head -n 1 "$OUT")" ] || fail "twampy $v printed more than one line"
    expect_stdout '^twampy [0-9]+\.[0-9]+\.[0-9]+$'
done
for h in -h --help; do
    expect_exit 0 "$TWAMPY" "$h"
    expect_stdout '^usage: twampy '
    expect_stdout 'sender'
    expect_stdout 'responder'
    # The quickest path to a first real measurement, on the first screen
    # (24 lines): TWAMP light, STAMP, full TWAMP, and the demo.
    head -n 24 "$OUT" | grep -qE '^  twampy sender 192\.0\.2\.1 +TWAMP light' ||
        fail "twampy $h: no TWAMP light example on the first screen"
    head -n 24 "$OUT" | grep -qE '^  twampy sender 192\.0\.2\.1:862 --stamp +STAMP' ||
        fail "twampy $h: no STAMP example on the first screen"
    head -n 24 "$OUT" | grep -qE '^  twampy controller 192\.0\.2\.1 +full TWAMP' ||
        fail "twampy $h: no full TWAMP (controller) example on the first screen"
    head -n 24 "$OUT" | grep -qE '^  twampy demo ' || fail "twampy $h: no demo example"
done
for sub in sender responder demo dscptable; do
    for h in -h --help; do
        expect_exit 0 "$TWAMPY" "$sub" "$h"
        expect_stdout "^usage: twampy $sub"
        [ ! -s "$ERR" ] || fail "twampy $sub $h wrote to stderr: $(cat "$ERR")"
    done
done
expect_exit 0 "$TWAMPY" sender --help
for opt in --count --interval --padding --stamp --ssid --dscp --tos --ttl --do-not-fragment \
    --timeout; do
    expect_stdout "$opt"
done
expect_exit 0 "$TWAMPY" responder --help
for opt in --stateless --timer --dscp --ttl; do
    expect_stdout "$opt"
done

# usage_error KEYWORD ARGS...: twampy ARGS exits 2 with one stderr line that
# contains KEYWORD, and prints nothing on stdout.
usage_error() {
    local key=$1
    shift
    expect_exit 2 "$TWAMPY" "$@"
    local lines
    lines=$(wc -l <"$ERR")
    [ "$lines" -eq 1 ] || fail "twampy $*: $lines lines on stderr, expected 1:$(printf '\n%s' "$(cat "$ERR")")"
    grep -qF -- "$key" "$ERR" || fail "twampy $*: stderr does not mention '$key': $(cat "$ERR")"
    [ ! -s "$OUT" ] || fail "twampy $*: usage error printed on stdout: $(cat "$OUT")"
}

# Every sender case names loopback addresses and a short run, so that a check
# that fails to fire still ends quickly and sends nothing off this host.
S=(sender -c 1 --timeout 0)
usage_error 70000 "${S[@]}" 127.0.0.1:70000 127.0.0.1:0
usage_error 70000 "${S[@]}" 127.0.0.1:5 127.0.0.1:70000
usage_error 70000 responder 127.0.0.1:70000
usage_error xyz "${S[@]}" --dscp xyz 127.0.0.1:5 127.0.0.1:0
usage_error xyz responder --dscp xyz 127.0.0.1:0
usage_error 64 "${S[@]}" --dscp 64 127.0.0.1:5 127.0.0.1:0
usage_error --ttl "${S[@]}" --ttl 0 127.0.0.1:5 127.0.0.1:0
usage_error --ttl "${S[@]}" --ttl 256 127.0.0.1:5 127.0.0.1:0
usage_error --ttl responder --ttl 0 127.0.0.1:0
usage_error --tos "${S[@]}" --tos 256 127.0.0.1:5 127.0.0.1:0
usage_error --count sender --count -3 --timeout 0 127.0.0.1:5 127.0.0.1:0
usage_error --count sender -c 4294967296 --timeout 0 127.0.0.1:5 127.0.0.1:0 # -c 0: until --duration or stopped
usage_error --count sender -c abc --timeout 0 127.0.0.1:5 127.0.0.1:0
usage_error --padding "${S[@]}" --padding 9000 127.0.0.1:5 127.0.0.1:0
usage_error --padding "${S[@]}" --padding 8959 127.0.0.1:5 127.0.0.1:0
usage_error --padding "${S[@]}" --padding 8939 '[::1]:5' '[::1]:0'
usage_error --padding "${S[@]}" --padding -2 127.0.0.1:5 127.0.0.1:0
usage_error --interval "${S[@]}" --interval 0 127.0.0.1:5 127.0.0.1:0
usage_error --interval "${S[@]}" -i -1 127.0.0.1:5 127.0.0.1:0
usage_error --timeout sender -c 1 --timeout -1 127.0.0.1:5 127.0.0.1:0
usage_error --bogus "${S[@]}" --bogus 127.0.0.1:5 127.0.0.1:0
usage_error --bogus responder --bogus 127.0.0.1:0
usage_error -c sender -c
usage_error bogus bogus
usage_error IPv6 "${S[@]}" '[::1]:5' '127.0.0.1:0'
usage_error IPv4 "${S[@]}" '127.0.0.1:5' '[::1]:0'
usage_error --stamp "${S[@]}" --ssid 5 127.0.0.1:5 127.0.0.1:0
usage_error --ssid "${S[@]}" --stamp --ssid 65536 127.0.0.1:5 127.0.0.1:0
usage_error 31 "${S[@]}" --stamp --padding 31 127.0.0.1:5 127.0.0.1:0
usage_error 33 "${S[@]}" --stamp --padding 33 127.0.0.1:5 127.0.0.1:0
usage_error 'port 0' "${S[@]}" 127.0.0.1:0 127.0.0.1:0
usage_error extra "${S[@]}" 127.0.0.1:5 127.0.0.1:0 extra
usage_error extra responder 127.0.0.1:0 extra
usage_error extra demo extra
usage_error extra dscptable extra
usage_error -q "${S[@]}" -q -v 127.0.0.1:5 127.0.0.1:0
usage_error ']' "${S[@]}" '[::1:5' 127.0.0.1:0
# No subcommand at all: exit 2 (the help goes to stderr with the error).
expect_exit 2 "$TWAMPY"
grep -q 'subcommand' "$ERR" || fail "twampy without arguments does not ask for a subcommand"

# A name that does not resolve: a runtime failure (exit 1) naming it. The
# .invalid top-level domain never resolves (RFC 6761).
# The lookup would go to the system's DNS server, which is not on loopback: run
# it in a network namespace of its own (no route out), or skip it.
if unshare -rn true 2>/dev/null; then
    expect_exit 1 unshare -rn "$TWAMPY" sender -c 1 --timeout 0 nosuchhost.invalid:5 127.0.0.1:0
    grep -qF 'nosuchhost.invalid' "$ERR" || fail "the resolver error does not name the host: $(cat "$ERR")"
    [ "$(wc -l <"$ERR")" -eq 1 ] || fail "resolver error: expected one line: $(cat "$ERR")"
else
    echo "SKIP: unshare -rn is not available, the unresolvable-name check needs it"
fi

# A local port another program holds: exit 1, and the error says what to do.
start_responder busy 127.0.0.1:0
expect_exit 1 "$TWAMPY" responder "127.0.0.1:$PORT"
grep -qF "cannot bind to 127.0.0.1:$PORT: Address already in use (another program, or another twampy, has it: give another local port, or port 0 for any free one)" "$ERR" ||
    fail "a taken port: $(cat "$ERR")"
stop_responder busy

# dscptable: 64 rows (name, value, TOS in binary and hex) and the EF row.
expect_exit 0 "$TWAMPY" dscptable
rows=$(grep -cE '^[a-z][a-z0-9]* +[0-9]+ +[01]{4} [01]{4} +[0-9A-F]{2}$' "$OUT")
[ "$rows" -eq 64 ] || fail "dscptable printed $rows rows, expected 64"
grep -qxF 'ef             46             1011 1000      B8' "$OUT" || fail "dscptable: no EF row"
grep -qxF 'be             0              0000 0000      00' "$OUT" || fail "dscptable: no BE row"
grep -qxF 'af41           34             1000 1000      88' "$OUT" || fail "dscptable: no AF41 row"
# the Python twampy's debug options are accepted (and ignored) here
expect_exit 0 "$TWAMPY" dscptable -v
[ "$(grep -cE '^[a-z][a-z0-9]* +[0-9]+ +[01]{4}' "$OUT")" -eq 64 ] || fail "dscptable -v"

note "cli: all checks passed"
