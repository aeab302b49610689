//! `hvsock listen`: a Hyper-V socket server on stdin/stdout or per-connection command
//! (like `nc -l` and `ncat -l -e`).

use crate::cmd_connect::{StdinPump, StdioEnd, describe_vm, serve_stdio};
use clap::Args;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, HvListener, HvStream};
use std::io::{self, ErrorKind};
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Environment variable giving an `--exec` command the peer's VM id.
pub const PEER_ENV: &str = "HVSOCK_PEER";

/// Listen on VM:SERVICE and serve connections on stdin/stdout or with a command.
///
/// Without --exec, one connection is piped to stdin/stdout (like `nc -l`): received
/// bytes go to stdout, stdin is sent, stdin's EOF half-closes the connection. stdout
/// carries data only; --verbose logs to stderr.
///
/// With --exec CMD [ARGS...], CMD runs with the connection itself as its stdin and
/// stdout (like `ncat -e`; stderr is inherited) and HVSOCK_PEER set to the peer's VM id
/// (a partition's GUID, or PARENT's or LOOPBACK's well-known GUID). --exec takes the
/// rest of the command line, so it comes last.
///
/// Without --keep-open, hvsock listen serves one connection and exits (with CMD's exit
/// status under --exec). With --keep-open it accepts connections until killed: under
/// --exec each one runs its own CMD at the same time; without --exec they are served
/// one after another, stdin going to the connection being served.
///
/// ADDR is VM:SERVICE (see `hvsock addr encode --help`) and VM says who may connect:
/// `any` everyone, `children` the host's partitions and VMs, `parent` the parent (in a
/// guest or partition), `loopback` this partition only, or one partition by name or id.
/// Crossing partitions needs the service registered on the host (`hvsock service add`).
/// Where this process is: the host, unless HVSOCK_PARTITION=NAME or HVSOCK_GUEST=1.
///
/// Failed accepts (e.g. too many open files) are logged and retried with a growing
/// pause. Exit status: 0 (or CMD's status), 1 with one `hvsock: ...` line for errors.
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  hvsock listen any:vsock:5000 > received           # one connection, to a file
  hvsock listen children:echo --keep-open --exec cat     # an echo service
  hvsock listen any:\"My Shell\" -k -v --exec sh -c 'echo \"hi $HVSOCK_PEER\"; exec sh -i 2>&1'
  HVSOCK_PARTITION=sandbox hvsock listen parent:echo -e cat   # in a --local partition
  hvsock listen loopback:vsock:7000 --exec sh -c 'cat; echo done'   # answers after EOF")]
pub struct ListenArgs {
    /// VM:SERVICE to listen on.
    #[arg(value_name = "ADDR")]
    addr: String,
    /// Keep accepting connections after the first.
    #[arg(long, short = 'k')]
    keep_open: bool,
    /// Log listening, connections and their end to stderr.
    #[arg(long, short)]
    verbose: bool,
    /// Run CMD [ARGS...] for each connection, the connection as its stdin and stdout.
    #[arg(
        long,
        short = 'e',
        value_name = "CMD",
        num_args = 1..,
        allow_hyphen_values = true
    )]
    exec: Option<Vec<String>>,
}

/// Pause after a failed accept: starts small, doubles, at most a second.
struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn new() -> Backoff {
        Backoff(Self::FIRST)
    }

    fn reset(&mut self) {
        self.0 = Self::FIRST;
    }

    /// The next pause.
    fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        d
    }
}

/// Accepts, logging failures and retrying after a growing pause.
fn accept(l: &HvListener, backoff: &mut Backoff) -> (HvStream, HvAddr) {
    loop {
        match l.accept() {
            Ok(x) => {
                backoff.reset();
                return x;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                let pause = backoff.next();
                eprintln!("hvsock: accept failed: {e}; retrying in {pause:?}");
                std::thread::sleep(pause);
            }
        }
    }
}

/// Starts CMD with the connection as its stdin and stdout (the socket itself, duped).
fn spawn_exec(cmd: &[String], stream: HvStream, peer: HvAddr) -> io::Result<Child> {
    let out = OwnedFd::from(stream);
    let inp = out.try_clone().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot pass the connection to {:?}: {e}", cmd[0]),
        )
    })?;
    Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::from(inp))
        .stdout(Stdio::from(out))
        .env(PEER_ENV, peer.vm_id.to_string())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {:?}: {e}", cmd[0])))
}

/// An exit status as a process exit code (128+N for signal N, as shells do).
fn exit_code(st: ExitStatus) -> u8 {
    match (st.code(), st.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => (128 + sig) as u8,
        _ => 1,
    }
}

fn describe_status(st: ExitStatus) -> String {
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => st.to_string(),
    }
}

pub fn run(args: ListenArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dirs = Dirs::from_env();
    let addr = hvsock::syntax::resolve_addr_in(&args.addr, &dirs)?;
    let ctx = Context::from_env()?;
    let listener = ctx
        .bind(addr)
        .map_err(|e| format!("listen {}: {e}", args.addr))?;
    let verbose = args.verbose;
    if verbose {
        eprintln!("hvsock: listening on {} ({addr})", args.addr);
    }
    let log_peer = |peer: HvAddr| {
        if verbose {
            eprintln!("hvsock: connection from {}", describe_vm(peer.vm_id, &dirs));
        }
    };
    let mut backoff = Backoff::new();
    match (&args.exec, args.keep_open) {
        (Some(cmd), false) => {
            let (stream, peer) = accept(&listener, &mut backoff);
            drop(listener);
            log_peer(peer);
            let st = spawn_exec(cmd, stream, peer)?.wait()?;
            if verbose {
                eprintln!("hvsock: {} ended: {}", cmd[0], describe_status(st));
            }
            Ok(ExitCode::from(exit_code(st)))
        }
        (Some(cmd), true) => loop {
            let (stream, peer) = accept(&listener, &mut backoff);
            log_peer(peer);
            let mut child = match spawn_exec(cmd, stream, peer) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("hvsock: {e}");
                    continue;
                }
            };
            // Reap each child in its own thread; connections are served concurrently.
            let who = describe_vm(peer.vm_id, &dirs);
            let name = cmd[0].clone();
            std::thread::spawn(move || match child.wait() {
                Ok(st) if verbose => {
                    eprintln!("hvsock: {name} for {who} ended: {}", describe_status(st))
                }
                Ok(_) => {}
                Err(e) => eprintln!("hvsock: waiting for a command: {e}"),
            });
        },
        (None, false) => {
            let pump = StdinPump::start();
            let (stream, peer) = accept(&listener, &mut backoff);
            drop(listener);
            log_peer(peer);
            serve_stdio(&Arc::new(stream), &pump)?;
            Ok(ExitCode::SUCCESS)
        }
        (None, true) => {
            let pump = StdinPump::start();
            loop {
                let (stream, peer) = accept(&listener, &mut backoff);
                log_peer(peer);
                match serve_stdio(&Arc::new(stream), &pump) {
                    Ok(StdioEnd::Done) => {
                        if verbose {
                            eprintln!("hvsock: connection closed");
                        }
                    }
                    // Nobody reads our output any more: stop.
                    Ok(StdioEnd::StdoutClosed) => return Ok(ExitCode::SUCCESS),
                    Err(e) => eprintln!("hvsock: connection: {e}"),
                }
            }
        }
    }
}
