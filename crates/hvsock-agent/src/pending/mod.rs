//! The file a copy is receiving, kept out of sight until it is complete.
//!
//! A received file is written beside its destination and renamed over it only once it
//! is complete and verified, so the destination is never a truncated file. Where the
//! kernel and filesystem allow it, the file being written has no name at all
//! (`O_TMPFILE`): if the receiver is killed (SIGKILL, a crash, a power cut) the kernel
//! drops it and nothing is left in the directory. Only when complete is it given a
//! short hidden name `.hvsock-XXXXXX.tmp` (`linkat` of `/proc/self/fd/N`) that is at
//! once renamed over the destination (`linkat` cannot replace a file, `rename` does so
//! atomically).
//!
//! Elsewhere (no `O_TMPFILE` on an old kernel or some FUSE/9p filesystems, or no `/proc`
//! to link it through) it is a hidden named temp file `.hvsock-XXXXXX.tmp` created with
//! `O_EXCL`, removed on any failure the receiver lives to see, but left behind if it is
//! killed. The temp name is short whatever the destination's name (a 255-byte name
//! still fits), and everything is relative to the destination directory's fd: no
//! path is resolved again between creating the file and renaming it.
//!
//! On Windows (`windows.rs`) there is no anonymous file: the file being written is a
//! hidden-named `.hvsock-XXXXXX.tmp` created with `FILE_CREATE` (CREATE_NEW) relative to
//! the destination directory's handle, shared for reading only (nobody can write,
//! rename or delete it meanwhile); once complete it is flushed (`FlushFileBuffers`) and
//! renamed over the destination *by its own handle* (`FileRenameInformation` with the
//! directory handle as root and `ReplaceIfExists`), so no path is resolved again. A
//! failure deletes it through the same handle; a receiver that is killed leaves it.

/// How many fresh temp names are tried before giving up (they are random).
const NAME_TRIES: usize = 64;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::PendingFile;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::PendingFile;
