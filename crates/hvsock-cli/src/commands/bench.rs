//! `hvsock bench`: the command line of the bench; the engine (wire format, server,
//! workloads, report) is [`crate::bench`].

use crate::bench::{self, Via, WorkArgs};
use crate::config::Config;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// The `--json` fields, for the long help.
macro_rules! json_help {
    () => {
        "\
--json prints one object:
  target, mode, direction, msg_size (bytes), parallel, rounds
  elapsed_s                 seconds measured (summed over the rounds)
  bytes_sent, bytes_received payload bytes counted by the client
  mb_per_s                  (sent + received) / elapsed, MB = 10^6 bytes
  ops, ops_per_s            messages (throughput), round trips (latency),
                            connections (connect, stress)
  latency_us {p50, p99, max, mean}   latency and connect modes
  verified_bytes, checksum_errors    stress mode
  cpu_s                     CPU seconds of this process during the run
  baseline {...}, ratio, ratio_of    with --baseline: the same over a raw Unix
                            socket, hvsock/baseline of ratio_of (mb_per_s,
                            latency_p50_us or ops_per_s)"
    };
}

/// Measure Hyper-V sockets: throughput, latency, connections per second, stress.
#[derive(Subcommand)]
pub enum BenchCmd {
    /// Serve bench clients on ADDR (VM:SERVICE, unix:PATH or tcp:HOST:PORT) until killed.
    ///
    /// For a host reachable from partitions and VMs, bind e.g. `any:bench` (the
    /// service must be registered: `hvsock service add bench`).
    Server(ServerArgs),
    /// Run a workload against `hvsock bench server` at ADDR.
    Client(ClientArgs),
    /// Run server and client in this process, in private temp dirs (nothing to set up).
    ///
    /// `--via partition` (default): the server is the host on `children:bench`, the
    /// client the `--local` partition `bench` connecting to `parent:bench`.
    /// `--via loopback`: both are the host, on `loopback:bench`.
    Local(LocalArgs),
}

/// `hvsock bench server`.
#[derive(Args)]
pub struct ServerArgs {
    /// Where to listen: VM:SERVICE (as `hvsock listen`), unix:PATH or tcp:HOST:PORT.
    #[arg(value_name = "ADDR")]
    addr: String,
    /// Log every connection and error to stderr.
    #[arg(long, short)]
    verbose: bool,
}

/// `hvsock bench client`.
#[derive(Args)]
#[command(after_long_help = concat!("\
Examples:
  hvsock bench client myvm:bench --mode throughput --size 64KiB --duration 5s
  hvsock bench client parent:bench --mode latency --size 64 --count 100000
  hvsock bench client loopback:bench --mode connect --parallel 2 --json
  hvsock bench client tcp:127.0.0.1:9000 --mode stress --parallel 8

", json_help!()))]
pub struct ClientArgs {
    /// The server: VM:SERVICE, unix:PATH or tcp:HOST:PORT.
    #[arg(value_name = "ADDR")]
    addr: String,
    #[command(flatten)]
    work: WorkArgs,
}

/// `hvsock bench local`.
#[derive(Args)]
#[command(after_long_help = concat!("\
Examples:
  hvsock bench local --mode throughput --baseline
  hvsock bench local --mode latency --size 64 --baseline --json
  hvsock bench local --via loopback --mode connect --duration 3s

", json_help!()))]
pub struct LocalArgs {
    /// Who talks to whom: a local partition to the host, or the host to itself.
    #[arg(long, value_enum, default_value = "partition")]
    via: Via,
    #[command(flatten)]
    work: WorkArgs,
}

/// Runs `hvsock bench`.
pub fn run(config: &Config, cmd: BenchCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cmd {
        BenchCmd::Server(a) => {
            bench::run_server(config, &a.addr, a.verbose)?;
            Ok(ExitCode::SUCCESS)
        }
        BenchCmd::Client(a) => bench::run_client(config, &a.addr, &a.work),
        BenchCmd::Local(a) => bench::run_local(a.via, &a.work),
    }
}

impl ServerArgs {
    /// `--verbose`: also turns the log level up to INFO (refusals), see `crate::log`.
    pub fn verbose(&self) -> bool {
        self.verbose
    }
}
