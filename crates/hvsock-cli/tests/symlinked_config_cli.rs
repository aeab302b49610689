//! `services.toml` and `partitions.toml` as symbolic links to shared files: commands that
//! change them write through to the target and keep the link (they used to replace the
//! link with a plain file and exit 0); links to non-files are refused.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

mod common;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn hvsock(cfg: &Path, args: &[&str]) -> Output {
    let c = common::hvsock(cfg, cfg.join("run"), args);
    common::run(c, b"", Duration::from_secs(20))
}

fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .unwrap()
        .file_type()
        .is_symlink()
}

#[test]
fn changes_to_symlinked_config_files_go_to_the_shared_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    // Two hosts' config dirs share one registry and one table.
    let (c1, c2) = (tmp.path().join("c1"), tmp.path().join("c2"));
    for c in [&c1, &c2] {
        std::fs::create_dir(c).unwrap();
        symlink("../shared/services.toml", c.join("services.toml")).unwrap();
        symlink(shared.join("partitions.toml"), c.join("partitions.toml")).unwrap();
    }
    for (cfg, args) in [
        (&c1, &["service", "add", "echo", "--vsock-port", "5000"][..]),
        (
            &c2,
            &["service", "add", "other", "--vsock-port", "5001"][..],
        ),
        (&c1, &["vm", "add", "box", "--local"][..]),
        (&c2, &["vm", "add", "fc", "--cid", "7"][..]),
        (&c1, &["service", "disable", "other"][..]),
    ] {
        let out = hvsock(cfg, args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    for c in [&c1, &c2] {
        assert!(
            is_link(&c.join("services.toml")),
            "services.toml is no longer a link"
        );
        assert!(
            is_link(&c.join("partitions.toml")),
            "partitions.toml is no longer a link"
        );
        let list = hvsock(c, &["service", "list"]);
        let list = String::from_utf8_lossy(&list.stdout);
        assert!(list.contains("echo") && list.contains("other"), "{list}");
        let vms = hvsock(c, &["vm", "list"]);
        let vms = String::from_utf8_lossy(&vms.stdout);
        assert!(vms.contains("box") && vms.contains("fc"), "{vms}");
    }
    let reg = std::fs::read_to_string(shared.join("services.toml")).unwrap();
    assert!(reg.contains("echo") && reg.contains("other"), "{reg}");
    // Locks and temp files live beside the targets, nothing but the links in the dirs.
    for c in [&c1, &c2] {
        let mut names: Vec<_> = std::fs::read_dir(c)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["partitions.toml", "services.toml"]);
    }
    // `service export -o` through a link writes the target too.
    let out_link = tmp.path().join("export.reg");
    symlink(shared.join("export.reg"), &out_link).unwrap();
    let o = out_link.to_str().unwrap();
    let out = hvsock(&c1, &["service", "export", "--format", "reg", "-o", o]);
    assert!(out.status.success(), "{out:?}");
    assert!(is_link(&out_link));
    assert!(std::fs::metadata(shared.join("export.reg")).unwrap().len() > 0);
}

#[test]
fn a_config_file_linked_to_a_non_file_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let c = tmp.path().join("c");
    std::fs::create_dir(&c).unwrap();
    std::fs::create_dir(tmp.path().join("dir")).unwrap();
    symlink("../dir", c.join("services.toml")).unwrap();
    symlink("services-loop", c.join("partitions.toml")).unwrap();
    symlink("partitions.toml", c.join("services-loop")).unwrap();
    for (args, want) in [
        (
            &["service", "add", "echo", "--vsock-port", "5000"][..],
            "which is a directory",
        ),
        (&["vm", "add", "box", "--local"][..], "a loop?"),
    ] {
        let out = hvsock(&c, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(is_link(&c.join("services.toml")));
    assert!(is_link(&c.join("partitions.toml")));
}
