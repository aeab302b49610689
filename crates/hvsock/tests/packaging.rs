#![cfg(unix)]
//! The published crates carry the workspace's license texts: cargo packages only files
//! under a crate's folder (an `include` of `../../LICENSE-MIT` matches nothing, and
//! symlinks are not allowed), so each crate has copies, which must stay the root's.

use std::path::Path;

#[test]
fn each_published_crate_carries_the_root_license_texts() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let root = crates.parent().unwrap();
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let want = std::fs::read(root.join(file)).unwrap();
        assert!(!want.is_empty(), "{file} is empty");
        for krate in ["hvsock", "hvsock-agent", "hvsock-cli"] {
            let copy = crates.join(krate).join(file);
            let got = std::fs::read(&copy).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
            assert!(
                got == want,
                "{} differs from the root's {file}: copy it again",
                copy.display()
            );
            let manifest = std::fs::read_to_string(crates.join(krate).join("Cargo.toml")).unwrap();
            assert!(
                manifest.contains(&format!("\"/{file}\"")),
                "{krate}'s Cargo.toml does not include /{file} in its package"
            );
        }
    }
    let mit = std::fs::read_to_string(root.join("LICENSE-MIT")).unwrap();
    assert!(mit.contains("Copyright (c) The hvsock developers"), "{mit}");
}
