//! File operations relative to an open directory that never follow a link below it:
//! what the copy code uses for every path that comes from a peer (and, with a copy
//! root, from a request), on each platform.
//!
//! The crate-internal API, the same on Unix (`unix.rs`, through rustix) and Windows
//! (`windows.rs`, through the handle-relative NT calls in `sys::winfs`):
//!
//! * [`Dir`]: an open directory (an fd, a handle). `Dir::open(path)` opens the user's
//!   own path (links in it are followed: the user's choice); `try_clone`.
//! * `open_dir(&Dir, rel)` / `open_child_dir(&Dir, name)`: a directory beneath, no
//!   link (symlink, junction, any reparse point) followed at any component.
//! * `open_file(&Dir, rel) -> (File, size)`: a regular file beneath, for reading.
//! * `open_source(path) -> Opened`: the user's own path, a file or a directory.
//! * `list(&Dir)`, `meta_at(&Dir, name) -> Meta`, `kind_of(&Dir, name)`: what is in a
//!   directory, without following links.
//! * `mkdir(&Dir, name) -> created?` (private until the copy sets its mode),
//!   `rmdir(&Dir, name)`, `set_dir_mode(&Dir, mode)`, `set_file_mode(&File, mode)`.
//! * `mask_mode(mode)`: a peer's mode as this side applies it; `check_name(name)`:
//!   whether a name from a peer may be created here; `name_key(path)`: the key under
//!   which two stream paths name the same file here.
//! * [`refusal`]: whether an error is one of this module's refusals ([`Refusal`]).
//!
//! The files being received go through `crate::pending::PendingFile` (temp file,
//! renamed into place relative to its directory). Names are plain components: callers
//! check them (no `..`, `.` or empty ones, no `/`) before calling.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

/// What a directory entry is, links not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A directory (on Windows: one that is not a reparse point).
    Dir,
    /// A regular file (on Windows: one that is not a reparse point).
    File,
    /// Anything else: a symlink, a junction or other reparse point, a device, a FIFO...
    Other,
}

/// What a copy sends of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) kind: Kind,
    /// Permission bits (0o777) as sent: on Unix the file's own; on Windows 0o755 for a
    /// directory, 0o644 for a file (0o444 if it is read-only).
    pub(crate) mode: u32,
    /// Size in bytes (files).
    pub(crate) size: u64,
}

/// The user's own source path, opened once.
#[derive(Debug)]
pub(crate) enum Opened {
    /// A directory.
    Dir(Dir, Meta),
    /// A regular file, positioned at its start.
    File(std::fs::File, Meta),
    /// Something a copy does not send (a device, a FIFO...).
    Other,
}

/// Why this module refused a path (carried inside an [`io::Error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A component is a link (symlink, junction, reparse point): not followed.
    Link,
    /// The path would leave the directory it is resolved beneath.
    Outside,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Link => "a symbolic link is not followed here",
            Refusal::Outside => "outside the directory it must stay in",
        })
    }
}

impl std::error::Error for Refusal {}

/// An [`io::Error`] carrying `r` (Windows; on Unix the kernel's ELOOP and EXDEV are
/// used, see `refusal`).
#[cfg_attr(unix, allow(dead_code))]
pub(crate) fn refused(r: Refusal) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, r)
}

/// The refusal `e` carries, if any: one of [`refused`], or on Unix ELOOP (a symlink
/// met with `O_NOFOLLOW` / `RESOLVE_NO_SYMLINKS`) and EXDEV (`RESOLVE_BENEATH`).
pub(crate) fn refusal(e: &io::Error) -> Option<Refusal> {
    if let Some(r) = e.get_ref().and_then(|r| r.downcast_ref::<Refusal>()) {
        return Some(*r);
    }
    os_refusal(e)
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

/// The names Windows reserves for devices, with or without an extension (`NUL.txt`
/// opens the device too through a Win32 path).
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4",
    "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3",
    "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// Why a name from a peer cannot be created on Windows, or `None` if it can: reserved
/// device names (`CON`, `NUL`, `COM1`, `LPT1`... also with an extension), the
/// characters `\ / : * ? " < > |` and controls (`:` would name an alternate data
/// stream, `\` a path), a trailing dot or space (Windows drops them: `a.` is `a`) and
/// 8.3 short names (`PROGRA~1`), all of which would alias another file or a device.
///
/// Pure, so it is tested on every platform; only the Windows receiver applies it.
#[cfg_attr(unix, allow(dead_code))]
pub(crate) fn windows_name_problem(name: &str) -> Option<&'static str> {
    if name.chars().any(|c| {
        (c as u32) < 0x20 || matches!(c, '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
    }) {
        return Some(
            "a character Windows does not allow in names (\\ / : * ? \" < > | or a control)",
        );
    }
    if name.ends_with('.') || name.ends_with(' ') {
        return Some("ends with a dot or a space, which Windows drops");
    }
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        return Some("a device name reserved by Windows");
    }
    if looks_short(name) {
        return Some("looks like an 8.3 short name, which may name another file");
    }
    None
}

/// Whether `name` has the form of an 8.3 short name with a numeric tail (`ABCDEF~1`,
/// `GIT~12.TXT`): up to 8 characters ending in `~` and digits, an extension of up to 3.
fn looks_short(name: &str) -> bool {
    let (base, ext) = match name.rsplit_once('.') {
        Some((b, e)) => (b, Some(e)),
        None => (name, None),
    };
    if base.chars().count() > 8 || ext.is_some_and(|e| e.chars().count() > 3 || e.contains('.')) {
        return false;
    }
    match base.rsplit_once('~') {
        Some((head, digits)) => {
            !head.is_empty() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_short_hidden_and_distinct() {
        let a = temp_name();
        let b = temp_name();
        assert_ne!(a, b);
        assert_eq!(a.len(), ".hvsock-XXXXXX.tmp".len());
        assert!(a.starts_with(".hvsock-") && a.ends_with(".tmp"), "{a}");
    }

    #[test]
    fn windows_names_that_alias_are_refused() {
        for bad in [
            "CON",
            "con",
            "Nul.txt",
            "COM1",
            "lpt9.tar.gz",
            "AUX ",
            "CONIN$",
            "a\\b",
            "c:x",
            "a:stream",
            "x*",
            "q?",
            "\"",
            "<",
            ">",
            "|",
            "tab\there",
            "dot.",
            "space ",
            "PROGRA~1",
            "git~12.txt",
            "A~1",
        ] {
            assert!(windows_name_problem(bad).is_some(), "{bad:?} accepted");
        }
        for good in [
            "CONSOLE",
            "con_",
            "nul-file",
            "COM10",
            "file.txt",
            ".hidden",
            "a~b",
            "~1",
            "longername~1",
            "x~1.long",
            "é",
            "a.b.c",
        ] {
            assert_eq!(windows_name_problem(good), None, "{good:?} refused");
        }
    }

    #[test]
    fn refusals_are_recognised() {
        assert_eq!(refusal(&refused(Refusal::Link)), Some(Refusal::Link));
        assert_eq!(refusal(&refused(Refusal::Outside)), Some(Refusal::Outside));
        assert_eq!(refusal(&io::Error::other("x")), None);
    }
}
