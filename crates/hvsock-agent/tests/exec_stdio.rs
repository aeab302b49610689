//! `client::exec_stdio` as `hvsock exec` uses it: the test re-runs this test binary as a
//! child with pipes for stdio, and signals it like a user pressing Ctrl-C.

mod common;

use common::*;
use hvsock_agent::AgentOptions;
use hvsock_agent::client;
use hvsock_agent::proto::ExecRequest;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const SOCK_ENV: &str = "HVSOCK_AGENT_TEST_EXEC_STDIO_SOCK";
const ARGV_ENV: &str = "HVSOCK_AGENT_TEST_EXEC_STDIO_ARGV";

/// The child side: runs only when started by the tests below.
#[tokio::test]
async fn exec_stdio_child() {
    let Some(sock) = std::env::var_os(SOCK_ENV) else {
        return;
    };
    let argv: Vec<String> = std::env::var(ARGV_ENV)
        .unwrap()
        .split('\u{1f}')
        .map(str::to_string)
        .collect();
    let stream = tokio::net::UnixStream::connect(sock).await.unwrap();
    let req = ExecRequest {
        argv,
        ..Default::default()
    };
    let code = client::exec_stdio(stream, req).await.unwrap();
    eprintln!("CHILD-CODE={code}");
}

fn child(agent: &TestAgent, argv: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "exec_stdio_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SOCK_ENV, &agent.path)
        .env(ARGV_ENV, argv.join("\u{1f}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_ctrl_c_is_forwarded() {
    if std::env::var_os(SOCK_ENV).is_some() {
        return;
    }
    let agent = start_agent(AgentOptions::default());
    // bash, not dash: dash -c may swallow a SIGINT that lands just before its exec.
    let mut c = child(&agent, &["bash", "-c", "echo up; exec sleep 100"]);
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).await.unwrap() > 0,
            "child ended early"
        );
        if line.ends_with("up\n") {
            break;
        }
    }
    // Ctrl-C at the local terminal sends SIGINT to us: the remote command gets it.
    // SAFETY: kill with a valid pid and signal number.
    unsafe { libc::kill(c.id().unwrap() as i32, libc::SIGINT) };
    let mut err = String::new();
    c.stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert!(err.contains("CHILD-CODE=130"), "{err}");
    assert!(c.wait().await.unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_streams_separately() {
    if std::env::var_os(SOCK_ENV).is_some() {
        return;
    }
    let agent = start_agent(AgentOptions::default());
    let mut c = child(
        &agent,
        &["sh", "-c", "tr a-z A-Z; echo to-stderr >&2; exit 9"],
    );
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(b"hello from stdin\n").await.unwrap();
    drop(stdin);
    let out = c.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("HELLO FROM STDIN\n"), "{stdout}");
    assert!(!stdout.contains("to-stderr"), "{stdout}");
    assert!(stderr.contains("to-stderr\n"), "{stderr}");
    assert!(stderr.contains("CHILD-CODE=9"), "{stderr}");
}
