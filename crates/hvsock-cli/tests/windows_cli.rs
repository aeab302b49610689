//! CLI tests of `hvsock.exe` on Windows (run under wine): the address bytes, the errors
//! of a system without Hyper-V sockets, what Windows refuses by name, and `listen`,
//! `connect` and `relay` moving data through the TCP stand-in for AF_HYPERV (feature
//! `inet-standin` of the test build, `HVSOCK_INET_STANDIN` per test, a free port each),
//! `exec` and `cp` as the agent's client, and `service` on the Windows registry.
#![cfg(windows)]

use bytes::Bytes;
use hvsock_agent::framed::{FrameReader, FrameWriter};
use hvsock_agent::proto::{ExitStatus, Frame, STDIN_WINDOW, Stream, VERSION};
use hvsock_testkit::proc::{run, spawn_piped, wait_line};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// The `hvsock` binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_hvsock");
/// How long one `hvsock` run may take.
const LIMIT: Duration = Duration::from_secs(30);
/// A service for the socket tests (any id: the stand-in has one service per port).
const SVC: &str = "vsock:5000";
/// The exact address of the "not available" check.
const NO_HV_ADDR: &str =
    "00000000-0000-0000-0000-000000000001:00001388-facb-11e6-bd58-64006a7986d3";

/// Hyper-V's services key, as `reg.exe` names it.
const GCS: &str = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices";

/// A test's own config and runtime dirs (in `%TEMP%`), its own services key under
/// HKCU (`HVSOCK_WINDOWS_REGISTRY_KEY`, deleted at the end), and the stand-in port if
/// any.
struct Env {
    tmp: tempfile::TempDir,
    key: String,
    standin: Option<u16>,
}

impl Env {
    fn new() -> Env {
        Env {
            tmp: tempfile::Builder::new().prefix("hvw").tempdir().unwrap(),
            key: format!("Software\\hvsock-tests\\{}", hvsock::Guid::new_v4()),
            standin: None,
        }
    }

    /// With the TCP stand-in on a free loopback port.
    fn with_standin() -> Env {
        let mut env = Env::new();
        env.standin = Some(free_port());
        env
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `hvsock ARGS` in this test's dirs, with its stand-in (or none).
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = hvsock_testkit::env::hvsock_command(BIN, self.dir("c"), self.dir("r"), args);
        match self.standin {
            Some(p) => c.env("HVSOCK_INET_STANDIN", format!("127.0.0.1:{p}")),
            None => c.env_remove("HVSOCK_INET_STANDIN"),
        };
        c.env("HVSOCK_WINDOWS_REGISTRY_KEY", &self.key);
        c
    }

    fn run(&self, args: &[&str], input: &[u8]) -> Output {
        run(self.cmd(args), input, LIMIT)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = reg(&["delete", &format!("HKCU\\{}", self.key), "/f"]);
    }
}

/// Runs wine's (or Windows') own `reg.exe`: its success and output.
fn reg(args: &[&str]) -> (bool, String) {
    let out = Command::new("reg")
        .args(args)
        .output()
        .expect("reg.exe runs");
    (out.status.success(), text(&out.stdout) + &text(&out.stderr))
}

/// A loopback port nobody listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every stderr line of `child`, as it comes.
fn stderr_lines(child: &mut Child) -> Receiver<String> {
    let err = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    rx
}

/// Kills a child that serves until killed (a listener, a relay) when the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn addr_encode_gives_the_same_bytes_as_on_linux() {
    let env = Env::new();
    for (addr, hex, decoded) in [
        (
            "parent:vsock:5000",
            "22000000da7c2ea43fd00c489cc2a4de20abb87888130000cbfae611bd5864006a7986d3",
            "a42e7cda-d03f-480c-9cc2-a4de20abb878:00001388-facb-11e6-bd58-64006a7986d3",
        ),
        (
            NO_HV_ADDR,
            "220000000000000000000000000000000000000188130000cbfae611bd5864006a7986d3",
            NO_HV_ADDR,
        ),
        (
            "any:999E53D4-3D5C-4C3E-8779-BED06EC056E1",
            "2200000000000000000000000000000000000000d4539e995c3d3e4c8779bed06ec056e1",
            "00000000-0000-0000-0000-000000000000:999e53d4-3d5c-4c3e-8779-bed06ec056e1",
        ),
    ] {
        let out = env.run(&["addr", "encode", addr], b"");
        assert!(out.status.success(), "{addr}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), hex, "{addr}");
        let back = env.run(&["addr", "decode", hex], b"");
        assert!(back.status.success(), "{}", text(&back.stderr));
        assert_eq!(text(&back.stdout).trim(), decoded);
    }
}

