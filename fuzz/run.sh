#!/usr/bin/env bash
# Fuzzes each target for a while and prints a summary table.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 600); TARGETs default to every target (`cargo fuzz list`).
# Each target starts from its committed seeds (fuzz/seeds/T) plus the corpus it grew in
# earlier runs (fuzz/corpus/T, not in git) and adds what it finds to fuzz/corpus/T.
# A crash leaves its input in fuzz/artifacts/T/; full logs are in fuzz/target/logs/T.log.
#
# Environment:
#   FUZZ_JOBS=N          targets run N at a time (default 1; the machine has 2 cores)
#   FUZZ_SANITIZER=S     cargo fuzz --sanitizer (default address; `none` builds and runs
#                        faster). Targets are built with debug assertions and overflow
#                        checks on (cargo fuzz -a), so arithmetic overflow is a crash.
#   FUZZ_ARGS="..."      extra libFuzzer flags, e.g. "-runs=10000" or "-max_len=8192"
#   FUZZ_DEV=1           build the targets unoptimized (cargo fuzz --dev: debug assertions
#                        and overflow checks on as with -a): about half the build time,
#                        a fraction of the executions per second. For smoke runs.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). cargo fuzz uses nightly-only
# rustc flags (-Zsanitizer, -Cpasses=sancov-module): on a stable toolchain this script
# sets RUSTC_BOOTSTRAP=1, which unlocks them (ASan's runtime ships with stable rustc).
# Exit status: 0 if no target crashed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")"

secs=600
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    secs=$1
    shift
fi
san=${FUZZ_SANITIZER:-address}
jobs=${FUZZ_JOBS:-1}
# -a: an optimized build with debug assertions and overflow checks; --dev: the same
# checks, unoptimized.
if [[ ${FUZZ_DEV:-0} == 1 ]]; then mode=(--dev); else mode=(-a); fi
export RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
all=$(cargo fuzz list)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets <<<"$all"
fi
for t in "${targets[@]}"; do
    if ! grep -qx -- "$t" <<<"$all"; then
        echo "fuzz/run.sh: no target $t (targets: $(echo $all))" >&2
        exit 2
    fi
done

echo "== building fuzz targets (sanitizer: $san, ${mode[*]})"
build_start=$SECONDS
cargo fuzz build "${mode[@]}" -s "$san"
echo "== built in $((SECONDS - build_start)) s; fuzzing ${#targets[@]} target(s) for $secs s each, $jobs at a time"

mkdir -p target/logs
run_one() {
    local t=$1 log=target/logs/$1.log
    mkdir -p "corpus/$t" "seeds/$t"
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    if cargo fuzz run "${mode[@]}" -s "$san" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 -timeout=10 ${FUZZ_ARGS:-} \
        >"$log" 2>&1; then
        echo ok >"target/logs/$t.status"
    else
        echo "CRASH (exit $?)" >"target/logs/$t.status"
    fi
    echo "   $t: $(cat "target/logs/$t.status")"
}

pids=()
for t in "${targets[@]}"; do
    rm -f "target/logs/$t.status"
    run_one "$t" &
    pids+=($!)
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
        wait -n || true
    done
done
wait

# One row per target, from libFuzzer's last status line and final stats.
failed=0
printf '\n%-16s %-8s %14s %10s %7s %7s %7s\n' TARGET STATUS EXECUTIONS EXEC/S COV FT CORPUS
for t in "${targets[@]}"; do
    log=target/logs/$t.log
    touch "$log"
    status=$(cat "target/logs/$t.status" 2>/dev/null || echo "no-status")
    [[ $status == ok ]] || failed=1
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
    printf '%-16s %-8s %14s %10s %7s %7s %7s\n' "$t" "${status%% *}" "${execs:--}" \
        "${rate:--}" "${cov:--}" "${ft:--}" "${corp:--}"
done
if [[ $failed -ne 0 ]]; then
    echo
    for t in "${targets[@]}"; do
        if [[ $(cat "target/logs/$t.status" 2>/dev/null) != ok ]]; then
            echo "== $t failed; the end of fuzz/target/logs/$t.log:"
            grep -v -E '^"|Uses: ' "target/logs/$t.log" | tail -40
            ls "artifacts/$t" 2>/dev/null | sed "s|^|   artifact: fuzz/artifacts/$t/|"
        fi
    done
    exit 1
fi
