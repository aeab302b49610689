#![cfg(unix)]
//! `hvsock stats` over real processes: the counters of two client processes add up,
//! a killed process's counters vanish, and `--prometheus` parses.

mod common;
use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};

struct Env(TempEnv);

impl Env {
    fn new() -> Env {
        let e = Env(TempEnv::in_tmp("hvst"));
        e.ok(&["service", "add", "echo", "--vsock-port", "5000"]);
        e.ok(&["vm", "add", "a", "--local"]);
        e
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        hvsock(&self.0.cfg, &self.0.run, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = limited::run(self.cmd(args), b"");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `hvsock stats --json ARGS`: the one row it prints.
    fn row(&self, args: &[&str]) -> Value {
        let mut a = vec!["stats", "--json"];
        a.extend_from_slice(args);
        let v: Value = serde_json::from_str(&self.ok(&a)).unwrap();
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{v}");
        rows[0].clone()
    }

    /// `listen any:echo -k --exec cat`, once it listens.
    fn listener(&self) -> Child {
        let mut c = self
            .cmd(&["listen", "any:echo", "-k", "-v", "--exec", "cat"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(c.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("listening") {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "listen ended");
        }
        // Keep reading stderr so that the listener never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        c
    }

    /// A client in partition a whose connection stays open: one line echoed first.
    fn client(&self) -> Child {
        let mut c = self
            .cmd(&["connect", "parent:echo"])
            .env("HVSOCK_PARTITION", "a")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        c.stdin.as_mut().unwrap().write_all(b"hi\n").unwrap();
        let mut got = [0u8; 3];
        c.stdout.as_mut().unwrap().read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hi\n");
        c
    }
}

fn n(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

#[test]
fn two_processes_add_up_and_a_killed_ones_counters_vanish() {
    let env = Env::new();
    let mut listener = env.listener();
    let mut c1 = env.client();
    let mut c2 = env.client();
    // The clients' side: two processes, one row (echo, parent).
    let r = env.row(&["--service", "echo", "--vm", "parent"]);
    assert_eq!((n(&r, "connected"), n(&r, "open")), (2, 2), "{r}");
    assert_eq!((n(&r, "bytes_out"), n(&r, "bytes_in")), (6, 6), "{r}");
    // The listener's side, by the VM's name (and by its GUID).
    let r = env.row(&["--service", "echo", "--vm", "a"]);
    assert_eq!((n(&r, "accepted"), n(&r, "open")), (2, 2), "{r}");
    let id = r["vm_id"].as_str().unwrap().to_string();
    assert_eq!(env.row(&["--vm", &id.to_uppercase()])["vm"], "a");
    // SIGKILL: no exit hook ran, the file stays, and readers ignore it.
    c1.kill().unwrap();
    c1.wait().unwrap();
    let r = env.row(&["--service", "echo", "--vm", "parent"]);
    assert_eq!((n(&r, "connected"), n(&r, "open")), (1, 1), "{r}");
    // The table says the same in words.
    let table = env.ok(&["stats", "--vm", "parent"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("SERVICE"), "{table}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&cells[..5], ["echo", "parent", "0", "1", "1"], "{table}");
    drop(c2.stdin.take());
    c2.wait().unwrap();
    let _ = listener.kill();
    let _ = listener.wait();
    let v: Value = serde_json::from_str(&env.ok(&["stats", "--json"])).unwrap();
    assert_eq!(v["processes"], 0, "{v}");
}

#[test]
fn prometheus_output_parses_with_the_counts() {
    let env = Env::new();
    let mut listener = env.listener();
    let mut c = env.client();
    env.ok(&["service", "disable", "echo"]);
    let out = limited::run(
        {
            let mut k = env.cmd(&["connect", "parent:echo"]);
            k.env("HVSOCK_PARTITION", "a");
            k
        },
        b"",
    );
    assert!(!out.status.success());
    let text = env.ok(&["stats", "--prometheus"]);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let found: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}\n{text}");
        match found[0].value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{other:?}"),
        }
    };
    let a = [("service", "echo"), ("vm", "a")];
    let with = |extra: (&'static str, &'static str)| {
        let mut v = a.to_vec();
        v.push(extra);
        v
    };
    assert_eq!(
        value("hvsock_connections_total", &with(("result", "accepted"))),
        1.0
    );
    assert_eq!(
        value(
            "hvsock_connections_total",
            &with(("result", "refused_disabled"))
        ),
        1.0
    );
    assert_eq!(value("hvsock_connections_open", &a), 1.0);
    let parent = [("service", "echo"), ("vm", "parent"), ("direction", "out")];
    assert_eq!(value("hvsock_bytes_total", &parent), 3.0);
    assert_eq!(value("hvsock_processes", &[]), 2.0);
    assert!(
        scrape
            .docs
            .get("hvsock_connections_total")
            .is_some_and(|d| !d.is_empty())
    );
    drop(c.stdin.take());
    let _ = c.wait();
    let _ = listener.kill();
    let _ = listener.wait();
}

#[test]
fn stats_serve_answers_metrics_over_http() {
    let env = Env::new();
    let mut listener = env.listener();
    let mut server = env
        .cmd(&["stats", "serve", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("{line}"));
    let hostport = url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics");
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(hostport).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp
    };
    let resp = get("/metrics");
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let procs = scrape
        .samples
        .iter()
        .find(|s| s.metric == "hvsock_processes")
        .unwrap();
    assert!(matches!(procs.value, prometheus_parse::Value::Gauge(v) if v == 1.0));
    assert!(get("/other").starts_with("HTTP/1.1 404"));
    let _ = server.kill();
    let _ = server.wait();
    let _ = listener.kill();
    let _ = listener.wait();
}

/// `--log-format json`: every stderr line is a JSON object with the documented fields
/// (README "Observing a host", `log.rs`): accepts and closes at DEBUG, refusals at INFO.
#[test]
fn json_log_lines_are_valid_json_with_the_documented_fields() {
    let env = Env::new();
    let log = env.0.tmp.path().join("listen.log");
    let mut listener = env
        .cmd(&["--log-format", "json", "listen", "any:echo", "-k"])
        .env("HVSOCK_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let run_a = |input: &[u8]| {
        let mut k = env.cmd(&["connect", "parent:echo"]);
        k.env("HVSOCK_PARTITION", "a");
        limited::run(k, input)
    };
    // The listener may not listen yet: retry until the first connect goes through.
    limited::wait_for("the listener", || run_a(b"hi\n").status.success());
    limited::wait_for("the close line", || {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("connection closed")
    });
    env.ok(&["service", "disable", "echo"]);
    assert!(!run_a(b"x").status.success());
    limited::wait_for("the refusal line", || {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("connection refused")
    });
    let _ = listener.kill();
    let _ = listener.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    for v in &lines {
        for k in ["timestamp", "level", "target", "fields"] {
            assert!(v.get(k).is_some(), "{k} in {v}");
        }
    }
    let find = |msg: &str| {
        lines
            .iter()
            .find(|v| v["fields"]["message"] == msg)
            .unwrap_or_else(|| panic!("{msg} in {text}"))
            .clone()
    };
    let refused = find("connection refused");
    assert_eq!(refused["level"], "INFO");
    assert_eq!(refused["target"], "hvsock::accept");
    let f = &refused["fields"];
    assert_eq!(
        (f["reason"].as_str(), f["peer_name"].as_str()),
        (Some("disabled"), Some("a"))
    );
    assert_eq!(f["service_name"], "echo");
    assert!(
        f["peer_vm"]
            .as_str()
            .unwrap()
            .parse::<hvsock::VmId>()
            .is_ok()
    );
    let closed = find("connection closed");
    assert_eq!(closed["level"], "DEBUG");
    let f = &closed["fields"];
    assert_eq!(
        (n(f, "bytes_in"), f["service_name"].as_str()),
        (3, Some("echo"))
    );
    assert!(f["duration_ms"].is_u64(), "{f}");
    let accepted = find("connection accepted");
    assert_eq!(accepted["fields"]["peer_name"], "a");
}

/// `listen -v` (no HVSOCK_LOG) logs each refusal at INFO in the human format, with the
/// reason and the peer's name.
#[test]
fn listen_verbose_logs_refusals_with_reason_and_peer() {
    let env = Env::new();
    let log = env.0.tmp.path().join("listen.log");
    let mut listener = env
        .cmd(&["listen", "any:echo", "-k", "-v"])
        .env_remove("HVSOCK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    limited::wait_for("the listener", || {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("listening on")
    });
    env.ok(&["service", "disable", "echo"]);
    let mut k = env.cmd(&["connect", "parent:echo"]);
    k.env("HVSOCK_PARTITION", "a");
    assert!(!limited::run(k, b"").status.success());
    limited::wait_for("the refusal line", || {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("connection refused")
    });
    let _ = listener.kill();
    let _ = listener.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("connection refused"))
        .unwrap();
    assert!(line.contains("INFO"), "{line}");
    assert!(line.contains("reason=\"disabled\""), "{line}");
    assert!(line.contains("peer_name=a"), "{line}");
    assert!(
        !line.contains('\x1b'),
        "no colours off a terminal: {line:?}"
    );
}
