//! The client's exec and shell sessions against a scripted fake agent over an
//! in-process stream: runs on every platform the client does (Windows too, where no
//! agent can run), checking what the client sends (request, credit, stdin, resizes,
//! signals) and how it maps what it receives.

mod common;

use bytes::Bytes;
use common::*;
use hvsock_agent::client::{self, Control, Session};
use hvsock_agent::proto::{
    ExecRequest, ExitStatus, Frame, OUTPUT_WINDOW, STDIN_WINDOW, ShellRequest, Stream, WindowSize,
};
use tokio::io::AsyncReadExt;

/// A fake agent: Hello, the request, then it sends `before`, waits for the client's
/// `StdinEof` (if there is an `after`) and sends `after`; returns every frame the
/// client sent after Hello, up to its end of stream.
fn fake_agent(
    before: Vec<Frame>,
    after: Vec<Frame>,
) -> (tokio::io::DuplexStream, tokio::task::JoinHandle<Vec<Frame>>) {
    let (client_side, agent_side) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(async move {
        let (mut r, mut w) = fake_agent_hello(agent_side).await;
        let mut got = vec![r.read_frame().await.unwrap().unwrap()];
        // The client grants its output windows right after the request.
        for _ in 0..2 {
            got.push(r.read_frame().await.unwrap().unwrap());
        }
        for f in &before {
            w.write_frame(f).await.unwrap();
        }
        w.flush().await.unwrap();
        if !after.is_empty() {
            while got.last() != Some(&Frame::StdinEof) {
                got.push(r.read_frame().await.unwrap().unwrap());
            }
            for f in &after {
                w.write_frame(f).await.unwrap();
            }
            w.flush().await.unwrap();
        }
        while let Ok(Some(f)) = r.read_frame().await {
            got.push(f);
        }
        got
    });
    (client_side, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_streams_stdin_out_and_err_and_maps_the_exit() {
    let before = vec![
        Frame::Credit {
            stream: Stream::Stdin,
            bytes: STDIN_WINDOW,
        },
        Frame::Stdout(Bytes::from_static(b"out")),
    ];
    let after = vec![
        Frame::Stderr(Bytes::from_static(b"err")),
        Frame::Exit(ExitStatus::Signal(15)),
    ];
    let (s, agent) = fake_agent(before, after);
    let req = ExecRequest {
        argv: vec!["cat".into()],
        ..Default::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = client::exec(conn(s), req.clone(), &b"typed"[..], &mut out, &mut err)
        .await
        .unwrap();
    assert_eq!(code, 128 + 15);
    assert_eq!((out.as_slice(), err.as_slice()), (&b"out"[..], &b"err"[..]));
    let got = agent.await.unwrap();
    assert_eq!(got[0], Frame::Exec(req));
    for (f, stream) in got[1..3].iter().zip([Stream::Stdout, Stream::Stderr]) {
        assert_eq!(
            *f,
            Frame::Credit {
                stream,
                bytes: OUTPUT_WINDOW
            }
        );
    }
    // Whatever order the rest came in, stdin came whole and then its end.
    let stdin: Vec<u8> = got
        .iter()
        .filter_map(|f| match f {
            Frame::Stdin(b) => Some(b.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(stdin, b"typed");
    assert!(got.contains(&Frame::StdinEof), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_controls_reach_the_agent_ahead_of_the_exit() {
    let (s, agent) = fake_agent(Vec::new(), Vec::new());
    let (ctl_tx, ctl_rx) = tokio::sync::mpsc::channel(4);
    let req = ShellRequest {
        window: WindowSize {
            rows: 30,
            cols: 100,
        },
        term: Some("xterm-256color".into()),
        ..Default::default()
    };
    let (mut out_r, out_w) = tokio::io::duplex(1024);
    let session = tokio::spawn(client::run_session(
        conn(s),
        Session::Shell(req.clone()),
        tokio::io::empty(),
        out_w,
        tokio::io::sink(),
        ctl_rx,
    ));
    let w = WindowSize {
        rows: 50,
        cols: 132,
    };
    ctl_tx.send(Control::Resize(w)).await.unwrap();
    ctl_tx.send(Control::Signal(2)).await.unwrap();
    // The agent has not answered: the session is still running.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!session.is_finished());
    // The client hangs up when dropped; the fake agent sees everything it sent.
    session.abort();
    let got = agent.await.unwrap();
    assert_eq!(got[0], Frame::Shell(req));
    assert!(got.contains(&Frame::Resize(w)), "{got:?}");
    assert!(got.contains(&Frame::Signal(2)), "{got:?}");
    let mut rest = Vec::new();
    out_r.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}
