//! The Windows side of [`crate::fsat`]: everything relative to a directory handle,
//! through `sys::winfs` (`NtCreateFile` with a root directory) and std.
//!
//! * Every name from a stream is opened *inside* its parent's handle, one component at
//!   a time, with `FILE_OPEN_REPARSE_POINT`: a symlink, junction or any other reparse
//!   point is opened itself, never followed, and then refused (its handle's attributes
//!   say `FILE_ATTRIBUTE_REPARSE_POINT`) wherever a directory or a file to read is
//!   expected. A `..` or a name with `\` or `:` (a path, a stream) is refused too.
//! * Directories are held open shared for reading and writing but not for deletion
//!   (no `FILE_SHARE_DELETE`): while the copy works under one, nobody can rename, move
//!   or delete it, so it cannot be swapped for a link meanwhile.
//! * Windows has no mode bits: a directory is sent as 0o755, a file as 0o644 (0o444 if
//!   it is read-only); a received file whose mode lacks the owner's write bit gets the
//!   read-only attribute, and a received directory's mode is not applied (the
//!   read-only attribute does not protect a directory's contents on Windows).
//! * Names are case-insensitive: [`name_key`] folds case, so one stream cannot name a
//!   file twice as `a` and `A`.

use super::{Kind, Meta, Opened, Refusal, refused, windows_name_problem};
use crate::sys::winfs::{self, Create};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::os::windows::io::{AsHandle, BorrowedHandle, OwnedHandle};
use std::path::Path;
use windows_sys::Wdk::Storage::FileSystem::{
    FILE_CREATE, FILE_DIRECTORY_FILE, FILE_NON_DIRECTORY_FILE, FILE_OPEN, FILE_OPEN_REPARSE_POINT,
};
use windows_sys::Win32::Foundation::{GENERIC_READ, GENERIC_WRITE};
use windows_sys::Win32::Storage::FileSystem::{
    DELETE, FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_REPARSE_POINT, FILE_FLAG_BACKUP_SEMANTICS,
    FILE_LIST_DIRECTORY, FILE_READ_ATTRIBUTES, FILE_SHARE_DELETE, FILE_SHARE_READ,
    FILE_SHARE_WRITE, FILE_TRAVERSE, FILE_WRITE_ATTRIBUTES,
};

/// Directories: shared for reading and writing, never for deletion (see the module).
const DIR_SHARE: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE;
const DIR_ACCESS: u32 = FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES;

/// An open directory: the handle everything beneath it is resolved from.
#[derive(Debug)]
pub(crate) struct Dir(OwnedHandle);

impl Dir {
    /// Opens the user's own directory `path` (links in it are followed: the user's
    /// choice), held without `FILE_SHARE_DELETE`.
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        let f = std::fs::OpenOptions::new()
            .access_mode(DIR_ACCESS)
            .share_mode(DIR_SHARE)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(path)?;
        if !f.metadata()?.is_dir() {
            return Err(io::Error::from(io::ErrorKind::NotADirectory));
        }
        Ok(Dir(f.into()))
    }

    /// Another handle of the same directory.
    pub(crate) fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir(self.0.try_clone()?))
    }

    /// The handle.
    pub(crate) fn as_handle(&self) -> BorrowedHandle<'_> {
        self.0.as_handle()
    }
}

/// The metadata of an open handle, as a copy sends it.
fn meta_of(f: &File) -> io::Result<Meta> {
    let m = f.metadata()?;
    let attrs = m.file_attributes();
    let kind = if attrs & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        Kind::Other
    } else if m.is_dir() {
        Kind::Dir
    } else if m.is_file() {
        Kind::File
    } else {
        Kind::Other
    };
    let mode = match kind {
        Kind::Dir => 0o755,
        _ if attrs & FILE_ATTRIBUTE_READONLY != 0 => 0o444,
        _ => 0o644,
    };
    Ok(Meta {
        kind,
        mode,
        size: m.len(),
    })
}

/// One component to open inside a directory: a plain name (no `..`, `\`, `:`).
fn component(c: &str) -> io::Result<&OsStr> {
    if c.is_empty() || c == "." || c == ".." || c.contains(['\\', ':']) {
        return Err(refused(Refusal::Outside));
    }
    Ok(OsStr::new(c))
}

/// Opens the directory `name` inside `dir` itself (not followed if a reparse point,
/// then refused).
fn child_dir(dir: BorrowedHandle<'_>, name: &OsStr) -> io::Result<Dir> {
    let h = winfs::create_at(
        dir,
        name,
        Create {
            access: DIR_ACCESS,
            share: DIR_SHARE,
            disposition: FILE_OPEN,
            options: FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT,
        },
    )?;
    let f = File::from(h);
    if meta_of(&f)?.kind != Kind::Dir {
        return Err(refused(Refusal::Link));
    }
    Ok(Dir(f.into()))
}

