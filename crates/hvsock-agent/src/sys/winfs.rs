//! Handle-relative file calls for the Windows copy code (`crate::fsat`'s Windows side):
//! the NT equivalents of `openat`, `renameat` by handle, deletion by handle and
//! `getdents`.
//!
//! `NtCreateFile` with `OBJECT_ATTRIBUTES.RootDirectory` set opens one name *inside an
//! open directory*, the way `openat` does: nothing above the directory is resolved
//! again, so a directory renamed or swapped higher up cannot redirect it. (The Win32
//! `CreateFileW` only takes whole paths.) Wine implements `RootDirectory` for
//! `NtCreateFile` and `FileRenameInformation` (its own kernelbase uses both), which is
//! why these and not a path-based `MoveFileExW`.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::io::{AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};
use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Storage::FileSystem::{
    FILE_BASIC_INFORMATION, FILE_DIRECTORY_INFORMATION, FILE_DISPOSITION_INFORMATION,
    FILE_RENAME_INFORMATION, FileBasicInformation, FileDirectoryInformation,
    FileDispositionInformation, FileRenameInformation, NtCreateFile, NtQueryDirectoryFile,
    NtSetInformationFile,
};
use windows_sys::Win32::Foundation::{
    HANDLE, NTSTATUS, OBJ_CASE_INSENSITIVE, RtlNtStatusToDosError, STATUS_NO_MORE_FILES,
    UNICODE_STRING,
};
use windows_sys::Win32::Storage::FileSystem::FILE_ATTRIBUTE_NORMAL;
use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;

fn check(status: NTSTATUS) -> io::Result<()> {
    if status >= 0 {
        return Ok(());
    }
    // SAFETY: a pure translation of a status code.
    let code = unsafe { RtlNtStatusToDosError(status) };
    Err(io::Error::from_raw_os_error(code as i32))
}

fn wide(name: &OsStr) -> io::Result<Vec<u16>> {
    let w: Vec<u16> = name.encode_wide().collect();
    if w.is_empty() || w.len() * 2 > usize::from(u16::MAX) || w.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "invalid file name",
        ));
    }
    Ok(w)
}

/// What [`create_at`] asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Create {
    /// Access mask (`FILE_LIST_DIRECTORY`, `GENERIC_READ`, `DELETE`...).
    pub(crate) access: u32,
    /// Share mode (`FILE_SHARE_*`).
    pub(crate) share: u32,
    /// `FILE_OPEN`, `FILE_CREATE`...
    pub(crate) disposition: u32,
    /// `FILE_DIRECTORY_FILE`, `FILE_OPEN_REPARSE_POINT`... (`FILE_SYNCHRONOUS_IO_NONALERT`
    /// is always added, with `SYNCHRONIZE` access, so the handle works with std's I/O).
    pub(crate) options: u32,
}

