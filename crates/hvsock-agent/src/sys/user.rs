//! Accounts and credentials: the password and group databases (through libc's `_r`
//! calls, which consult NSS; rustix has none of them) and the switch of a thread's, or
//! a forked child's, credentials to a user's (rustix's raw per-thread syscalls).

use rustix::process::{Gid, Uid};
use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One entry of the password database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory (empty if the entry has none).
    pub home: PathBuf,
    /// Login shell (empty if the entry has none).
    pub shell: PathBuf,
}

/// What to look a user up by.
enum Key<'a> {
    Name(&'a CStr),
    Uid(u32),
}

/// Calls `getpwnam_r`/`getpwuid_r`, growing the buffer on `ERANGE`.
fn getpw(key: Key<'_>) -> io::Result<Option<PasswdEntry>> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: an all-zero passwd is a valid (null-pointer) value to be filled in.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: the call fills pw with pointers into buf (valid for buf's length,
        // which is passed) and sets result to &pw on success or NULL if there is no
        // such entry; name is a NUL-terminated string that outlives the call.
        let r = unsafe {
            match key {
                Key::Name(name) => libc::getpwnam_r(
                    name.as_ptr(),
                    &mut pw,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut result,
                ),
                Key::Uid(uid) => libc::getpwuid_r(
                    uid,
                    &mut pw,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut result,
                ),
            }
        };
        if r == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if r != 0 {
            return Err(io::Error::from_raw_os_error(r));
        }
        if result.is_null() {
            return Ok(None);
        }
        let field = |p: *const libc::c_char| -> &[u8] {
            if p.is_null() {
                return b"";
            }
            // SAFETY: the call succeeded, so non-null fields are NUL-terminated strings
            // inside buf, which is alive for this closure's uses below.
            unsafe { CStr::from_ptr(p) }.to_bytes()
        };
        let name = String::from_utf8_lossy(field(pw.pw_name)).into_owned();
        let home = PathBuf::from(OsStr::from_bytes(field(pw.pw_dir)));
        let shell = PathBuf::from(OsStr::from_bytes(field(pw.pw_shell)));
        return Ok(Some(PasswdEntry {
            name,
            uid: pw.pw_uid,
            gid: pw.pw_gid,
            home,
            shell,
        }));
    }
}

/// The password entry of the user `name`; `Ok(None)` if there is none.
pub fn passwd_by_name(name: &str) -> io::Result<Option<PasswdEntry>> {
    let Ok(c) = CString::new(name) else {
        return Ok(None);
    };
    getpw(Key::Name(&c))
}

/// The password entry of the user id `uid`; `Ok(None)` if there is none.
pub fn passwd_by_uid(uid: u32) -> io::Result<Option<PasswdEntry>> {
    getpw(Key::Uid(uid))
}

