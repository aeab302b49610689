//! The file a copy is receiving, kept out of sight until it is complete.
//!
//! A received file is written beside its destination and renamed over it only once it
//! is complete and verified, so the destination is never a truncated file. Where the
//! kernel and filesystem allow it, the file being written has no name at all
//! (`O_TMPFILE`): if the receiver is killed (SIGKILL, a crash, a power cut) the kernel
//! drops it and nothing is left in the directory. Only when complete is it given a
//! hidden name (`linkat` of `/proc/self/fd/N`) that is at once renamed over the
//! destination (`linkat` cannot replace a file, `rename` does so atomically).
//!
//! Elsewhere (no `O_TMPFILE` on an old kernel or some FUSE/9p filesystems, or no `/proc`
//! to link it through) it is a hidden named temp file `.NAME.XXXXXX.hvsock-tmp`,
//! removed on any failure the receiver lives to see, but left behind if it is killed.

use crate::tree::CopyError;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The name side of a file being received; the open [`File`] is handed out beside it
/// (like [`tempfile::NamedTempFile::into_parts`]) and given back to
/// [`persist`](PendingFile::persist).
#[derive(Debug)]
pub(crate) enum PendingFile {
    /// `O_TMPFILE` in `parent`: no name until [`persist`](PendingFile::persist).
    Anonymous {
        /// The destination's directory.
        parent: PathBuf,
        /// The destination's file name, for the temp name's prefix.
        name: String,
    },
    /// The fallback: a hidden named temp file, removed when dropped.
    Named(tempfile::TempPath),
}

impl PendingFile {
    /// Creates the file that will become `parent/name`: anonymous where possible, else
    /// a named temp file. Its mode is 0600 until the caller sets the final one.
    pub(crate) fn create_in(parent: &Path, name: &str) -> io::Result<(File, PendingFile)> {
        match Self::anonymous(parent, name) {
            Ok(Some(pair)) => Ok(pair),
            Ok(None) => Self::named(parent, name),
            Err(e) if tmpfile_unsupported(&e) => Self::named(parent, name),
            Err(e) => Err(e),
        }
    }

    /// An `O_TMPFILE` file in `parent`, or `None` when `/proc` is missing (it could not
    /// be given a name later).
    fn anonymous(parent: &Path, name: &str) -> io::Result<Option<(File, PendingFile)>> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(parent)?;
        if std::fs::symlink_metadata(proc_fd(&file)).is_err() {
            return Ok(None);
        }
        let pending = PendingFile::Anonymous {
            parent: parent.to_path_buf(),
            name: name.to_string(),
        };
        Ok(Some((file, pending)))
    }

    /// The fallback: a named temp file `.NAME.XXXXXX.hvsock-tmp` in `parent`.
    fn named(parent: &Path, name: &str) -> io::Result<(File, PendingFile)> {
        let (file, path) = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(SUFFIX)
            .tempfile_in(parent)?
            .into_parts();
        Ok((file, PendingFile::Named(path)))
    }

    /// Puts the complete file (written, mode set and fsynced by the caller) at `dest`,
    /// replacing whatever is there in one rename. On failure nothing new is left behind.
    pub(crate) fn persist(self, file: File, dest: &Path) -> Result<(), CopyError> {
        let temp = match self {
            PendingFile::Named(temp) => temp,
            PendingFile::Anonymous { parent, name } => {
                // A fresh hidden name (retried while taken), then the rename below.
                let link = proc_fd(&file);
                tempfile::Builder::new()
                    .prefix(&format!(".{name}."))
                    .suffix(SUFFIX)
                    .make_in(&parent, |tmp| {
                        rustix::fs::linkat(
                            rustix::fs::CWD,
                            &link,
                            rustix::fs::CWD,
                            tmp,
                            rustix::fs::AtFlags::SYMLINK_FOLLOW,
                        )
                        .map_err(io::Error::from)
                    })
                    .map_err(|e| CopyError::io("cannot link the received file into", &parent, &e))?
                    .into_temp_path()
            }
        };
        drop(file);
        temp.persist(dest)
            .map_err(|e| CopyError::io("cannot rename into", dest, &e.error))
    }

    /// Whether the file has no name (the `O_TMPFILE` path).
    #[cfg(test)]
    fn is_anonymous(&self) -> bool {
        matches!(self, PendingFile::Anonymous { .. })
    }
}

