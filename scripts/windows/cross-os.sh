#!/usr/bin/env bash
# Cross-OS check of the integration service: the Windows `hvsock.exe exec` and `cp`,
# run under wine, drive the LINUX `hvsock agent`.
#
#   scripts/windows/cross-os.sh LINUX_HVSOCK WINDOWS_HVSOCK_EXE
#
# Wine has no AF_HYPERV, so the Windows side runs with the library's test-only
# `inet-standin` feature: HVSOCK_INET_STANDIN=127.0.0.1:PORT turns every AF_HYPERV
# socket into TCP to that port. On Linux, `hvsock agent` runs in the local partition
# `vm` of a throw-away config, and `hvsock relay` forwards tcp:127.0.0.1:PORT to the
# agent's service there; so the bytes between hvsock.exe and the agent are the agent
# protocol, unchanged. The environment (WINEPREFIX, WINEDEBUG) is scripts/windows/test's.
# Every check prints PASS or FAIL with what was expected; the script exits non-zero if
# any failed.
set -uo pipefail
lin="${1:?usage: cross-os.sh LINUX_HVSOCK WINDOWS_HVSOCK_EXE}"
win="${2:?usage: cross-os.sh LINUX_HVSOCK WINDOWS_HVSOCK_EXE}"
wine="${HVSOCK_WINE:-/usr/lib/wine/wine64}"
: "${WINEPREFIX:?WINEPREFIX must name the prefix scripts/windows/setup.sh made}"
limit=60 # seconds any one command may take

fails=()
pass() { echo "PASS  $1"; }
fail() {
    local what="$1"
    echo "FAIL  $what" >&2
    shift
    for l in "$@"; do printf '      %s\n' "$l" >&2; done
    fails+=("$what")
}
die() { echo "cross-os: $*" >&2; exit 1; }

tmp="$(mktemp -d /tmp/hvsock-xos.XXXXXX)"
# The Windows side's files live in the prefix's C: drive, under a name of our own.
wname="hvsock-xos-$$-$RANDOM"
wdir="$WINEPREFIX/drive_c/$wname"
wwin="C:\\$wname"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$tmp" "$wdir"
}
trap cleanup EXIT
mkdir -p "$tmp/config" "$tmp/run" "$tmp/guest" "$wdir/config" "$wdir/run"

# Linux side: its own config and runtime dirs, never /etc/hvsock or /run/hvsock.
L() { HVSOCK_CONFIG_DIR="$tmp/config" HVSOCK_RUNTIME_DIR="$tmp/run" timeout "$limit" "$lin" "$@"; }

# Waits until FILE has a line matching REGEX (or gives up after $limit s).
wait_line() {
    local file="$1" re="$2" i
    for ((i = 0; i < limit * 10; i++)); do
        grep -qE "$re" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

L agent --install-service >"$tmp/install.out" 2>&1 || die "hvsock agent --install-service: $(cat "$tmp/install.out")"
L vm add vm --local >"$tmp/vm.out" 2>&1 || die "hvsock vm add vm --local: $(cat "$tmp/vm.out")"
vmid="$(grep -oiE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$tmp/vm.out" | head -n1)"
[ -n "$vmid" ] || die "no VM id in: $(cat "$tmp/vm.out")"
# Key authentication, the agent's default: hvsock.exe's key, made in its own config dir,
# is authorized in the Linux agent's before it starts.
Wkey() { HVSOCK_CONFIG_DIR="$wwin\\config" HVSOCK_RUNTIME_DIR="$wwin\\run" timeout "$limit" "$wine" "$win" key "$@"; }
Wkey generate >"$tmp/key.out" 2>&1 || die "hvsock.exe key generate: $(cat "$tmp/key.out")"
Wkey show 2>"$tmp/key.err" | tr -d '\r' >>"$tmp/config/authorized_keys"
grep -q '^hvsock-ed25519 ' "$tmp/config/authorized_keys" ||
    die "hvsock.exe key show printed no key line: $(cat "$tmp/key.err")"
(cd "$tmp/guest" && HVSOCK_PARTITION=vm HVSOCK_CONFIG_DIR="$tmp/config" HVSOCK_RUNTIME_DIR="$tmp/run" \
    exec "$lin" agent -v </dev/null >/dev/null 2>"$tmp/agent.log") &
pids+=($!)
wait_line "$tmp/agent.log" serving || die "the agent did not start: $(cat "$tmp/agent.log")"
HVSOCK_CONFIG_DIR="$tmp/config" HVSOCK_RUNTIME_DIR="$tmp/run" \
    "$lin" relay -v tcp:127.0.0.1:0 "hvsock:vm:00004856-facb-11e6-bd58-64006a7986d3" \
    </dev/null >/dev/null 2>"$tmp/relay.log" &
