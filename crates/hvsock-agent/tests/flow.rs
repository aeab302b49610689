//! Flow control of exec sessions (protocol v2 credit windows): a full stdin or an unread
//! stdout never blocks control frames, the agent's buffers stay within the windows, and
//! a peer that sends beyond its credit is refused.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use bytes::Bytes;
use common::*;
use hvsock_agent::client::{self, Control, Session};
use hvsock_agent::framed::FrameReader;
use hvsock_agent::proto::{
    ErrorCode, ExecRequest, ExitStatus, Frame, MAX_WINDOW, OUTPUT_WINDOW, STDIN_WINDOW, Stream,
};
use hvsock_agent::server::{MAX_OUTPUT_BUFFERED, MAX_PENDING_EOF};
use hvsock_agent::{AgentError, AgentOptions, ClientError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Asserts that the agent's next frame (credits aside) is a protocol `Error` whose
/// message contains `needle`.
async fn expect_protocol_error<R: tokio::io::AsyncRead + Unpin>(
    r: &mut FrameReader<R>,
    needle: &str,
) {
    match next_frame(r).await.unwrap() {
        Some(Frame::Error { code, message }) => {
            assert_eq!(code, ErrorCode::PROTOCOL, "{message}");
            assert!(message.contains(needle), "{message}");
        }
        other => panic!("expected an Error, got {other:?}"),
    }
}

fn req(argv: &[&str]) -> ExecRequest {
    ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// `head -c 100M /dev/zero | hvsock exec v -- sleep 40`: the stdin window fills, the
/// agent holds exactly the window and no more, and a Signal still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_stdin_does_not_block_signals() {
    let opts = AgentOptions::default();
    let stats = opts.stats.clone();
    let agent = start_agent(opts);
    let (ctl_tx, mut out_r, session) = agent
        .spawn_session(
            Session::Exec(req(&["sh", "-c", "echo started; exec sleep 40"])),
            tokio::io::repeat(0).take(100 << 20),
        )
        .await;
    let mut buf = [0u8; 64];
    let n = out_r.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"started\n");
    // The process never reads: the agent ends up holding the whole window.
    wait_until("the stdin window to fill", || {
        stats.stdin_buffered() == STDIN_WINDOW as u64
    })
    .await;
    ctl_tx
        .send(Control::Signal(libc::SIGTERM as u8))
        .await
        .unwrap();
    let st = tokio::time::timeout(GUARD, session)
        .await
        .expect("the Signal was stuck behind stdin")
        .unwrap()
        .unwrap();
    assert_eq!(st, ExitStatus::Signal(libc::SIGTERM));
    assert_eq!(stats.max_stdin_buffered(), STDIN_WINDOW as u64);
    assert_eq!(stats.stdin_buffered(), 0);
}

/// A client whose local stdout is never read: the agent stops reading the process's
/// output at the window, holds at most a few chunks itself, still obeys Signal, and
/// delivers the rest and Exit once the client's stdout moves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_stdout_is_bounded_and_signals_still_work() {
    let opts = AgentOptions::default();
    let stats = opts.stats.clone();
    let agent = start_agent(opts);
    let pidfile = agent.dir.path().join("pid");
    let script = format!("echo $$ > {}; exec yes", pidfile.display());
    let (ctl_tx, mut out_r, session) = agent
        .spawn_session(
            Session::Exec(req(&["sh", "-c", &script])),
            tokio::io::empty(),
        )
        .await;
    let pid = read_pid(&pidfile).await;
    // Nobody reads `out_r`: the client's window (plus the duplex's 1 KiB) is all the
    // agent may send. Once it is used up the agent stops reading, and `yes` blocks
    // writing to its full pipe (as it may for a moment before).
    wait_until("`yes` to block on its full pipe", || {
        std::fs::read_to_string(format!("/proc/{pid}/wchan"))
            .is_ok_and(|w| w.contains("pipe_write"))
    })
    .await;
    let bound = MAX_OUTPUT_BUFFERED;
    assert!(
        stats.max_output_buffered() <= bound,
        "{} > {bound}",
        stats.max_output_buffered()
    );
    assert!(alive(pid));
    ctl_tx
        .send(Control::Signal(libc::SIGTERM as u8))
        .await
        .unwrap();
    wait_until("`yes` to die of the Signal", || !alive(pid)).await;
    // Now read: the output the agent was allowed to send, then the exit status.
    let mut out = Vec::new();
    tokio::time::timeout(GUARD, out_r.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let st = session.await.unwrap().unwrap();
    assert_eq!(st, ExitStatus::Signal(libc::SIGTERM));
    assert!(!out.is_empty());
    assert!(out.chunks(2).all(|c| c == b"y\n" || c == b"y"));
    assert!(stats.max_output_buffered() <= bound);
}

