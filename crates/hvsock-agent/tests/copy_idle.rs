//! A peer that stalls in the middle of a copy: the idle timeout ends the copy on both
//! sides with a message naming the file, instead of hanging forever.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use bytes::Bytes;
use common::*;
use hvsock_agent::client::{self, CopyOptions};
use hvsock_agent::proto::{ErrorCode, Frame};
use hvsock_agent::{AgentOptions, ClientError};
use std::time::Duration;

const IDLE: Duration = Duration::from_millis(300);
/// A hang guard, far above IDLE.
const GUARD: Duration = Duration::from_secs(60);

/// An agent whose copies time out after [`IDLE`] without progress.
fn idle_agent() -> TestAgent {
    start_agent(AgentOptions {
        copy_idle_timeout: IDLE,
        ..AgentOptions::default()
    })
}

fn opts() -> CopyOptions {
    CopyOptions {
        recursive: false,
        idle_timeout: IDLE,
    }
}

/// A fake agent that answers Hello, reads the request, sends `frames`, then neither
/// reads nor writes until `release` fires.
fn stalling_agent(
    frames: Vec<Frame>,
) -> (tokio::net::UnixStream, tokio::sync::oneshot::Sender<()>) {
    let (client_side, agent_side) = tokio::net::UnixStream::pair().unwrap();
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut r, mut w) = fake_agent_hello(agent_side).await;
        r.read_frame().await.unwrap();
        for f in &frames {
            w.write_frame(f).await.unwrap();
        }
        let _ = wait.await;
    });
    (client_side, release)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_download_times_out_naming_the_file() {
    let (s, _release) = stalling_agent(vec![
        Frame::CopyTotal {
            files: 1,
            bytes: 10,
        },
        Frame::File {
            path: "slow.bin".into(),
            mode: 0o644,
            size: 10,
        },
        Frame::Data(Bytes::from_static(b"12345")),
    ]);
    let local = tempfile::tempdir().unwrap();
    let r = tokio::time::timeout(
        GUARD,
        client::copy_from_remote_with(conn(s), "slow.bin", local.path(), &opts(), None),
    )
    .await
    .expect("the copy hung");
    let e = r.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::Local {
                code: ErrorCode::TIMEOUT,
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("slow.bin") && msg.contains("idle timeout"),
        "{msg}"
    );
    assert_eq!(std::fs::read_dir(local.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_times_out_naming_the_file() {
    // The agent stops reading: the sender's writes stall once the socket is full.
    let (s, _release) = stalling_agent(vec![]);
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("big.bin");
    std::fs::write(&src, pseudo_random(16 << 20, 3)).unwrap();
    let r = tokio::time::timeout(
        GUARD,
        client::copy_to_remote_with(conn(s), &src, "x", &opts(), None),
    )
    .await
    .expect("the copy hung");
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("big.bin") && msg.contains("idle timeout"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_times_out_a_stalled_client() {
    let mut agent = idle_agent();
    let remote = tempfile::tempdir().unwrap();
    let (mut r, mut w) = agent.raw().await;
    let dst = remote.path().join("stalled.txt");
    for f in [
        Frame::CopyTo {
            path: dst.to_str().unwrap().into(),
            recursive: false,
        },
        Frame::CopyTotal { files: 1, bytes: 4 },
        Frame::File {
            path: "stalled.txt".into(),
            mode: 0o644,
            size: 4,
        },
        Frame::Data(Bytes::from_static(b"ab")),
    ] {
        w.write_frame(&f).await.unwrap();
    }
    let reply = tokio::time::timeout(GUARD, r.read_frame())
        .await
        .expect("the agent hung");
    match reply.unwrap() {
        Some(Frame::Error { code, message }) => {
            assert_eq!(code, ErrorCode::TIMEOUT);
            assert!(
                message.contains("stalled.txt") && message.contains("idle timeout"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(agent.next_result().await.is_err());
    assert!(!dst.exists());
    assert!(temp_files(remote.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_times_out_a_client_that_stops_reading() {
    let mut agent = idle_agent();
    let remote = tempfile::tempdir().unwrap();
    let src = remote.path().join("unread.bin");
    std::fs::write(&src, pseudo_random(16 << 20, 5)).unwrap();
    let (_r, _w) = agent
        .raw_request(Frame::CopyFrom {
            path: src.to_str().unwrap().into(),
            recursive: false,
        })
        .await;
    // Never read: the agent's writes stall once the socket is full.
    let res = tokio::time::timeout(GUARD, agent.next_result())
        .await
        .expect("the agent hung");
    let e = res.unwrap_err();
    assert!(
        e.to_string().contains("unread.bin") && e.to_string().contains("idle timeout"),
        "{e}"
    );
}
