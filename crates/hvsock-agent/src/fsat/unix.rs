//! The Unix side of [`crate::fsat`]: everything relative to a directory fd, through
//! rustix (no `unsafe`).
//!
//! Paths are resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the
//! kernel has it (Linux 5.6+), else by walking one component at a time with
//! `openat(O_NOFOLLOW)`. Either way no component may be a symlink (`ELOOP`) and the
//! result lies beneath the starting directory.

use super::{Kind, Meta, Opened, Refusal};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// An open directory: the fd everything beneath it is resolved from.
#[derive(Debug)]
pub(crate) struct Dir(OwnedFd);

impl Dir {
    /// Opens the user's own directory `path` (symlinks in it are followed).
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(Dir(rustix::fs::open(path, flags, Mode::empty())?))
    }

    /// Another fd of the same directory.
    pub(crate) fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir(self.0.try_clone()?))
    }

    /// The fd.
    pub(crate) fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

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
pub(crate) fn open_dir(dir: &Dir, rel: &str) -> io::Result<Dir> {
    open_beneath(dir.as_fd(), rel, OFlags::RDONLY | OFlags::DIRECTORY).map(Dir)
}

/// Opens the directory entry `name` of `dir` (one component, not followed if a
/// symlink).
pub(crate) fn open_child_dir(dir: &Dir, name: &OsStr) -> io::Result<Dir> {
    Ok(Dir(rustix::fs::openat(
        dir.as_fd(),
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?))
}

/// Opens the regular file `rel` beneath `dir` for reading (see [`open_beneath`]);
/// anything else (a FIFO, a device...) is refused without blocking on it.
pub(crate) fn open_file(dir: &Dir, rel: &str) -> io::Result<(std::fs::File, u64)> {
    let fd = open_beneath(dir.as_fd(), rel, OFlags::RDONLY | OFlags::NONBLOCK)?;
    let (file, meta) = regular_file(fd)?;
    Ok((file, meta.size))
}

/// `fd` as a blocking [`std::fs::File`] with its metadata, if it is a regular file.
fn regular_file(fd: OwnedFd) -> io::Result<(std::fs::File, Meta)> {
    let meta = meta_of(fd.as_fd())?;
    if meta.kind != Kind::File {
        return Err(io::Error::other("not a regular file"));
    }
    let fl = rustix::fs::fcntl_getfl(&fd)?;
    rustix::fs::fcntl_setfl(&fd, fl - OFlags::NONBLOCK)?;
    Ok((std::fs::File::from(fd), meta))
}

fn kind(mode: u32) -> Kind {
    match FileType::from_raw_mode(mode) {
        FileType::Directory => Kind::Dir,
        FileType::RegularFile => Kind::File,
        _ => Kind::Other,
    }
}

fn meta_of(fd: BorrowedFd<'_>) -> io::Result<Meta> {
    let st = rustix::fs::fstat(fd)?;
    Ok(Meta {
        kind: kind(st.st_mode),
        mode: st.st_mode & 0o777,
        size: st.st_size as u64,
    })
}

/// What an opened fd (the user's path, or one beneath a copy root) is.
fn opened(fd: OwnedFd) -> io::Result<Opened> {
    let meta = meta_of(fd.as_fd())?;
    Ok(match meta.kind {
        Kind::Dir => Opened::Dir(Dir(fd), meta),
        Kind::File => {
            let (file, meta) = regular_file(fd)?;
            Opened::File(file, meta)
        }
        Kind::Other => Opened::Other,
    })
}

/// Opens the user's own source `path` (symlinks in it are followed), without blocking
/// on a FIFO or device.
pub(crate) fn open_source(path: &Path) -> io::Result<Opened> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    opened(fd)
}

/// Opens `rel` beneath `dir` as a copy source, no symlink followed (a copy root).
pub(crate) fn open_source_beneath(dir: &Dir, rel: &str) -> io::Result<Opened> {
    opened(open_beneath(
        dir.as_fd(),
        rel,
        OFlags::RDONLY | OFlags::NONBLOCK,
    )?)
}

/// The names in `dir` (not `.` and `..`), in no particular order.
pub(crate) fn list(dir: &Dir) -> io::Result<Vec<OsString>> {
    use std::os::unix::ffi::OsStrExt;
    let mut names = Vec::new();
    for item in rustix::fs::Dir::read_from(dir.as_fd())? {
        let item = item?;
        let n = item.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    Ok(names)
}

/// What the entry `name` of `dir` is (a symlink is [`Kind::Other`], not followed).
pub(crate) fn meta_at(dir: &Dir, name: &OsStr) -> io::Result<Meta> {
    let st = rustix::fs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(Meta {
        kind: kind(st.st_mode),
        mode: st.st_mode & 0o777,
        size: st.st_size as u64,
    })
}

/// What a name beneath `dir` is, without following a symlink: `None` if it is missing.
pub(crate) fn kind_of(dir: &Dir, name: &OsStr) -> io::Result<Option<Kind>> {
    match rustix::fs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(kind(st.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `mkdirat(dir, name, 0700)` (private until the copy gives it its mode): `Ok(true)` if
/// created, `Ok(false)` if something named `name` already exists (the caller opens it
/// to see what it is).
pub(crate) fn mkdir(dir: &Dir, name: &OsStr) -> io::Result<bool> {
    match rustix::fs::mkdirat(dir.as_fd(), name, Mode::from_raw_mode(0o700)) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes the empty directory `name` of `dir`.
pub(crate) fn rmdir(dir: &Dir, name: &OsStr) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir.as_fd(), name, AtFlags::REMOVEDIR)?)
}

/// Sets the permission bits of a directory.
pub(crate) fn set_dir_mode(dir: &Dir, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::fchmod(dir.as_fd(), Mode::from_raw_mode(mode))?)
}

/// Sets the permission bits of a received file.
pub(crate) fn set_file_mode(file: &std::fs::File, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::fchmod(file, Mode::from_raw_mode(mode))?)
}

/// Unix names need no check beyond the stream's (plain components, no NUL).
pub(crate) fn check_name(_name: &str) -> Result<(), &'static str> {
    Ok(())
}

/// Unix names are case-sensitive: a path is its own key.
pub(crate) fn name_key(path: &str) -> String {
    path.to_string()
}

/// The kernel's refusals: ELOOP (a symlink met with `O_NOFOLLOW` or
/// `RESOLVE_NO_SYMLINKS`), EXDEV (`RESOLVE_BENEATH`).
pub(super) fn os_refusal(e: &io::Error) -> Option<Refusal> {
    match e.raw_os_error() {
        Some(libc::ELOOP) => Some(Refusal::Link),
        Some(libc::EXDEV) => Some(Refusal::Outside),
        _ => None,
    }
}

/// Whether opening a destination as a directory failed because there is none (missing,
/// not a directory, or a symlink not followed).
pub(crate) fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP)
    )
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
    fn masks_group_and_other_write_by_umask() {
        assert_eq!(mask_mode(0o7777) & !0o777, 0);
        assert_eq!(mask_mode(0o777) & umask(), 0);
    }
}
