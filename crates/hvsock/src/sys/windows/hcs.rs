//! The Host Compute Service (HCS): the list of compute systems (VMs, containers, the
//! WSL utility VM) as the JSON text `HcsEnumerateComputeSystems` returns.
//!
//! `computecore.dll` is loaded at run time, from System32 only, and never linked: it
//! exists only on Windows 10 1809 / Server 2019 and later with Hyper-V (and not under
//! wine), and hvsock must start without it. When it is missing the answer is an error
//! of kind `Unsupported` that says so.

use std::ffi::{CStr, c_void};
use std::io;
use windows_sys::Win32::Foundation::{FreeLibrary, GetLastError, HLOCAL, HMODULE, LocalFree};
use windows_sys::Win32::System::LibraryLoader::{
    GetProcAddress, LOAD_LIBRARY_SEARCH_SYSTEM32, LoadLibraryExW,
};
use windows_sys::core::{HRESULT, PCWSTR, PWSTR};

/// The DLL that exports the HCS API.
pub(crate) const COMPUTECORE: &str = "computecore.dll";
/// How long to wait for the HCS to answer: it answers in milliseconds, so a minute
/// means the service is stuck, and the caller hears so instead of hanging.
const WAIT_MS: u32 = 60_000;
/// `HCS_E_OPERATION_TIMEOUT`: the wait ended before the operation did.
const TIMEOUT_HRESULT: HRESULT = 0x8037_0118_u32 as HRESULT;
/// `E_ACCESSDENIED`.
const ACCESS_DENIED_HRESULT: HRESULT = 0x8007_0005_u32 as HRESULT;

type HcsOperation = *mut c_void;
type HcsCreateOperation = unsafe extern "system" fn(*const c_void, *const c_void) -> HcsOperation;
type HcsEnumerateComputeSystems = unsafe extern "system" fn(PCWSTR, HcsOperation) -> HRESULT;
type HcsWaitForOperationResult =
    unsafe extern "system" fn(HcsOperation, u32, *mut PWSTR) -> HRESULT;
type HcsCloseOperation = unsafe extern "system" fn(HcsOperation);

/// A loaded DLL, freed on drop.
struct Library(HMODULE);

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: the module was loaded by LoadLibraryExW, owned by this value, and no
        // function pointer from it outlives the value (they are used within `enumerate`).
        unsafe { FreeLibrary(self.0) };
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn unsupported(detail: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "the Host Compute Service is not available ({detail}): listing VMs needs \
             Windows 10 1809 / Windows Server 2019 or later with Hyper-V"
        ),
    )
}

impl Library {
    /// Loads `name` from System32 only (never from the current or program directory).
    fn system32(name: &str) -> io::Result<Library> {
        let wname = wide(name);
        // SAFETY: `wname` is a NUL-terminated UTF-16 string alive for the call; the
        // file handle must be NULL; the flag restricts the search to System32.
        let module = unsafe {
            LoadLibraryExW(
                wname.as_ptr(),
                std::ptr::null_mut(),
                LOAD_LIBRARY_SEARCH_SYSTEM32,
            )
        };
        if module.is_null() {
            // SAFETY: reads this thread's last error, set by the failed call above.
            let code = unsafe { GetLastError() };
            return Err(unsupported(&format!(
                "{name} could not be loaded: Win32 error {code}"
            )));
        }
        Ok(Library(module))
    }

    /// The address of export `name`, as a function pointer of type `F`.
    ///
    /// # Safety
    /// `F` must be an `unsafe extern "system" fn` type matching the export's signature.
    unsafe fn symbol<F: Copy>(&self, name: &CStr) -> io::Result<F> {
        const { assert!(size_of::<F>() == size_of::<unsafe extern "system" fn() -> isize>()) };
        // SAFETY: the module is loaded and `name` is NUL-terminated.
        let f = unsafe { GetProcAddress(self.0, name.as_ptr().cast()) }.ok_or_else(|| {
            unsupported(&format!("{COMPUTECORE} has no {}", name.to_string_lossy()))
        })?;
        // SAFETY: same size (checked above), and the caller promises `F` is the
        // export's real signature.
        Ok(unsafe { std::mem::transmute_copy::<unsafe extern "system" fn() -> isize, F>(&f) })
    }
}