#[test]
fn connect_without_hyper_v_sockets_names_the_address_and_exits_1() {
    let env = Env::new();
    let out = env.run(&["connect", NO_HV_ADDR], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!(
            "hvsock: connect {NO_HV_ADDR}: Hyper-V sockets are not available on this system: "
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
    // The same for a listener.
    let out = env.run(&["listen", &format!("any:{SVC}")], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!(
            "hvsock: listen any:{SVC}: Hyper-V sockets are not available"
        )),
        "{err}"
    );
}

#[test]
fn what_exists_on_linux_only_is_refused_by_name_with_status_2() {
    let env = Env::new();
    for (args, named) in [
        (&["agent"][..], "`hvsock agent` exists on Linux only"),
        (
            &["agent", "--install-service"][..],
            "`hvsock agent` exists on Linux only",
        ),
        (
            &["listen", "any:vsock:5000", "--exec", "cmd"][..],
            "`hvsock listen --exec` exists on Linux only",
        ),
        (
            &["listen", "any:vsock:5000", "--max-children", "3"][..],
            "`hvsock listen --max-children` exists on Linux only",
        ),
        (
            &["listen", "any:vsock:5000", "--systemd"][..],
            "`hvsock listen --systemd` exists on Linux only",
        ),
        (
            &["agent", "--systemd"][..],
            "`hvsock agent` exists on Linux only",
        ),
        (
            &["vm", "add", "x", "--local"][..],
            "`hvsock vm add` exists on Linux only",
        ),
        (
            &["vm", "remove", "x"][..],
            "`hvsock vm remove` exists on Linux only",
        ),
        (
            &["bench", "local"][..],
            "`hvsock bench local` exists on Linux only",
        ),
        (
            &["bench", "client", "tcp:127.0.0.1:1", "--baseline"][..],
            "`hvsock bench --baseline` exists on Linux only",
        ),
        (&["demo"][..], "`hvsock demo` exists on Linux only"),
    ] {
        let out = env.run(args, b"");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("hvsock: {named}: ")),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // unix: endpoints: clap refuses the value, naming it.
    let out = env.run(&["relay", "unix:C:\\x.sock", "tcp:127.0.0.1:1"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unix:PATH endpoints exist on Linux only"),
        "{err}"
    );
}

/// `hvsock listen any:SVC -v` in `env`, once it listens; its stderr lines.
fn start_listen(env: &Env) -> (Child, Receiver<String>) {
    let mut l = spawn_piped(env.cmd(&["listen", &format!("any:{SVC}"), "-v"]));
    let lines = stderr_lines(&mut l);
    let up = wait_line(&lines, "listening on", LIMIT);
    assert!(up.is_some(), "hvsock listen did not start");
    (l, lines)
}

#[test]
fn listen_and_connect_move_data_both_ways_across_a_half_close() {
    let env = Env::with_standin();
    let (mut l, _lines) = start_listen(&env);
    let mut l_in = l.stdin.take().unwrap();
    let mut l_out = l.stdout.take().unwrap();
    // connect sends "ping" and its stdin ends at once: the connection is half-closed.
    let c = env.cmd(&["connect", &format!("loopback:{SVC}")]);
    let connect = std::thread::spawn(move || run(c, b"ping", LIMIT));
    let mut got = [0u8; 4];
    l_out.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    // Only now does the listener answer, over the direction still open.
    let reply: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    l_in.write_all(&reply).unwrap();
    drop(l_in);
    let out = connect.join().unwrap();
    assert!(out.status.success(), "connect: {}", text(&out.stderr));
    assert!(
        out.stdout == reply,
        "connect got {} bytes",
        out.stdout.len()
    );
    // The listener saw the end of both directions and exits 0 with nothing more.
    let mut rest = Vec::new();
    l_out.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    let st = hvsock_testkit::proc::wait_limit(&mut l, LIMIT);
    assert!(st.success(), "listen: {st:?}");
}

#[test]
fn connect_to_nothing_listening_through_the_stand_in_exits_1() {
    let env = Env::with_standin();
    let out = env.run(&["connect", &format!("loopback:{SVC}"), "-t", "500ms"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!("hvsock: connect loopback:{SVC}: ")),
        "{err}"
    );
}

/// `hvsock relay -v FROM TO` once it listens, and the address it printed.
fn start_relay(env: &Env, from: &str, to: &str) -> (Killed, String) {
    let mut r = spawn_piped(env.cmd(&["relay", "-v", from, to]));
    let lines = stderr_lines(&mut r);
    let line = wait_line(&lines, "relay listening on", LIMIT).expect("the relay started");
    let at = line
        .split("relay listening on ")
        .nth(1)
        .and_then(|s| s.split(" -> ").next())
        .unwrap()
        .to_string();
    (Killed(r), at)
}

#[test]
fn relay_from_tcp_to_a_hyper_v_listener_carries_the_half_close() {
    let env = Env::with_standin();
    let (mut l, _lines) = start_listen(&env);
    let (_relay, at) = start_relay(&env, "tcp:127.0.0.1:0", &format!("hvsock:loopback:{SVC}"));
    let tcp_at = at.strip_prefix("tcp:").unwrap();
    let mut s = TcpStream::connect(tcp_at).unwrap();
    s.write_all(b"through the relay").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut l_out = l.stdout.take().unwrap();
    let mut got = vec![0u8; 17];
    l_out.read_exact(&mut got).unwrap();
    assert_eq!(got, b"through the relay");
    let mut l_in = l.stdin.take().unwrap();
    l_in.write_all(b"and back").unwrap();
    drop(l_in);
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"and back");
    assert!(hvsock_testkit::proc::wait_limit(&mut l, LIMIT).success());
}

#[test]
fn relay_from_a_hyper_v_listener_to_tcp() {
    let env = Env::with_standin();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let to = format!("tcp:{}", server.local_addr().unwrap());
    let (_relay, _) = start_relay(&env, &format!("hvsock:any:{SVC}"), &to);
    let serve = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(&[got.as_slice(), b" echoed"].concat()).unwrap();
        got
    });
    let out = env.run(&["connect", &format!("loopback:{SVC}")], b"hello");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello echoed");
    assert_eq!(serve.join().unwrap(), b"hello");
}

