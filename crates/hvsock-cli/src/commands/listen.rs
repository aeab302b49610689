//! `hvsock listen`: a Hyper-V socket server on stdin/stdout or per-connection command
//! (like `nc -l` and `ncat -l -e`).

use crate::backoff::Backoff;
use crate::config::Config;
use crate::messages::{describe_vm, warn_hybrid_clashes};
use crate::stdio::{StdinPump, StdioEnd, serve_stdio};
use clap::Args;
use hvsock::{ConnectionGuard, HvAddr, HvListener, HvStream};
use std::io::{self, ErrorKind};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};

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
/// Under --keep-open --exec at most --max-children commands run at once (default
/// 64). When that many run, hvsock stops accepting and logs one line; further
/// connections wait in the listen backlog (a local client's connect may time out)
/// until a command exits. Each connection also counts against
/// `max_connections_per_partition` (hvsock.toml) until its command exits, so one
/// partition never has more commands than that; set it below --max-children to keep
/// room for other partitions. (A command's own children that keep the connection
/// after it exits are not counted.)
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
    /// With --keep-open --exec: run at most N commands at once; more connections wait
    /// in the listen backlog until one ends.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_children: u32,
}

/// The commands running under --keep-open --exec, at most `max`.
struct Children {
    running: Mutex<usize>,
    ended: Condvar,
    max: usize,
}

impl Children {
    /// Waits until fewer than `max` commands run; logs once when the limit stops
    /// accepting.
    fn wait_for_room(&self) {
        let mut n = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if *n >= self.max {
            eprintln!(
                "hvsock: {n} commands running (--max-children {}); new connections wait until one ends",
                self.max
            );
        }
        while *n >= self.max {
            n = self.ended.wait(n).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn started(&self) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn ended(&self) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.ended.notify_one();
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
/// The guard keeps the connection counted against its partition's limit: hold it until
/// the child has exited.
fn spawn_exec(
    config: &Config,
    cmd: &[String],
    stream: HvStream,
    peer: HvAddr,
) -> io::Result<(Child, ConnectionGuard)> {
    let (out, guard) = stream.into_fd_and_guard();
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
        .envs(config.child_env())
        .env(PEER_ENV, peer.vm_id.to_string())
        .spawn()
        .map(|child| (child, guard))
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

/// Runs `hvsock listen`.
pub fn run(config: &Config, args: ListenArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dirs = &config.dirs;
    let addr = config.resolve(&args.addr)?;
    let ctx = config.context()?;
    let listener = ctx
        .bind(addr)
        .map_err(|e| format!("listen {}: {}", args.addr, crate::hints::full(&e)))?;
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
    let mut backoff = Backoff::new();
    match (&args.exec, args.keep_open) {
        (Some(cmd), false) => {
            let (stream, peer) = accept(&listener, &mut backoff);
            drop(listener);
            log_peer(peer);
            let (mut child, guard) = spawn_exec(config, cmd, stream, peer)?;
            let st = child.wait()?;
            drop(guard);
            if verbose {
                eprintln!("hvsock: {} ended: {}", cmd[0], describe_status(st));
            }
            Ok(ExitCode::from(exit_code(st)))
        }
        (Some(cmd), true) => {
            let children = Arc::new(Children {
                running: Mutex::new(0),
                ended: Condvar::new(),
                max: args.max_children as usize,
            });
            loop {
                // At the limit, stop accepting: connections wait in the backlog.
                children.wait_for_room();
                let (stream, peer) = accept(&listener, &mut backoff);
                log_peer(peer);
                let (mut child, guard) = match spawn_exec(config, cmd, stream, peer) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("hvsock: {e}");
                        continue;
                    }
                };
                children.started();
                // Reap each child in its own thread; connections are served
                // concurrently. The connection stays counted until its child exits.
                let who = describe_vm(peer.vm_id, dirs);
                let name = cmd[0].clone();
                let children = children.clone();
                std::thread::spawn(move || {
                    match child.wait() {
                        Ok(st) if verbose => {
                            eprintln!("hvsock: {name} for {who} ended: {}", describe_status(st))
                        }
                        Ok(_) => {}
                        Err(e) => eprintln!("hvsock: waiting for a command: {e}"),
                    }
                    drop(guard);
                    children.ended();
                });
            }
        }
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
