//! `client::shell` on a real terminal: the test re-runs this test binary as a child whose
//! controlling terminal is a fresh PTY, and types into that PTY like a user: raw mode,
//! window size at start and on SIGWINCH, Ctrl-C reaching the remote job, terminal
//! restored at the end.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use common::*;
use hvsock_agent::AgentOptions;
use hvsock_agent::client;
use hvsock_agent::proto::{ShellRequest, WindowSize};
use hvsock_agent::sys::{self, PtyMaster};
use std::os::fd::AsFd;
use std::process::Stdio;
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};

const SOCK_ENV: &str = "HVSOCK_AGENT_TEST_INTERACTIVE_SOCK";

/// The child side: runs only when started by `shell_on_a_real_terminal`.
#[tokio::test]
async fn interactive_child() {
    let Some(sock) = std::env::var_os(SOCK_ENV) else {
        return;
    };
    let stream = tokio::net::UnixStream::connect(sock).await.unwrap();
    let code = client::shell(conn(stream), ShellRequest::default())
        .await
        .unwrap();
    let raw_after = sys::is_raw(std::io::stdin().as_fd()).unwrap();
    println!("\r\nCHILD-DONE code={code} raw={raw_after}\r");
}

struct Term {
    r: ReadHalf<PtyMaster>,
    w: WriteHalf<PtyMaster>,
    seen: Vec<u8>,
}

impl Term {
    async fn expect(&mut self, pat: &str) -> String {
        expect_text(&mut self.r, &mut self.seen, pat, "terminal closed").await
    }

    async fn send(&mut self, s: &str) {
        self.w.write_all(s.as_bytes()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_on_a_real_terminal() {
    if std::env::var_os(SOCK_ENV).is_some() {
        return; // we are the child
    }
    let agent = start_agent(AgentOptions {
        shell: Some("/bin/bash".into()),
        ..AgentOptions::default()
    });
    let (master, slave) = sys::open_pty(WindowSize { rows: 24, cols: 80 }).unwrap();
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "interactive_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(SOCK_ENV, &agent.path)
    .env("TERM", "xterm")
    .env("HOME", agent.dir.path()) // no user rc files in the remote login shell
    .stdin(Stdio::from(slave.try_clone().unwrap()))
    .stdout(Stdio::from(slave.try_clone().unwrap()))
    .stderr(Stdio::from(slave));
    sys::configure_child(&mut cmd, true);
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let ctl = master.try_clone().unwrap();
    let (r, w) = tokio::io::split(PtyMaster::new(master).unwrap());
    let mut t = Term {
        r,
        w,
        seen: Vec::new(),
    };

    // The remote login shell answers; its terminal has our size.
    t.send("PS1='R$ '; stty size; echo A$((40+2))\r").await;
    t.expect("24 80\r\nA42").await;

    // Resizing our terminal reaches the remote one (SIGWINCH → Resize).
    sys::set_window_size(
        ctl.as_fd(),
        WindowSize {
            rows: 40,
            cols: 100,
        },
    )
    .unwrap();
    let mut resized = false;
    for i in 0..50 {
        t.send(&format!("stty size; echo B$(({i}+1000))\r")).await;
        if t.expect(&format!("B{}", i + 1000)).await.contains("40 100") {
            resized = true;
            break;
        }
    }
    assert!(resized, "remote terminal never saw the resize");

    // Ctrl-C typed here interrupts the remote job (raw mode passes the byte through).
    t.send("bash -c 'echo rea\"\"dy; sleep 100'; echo after-$((1+1))\r")
        .await;
    t.expect("ready\r\n").await;
    t.send("\x03").await;
    t.send("echo alive-$((3+4))\r").await;
    let out = t.expect("alive-7").await;
    assert!(!out.contains("after-2"), "{out}");

    // Exit code comes back; the local terminal is out of raw mode again.
    t.send("exit 3\r").await;
    t.expect("CHILD-DONE code=3 raw=false").await;
    assert!(!sys::is_raw(ctl.as_fd()).unwrap_or(true));
    let st = child.wait().await.unwrap();
    assert!(st.success(), "{st:?}");
}
