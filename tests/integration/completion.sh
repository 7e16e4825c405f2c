#!/usr/bin/env bash
# contrib/bash-completion/twampy: sourced in this shell, _twampy fills
# COMPREPLY for a few command lines as bash would; and every option that a
# subcommand's --help names is offered for that subcommand.
source "$(dirname "$0")/lib.sh" "$@"
COMPLETION=$(cd "$(dirname "$0")/../../contrib/bash-completion" && pwd)/twampy
# shellcheck source=/dev/null
source "$COMPLETION" || fail "cannot source $COMPLETION"
# `twampy dscptable` as the completion calls it: the binary under test.
twampy() { "$TWAMPY" "$@"; }

# complete WORD...: COMPREPLY for the command line "twampy WORD..." with the
# cursor at the end of the last word, sorted, on one line in $GOT.
complete_line() {
    COMP_WORDS=(twampy "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _twampy
    GOT=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    GOT=${GOT% }
}

# expect WANT WORD...: the completions are exactly WANT (sorted, space-separated).
expect() {
    local want=$1
    shift
    complete_line "$@"
    [ "$GOT" = "$want" ] || fail_later "twampy $*<TAB>: got '$GOT', expected '$want'"
}

# expect_has WANT WORD...: WANT is among the completions.
expect_has() {
    local want=$1
    shift
    complete_line "$@"
    case " $GOT " in
    *" $want "*) ;;
    *) fail_later "twampy $*<TAB>: '$want' not among '$GOT'" ;;
    esac
}

expect 'controlclient controller' contr
expect 'server' ser
expect 'sender server' se
expect 'plot' pl
expect_has monitor ''
expect '--stamp' sender --st
expect '--schedule --seed --ssid --stamp' sender --s
expect '--sessions' controller --sess
expect 'periodic poisson' sender --schedule ''
expect 'poisson' demo --schedule=po
expect 'periodic' demo --schedule = pe
expect 'hw' sender --timestamping h
expect 'auto stamp twamp' responder --format ''
expect 'open,authenticated open,encrypted open,mixed' controller --modes open,
expect 'open,mixed,encrypted' controller --modes open,mixed,e
expect 'ef' sender --dscp e
expect_has af41 sender --dscp af4
expect '--max-orphan-time' server --max-o
expect '--title' plot --ti
expect '' sender --count ''
expect '--plot' demo --pl

# Files: plot takes a .csv and writes a .svg; --plot offers .svg files.
mkdir "$WORK/files" && cd "$WORK/files" || fail "no scratch directory"
touch run.csv run.json pic.svg notes.txt mon.yaml mon2.yml
mkdir sub
expect 'run.csv sub' plot ''
expect 'mon.yaml mon2.yml sub' monitor ''
expect 'pic.svg sub' sender --plot ''
expect 'pic.svg' plot run.csv -o p
expect 'notes.txt' sender --csv n
cd - >/dev/null || true

# Every option a subcommand's --help lists is offered for it.
for sub in sender responder controller controlclient server check monitor plot; do
    run "$TWAMPY" "$sub" --help
    complete_line "$sub" -
    # The option lines ("  -c, --count ...", "  --json, --csv file, ..."), not the prose.
    for opt in $(grep -E '^ +-' "$OUT" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        case " $GOT " in
        *" $opt "*) ;;
        *) fail_later "'twampy $sub --help' names $opt, the completion does not offer it" ;;
        esac
    done
done
finish
