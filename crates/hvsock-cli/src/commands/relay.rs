//! `hvsock relay`: listen on one endpoint (TCP, Unix or Hyper-V socket) and connect each
//! client to another, many at once, half-closes carried through. The engine is
//! [`crate::relay`].

use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::options::{parse_connect_timeout, parse_idle_timeout};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

// The text below is --help output, not rustdoc: `[::1]` is an address, not a link.
#[allow(rustdoc::broken_intra_doc_links)]
/// Listen on FROM and connect each client to TO, relaying bytes both ways
///
/// Endpoints:
///   tcp:HOST:PORT       a TCP address (IPv6 in brackets: tcp:[::1]:8080). As FROM,
///                       exactly that address is bound (PORT 0 picks a free port; see -v)
///   unix:PATH           a Unix stream socket (Linux only). As FROM, a stale socket
///                       file is replaced and the file is removed on SIGINT/SIGTERM
///   hvsock:VM:SERVICE   a Hyper-V socket address, as in `hvsock addr encode --help`.
///                       As FROM, VM says who may connect (any, children, parent,
///                       loopback, a partition); as TO, it is the VM to reach
///
/// Each client gets its own connection to TO; any number are relayed at once. When one
/// side finishes sending, the other side's sending direction is shut down (half-close)
/// and the other direction goes on until it finishes too. To a hybrid VM whose VMM
/// loses a half-close (`hvsock vm show`; it would close the whole connection and drop
/// the answer), no half-close is sent while the other side's full close can be seen
/// (Unix and hvsock clients; after a TCP client's FIN it is sent, as before). A pair
/// whose one side has closed altogether is closed at once (what it sent has been
/// passed on; nothing can reach it any more), so finished connections never pile up;
/// --idle-timeout also closes a pair whose one direction has ended when the other
/// moves nothing for DUR. A connection that fails (TO
/// refuses, a reset) is logged to stderr and closed; the relay keeps running. Nothing
/// is printed on stdout. Where this process is, for hvsock endpoints: the host, unless
/// HVSOCK_PARTITION=NAME or HVSOCK_GUEST=1.
#[derive(Args)]
#[command(
    verbatim_doc_comment,
    after_long_help = "\
Examples:
  # Publish a VM's SSH server (vsock port 22 in the guest) on the host's loopback:
  hvsock relay tcp:127.0.0.1:2222 hvsock:myvm:vsock:22
  # In a guest: reach the host's service through a local Unix socket:
  HVSOCK_GUEST=1 hvsock relay unix:/run/host-api.sock hvsock:parent:\"Host API\"
  # On the host: let partitions reach a TCP server as service `web`:
  hvsock relay hvsock:children:web tcp:127.0.0.1:8080
  # A Firecracker VM's service for local clients; drop pairs 30s after one side ends:
  hvsock relay unix:/run/fc1-api.sock hvsock:fc1:api --idle-timeout 30s
  # Pick a free port and log it:
  hvsock relay -v tcp:127.0.0.1:0 hvsock:loopback:echo"
)]
pub struct RelayArgs {
    /// Where to listen: tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE.
    #[arg(value_name = "FROM", value_parser = Endpoint::parse)]
    from: Endpoint,
    /// Where to connect each client: tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE.
    #[arg(value_name = "TO", value_parser = Endpoint::parse)]
    to: Endpoint,
    /// Give up connecting to TO after DUR (500ms, 2s, 1m; at most 300s).
    #[arg(
        long,
        short = 't',
        value_name = "DUR",
        default_value = "2s",
        value_parser = parse_connect_timeout
    )]
    connect_timeout: Duration,
    /// Log the listening address, every connection and its byte counts to stderr.
    #[arg(long, short)]
    verbose: bool,
    /// Once one direction of a connection has ended, close both when the other has
    /// moved nothing for DUR (500ms, 2s, 1m) [default: wait for it to end].
    #[arg(long, value_name = "DUR", value_parser = parse_idle_timeout)]
    idle_timeout: Option<Duration>,
}

/// Runs `hvsock relay` on a multi-threaded runtime until SIGINT or SIGTERM (Ctrl-C on
/// Windows).
pub fn run(config: &Config, args: RelayArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let relay = crate::relay::Relay {
        from: args.from,
        to: args.to,
        connect_timeout: args.connect_timeout,
        verbose: args.verbose,
        idle_timeout: args.idle_timeout,
    };
    rt.block_on(relay.run(config))?;
    Ok(ExitCode::SUCCESS)
}

impl RelayArgs {
    /// `--verbose`: also turns the log level up to INFO (refusals), see `crate::log`.
    pub fn verbose(&self) -> bool {
        self.verbose
    }
}