/// The directories of `rel` opened one by one beneath `dir`; returns the last one and
/// the final component (`None` for `""`).
fn walk<'r>(dir: &Dir, rel: &'r str) -> io::Result<(Option<Dir>, Option<&'r str>)> {
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let Some((last, dirs)) = parts.split_last() else {
        return Ok((None, None));
    };
    let mut cur: Option<Dir> = None;
    for c in dirs {
        let at = cur.as_ref().unwrap_or(dir).as_handle();
        cur = Some(child_dir(at, component(c)?)?);
    }
    component(last)?;
    Ok((cur, Some(last)))
}

/// Opens the directory `rel` (`/`-separated plain components; `""` is `dir` itself)
/// beneath `dir`, following no reparse point at any component.
pub(crate) fn open_dir(dir: &Dir, rel: &str) -> io::Result<Dir> {
    match walk(dir, rel)? {
        (parent, Some(last)) => {
            child_dir(parent.as_ref().unwrap_or(dir).as_handle(), OsStr::new(last))
        }
        (_, None) => dir.try_clone(),
    }
}

/// Opens the directory entry `name` of `dir` (one component, not followed).
pub(crate) fn open_child_dir(dir: &Dir, name: &OsStr) -> io::Result<Dir> {
    let s = name.to_str().ok_or_else(|| refused(Refusal::Outside))?;
    child_dir(dir.as_handle(), component(s)?)
}

/// Opens the regular file `rel` beneath `dir` for reading (shared for reading and
/// writing, so a file another program has open still copies); a reparse point or a
/// directory is refused.
pub(crate) fn open_file(dir: &Dir, rel: &str) -> io::Result<(File, u64)> {
    let (parent, Some(last)) = walk(dir, rel)? else {
        return Err(io::Error::other("not a regular file"));
    };
    let h = winfs::create_at(
        parent.as_ref().unwrap_or(dir).as_handle(),
        OsStr::new(last),
        Create {
            access: GENERIC_READ,
            share: FILE_SHARE_READ | FILE_SHARE_WRITE,
            disposition: FILE_OPEN,
            options: FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT,
        },
    )?;
    let f = File::from(h);
    let meta = meta_of(&f)?;
    match meta.kind {
        Kind::File => Ok((f, meta.size)),
        Kind::Other => Err(refused(Refusal::Link)),
        Kind::Dir => Err(io::Error::other("not a regular file")),
    }
}

/// Opens the user's own source `path` (links in it are followed: the user's choice).
pub(crate) fn open_source(path: &Path) -> io::Result<Opened> {
    let f = std::fs::OpenOptions::new()
        .access_mode(GENERIC_READ)
        .share_mode(DIR_SHARE)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(path)?;
    let meta = meta_of(&f)?;
    Ok(match meta.kind {
        Kind::Dir => Opened::Dir(Dir(f.into()), meta),
        Kind::File => Opened::File(f, meta),
        Kind::Other => Opened::Other,
    })
}

/// The names in `dir` (not `.` and `..`), in no particular order.
pub(crate) fn list(dir: &Dir) -> io::Result<Vec<OsString>> {
    winfs::list(dir.as_handle())
}

/// Opens `name` in `dir` itself, whatever it is, for its attributes.
fn open_entry(dir: &Dir, name: &OsStr, access: u32) -> io::Result<File> {
    let s = name.to_str().ok_or_else(|| refused(Refusal::Outside))?;
    let h = winfs::create_at(
        dir.as_handle(),
        component(s)?,
        Create {
            access,
            share: FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            disposition: FILE_OPEN,
            options: FILE_OPEN_REPARSE_POINT,
        },
    )?;
    Ok(File::from(h))
}

/// What the entry `name` of `dir` is (a reparse point is [`Kind::Other`]).
pub(crate) fn meta_at(dir: &Dir, name: &OsStr) -> io::Result<Meta> {
    meta_of(&open_entry(dir, name, FILE_READ_ATTRIBUTES)?)
}

