//! Malformed and hostile input against a live agent; version mismatch on both sides.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use common::*;
use hvsock_agent::client;
use hvsock_agent::framed::{FrameReader, FrameWriter};
use hvsock_agent::proto::{self, ErrorCode, ExecRequest, Frame, VERSION};
use hvsock_agent::{AgentError, AgentOptions, ClientError};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn echo_req(s: &str) -> ExecRequest {
    ExecRequest {
        argv: vec!["echo".into(), s.into()],
        ..Default::default()
    }
}

/// `echo WORD` on `stream`, its stdout to `out`, stderr dropped.
async fn exec_echo<S, O>(stream: S, word: &str, out: O) -> Result<i32, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    O: tokio::io::AsyncWrite + Unpin,
{
    let (stdin, stderr) = (tokio::io::empty(), tokio::io::sink());
    client::exec(conn(stream), echo_req(word), stdin, out, stderr).await
}

async fn expect_error(r: &mut FrameReader<tokio::net::unix::OwnedReadHalf>) -> (ErrorCode, String) {
    loop {
        match r.read_frame().await {
            Ok(Some(Frame::Error { code, message })) => return (code, message),
            Ok(Some(Frame::Hello { .. } | Frame::Credit { .. })) => continue,
            other => panic!("expected an Error frame, got {other:?}"),
        }
    }
}