/// `NtCreateFile` of the single component `name` inside the directory `root`
/// (case-insensitive, as Win32 paths are).
pub(crate) fn create_at(
    root: BorrowedHandle<'_>,
    name: &OsStr,
    c: Create,
) -> io::Result<OwnedHandle> {
    use windows_sys::Wdk::Storage::FileSystem::FILE_SYNCHRONOUS_IO_NONALERT;
    use windows_sys::Win32::Storage::FileSystem::SYNCHRONIZE;
    let mut w = wide(name)?;
    let len = (w.len() * 2) as u16;
    let us = UNICODE_STRING {
        Length: len,
        MaximumLength: len,
        Buffer: w.as_mut_ptr(),
    };
    let attrs = OBJECT_ATTRIBUTES {
        Length: size_of::<OBJECT_ATTRIBUTES>() as u32,
        RootDirectory: root.as_raw_handle() as HANDLE,
        ObjectName: &us,
        Attributes: OBJ_CASE_INSENSITIVE,
        SecurityDescriptor: std::ptr::null(),
        SecurityQualityOfService: std::ptr::null(),
    };
    let mut iosb = IO_STATUS_BLOCK::default();
    let mut h: HANDLE = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local (`us` points into `w`, which outlives the
    // call); `root` is an open handle borrowed for the call; no EA buffer.
    let status = unsafe {
        NtCreateFile(
            &mut h,
            c.access | SYNCHRONIZE,
            &attrs,
            &mut iosb,
            std::ptr::null(),
            FILE_ATTRIBUTE_NORMAL,
            c.share,
            c.disposition,
            c.options | FILE_SYNCHRONOUS_IO_NONALERT,
            std::ptr::null(),
            0,
        )
    };
    check(status)?;
    // SAFETY: NtCreateFile succeeded, so `h` is a new handle that nothing else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(h as _) })
}

/// Renames the open file `file` to `name` inside the directory `dir`, replacing a file
/// there if `replace` (`FileRenameInformation` with `RootDirectory`: no path is
/// resolved). `file` must have been opened with `DELETE` access.
pub(crate) fn rename_to(
    file: BorrowedHandle<'_>,
    dir: BorrowedHandle<'_>,
    name: &OsStr,
    replace: bool,
) -> io::Result<()> {
    let w = wide(name)?;
    let off = std::mem::offset_of!(FILE_RENAME_INFORMATION, FileName);
    let size = (off + w.len() * 2).max(size_of::<FILE_RENAME_INFORMATION>());
    // u64s: aligned for the struct (which holds a handle).
    let mut buf = vec![0u64; size.div_ceil(8)];
    let info = buf.as_mut_ptr().cast::<FILE_RENAME_INFORMATION>();
    // SAFETY: `buf` is zeroed, aligned and `size` bytes long, enough for the header and
    // the `w.len()` u16s of the name written after it at `FileName`'s offset.
    unsafe {
        (*info).Anonymous.ReplaceIfExists = replace;
        (*info).RootDirectory = dir.as_raw_handle() as HANDLE;
        (*info).FileNameLength = (w.len() * 2) as u32;
        std::ptr::copy_nonoverlapping(
            w.as_ptr(),
            buf.as_mut_ptr().cast::<u8>().add(off).cast::<u16>(),
            w.len(),
        );
    }
    // SAFETY: `info` points to `size` initialised bytes in `buf`, alive for the call;
    // the directory handle inside stays open for it.
    unsafe { set_information(file, info.cast(), size, FileRenameInformation) }
}

/// `NtSetInformationFile(h, info, size, class)`.
///
/// # Safety
/// `info` must point to `size` initialised bytes laid out as `class` expects, alive
/// for the call, and any handle inside them must be open.
unsafe fn set_information(
    h: BorrowedHandle<'_>,
    info: *const std::ffi::c_void,
    size: usize,
    class: windows_sys::Wdk::Storage::FileSystem::FILE_INFORMATION_CLASS,
) -> io::Result<()> {
    let mut iosb = IO_STATUS_BLOCK::default();
    // SAFETY: the caller vouches for `info`; `iosb` is a live local; `h` is open.
    let status = unsafe {
        NtSetInformationFile(
            h.as_raw_handle() as HANDLE,
            &mut iosb,
            info,
            size as u32,
            class,
        )
    };
    check(status)
}

/// Marks the open file or directory `h` for deletion (when its last handle closes);
/// `h` must have `DELETE` access. A non-empty directory fails (`ERROR_DIR_NOT_EMPTY`).
pub(crate) fn delete(h: BorrowedHandle<'_>) -> io::Result<()> {
    let info = FILE_DISPOSITION_INFORMATION { DeleteFile: true };
    let size = size_of::<FILE_DISPOSITION_INFORMATION>();
    // SAFETY: `info` is a live local of the size passed, holding no handle.
    unsafe {
        set_information(
            h,
            (&raw const info).cast(),
            size,
            FileDispositionInformation,
        )
    }
}

/// Sets the attributes (`FILE_ATTRIBUTE_*`) of the open `h` (with
/// `FILE_WRITE_ATTRIBUTES` access); times are left alone. No attributes at all is
/// written as `FILE_ATTRIBUTE_NORMAL`: 0 would mean "leave them as they are".
pub(crate) fn set_attributes(h: BorrowedHandle<'_>, attributes: u32) -> io::Result<()> {
    let info = FILE_BASIC_INFORMATION {
        FileAttributes: if attributes == 0 {
            FILE_ATTRIBUTE_NORMAL
        } else {
            attributes
        },
        ..FILE_BASIC_INFORMATION::default()
    };
    let size = size_of::<FILE_BASIC_INFORMATION>();
    // SAFETY: `info` is a live local of the size passed, holding no handle.
    unsafe { set_information(h, (&raw const info).cast(), size, FileBasicInformation) }
}

/// The names in the directory `dir` (opened for synchronous I/O with
/// `FILE_LIST_DIRECTORY`), without `.` and `..`.
pub(crate) fn list(dir: BorrowedHandle<'_>) -> io::Result<Vec<OsString>> {
    let name_off = std::mem::offset_of!(FILE_DIRECTORY_INFORMATION, FileName);
    let mut buf = vec![0u64; 8192];
    let bytes = buf.len() * 8;
    let mut names = Vec::new();
    let mut restart = true;
    loop {
        let mut iosb = IO_STATUS_BLOCK::default();
        // SAFETY: `buf` is writable for `bytes` bytes and outlives the call; `dir` is an
        // open synchronous directory handle, so the call completes before returning; no
        // event, APC or name filter.
        let status = unsafe {
            NtQueryDirectoryFile(
                dir.as_raw_handle() as HANDLE,
                std::ptr::null_mut(),
                None,
                std::ptr::null(),
                &mut iosb,
                buf.as_mut_ptr().cast(),
                bytes as u32,
                FileDirectoryInformation,
                false,
                std::ptr::null(),
                restart,
            )
        };
        restart = false;
        if status == STATUS_NO_MORE_FILES {
            return Ok(names);
        }
        check(status)?;
        let filled = iosb.Information.min(bytes);
        let base = buf.as_ptr().cast::<u8>();
        let mut at = 0usize;
        while at + name_off <= filled {
            // SAFETY: the kernel wrote entries of FILE_DIRECTORY_INFORMATION at 8-aligned
            // offsets chained by NextEntryOffset within `filled` bytes of `buf`; the
            // header lies within them (checked above).
            let entry = unsafe { &*base.add(at).cast::<FILE_DIRECTORY_INFORMATION>() };
            let len = entry.FileNameLength as usize / 2;
            if at + name_off + len * 2 > filled {
                break;
            }
            // SAFETY: the name's `len` u16s follow the header inside `filled` (checked
            // just above); u16 alignment holds at an 8-aligned entry's FileName.
            let name =
                unsafe { std::slice::from_raw_parts(base.add(at + name_off).cast::<u16>(), len) };
            if name != [u16::from(b'.')] && name != [u16::from(b'.'), u16::from(b'.')] {
                names.push(OsString::from_wide(name));
            }
            if entry.NextEntryOffset == 0 {
                break;
            }
            at += entry.NextEntryOffset as usize;
        }
    }
}
