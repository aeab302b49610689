//! `hvsock connect`: a Hyper-V socket client on stdin/stdout (like `nc`).

use crate::config::Config;
use crate::messages::describe_vm;
use crate::options::{StdinEndOpts, WaitOpt, parse_connect_timeout};
use crate::stdio::{AtStdinEnd, StdinPump, StdioEnd, serve_stdio};
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
/// Over a hybrid VM whose VMM loses a half-close (Firecracker, vhost-device-vsock: it
/// would close the whole connection and the answer would be lost; `hvsock vm show`
/// says), stdin's end is not sent by default (--half-close auto): the connection stays
/// open and what the peer sends is printed until it closes, or until it has been silent
/// for --idle-timeout. A peer that answers only after the end of its input (like
/// sha256sum) cannot be used over such a VM; hvsock says so on stderr.
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
  echo ping | hvsock connect fc1:echo --idle-timeout 2s  # Firecracker VM: stop 2s after the answer
  hvsock connect fc1:echo --half-close never < req       # open until the guest closes
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
    #[command(flatten)]
    at_end: StdinEndOpts,
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
    let at_end = AtStdinEnd::new(&args.at_end, &stream, &config.dirs);
    let pump = StdinPump::start();
    let end = serve_stdio(&stream, &pump, at_end).map_err(|e| format!("{}: {e}", args.addr))?;
    if args.verbose {
        match end {
            StdioEnd::IdleTimeout => eprintln!(
                "hvsock: closing the connection to {}: nothing received for the idle timeout",
                args.addr
            ),
            _ => eprintln!("hvsock: connection to {} closed", args.addr),
        }
    }
    Ok(ExitCode::SUCCESS)
}
