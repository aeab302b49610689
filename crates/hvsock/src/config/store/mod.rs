//! Locked, atomic storage of the TOML files in the config directory, shared by the
//! [service registry](crate::config::registry) and the [partition table](crate::config::partitions).
//!
//! The rules, which keep a file from ever being lost or half-written:
//!
//! - Readers need no lock: a file is only ever replaced whole, by `rename`.
//! - Writers serialize on `flock(LOCK_EX)` of a sibling lock file `<file>.lock` (never on
//!   the data file itself, which the rename replaces), read the current file, change it,
//!   and write it back: temp file in the same directory, write, `fsync`, rename over the
//!   old file, `fsync` the directory.
//! - Temp files are named `.<file>.tmp.<pid>.<n>.<ns>`: hidden, and never read as data
//!   (readers open `<file>` only). One is left behind only when its writer dies between
//!   creating it and the rename (e.g. SIGKILL); the next writer removes such files once it
//!   holds the lock, when their process is gone. Any other write error removes the temp
//!   file at once, and names the data file and the cause (e.g. "No space left on device").
//! - A missing file reads as empty. A file that cannot be read or parsed aborts the
//!   update with an error naming the path; it is never overwritten.
//! - The config directory is created on the first write (mode 0755); data files get
//!   mode 0644 (owner-writable only), lock files 0600 (owner only).
//! - A data file that is a symbolic link (e.g. to a file shared by several hosts' config
//!   dirs) stays one: the link is followed ([`resolve_target`]) and the target is
//!   replaced as above, in the target's directory, with its lock file beside it. A link
//!   to something that is not a regular file, or a loop of links, is refused.
//!
//! ```
//! use hvsock::store;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("sub/example.toml");
//! assert_eq!(store::read_optional(&file).unwrap(), None);
//! {
//!     let _lock = store::lock(&file).unwrap();
//!     store::write_atomic(&file, b"x = 1\n").unwrap();
//! }
//! assert_eq!(store::read_optional(&file).unwrap().as_deref(), Some("x = 1\n"));
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of the config directory when hvsock creates it.
pub const DIR_MODE: u32 = 0o755;
/// Mode of data files (before the umask).
pub const FILE_MODE: u32 = 0o644;
/// Mode of lock files: the owner only, since anyone who can open a lock file (even
/// read-only) could `flock` it and stall every writer.
pub const LOCK_MODE: u32 = 0o600;

/// Why a stored file could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O operation on `path` (a data file, its lock file or directory) failed. A
    /// failed write of the temp file is reported on the data file it was to replace.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file exists but is not valid TOML of the expected shape.
    #[error(
        "cannot parse {}: {message} (the file was left unchanged; fix or remove it)",
        path.display()
    )]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        message: String,
    },
    /// The data could not be serialized (a bug, or a value TOML cannot hold).
    #[error("cannot serialize {}: {message}", path.display())]
    Serialize {
        /// The file that was to be written.
        path: PathBuf,
        /// The serializer's error.
        message: String,
    },
}

impl StoreError {
    /// The file or directory the error is about.
    pub fn path(&self) -> &Path {
        match self {
            StoreError::Io { path, .. }
            | StoreError::Parse { path, .. }
            | StoreError::Serialize { path, .. } => path,
        }
    }

    fn io(path: &Path, source: io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Reads a whole file as UTF-8; `None` if it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|e| StoreError::Parse {
                path: path.to_path_buf(),
                message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

/// Parses TOML text read from `path`; errors name the path, line and column on one line.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, StoreError> {
    toml::from_str(text).map_err(|e| StoreError::Parse {
        path: path.to_path_buf(),
        message: toml_error_message(text, &e),
    })
}

/// Serializes to TOML for `path`.
pub fn to_toml<T: serde::Serialize>(path: &Path, value: &T) -> Result<String, StoreError> {
    toml::to_string(value).map_err(|e| StoreError::Serialize {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn toml_error_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let before = &text.as_bytes()[..start];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let col = start
                - before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

/// An exclusive lock on a data file, held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// The lock file (`<file>.lock`).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of `path`: `<path>.lock` in the same directory.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".lock");
    PathBuf::from(s)
}

/// Creates `dir` and its parents if missing (mode [`DIR_MODE`]).
pub fn ensure_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(dir).map_err(|e| StoreError::io(dir, e))
}

/// Opens new files with Unix mode `mode` and close-on-exec. On Windows a new file
/// takes its directory's ACL and handles are not inherited by default.
fn with_mode(options: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    #[cfg(unix)]
    options.mode(mode).custom_flags(crate::sys::O_CLOEXEC);
    #[cfg(windows)]
    let _ = mode;
    options
}

/// `flock(LOCK_EX)` through std; released when `file` is closed.
fn flock_exclusive(file: &File) -> io::Result<()> {
    file.lock()
}

/// How many symbolic links [`resolve_target`] follows (as the kernel's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// The file that writes to `path` replace: `path` itself, or, when it is a symbolic
/// link, the file it finally points to (which may not exist yet). Only the last
/// component is followed: `rename` already follows symlinked directories.
///
/// Errors name `path`: a loop of links, or a target that exists and is not a regular
/// file (a write would replace a directory, a device or a socket).
pub fn resolve_target(path: &Path) -> Result<PathBuf, StoreError> {
    // A followed link's target, named through its canonical directory (one lock file
    // however the links spell it).
    let tidy = |p: PathBuf| -> PathBuf {
        if p == path {
            return p;
        }
        match (p.parent().map(fs::canonicalize), p.file_name()) {
            (Some(Ok(dir)), Some(name)) => dir.join(name),
            _ => p,
        }
    };
    let mut p = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let m = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(tidy(p)),
            Err(e) => return Err(StoreError::io(&p, e)),
        };
        if m.file_type().is_symlink() {
            let t = fs::read_link(&p).map_err(|e| StoreError::io(&p, e))?;
            p = match p.parent() {
                Some(dir) if t.is_relative() => dir.join(t),
                _ => t,
            };
            continue;
        }
        if !m.is_file() {
            let what = if m.is_dir() {
                "a directory"
            } else {
                "not a regular file"
            };
            return Err(StoreError::io(
                path,
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    if p == path {
                        format!("{what}; refusing to replace it")
                    } else {
                        format!(
                            "a symbolic link to {}, which is {what}; refusing to replace it",
                            p.display()
                        )
                    },
                ),
            ));
        }
        return Ok(tidy(p));
    }
    Err(StoreError::io(
        path,
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("more than {MAX_LINKS} symbolic links (a loop?)"),
        ),
    ))
}

