//! The Unix side of [`super::PendingFile`]: `O_TMPFILE` where it works, else a named
//! temp file, renamed with `renameat` within the destination directory's fd.

use crate::fsat::{self, Dir};
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;

use super::NAME_TRIES;

/// The name side of a file being received; the open [`File`] is handed out beside it
/// and given back to [`persist`](PendingFile::persist).
#[derive(Debug)]
pub(crate) struct PendingFile {
    /// The destination's directory.
    dir: Dir,
    /// The temp name of the named fallback (removed on drop); `None`: anonymous.
    name: Option<String>,
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(n) = self.name.take() {
            let _ = fsat::unlink(self.dir.as_fd(), &n);
        }
    }
}

impl PendingFile {
    /// Creates the file that will become an entry of `dir`: anonymous where possible,
    /// else a named temp file. Its mode is 0600 until the caller sets the final one.
    pub(crate) fn create_in(dir: &Dir) -> io::Result<(File, PendingFile)> {
        let dir = dir.try_clone()?;
        match Self::anonymous(&dir) {
            Ok(Some(file)) => Ok((file, PendingFile { dir, name: None })),
            Ok(None) => Self::named(dir),
            Err(e) if tmpfile_unsupported(&e) => Self::named(dir),
            Err(e) => Err(e),
        }
    }

    /// An `O_TMPFILE` file in `dir`, or `None` when `/proc` is missing (it could not
    /// be given a name later).
    fn anonymous(dir: &Dir) -> io::Result<Option<File>> {
        let fd = fsat::tmpfile(dir.as_fd())?;
        if std::fs::symlink_metadata(fsat::proc_fd(fd.as_fd())).is_err() {
            return Ok(None);
        }
        Ok(Some(File::from(fd)))
    }

    /// The fallback: a named temp file `.hvsock-XXXXXX.tmp` in `dir`.
    fn named(dir: Dir) -> io::Result<(File, PendingFile)> {
        let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
        for _ in 0..NAME_TRIES {
            let name = fsat::temp_name();
            match fsat::create_excl(dir.as_fd(), &name) {
                Ok(fd) => {
                    let pending = PendingFile {
                        dir,
                        name: Some(name),
                    };
                    return Ok((File::from(fd), pending));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Puts the complete file (written, mode set and fsynced by the caller) at `name`
    /// in its directory, replacing whatever file is there in one rename, and fsyncs the
    /// directory. On failure nothing new is left behind.
    pub(crate) fn persist(mut self, file: File, name: &OsStr) -> io::Result<()> {
        let temp = match self.name.take() {
            Some(n) => n,
            None => self.link(&file)?,
        };
        drop(file);
        if let Err(e) = fsat::rename(self.dir.as_fd(), &temp, name) {
            let _ = fsat::unlink(self.dir.as_fd(), &temp);
            return Err(e);
        }
        // Durability of the rename; failures (e.g. on filesystems that refuse directory
        // fsync) are not errors of the copy.
        let _ = rustix::fs::fsync(self.dir.as_fd());
        Ok(())
    }

    /// Links the anonymous `file` to a fresh temp name (retried while taken).
    fn link(&self, file: &File) -> io::Result<String> {
        let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
        for _ in 0..NAME_TRIES {
            let temp = fsat::temp_name();
            match fsat::link_tmpfile(file.as_fd(), self.dir.as_fd(), &temp) {
                Ok(()) => return Ok(temp),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Whether the file has no name (the `O_TMPFILE` path).
    #[cfg(test)]
    fn is_anonymous(&self) -> bool {
        self.name.is_none()
    }
}

/// Errors of `open(dir, O_TMPFILE)` that may mean "not supported here": EOPNOTSUPP (the
/// filesystem), EISDIR (a kernel before 3.11 ignores the flag and refuses to open the
/// directory for writing), EINVAL and ENOENT (some filesystems). Then the named temp
/// file is tried, and gives the real error if there is one.
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
    use std::path::Path;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn dirfd(dir: &Path) -> Dir {
        Dir::open(dir).unwrap()
    }

    fn write_and_persist(file: File, pending: PendingFile, name: &str, data: &[u8]) {
        let mut file = file;
        file.write_all(data).unwrap();
        file.sync_all().unwrap();
        pending.persist(file, OsStr::new(name)).unwrap();
    }

    /// A 255-byte name: the longest a Linux filesystem takes.
    fn long_name() -> String {
        "n".repeat(255)
    }

    #[test]
    fn anonymous_file_has_no_name_until_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let fd = dirfd(dir.path());
        for name in ["f".to_string(), long_name()] {
            std::fs::write(dir.path().join(&name), "old").unwrap();
            let (file, pending) = PendingFile::create_in(&fd).unwrap();
            assert!(pending.is_anonymous(), "{pending:?}");
            assert_eq!(entries(dir.path()), std::slice::from_ref(&name));
            write_and_persist(file, pending, &name, b"new");
            assert_eq!(std::fs::read(dir.path().join(&name)).unwrap(), b"new");
            assert_eq!(entries(dir.path()), std::slice::from_ref(&name));
            std::fs::remove_file(dir.path().join(&name)).unwrap();
        }
    }

    #[test]
    fn dropped_anonymous_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, pending) = PendingFile::create_in(&dirfd(dir.path())).unwrap();
        file.write_all(b"partial").unwrap();
        drop((file, pending));
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn named_fallback_has_a_short_name_and_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let fd = dirfd(dir.path());
        let name = long_name();
        let (file, pending) = PendingFile::named(fd.try_clone().unwrap()).unwrap();
        assert!(!pending.is_anonymous());
        let names = entries(dir.path());
        assert_eq!(names.len(), 1);
        assert!(
            names[0].starts_with(".hvsock-") && names[0].ends_with(".tmp") && names[0].len() == 18,
            "{names:?}"
        );
        write_and_persist(file, pending, &name, b"content");
        assert_eq!(std::fs::read(dir.path().join(&name)).unwrap(), b"content");
        assert_eq!(entries(dir.path()), std::slice::from_ref(&name));

        // Dropped before persist: the temp file is removed.
        let (file, pending) = PendingFile::named(fd).unwrap();
        assert_eq!(entries(dir.path()).len(), 2);
        drop((file, pending));
        assert_eq!(entries(dir.path()), [name]);
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
        for anonymous in [true, false] {
            let fd = dirfd(dir.path());
            let (file, pending) = if anonymous {
                PendingFile::create_in(&fd).unwrap()
            } else {
                PendingFile::named(fd).unwrap()
            };
            assert_eq!(pending.is_anonymous(), anonymous);
            assert!(pending.persist(file, OsStr::new("d")).is_err());
            assert_eq!(entries(dir.path()), ["d"]);
        }
    }
}