/// A hostile client that sends more stdin than it was granted, or grants more than
/// the maximum window, gets a protocol error; its process is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_beyond_its_credit_is_refused() {
    let mut agent = start_agent(AgentOptions::default());
    let pidfile = agent.dir.path().join("pid");
    let script = format!("echo $$ > {}; exec sleep 100", pidfile.display());
    let (mut r, mut w) = agent
        .raw_session(Frame::Exec(req(&["sh", "-c", &script])))
        .await;
    let granted = match r.read_frame().await.unwrap() {
        Some(Frame::Credit {
            stream: Stream::Stdin,
            bytes,
        }) => bytes,
        other => panic!("expected the stdin credit first, got {other:?}"),
    };
    assert_eq!(granted, STDIN_WINDOW);
    let pid = read_pid(&pidfile).await;
    // One byte more than granted, in one frame: nothing can have been granted back
    // before it arrives.
    w.write_frame(&Frame::Stdin(Bytes::from(vec![0u8; granted as usize + 1])))
        .await
        .unwrap();
    expect_protocol_error(&mut r, "beyond the credit").await;
    assert!(matches!(
        agent.next_result().await,
        Err(AgentError::Request { .. })
    ));
    assert!(!alive(pid), "process {pid} survived");

    // Output credit over the maximum window.
    let (mut r, mut w) = agent.raw_session(Frame::Exec(req(&["sleep", "100"]))).await;
    w.write_frame(&Frame::Credit {
        stream: Stream::Stdout,
        bytes: MAX_WINDOW,
    })
    .await
    .unwrap();
    expect_protocol_error(&mut r, "maximum window").await;
    // Stdin credit is the agent's to grant.
    let (mut r, mut w) = agent.raw_session(Frame::Exec(req(&["sleep", "100"]))).await;
    w.write_frame(&Frame::Credit {
        stream: Stream::Stdin,
        bytes: 1,
    })
    .await
    .unwrap();
    match next_frame(&mut r).await.unwrap() {
        Some(Frame::Error { code, .. }) => assert_eq!(code, ErrorCode::BAD_REQUEST),
        other => panic!("expected an Error, got {other:?}"),
    }
}

/// Frames that cost no credit cannot make the agent hold more: a flood of one-byte
/// `Stdin` frames and of `StdinEof` (each a Ctrl-D on a terminal) to a process that
/// never reads stays within the window plus [`MAX_PENDING_EOF`], and a Signal still
/// gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_of_small_frames_stay_within_the_window() {
    let opts = AgentOptions::default();
    let stats = opts.stats.clone();
    let agent = start_agent(opts);
    let (mut r, mut w) = agent
        .raw_session(Frame::Exec(ExecRequest {
            tty: true,
            ..req(&["sh", "-c", "stty raw -echo; echo ready; exec sleep 100"])
        }))
        .await;
    // Wait for "ready" while counting the stdin credit granted.
    let mut credit = 0u64;
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("ready") {
        match r.read_frame().await.unwrap() {
            Some(Frame::Credit { bytes, .. }) => credit += bytes as u64,
            Some(Frame::Stdout(b)) => seen.extend_from_slice(&b),
            other => panic!("{other:?}"),
        }
    }
    // The whole credit as one-byte frames, with a StdinEof after each.
    let mut batch = bytes::BytesMut::new();
    let one = hvsock_agent::proto::encode_to_vec(&Frame::Stdin(Bytes::from_static(b"q"))).unwrap();
    let eof = hvsock_agent::proto::encode_to_vec(&Frame::StdinEof).unwrap();
    for _ in 0..credit {
        batch.extend_from_slice(&one);
        batch.extend_from_slice(&eof);
    }
    w.write_raw(&batch).await.unwrap();
    let bound = STDIN_WINDOW as u64 + MAX_PENDING_EOF;
    wait_until("the flood to be buffered", || {
        stats.stdin_buffered() >= bound - 64 * 1024
    })
    .await;
    // The terminal takes a few KiB at most; the rest waits in the agent.
    w.write_frame(&Frame::Signal(libc::SIGTERM as u8))
        .await
        .unwrap();
    loop {
        match tokio::time::timeout(GUARD, r.read_frame())
            .await
            .unwrap()
            .unwrap()
        {
            Some(Frame::Exit(st)) => {
                assert_eq!(st, ExitStatus::Signal(libc::SIGTERM));
                break;
            }
            Some(_) => {}
            None => panic!("no Exit"),
        }
    }
    assert!(
        stats.max_stdin_buffered() <= bound,
        "{} > {bound}",
        stats.max_stdin_buffered()
    );
}

