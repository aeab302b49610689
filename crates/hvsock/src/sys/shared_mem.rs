//! Shared memory for the counters file (`crate::stats`): a file mapped shared, seen as
//! a slice of `AtomicU64` for the life of the process, and an exit hook that removes
//! the files.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::AtomicU64;

/// Creates `path` (which must not exist) for reading and writing with `mode`.
pub(crate) fn create_counters_file(path: &Path, mode: u32) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

/// Maps `words` 64-bit words of `file` (already that long) shared and read-write, for
/// the rest of the process's life: the mapping is never unmapped, so the slice is
/// `'static` and the data path needs no lifetime or lock to reach it.
pub(crate) fn map_words_forever(file: &File, words: usize) -> io::Result<&'static [AtomicU64]> {
    let len = words * std::mem::size_of::<AtomicU64>();
    // SAFETY: a fresh shared mapping of `len` bytes of a file that is at least that
    // long (the caller set its length). No other pointer aliases it in this process;
    // other processes see it only through reads of their own. The mapping is never
    // unmapped, which makes the `'static` lifetime true.
    let ptr = unsafe {
        rustix::mm::mmap(
            std::ptr::null_mut(),
            len,
            rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
            rustix::mm::MapFlags::SHARED,
            file,
            0,
        )?
    };
    // SAFETY: the mapping is page-aligned (so aligned for `AtomicU64`), `len` bytes
    // long, readable and writable, zero-filled by `ftruncate` or holding words this
    // crate wrote; `AtomicU64` has the size and alignment of `u64` and any bit pattern
    // is valid. All access goes through the atomics, also from other processes'
    // writers of the same file (none but this one: the file is per process).
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<AtomicU64>(), words) })
}

/// Runs `f` when the process exits normally (`exit`, return from `main`), not on a
/// signal: readers ignore the files of processes that are gone.
pub(crate) fn at_exit(f: extern "C" fn()) {
    // SAFETY: `atexit` takes a plain function pointer of the right type; `f` is safe
    // Rust that catches nothing across the boundary (it does not panic: best-effort
    // removals only).
    unsafe {
        libc::atexit(f);
    }
}