#[test]
fn bench_client_and_server_over_tcp() {
    let env = Env::new();
    let port = free_port();
    let at = format!("tcp:127.0.0.1:{port}");
    let mut srv = spawn_piped(env.cmd(&["bench", "server", &at, "-v"]));
    let lines = stderr_lines(&mut srv);
    assert!(wait_line(&lines, "bench server on", LIMIT).is_some());
    let _srv = Killed(srv);
    let out = env.run(
        &[
            "bench", "client", &at, "--mode", "stress", "-n", "3", "--size", "4K", "--json",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ops"], 3);
    assert_eq!(v["checksum_errors"], 0);
    assert!(v["cpu_s"].as_f64().unwrap() >= 0.0);
}

/// `hvsock ARGS` that must succeed: its stdout.
fn ok(env: &Env, args: &[&str]) -> String {
    let out = env.run(args, b"");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn service_add_list_disable_remove_in_the_tests_own_key() {
    let env = Env::new();
    let id = ok(
        &env,
        &["service", "add", "Win Test Svc", "--vsock-port", "5000"],
    );
    let id = id.trim();
    assert_eq!(id, "00001388-facb-11e6-bd58-64006a7986d3");
    let (found, out) = reg(&[
        "query",
        &format!("HKCU\\{}\\{id}", env.key),
        "/v",
        "ElementName",
    ]);
    assert!(found && out.contains("Win Test Svc"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&ok(&env, &["service", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "Win Test Svc");
    assert_eq!(list[0]["enabled"], true);
    // The same name twice is refused (exit 1), as on Linux.
    let dup = env.run(&["service", "add", "Win Test Svc"], b"");
    assert_eq!(dup.status.code(), Some(1), "{}", text(&dup.stderr));
    // Disabled in hvsock: hvsock's own connects refuse it, naming the fix.
    ok(&env, &["service", "disable", "Win Test Svc"]);
    let shown = ok(&env, &["service", "show", id]);
    assert!(shown.contains("enabled:    no"), "{shown}");
    let env2 = Env::with_standin();
    let mut c = env2.cmd(&["connect", "loopback:vsock:5000"]);
    c.env("HVSOCK_WINDOWS_REGISTRY_KEY", &env.key);
    let out = run(c, b"", LIMIT);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is disabled") && err.contains("hvsock service enable"),
        "{err}"
    );
    ok(&env, &["service", "enable", id]);
    let removed = ok(&env, &["service", "remove", "Win Test Svc"]);
    assert!(removed.starts_with(&format!("removed {id}")), "{removed}");
    assert!(!reg(&["query", &format!("HKCU\\{}\\{id}", env.key)]).0);
    let list = ok(&env, &["service", "list", "--json"]);
    assert_eq!(list.trim(), "[]");
}

/// Deletes a key of Hyper-V's services key when dropped (a failed test leaves none).
struct GcsKey(String);

impl Drop for GcsKey {
    fn drop(&mut self) {
        let _ = reg(&["delete", &format!("{GCS}\\{}", self.0), "/f"]);
    }
}

#[test]
fn service_add_with_an_id_writes_hyper_vs_own_key() {
    let env = Env::new();
    // A GUID of this test's own (Data1 well above the privileged vsock ports).
    let g = hvsock::Guid::new_v4().to_string();
    let id = format!("7e57{}", &g[4..]);
    let _cleanup = GcsKey(id.clone());
    let mut add = env.cmd(&["service", "add", "hvsock cli test", "--id", &id]);
    add.env_remove("HVSOCK_WINDOWS_REGISTRY_KEY");
    let out = run(add, b"", LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), id);
    let (found, q) = reg(&["query", &format!("{GCS}\\{id}"), "/v", "ElementName"]);
    assert!(found, "{q}");
    assert!(q.contains("REG_SZ") && q.contains("hvsock cli test"), "{q}");
    let mut rm = env.cmd(&["service", "remove", &id]);
    rm.env_remove("HVSOCK_WINDOWS_REGISTRY_KEY");
    let out = run(rm, b"", LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !reg(&["query", &format!("{GCS}\\{id}")]).0,
        "the key is gone"
    );
}

#[test]
fn vm_list_without_the_host_compute_service_says_so() {
    let env = Env::new();
    for args in [&["vm", "list"][..], &["vm", "show", "web", "--json"][..]] {
        let out = env.run(args, b"");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("hvsock: listing VMs: the Host Compute Service is not available"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn cp_takes_drive_letters_and_backslashes_as_local_paths() {
    let env = Env::new();
    for (src, dst) in [
        ("C:\\x", "D:\\y"),
        ("C:/x", ".\\dir"),
        ("dir\\sub", ".\\a:b"),
    ] {
        let out = env.run(&["cp", src, dst], b"");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{src} {dst}: {err}");
        assert!(
            err.contains("neither SRC nor DST is VM:PATH"),
            "{src} {dst}: {err}"
        );
    }
}

#[test]
fn exec_and_cp_name_the_vm_whose_agent_they_cannot_reach() {
    let env = Env::with_standin();
    let out = env.run(
        &["exec", "loopback", "--timeout", "500ms", "--", "true"],
        b"",
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(255), "{err}");
    assert!(
        err.starts_with("hvsock: cannot reach the agent in loopback: "),
        "{err}"
    );
    assert!(err.contains("is `hvsock agent` running there"), "{err}");
    let file = env.dir("f.txt");
    std::fs::write(&file, b"x").unwrap();
    let local = file.to_str().unwrap();
    assert!(local.as_bytes()[1] == b':', "a path with a drive: {local}");
    let out = env.run(&["cp", "--timeout", "500ms", local, "loopback:f.txt"], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("hvsock: cannot reach the agent in loopback: "),
        "{err}"
    );
}

/// A fake agent on the stand-in's port: it answers Hello, takes the request, grants
/// stdin credit, sends "out", waits for the client's end of stdin, then sends "err"
/// and exit code 3; returns the request and the stdin bytes it got.
async fn fake_agent(l: tokio::net::TcpListener) -> (Frame, Vec<u8>) {
    let (s, _) = l.accept().await.unwrap();
    let (r, w) = s.into_split();
    let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
    assert!(matches!(
        r.read_frame().await.unwrap(),
        Some(Frame::Hello { .. })
    ));
    // Protocol v3: the client's nonce, the agent's signed challenge (offering `none`,
    // so the client needs no key), the client's `Auth`, then `AuthOk`.
    let Some(Frame::AuthHello { client_nonce }) = r.read_frame().await.unwrap() else {
        panic!("expected AuthHello");
    };
    w.write_frame(&Frame::Hello { version: VERSION })
        .await
        .unwrap();
    let host = hvsock_agent::auth::KeyPair::from_seed([9u8; 32], "fake agent");
    let (agent_nonce, agent_key) = ([3u8; 32], host.public_bytes());
    let methods = hvsock_agent::proto::Methods::NONE;
    let agent_sig = host.sign(&hvsock_agent::auth::agent_transcript(
        methods.0,
        &client_nonce,
        &agent_nonce,
        &agent_key,
    ));
    w.write_frame(&Frame::Challenge(hvsock_agent::proto::Challenge {
        methods,
        agent_nonce,
        agent_key,
        agent_sig,
    }))
    .await
    .unwrap();
    assert!(matches!(
        r.read_frame().await.unwrap(),
        Some(Frame::Auth { .. })
    ));
    w.write_frame(&Frame::AuthOk {
        user: "fake".into(),
    })
    .await
    .unwrap();
    let req = r.read_frame().await.unwrap().unwrap();
    w.write_frame(&Frame::Credit {
        stream: Stream::Stdin,
        bytes: STDIN_WINDOW,
    })
    .await
    .unwrap();
    w.write_frame(&Frame::Stdout(Bytes::from_static(b"out")))
        .await
        .unwrap();
    w.flush().await.unwrap();
    let mut stdin = Vec::new();
    loop {
        match r.read_frame().await.unwrap().unwrap() {
            Frame::Stdin(b) => stdin.extend_from_slice(&b),
            Frame::StdinEof => break,
            _ => {}
        }
    }
    w.write_frame(&Frame::Stderr(Bytes::from_static(b"err")))
        .await
        .unwrap();
    w.write_frame(&Frame::Exit(ExitStatus::Code(3)))
        .await
        .unwrap();
    w.flush().await.unwrap();
    (req, stdin)
}

#[test]
fn exec_runs_a_session_through_the_stand_in() {
    let env = Env::with_standin();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let l = rt
        .block_on(tokio::net::TcpListener::bind((
            "127.0.0.1",
            env.standin.unwrap(),
        )))
        .unwrap();
    let agent = rt.spawn(fake_agent(l));
    let out = env.run(&["exec", "loopback", "--", "cat", "-n"], b"typed");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "out");
    assert_eq!(text(&out.stderr), "err");
    let (req, stdin) = rt.block_on(agent).unwrap();
    let Frame::Exec(req) = req else {
        panic!("not an exec request: {req:?}")
    };
    assert_eq!(req.argv, ["cat", "-n"]);
    assert_eq!(stdin, b"typed");
}

/// `hvsock stats --json` in `env`: the rows' `accepted` and `connected` totals and
/// the number of live processes.
fn stats_totals(env: &Env) -> (u64, u64, u64, u64) {
    let out = env.run(&["stats", "--json"], b"");
    assert!(out.status.success(), "stats: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["skipped"].as_array().map(Vec::len), Some(0), "{v}");
    let sum = |k: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[k].as_u64().unwrap())
            .sum::<u64>()
    };
    (
        v["processes"].as_u64().unwrap(),
        sum("accepted"),
        sum("connected"),
        sum("bytes_in"),
    )
}

/// The counters files in `env`'s runtime dir.
fn stats_files(env: &Env) -> Vec<String> {
    std::fs::read_dir(env.dir("r").join("stats"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Windows publishes counters too: another process (`hvsock stats`) reads a live
/// listener's accepts and bytes; the clients, gone, are not counted, nor is the
/// listener once killed (its file's lock went with it). Under wine a file renamed
/// after it was made delete-on-close stays behind (real Windows deletes it); the next
/// publisher's sweep removes it, which `stats::tests` checks.
#[test]
fn stats_reads_a_live_listeners_counters_and_drops_a_killed_ones() {
    let env = Env::with_standin();
    let mut l = spawn_piped(env.cmd(&["listen", &format!("any:{SVC}"), "-k", "-v"]));
    // Nothing to send back: each connection gets an end of stream at once.
    drop(l.stdin.take());
    let lines = stderr_lines(&mut l);
    assert!(
        wait_line(&lines, "listening on", LIMIT).is_some(),
        "hvsock listen did not start"
    );
    let l = Killed(l);
    for _ in 0..2 {
        let out = env.run(&["connect", &format!("loopback:{SVC}")], b"ping");
        assert!(out.status.success(), "connect: {}", text(&out.stderr));
    }
    // The clients are gone with their files; the listener counted both accepts and
    // the 8 bytes (its counts land as the connections end: poll a moment).
    let deadline = std::time::Instant::now() + LIMIT;
    let mut seen = stats_totals(&env);
    while seen != (1, 2, 0, 8) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        seen = stats_totals(&env);
    }
    assert_eq!(
        seen,
        (1, 2, 0, 8),
        "(processes, accepted, connected, bytes in)"
    );
    assert!(!stats_files(&env).is_empty());
    drop(l);
    // wine's server drops a killed process's locks a moment after the kill.
    let deadline = std::time::Instant::now() + LIMIT;
    let mut seen = stats_totals(&env);
    while seen != (0, 0, 0, 0) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        seen = stats_totals(&env);
    }
    assert_eq!(seen, (0, 0, 0, 0));
}
