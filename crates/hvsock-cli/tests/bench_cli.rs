//! CLI tests of `hvsock bench`: every mode briefly with `--json`, the fields checked
//! (never their timing), a server process on an hvsock address and on a Unix socket,
//! and a bad header that the server refuses while it keeps serving.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

mod common;

use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            tmp: tempfile::Builder::new()
                .prefix("hvb")
                .tempdir_in("/tmp")
                .unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::hvsock(self.path("c"), self.path("r"), args);
        c.env("TMPDIR", self.tmp.path()).stdin(Stdio::null());
        c
    }

    fn output(&self, args: &[&str]) -> Output {
        let mut child = self
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?} did not finish");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    /// Runs a bench command with `--json`; returns the parsed object.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.output(&all);
        hvsock_testkit::proc::assert_success(&out, format_args!("{args:?}"));
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.trim().lines().count(), 1, "one JSON object: {text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// Kills the server when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("field {k} missing: {v}"))
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("field {k} missing: {v}"))
}

/// The fields every report has.
fn check_common(v: &Value, mode: &str) {
    assert_eq!(v["mode"], mode, "{v}");
    for k in ["elapsed_s", "mb_per_s", "ops_per_s", "cpu_s"] {
        assert!(f(v, k) >= 0.0, "{k}: {v}");
    }
    assert!(f(v, "elapsed_s") > 0.0);
    assert!(v["target"].as_str().is_some());
    assert!(u(v, "msg_size") > 0);
}

#[test]
fn every_mode_runs_locally_with_json_and_a_baseline() {
    let env = Env::new();
    let t = env.json(&[
        "bench",
        "local",
        "--mode",
        "throughput",
        "--count",
        "50",
        "--size",
        "16K",
        "--baseline",
    ]);
    check_common(&t, "throughput");
    assert_eq!(u(&t, "bytes_sent"), 50 * 16384);
    assert_eq!(u(&t, "ops"), 50);
    assert!(f(&t, "mb_per_s") > 0.0);
    assert_eq!(u(&t["baseline"], "bytes_sent"), 50 * 16384);
    assert!(
        t["baseline"]["target"]
            .as_str()
            .unwrap()
            .starts_with("unix:")
    );
    assert_eq!(t["ratio_of"], "mb_per_s");
    assert!(f(&t, "ratio") > 0.0);

    let r = env.json(&[
        "bench",
        "local",
        "--via",
        "loopback",
        "--mode",
        "throughput",
        "--direction",
        "both",
        "--count",
        "20",
        "-P",
        "2",
    ]);
    check_common(&r, "throughput");
    assert_eq!(r["direction"], "both");
    assert_eq!(u(&r, "bytes_sent"), 2 * 20 * 65536);
    assert!(u(&r, "bytes_received") >= 2 * 20 * 65536);

    let l = env.json(&[
        "bench",
        "local",
        "--mode",
        "latency",
        "--count",
        "100",
        "--baseline",
    ]);
    check_common(&l, "latency");
    assert_eq!(u(&l, "ops"), 100);
    assert_eq!(u(&l, "msg_size"), 64);
    let lat = &l["latency_us"];
    assert!(f(lat, "p50") > 0.0 && f(lat, "p50") <= f(lat, "p99"));
    assert!(f(lat, "p99") <= f(lat, "max"));
    assert_eq!(l["ratio_of"], "latency_p50_us");

    let c = env.json(&[
        "bench", "local", "--mode", "connect", "--count", "30", "-P", "2",
    ]);
    check_common(&c, "connect");
    assert_eq!(u(&c, "ops"), 60);
    assert!(f(&c, "ops_per_s") > 0.0);
    assert!(f(&c["latency_us"], "p50") > 0.0);
    assert!(c.get("baseline").is_none());

    let s = env.json(&[
        "bench", "local", "--mode", "stress", "--count", "5", "-P", "3", "--size", "4K",
    ]);
    check_common(&s, "stress");
    assert_eq!(u(&s, "ops"), 15);
    assert_eq!(u(&s, "checksum_errors"), 0);
    assert_eq!(u(&s, "verified_bytes"), u(&s, "bytes_sent"));
    assert!(u(&s, "verified_bytes") >= 15 * 4096);
    // bench local cleans up its temp dir.
    let left: Vec<_> = std::fs::read_dir(env.tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("hvb-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_server_process_on_hvsock_and_unix_and_a_bad_header() {
    let env = Env::new();
    let out = env.output(&["service", "add", "bench", "--vsock-port", "7777"]);
    assert!(out.status.success());
    let hv = Server(
        env.cmd(&["bench", "server", "loopback:bench"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let sock = env.path("b.sock");
    let mut unix = env
        .cmd(&["bench", "server", &format!("unix:{}", sock.display())])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let unix_err = unix.stderr.take().unwrap();
    let _unix = Server(unix);
    wait_for(&sock);
    let deadline = Instant::now() + Duration::from_secs(10);
    let v = loop {
        let out = env.output(&[
            "bench",
            "client",
            "loopback:bench",
            "--mode",
            "latency",
            "--count",
            "50",
            "--json",
        ]);
        if out.status.success() {
            break serde_json::from_slice::<Value>(&out.stdout).unwrap();
        }
        assert!(Instant::now() < deadline, "the hvsock server never came up");
        std::thread::sleep(Duration::from_millis(50));
    };
    check_common(&v, "latency");
    assert_eq!(u(&v, "ops"), 50);
    assert!(v["target"].as_str().unwrap().contains("loopback:bench"));

    // Garbage instead of a header: an error reply, a line on the server's stderr...
    let mut s = UnixStream::connect(&sock).unwrap();
    s.write_all(&[0xffu8; 24]).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    assert_eq!(reply[0], b'B', "greeting");
    assert_eq!(reply[1], 1, "error status");
    let len = u16::from_le_bytes([reply[2], reply[3]]) as usize;
    let msg = String::from_utf8_lossy(&reply[4..4 + len]).into_owned();
    assert!(msg.contains("magic"), "{msg}");
    let mut line = String::new();
    let mut err = std::io::BufReader::new(unix_err);
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(line.starts_with("hvsock: bench: bad request"), "{line}");

    // ...and the server goes on serving.
    let addr = format!("unix:{}", sock.display());
    for mode in ["throughput", "connect", "stress"] {
        let v = env.json(&["bench", "client", &addr, "--mode", mode, "--count", "8"]);
        check_common(&v, mode);
        assert!(u(&v, "ops") >= 8);
    }
    let v = env.json(&[
        "bench",
        "client",
        &addr,
        "--mode",
        "throughput",
        "--direction",
        "receive",
        "--count",
        "8",
    ]);
    assert!(u(&v, "bytes_received") >= 8 * 65536);
    drop(hv);
}

#[test]
fn a_client_of_something_else_fails_with_one_line() {
    let env = Env::new();
    let none = format!("unix:{}", env.path("none.sock").display());
    let out = env.output(&["bench", "client", &none, "--count", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("hvsock: "), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
