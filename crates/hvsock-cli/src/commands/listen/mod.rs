//! `hvsock listen`: a Hyper-V socket server on stdin/stdout or per-connection command
//! (like `nc -l` and `ncat -l -e`).

#[cfg(unix)]
mod exec;

use crate::backoff::Backoff;
use crate::config::Config;
use crate::messages::{describe_vm, warn_hybrid_clashes};
use crate::options::StdinEndOpts;
use crate::stdio::{AtStdinEnd, StdinPump, StdioEnd, serve_stdio};
use clap::Args;
use hvsock::{HvAddr, HvListener, HvStream};
use std::io::ErrorKind;
use std::process::ExitCode;
use std::sync::Arc;

/// Environment variable giving an `--exec` command the peer's VM id.
#[cfg(unix)]
pub const PEER_ENV: &str = "HVSOCK_PEER";

/// Listen on VM:SERVICE and serve connections on stdin/stdout or with a command.
///
/// Without --exec, one connection is piped to stdin/stdout (like `nc -l`): received
/// bytes go to stdout, stdin is sent, stdin's EOF half-closes the connection. stdout
/// carries data only; --verbose logs to stderr. A guest reached over a hybrid VMM that
/// loses a half-close (`hvsock vm show`) gets no half-close by default (--half-close
/// auto): its VMM would close the connection and drop what the guest still sends, so
/// `hvsock listen ... </dev/null` receives everything until the guest closes (or
/// --idle-timeout).
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
/// Under --keep-open --exec at most --max-children commands run at once (default
/// 64). When that many run, hvsock stops accepting and logs one line; further
/// connections wait in the listen backlog (a local client's connect may time out)
/// until a command exits. Each connection also counts against
/// `max_connections_per_partition` (hvsock.toml) until its command exits, so one
/// partition never has more commands than that; set it below --max-children to keep
/// room for other partitions. (A command's own children that keep the connection
/// after it exits are not counted.)
///
/// With --systemd (socket activation, from a .socket unit with Accept=no), hvsock
/// serves the listening socket systemd passed (LISTEN_FDS) instead of binding ADDR;
/// ADDR still says what it serves, and the socket must be the one binding ADDR would
/// create: in a guest `ListenStream=vsock::PORT` for PARENT or ANY, elsewhere the local
/// listener's Unix socket (the error names its path). dist/systemd/ has examples.
///
/// On Windows --exec and --max-children are refused (a Windows socket cannot be a
/// command's stdin and stdout): pipe `hvsock listen` into the command instead.
/// --systemd is refused there too.
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
  hvsock listen loopback:vsock:7000 --exec sh -c 'cat; echo done'   # answers after EOF
  hvsock listen any:logs </dev/null > guest.log      # a guest's bytes, whatever its VMM
  hvsock listen any:logs --idle-timeout 5s </dev/null   # stop 5s after the guest goes quiet
  hvsock listen --systemd parent:vsock:5000 -k -e cat   # in a guest, from a .socket unit")]
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
    /// With --keep-open --exec: run at most N commands at once; more connections wait
    /// in the listen backlog until one ends [default: 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_children: Option<u32>,
    /// Without --exec: at stdin's end, half-close or keep the connection open.
    #[command(flatten)]
    at_end: StdinEndOpts,
    /// Serve the listening socket passed by systemd (socket activation) instead of
    /// binding ADDR.
    #[arg(long)]
    systemd: bool,
}

/// --max-children when not given.
#[cfg(unix)]
const DEFAULT_MAX_CHILDREN: u32 = 64;

