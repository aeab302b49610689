#!/usr/bin/env bash
# Installs what the VM tests need, only when missing (idempotent):
#   Debian packages qemu-system-x86, linux-image-amd64, busybox-static, xz-utils;
#   vhost-device-vsock 0.3.0 (cargo install into <target>/vm-tools unless one is on PATH).
# Needs root (or sudo) only when a package is missing. The guest kernel is the newest
# /boot/vmlinuz-*-amd64 with a /lib/modules tree, whatever the running kernel is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

pkgs=(qemu-system-x86 linux-image-amd64 busybox-static xz-utils)
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "vm/setup.sh: installing ${missing[*]}"
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "vm/setup.sh: need root to install ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

want=0.3.0
have_backend() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -qF " $want"; }
backend=""
for b in "${HVSOCK_VM_BACKEND:-}" "$target/vm-tools/bin/vhost-device-vsock" \
    "$(command -v vhost-device-vsock || true)" "$HOME/.cargo/bin/vhost-device-vsock"; do
    if [ -n "$b" ] && have_backend "$b"; then backend="$b"; break; fi
done
if [ -z "$backend" ]; then
    echo "vm/setup.sh: cargo install vhost-device-vsock $want into $target/vm-tools"
    cargo install vhost-device-vsock --version "$want" --locked --root "$target/vm-tools"
    backend="$target/vm-tools/bin/vhost-device-vsock"
fi

kernel="$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | while read -r k; do
    v="${k#/boot/vmlinuz-}"; [ -d "/lib/modules/$v/kernel" ] && echo "$k"; done | tail -n1)"
[ -n "$kernel" ] || { echo "vm/setup.sh: no /boot/vmlinuz-*-amd64 with modules" >&2; exit 1; }
echo "vm/setup.sh: qemu $(command -v qemu-system-x86_64), backend $backend, kernel $kernel (host runs $(uname -r))"