/// Sends `bytes` on a fresh connection (optionally after Hello) and returns the error.
async fn garbage(agent: &TestAgent, hello_first: bool, bytes: &[u8]) -> (ErrorCode, String) {
    let (r, mut w) = if hello_first {
        let (r, w) = agent.raw().await;
        (r, w)
    } else {
        let (r, w) = agent.stream().await.into_split();
        (FrameReader::new(r), FrameWriter::new(w))
    };
    w.write_raw(bytes).await.unwrap();
    let mut r = r;
    let e = expect_error(&mut r).await;
    // And then the agent closes this connection.
    assert!(matches!(r.read_frame().await, Ok(None) | Err(_)));
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_get_errors_and_others_keep_working() {
    let mut agent = start_agent(AgentOptions::default());

    // A good connection opened before the bad ones and used after them.
    let (mut good_r, mut good_w) = agent.raw().await;

    let mut cases: Vec<(bool, Vec<u8>, &str)> = vec![
        (
            false,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "over the limit",
        ),
        (false, vec![0, 0, 0, 0], "empty frame"),
        (false, vec![0, 0, 0, 1, 0x99], "unknown frame type 0x99"),
        (
            false,
            proto::encode_to_vec(&Frame::StdinEof).unwrap(),
            "expected Hello",
        ),
        (true, vec![0xff, 0xff, 0xff, 0xff], "over the limit"),
        (true, vec![0, 0, 0, 1, 0x42], "unknown frame type"),
        (true, vec![0, 0, 0, 3, proto::ty::EXEC, 0, 0], "truncated"),
        (
            true,
            vec![0, 0, 0, 8, proto::ty::COPY_TO, 0, 0, 0, 0, 2, 0xc3, 0x28],
            "UTF-8",
        ),
        (
            true,
            proto::encode_to_vec(&Frame::Stdout("x".into())).unwrap(),
            "expected a request",
        ),
    ];
    // Exec with an argv count far over the limit.
    let mut e = vec![0, 0, 0, 10, proto::ty::EXEC, 0, 0, 24, 0, 80];
    e.extend_from_slice(&u32::MAX.to_be_bytes());
    cases.push((true, e, "over the limit"));
    // A second Hello is not a request.
    cases.push((
        true,
        proto::encode_to_vec(&Frame::Hello { version: VERSION }).unwrap(),
        "expected a request",
    ));

    for (hello, bytes, want) in &cases {
        let (code, msg) = garbage(&agent, *hello, bytes).await;
        assert!(
            code == ErrorCode::PROTOCOL || code == ErrorCode::BAD_REQUEST,
            "{want}: {code:?} {msg}"
        );
        assert!(msg.contains(want), "{msg:?} should contain {want:?}");
        assert!(agent.next_result().await.is_err());
    }

    // A malformed frame in the middle of a running exec.
    let (mut r, mut w) = agent.raw().await;
    w.write_frame(&Frame::Exec(ExecRequest {
        argv: vec!["sleep".into(), "100".into()],
        ..Default::default()
    }))
    .await
    .unwrap();
    w.write_raw(&[0, 0, 0, 2, proto::ty::SIGNAL, 200])
        .await
        .unwrap();
    let (code, msg) = expect_error(&mut r).await;
    assert_eq!(code, ErrorCode::PROTOCOL, "{msg}");
    assert!(agent.next_result().await.is_err());

    // The good connection still works.
    good_w
        .write_frame(&Frame::Exec(echo_req("still-here")))
        .await
        .unwrap();
    for stream in [proto::Stream::Stdout, proto::Stream::Stderr] {
        good_w
            .write_frame(&Frame::Credit {
                stream,
                bytes: proto::OUTPUT_WINDOW,
            })
            .await
            .unwrap();
    }
    assert_eq!(
        next_frame(&mut good_r).await.unwrap(),
        Some(Frame::Stdout("still-here\n".into()))
    );
    assert_eq!(
        next_frame(&mut good_r).await.unwrap(),
        Some(Frame::Exit(proto::ExitStatus::Code(0)))
    );

    // And new connections too.
    let mut out = Vec::new();
    let code = exec_echo(agent.stream().await, "new", &mut out)
        .await
        .unwrap();
    assert_eq!((code, out.as_slice()), (0, &b"new\n"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_stream_and_random_garbage_never_kill_the_agent() {
    let mut agent = start_agent(AgentOptions::default());
    // Half a frame, then hang up.
    let mut s = agent.stream().await;
    s.write_all(&[0, 0, 0, 11, 1, b'H', b'V']).await.unwrap();
    drop(s);
    assert!(matches!(
        agent.next_result().await,
        Err(AgentError::Frame(_))
    ));
    // Pseudo-random garbage after Hello, many times.
    for seed in 1..40u64 {
        let (mut r, mut w) = agent.raw().await;
        let len = (seed as usize * 37) % 300 + 1;
        let _ = w.write_raw(&pseudo_random(len, seed)).await;
        drop(w);
        while let Ok(Some(_)) = r.read_frame().await {}
        let _ = agent.next_result().await;
    }
    let mut out = Vec::new();
    exec_echo(agent.stream().await, "ok", &mut out)
        .await
        .unwrap();
    assert_eq!(out, b"ok\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_mismatch_is_explained_on_both_sides() {
    let mut agent = start_agent(AgentOptions::default());
    // A newer client against this agent.
    let (r, w) = agent.stream().await.into_split();
    let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
    w.write_frame(&Frame::Hello {
        version: VERSION + 1,
    })
    .await
    .unwrap();
    assert_eq!(
        r.read_frame().await.unwrap(),
        Some(Frame::Hello { version: VERSION })
    );
    let (code, msg) = expect_error(&mut r).await;
    let want = format!(
        "agent speaks protocol v{VERSION}, client v{}; upgrade the agent",
        VERSION + 1
    );
    assert_eq!(code, ErrorCode::VERSION_MISMATCH);
    assert!(msg.starts_with(&want), "{msg}");
    // The agent's own error says the same.
    let e = agent.next_result().await.unwrap_err();
    assert!(matches!(e, AgentError::VersionMismatch { .. }));
    assert!(e.to_string().starts_with(&want), "{e}");

    // This client against an older agent (a fake one speaking v0).
    let (c, a) = tokio::net::UnixStream::pair().unwrap();
    let fake = tokio::spawn(async move {
        let (r, w) = a.into_split();
        let (mut r, mut w) = (FrameReader::new(r), FrameWriter::new(w));
        assert_eq!(
            r.read_frame().await.unwrap(),
            Some(Frame::Hello { version: VERSION })
        );
        w.write_frame(&Frame::Hello {
            version: VERSION - 1,
        })
        .await
        .unwrap();
        let _ = r.read_frame().await;
    });
    let e = exec_echo(c, "x", tokio::io::sink()).await.unwrap_err();
    assert!(matches!(e, ClientError::VersionMismatch { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "agent speaks protocol v{}, client v{VERSION}; upgrade the agent (hvsock in the VM) to match the client",
            VERSION - 1
        )
    );
    fake.await.unwrap();

    // Not an agent at all.
    let (c, mut a) = tokio::net::UnixStream::pair().unwrap();
    let fake = tokio::spawn(async move {
        let _ = a.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await;
    });
    let e = exec_echo(c, "x", tokio::io::sink()).await.unwrap_err();
    assert!(
        e.to_string().contains("over the limit") || e.to_string().contains("magic"),
        "{e}"
    );
    fake.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_client_times_out() {
    let mut agent = start_agent(AgentOptions {
        handshake_timeout: Duration::from_millis(200),
        ..AgentOptions::default()
    });
    let (r, _w) = agent.stream().await.into_split();
    let mut r = FrameReader::new(r);
    let (code, _) = expect_error(&mut r).await;
    assert_eq!(code, ErrorCode::TIMEOUT);
    assert!(matches!(
        agent.next_result().await,
        Err(AgentError::HandshakeTimeout(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_answers_busy() {
    let agent = start_agent(AgentOptions {
        max_concurrent: 1,
        ..AgentOptions::default()
    });
    let (mut r1, mut w1) = agent
        .raw_session(Frame::Exec(ExecRequest {
            argv: vec!["sh".into(), "-c".into(), "echo up; read x".into()],
            ..Default::default()
        }))
        .await;
    assert_eq!(
        next_frame(&mut r1).await.unwrap(),
        Some(Frame::Stdout("up\n".into()))
    );
    let e = exec_echo(agent.stream().await, "x", tokio::io::sink())
        .await
        .unwrap_err();
    assert_remote(&e, ErrorCode::BUSY, "");
    w1.write_frame(&Frame::StdinEof).await.unwrap();
    assert_eq!(
        next_frame(&mut r1).await.unwrap(),
        Some(Frame::Exit(proto::ExitStatus::Code(1)))
    );
}
