#!/usr/bin/env bash
# Installs what the Windows stage (scripts/windows/test) needs, only when missing
# (idempotent), on Debian 12:
#   Debian's Rust 1.96 (rustc-web, cargo-web, rust-web-src, rust-web-clippy) for
#   -Zbuild-std of x86_64-pc-windows-gnu (rustup's toolchain has no Windows std here),
#   the mingw-w64 linker and wine64 to run the .exe files;
#   a wine prefix (HVSOCK_WINEPREFIX, default target/wine) with the
#   bcryptprimitives.dll stand-in built from scripts/windows/bcryptprimitives.c
#   (wine 8.0 lacks the DLL, and every Rust >= 1.78 .exe imports ProcessPrng from it).
# Needs root (or sudo) only when a package is missing. Quiet when all is in place;
# on a failure it prints the failing step's output and exits non-zero.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
prefix="${HVSOCK_WINEPREFIX:-$root/target/wine}"
case "$prefix" in /*) ;; *) prefix="$root/$prefix" ;; esac
rust_version=1.96.0+dfsg1-1~deb12u2
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver64

log="$(mktemp /tmp/hvsock-win-setup.XXXXXX)"
trap 'rm -f "$log"' EXIT
# Runs a step with its output in $log; on failure prints it and stops.
step() {
    local what="$1"
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "scripts/windows/setup.sh: FAILED: $what" >&2
        echo "  command: $*" >&2
        sed 's/^/  | /' "$log" >&2
        exit 1
    fi
}

installed_version() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null || true; }

# Packages: the Rust ones at exactly the pinned version (std's source must match rustc).
want=()
for p in rustc-web cargo-web rust-web-src rust-web-clippy; do
    [ "$(installed_version "$p")" = "ii  $rust_version" ] || want+=("$p=$rust_version")
done
for p in gcc-mingw-w64-x86-64 wine64; do
    case "$(installed_version "$p")" in "ii "*) ;; *) want+=("$p") ;; esac
done
if ((${#want[@]})); then
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "scripts/windows/setup.sh: need root to install ${want[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine's package lists may predate the pinned version: update only then.
    # (`apt-cache show pkg=version` exits 0 even when the version is unknown: ask madison.)
    if ! apt-cache madison rustc-web 2>/dev/null | grep -qF "$rust_version"; then
        step "apt-get update" "${sudo[@]}" apt-get update -q
    fi
    step "apt-get install ${want[*]}" "${sudo[@]}" apt-get install -y -q --no-install-recommends "${want[@]}"
fi
for f in /usr/bin/cargo /usr/bin/rustc /usr/bin/cargo-clippy /usr/lib/rustlib/src/rust/library/std \
    "$wine" "$wineserver" "$(command -v x86_64-w64-mingw32-gcc || echo x86_64-w64-mingw32-gcc)"; do
    [ -e "$f" ] || { echo "scripts/windows/setup.sh: $f missing after the installs" >&2; exit 1; }
done
/usr/bin/rustc --version | grep -q '^rustc 1\.96\.' ||
    { echo "scripts/windows/setup.sh: /usr/bin/rustc is not 1.96: $(/usr/bin/rustc --version)" >&2; exit 1; }

# The wine prefix. wineboot writes system.reg through wineserver, which may outlive it:
# wait for that server (this prefix's only) before calling the prefix ready.
export WINEPREFIX="$prefix" WINEDEBUG=-all
# No Mono/Gecko installer prompts: nothing here needs .NET or HTML.
export WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$prefix/.hvsock-ready" ]; then
    mkdir -p "$prefix"
    step "wineboot --init (prefix $prefix)" "$wine" wineboot --init
    step "wineserver -w (prefix $prefix)" "$wineserver" -w
    [ -f "$prefix/system.reg" ] && [ -d "$prefix/drive_c/windows/system32" ] ||
        { echo "scripts/windows/setup.sh: wineboot left no prefix in $prefix" >&2; exit 1; }
    touch "$prefix/.hvsock-ready"
fi

# The shim, rebuilt when its source is newer than the DLL.
dll="$prefix/drive_c/windows/system32/bcryptprimitives.dll"
src="$root/scripts/windows/bcryptprimitives.c"
if [ ! -f "$dll" ] || [ "$src" -nt "$dll" ]; then
    step "build $dll" x86_64-w64-mingw32-gcc -O2 -shared -s -o "$dll.tmp" "$src" -ladvapi32
    mv "$dll.tmp" "$dll"
fi
