//! The copy-stream receiver (crates/hvsock-agent/src/receive.rs) against a hostile
//! sender: the fuzzer's bytes are the frames a peer sends after `CopyFrom`/`CopyTo`,
//! received into a temp directory that holds a planted symlink to the outside.
//!
//! Input: one flag byte (bit 0: recursive request; bit 1: the root must be `t`; bit 2:
//! the destination is a new name rather than an existing directory), then the frames.
#![no_main]
use hvsock_agent::framed::FrameReader;
use hvsock_agent::tree::{self, Dest, Expect};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::time::Duration;

/// Every entry below `dir`, symlinks not followed: (path, is_symlink).
fn entries(dir: &Path, out: &mut Vec<(String, bool)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        out.push((e.path().to_string_lossy().into_owned(), t.is_symlink()));
        if t.is_dir() {
            entries(&e.path(), out);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, stream)) = data.split_first() else {
        return;
    };
    let outer = tempfile::tempdir().unwrap();
    let dst = outer.path().join("dst");
    let outside = outer.path().join("outside");
    std::fs::create_dir_all(dst.join("t")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outer.path().join("sentinel"), "keep").unwrap();
    std::os::unix::fs::symlink(&outside, dst.join("t/link")).unwrap();
    let target = if flags & 4 != 0 {
        dst.join("new")
    } else {
        dst.clone()
    };
    let expect = Expect {
        root: (flags & 2 != 0).then(|| "t".to_string()),
        recursive: flags & 1 != 0,
        idle_timeout: Duration::from_secs(10),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(async {
        let dest = Dest::open(&target)?;
        let mut r = FrameReader::new(stream);
        tree::receive_tree(&mut r, &dest, &expect, None).await
    });
    // Nothing outside the destination: the outer directory, the outside directory and
    // the sentinel are as they were.
    let mut top: Vec<String> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["dst", "outside", "sentinel"]);
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_to_string(outer.path().join("sentinel")).unwrap(),
        "keep"
    );
    // No temp file left, no symlink created (the planted one may only have been
    // replaced by a file).
    let mut all = Vec::new();
    entries(&dst, &mut all);
    for (path, is_link) in &all {
        let name = path.rsplit('/').next().unwrap();
        assert!(
            !(name.starts_with(".hvsock-") && name.ends_with(".tmp")),
            "{path}"
        );
        assert!(!is_link || path.ends_with("/dst/t/link"), "{path}");
    }
    // A non-recursive copy that succeeded wrote exactly one file and no directory.
    if let Ok(s) = result
        && !expect.recursive
    {
        assert_eq!((s.files, s.dirs), (1, 0));
    }
});
