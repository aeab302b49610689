#!/usr/bin/env bash
# Reproduces the goal table of BENCHMARKS.md (issue 6) from a clean checkout, in one
# go, on loopback only:
#   (a) one stream, 64 KiB writes, throughput: hvsock vs a raw Unix socket
#   (b) connect + accept + first byte per second: hvsock vs raw Unix
#   (c) ping-pong 64 B, p50 round trip: hvsock vs raw Unix
#   (d) 1 GiB through `hvsock relay tcp:... unix:...` vs
#       `socat TCP-LISTEN:...,fork,reuseaddr UNIX-CONNECT:...`: throughput, and the CPU
#       seconds of the relay process (utime + stime + reaped children, /proc/PID/stat)
# (a)-(c) use `hvsock bench local --baseline --rounds 10` (a local partition talking
# to the host, and the same workload over a plain Unix socket in the same process, in
# 10 alternating slices); each is run BENCH_ROUNDS times and the median ratio is kept. (d) moves the data with
# `hvsock bench client tcp:...` into `hvsock bench server unix:...`.
#
# Writes BENCHMARKS.md (machine, table, then scripts/bench-notes.md verbatim).
# Environment: BENCH_DURATION (default 3s), BENCH_ROUNDS (default 5), BENCH_OUT
# (default BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${BENCH_DURATION:-3s}
ROUNDS=${BENCH_ROUNDS:-5}
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}

echo "== build (release)"
cargo build --release -p hvsock-cli
B=$ROOT/target/release/hvsock

if ! command -v socat >/dev/null; then
    echo "== installing socat"
    apt-get update -qq && apt-get install -y -qq socat
fi
command -v python3 >/dev/null || { echo "bench.sh: python3 is needed" >&2; exit 1; }

T=$(mktemp -d /tmp/hvbench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
export HVSOCK_CONFIG_DIR=$T/c HVSOCK_RUNTIME_DIR=$T/r
unset HVSOCK_PARTITION HVSOCK_GUEST

for r in $(seq 1 "$ROUNDS"); do
    echo "== round $r/$ROUNDS: (a) throughput, (b) connect, (c) latency"
    "$B" bench local --mode throughput --size 64KiB --duration "$DUR" --rounds 10 --baseline --json >"$T/a.$r.json"
    "$B" bench local --mode connect --duration "$DUR" --rounds 10 --baseline --json >"$T/b.$r.json"
    "$B" bench local --mode latency --size 64 --duration "$DUR" --rounds 10 --baseline --json >"$T/c.$r.json"
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "bench.sh: nothing listens on port $1" >&2
    return 1
}
# CPU ticks of a process: utime + stime + cutime + cstime (fields 14-17).
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat"
}
TCK=$(getconf CLK_TCK)

"$B" bench server "unix:$T/sink.sock" 2>>"$T/sink.err" &
PIDS+=($!)
for _ in $(seq 1 100); do [ -S "$T/sink.sock" ] && break; sleep 0.05; done

# One 1 GiB transfer through a relay process; writes NAME.R.json with the client's
# figures plus the relay's CPU seconds.
relay_run() { # NAME ROUND PORT PID
    local name=$1 r=$2 port=$3 pid=$4
    wait_port "$port"
    local c0 c1
    c0=$(cpu_ticks "$pid")
    "$B" bench client "tcp:127.0.0.1:$port" --mode throughput --size 64KiB --count 16384 --json >"$T/$name.$r.raw"
    sleep 0.3 # let socat's forked child exit and be reaped into cutime/cstime
    c1=$(cpu_ticks "$pid")
    python3 - "$T/$name.$r.raw" "$(( c1 - c0 ))" "$TCK" >"$T/$name.$r.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["relay_cpu_s"] = int(sys.argv[2]) / int(sys.argv[3])
print(json.dumps(d))
EOF
}

for r in $(seq 1 "$ROUNDS"); do
    echo "== round $r/$ROUNDS: (d) 1 GiB through hvsock relay, then socat"
    P=$(free_port)
    # (stderr kept aside: wait_port's probe connection shows up there as a reset)
    "$B" relay "tcp:127.0.0.1:$P" "unix:$T/sink.sock" 2>>"$T/relay.err" &
    RP=$!
    relay_run relay "$r" "$P" "$RP"
    kill "$RP"; wait "$RP" 2>/dev/null || true
    P=$(free_port)
    socat "TCP-LISTEN:$P,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$T/sink.sock" 2>>"$T/socat.err" &
    SP=$!
    relay_run socat "$r" "$P" "$SP"
    kill "$SP"; wait "$SP" 2>/dev/null || true
done