pids+=($!)
wait_line "$tmp/relay.log" 'listening on tcp:127\.0\.0\.1:[0-9]+' || die "the relay did not start: $(cat "$tmp/relay.log")"
port="$(grep -oE 'listening on tcp:127\.0\.0\.1:[0-9]+' "$tmp/relay.log" | head -n1 | sed 's/.*://')"
# A plain service too: a Linux listener in vm answering one line, behind its own relay.
L service add xos-echo --vsock-port 5000 >"$tmp/svc.out" 2>&1 || die "hvsock service add: $(cat "$tmp/svc.out")"
HVSOCK_PARTITION=vm HVSOCK_CONFIG_DIR="$tmp/config" HVSOCK_RUNTIME_DIR="$tmp/run" \
    "$lin" listen -v -k parent:vsock:5000 --exec sh -c 'read -r l; echo "linux got $l"' \
    </dev/null >/dev/null 2>"$tmp/listen.log" &
pids+=($!)
wait_line "$tmp/listen.log" listening || die "the Linux listener did not start: $(cat "$tmp/listen.log")"
HVSOCK_CONFIG_DIR="$tmp/config" HVSOCK_RUNTIME_DIR="$tmp/run" \
    "$lin" relay -v tcp:127.0.0.1:0 hvsock:vm:vsock:5000 </dev/null >/dev/null 2>"$tmp/relay2.log" &
pids+=($!)
wait_line "$tmp/relay2.log" 'listening on tcp:127\.0\.0\.1:[0-9]+' || die "the second relay did not start: $(cat "$tmp/relay2.log")"
echo_port="$(grep -oE 'listening on tcp:127\.0\.0\.1:[0-9]+' "$tmp/relay2.log" | head -n1 | sed 's/.*://')"
echo "cross-os: Linux agent in local partition vm ($vmid), relay tcp:127.0.0.1:$port -> agent"

# Windows side: its own config and runtime dirs in C:, every AF_HYPERV socket the
# TCP stand-in. The VM is named by its id: under wine there is no HCS to name VMs.
W() {
    HVSOCK_CONFIG_DIR="$wwin\\config" HVSOCK_RUNTIME_DIR="$wwin\\run" \
        HVSOCK_INET_STANDIN="127.0.0.1:${standin_port:-$port}" timeout "$limit" "$wine" "$win" "$@"
}
vm="$vmid"
show() { sed -n '1,20p' "$1" 2>/dev/null | tr -d '\r'; }

# 0. The .exe really has the stand-in: a bad HVSOCK_INET_STANDIN is refused by name
# (without the feature the variable is ignored and AF_HYPERV fails instead).
HVSOCK_INET_STANDIN=not-an-address timeout "$limit" "$wine" "$win" connect "$vm:vsock:5000" \
    </dev/null >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" != 0 ] && grep -q HVSOCK_INET_STANDIN "$tmp/e"; then
    pass "hvsock.exe has the inet-standin feature (a bad HVSOCK_INET_STANDIN is refused)"
else
    fail "hvsock.exe has the inet-standin feature" "exit $rc, expected non-zero naming HVSOCK_INET_STANDIN" \
        "stderr: $(show "$tmp/e")" "(build it with --features hvsock/inet-standin)"
fi

# 0b. A plain connect: hvsock.exe connect to a Linux `hvsock listen --exec`.
printf 'ping from windows\n' | standin_port=$echo_port W connect "$vm:vsock:5000" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" = 0 ] && cmp -s "$tmp/o" <(printf 'linux got ping from windows\n'); then
    pass "connect: hvsock.exe connect reaches a Linux hvsock listener and reads its answer"
else
    fail "connect to a Linux listener" "exit $rc, stdout: $(show "$tmp/o") (expected 'linux got ping from windows')" \
        "stderr: $(show "$tmp/e")" "listener log: $(tail -n 3 "$tmp/listen.log")"
fi

# 1. stdout, stderr and the exit code, each on its own stream.
W exec "$vm" -- sh -c 'echo out; echo err >&2; exit 7' >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" = 7 ] && cmp -s "$tmp/o" <(printf 'out\n') && grep -qx err "$tmp/e" && ! grep -q out "$tmp/e"; then
    pass "exec: stdout 'out', stderr 'err', exit code 7"
else
    fail "exec: stdout/stderr/exit code" "exit $rc (expected 7)" "stdout: $(show "$tmp/o") (expected 'out')" \
        "stderr: $(show "$tmp/e") (expected 'err')"
fi

