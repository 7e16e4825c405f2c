#!/usr/bin/env bash
# Run the libFuzzer targets built in BUILD (make fuzz builds them), each for
# SECONDS, on a copy of its seed corpus and regression inputs in
# BUILD/corpus-<target> (new inputs stay there, never in the source tree).
# Prints one line per target: runs, runs per second, coverage ("cov:" edges,
# "ft:" features) and corpus size from libFuzzer's final stats. A crash, leak,
# hang or failed check stops nothing else but fails the run; the input is in
# BUILD/artifacts-<target>/.
#
# Usage: fuzz/run.sh [BUILD [SECONDS [TARGET...]]]   (defaults: build-fuzz 60, all)
set -uo pipefail
cd "$(dirname "$0")/.."

build=${1:-build-fuzz}
secs=${2:-60}
shift 2 2>/dev/null || shift $#
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for src in fuzz/fuzz_*.c; do
        t=${src#fuzz/fuzz_}
        targets+=("${t%.c}")
    done
fi

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
start_all=$(date +%s)
printf '%-17s %-6s %11s %9s %7s %7s %8s\n' target result runs runs/s cov ft corpus
for t in "${targets[@]}"; do
    exe=$build/fuzz/fuzz_$t
    if [ ! -x "$exe" ]; then
        echo "$exe: not built (make fuzz builds it)" >&2
        status=1
        continue
    fi
    corpus=$build/corpus-$t
    artifacts=$build/artifacts-$t
    log=$build/fuzz-$t.log
    mkdir -p "$corpus" "$artifacts"
    # Seeds and regressions (names starting with '.' are not inputs).
    for d in fuzz/corpus/$t fuzz/regressions/$t; do
        [ -d "$d" ] || continue
        find "$d" -maxdepth 1 -type f ! -name '.*' -exec cp -n {} "$corpus/" \;
    done
    if "$exe" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
    fi
    runs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")
    rate=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log")
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    printf '%-17s %-6s %11s %9s %7s %7s %8s\n' "$t" "$result" "${runs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}"
    if [ "$result" != ok ]; then
        echo "---- $log (end) ----"
        tail -n 60 "$log"
        echo "---- inputs: $(ls "$artifacts" 2>/dev/null | tr '\n' ' ')"
        echo "Reproduce: $exe $artifacts/<file>; once fixed, keep the input in" \
            "fuzz/regressions/$t/ (ctest replays it)."
    fi
done
echo "fuzzing took $(($(date +%s) - start_all)) s (${#targets[@]} targets, ${secs} s each)"
exit $status
