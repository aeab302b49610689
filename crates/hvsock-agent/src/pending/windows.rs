//! The Windows side of [`super::PendingFile`]: a `FILE_CREATE` temp file in the
//! destination directory's handle, renamed over the destination by its own handle.

use super::NAME_TRIES;
use crate::fsat::{self, Dir};
use crate::sys::winfs;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::windows::io::AsHandle;

/// A file being received; the open [`File`] is handed out beside it and given back to
/// [`persist`](PendingFile::persist).
#[derive(Debug)]
pub(crate) struct PendingFile {
    /// The destination's directory.
    dir: Dir,
    /// Another handle of the temp file (deleted through it on drop); `None` once
    /// persisted.
    file: Option<File>,
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Some(f) = self.file.take() {
            // A read-only file cannot be deleted: the mode may already be set.
            let _ = fsat::set_read_only(&f, false);
            let _ = winfs::delete(f.as_handle());
        }
    }
}

impl PendingFile {
    /// Creates the temp file `.hvsock-XXXXXX.tmp` that will become an entry of `dir`.
    pub(crate) fn create_in(dir: &Dir) -> io::Result<(File, PendingFile)> {
        let dir = dir.try_clone()?;
        let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
        for _ in 0..NAME_TRIES {
            match fsat::create_new(&dir, &fsat::temp_name()) {
                Ok(file) => {
                    let own = file.try_clone()?;
                    let pending = PendingFile {
                        dir,
                        file: Some(own),
                    };
                    return Ok((file, pending));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Puts the complete file (written, mode set and flushed by the caller) at `name`
    /// in its directory, replacing whatever file is there (a read-only one too, as a
    /// Unix rename would) in one rename by handle. On failure the temp file is deleted.
    pub(crate) fn persist(mut self, file: File, name: &OsStr) -> io::Result<()> {
        fsat::make_replaceable(&self.dir, name)?;
        winfs::rename_to(file.as_handle(), self.dir.as_handle(), name, true)?;
        // Renamed: nothing to delete any more.
        self.file = None;
        Ok(())
    }
}