# 2. stdin piped through: 4 MiB of random bytes hashed in the guest.
head -c 4194304 /dev/urandom >"$tmp/blob"
want="$(sha256sum <"$tmp/blob" | cut -d' ' -f1)"
W exec "$vm" -- sha256sum <"$tmp/blob" >"$tmp/o" 2>"$tmp/e"
rc=$?
got="$(cut -d' ' -f1 <"$tmp/o")"
if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
    pass "exec: 4 MiB on stdin reach the guest intact (sha256 $want)"
else
    fail "exec: stdin piped through" "exit $rc, sha256 in the guest '$got', expected '$want'" "stderr: $(show "$tmp/e")"
fi

# 3. exit codes of a missing command and a signal, as on Linux.
W exec "$vm" -- /nonexistent/cmd >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" = 127 ]; then pass "exec: a missing command exits 127"; else
    fail "exec: a missing command exits 127" "exit $rc" "stderr: $(show "$tmp/e")"
fi

# 4. cp of a Windows tree up to the guest and back down. The tree has a subdir, an
# empty dir, a name with a space, an empty file and binary contents.
mk_tree() {
    mkdir -p "$1/sub/deeper" "$1/empty dir"
    printf 'hello from windows\n' >"$1/a.txt"
    head -c 300000 /dev/urandom >"$1/sub/b.bin"
    : >"$1/sub/deeper/empty"
    printf 'x\ny\n' >"$1/with space.txt"
}
mk_tree "$wdir/tree"
same_tree() { diff -r "$1" "$2" >"$tmp/diff" 2>&1; }

# 4a. Up, with a relative Windows path (.\tree) from a Windows working directory.
mkdir -p "$tmp/guest/up1"
(cd "$wdir" && W cp -r '.\tree' "$vm:$tmp/guest/up1") >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" = 0 ] && same_tree "$wdir/tree" "$tmp/guest/up1/tree"; then
    pass "cp -r .\\tree vm:DIR: the tree lands as DIR/tree, names and contents identical"
else
    fail "cp -r .\\tree up" "exit $rc" "stderr: $(show "$tmp/e")" "diff: $(show "$tmp/diff")"
fi

# 4b. Up, with an absolute drive path (C:\...\tree) to a new name.
W cp -r "$wwin\\tree" "$vm:$tmp/guest/up2" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" = 0 ] && same_tree "$wdir/tree" "$tmp/guest/up2"; then
    pass "cp -r C:\\...\\tree vm:NEW: the tree becomes NEW, identical"
else
    fail "cp -r C:\\...\\tree up" "exit $rc" "stderr: $(show "$tmp/e")" "diff: $(show "$tmp/diff")"
fi

# 4c. Down into an existing Windows directory (C:\...\down): lands under it.
mkdir -p "$wdir/down"
W cp -r "$vm:$tmp/guest/up2" "$wwin\\down" >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" = 0 ] && same_tree "$wdir/tree" "$wdir/down/up2"; then
    pass "cp -r vm:DIR C:\\...\\down: the tree lands under down, identical to the original"
else
    fail "cp -r down into a Windows dir" "exit $rc" "stderr: $(show "$tmp/e")" "diff: $(show "$tmp/diff")" \
        "down has: $(ls -A "$wdir/down" 2>&1 | tr '\n' ' ')"
fi

# 4d. One file down into a Windows directory given relative (.\dl): lands as dl\b.bin.
mkdir -p "$wdir/dl"
(cd "$wdir" && W cp "$vm:$tmp/guest/up1/tree/sub/b.bin" '.\dl') >"$tmp/o" 2>"$tmp/e"
rc=$?
if [ "$rc" = 0 ] && cmp -s "$wdir/tree/sub/b.bin" "$wdir/dl/b.bin"; then
    pass "cp vm:FILE .\\dl: the file lands as dl\\b.bin, identical"
else
    fail "cp of one file down into .\\dl" "exit $rc" "stderr: $(show "$tmp/e")" \
        "dl has: $(ls -A "$wdir/dl" 2>&1 | tr '\n' ' ')"
fi

# 5. The agent is still serving after all that.
if kill -0 "${pids[0]}" 2>/dev/null; then pass "the Linux agent is still running"; else
    fail "the Linux agent is still running" "agent log: $(tail -n 5 "$tmp/agent.log")"
fi

if ((${#fails[@]})); then
    echo "cross-os: ${#fails[@]} check(s) FAILED: ${fails[*]}" >&2
    echo "cross-os: agent log (last lines):" >&2
    tail -n 20 "$tmp/agent.log" | sed 's/^/      /' >&2
    exit 1
fi
echo "cross-os: all checks passed"
