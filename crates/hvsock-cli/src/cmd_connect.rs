//! `hvsock connect`: a Hyper-V socket client on stdin/stdout (like `nc`), and the
//! stdin/stdout plumbing that `hvsock listen` shares.

use clap::Args;
use hvsock::paths::Dirs;
use hvsock::{Context, HvStream, VmId};
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Connect to VM:SERVICE and pipe stdin/stdout through the connection (like `nc`).
///
/// Bytes read from stdin are sent; bytes received are written to stdout, and nothing
/// else is. When stdin ends, the sending side is shut down (a half-close): the peer
/// reads EOF and can still answer, and `hvsock connect` keeps printing until the peer
/// has finished sending and no more can be sent to it.
///
/// ADDR is VM:SERVICE, as in `hvsock addr encode --help`: VM is a GUID, `parent`,
/// `loopback` or a partition name from `hvsock vm list`; SERVICE is a GUID, vsock:PORT
/// or a name from `hvsock service list`. Where this process is: the host, unless
/// HVSOCK_PARTITION=NAME (a --local partition) or HVSOCK_GUEST=1 (inside a VM).
///
/// Exit status: 0 when the connection ended normally (also when stdout was closed
/// early), 1 with one `hvsock: ...` line on stderr when connecting or the connection
/// failed (refused, permission denied, unknown name, timeout, reset), 2 for usage errors.
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  echo hello | hvsock connect parent:vsock:5000          # from a guest or partition
  hvsock connect myvm:\"My Echo Service\" < request > reply
  hvsock connect loopback:echo --timeout 500ms
  HVSOCK_PARTITION=sandbox hvsock connect parent:echo    # as the --local partition
  tar c dir | hvsock connect myvm:vsock:6000             # the VM: hvsock listen ... | tar x")]
pub struct ConnectArgs {
    /// VM:SERVICE to connect to.
    #[arg(value_name = "ADDR")]
    addr: String,
    /// Give up connecting after DUR: a number with ms, s or m (500ms, 2s, 1.5m; a bare
    /// number is seconds); at most 300s.
    #[arg(
        long,
        short = 't',
        value_name = "DUR",
        default_value = "2s",
        value_parser = parse_connect_timeout
    )]
    timeout: Duration,
    /// Log the connection to stderr.
    #[arg(long, short)]
    verbose: bool,
}

/// The longest connect timeout (HVSOCKET_CONNECT_TIMEOUT_MAX).
const MAX_TIMEOUT: Duration = hvsock::context::MAX_CONNECT_TIMEOUT;

/// Parses a duration: `500ms`, `2s`, `1.5m`, or a bare number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit_secs) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let well_formed = !num.is_empty()
        && num.chars().all(|c| c.is_ascii_digit() || c == '.')
        && num.chars().filter(|&c| c == '.').count() <= 1
        && num != ".";
    let value: f64 = match num.parse() {
        Ok(v) if well_formed => v,
        _ => {
            return Err(format!(
                "{s:?} is not a duration: expected a number with ms, s or m, e.g. 500ms, 2s, 1m"
            ));
        }
    };
    let secs = value * unit_secs;
    if secs <= 0.0 {
        return Err(format!("{s:?}: the duration must be more than 0"));
    }
    if secs > 1e9 {
        return Err(format!("{s:?}: too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A connect timeout: a duration of at most 300 s.
pub(crate) fn parse_connect_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d > MAX_TIMEOUT {
        return Err(format!(
            "{s:?}: a connect timeout is at most {}s (HVSOCKET_CONNECT_TIMEOUT_MAX)",
            MAX_TIMEOUT.as_secs()
        ));
    }
    Ok(d)
}

/// Names a VM id for log lines: PARENT, LOOPBACK, ..., or `name (id)` from the table.
pub(crate) fn describe_vm(id: VmId, dirs: &Dirs) -> String {
    if let Some(n) = id.wildcard_name() {
        return n.to_ascii_uppercase();
    }
    match hvsock::partitions::PartitionTable::load(dirs)
        .ok()
        .and_then(|t| t.get(id).map(|p| p.name.clone()))
    {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

pub fn run(args: ConnectArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dirs = Dirs::from_env();
    let addr = hvsock::syntax::resolve_addr_in(&args.addr, &dirs)?;
    let ctx = Context::from_env()?;
    let stream = ctx
        .connect_timeout(addr, args.timeout)
        .map_err(|e| format!("connect {}: {}", args.addr, crate::hints::full(&e)))?;
    if args.verbose {
        eprintln!(
            "hvsock: connected to {} ({})",
            args.addr,
            describe_vm(addr.vm_id, &dirs)
        );
    }
    let stream = Arc::new(stream);
    let pump = StdinPump::start();
    serve_stdio(&stream, &pump).map_err(|e| format!("{}: {e}", args.addr))?;
    if args.verbose {
        eprintln!("hvsock: connection to {} closed", args.addr);
    }
    Ok(ExitCode::SUCCESS)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("2s"), Duration::from_secs(2));
        assert_eq!(ok("1m"), Duration::from_secs(60));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("3"), Duration::from_secs(3));
        for bad in [
            "", "s", "ms", "-1s", "0", "0ms", "1h", "abc", "1..2s", ".s", "1 s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_connect_timeout("300s").unwrap(), MAX_TIMEOUT);
        assert_eq!(parse_connect_timeout("5m").unwrap(), MAX_TIMEOUT);
        let e = parse_connect_timeout("301s").unwrap_err();
        assert!(e.contains("300s"), "{e}");
    }
}
