//! `hvsock`: the command-line front end of the hvsock toolkit.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod bench;
mod cmd_addr;
mod cmd_agent;
mod cmd_connect;
mod cmd_cp;
mod cmd_demo;
mod cmd_exec;
mod cmd_listen;
mod cmd_relay;
mod cmd_service;
mod cmd_vm;
mod hints;
mod sys;

/// Hyper-V sockets for Linux hosts, guests and containers.
///
/// Addresses are written VM:SERVICE. VM is a GUID, a wildcard (any, children, loopback,
/// parent, broadcast, silohost) or a name from the partition table (`hvsock vm list`);
/// SERVICE is a GUID, a registered ElementName (`hvsock service list`) or vsock:PORT.
#[derive(Parser)]
#[command(name = "hvsock", version, about, long_about)]
struct Cli {
    /// Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else
    /// /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock]
    #[arg(long, global = true, value_name = "DIR")]
    config_dir: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Encode and decode SOCKADDR_HV addresses.
    #[command(subcommand)]
    Addr(cmd_addr::AddrCmd),
    /// The service registry (Hyper-V's GuestCommunicationServices): add, list, export.
    #[command(subcommand)]
    Service(cmd_service::ServiceCmd),
    /// The partition table (the host's list of VMs): add, list, show, remove.
    #[command(subcommand)]
    Vm(cmd_vm::VmCmd),
    Listen(cmd_listen::ListenArgs),
    Connect(cmd_connect::ConnectArgs),
    Relay(cmd_relay::RelayArgs),
    Agent(cmd_agent::AgentArgs),
    Exec(cmd_exec::ExecArgs),
    Shell(cmd_exec::ShellArgs),
    Cp(cmd_cp::CpArgs),
    Demo(cmd_demo::DemoArgs),
    #[command(subcommand)]
    Bench(bench::BenchCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(dir) = &cli.config_dir {
        // SAFETY-free: set before any thread starts; every library call reads it.
        // SAFETY: single-threaded at this point (no runtime or thread started yet).
        unsafe { std::env::set_var(hvsock::paths::CONFIG_DIR_ENV, dir) };
    }
    let result = match cli.command {
        Command::Addr(c) => cmd_addr::run(c),
        Command::Service(c) => cmd_service::run(c),
        Command::Vm(c) => cmd_vm::run(c),
        Command::Listen(c) => cmd_listen::run(c),
        Command::Connect(c) => cmd_connect::run(c),
        Command::Relay(c) => cmd_relay::run(c),
        Command::Agent(c) => cmd_agent::run(c),
        Command::Exec(c) => cmd_exec::run_exec(c),
        Command::Shell(c) => cmd_exec::run_shell(c),
        Command::Cp(c) => cmd_cp::run(c),
        Command::Demo(c) => cmd_demo::run(c),
        Command::Bench(c) => bench::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever the error's text.
            let hint = e.downcast_ref().and_then(hints::hint).unwrap_or_default();
            let msg = format!("{e}{hint}").replace('\n', "; ");
            eprintln!("hvsock: {msg}");
            ExitCode::from(1)
        }
    }
}
