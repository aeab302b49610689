//! File copy both ways: big files, trees with modes, integrity, interruption, limits.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use bytes::Bytes;
use common::*;
use hvsock_agent::client;
use hvsock_agent::framed::{FrameReader, FrameWriter};
use hvsock_agent::proto::{ErrorCode, Frame};
use hvsock_agent::{AgentError, AgentOptions, Progress};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_file_both_ways() {
    let mut agent = start_agent(AgentOptions::default());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("big.bin");
    std::fs::write(&src, pseudo_random(100 << 20, 42)).unwrap();
    set_mode(&src, 0o640);
    let want = sha256_file(&src);

    // Local → agent, with progress.
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = remote_dir.path().join("copy.bin");
    let mut last = Progress::default();
    let mut calls = 0u64;
    let mut cb = |p: &Progress| {
        assert!(p.bytes_done >= last.bytes_done);
        last = p.clone();
        calls += 1;
    };
    let s = client::copy_to_remote(
        agent.connect().await,
        &src,
        remote.to_str().unwrap(),
        false,
        Some(&mut cb),
    )
    .await
    .unwrap();
    assert_eq!((s.files, s.bytes), (1, 100 << 20));
    assert_eq!(last.bytes_done, 100 << 20);
    assert_eq!(last.bytes_total, 100 << 20);
    assert_eq!((last.files_done, last.files_total), (1, 1));
    assert!(calls > 10);
    agent.next_result().await.unwrap();
    assert_eq!(sha256_file(&remote), want);
    assert_eq!(mode(&remote), 0o640);

    // Agent → local, into an existing directory (keeps the name).
    let back_dir = tempfile::tempdir().unwrap();
    let s = agent
        .pull(remote.to_str().unwrap(), back_dir.path(), false)
        .await
        .unwrap();
    assert_eq!((s.files, s.bytes), (1, 100 << 20));
    let back = back_dir.path().join("copy.bin");
    assert_eq!(sha256_file(&back), want);
    assert_eq!(mode(&back), 0o640);
    agent.next_result().await.unwrap();
    assert!(temp_files(remote_dir.path()).is_empty());
    assert!(temp_files(back_dir.path()).is_empty());
}

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(root.join("ro")).unwrap();
    std::fs::write(root.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    set_mode(&root.join("run.sh"), 0o755);
    std::fs::write(root.join("secret"), "s3cret").unwrap();
    set_mode(&root.join("secret"), 0o600);
    std::fs::write(root.join("sub/readonly.txt"), "ro").unwrap();
    set_mode(&root.join("sub/readonly.txt"), 0o444);
    std::fs::write(root.join("sub/deeper/data"), pseudo_random(300_000, 3)).unwrap();
    std::fs::write(root.join("sub/deeper/empty-file"), "").unwrap();
    std::fs::write(root.join("ro/inside"), "x").unwrap();
    set_mode(&root.join("ro"), 0o555);
    set_mode(&root.join("sub"), 0o750);
    std::os::unix::fs::symlink("run.sh", root.join("link")).unwrap();
}