/// Windows: --exec passes the connection's socket to a command as its stdin and stdout,
/// which Windows sockets cannot be; --max-children only counts those commands.
#[cfg(windows)]
fn refuse_unix_options(args: &ListenArgs) -> Result<(), crate::platform::UnixOnly> {
    const WHY: &str = "a command gets the connection's socket itself as its stdin and \
                       stdout, which a Windows socket cannot be; pipe `hvsock listen` into \
                       the command instead";
    if args.exec.is_some() {
        return Err(crate::platform::UnixOnly::new("hvsock listen --exec", WHY));
    }
    if args.max_children.is_some() {
        return Err(crate::platform::UnixOnly::new(
            "hvsock listen --max-children",
            WHY,
        ));
    }
    if args.systemd {
        return Err(crate::platform::UnixOnly::new(
            "hvsock listen --systemd",
            "socket activation passes sockets the systemd way (LISTEN_FDS), which \
             Windows services do not",
        ));
    }
    Ok(())
}

/// Accepts, logging failures and retrying after a growing pause.
pub(super) fn accept(l: &HvListener, backoff: &mut Backoff) -> (HvStream, HvAddr) {
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

/// `--systemd`: a listener for `addr` over the sockets systemd passed; the `LISTEN_*`
/// variables are cleared after (before any thread starts: see the callers).
#[cfg(unix)]
pub(crate) fn systemd_listener(ctx: &hvsock::Context, addr: HvAddr) -> std::io::Result<HvListener> {
    let listener = HvListener::from_systemd(ctx, addr);
    crate::sys::clear_listen_env();
    listener
}

/// Runs `hvsock listen`.
pub fn run(config: &Config, args: ListenArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    #[cfg(windows)]
    refuse_unix_options(&args)?;
    if args.exec.is_some()
        && (args.at_end.half_close != crate::options::HalfCloseMode::Auto
            || args.at_end.idle_timeout.is_some())
    {
        return Err(
            "--half-close and --idle-timeout are for hvsock listen without --exec \
                    (under --exec the command has the connection itself and closes it)"
                .into(),
        );
    }
    let dirs = &config.dirs;
    let addr = config.resolve(&args.addr)?;
    let ctx = config.context()?;
    #[cfg(unix)]
    let listener = if args.systemd {
        systemd_listener(&ctx, addr)
    } else {
        ctx.bind(addr)
    };
    #[cfg(windows)]
    let listener = ctx.bind(addr);
    let listener =
        listener.map_err(|e| format!("listen {}: {}", args.addr, crate::hints::full(&e)))?;
    let verbose = args.verbose;
    warn_hybrid_clashes(dirs);
    if verbose {
        eprintln!("hvsock: listening on {} ({addr})", args.addr);
    }
    let log_peer = |peer: HvAddr| {
        if verbose {
            eprintln!("hvsock: connection from {}", describe_vm(peer.vm_id, dirs));
        }
    };
    #[cfg(unix)]
    if let Some(cmd) = &args.exec {
        return match args.keep_open {
            false => exec::serve_one(config, cmd, listener, verbose, log_peer),
            true => {
                let max = args.max_children.unwrap_or(DEFAULT_MAX_CHILDREN);
                exec::serve_each(config, cmd, max, &listener, verbose, log_peer)
            }
        };
    }
    let mut backoff = Backoff::new();
    match args.keep_open {
        false => {
            let pump = StdinPump::start();
            let (stream, peer) = accept(&listener, &mut backoff);
            drop(listener);
            log_peer(peer);
            let at_end = AtStdinEnd::new(&args.at_end, &stream, dirs);
            serve_stdio(&Arc::new(stream), &pump, at_end)?;
            Ok(ExitCode::SUCCESS)
        }
        true => {
            let pump = StdinPump::start();
            loop {
                let (stream, peer) = accept(&listener, &mut backoff);
                log_peer(peer);
                let at_end = AtStdinEnd::new(&args.at_end, &stream, dirs);
                match serve_stdio(&Arc::new(stream), &pump, at_end) {
                    Ok(StdioEnd::Done) => {
                        if verbose {
                            eprintln!("hvsock: connection closed");
                        }
                    }
                    Ok(StdioEnd::IdleTimeout) => {
                        if verbose {
                            eprintln!("hvsock: connection closed after the idle timeout");
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

impl ListenArgs {
    /// `--verbose`: also turns the log level up to INFO (refusals), see `crate::log`.
    pub fn verbose(&self) -> bool {
        self.verbose
    }
}
