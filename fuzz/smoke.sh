#!/usr/bin/env bash
# CI fuzz smoke: every target for a few seconds (FUZZ_SMOKE_SECONDS, default 10) from the
# committed seeds, after one build. Fails if any target crashes. Installs cargo-fuzz if
# it is missing. Built without a sanitizer by default (FUZZ_SANITIZER=address to change):
# the parsers are safe Rust, and the smaller build keeps the whole smoke, build
# included, under about 3 minutes on 2 cores. Every target of `cargo fuzz list` runs,
# copy_stream (the copy receiver against a hostile sender, on a temp dir) included.
# The long runs use fuzz/run.sh.
set -euo pipefail
cd "$(dirname "$0")"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export FUZZ_SANITIZER=${FUZZ_SANITIZER:-none}
exec ./run.sh "${FUZZ_SMOKE_SECONDS:-10}"
