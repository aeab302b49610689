//! The Unix system calls: PTYs, window sizes, raw terminal mode, the user's login shell
//! and signals, through rustix where it has the call.

use crate::proto::WindowSize;
use rustix::process::Signal;
use rustix::termios::{
    LocalModes, OptionalActions, Termios, Winsize, tcgetattr, tcsetattr, tcsetwinsize,
};
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::task::{Context, Poll, ready};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

fn to_winsize(w: WindowSize) -> Winsize {
    Winsize {
        ws_row: w.rows,
        ws_col: w.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// Opens a new PTY pair `(master, slave)` with the given window size. Both are
/// close-on-exec; the master is non-blocking.
pub fn open_pty(window: WindowSize) -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::fs::{Mode, OFlags};
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    // What openpty(3) does: a new master, unlocked, and its slave opened by name.
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let name = ptsname(&master, Vec::new())?;
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    tcsetwinsize(&slave, to_winsize(window))?;
    let flags = rustix::fs::fcntl_getfl(&master)?;
    rustix::fs::fcntl_setfl(&master, flags | OFlags::NONBLOCK)?;
    Ok((master, slave))
}

/// Sets a terminal's window size (TIOCSWINSZ); the kernel sends SIGWINCH to its
/// foreground process group.
pub fn set_window_size(fd: BorrowedFd<'_>, w: WindowSize) -> io::Result<()> {
    tcsetwinsize(fd, to_winsize(w))?;
    Ok(())
}

/// A terminal's window size (TIOCGWINSZ), or `None` if `fd` is not a terminal.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<WindowSize> {
    let ws = rustix::termios::tcgetwinsize(fd).ok()?;
    Some(WindowSize {
        rows: ws.ws_row,
        cols: ws.ws_col,
    })
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: BorrowedFd<'_>) -> bool {
    rustix::termios::isatty(fd)
}

