//! libpam, loaded at run time (`dlopen("libpam.so.0")`) rather than linked: building
//! the crate needs no PAM development files, hosts and clients never load it, and a
//! guest without libpam gets a clear error from the password check alone.
//!
//! One check is [`authenticate`]: `pam_start_confdir` (libpam 1.5; plain `pam_start`
//! without a configuration directory), `pam_authenticate`, `pam_acct_mgmt`, `pam_end`,
//! with a conversation that answers the password prompt.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

const PAM_SUCCESS: c_int = 0;
const PAM_BUF_ERR: c_int = 5;
const PAM_CONV_ERR: c_int = 19;
const PAM_PROMPT_ECHO_OFF: c_int = 1;
const PAM_PROMPT_ECHO_ON: c_int = 2;
const PAM_SILENT: c_int = 0x8000;
const PAM_DISALLOW_NULL_AUTHTOK: c_int = 0x0001;

#[repr(C)]
struct PamMessage {
    msg_style: c_int,
    msg: *const c_char,
}

#[repr(C)]
struct PamResponse {
    resp: *mut c_char,
    resp_retcode: c_int,
}

type ConvFn = unsafe extern "C" fn(
    c_int,
    *mut *const PamMessage,
    *mut *mut PamResponse,
    *mut c_void,
) -> c_int;

#[repr(C)]
struct PamConv {
    conv: ConvFn,
    appdata_ptr: *mut c_void,
}

type Handle = *mut c_void;
type StartConfdir = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const PamConv,
    *const c_char,
    *mut Handle,
) -> c_int;
type Start =
    unsafe extern "C" fn(*const c_char, *const c_char, *const PamConv, *mut Handle) -> c_int;
type Step = unsafe extern "C" fn(Handle, c_int) -> c_int;
type Strerror = unsafe extern "C" fn(Handle, c_int) -> *const c_char;

/// The functions of the loaded libpam.
struct Lib {
    start_confdir: Option<StartConfdir>,
    start: Start,
    authenticate: Step,
    acct_mgmt: Step,
    end: Step,
    strerror: Strerror,
}

/// Looks up `name` in the library `lib`.
///
/// # Safety
/// `T` must be the function pointer type of the C function `name`.
unsafe fn symbol<T: Copy>(lib: *mut c_void, name: &CStr) -> Option<T> {
    // SAFETY: lib is a handle from dlopen (never closed); name is NUL-terminated.
    let p = unsafe { libc::dlsym(lib, name.as_ptr()) };
    if p.is_null() {
        return None;
    }
    debug_assert_eq!(size_of::<T>(), size_of::<*mut c_void>());
    // SAFETY: the caller guarantees T is the symbol's function pointer type, which has
    // the size and representation of a data pointer on Linux.
    Some(unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) })
}

