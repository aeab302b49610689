//! Racing swaps against a copy confined to the agent's copy root: a thread exchanges a
//! directory (or a file) of the tree with a symlink to the outside
//! (`renameat2(RENAME_EXCHANGE)`) in a loop while an upload or a download runs. Nothing
//! may ever land outside the root, nor be read from outside it.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use common::*;
use hvsock_agent::AgentOptions;
use rustix::fs::{CWD, RenameFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

const ROUNDS: usize = 20;
const DIRS: usize = 6;
const FILES: usize = 40;

/// Regular files below `dir` (symlinks not followed), each checked to hold `payload`
/// and not to be a temp file.
fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            n += count_files(&e.path());
        } else if t.is_file() {
            assert!(!is_temp_name(&e.path()), "{:?}", e.path());
            assert_eq!(std::fs::read(e.path()).unwrap(), b"payload");
            n += 1;
        }
    }
    n
}

fn make_tree(top: &Path, content: &str) {
    for d in 0..DIRS {
        let dir = top.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..FILES {
            std::fs::write(dir.join(format!("f{f:03}")), content).unwrap();
        }
    }
}

/// Exchanges `a` and `b` until `stop`; counts the exchanges that happened.
fn swapper(
    pairs: Vec<(PathBuf, PathBuf)>,
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            for (a, b) in &pairs {
                if rustix::fs::renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).is_ok() {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::yield_now();
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_a_directory_for_a_symlink_during_an_upload() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let outside = t.path().join("outside");
    std::fs::create_dir_all(root.join("up")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    let mut agent = start_agent(AgentOptions {
        copy_root: Some(root.clone()),
        ..AgentOptions::default()
    });
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("tree");
    make_tree(&src, "payload");
    let swaps = Arc::new(AtomicU64::new(0));
    let (mut ok, mut failed) = (0, 0);
    for round in 0..ROUNDS {
        let tree = root.join("up/tree");
        // The attacker prepares `tree/evil -> OUTSIDE` once the copy created `tree`.
        let stop = Arc::new(AtomicBool::new(false));
        let pairs: Vec<_> = (0..DIRS)
            .map(|d| (tree.join(format!("d{d}")), tree.join("evil")))
            .collect();
        let (stop2, swaps2, tree2, outside2) =
            (stop.clone(), swaps.clone(), tree.clone(), outside.clone());
        let planter = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                if std::os::unix::fs::symlink(&outside2, tree2.join("evil")).is_ok() {
                    break;
                }
                std::thread::yield_now();
            }
            swapper(pairs, stop2, swaps2).join().unwrap();
        });
        let r = agent.push(&src, "up", true).await;
        stop.store(true, Ordering::Relaxed);
        planter.join().unwrap();
        let _ = agent.next_result().await;
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "round {round}: something landed outside the root ({r:?})"
        );
        match r {
            Ok(s) => {
                ok += 1;
                assert_eq!(s.files as usize, DIRS * FILES);
                // Every file is inside the root. (The attacker renames directories
                // within the tree while files are written: same-named files of two
                // directories may land in one and replace each other; never outside.)
                let n = count_files(&tree);
                assert!(n > 0 && n <= DIRS * FILES, "round {round}: {n} files");
            }
            Err(_) => failed += 1,
        }
        std::fs::remove_dir_all(&tree).unwrap();
    }
    eprintln!(
        "upload: {ok} copies complete, {failed} refused, {} swaps",
        swaps.load(Ordering::Relaxed)
    );
    assert!(swaps.load(Ordering::Relaxed) > 0, "the race never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_files_and_directories_for_symlinks_during_a_download() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let outside = t.path().join("outside");
    let src = root.join("src");
    make_tree(&src, "inside");
    make_tree(&outside, "SECRET");
    std::fs::write(outside.join("secret"), "SECRET").unwrap();
    // The swap partners: a symlink to an outside directory beside the tree's
    // directories, and a symlink to an outside file beside one of its files.
    std::os::unix::fs::symlink(outside.join("d0"), src.join("evil")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), src.join("d1/evil")).unwrap();
    let mut pairs: Vec<_> = (0..DIRS)
        .filter(|d| *d != 1)
        .map(|d| (src.join(format!("d{d}")), src.join("evil")))
        .collect();
    pairs.push((src.join("d1/f005"), src.join("d1/evil")));
    let mut agent = start_agent(AgentOptions {
        copy_root: Some(root.clone()),
        ..AgentOptions::default()
    });
    let swaps = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = swapper(pairs, stop.clone(), swaps.clone());
    let (mut ok, mut failed) = (0, 0);
    for round in 0..ROUNDS {
        let local = tempfile::tempdir().unwrap();
        let r = agent.pull("src", local.path(), true).await;
        let _ = agent.next_result().await;
        if r.is_ok() {
            ok += 1
        } else {
            failed += 1
        }
        // Nothing received may come from outside the root.
        fn scan(dir: &Path, round: usize) {
            for e in std::fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                assert!(!t.is_symlink(), "round {round}: a symlink was received");
                if t.is_dir() {
                    scan(&e.path(), round);
                } else if !is_temp_name(&e.path()) {
                    let data = std::fs::read(e.path()).unwrap();
                    assert_ne!(
                        data,
                        b"SECRET",
                        "round {round}: {:?} came from outside",
                        e.path()
                    );
                }
            }
        }
        scan(local.path(), round);
    }
    stop.store(true, Ordering::Relaxed);
    attacker.join().unwrap();
    eprintln!(
        "download: {ok} copies complete, {failed} refused, {} swaps",
        swaps.load(Ordering::Relaxed)
    );
    assert!(swaps.load(Ordering::Relaxed) > 0, "the race never ran");
}
