//! A Hyper-V socket connection served on stdin/stdout: the plumbing of `hvsock connect`
//! and `hvsock listen` without `--exec`.

use hvsock::HvStream;
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

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
}

/// Serves one connection on stdin/stdout: the pump sends stdin to it while this thread
/// copies it to stdout. Returns when the peer has finished sending and either stdin
/// is done for this connection or the peer can take no more.
pub(crate) fn serve_stdio(stream: &Arc<HvStream>, pump: &StdinPump) -> io::Result<StdioEnd> {
    let generation = pump.attach(stream.clone());
    let result = copy_to_stdout(stream).and_then(|end| {
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

/// Copies the connection to stdout until the peer's EOF.
fn copy_to_stdout(stream: &HvStream) -> io::Result<StdioEnd> {
    let mut buf = vec![0u8; 64 * 1024];
    let stdout = io::stdout();
    loop {
        let n = match (&*stream).read(&mut buf) {
            Ok(0) => return Ok(StdioEnd::Done),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
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
/// connection (and any later one) is shut down for writing.
pub(crate) struct StdinPump {
    state: Mutex<PumpState>,
    cv: Condvar,
}

struct PumpState {
    /// The connection being served, its generation, and whether stdin is done with it.
    slot: Option<(u64, Arc<HvStream>)>,
    done_gen: Option<u64>,
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
    fn attach(&self, stream: Arc<HvStream>) -> u64 {
        let mut st = self.lock();
        let generation = st.next_gen;
        st.next_gen += 1;
        if st.eof {
            let _ = stream.shutdown(Shutdown::Write);
            st.done_gen = Some(generation);
        }
        st.slot = Some((generation, stream));
        self.cv.notify_all();
        generation
    }

    /// Forgets connection `generation`.
    fn detach(&self, generation: u64) {
        let mut st = self.lock();
        if st.slot.as_ref().is_some_and(|(g, _)| *g == generation) {
            st.slot = None;
        }
    }

    /// Whether stdin is done with connection `generation` (EOF sent or a write failed).
    fn is_done(&self, generation: u64) -> bool {
        let st = self.lock();
        st.done_gen == Some(generation)
    }

    /// Waits for a connection stdin is not done with.
    fn current(&self) -> (u64, Arc<HvStream>) {
        let mut st = self.lock();
        loop {
            if let Some((generation, s)) = &st.slot
                && st.done_gen != Some(*generation)
            {
                return (*generation, s.clone());
            }
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn mark_done(&self, generation: u64) {
        self.lock().done_gen = Some(generation);
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
                if let Some((generation, s)) = st.slot.clone() {
                    let _ = s.shutdown(Shutdown::Write);
                    st.done_gen = Some(generation);
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