/// A hostile agent that sends more output than the client granted is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_beyond_its_credit_is_refused() {
    for stream in [Stream::Stdout, Stream::Stderr] {
        let (c, a) = tokio::net::UnixStream::pair().unwrap();
        let fake = tokio::spawn(async move {
            let (mut r, mut w) = fake_agent_hello(a).await;
            assert!(matches!(r.read_frame().await, Ok(Some(Frame::Exec(_)))));
            // The whole window, then one byte more.
            let chunk = Bytes::from(vec![b'z'; 64 * 1024]);
            let mut frames = vec![chunk; OUTPUT_WINDOW as usize / (64 * 1024)];
            frames.push(Bytes::from_static(b"z"));
            for data in frames {
                let f = match stream {
                    Stream::Stderr => Frame::Stderr(data),
                    _ => Frame::Stdout(data),
                };
                if w.write_frame(&f).await.is_err() {
                    break;
                }
            }
            // Hold the connection until the client hangs up.
            while let Ok(Some(_)) = r.read_frame().await {}
        });
        // Local stdout and stderr that are never read: the client grants nothing back.
        let (out_w, _out_r) = tokio::io::duplex(1);
        let (err_w, _err_r) = tokio::io::duplex(1);
        let e = tokio::time::timeout(
            GUARD,
            client::exec(conn(c), req(&["x"]), tokio::io::empty(), out_w, err_w),
        )
        .await
        .unwrap()
        .unwrap_err();
        match &e {
            ClientError::Protocol(m) => assert!(m.contains("beyond the credit"), "{m}"),
            other => panic!("{other:?}"),
        }
        fake.await.unwrap();
    }
}

/// With the credit windows, big transfers in both directions still arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_keep_big_transfers_whole() {
    let opts = AgentOptions::default();
    let stats = opts.stats.clone();
    let agent = start_agent(opts);
    let data = pseudo_random(8 << 20, 3);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = client::exec(
        agent.connect().await,
        req(&["sh", "-c", "tee /dev/stderr"]),
        &data[..],
        &mut out,
        &mut err,
    )
    .await
    .unwrap();
    assert_eq!(code, 0);
    assert!(out == data && err == data);
    assert!(stats.max_stdin_buffered() <= STDIN_WINDOW as u64);
    assert!(stats.max_output_buffered() <= MAX_OUTPUT_BUFFERED);
    // A slow local stdout: everything still arrives, in order.
    let (out_w, mut out_r) = tokio::io::duplex(100);
    let stream = agent.connect().await;
    let session = tokio::spawn(async move {
        client::exec(
            stream,
            req(&["head", "-c", "3000000", "/dev/zero"]),
            tokio::io::empty(),
            out_w,
            tokio::io::sink(),
        )
        .await
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = out_r.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.len() % 70_000 < 7 {
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(got.len(), 3_000_000);
    assert_eq!(session.await.unwrap().unwrap(), 0);
    let _ = out_r.shutdown().await;
}
