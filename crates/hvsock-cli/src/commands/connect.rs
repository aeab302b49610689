//! `hvsock connect`: a Hyper-V socket client on stdin/stdout (like `nc`).

use crate::config::Config;
use crate::messages::describe_vm;
use crate::options::{WaitOpt, parse_connect_timeout};
use crate::stdio::{StdinPump, serve_stdio};
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;
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
  tar c dir | hvsock connect myvm:vsock:6000             # the VM: hvsock listen ... | tar x
  hvsock connect myvm:echo --wait 60s                    # right after starting the VM")]
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
    #[command(flatten)]
    wait: WaitOpt,
    /// Log the connection to stderr.
    #[arg(long, short)]
    verbose: bool,
}

/// Runs `hvsock connect`.
pub fn run(config: &Config, args: ConnectArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let addr = config.resolve(&args.addr)?;
    let ctx = config.context()?;
    let stream = args
        .wait
        .connect(&ctx, addr, args.timeout)
        .map_err(|e| format!("connect {}: {}", args.addr, crate::hints::full(&e)))?;
    if args.verbose {
        eprintln!(
            "hvsock: connected to {} ({})",
            args.addr,
            describe_vm(addr.vm_id, &config.dirs)
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