echo "== writing $OUT"
python3 - "$T" "$ROUNDS" "$OUT" "$ROOT/scripts/bench-notes.md" <<'EOF'
import json, os, platform, statistics, subprocess, sys, datetime
tmp, rounds, out, notes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
load = lambda n, r: json.load(open(f"{tmp}/{n}.{r}.json"))
def median_by(name, key):
    runs = sorted((load(name, r) for r in range(1, rounds + 1)), key=key)
    return runs[len(runs) // 2]

a = median_by("a", lambda d: d["ratio"])
b = median_by("b", lambda d: d["ratio"])
c = median_by("c", lambda d: d["ratio"])
relay = [load("relay", r) for r in range(1, rounds + 1)]
socat = [load("socat", r) for r in range(1, rounds + 1)]
med = lambda xs: statistics.median(xs)
r_mb, s_mb = med([d["mb_per_s"] for d in relay]), med([d["mb_per_s"] for d in socat])
r_cpu, s_cpu = med([d["relay_cpu_s"] for d in relay]), med([d["relay_cpu_s"] for d in socat])

cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
rows = [
    ("(a) one stream, 64 KiB writes, throughput",
     f"{a['mb_per_s']:.0f} MB/s", f"{a['baseline']['mb_per_s']:.0f} MB/s (raw Unix socket)",
     a["ratio"], ">= 0.95x", a["ratio"] >= 0.95),
    ("(b) connect + accept + first byte, per second",
     f"{b['ops_per_s']:.0f} /s", f"{b['baseline']['ops_per_s']:.0f} /s (raw Unix connect/accept)",
     b["ratio"], ">= 0.8x", b["ratio"] >= 0.8),
    ("(c) ping-pong 64 B, p50 round trip",
     f"{c['latency_us']['p50']:.1f} us", f"{c['baseline']['latency_us']['p50']:.1f} us (raw Unix socket)",
     c["ratio"], "<= 1.2x", c["ratio"] <= 1.2),
    ("(d) `hvsock relay tcp: unix:`, 1 GiB, throughput",
     f"{r_mb:.0f} MB/s", f"{s_mb:.0f} MB/s (socat)", r_mb / s_mb, ">= 2x", r_mb / s_mb >= 2),
    ("(d) same, CPU seconds of the relay process",
     f"{r_cpu:.2f} s", f"{s_cpu:.2f} s (socat)", r_cpu / s_cpu if s_cpu else float("inf"),
     "<= 0.5x", s_cpu > 0 and r_cpu / s_cpu <= 0.5),
]
kernel = platform.release()
date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "?"
with open(out + ".tmp", "w") as f:
    f.write("# Benchmarks\n\n")
    f.write("Produced by `scripts/bench.sh` (do not edit the table by hand; notes come from "
            "`scripts/bench-notes.md`).\n\n")
    f.write(f"- machine: {os.cpu_count()} CPUs (nproc), {cpu}\n")
    f.write(f"- kernel: Linux {kernel}\n")
    f.write(f"- date: {date}, commit {rev}, release build\n")
    f.write(f"- method: (a)-(c) median ratio of {rounds} runs of `hvsock bench local ... --baseline` "
            f"(local partition -> host vs the same workload on a raw Unix socket, same process); "
            f"(d) median of {rounds} transfers of 1 GiB (64 KiB writes) by `hvsock bench client tcp:...` "
            f"through the relay into `hvsock bench server unix:...`\n\n")
    f.write("| measure | hvsock | baseline | ratio | goal | met? |\n|---|---|---|---|---|---|\n")
    for name, m, base, ratio, goal, ok in rows:
        f.write(f"| {name} | {m} | {base} | {ratio:.2f}x | {goal} | {'yes' if ok else 'no'} |\n")
    f.write("\nSecondary figures of the same runs:\n\n")
    ratios = lambda n: ", ".join(f"{load(n, r)['ratio']:.2f}" for r in range(1, rounds + 1))
    f.write(f"- ratio of each run: (a) {ratios('a')}; (b) {ratios('b')}; (c) {ratios('c')}\n")
    per_gb = lambda d: d["cpu_s"] / max((d["bytes_sent"] + d["bytes_received"]) / 1e9, 1e-9)
    f.write(f"- (a) CPU seconds per GB moved (client and server threads): hvsock {per_gb(a):.3f}, "
            f"baseline {per_gb(a['baseline']):.3f}\n")
    f.write(f"- (b) connect latency p50 {b['latency_us']['p50']:.1f} us (baseline "
            f"{b['baseline']['latency_us']['p50']:.1f} us)\n")
    f.write(f"- (c) p99 {c['latency_us']['p99']:.1f} us (baseline {c['baseline']['latency_us']['p99']:.1f} us)\n")
    f.write("- (d) per run, relay: " + ", ".join(f"{d['mb_per_s']:.0f} MB/s {d['relay_cpu_s']:.2f} CPU s" for d in relay)
            + "; socat: " + ", ".join(f"{d['mb_per_s']:.0f} MB/s {d['relay_cpu_s']:.2f} CPU s" for d in socat) + "\n")
    if os.path.exists(notes):
        f.write("\n" + open(notes).read())
os.replace(out + ".tmp", out)
for name, m, base, ratio, goal, ok in rows:
    print(f"{name}: {m} vs {base}: {ratio:.2f}x (goal {goal}: {'met' if ok else 'NOT met'})")
EOF