/// Takes a string the HCS allocated: copies it out and frees it with `LocalFree`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated UTF-16 string allocated with `LocalAlloc`, not
/// used after this call.
unsafe fn take_hlocal_string(p: PWSTR) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut len = 0;
    // SAFETY: the string is NUL-terminated, so every index up to the NUL is readable.
    while unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units before the NUL were just read.
    let s = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) });
    // SAFETY: the HCS allocated it with LocalAlloc (HcsWaitForOperationResult's
    // contract) and nothing refers to it after this.
    unsafe { LocalFree(p as HLOCAL) };
    Some(s)
}

/// The JSON document listing every compute system (`HcsEnumerateComputeSystems` with
/// no query), or `Unsupported` if there is no HCS here.
pub(crate) fn enumerate_compute_systems() -> io::Result<String> {
    enumerate_with(COMPUTECORE)
}

/// [`enumerate_compute_systems`] from the DLL `dll` (tests name a missing one).
pub(crate) fn enumerate_with(dll: &str) -> io::Result<String> {
    let lib = Library::system32(dll)?;
    // SAFETY: the types are computecore.h's signatures of these exports.
    let (create, enumerate, wait, close) = unsafe {
        (
            lib.symbol::<HcsCreateOperation>(c"HcsCreateOperation")?,
            lib.symbol::<HcsEnumerateComputeSystems>(c"HcsEnumerateComputeSystems")?,
            lib.symbol::<HcsWaitForOperationResult>(c"HcsWaitForOperationResult")?,
            lib.symbol::<HcsCloseOperation>(c"HcsCloseOperation")?,
        )
    };
    // SAFETY: no context and no callback: the operation is waited for synchronously.
    let op = unsafe { create(std::ptr::null(), std::ptr::null()) };
    if op.is_null() {
        return Err(io::Error::other("HcsCreateOperation failed"));
    }
    // SAFETY: `op` is a fresh operation; a NULL query lists every system.
    let hr = unsafe { enumerate(std::ptr::null(), op) };
    let mut doc: PWSTR = std::ptr::null_mut();
    let hr = if hr < 0 {
        hr
    } else {
        // SAFETY: `op` tracks the enumeration just started; `doc` is a valid out pointer.
        unsafe { wait(op, WAIT_MS, &mut doc) }
    };
    // SAFETY: `doc` is NULL or the result string, LocalAlloc'ed by the HCS.
    let text = unsafe { take_hlocal_string(doc) };
    // SAFETY: `op` came from HcsCreateOperation and is closed once, after its wait.
    unsafe { close(op) };
    drop(lib);
    if hr < 0 {
        return Err(hcs_error(hr, text.as_deref()));
    }
    Ok(text.unwrap_or_else(|| "[]".to_string()))
}

/// The error for a failed HCS call; `doc` is the error document it may return.
fn hcs_error(hr: HRESULT, doc: Option<&str>) -> io::Error {
    let kind = match hr {
        ACCESS_DENIED_HRESULT => io::ErrorKind::PermissionDenied,
        TIMEOUT_HRESULT => io::ErrorKind::TimedOut,
        _ => io::ErrorKind::Other,
    };
    let mut msg = format!(
        "HcsEnumerateComputeSystems failed: HRESULT {:#010x}",
        hr as u32
    );
    if kind == io::ErrorKind::PermissionDenied {
        msg.push_str(" (access denied: the Host Compute Service answers administrators only)");
    }
    if let Some(d) = doc.filter(|d| !d.trim().is_empty()) {
        let d: String = d.chars().take(400).collect();
        msg.push_str(&format!(": {}", crate::text::escape_untrusted(&d)));
    }
    io::Error::new(kind, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_dll_is_unsupported() {
        let e = enumerate_with("hvsock-no-such-library.dll").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        let s = e.to_string();
        assert!(s.contains("Host Compute Service is not available"), "{s}");
        assert!(
            s.contains("hvsock-no-such-library.dll") && s.contains("126"),
            "{s}"
        );
    }

    #[test]
    fn hcs_errors_keep_their_kind_and_escape_the_document() {
        let e = hcs_error(
            ACCESS_DENIED_HRESULT,
            Some("{\"Error\":-2147024891}\u{1b}[2J"),
        );
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        let s = e.to_string();
        assert!(s.contains("0x80070005") && !s.contains('\u{1b}'), "{s}");
        assert_eq!(
            hcs_error(TIMEOUT_HRESULT, None).kind(),
            io::ErrorKind::TimedOut
        );
    }
}
