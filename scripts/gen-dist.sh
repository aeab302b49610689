#!/usr/bin/env bash
# Regenerates the shell completions (dist/completions/) and man pages (dist/man/) from
# the CLI's clap definitions. Rerun it after changing any command, flag or help text,
# and commit the result: scripts/test fails while dist/ is stale.
#
#   scripts/gen-dist.sh          # into dist/
#   scripts/gen-dist.sh OUT      # into OUT/completions and OUT/man (what CI compares)
#   HVSOCK_BIN=path/to/hvsock scripts/gen-dist.sh    # with that binary, no build
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}

# HVSOCK_BIN: an hvsock binary built already (scripts/test passes the tests' one).
if [ -n "${HVSOCK_BIN:-}" ]; then
    bin=$HVSOCK_BIN
else
    cargo build -q -p hvsock-cli --bin hvsock
    bin=${CARGO_TARGET_DIR:-target}/debug/hvsock
fi

rm -rf "$out/completions" "$out/man"
mkdir -p "$out/completions" "$out/man"
# The file names each shell's loader looks for.
"$bin" completions bash > "$out/completions/hvsock.bash"
"$bin" completions zsh > "$out/completions/_hvsock"
"$bin" completions fish > "$out/completions/hvsock.fish"
"$bin" completions elvish > "$out/completions/hvsock.elv"
"$bin" completions powershell > "$out/completions/_hvsock.ps1"
"$bin" man --out-dir "$out/man"
