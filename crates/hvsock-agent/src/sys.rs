//! The few system calls the agent and client need: PTYs, window sizes, raw terminal
//! mode, the user's login shell and signals. Every `unsafe` block of the crate is here.

use crate::proto::WindowSize;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::task::{Context, Poll, ready};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn to_winsize(w: WindowSize) -> libc::winsize {
    libc::winsize {
        ws_row: w.rows,
        ws_col: w.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// Opens a new PTY pair `(master, slave)` with the given window size. Both are
/// close-on-exec; the master is non-blocking.
pub fn open_pty(window: WindowSize) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let ws = to_winsize(window);
    // SAFETY: openpty writes two fds into the valid out-pointers; name is NULL (not
    // wanted), termp NULL (defaults) and winp points to an initialised winsize.
    cvt(unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    })?;
    // SAFETY: openpty succeeded, so both are fresh fds that we now own exclusively.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        set_cloexec(fd.as_fd())?;
    }
    set_nonblocking(master.as_fd())?;
    Ok((master, slave))
}

fn set_cloexec(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: fcntl on a valid, borrowed fd with integer arguments.
    unsafe {
        let flags = cvt(libc::fcntl(fd.as_raw_fd(), libc::F_GETFD))?;
        cvt(libc::fcntl(
            fd.as_raw_fd(),
            libc::F_SETFD,
            flags | libc::FD_CLOEXEC,
        ))?;
    }
    Ok(())
}

fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: fcntl on a valid, borrowed fd with integer arguments.
    unsafe {
        let flags = cvt(libc::fcntl(fd.as_raw_fd(), libc::F_GETFL))?;
        cvt(libc::fcntl(
            fd.as_raw_fd(),
            libc::F_SETFL,
            flags | libc::O_NONBLOCK,
        ))?;
    }
    Ok(())
}

/// Sets a terminal's window size (TIOCSWINSZ); the kernel sends SIGWINCH to its
/// foreground process group.
pub fn set_window_size(fd: BorrowedFd<'_>, w: WindowSize) -> io::Result<()> {
    let ws = to_winsize(w);
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer; fd is valid.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) })?;
    Ok(())
}

/// A terminal's window size (TIOCGWINSZ), or `None` if `fd` is not a terminal.
pub fn window_size(fd: BorrowedFd<'_>) -> Option<WindowSize> {
    // SAFETY: an all-zero winsize is a valid value.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a winsize to a valid pointer; fd is valid.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    (r == 0).then_some(WindowSize {
        rows: ws.ws_row,
        cols: ws.ws_col,
    })
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: BorrowedFd<'_>) -> bool {
    // SAFETY: isatty only inspects the fd.
    unsafe { libc::isatty(fd.as_raw_fd()) == 1 }
}

/// In a forked child before exec: become a session leader (and so a new process
/// group), then, if `ctty`, make fd 0 (the PTY slave) the controlling terminal.
///
/// Only async-signal-safe calls.
fn child_setup(ctty: bool) -> io::Result<()> {
    // SAFETY: setsid has no arguments; safe after fork.
    cvt(unsafe { libc::setsid() })?;
    if ctty {
        // SAFETY: TIOCSCTTY with argument 0 on fd 0, which the caller set to the slave.
        cvt(unsafe { libc::ioctl(0, libc::TIOCSCTTY as _, 0) })?;
    }
    // Undo the agent's ignored/blocked signals so Ctrl-C and friends work normally.
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

/// Sends signal `sig` to process group `pgid`.
pub fn kill_group(pgid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill with a negative pid targets a process group; plain integers.
    cvt(unsafe { libc::kill(-pgid, sig) })?;
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
    if state.len() != 1 {
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

/// Sends `sig` to every live process of session `sid` (a session the agent started with
/// `setsid`: its id is its leader's pid). Refuses (returns 0) for the caller's own
/// session and for ids below 2. Returns how many processes were signalled.
///
/// A process may start another in the same session between the scan and the signal;
/// callers repeat this until [`session_processes`] is empty.
pub fn signal_session(sid: i32, sig: rustix::process::Signal) -> usize {
    use rustix::process::{Pid, getsid, kill_process};
    if sid < 2 || getsid(None).ok().map(Pid::as_raw_nonzero).map(|p| p.get()) == Some(sid) {
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
    // SAFETY: tcgetpgrp only inspects the fd.
    let r = unsafe { libc::tcgetpgrp(fd.as_raw_fd()) };
    (r > 0).then_some(r)
}

/// The login user's entry: (name, home, shell). The shell falls back to `/bin/sh`.
pub fn current_user() -> (Option<String>, Option<PathBuf>, PathBuf) {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
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
    saved: libc::termios,
}

impl RawMode {
    /// Puts the terminal on `fd` in raw mode (cfmakeraw). `fd` must stay open for as
    /// long as the guard lives (use stdin, which lives for the whole process).
    pub fn enter(fd: BorrowedFd<'_>) -> io::Result<RawMode> {
        let fd = fd.as_raw_fd();
        // SAFETY: an all-zero termios is valid storage for tcgetattr to fill.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: tcgetattr writes to a valid termios.
        cvt(unsafe { libc::tcgetattr(fd, &mut saved) })?;
        let mut raw = saved;
        // SAFETY: cfmakeraw edits the termios in place.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: tcsetattr reads a valid termios.
        cvt(unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, &raw) })?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `enter` on the same fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSADRAIN, &self.saved) };
    }
}

/// Whether the terminal on `fd` is in raw mode (no ICANON, no ECHO, no ISIG).
pub fn is_raw(fd: BorrowedFd<'_>) -> io::Result<bool> {
    // SAFETY: as in RawMode::enter.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: tcgetattr writes to a valid termios.
    cvt(unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) })?;
    Ok(t.c_lflag & (libc::ICANON | libc::ECHO | libc::ISIG) == 0)
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
            let res = guard.try_io(|fd| {
                // SAFETY: reads into the initialised, unfilled part of buf, at most its
                // length.
                let n = unsafe {
                    libc::read(
                        fd.get_ref().as_raw_fd(),
                        unfilled.as_mut_ptr().cast(),
                        unfilled.len(),
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
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
            let res = guard.try_io(|fd| {
                // SAFETY: writes from a valid slice, at most its length.
                let n = unsafe {
                    libc::write(fd.get_ref().as_raw_fd(), data.as_ptr().cast(), data.len())
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
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
