//! File operations relative to a directory fd that never follow a symbolic link below
//! it: what the copy code uses for every path that comes from a peer (and, with a copy
//! root, from a request).
//!
//! Paths are resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the
//! kernel has it (Linux 5.6+), else by walking one component at a time with
//! `openat(O_NOFOLLOW)`. Either way no component may be a symlink (`ELOOP`) and the
//! result lies beneath the starting directory. Names are plain components: callers
//! check them (no `..`, `.` or empty ones, no `/`) before calling.
//!
//! No `unsafe`: everything goes through rustix.

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Whether `openat2` failed with ENOSYS once (then the component walk is used).
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Opens `rel` (`/`-separated plain components; `""` or `"."` is `dir` itself) beneath
/// `dir` with `flags`, following no symlink at any component.
pub(crate) fn open_beneath(dir: BorrowedFd<'_>, rel: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let rel = if rel.is_empty() { "." } else { rel };
    let flags = flags | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        match rustix::fs::openat2(
            dir,
            rel,
            flags,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(rustix::io::Errno::NOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            r => return r.map_err(io::Error::from),
        }
    }
    walk_open(dir, rel, flags)
}

/// The fallback of [`open_beneath`]: one `openat(O_NOFOLLOW)` per component.
fn walk_open(dir: BorrowedFd<'_>, rel: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(io::Error::from_raw_os_error(libc::EXDEV));
    }
    let Some((last, dirs)) = parts.split_last() else {
        return rustix::fs::openat(dir, ".", flags, Mode::empty()).map_err(io::Error::from);
    };
    let mut cur: Option<OwnedFd> = None;
    for c in dirs {
        let at = cur.as_ref().map_or(dir, |f| f.as_fd());
        let next = rustix::fs::openat(
            at,
            *c,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        cur = Some(next);
    }
    let at = cur.as_ref().map_or(dir, |f| f.as_fd());
    Ok(rustix::fs::openat(at, *last, flags, Mode::empty())?)
}

/// Opens the directory `rel` beneath `dir` (see [`open_beneath`]).
pub(crate) fn open_dir(dir: BorrowedFd<'_>, rel: &str) -> io::Result<OwnedFd> {
    open_beneath(dir, rel, OFlags::RDONLY | OFlags::DIRECTORY)
}

/// Opens the directory entry `name` of `dir` (one component, not followed if a
/// symlink).
pub(crate) fn open_child_dir(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Opens the regular file `rel` beneath `dir` for reading (see [`open_beneath`]);
/// anything else (a FIFO, a device...) is refused without blocking on it.
pub(crate) fn open_file(dir: BorrowedFd<'_>, rel: &str) -> io::Result<(std::fs::File, u64)> {
    let fd = open_beneath(dir, rel, OFlags::RDONLY | OFlags::NONBLOCK)?;
    regular_file(fd)
}

/// `fd` as a blocking [`std::fs::File`] with its size, if it is a regular file.
pub(crate) fn regular_file(fd: OwnedFd) -> io::Result<(std::fs::File, u64)> {
    let st = rustix::fs::fstat(&fd)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(io::Error::other("not a regular file"));
    }
    let fl = rustix::fs::fcntl_getfl(&fd)?;
    rustix::fs::fcntl_setfl(&fd, fl - OFlags::NONBLOCK)?;
    Ok((std::fs::File::from(fd), st.st_size as u64))
}

/// `mkdirat(dir, name, mode)`: `Ok(true)` if created, `Ok(false)` if something named
/// `name` already exists (the caller opens it to see what it is).
pub(crate) fn mkdir(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> io::Result<bool> {
    match rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(mode)) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// An anonymous (`O_TMPFILE`) file in `dir`, mode 0600.
pub(crate) fn tmpfile(dir: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        dir,
        ".",
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?)
}

/// Creates the new file `name` in `dir` (`O_CREAT | O_EXCL | O_NOFOLLOW`), mode 0600.
pub(crate) fn create_excl(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        dir,
        name,
        OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?)
}

