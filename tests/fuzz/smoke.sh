#!/usr/bin/env bash
# Run every fuzz harness of BUILD_DIR (configured with NST_FUZZ=ON) for
# SECONDS each on a copy of its seed corpus (and its regression inputs), so
# the committed corpus is never modified. Fails if any harness crashes,
# leaks or hits undefined behaviour; prints per harness the executions,
# exec/s and coverage of libFuzzer's final line. A crashing input is kept
# in BUILD_DIR/fuzz-artifacts/<name>/.
#   tests/fuzz/smoke.sh BUILD_DIR [SECONDS]
set -uo pipefail
build=${1:?usage: smoke.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
# the harnesses' temporary files, in memory when possible; a harness killed
# by a timeout leaves its files here, removed at the end
shm=/dev/shm
[ -d "$shm" ] || shm=${TMPDIR:-/tmp}
TMPDIR=$(mktemp -d "$shm/nst-fuzz-smoke.XXXXXX")
export TMPDIR
trap 'rm -rf "$work" "$TMPDIR"' EXIT
failed=0
printf '%-13s %10s %8s %7s %7s %6s %s\n' harness execs exec/s cov ft corpus result
for corpus in "$here"/corpus/*/; do
    name=$(basename "$corpus")
    bin="$build/tests/fuzz/fuzz_$name"
    if [ ! -x "$bin" ]; then
        echo "$name: $bin is missing (build the 'fuzz' target with -DNST_FUZZ=ON)" >&2
        failed=1
        continue
    fi
    mkdir -p "$work/$name" "$build/fuzz-artifacts/$name"
    cp "$corpus"* "$work/$name/"
    dirs=("$work/$name")
    [ -d "$here/regressions/$name" ] && dirs+=("$here/regressions/$name")
    log="$build/fuzz-artifacts/$name/smoke.log"
    OMP_NUM_THREADS=1 "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name/" "${dirs[@]}" >"$log" 2>&1
    rc=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    result=ok
    if [ $rc -ne 0 ]; then
        result="FAILED (exit $rc, log $log)"
        failed=1
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -5 >&2
    fi
    printf '%-13s %10s %8s %7s %7s %6s %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
        "${corp:-?}" "$result"
done
exit $failed
