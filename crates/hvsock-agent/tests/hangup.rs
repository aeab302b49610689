//! A client that vanishes hangs up its session, as sshd does: background jobs of a
//! shell get SIGHUP, and whatever ignores it is killed after the grace period.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use bytes::Bytes;
use common::*;
use hvsock_agent::framed::{FrameReader, FrameWriter};
use hvsock_agent::proto::{ExecRequest, Frame, ShellRequest, WindowSize};
use hvsock_agent::{AgentError, AgentOptions};
use std::time::Duration;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

fn opts() -> AgentOptions {
    AgentOptions {
        shell: Some("/bin/bash".into()),
        hangup_grace: Duration::from_millis(500),
        ..AgentOptions::default()
    }
}

/// Reads frames until the session's output contains `pat`.
async fn expect_output(r: &mut FrameReader<OwnedReadHalf>, pat: &str) {
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(pat) {
        match tokio::time::timeout(GUARD, next_frame(r)).await.unwrap() {
            Ok(Some(Frame::Stdout(b))) => seen.extend_from_slice(&b),
            Ok(Some(Frame::Stderr(_))) => {}
            other => panic!(
                "expected output {pat:?}, got {other:?}; seen {:?}",
                String::from_utf8_lossy(&seen)
            ),
        }
    }
}

/// Waits until `pid` runs `sleep` (its setup before `exec` is done).
async fn wait_sleeping(pid: i32) {
    wait_until(&format!("{pid} to exec sleep"), || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
    })
    .await;
}

async fn type_line(w: &mut FrameWriter<OwnedWriteHalf>, line: &str) {
    w.write_frame(&Frame::Stdin(Bytes::from(format!("{line}\n"))))
        .await
        .unwrap();
}

/// `sleep 81 &` in an interactive shell (its own process group), a job that ignores
/// SIGHUP and a `nohup` one: all end when the client vanishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_shell_client_ends_background_jobs() {
    let o = opts();
    let stats = o.stats.clone();
    let mut agent = start_agent(o);
    let d = agent.dir.path().to_path_buf();
    let (mut r, mut w) = agent
        .raw_session(Frame::Shell(ShellRequest {
            term: Some("dumb".into()),
            env: vec![("HVSOCK_D".into(), d.display().to_string())],
            window: WindowSize { rows: 24, cols: 80 },
        }))
        .await;
    type_line(&mut w, "echo $$ > \"$HVSOCK_D/shell\"").await;
    type_line(&mut w, "sleep 81 & echo $! > \"$HVSOCK_D/job1\"").await;
    type_line(
        &mut w,
        "(trap '' HUP; exec sleep 82) & echo $! > \"$HVSOCK_D/job2\"",
    )
    .await;
    type_line(
        &mut w,
        "nohup sleep 83 >/dev/null 2>&1 & echo $! > \"$HVSOCK_D/job3\"",
    )
    .await;
    type_line(&mut w, "echo jobs-$((40+2))").await;
    expect_output(&mut r, "jobs-42").await;
    let mut pids = Vec::new();
    for f in ["shell", "job1", "job2", "job3"] {
        pids.push(read_pid(&d.join(f)).await);
    }
    for p in &pids[1..] {
        wait_sleeping(*p).await;
    }
    drop((r, w));
    for (pid, what) in pids
        .iter()
        .zip(["shell", "sleep 81", "sleep 82", "sleep 83"])
    {
        wait_until(&format!("{what} ({pid}) to end"), || !alive(*pid)).await;
    }
    let res = tokio::time::timeout(GUARD, agent.next_result())
        .await
        .unwrap();
    assert!(matches!(res, Err(AgentError::ClientGone)), "{res:?}");
    assert_eq!(stats.hangups(), 1);
}

/// A piped exec whose job left the process group (and ignores SIGHUP) ends with it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_exec_client_ends_jobs_in_other_groups() {
    let mut agent = start_agent(opts());
    let d = agent.dir.path().to_path_buf();
    let script = format!(
        "perl -e '$SIG{{HUP}} = \"IGNORE\"; setpgrp(0, 0); exec \"sleep\", 84' & \
         echo $! > {}/job; echo up; sleep 100",
        d.display()
    );
    let (mut r, w) = agent
        .raw_session(Frame::Exec(ExecRequest {
            argv: vec!["sh".into(), "-c".into(), script],
            ..Default::default()
        }))
        .await;
    expect_output(&mut r, "up").await;
    let job = read_pid(&d.join("job")).await;
    wait_sleeping(job).await;
    drop((r, w));
    wait_until("the job in its own group to end", || !alive(job)).await;
    let res = tokio::time::timeout(GUARD, agent.next_result())
        .await
        .unwrap();
    assert!(matches!(res, Err(AgentError::ClientGone)), "{res:?}");
}

/// A process that ends normally leaves its background jobs alone (only a hang-up
/// ends a session's other processes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_exit_is_not_a_hangup() {
    let o = AgentOptions {
        drain_timeout: Duration::from_millis(100),
        ..opts()
    };
    let stats = o.stats.clone();
    let agent = start_agent(o);
    let d = agent.dir.path().to_path_buf();
    let script = format!("sleep 5 >/dev/null & echo $! > {}/job; exit 3", d.display());
    let code = hvsock_agent::client::exec(
        agent.connect().await,
        ExecRequest {
            argv: vec!["sh".into(), "-c".into(), script],
            ..Default::default()
        },
        tokio::io::empty(),
        tokio::io::sink(),
        tokio::io::sink(),
    )
    .await
    .unwrap();
    assert_eq!(code, 3);
    let job = read_pid(&d.join("job")).await;
    assert!(alive(job));
    assert_eq!(stats.hangups(), 0);
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(job).unwrap(),
        rustix::process::Signal::KILL,
    );
}

#[test]
fn proc_stat_parsing() {
    use hvsock_agent::sys::{parse_proc_stat, session_processes};
    assert_eq!(
        parse_proc_stat(b"1234 (bash) S 1 1234 1234 34816 1234 4194560"),
        Some((b'S', 1234))
    );
    // A name with spaces and parentheses cannot shift the fields.
    assert_eq!(
        parse_proc_stat(b"77 (a) Z 1 2 3 (b) R 5 6 7) Z 1 9 9 0"),
        Some((b'Z', 9))
    );
    for bad in [
        &b""[..],
        b"1 (x)",
        b"1 (x) S 1 2",
        b"1 (x) SS 1 2 3",
        b"1 (x) S 1 2 z",
        // Found by the proc_stat fuzz target: a NUL (not ASCII whitespace) as the state.
        b"7 (a) b) \x0c\x14\xebZ 1 (c) R 5 6 7)\t\0 1\"9!9 0 -1\n",
        b"1 (x) 3 1 2 3",
    ] {
        assert_eq!(
            parse_proc_stat(bad),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    // This test's own session is found (and never signalled by the agent).
    let me = std::process::id() as i32;
    let stat = std::fs::read(format!("/proc/{me}/stat")).unwrap();
    let (_, sid) = parse_proc_stat(&stat).unwrap();
    assert!(session_processes(sid).contains(&me));
    assert_eq!(
        hvsock_agent::sys::signal_session(sid, rustix::process::Signal::CONT),
        0
    );
}
