//! A Hyper-V socket connection served on stdin/stdout: the plumbing of `hvsock connect`
//! and `hvsock listen` without `--exec`.

use crate::messages::{describe_vm, half_close_lost_warning, half_close_withheld};
use crate::options::{HalfCloseMode, StdinEndOpts};
use hvsock::HvStream;
use hvsock::partitions::HalfClose;
use hvsock::paths::Dirs;
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What happens to one connection when stdin ends.
#[derive(Debug, Clone)]
pub(crate) struct AtStdinEnd {
    /// Shut down sending (a half-close), or keep the connection open.
    pub send_half_close: bool,
    /// Said on stderr (once per process) when stdin ends.
    pub message: Option<String>,
    /// Once stdin has ended, end the connection when the peer is silent this long.
    pub idle_timeout: Option<Duration>,
}

impl AtStdinEnd {
    /// From `--half-close` and `--idle-timeout`, for a connection whose transport
    /// carries (or loses) a half-close, as the route says (`HvStream::half_close`).
    pub(crate) fn new(opts: &StdinEndOpts, stream: &HvStream, dirs: &Dirs) -> AtStdinEnd {
        let carried = stream.half_close();
        let send = opts.half_close.sends(carried);
        let vm = || match stream.peer_addr() {
            Ok(a) => describe_vm(a.vm_id, dirs),
            Err(_) => "the VM".into(),
        };
        let message = match (send, carried) {
            (true, HalfClose::Lost) => Some(half_close_lost_warning(&vm())),
            // The user chose already with --idle-timeout or --half-close never.
            (false, HalfClose::Lost)
                if opts.half_close == HalfCloseMode::Auto && opts.idle_timeout.is_none() =>
            {
                Some(half_close_withheld(&vm()))
            }
            _ => None,
        };
        AtStdinEnd {
            send_half_close: send,
            message,
            idle_timeout: opts.idle_timeout,
        }
    }

    /// Stdin ended for `stream`: half-close it or not, and say so if there is a reason.
    fn apply(&self, stream: &HvStream) {
        static SAID: AtomicBool = AtomicBool::new(false);
        if self.send_half_close {
            let _ = stream.shutdown(Shutdown::Write);
        }
        if let Some(m) = &self.message
            && !SAID.swap(true, Ordering::Relaxed)
        {
            eprintln!("{m}");
        }
    }
}

/// Whether stdout was closed by its reader (then there is no one left to serve).
pub(crate) fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == ErrorKind::BrokenPipe
}

/// How a connection served on stdin/stdout ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StdioEnd {
    /// Both directions finished.
    Done,
    /// stdout was closed by its reader: nothing more can be delivered.
    StdoutClosed,
    /// Stdin had ended and the peer sent nothing for `--idle-timeout`.
    IdleTimeout,
}

/// Serves one connection on stdin/stdout: the pump sends stdin to it while this thread
/// copies it to stdout. Returns when the peer has finished sending and either stdin
/// is done for this connection or the peer can take no more.
///
/// When stdin ends the connection is half-closed or kept open as `at_end` says; kept
/// open, it is served until the peer closes (or `at_end.idle_timeout`).
pub(crate) fn serve_stdio(
    stream: &Arc<HvStream>,
    pump: &StdinPump,
    at_end: AtStdinEnd,
) -> io::Result<StdioEnd> {
    let idle = at_end.idle_timeout;
    let generation = pump.attach(stream.clone(), at_end);
    let result = copy_to_stdout(stream, pump, generation, idle).and_then(|end| {
        if end == StdioEnd::Done {
            wait_send_side_done(stream, pump, generation)?;
        }
        Ok(end)
    });
    pump.detach(generation);
    // Unblocks a pump write to a peer that stopped reading.
    let _ = stream.shutdown(Shutdown::Both);
    result
}

