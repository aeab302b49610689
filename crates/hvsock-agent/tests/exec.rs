//! Exec over a real agent: exit codes, stdout/stderr, stdin streaming, env/cwd, signals.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use common::*;
use hvsock_agent::client::{self, Control, Session};
use hvsock_agent::proto::{ErrorCode, ExecRequest, ExitStatus};
use hvsock_agent::{AgentOptions, ClientError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn req(argv: &[&str]) -> ExecRequest {
    ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

async fn run(
    agent: &TestAgent,
    r: ExecRequest,
    input: &[u8],
) -> (Result<i32, ClientError>, Vec<u8>, Vec<u8>) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = client::exec(agent.connect().await, r, input, &mut out, &mut err).await;
    (code, out, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes() {
    let agent = start_agent(AgentOptions::default());
    for (cmd, want) in [
        ("exit 0", 0),
        ("exit 3", 3),
        ("kill -TERM $$", 128 + 15),
        ("kill -KILL $$", 128 + 9),
    ] {
        let (code, _, _) = run(&agent, req(&["sh", "-c", cmd]), b"").await;
        assert_eq!(code.unwrap(), want, "{cmd}");
    }
    assert_eq!(run(&agent, req(&["true"]), b"").await.0.unwrap(), 0);
    assert_eq!(run(&agent, req(&["false"]), b"").await.0.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_command_is_127_with_message() {
    let agent = start_agent(AgentOptions::default());
    let (r, out, _) = run(&agent, req(&["no-such-command-hvsock-xyz", "a"]), b"").await;
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 127, "{e}");
    match &e {
        ClientError::Remote { code, message } => {
            assert_eq!(*code, ErrorCode::COMMAND_NOT_FOUND);
            assert!(
                message.contains("no-such-command-hvsock-xyz: command not found"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("command not found"));
    assert!(out.is_empty());

    // A file that is not executable: 126.
    let f = agent.dir.path().join("not-exec.sh");
    std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
    let (r, _, _) = run(&agent, req(&[f.to_str().unwrap()]), b"").await;
    assert_eq!(r.unwrap_err().exit_code(), 126);

    // A missing working directory is a clear error, not a 127.
    let mut q = req(&["true"]);
    q.cwd = Some("/no/such/dir/hvsock".into());
    let e = run(&agent, q, b"").await.0.unwrap_err();
    assert!(e.to_string().contains("/no/such/dir/hvsock"), "{e}");
    assert_eq!(e.exit_code(), 255);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_and_stderr_are_separate() {
    let agent = start_agent(AgentOptions::default());
    let (code, out, err) = run(
        &agent,
        req(&[
            "sh",
            "-c",
            "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 4",
        ]),
        b"",
    )
    .await;
    assert_eq!(code.unwrap(), 4);
    assert_eq!(String::from_utf8(out).unwrap(), "out1\nout2\n");
    assert_eq!(String::from_utf8(err).unwrap(), "err1\nerr2\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_stdin_through_sha256sum_and_cat() {
    let agent = start_agent(AgentOptions::default());
    let data = pseudo_random(20 << 20, 7);
    let want = hvsock_agent::tree::hex(&sha256(&data));

    let (code, out, err) = run(&agent, req(&["sha256sum"]), &data).await;
    assert_eq!(code.unwrap(), 0, "{}", String::from_utf8_lossy(&err));
    assert_eq!(String::from_utf8(out).unwrap(), format!("{want}  -\n"));

    // Both directions at once: stdin in while stdout comes back (no deadlock).
    let (code, out, _) = run(&agent, req(&["cat"]), &data).await;
    assert_eq!(code.unwrap(), 0);
    assert_eq!(out.len(), data.len());
    assert!(out == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_and_cwd() {
    let agent = start_agent(AgentOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let mut q = req(&["sh", "-c", "echo \"$HVSOCK_T1|$HVSOCK_T2\"; pwd"]);
    q.env = vec![
        ("HVSOCK_T1".into(), "one".into()),
        ("HVSOCK_T2".into(), "two words = x".into()),
    ];
    q.cwd = Some(dir.path().to_str().unwrap().into());
    let (code, out, _) = run(&agent, q, b"").await;
    assert_eq!(code.unwrap(), 0);
    let canon = dir.path().canonicalize().unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("one|two words = x\n{}\n", canon.display())
    );
}

/// Output is streamed live: the test sees the first line before it sends the input
/// that lets the command finish; stdin EOF is passed on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streaming_and_stdin_eof() {
    let agent = start_agent(AgentOptions::default());
    let (mut in_w, in_r) = tokio::io::duplex(1024);
    let (out_w, mut out_r) = tokio::io::duplex(1024);
    let stream = agent.connect().await;
    let session = tokio::spawn(async move {
        client::exec(
            stream,
            req(&[
                "sh",
                "-c",
                "echo ready; read line; echo \"got $line\"; cat; echo eof-seen",
            ]),
            in_r,
            out_w,
            tokio::io::sink(),
        )
        .await
    });
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !seen.ends_with(b"ready\n") {
        let n = out_r.read(&mut buf).await.unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    in_w.write_all(b"hello\nrest\n").await.unwrap();
    drop(in_w); // EOF: `cat` ends, then the script prints eof-seen.
    let mut rest = Vec::new();
    out_r.read_to_end(&mut rest).await.unwrap();
    assert_eq!(
        String::from_utf8(rest).unwrap(),
        "got hello\nrest\neof-seen\n"
    );
    assert_eq!(session.await.unwrap().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signal_frame_reaches_process_group() {
    let agent = start_agent(AgentOptions::default());
    // The shell's child `sleep` is in the same process group and gets the signal too.
    // (SIGTERM: dash catches SIGINT under `-c` and may lose one that arrives while it
    // forks, a shell race unrelated to the agent.)
    let (ctl_tx, mut out_r, session) = agent
        .spawn_session(
            Session::Exec(req(&[
                "sh",
                "-c",
                "echo started; sleep 100; echo not-reached",
            ])),
            tokio::io::empty(),
        )
        .await;
    let mut buf = [0u8; 64];
    let n = out_r.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"started\n");
    ctl_tx
        .send(Control::Signal(libc::SIGTERM as u8))
        .await
        .unwrap();
    let st = session.await.unwrap().unwrap();
    assert_eq!(st, ExitStatus::Signal(libc::SIGTERM));
    assert_eq!(st.to_exit_code(), 143);
}

/// The client dropping the connection kills the remote process group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_kills_process() {
    let mut agent = start_agent(AgentOptions::default());
    let marker = agent.dir.path().join("pid");
    let script = format!("echo $$ > {}; echo go; sleep 100", marker.display());
    let (mut r, w) = agent
        .raw_session(hvsock_agent::proto::Frame::Exec(req(&[
            "sh", "-c", &script,
        ])))
        .await;
    let f = next_frame(&mut r).await.unwrap().unwrap();
    assert_eq!(
        f,
        hvsock_agent::proto::Frame::Stdout(bytes::Bytes::from_static(b"go\n"))
    );
    let pid: i32 = std::fs::read_to_string(&marker)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    drop((r, w));
    assert!(matches!(
        agent.next_result().await,
        Err(hvsock_agent::AgentError::ClientGone)
    ));
    let alive =
        rustix::process::test_kill_process(rustix::process::Pid::from_raw(pid).unwrap()).is_ok();
    assert!(!alive, "process {pid} survived the disconnect");
}

/// A background child holding stdout open does not keep the client waiting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_child_does_not_block_exit() {
    let agent = start_agent(AgentOptions {
        drain_timeout: std::time::Duration::from_millis(100),
        ..AgentOptions::default()
    });
    let (code, out, _) = run(
        &agent,
        req(&["sh", "-c", "sleep 3 & echo started-bg; exit 6"]),
        b"",
    )
    .await;
    assert_eq!(code.unwrap(), 6);
    assert_eq!(out, b"started-bg\n");
}

/// The agent's own extra variables reach every session; the request's `env` wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_env_reaches_sessions_and_the_request_wins() {
    let agent = start_agent(AgentOptions {
        env: vec![
            ("HVSOCK_AGENT_TEST_A".into(), "from-agent".into()),
            ("HVSOCK_AGENT_TEST_B".into(), "from-agent".into()),
        ],
        ..AgentOptions::default()
    });
    let mut r = req(&[
        "sh",
        "-c",
        "echo \"$HVSOCK_AGENT_TEST_A $HVSOCK_AGENT_TEST_B\"",
    ]);
    r.env = vec![("HVSOCK_AGENT_TEST_B".into(), "from-request".into())];
    let (code, out, _) = run(&agent, r, b"").await;
    assert_eq!(code.unwrap(), 0);
    assert_eq!(out, b"from-agent from-request\n");
}
