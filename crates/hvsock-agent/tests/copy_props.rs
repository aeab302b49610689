//! Property tests of the copy-stream receiver: random (hostile) streams never write
//! outside the destination nor through a symlink planted in it, and every honest
//! stream of a random tree is accepted and reproduces the tree.

mod common;

use bytes::Bytes;
use common::sha256;
use hvsock_agent::framed::FrameReader;
use hvsock_agent::proto::{self, Frame};
use hvsock_agent::tree::{self, Dest, Expect};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

fn expect(recursive: bool) -> Expect {
    Expect {
        root: Some("t".into()),
        recursive,
        idle_timeout: Duration::from_secs(30),
    }
}

/// Runs the receiver on the encoded `frames` into `dst`.
fn receive(frames: &[Frame], dst: &Path, recursive: bool) -> Result<tree::CopySummary, String> {
    let mut bytes = Vec::new();
    for f in frames {
        bytes.extend(proto::encode_to_vec(f).unwrap());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut r = FrameReader::new(&bytes[..]);
        let dest = Dest::open(dst).map_err(|e| e.to_string())?;
        tree::receive_tree(&mut r, &dest, &expect(recursive), None)
            .await
            .map_err(|e| e.to_string())
    })
}

/// Every entry below `dir` (symlinks not followed): path → Some(content) or None (dir).
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            let t = e.file_type().unwrap();
            if t.is_dir() {
                out.insert(rel, None);
                walk(base, &e.path(), out);
            } else if t.is_symlink() {
                out.insert(rel, Some(b"<symlink>".to_vec()));
            } else {
                out.insert(rel, Some(std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Names a hostile stream is made of: good ones, bad ones, and the planted `link`.
fn any_path() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "t",
        "t/a",
        "t/b",
        "t/a/b",
        "t/link",
        "t/link/x",
        "t/a/link",
        "u",
        "u/a",
        "..",
        "t/..",
        "t/../x",
        "t/./a",
        "t//a",
        "",
        "/t",
        "t/a/",
        ".hvsock-aaaaaa.tmp",
        "t/\u{1b}[2J",
    ])
    .prop_map(str::to_string)
}

fn any_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (0u64..4, 0u64..16).prop_map(|(files, bytes)| Frame::CopyTotal { files, bytes }),
        (any_path(), any::<u32>()).prop_map(|(path, mode)| Frame::Dir { path, mode }),
        (any_path(), any::<u32>(), 0u64..8).prop_map(|(path, mode, size)| Frame::File {
            path,
            mode,
            size
        }),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|d| Frame::Data(Bytes::from(d))),
        prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(|d| Frame::FileEnd { sha256: sha256(&d) }),
        Just(Frame::FileEnd {
            sha256: sha256(b"")
        }),
        Just(Frame::CopyEnd),
    ]
}

/// A random tree below the root `t`: directories and files with contents.
fn any_tree() -> impl Strategy<Value = BTreeMap<String, Option<Vec<u8>>>> {
    let name = prop::sample::select(vec!["a", "b", "c", "long name é", ".hidden"]);
    prop::collection::vec(
        (
            prop::collection::vec(name, 1..4),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
        ),
        0..12,
    )
    .prop_map(|items| {
        let mut tree: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        'item: for (parts, content) in items {
            // Every ancestor must be (or become) a directory.
            for i in 1..parts.len() {
                let anc = parts[..i].join("/");
                match tree.get(&anc) {
                    Some(Some(_)) => continue 'item,
                    Some(None) => {}
                    None => {
                        tree.insert(anc, None);
                    }
                }
            }
            let path = parts.join("/");
            tree.entry(path).or_insert(content);
        }
        tree
    })
}

/// The honest stream of `tree` (as `send_tree` orders it: parents first).
fn stream_of(tree: &BTreeMap<String, Option<Vec<u8>>>) -> Vec<Frame> {
    let mut frames = vec![Frame::Dir {
        path: "t".into(),
        mode: 0o755,
    }];
    let (mut files, mut bytes) = (0, 0);
    for (path, content) in tree {
        let path = format!("t/{path}");
        match content {
            None => frames.push(Frame::Dir { path, mode: 0o750 }),
            Some(data) => {
                files += 1;
                bytes += data.len() as u64;
                frames.push(Frame::File {
                    path,
                    mode: 0o640,
                    size: data.len() as u64,
                });
                if !data.is_empty() {
                    frames.push(Frame::Data(Bytes::copy_from_slice(data)));
                }
                frames.push(Frame::FileEnd {
                    sha256: sha256(data),
                });
            }
        }
    }
    frames.insert(0, Frame::CopyTotal { files, bytes });
    frames.push(Frame::CopyEnd);
    frames
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_streams_never_write_outside_dst(
        frames in prop::collection::vec(any_frame(), 0..16),
        honest_total in any::<bool>(),
        recursive in any::<bool>(),
    ) {
        let outer = tempfile::tempdir().unwrap();
        let dst = outer.path().join("dst");
        let outside = outer.path().join("outside");
        std::fs::create_dir_all(dst.join("t")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outer.path().join("sentinel"), "keep").unwrap();
        // Windows (wine) cannot plant a symlink: there `t/link` is simply absent.
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, dst.join("t/link")).unwrap();
        let mut frames = frames;
        if honest_total {
            let (mut files, mut bytes) = (0, 0);
            for f in &frames {
                if let Frame::File { size, .. } = f {
                    files += 1;
                    bytes += size;
                }
            }
            frames.insert(0, Frame::CopyTotal { files, bytes });
        }
        let _ = receive(&frames, &dst, recursive);
        let mut top: Vec<String> = std::fs::read_dir(outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        top.sort();
        prop_assert_eq!(top, ["dst", "outside", "sentinel"]);
        prop_assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        prop_assert_eq!(std::fs::read_to_string(outer.path().join("sentinel")).unwrap(), "keep");
        // No temp file is left, and the pre-existing directory kept its mode.
        for (path, _) in snapshot(&dst) {
            prop_assert!(!path.rsplit('/').next().unwrap().starts_with(".hvsock-"), "{}", path);
        }
    }

    #[test]
    fn an_honest_stream_is_always_accepted(tree in any_tree()) {
        let outer = tempfile::tempdir().unwrap();
        let frames = stream_of(&tree);
        let s = receive(&frames, outer.path(), true).unwrap();
        prop_assert_eq!(s.files as usize, tree.values().filter(|c| c.is_some()).count());
        prop_assert_eq!(snapshot(&outer.path().join("t")), tree.clone());
        // Into a new name (not an existing directory): the root becomes it.
        let dst = outer.path().join("renamed");
        receive(&frames, &dst, true).unwrap();
        prop_assert_eq!(snapshot(&dst), tree);
    }
}