/// The groups of the user `name` whose primary group is `gid` (`getgrouplist`: the
/// primary group and every group of the group database that lists the user), sorted,
/// without duplicates.
pub fn group_list(name: &str, gid: u32) -> io::Result<Vec<u32>> {
    let c = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut n = groups.len() as libc::c_int;
        // SAFETY: groups has room for n entries (passed in n); getgrouplist writes at
        // most n of them and sets n to the number it has (or would need, on -1).
        let r = unsafe { libc::getgrouplist(c.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if r == -1 {
            // Too small: n is the count needed (glibc); grow in any case.
            let want = (n.max(0) as usize).max(groups.len() * 2);
            if want > 65536 {
                return Err(io::Error::other("too many groups"));
            }
            groups.resize(want, 0);
            continue;
        }
        groups.truncate(n.max(0) as usize);
        groups.sort_unstable();
        groups.dedup();
        return Ok(groups);
    }
}

/// The id of the group `name` (e.g. `tty`), if it exists.
pub fn group_id(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: an all-zero group is a valid (null-pointer) value to be filled in.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: getgrnam_r fills gr with pointers into buf (valid for buf's length) and
    // sets result to &gr on success or NULL; c is NUL-terminated and outlives the call.
    let r = unsafe {
        libc::getgrnam_r(
            c.as_ptr(),
            &mut gr,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    (r == 0 && !result.is_null()).then_some(gr.gr_gid)
}

/// The calling thread's credentials: real and effective uid, real and effective gid,
/// supplementary groups (sorted). Raw syscalls: on Linux these are the thread's own.
pub fn thread_credentials() -> io::Result<(u32, u32, u32, u32, Vec<u32>)> {
    let mut groups: Vec<u32> = rustix::process::getgroups()?
        .into_iter()
        .map(Gid::as_raw)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    Ok((
        rustix::process::getuid().as_raw(),
        rustix::process::geteuid().as_raw(),
        rustix::process::getgid().as_raw(),
        rustix::process::getegid().as_raw(),
        groups,
    ))
}

/// A user's credentials, prepared (allocated) before they are taken, so that taking
/// them in a forked child allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User id (real, effective and saved).
    pub uid: u32,
    /// Group id (real, effective and saved).
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Credentials {
    /// Whether the calling thread has exactly these credentials.
    pub fn are_current(&self) -> bool {
        let mut want = self.groups.clone();
        want.sort_unstable();
        want.dedup();
        thread_credentials().is_ok_and(|(r, e, g, eg, gs)| {
            r == self.uid && e == self.uid && g == self.gid && eg == self.gid && gs == want
        })
    }
}

/// Gives the calling *thread* (only: these are the kernel's per-thread calls, not
/// glibc's process-wide wrappers) the credentials `c`, for good: real, effective and
/// saved ids all change, so the thread cannot go back, and a thread that leaves uid 0
/// this way loses its capabilities.
///
/// The order is forced by the privileges each step needs: `setgroups` and `setresgid`
/// need `CAP_SETGID`, which `setresuid` to a non-root uid drops; so groups, then gid,
/// then uid. Async-signal-safe and allocation-free (raw syscalls on prepared data):
/// usable in a forked child before exec.
pub fn take_credentials(c: &Credentials) -> io::Result<()> {
    // SAFETY: rustix's Gid is `#[repr(transparent)]` over the raw gid (u32 on Linux),
    // so a slice of u32 gids has the layout of a slice of Gid, for the same length and
    // lifetime; this avoids allocating a Vec<Gid> in a forked child.
    let groups: &[Gid] =
        unsafe { std::slice::from_raw_parts(c.groups.as_ptr().cast::<Gid>(), c.groups.len()) };
    rustix::thread::set_thread_groups(groups)?;
    let gid = Gid::from_raw(c.gid);
    rustix::thread::set_thread_res_gid(gid, gid, gid)?;
    let uid = Uid::from_raw(c.uid);
    rustix::thread::set_thread_res_uid(uid, uid, uid)?;
    Ok(())
}

/// Marks the process not dumpable (`PR_SET_DUMPABLE` 0): no core dumps, and no
/// `ptrace` or `/proc/PID/mem` access by anyone but root. Called before a thread of
/// the agent takes a user's credentials: that thread shares the agent's memory, and a
/// process of the same user could otherwise attach to it (the kernel does this itself
/// on a uid change unless `fs.suid_dumpable` is 1).
pub fn make_undumpable() -> io::Result<()> {
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

/// Changes the owner of a PTY slave to `uid` and the `tty` group (when there is one),
/// mode 0620, as login and sshd do: the user's own terminal, writable by `write(1)`.
pub fn give_terminal(fd: std::os::fd::BorrowedFd<'_>, uid: u32, gid: u32) -> io::Result<()> {
    let group = group_id("tty").unwrap_or(gid);
    rustix::fs::fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(group)))?;
    rustix::fs::fchmod(fd, rustix::fs::Mode::from_raw_mode(0o620))?;
    Ok(())
}

/// A forked child's switch to a user, prepared before the fork: credentials, then the
/// working directory as that user.
#[derive(Debug, Clone)]
pub struct ChildSwitch {
    /// The credentials to take (`None`: keep the agent's).
    pub creds: Option<Credentials>,
    /// The directory to change to, with the user's permissions.
    pub cwd: Option<CString>,
    /// If changing to `cwd` fails, change to `/` instead (the default home directory,
    /// as login does), rather than failing.
    pub cwd_fallback: bool,
}

/// Makes `cmd`'s child take `switch` before exec, after [`configure_child`]'s hook
/// (hooks run in the order they were added; std's own uid/gid/cwd handling comes
/// before them, which is why none of those is used: std would drop the supplementary
/// groups, and change directory as root).
///
/// [`configure_child`]: super::configure_child
pub fn configure_user(cmd: &mut std::process::Command, switch: ChildSwitch) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs between fork and exec in a single-threaded child and only
    // makes async-signal-safe raw syscalls (setgroups, setresgid, setresuid, chdir) on
    // data prepared before the fork; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(c) = &switch.creds {
                take_credentials(c)?;
            }
            if let Some(dir) = &switch.cwd {
                match rustix::process::chdir(dir.as_c_str()) {
                    Ok(()) => {}
                    Err(_) if switch.cwd_fallback => rustix::process::chdir(c"/")?,
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        });
    }
}
