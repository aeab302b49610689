#!/usr/bin/env bash
# CI fuzz smoke: every target for a few seconds (FUZZ_SMOKE_SECONDS, default 5), two at a
# time (FUZZ_JOBS), from the committed seeds, after one build. Fails if any target
# crashes. Installs cargo-fuzz if it is missing. Built unoptimized (FUZZ_DEV=1, debug
# assertions and overflow checks on) and without a sanitizer (FUZZ_SANITIZER=address to
# change): the parsers are safe Rust, and the smaller build keeps the whole smoke, build
# included, to about 2 minutes on 2 cores. What a smoke run checks is that every target
# builds and runs its seeds and some mutations of them without a crash; fuzz/run.sh's
# long optimized runs do the searching. Every target of `cargo fuzz list` runs,
# copy_stream (the copy receiver against a hostile sender, on a temp dir) included.
# The long runs use fuzz/run.sh.
set -euo pipefail
cd "$(dirname "$0")"
if ! cargo fuzz --version >/dev/null 2>&1; then
    # An unoptimized build of the tool (shorter to build): it only drives cargo and
    # libFuzzer.
    cargo install cargo-fuzz --locked --debug
fi
export FUZZ_SANITIZER=${FUZZ_SANITIZER:-none} FUZZ_DEV=${FUZZ_DEV:-1} FUZZ_JOBS=${FUZZ_JOBS:-2}
exec ./run.sh "${FUZZ_SMOKE_SECONDS:-5}"