/// Takes the exclusive lock of `path` (blocking), creating its directory and lock file
/// if needed. For a symbolic link, the lock is its target's (see [`resolve_target`]),
/// so writers through different links to one file exclude each other.
pub fn lock(path: &Path) -> Result<FileLock, StoreError> {
    let path = &resolve_target(path)?;
    if let Some(dir) = path.parent() {
        ensure_dir(dir)?;
    }
    let lp = lock_path(path);
    let file = with_mode(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false),
        LOCK_MODE,
    )
    .open(&lp)
    .map_err(|e| StoreError::io(&lp, e))?;
    // A lock file made by an older version may be wider: narrow it (best effort: only
    // its owner may).
    #[cfg(unix)]
    if let Ok(m) = file.metadata()
        && m.permissions().mode() & 0o077 != 0
    {
        let _ = file.set_permissions(fs::Permissions::from_mode(LOCK_MODE));
    }
    flock_exclusive(&file).map_err(|e| StoreError::io(&lp, e))?;
    remove_stale_temps(path);
    Ok(FileLock {
        _file: file,
        path: lp,
    })
}

/// The directory and file name of a data file.
fn split(path: &Path) -> Result<(PathBuf, String), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| {
            StoreError::io(
                path,
                io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
            )
        })?
        .to_string_lossy()
        .into_owned();
    Ok((dir, name))
}

/// How the temp files of data file `name` start; the writer's pid follows.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp.")
}

/// Whether process `pid` exists (in this pid namespace). Without `/proc`, every
/// process counts as alive, so nothing is removed.
fn process_alive(pid: u32) -> bool {
    !Path::new("/proc/self").exists() || Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the temp files of `path` whose writer died before its rename. Runs with the
/// lock held, so no locked writer is between temp file and rename; the files of live
/// processes (this one included) are kept all the same.
fn remove_stale_temps(path: &Path) {
    let Ok((dir, name)) = split(path) else {
        return;
    };
    let prefix = temp_prefix(&name);
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|rest| rest.split('.').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Replaces `path` with `bytes` atomically: temp file in the same directory, write,
/// `fsync`, rename over `path`, `fsync` the directory. Readers see the old or the new
/// contents, never a mix. The directory must exist. Callers that read-modify-write
/// hold [`lock`] around this.
///
/// A symbolic link is kept: its target is replaced instead, the same way, in the
/// target's directory (see [`resolve_target`]). Errors name `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_mode(path, bytes, FILE_MODE)
}

/// [`write_atomic`] of a file only its owner may read (mode 0600 on Unix): private
/// keys. The temp file has the mode from its creation, so the bytes are never readable
/// by others, not even for a moment.
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_mode(path, bytes, 0o600)
}

fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StoreError> {
    let target = resolve_target(path)?;
    let (dir, name) = split(&target)?;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        "{}{}.{}.{nanos}",
        temp_prefix(&name),
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    // Errors name the data file: the temp file is gone by the time anyone reads them.
    let result = (|| {
        let mut f = with_mode(OpenOptions::new().write(true).create_new(true), mode)
            .open(&tmp)
            .map_err(|e| StoreError::io(path, e))?;
        f.write_all(bytes).map_err(|e| StoreError::io(path, e))?;
        f.sync_all().map_err(|e| StoreError::io(path, e))?;
        drop(f);
        fs::rename(&tmp, &target).map_err(|e| StoreError::io(path, e))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable. (Windows: NTFS journals the rename; a directory
    // cannot be opened as a std `File` there.)
    #[cfg(unix)]
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(&dir, e))?;
    #[cfg(windows)]
    let _ = &dir;
    Ok(())
}

#[cfg(test)]
#[cfg(unix)] // symlinks and Unix modes
mod tests;