/// Copies the connection to stdout until the peer's EOF or, with `idle`, until the
/// peer has been silent that long since stdin ended.
fn copy_to_stdout(
    stream: &HvStream,
    pump: &StdinPump,
    generation: u64,
    idle: Option<Duration>,
) -> io::Result<StdioEnd> {
    let mut buf = vec![0u8; 64 * 1024];
    let stdout = io::stdout();
    if let Some(idle) = idle {
        // Reads wake up now and then to look at the clock.
        let slice = (idle / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
        stream.set_read_timeout(Some(slice))?;
    }
    let mut last_rx = Instant::now();
    loop {
        let n = match (&*stream).read(&mut buf) {
            Ok(0) => return Ok(StdioEnd::Done),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if let (Some(idle), Some(ended)) = (idle, pump.ended_at(generation))
                    && last_rx.max(ended).elapsed() >= idle
                {
                    return Ok(StdioEnd::IdleTimeout);
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        last_rx = Instant::now();
        let mut out = stdout.lock();
        match out.write_all(&buf[..n]).and_then(|_| out.flush()) {
            Ok(()) => {}
            Err(e) if is_broken_pipe(&e) => return Ok(StdioEnd::StdoutClosed),
            Err(e) => return Err(io::Error::new(e.kind(), format!("stdout: {e}"))),
        }
    }
}

/// After the peer's EOF: waits until our sending side is done too (stdin ended and we
/// shut down writing, or a write failed), or the peer closed altogether (it can take
/// no more: the socket reports POLLHUP).
fn wait_send_side_done(stream: &HvStream, pump: &StdinPump, generation: u64) -> io::Result<()> {
    loop {
        if pump.is_done(generation) {
            return Ok(());
        }
        // Unix and vsock sockets report POLLHUP once neither side can send: the peer
        // closed, or it shut down writing and so did we.
        if crate::sys::hung_up(stream, Duration::from_millis(200))? {
            return Ok(());
        }
    }
}

/// Reads stdin in a thread and sends it to the connection being served.
///
/// One reader for the whole process, so `listen --keep-open` can serve connection after
/// connection from the same stdin: data goes to the current connection; a chunk that
/// cannot be delivered (the connection went away) is dropped. At stdin's EOF the current
/// connection (and any later one) is shut down for writing, or kept open, as its
/// [`AtStdinEnd`] says.
pub(crate) struct StdinPump {
    state: Mutex<PumpState>,
    cv: Condvar,
}

struct PumpState {
    /// The connection being served, its generation and what to do at stdin's end.
    slot: Option<(u64, Arc<HvStream>, Arc<AtStdinEnd>)>,
    /// The connection stdin is done with (stdin ended or a write failed), and when.
    done_gen: Option<(u64, Instant)>,
    next_gen: u64,
    eof: bool,
}

impl StdinPump {
    /// Starts the stdin thread.
    pub(crate) fn start() -> Arc<StdinPump> {
        let pump = Arc::new(StdinPump {
            state: Mutex::new(PumpState {
                slot: None,
                done_gen: None,
                next_gen: 1,
                eof: false,
            }),
            cv: Condvar::new(),
        });
        let p = pump.clone();
        std::thread::spawn(move || p.run());
        pump
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PumpState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes `stream` the current connection; returns its generation.
    fn attach(&self, stream: Arc<HvStream>, at_end: AtStdinEnd) -> u64 {
        let mut st = self.lock();
        let generation = st.next_gen;
        st.next_gen += 1;
        if st.eof {
            at_end.apply(&stream);
            st.done_gen = Some((generation, Instant::now()));
        }
        st.slot = Some((generation, stream, Arc::new(at_end)));
        self.cv.notify_all();
        generation
    }

    /// Forgets connection `generation`.
    fn detach(&self, generation: u64) {
        let mut st = self.lock();
        if st.slot.as_ref().is_some_and(|(g, _, _)| *g == generation) {
            st.slot = None;
        }
    }

    /// Whether stdin is done with connection `generation` (EOF sent or a write failed).
    fn is_done(&self, generation: u64) -> bool {
        self.ended_at(generation).is_some()
    }

    /// When stdin became done with connection `generation`, if it is.
    fn ended_at(&self, generation: u64) -> Option<Instant> {
        match self.lock().done_gen {
            Some((g, t)) if g == generation => Some(t),
            _ => None,
        }
    }

    /// Waits for a connection stdin is not done with.
    fn current(&self) -> (u64, Arc<HvStream>) {
        let mut st = self.lock();
        loop {
            if let Some((generation, s, _)) = &st.slot
                && st.done_gen.is_none_or(|(g, _)| g != *generation)
            {
                return (*generation, s.clone());
            }
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn mark_done(&self, generation: u64) {
        self.lock().done_gen = Some((generation, Instant::now()));
    }

    fn run(&self) {
        let mut buf = vec![0u8; 64 * 1024];
        let mut stdin = io::stdin().lock();
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // A stdin that cannot be read is treated as ended.
                Err(_) => 0,
            };
            if n == 0 {
                let mut st = self.lock();
                st.eof = true;
                if let Some((generation, s, at_end)) = st.slot.clone() {
                    at_end.apply(&s);
                    st.done_gen = Some((generation, Instant::now()));
                }
                return;
            }
            let (generation, s) = self.current();
            if (&*s).write_all(&buf[..n]).is_err() {
                // The peer went away: it can take no more from stdin.
                self.mark_done(generation);
            }
        }
    }
}