/// In a forked child before exec: become a session leader (and so a new process
/// group), then, if `ctty`, make fd 0 (the PTY slave) the controlling terminal.
///
/// Only async-signal-safe calls.
fn child_setup(ctty: bool) -> io::Result<()> {
    rustix::process::setsid()?;
    if ctty {
        // SAFETY: fd 0 is open in the child (the caller set it to the PTY slave) and
        // stays open for this call.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        rustix::process::ioctl_tiocsctty(stdin)?;
    }
    // Undo the agent's ignored/blocked signals so Ctrl-C and friends work normally
    // (rustix has no signal-disposition calls outside its runtime module).
    // SAFETY: resetting dispositions to SIG_DFL and clearing the mask are
    // async-signal-safe; the sigset is initialised by sigemptyset.
    unsafe {
        for s in [libc::SIGINT, libc::SIGQUIT, libc::SIGPIPE, libc::SIGTSTP] {
            libc::signal(s, libc::SIG_DFL);
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
    Ok(())
}

/// Sends signal `sig` (1 to 64) to process group `pgid` (above 0).
pub fn kill_group(pgid: i32, sig: i32) -> io::Result<()> {
    // 0 and negative groups would mean "our own group" or "every process" to kill(2).
    if pgid <= 0 || !(1..=64).contains(&sig) {
        return Err(rustix::io::Errno::INVAL.into());
    }
    let pgid = rustix::process::Pid::from_raw(pgid).ok_or(rustix::io::Errno::INVAL)?;
    match Signal::from_named_raw(sig) {
        Some(sig) => rustix::process::kill_process_group(pgid, sig)?,
        // The real-time signals: rustix's `Signal` may not carry the ones libc
        // reserves (SIGRTMIN to SIGRTMAX), so these go through libc.
        None => {
            // SAFETY: kill(2) with a positive process group (negated) and a signal
            // number in 1..=64; plain integers, no memory involved.
            if unsafe { libc::kill(-pgid.as_raw_nonzero().get(), sig) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The state (field 3) and session id (field 6) in the text of a `/proc/PID/stat`.
///
/// The command name (field 2) is in parentheses and may itself hold spaces and `)`, so
/// the fields are counted from the last `)`. `None` if the text does not have that form.
///
/// ```
/// use hvsock_agent::sys::parse_proc_stat;
/// assert_eq!(parse_proc_stat(b"42 (a) b) S 1 40 40 0 -1"), Some((b'S', 40)));
/// assert_eq!(parse_proc_stat(b"42 (x"), None);
/// ```
pub fn parse_proc_stat(stat: &[u8]) -> Option<(u8, i32)> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?;
    // The kernel's states are letters (R, S, D, Z, T, t, X, I...); anything else is not
    // a stat line.
    if state.len() != 1 || !state.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let _ppid = fields.next()?;
    let _pgrp = fields.next()?;
    let session = fields.next()?.parse().ok()?;
    Some((state.as_bytes()[0], session))
}

/// The live processes (not zombies) of session `sid`, found through `/proc/*/stat`.
/// Empty if `/proc` cannot be read.
pub fn session_processes(sid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        // A process that ends meanwhile has no stat any more: skip it.
        let Ok(stat) = std::fs::read(e.path().join("stat")) else {
            continue;
        };
        if let Some((state, session)) = parse_proc_stat(&stat)
            && session == sid
            && state != b'Z'
            && state != b'X'
        {
            out.push(pid);
        }
    }
    out
}

/// The caller's own session id, read from `/proc/self/stat`.
///
/// Not `getsid(0)`: in a container whose session leader lives outside its pid namespace
/// the kernel reports session 0, and rustix's `getsid` panics on a zero pid (CI ran
/// into exactly that). `/proc` reports 0 too, which [`signal_session`] refuses anyway.
pub fn own_session() -> Option<i32> {
    let stat = std::fs::read("/proc/self/stat").ok()?;
    parse_proc_stat(&stat).map(|(_, session)| session)
}

/// Sends `sig` to every live process of session `sid` (a session the agent started with
/// `setsid`: its id is its leader's pid). Refuses (returns 0) for the caller's own
/// session and for ids below 2. Returns how many processes were signalled.
///
/// A process may start another in the same session between the scan and the signal;
/// callers repeat this until [`session_processes`] is empty.
pub fn signal_session(sid: i32, sig: rustix::process::Signal) -> usize {
    use rustix::process::{Pid, kill_process};
    if sid < 2 || own_session() == Some(sid) {
        return 0;
    }
    session_processes(sid)
        .into_iter()
        .filter_map(Pid::from_raw)
        .filter(|p| kill_process(*p, sig).is_ok())
        .count()
}

/// The foreground process group of the terminal whose master is `fd`.
pub fn foreground_group(fd: BorrowedFd<'_>) -> Option<i32> {
    let pgid = rustix::termios::tcgetpgrp(fd).ok()?;
    Some(pgid.as_raw_nonzero().get())
}

/// The login user's entry: (name, home, shell). The shell falls back to `/bin/sh`.
pub fn current_user() -> (Option<String>, Option<PathBuf>, PathBuf) {
    // rustix has no passwd lookup: getpwuid_r stays a libc call.
    let uid = rustix::process::getuid().as_raw();
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid (null-pointer) value to be filled in.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r fills pw with pointers into buf (valid for buf's length) and
    // sets result to &pw on success or NULL.
    let r = unsafe {
        libc::getpwuid_r(
            uid,
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    let sh = PathBuf::from("/bin/sh");
    if r != 0 || result.is_null() {
        return (None, None, sh);
    }
    let field = |p: *const libc::c_char| -> Option<String> {
        if p.is_null() {
            return None;
        }
        // SAFETY: getpwuid_r succeeded, so non-null fields are NUL-terminated strings
        // inside buf, which is still alive.
        let s = unsafe { CStr::from_ptr(p) }.to_str().ok()?;
        (!s.is_empty()).then(|| s.to_string())
    };
    let name = field(pw.pw_name);
    let home = field(pw.pw_dir).map(PathBuf::from);
    let shell = field(pw.pw_shell)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.exists())
        .unwrap_or(sh);
    (name, home, shell)
}

/// A terminal put in raw mode; the previous settings come back on drop.
#[derive(Debug)]
pub struct RawMode {
    fd: RawFd,
    saved: Termios,
}

impl RawMode {
    /// Puts the terminal on `fd` in raw mode (cfmakeraw). `fd` must stay open for as
    /// long as the guard lives (use stdin, which lives for the whole process).
    pub fn enter(fd: BorrowedFd<'_>) -> io::Result<RawMode> {
        let saved = tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(fd, OptionalActions::Drain, &raw)?;
        Ok(RawMode {
            fd: fd.as_raw_fd(),
            saved,
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: `enter`'s caller keeps the fd open for the guard's lifetime.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let _ = tcsetattr(fd, OptionalActions::Drain, &self.saved);
    }
}

/// Whether the terminal on `fd` is in raw mode (no ICANON, no ECHO, no ISIG).
pub fn is_raw(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let t = tcgetattr(fd)?;
    Ok(!t
        .local_modes
        .intersects(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG))
}

/// The master side of a PTY as a tokio reader/writer.
///
/// Reads return end-of-file once every slave fd is closed (Linux reports EIO then).
#[derive(Debug)]
pub struct PtyMaster {
    fd: AsyncFd<OwnedFd>,
}

impl PtyMaster {
    /// Wraps a non-blocking master fd (from [`open_pty`]).
    pub fn new(fd: OwnedFd) -> io::Result<PtyMaster> {
        // SAFETY: an OwnedFd is a valid open fd, owned by the AsyncFd until it is
        // dropped, and its as_raw_fd always returns that same fd.
        let fd = unsafe { AsyncFd::register(fd) }?;
        Ok(PtyMaster { fd })
    }

    /// The master fd (for ioctls).
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.get_ref().as_fd()
    }
}

impl AsyncRead for PtyMaster {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let res = guard.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut *unfilled)?));
            match res {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // All slaves closed: end of file.
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Poll::Ready(Ok(())),
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for PtyMaster {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            let res = guard.try_io(|fd| Ok(rustix::io::write(fd.get_ref(), data)?));
            match res {
                Ok(r) => return Poll::Ready(r),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Makes `cmd`'s child a session leader (its own process group, so signals reach the
/// whole job) and, with `ctty`, gives it its stdin — a PTY slave — as controlling
/// terminal.
pub fn configure_child(cmd: &mut std::process::Command, ctty: bool) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs between fork and exec and only makes async-signal-safe
    // calls (setsid, ioctl, signal, sigprocmask); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || child_setup(ctty));
    }
}

/// The terminal's window size: stdout's, else stdin's; `None` without a terminal (or
/// one that reports 0 rows or columns).
pub fn terminal_size() -> Option<WindowSize> {
    window_size(std::io::stdout().as_fd())
        .or_else(|| window_size(std::io::stdin().as_fd()))
        .filter(|w| w.rows > 0 && w.cols > 0)
}

/// Puts the terminal on stdin in raw mode until the guard is dropped.
pub fn raw_stdin() -> io::Result<RawMode> {
    RawMode::enter(std::io::stdin().as_fd())
}

/// Tells when the terminal may have changed size: SIGWINCH.
#[derive(Debug)]
pub struct Resizes(tokio::signal::unix::Signal);

impl Resizes {
    /// Starts listening (before the first size is read, so no change is missed).
    pub fn new() -> io::Result<Resizes> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Resizes(signal(SignalKind::window_change())?))
    }

    /// Waits for the next possible change; `None` if no more can come.
    pub async fn changed(&mut self) -> Option<()> {
        self.0.recv().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    /// A `sleep` in its own session (so its process group id is its pid).
    fn sleeper() -> std::process::Child {
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("30");
        configure_child(&mut cmd, false);
        cmd.spawn().unwrap()
    }

    #[test]
    fn kill_group_sends_named_and_real_time_signals() {
        for sig in [libc::SIGTERM, 40] {
            let mut child = sleeper();
            let pgid = child.id() as i32;
            // The group exists once setsid ran in the child: retry until then.
            let mut tries = 0;
            while rustix::process::getpgid(rustix::process::Pid::from_raw(pgid))
                .map(|p| p.as_raw_nonzero().get())
                != Ok(pgid)
            {
                tries += 1;
                assert!(tries < 5000, "the child never became a group leader");
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            kill_group(pgid, sig).unwrap();
            assert_eq!(child.wait().unwrap().signal(), Some(sig));
        }
    }

    #[test]
    fn kill_group_refuses_bad_groups_and_signals() {
        // 0 and negative groups would mean "our own group" / "every process" to kill(2).
        for pgid in [0, -1, i32::MIN] {
            let e = kill_group(pgid, libc::SIGCONT).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "pgid {pgid}");
        }
        for sig in [0, 65, -9] {
            let e = kill_group(i32::MAX, sig).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "signal {sig}");
        }
    }
}
