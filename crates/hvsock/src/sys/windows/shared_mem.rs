//! Shared memory for the counters file (`crate::stats`) on Windows: the file made
//! delete-on-close (so that it goes with its process however the process ends), and
//! mapped shared as a slice of `AtomicU64` for the life of the process.

use std::fs::File;
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use windows_sys::Win32::Foundation::{CloseHandle, GENERIC_READ, GENERIC_WRITE, HANDLE};
use windows_sys::Win32::Storage::FileSystem::{
    DELETE, FILE_FLAG_DELETE_ON_CLOSE, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
};
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, FILE_MAP_READ, FILE_MAP_WRITE, MapViewOfFile, PAGE_READWRITE,
};

/// Creates `path` (which must not exist) for reading and writing, deleted by Windows
/// when its last handle closes: at this process's exit, also a killed one's. Other
/// processes may open, read and rename it meanwhile (the share modes allow all three).
pub(crate) fn create_counters_file(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .access_mode(GENERIC_READ | GENERIC_WRITE | DELETE)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_DELETE_ON_CLOSE)
        .open(path)
}

/// Maps `words` 64-bit words of `file` (already that long) shared and read-write, for
/// the rest of the process's life: the view is never unmapped, so the slice is
/// `'static` and the data path needs no lifetime or lock to reach it.
pub(crate) fn map_words_forever(file: &File, words: usize) -> io::Result<&'static [AtomicU64]> {
    let len = words * std::mem::size_of::<AtomicU64>();
    let handle = file.as_raw_handle() as HANDLE;
    // SAFETY: `handle` is the open file's, valid for this call; no security attributes
    // and no name; size 0 maps the file as long as it is (the caller set it).
    let mapping = unsafe {
        CreateFileMappingW(
            handle,
            std::ptr::null(),
            PAGE_READWRITE,
            0,
            0,
            std::ptr::null(),
        )
    };
    if mapping.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `mapping` is the section just made; the view of `len` bytes from offset
    // 0 lies within the file.
    let view = unsafe { MapViewOfFile(mapping, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, len) };
    let err = io::Error::last_os_error();
    // SAFETY: `mapping` is a handle this function owns; the view keeps the section
    // alive without it.
    unsafe { CloseHandle(mapping) };
    if view.Value.is_null() {
        return Err(err);
    }
    // SAFETY: the view is allocation-granularity aligned (so aligned for `AtomicU64`),
    // `len` bytes long, readable and writable, zero-filled by `set_len` or holding
    // words this crate wrote; `AtomicU64` has the size and alignment of `u64` and any
    // bit pattern is valid. It is never unmapped, which makes `'static` true; other
    // processes see the file only through reads of their own.
    Ok(unsafe { std::slice::from_raw_parts(view.Value.cast::<AtomicU64>(), words) })
}