/// Every file and directory under `root` with its mode and content hash.
fn listing(root: &Path) -> Vec<(String, u32, Option<[u8; 32]>)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, u32, Option<[u8; 32]>)>) {
        let mut items: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        items.sort();
        for p in items {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                out.push((rel, mode(&p), None));
                walk(base, &p, out);
            } else if m.is_file() {
                out.push((rel, mode(&p), Some(sha256_file(&p))));
            }
        }
    }
    walk(root, root, &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_tree_both_ways_with_modes() {
    let mut agent = start_agent(AgentOptions::default());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("tree");
    std::fs::create_dir(&src).unwrap();
    make_tree(&src);
    let want = listing(&src);

    // Without -r: a clear error.
    let e = agent.push(&src, "/tmp/x", false).await.unwrap_err();
    assert!(e.to_string().contains("is a directory (use -r)"), "{e}");
    let _ = agent.next_result().await;

    // To a new name on the agent: the tree becomes that directory.
    let remote = tempfile::tempdir().unwrap();
    let dst = remote.path().join("copied");
    let s = agent.push_ok(&src, dst.to_str().unwrap(), true).await;
    assert_eq!(s.files, 6);
    assert_eq!(s.dirs, 5);
    assert_eq!(s.skipped, 1); // the symlink
    assert_eq!(listing(&dst), want);
    assert_eq!(mode(&dst), mode(&src));

    // Into an existing directory on this side: dst/tree.
    let local = tempfile::tempdir().unwrap();
    agent
        .pull_ok(dst.to_str().unwrap(), local.path(), true)
        .await;
    assert_eq!(listing(&local.path().join("copied")), want);

    // Copying again over the existing tree updates it in place.
    agent
        .pull_ok(dst.to_str().unwrap(), local.path(), true)
        .await;
    assert_eq!(listing(&local.path().join("copied")), want);

    // A directory from the agent without -r.
    let e = agent
        .pull(dst.to_str().unwrap(), local.path(), false)
        .await
        .unwrap_err();
    assert_remote(&e, ErrorCode::BAD_REQUEST, "");
    assert!(e.to_string().contains("use -r"), "{e}");

    for d in [&src, &dst, &local.path().join("copied")] {
        set_mode(&d.join("ro"), 0o755);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_source_and_bad_destination() {
    let mut agent = start_agent(AgentOptions::default());
    let e = agent
        .pull("/no/such/file/hvsock", Path::new("/tmp"), false)
        .await
        .unwrap_err();
    assert_remote(&e, ErrorCode::NOT_FOUND, "");
    assert!(e.to_string().contains("/no/such/file/hvsock"));
    let _ = agent.next_result().await;

    let work = tempfile::tempdir().unwrap();
    let f = work.path().join("f");
    std::fs::write(&f, "data").unwrap();
    let e = agent
        .push(&f, "/no/such/dir/hvsock/f", false)
        .await
        .unwrap_err();
    assert_remote(&e, ErrorCode::NOT_FOUND, "");
}

/// Sends a copy stream by hand (preceded by its `CopyTotal` if it has none).
async fn raw_copy_to(
    agent: &TestAgent,
    dst: &Path,
    frames: &[Frame],
) -> (
    FrameReader<tokio::net::unix::OwnedReadHalf>,
    FrameWriter<tokio::net::unix::OwnedWriteHalf>,
) {
    let (r, mut w) = agent
        .raw_request(Frame::CopyTo {
            path: dst.to_str().unwrap().into(),
            recursive: true,
        })
        .await;
    if !matches!(frames.first(), Some(Frame::CopyTotal { .. })) {
        w.write_frame(&copy_total(frames)).await.unwrap();
    }
    for f in frames {
        // The agent may reject the stream and hang up before reading all of it.
        if w.write_frame(f).await.is_err() {
            break;
        }
    }
    (r, w)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_copy_to_agent_leaves_nothing() {
    let mut agent = start_agent(AgentOptions::default());
    let remote = tempfile::tempdir().unwrap();
    let dst = remote.path().join("victim");
    // An older complete version exists: it must stay as it was.
    std::fs::write(&dst, "old complete content").unwrap();
    let (mut r, w) = raw_copy_to(
        &agent,
        &dst,
        &[
            Frame::CopyTotal {
                files: 1,
                bytes: 10 << 20,
            },
            Frame::File {
                path: "victim".into(),
                mode: 0o644,
                size: 10 << 20,
            },
            Frame::Data(Bytes::from(vec![7u8; 1 << 20])),
            Frame::Data(Bytes::from(vec![7u8; 1 << 20])),
        ],
    )
    .await;
    drop(w); // The client goes away mid-file.
    assert!(r.read_frame().await.is_ok());
    let res = agent.next_result().await;
    assert!(res.is_err());
    assert_eq!(
        std::fs::read_to_string(&dst).unwrap(),
        "old complete content"
    );
    assert_eq!(temp_files(remote.path()), Vec::<std::path::PathBuf>::new());

    // Same for a new file: nothing at DST at all.
    let dst2 = remote.path().join("new");
    let (_r, w) = raw_copy_to(
        &agent,
        &dst2,
        &[
            Frame::File {
                path: "new".into(),
                mode: 0o644,
                size: 5 << 20,
            },
            Frame::Data(Bytes::from(vec![1u8; 1 << 20])),
        ],
    )
    .await;
    drop(w);
    drop(_r);
    let _ = agent.next_result().await;
    assert!(!dst2.exists());
    assert!(temp_files(remote.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_copy_from_agent_leaves_nothing() {
    // A fake agent that sends half a file and hangs up.
    let (client_side, agent_side) = tokio::net::UnixStream::pair().unwrap();
    let fake = tokio::spawn(async move {
        let (mut r, mut w) = fake_agent_hello(agent_side).await;
        assert!(matches!(
            r.read_frame().await.unwrap(),
            Some(Frame::CopyFrom { .. })
        ));
        w.write_frame(&Frame::CopyTotal {
            files: 1,
            bytes: 4 << 20,
        })
        .await
        .unwrap();
        w.write_frame(&Frame::File {
            path: "f".into(),
            mode: 0o644,
            size: 4 << 20,
        })
        .await
        .unwrap();
        w.write_frame(&Frame::Data(Bytes::from(vec![9u8; 1 << 20])))
            .await
            .unwrap();
    });
    let local = tempfile::tempdir().unwrap();
    let dst = local.path().join("f");
    let e = client::copy_from_remote(conn(client_side), "f", &dst, false, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("closed"), "{e}");
    fake.await.unwrap();
    assert!(!dst.exists());
    assert!(temp_files(local.path()).is_empty());
}

/// Files this process has open in `dir` (as `/proc/self/fd` shows them).
fn open_files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t.parent() == Some(dir))
        .map(|t| t.to_string_lossy().into_owned())
        .collect()
}

use hvsock_testkit::fs::dir_entries;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_in_progress_has_no_name() {
    // On the temp dir's filesystem (tmpfs, ext4, ...) the file being received is an
    // O_TMPFILE one: no directory entry until it is complete, so a receiver killed
    // mid-file leaves nothing behind.
    let mut agent = start_agent(AgentOptions::default());
    let remote = tempfile::tempdir().unwrap();
    let dir = remote.path().canonicalize().unwrap();
    let dst = dir.join("f");
    let data = pseudo_random(3 << 20, 11);
    let (mut r, mut w) = raw_copy_to(
        &agent,
        &dst,
        &[
            Frame::File {
                path: "f".into(),
                mode: 0o640,
                size: data.len() as u64,
            },
            Frame::Data(Bytes::copy_from_slice(&data[..1 << 20])),
        ],
    )
    .await;
    // The agent (a task of this process) has the file open...
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let open = loop {
        let open = open_files_in(&dir);
        if !open.is_empty() {
            break open;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no file opened in {dir:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    // ... with no name: the directory is empty.
    assert!(open[0].ends_with(" (deleted)"), "{open:?}");
    assert_eq!(dir_entries(&dir), Vec::<String>::new());
    assert!(temp_files(&dir).is_empty());

    for chunk in data[1 << 20..].chunks(1 << 20) {
        w.write_frame(&Frame::Data(Bytes::copy_from_slice(chunk)))
            .await
            .unwrap();
    }
    w.write_frame(&Frame::FileEnd {
        sha256: sha256(&data),
    })
    .await
    .unwrap();
    w.write_frame(&Frame::CopyEnd).await.unwrap();
    assert!(matches!(
        r.read_frame().await.unwrap(),
        Some(Frame::CopyDone { files: 1, .. })
    ));
    agent.next_result().await.unwrap();
    assert_eq!(std::fs::read(&dst).unwrap(), data);
    assert_eq!(mode(&dst), 0o640);
    assert_eq!(dir_entries(&dir), ["f"]);
    assert!(open_files_in(&dir).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_mismatch_is_rejected() {
    let mut agent = start_agent(AgentOptions::default());
    let remote = tempfile::tempdir().unwrap();
    let dst = remote.path().join("f");
    let (mut r, _w) = raw_copy_to(
        &agent,
        &dst,
        &[
            Frame::File {
                path: "f".into(),
                mode: 0o644,
                size: 5,
            },
            Frame::Data(Bytes::from_static(b"hello")),
            Frame::FileEnd {
                sha256: sha256(b"hellO"),
            },
            Frame::CopyEnd,
        ],
    )
    .await;
    match r.read_frame().await.unwrap() {
        Some(Frame::Error { code, message }) => {
            assert_eq!(code, ErrorCode::INTEGRITY);
            assert!(message.contains("SHA-256 mismatch"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        agent.next_result().await,
        Err(AgentError::Request {
            code: ErrorCode::INTEGRITY,
            ..
        })
    ));
    assert!(!dst.exists());
    assert!(temp_files(remote.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_paths_are_rejected() {
    let mut agent = start_agent(AgentOptions::default());
    let remote = tempfile::tempdir().unwrap();
    let dst = remote.path().join("d");
    for bad in ["d/../../escape", "d/./x", "d//x", "other/x", "/abs"] {
        let (mut r, _w) = raw_copy_to(
            &agent,
            &dst,
            &[
                Frame::Dir {
                    path: "d".into(),
                    mode: 0o755,
                },
                Frame::File {
                    path: bad.into(),
                    mode: 0o644,
                    size: 0,
                },
                Frame::FileEnd {
                    sha256: sha256(b""),
                },
                Frame::CopyEnd,
            ],
        )
        .await;
        match r.read_frame().await.unwrap() {
            Some(Frame::Error { code, .. }) => assert_eq!(code, ErrorCode::BAD_REQUEST, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
        assert!(agent.next_result().await.is_err());
    }
    assert!(!remote.path().parent().unwrap().join("escape").exists());
    assert!(temp_files(remote.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_root_confines_paths() {
    let root = tempfile::tempdir().unwrap();
    let mut agent = start_agent(AgentOptions {
        copy_root: Some(root.path().to_path_buf()),
        ..AgentOptions::default()
    });
    let work = tempfile::tempdir().unwrap();
    let f = work.path().join("f");
    std::fs::write(&f, "inside").unwrap();
    // Relative paths land under the root.
    agent.push_ok(&f, "g", false).await;
    assert_eq!(
        std::fs::read_to_string(root.path().join("g")).unwrap(),
        "inside"
    );
    // Outside: refused.
    for bad in ["../escape", "/etc/passwd", "sub/../../escape"] {
        let e = agent.push(&f, bad, false).await.unwrap_err();
        assert_remote(&e, ErrorCode::PERMISSION_DENIED, &format!("{bad}: "));
        let _ = agent.next_result().await;
    }
    let e = agent
        .pull("/etc/hostname", work.path(), false)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("outside the agent's copy root"),
        "{e}"
    );
    assert!(!root.path().parent().unwrap().join("escape").exists());
}
