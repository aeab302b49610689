//! Tests of the store: atomic replace, locks, links, errors.

use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn write_creates_and_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("a/b");
    let file = cfg.join("f.toml");
    assert!(read_optional(&file).unwrap().is_none());
    let l = lock(&file).unwrap();
    assert_eq!(l.path(), cfg.join("f.toml.lock"));
    assert_eq!(
        fs::metadata(l.path()).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(&cfg).unwrap().permissions().mode() & 0o7777 & !0o022,
        0o755 & !0o022
    );
    write_atomic(&file, b"one").unwrap();
    write_atomic(&file, b"two").unwrap();
    drop(l);
    assert_eq!(read_optional(&file).unwrap().unwrap(), "two");
    let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o022, 0, "group/other may not write: {mode:o}");
    assert_eq!(mode & 0o600, 0o600);
    // No temp files left behind.
    let names: Vec<_> = fs::read_dir(&cfg)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["f.toml", "f.toml.lock"]);
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Regression (security review): a data file that was a symlink to a shared file
/// was replaced by a plain file. The link stays; its target is replaced atomically.
#[test]
fn a_symlinked_data_file_is_written_through_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    let cfg = dir.path().join("cfg");
    fs::create_dir_all(&shared).unwrap();
    fs::create_dir_all(&cfg).unwrap();
    fs::write(shared.join("real.toml"), b"old").unwrap();
    // Relative link, to a relative link, to the shared file.
    std::os::unix::fs::symlink("../shared/mid.toml", cfg.join("f.toml")).unwrap();
    std::os::unix::fs::symlink("real.toml", shared.join("mid.toml")).unwrap();
    let file = cfg.join("f.toml");
    let shared = shared.canonicalize().unwrap();
    assert_eq!(resolve_target(&file).unwrap(), shared.join("real.toml"));
    {
        let l = lock(&file).unwrap();
        assert_eq!(l.path(), shared.join("real.toml.lock"));
        write_atomic(&file, b"new").unwrap();
    }
    assert!(
        fs::symlink_metadata(&file)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::symlink_metadata(shared.join("mid.toml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(shared.join("real.toml")).unwrap(), b"new");
    assert_eq!(read_optional(&file).unwrap().unwrap(), "new");
    assert_eq!(names(&cfg), ["f.toml"]);
    assert_eq!(names(&shared), ["mid.toml", "real.toml", "real.toml.lock"]);
    // A dangling link: the target is created, the link kept.
    let absent = shared.join("absent.toml");
    std::os::unix::fs::symlink(&absent, cfg.join("g.toml")).unwrap();
    write_atomic(&cfg.join("g.toml"), b"created").unwrap();
    assert_eq!(fs::read(&absent).unwrap(), b"created");
    assert!(
        fs::symlink_metadata(cfg.join("g.toml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn links_to_non_files_and_loops_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(d.join("sub"), d.join("to-dir.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/null", d.join("to-null.toml")).unwrap();
    std::os::unix::fs::symlink("loop-b.toml", d.join("loop-a.toml")).unwrap();
    std::os::unix::fs::symlink("loop-a.toml", d.join("loop-b.toml")).unwrap();
    for (name, want) in [
        ("to-dir.toml", "which is a directory"),
        ("to-null.toml", "/dev/null, which is not a regular file"),
        ("loop-a.toml", "symbolic links (a loop?)"),
    ] {
        let f = d.join(name);
        let e = write_atomic(&f, b"x").unwrap_err();
        assert_eq!(e.path(), f, "{e}");
        assert!(e.to_string().contains(want), "{name}: {e}");
        assert!(lock(&f).is_err(), "{name}");
        assert!(fs::symlink_metadata(&f).unwrap().file_type().is_symlink());
    }
    assert!(d.join("sub").is_dir());
    assert!(names(&d.join("sub")).is_empty());
    // A plain directory in the file's place is refused the same way.
    let e = write_atomic(&d.join("sub"), b"x").unwrap_err();
    assert!(e.to_string().contains("a directory; refusing"), "{e}");
}

#[test]
fn temp_files_of_dead_writers_are_removed_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.toml");
    // Above the kernel's largest pid_max (2^22): never a live process.
    let dead = dir.path().join(".f.toml.tmp.4194305.0.1");
    let mine = dir
        .path()
        .join(format!(".f.toml.tmp.{}.9.9", std::process::id()));
    let other_file = dir.path().join(".g.toml.tmp.4194305.0.1");
    let not_ours = dir.path().join(".f.toml.tmp.notapid");
    for p in [&dead, &mine, &other_file, &not_ours] {
        fs::write(p, b"half").unwrap();
    }
    let _l = lock(&file).unwrap();
    assert!(!dead.exists(), "a dead writer's temp file is removed");
    for p in [&mine, &other_file, &not_ours] {
        assert!(p.exists(), "{} kept", p.display());
    }
}

#[test]
fn write_errors_name_the_data_file() {
    let dir = tempfile::tempdir().unwrap();
    // The temp file cannot be created (no directory; root ignores modes): the error
    // is about the data file, not the temp file.
    let missing = dir.path().join("no/such/dir/f.toml");
    let e = write_atomic(&missing, b"new").unwrap_err();
    assert_eq!(e.path(), missing);
    assert!(!e.to_string().contains(".tmp."), "{e}");
    assert!(e.to_string().contains("No such file"), "{e}");
}

#[test]
fn parse_error_names_path_line_and_column() {
    let p = Path::new("/x/services.toml");
    let e = parse_toml::<toml::Table>(p, "a = 1\nb = = 2\n").unwrap_err();
    let s = e.to_string();
    assert!(s.contains("/x/services.toml"), "{s}");
    assert!(s.contains("line 2"), "{s}");
    assert!(!s.contains('\n'), "{s}");
    assert_eq!(e.path(), p);
}

#[test]
fn non_utf8_is_a_parse_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    fs::write(&f, b"a = \"\xff\"").unwrap();
    assert!(matches!(read_optional(&f), Err(StoreError::Parse { .. })));
}

#[test]
fn unreadable_is_io_error_with_path() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where a file is expected cannot be read as a file.
    let f = dir.path().join("f");
    fs::create_dir(&f).unwrap();
    let e = read_optional(&f).unwrap_err();
    assert!(matches!(e, StoreError::Io { .. }));
    assert!(e.to_string().contains(&*f.to_string_lossy()));
}

#[test]
fn lock_is_exclusive_across_threads() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let inside = AtomicU32::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20 {
                    let _l = lock(&file).unwrap();
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    std::thread::yield_now();
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    });
}
