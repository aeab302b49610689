//! `client::exec_stdio` as `hvsock exec` uses it: the test re-runs this test binary as a
//! child with pipes for stdio, and signals it like a user pressing Ctrl-C.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use common::*;
use hvsock_agent::AgentOptions;
use hvsock_agent::client;
use hvsock_agent::proto::{ExecRequest, STDIN_WINDOW};
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
    let code = client::exec_stdio(conn(stream), req).await.unwrap();
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
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(c.id().unwrap() as i32).unwrap(),
        rustix::process::Signal::INT,
    );
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

/// A default agent and its session stats, and `sleep 40` started in it through a child
/// client whose stdin is flooded; waits until the agent holds a full stdin window for
/// it. Returns the agent, its stats, the child, the remote pid and the task feeding the
/// child's stdin.
async fn flooded() -> (
    TestAgent,
    std::sync::Arc<hvsock_agent::server::SessionStats>,
    tokio::process::Child,
    i32,
    tokio::task::JoinHandle<()>,
) {
    let opts = AgentOptions::default();
    let stats = opts.stats.clone();
    let agent = start_agent(opts);
    let pidfile = agent.dir.path().join("pid");
    let script = format!("echo $$ > {}; exec sleep 40", pidfile.display());
    let mut c = child(&agent, &["sh", "-c", &script]);
    let mut stdin = c.stdin.take().unwrap();
    let feeder = tokio::spawn(async move {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..100 {
            if stdin.write_all(&zeros).await.is_err() {
                break;
            }
        }
    });
    let pid = read_pid(&pidfile).await;
    wait_until("the stdin window to fill", || {
        stats.stdin_buffered() == STDIN_WINDOW as u64
    })
    .await;
    (agent, stats, c, pid, feeder)
}

/// `head -c 100M /dev/zero | hvsock exec v -- sleep 40`, then `kill -9` of the client:
/// the agent sees the connection end at once, kills `sleep` and frees the slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_client_with_full_stdin_ends_the_remote_process() {
    if std::env::var_os(SOCK_ENV).is_some() {
        return;
    }
    let (mut agent, stats, mut c, pid, feeder) = flooded().await;
    assert!(alive(pid));
    c.kill().await.unwrap();
    wait_until("the remote sleep to die", || !alive(pid)).await;
    let r = tokio::time::timeout(GUARD, agent.next_result())
        .await
        .unwrap();
    assert!(
        matches!(r, Err(hvsock_agent::AgentError::ClientGone)),
        "{r:?}"
    );
    assert_eq!(stats.stdin_buffered(), 0);
    feeder.await.unwrap();
}

/// SIGTERM (and so SIGINT, SIGHUP) to a client whose stdin is full is still forwarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_sigterm_with_full_stdin_is_forwarded() {
    if std::env::var_os(SOCK_ENV).is_some() {
        return;
    }
    let (_agent, _, mut c, pid, feeder) = flooded().await;
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(c.id().unwrap() as i32).unwrap(),
        rustix::process::Signal::TERM,
    );
    let mut err = String::new();
    let mut se = c.stderr.take().unwrap();
    tokio::time::timeout(GUARD, se.read_to_string(&mut err))
        .await
        .expect("the signal did not get through")
        .unwrap();
    assert!(err.contains("CHILD-CODE=143"), "{err}");
    assert!(c.wait().await.unwrap().success());
    assert!(!alive(pid));
    feeder.await.unwrap();
}