fn load() -> Result<Lib, String> {
    // SAFETY: dlopen with a NUL-terminated name; the handle is kept for the process's
    // lifetime (never dlclose'd), so the symbols below stay valid.
    let lib = unsafe { libc::dlopen(c"libpam.so.0".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if lib.is_null() {
        return Err("PAM is not available: cannot load libpam.so.0".into());
    }
    let missing = |n: &str| format!("PAM is not available: libpam.so.0 has no {n}");
    // SAFETY: each type below is the prototype of its function in <security/pam_appl.h>.
    unsafe {
        Ok(Lib {
            start_confdir: symbol(lib, c"pam_start_confdir"),
            start: symbol(lib, c"pam_start").ok_or_else(|| missing("pam_start"))?,
            authenticate: symbol(lib, c"pam_authenticate")
                .ok_or_else(|| missing("pam_authenticate"))?,
            acct_mgmt: symbol(lib, c"pam_acct_mgmt").ok_or_else(|| missing("pam_acct_mgmt"))?,
            end: symbol(lib, c"pam_end").ok_or_else(|| missing("pam_end"))?,
            strerror: symbol(lib, c"pam_strerror").ok_or_else(|| missing("pam_strerror"))?,
        })
    }
}

fn lib() -> Result<&'static Lib, String> {
    static LIB: OnceLock<Result<Lib, String>> = OnceLock::new();
    LIB.get_or_init(load).as_ref().map_err(Clone::clone)
}

/// What the conversation answers.
struct Answers {
    user: CString,
    password: CString,
}

impl Drop for Answers {
    fn drop(&mut self) {
        // The password does not stay in freed memory.
        let mut bytes = std::mem::take(&mut self.password).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// Duplicates `s` with malloc: PAM frees each response with free().
fn c_dup(s: &CStr) -> *mut c_char {
    // SAFETY: s is NUL-terminated; strdup returns a malloc'd copy or NULL.
    unsafe { libc::strdup(s.as_ptr()) }
}

/// The conversation: the password for a hidden prompt, the user name for a visible
/// one (a module asking who), nothing for messages.
unsafe extern "C" fn converse(
    n: c_int,
    msgs: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata: *mut c_void,
) -> c_int {
    if n <= 0 || msgs.is_null() || resp.is_null() || appdata.is_null() {
        return PAM_CONV_ERR;
    }
    // SAFETY: appdata is the &Answers given to pam_start, alive for the whole check.
    let answers = unsafe { &*(appdata as *const Answers) };
    // SAFETY: calloc of n zeroed responses (NULL resp pointers); PAM frees the array.
    let out = unsafe { libc::calloc(n as usize, size_of::<PamResponse>()) } as *mut PamResponse;
    if out.is_null() {
        return PAM_BUF_ERR;
    }
    for i in 0..n as usize {
        // SAFETY: Linux-PAM passes an array of n pointers to messages.
        let m = unsafe { &**msgs.add(i) };
        let answer = match m.msg_style {
            PAM_PROMPT_ECHO_OFF => Some(answers.password.as_c_str()),
            PAM_PROMPT_ECHO_ON => Some(answers.user.as_c_str()),
            _ => None,
        };
        if let Some(a) = answer {
            let p = c_dup(a);
            if p.is_null() {
                for j in 0..i {
                    // SAFETY: responses 0..i were filled by us (malloc'd or NULL).
                    unsafe { libc::free((*out.add(j)).resp.cast()) };
                }
                // SAFETY: out came from calloc above.
                unsafe { libc::free(out.cast()) };
                return PAM_BUF_ERR;
            }
            // SAFETY: i < n, inside the calloc'd array.
            unsafe { (*out.add(i)).resp = p };
        }
    }
    // SAFETY: resp is PAM's out-pointer for the array.
    unsafe { *resp = out };
    PAM_SUCCESS
}

/// Why a check failed: the PAM step, its return code and PAM's message for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamFailure {
    /// `pam_start`, `pam_authenticate` or `pam_acct_mgmt`; empty if libpam could not
    /// be loaded or an argument holds a NUL byte.
    pub step: &'static str,
    /// The PAM return code (0 when `step` is empty).
    pub code: i32,
    /// `pam_strerror`'s text, or why libpam is not available.
    pub message: String,
}

/// Authenticates `user` with `password` for `service`, then checks the account
/// (expiry, access), with PAM's configuration from `confdir` (libpam 1.5's
/// `pam_start_confdir`) or the system's. Blocking (modules may sleep on failure).
pub fn authenticate(
    service: &str,
    user: &str,
    password: &str,
    confdir: Option<&Path>,
) -> Result<(), PamFailure> {
    use std::os::unix::ffi::OsStrExt;
    let plain = |message: String| PamFailure {
        step: "",
        code: 0,
        message,
    };
    let lib = lib().map_err(plain)?;
    let nul = |what: &str| plain(format!("the {what} holds a NUL byte"));
    let service = CString::new(service).map_err(|_| nul("service name"))?;
    let answers = Answers {
        user: CString::new(user).map_err(|_| nul("user name"))?,
        password: CString::new(password).map_err(|_| nul("password"))?,
    };
    let confdir = match confdir {
        Some(d) => Some(CString::new(d.as_os_str().as_bytes()).map_err(|_| nul("directory"))?),
        None => None,
    };
    // Some modules (pam_unix's helpers, NSS) are not known to be thread-safe: one
    // check at a time in this process.
    static ONE: Mutex<()> = Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|p| p.into_inner());
    let conv = PamConv {
        conv: converse,
        appdata_ptr: (&answers as *const Answers).cast_mut().cast(),
    };
    let mut h: Handle = std::ptr::null_mut();
    let r = match (&confdir, lib.start_confdir) {
        // SAFETY: NUL-terminated strings and conv outlive the handle (pam_end below).
        (Some(d), Some(f)) => unsafe {
            f(
                service.as_ptr(),
                answers.user.as_ptr(),
                &conv,
                d.as_ptr(),
                &mut h,
            )
        },
        (Some(_), None) => {
            return Err(plain(
                "PAM is too old: pam_start_confdir needs libpam 1.5".into(),
            ));
        }
        // SAFETY: as above.
        (None, _) => unsafe { (lib.start)(service.as_ptr(), answers.user.as_ptr(), &conv, &mut h) },
    };
    let text = |h: Handle, code: c_int| -> String {
        // SAFETY: pam_strerror returns a static string (or NULL) for any code.
        let p = unsafe { (lib.strerror)(h, code) };
        if p.is_null() {
            format!("PAM error {code}")
        } else {
            // SAFETY: non-null: a NUL-terminated static string.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    if r != PAM_SUCCESS || h.is_null() {
        return Err(PamFailure {
            step: "pam_start",
            code: r,
            message: text(std::ptr::null_mut(), r),
        });
    }
    let flags = PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK;
    // SAFETY: h is a live handle from pam_start, ended once below.
    let mut result = match unsafe { (lib.authenticate)(h, flags) } {
        PAM_SUCCESS => Ok(()),
        code => Err(("pam_authenticate", code)),
    };
    if result.is_ok() {
        // SAFETY: as above.
        result = match unsafe { (lib.acct_mgmt)(h, flags) } {
            PAM_SUCCESS => Ok(()),
            code => Err(("pam_acct_mgmt", code)),
        };
    }
    let out = result.map_err(|(step, code)| PamFailure {
        step,
        code,
        message: text(h, code),
    });
    let last = match &out {
        Ok(()) => PAM_SUCCESS,
        Err(f) => f.code,
    };
    // SAFETY: h is live; after this it is not used again.
    unsafe { (lib.end)(h, last) };
    out
}