/// `/proc/self/fd/N`: the magic link through which an anonymous file can be linked.
pub(crate) fn proc_fd(fd: BorrowedFd<'_>) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Gives the anonymous file `fd` the name `name` in `dir` (fails if it exists).
pub(crate) fn link_tmpfile(fd: BorrowedFd<'_>, dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    Ok(rustix::fs::linkat(
        rustix::fs::CWD,
        proc_fd(fd).as_str(),
        dir,
        name,
        AtFlags::SYMLINK_FOLLOW,
    )?)
}

/// `renameat(dir, from, dir, to)`: replaces `to` (a file or a symlink itself, never
/// what a symlink points to).
pub(crate) fn rename(dir: BorrowedFd<'_>, from: &str, to: &OsStr) -> io::Result<()> {
    Ok(rustix::fs::renameat(dir, from, dir, to)?)
}

/// Removes the file `name` of `dir`.
pub(crate) fn unlink(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?)
}

/// Removes the empty directory `name` of `dir`.
pub(crate) fn rmdir(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
}

/// Sets the permission bits of an open file or directory.
pub(crate) fn chmod(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))?)
}

/// What a name beneath `dir` is, without following a symlink: `None` if it is missing.
pub(crate) fn kind_of(
    dir: BorrowedFd<'_>,
    name: &OsStr,
) -> io::Result<Option<rustix::fs::FileType>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(rustix::fs::FileType::from_raw_mode(st.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A fresh short hidden temp name, `.hvsock-XXXXXX.tmp` (13 + 6 bytes: fits beside any
/// name).
pub(crate) fn temp_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let mut x = h.finish();
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut s = String::from(".hvsock-");
    for _ in 0..6 {
        s.push(ALPHABET[(x & 31) as usize] as char);
        x >>= 5;
    }
    s.push_str(TEMP_SUFFIX);
    s
}

/// The suffix of every temp name: `.hvsock-XXXXXX.tmp`.
pub const TEMP_SUFFIX: &str = ".tmp";

/// The process umask (from `/proc/self/status`, read once: setting and restoring it
/// with `umask(2)` would race with other threads creating files). Without `/proc`,
/// 0o022.
pub(crate) fn umask() -> u32 {
    static UMASK: OnceLock<u32> = OnceLock::new();
    *UMASK.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o022)
    })
}

/// A mode from a peer as this side applies it: permission bits only, less the umask.
pub(crate) fn mask_mode(mode: u32) -> u32 {
    mode & 0o777 & !umask()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beneath_refuses_symlinks_and_escapes_both_ways() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink(t.path(), root.join("a/link")).unwrap();
        let fd =
            rustix::fs::open(&root, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        for walk in [false, true] {
            let open = |rel: &str| {
                if walk {
                    walk_open(fd.as_fd(), rel, OFlags::RDONLY | OFlags::NOFOLLOW)
                } else {
                    open_beneath(fd.as_fd(), rel, OFlags::RDONLY)
                }
            };
            assert!(open("a/b/f").is_ok(), "walk={walk}");
            assert!(open("").is_ok());
            let e = open("a/link/root").unwrap_err();
            assert!(
                matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)),
                "{e}"
            );
            assert_eq!(
                open("a/link").unwrap_err().raw_os_error(),
                Some(libc::ELOOP)
            );
            assert!(open("../root").is_err());
        }
    }

    #[test]
    fn temp_names_are_short_hidden_and_distinct() {
        let a = temp_name();
        let b = temp_name();
        assert_ne!(a, b);
        assert_eq!(a.len(), ".hvsock-XXXXXX.tmp".len());
        assert!(a.starts_with(".hvsock-") && a.ends_with(".tmp"), "{a}");
    }

    #[test]
    fn masks_group_and_other_write_by_umask() {
        assert_eq!(mask_mode(0o7777) & !0o777, 0);
        assert_eq!(mask_mode(0o777) & umask(), 0);
    }
}