/// The temp names' suffix: `.NAME.XXXXXX.hvsock-tmp`.
const SUFFIX: &str = ".hvsock-tmp";

/// `/proc/self/fd/N`: the magic link through which an anonymous file can be linked.
fn proc_fd(file: &File) -> String {
    format!("/proc/self/fd/{}", file.as_raw_fd())
}

/// Errors of `open(dir, O_TMPFILE)` that may mean "not supported here": EOPNOTSUPP (the
/// filesystem), EISDIR (a kernel before 3.11 ignores the flag and refuses to open the
/// directory for writing), EINVAL and ENOENT (some filesystems). Then the named temp
/// file is tried, and gives the real error if there is one (e.g. a missing directory).
fn tmpfile_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOENT)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn write_and_persist(file: File, pending: PendingFile, dest: &Path, data: &[u8]) {
        let mut file = file;
        file.write_all(data).unwrap();
        file.sync_all().unwrap();
        pending.persist(file, dest).unwrap();
    }

    #[test]
    fn anonymous_file_has_no_name_until_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        std::fs::write(&dest, "old").unwrap();
        let (file, pending) = PendingFile::create_in(dir.path(), "f").unwrap();
        assert!(pending.is_anonymous(), "{pending:?}");
        assert_eq!(entries(dir.path()), ["f"]);
        write_and_persist(file, pending, &dest, b"new");
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(entries(dir.path()), ["f"]);
    }

    #[test]
    fn dropped_anonymous_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, pending) = PendingFile::create_in(dir.path(), "f").unwrap();
        file.write_all(b"partial").unwrap();
        drop((file, pending));
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn named_fallback_behaves_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f");
        let (file, pending) = PendingFile::named(dir.path(), "f").unwrap();
        assert!(!pending.is_anonymous());
        let names = entries(dir.path());
        assert_eq!(names.len(), 1);
        assert!(
            names[0].starts_with(".f.") && names[0].ends_with(".hvsock-tmp"),
            "{names:?}"
        );
        write_and_persist(file, pending, &dest, b"content");
        assert_eq!(std::fs::read(&dest).unwrap(), b"content");
        assert_eq!(entries(dir.path()), ["f"]);

        // Dropped before persist: the temp file is removed.
        let (file, pending) = PendingFile::named(dir.path(), "g").unwrap();
        assert_eq!(entries(dir.path()).len(), 2);
        drop((file, pending));
        assert_eq!(entries(dir.path()), ["f"]);
    }

    #[test]
    fn which_errors_fall_back() {
        for errno in [libc::EOPNOTSUPP, libc::EISDIR, libc::EINVAL, libc::ENOENT] {
            assert!(tmpfile_unsupported(&io::Error::from_raw_os_error(errno)));
        }
        for errno in [libc::EACCES, libc::EROFS, libc::ENOSPC, libc::EDQUOT] {
            assert!(!tmpfile_unsupported(&io::Error::from_raw_os_error(errno)));
        }
    }

    #[test]
    fn failed_rename_leaves_no_link() {
        let dir = tempfile::tempdir().unwrap();
        // DST is a non-empty directory: the rename fails, the hidden link goes away.
        let dest = dir.path().join("d");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("x"), "").unwrap();
        let (file, pending) = PendingFile::create_in(dir.path(), "d").unwrap();
        assert!(pending.is_anonymous());
        let e = pending.persist(file, &dest).unwrap_err();
        assert!(e.to_string().contains("cannot rename into"), "{e}");
        assert_eq!(entries(dir.path()), ["d"]);
    }
}