/// What a name in `dir` is, without following a reparse point: `None` if missing.
pub(crate) fn kind_of(dir: &Dir, name: &OsStr) -> io::Result<Option<Kind>> {
    match meta_at(dir, name) {
        Ok(m) => Ok(Some(m.kind)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates the directory `name` in `dir`: `Ok(true)` if created, `Ok(false)` if
/// something named `name` already exists (the caller looks at what it is).
pub(crate) fn mkdir(dir: &Dir, name: &OsStr) -> io::Result<bool> {
    let c = Create {
        access: FILE_LIST_DIRECTORY,
        share: DIR_SHARE,
        disposition: FILE_CREATE,
        options: FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT,
    };
    match winfs::create_at(dir.as_handle(), name, c) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes the empty directory `name` of `dir` (through a handle of it, marked for
/// deletion). A directory still there after its handle closed was not empty.
pub(crate) fn rmdir(dir: &Dir, name: &OsStr) -> io::Result<()> {
    let h = winfs::create_at(
        dir.as_handle(),
        name,
        Create {
            access: DELETE,
            share: FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            disposition: FILE_OPEN,
            options: FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT,
        },
    )?;
    winfs::delete(h.as_handle())?;
    drop(h);
    match kind_of(dir, name)? {
        None => Ok(()),
        Some(_) => Err(io::Error::from(io::ErrorKind::DirectoryNotEmpty)),
    }
}

/// Windows directories carry no mode: nothing to do (see the module).
pub(crate) fn set_dir_mode(_dir: &Dir, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// A received file's mode: read-only unless the owner may write it.
pub(crate) fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    set_read_only(file, mode & 0o200 == 0)
}

/// Sets or clears the read-only attribute of an open file, keeping its others.
pub(crate) fn set_read_only(file: &File, read_only: bool) -> io::Result<()> {
    let attrs = file.metadata()?.file_attributes();
    let new = if read_only {
        attrs | FILE_ATTRIBUTE_READONLY
    } else {
        attrs & !FILE_ATTRIBUTE_READONLY
    };
    if new == attrs {
        return Ok(());
    }
    winfs::set_attributes(file.as_handle(), new)
}

/// Clears the read-only attribute of the file `name` in `dir` (not followed), if it
/// has one, so a rename can replace it as it could on Unix. Missing: nothing to do.
pub(crate) fn make_replaceable(dir: &Dir, name: &OsStr) -> io::Result<()> {
    match open_entry(dir, name, FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES) {
        Ok(f) => set_read_only(&f, false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates the new file `name` in `dir` (`FILE_CREATE`: fails if it exists) for
/// reading, writing and deletion, shared for reading only.
pub(crate) fn create_new(dir: &Dir, name: &str) -> io::Result<File> {
    let h = winfs::create_at(
        dir.as_handle(),
        OsStr::new(name),
        Create {
            access: GENERIC_READ | GENERIC_WRITE | DELETE,
            share: FILE_SHARE_READ,
            disposition: FILE_CREATE,
            options: FILE_NON_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT,
        },
    )?;
    Ok(File::from(h))
}

/// Why a name from a peer cannot be created here (see [`windows_name_problem`]).
pub(crate) fn check_name(name: &str) -> Result<(), &'static str> {
    windows_name_problem(name).map_or(Ok(()), Err)
}

/// Windows names are case-insensitive: the key folds case (to upper case, as NTFS
/// compares; a fold that merges more names only refuses more).
pub(crate) fn name_key(path: &str) -> String {
    path.to_uppercase()
}

/// No OS error is a refusal of this module's on Windows (they carry a [`Refusal`]).
pub(super) fn os_refusal(_e: &io::Error) -> Option<Refusal> {
    None
}

/// Whether opening a destination as a directory failed because there is none.
pub(crate) fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    ) || super::refusal(e) == Some(Refusal::Link)
}

/// A mode from a peer as this side applies it: the permission bits (no umask here).
pub(crate) fn mask_mode(mode: u32) -> u32 {
    mode & 0o777
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_directory_cannot_be_renamed_or_removed() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("d");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        let held = Dir::open(&d).unwrap();
        let sub = open_dir(&held, "sub").unwrap();
        assert!(std::fs::rename(&d, t.path().join("moved")).is_err());
        assert!(std::fs::rename(d.join("sub"), t.path().join("moved")).is_err());
        assert!(std::fs::remove_dir(d.join("sub")).is_err());
        drop((held, sub));
        std::fs::rename(&d, t.path().join("moved")).unwrap();
    }

    #[test]
    fn components_that_leave_or_alias_are_refused() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("a")).unwrap();
        std::fs::write(t.path().join("a").join("f"), "x").unwrap();
        let d = Dir::open(t.path()).unwrap();
        assert!(open_dir(&d, "a").is_ok());
        assert_eq!(open_file(&d, "a/f").unwrap().1, 1);
        for bad in ["..", "a/..", "a/../a", "a\\..\\..", "a:x", "..\\a"] {
            let e = open_dir(&d, bad).unwrap_err();
            assert_eq!(
                super::super::refusal(&e),
                Some(Refusal::Outside),
                "{bad}: {e}"
            );
        }
        // A file is not a directory, a directory not a file to read.
        assert!(open_dir(&d, "a/f").is_err());
        assert!(open_file(&d, "a").is_err());
    }

    #[test]
    fn mkdir_kinds_and_rmdir() {
        let t = tempfile::tempdir().unwrap();
        let d = Dir::open(t.path()).unwrap();
        assert!(mkdir(&d, OsStr::new("n")).unwrap());
        assert!(!mkdir(&d, OsStr::new("n")).unwrap());
        assert_eq!(kind_of(&d, OsStr::new("n")).unwrap(), Some(Kind::Dir));
        assert_eq!(kind_of(&d, OsStr::new("missing")).unwrap(), None);
        std::fs::write(t.path().join("n").join("x"), "x").unwrap();
        assert!(rmdir(&d, OsStr::new("n")).is_err(), "not empty");
        std::fs::remove_file(t.path().join("n").join("x")).unwrap();
        rmdir(&d, OsStr::new("n")).unwrap();
        assert!(!t.path().join("n").exists());
    }
}
