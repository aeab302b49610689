//! `hvsock`: the command-line front end of the hvsock toolkit.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod backoff;
mod bench;
mod commands;
mod config;
mod endpoint;
mod hints;
mod log;
mod messages;
mod options;
#[cfg(windows)]
mod platform;
mod relay;
mod stdio;
mod sys;

use commands::{addr, connect, cp, exec, listen, service, vm};
#[cfg(unix)]
use commands::{agent, demo};
use config::Config;
#[cfg(windows)]
use platform::UnixOnlyArgs;

/// Hyper-V sockets for Linux hosts, guests and containers, and Windows hosts.
///
/// Addresses are written VM:SERVICE. VM is a GUID, a wildcard (any, children, loopback,
/// parent, broadcast, silohost) or a name from the partition table (`hvsock vm list`);
/// SERVICE is a GUID, a registered ElementName (`hvsock service list`) or vsock:PORT.
#[derive(Parser)]
#[command(name = "hvsock", version, about, long_about)]
struct Cli {
    /// Config directory (registry, partition table) [default: $HVSOCK_CONFIG_DIR, else
    /// /etc/hvsock as root, else $XDG_CONFIG_HOME/hvsock; on Windows
    /// %ProgramData%\hvsock, and the registry is Windows' own]
    #[arg(long, global = true, value_name = "DIR")]
    config_dir: Option<std::path::PathBuf>,

    /// Format of the log lines on stderr (what HVSOCK_LOG selects, e.g.
    /// HVSOCK_LOG=info for every refused connection, debug for accepts and closes):
    /// human, or json (one object a line, for journald and log shippers)
    #[arg(long, global = true, value_enum, default_value = "human")]
    log_format: log::LogFormat,

    /// Log errors only (without HVSOCK_LOG: the default level is warn, and info for
    /// the long-running commands' -v: listen, relay, agent, bench server)
    #[arg(long, short = 'q', global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Encode and decode SOCKADDR_HV addresses.
    #[command(subcommand)]
    Addr(addr::AddrCmd),
    /// The service registry (Hyper-V's GuestCommunicationServices): add, list, export.
    #[command(subcommand)]
    Service(service::ServiceCmd),
    /// The partition table (the host's list of VMs): add, list, show, remove.
    #[command(subcommand)]
    Vm(vm::VmCmd),
    Listen(listen::ListenArgs),
    Connect(connect::ConnectArgs),
    Relay(commands::relay::RelayArgs),
    #[cfg(unix)]
    Agent(agent::AgentArgs),
    Exec(exec::ExecArgs),
    Shell(exec::ShellArgs),
    Cp(cp::CpArgs),
    #[command(subcommand)]
    Key(commands::key::KeyCmd),
    #[cfg(unix)]
    Demo(demo::DemoArgs),
    /// The integration service (Linux only: it runs in Linux guests).
    #[cfg(windows)]
    Agent(UnixOnlyArgs),
    /// Exec and cp end to end on a throw-away local partition (Linux only).
    #[cfg(windows)]
    Demo(UnixOnlyArgs),
    #[command(subcommand)]
    Bench(commands::bench::BenchCmd),
    Stats(commands::stats::StatsArgs),
    Completions(commands::completions::CompletionsArgs),
    Man(commands::completions::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = match &cli.command {
        Command::Listen(a) => a.verbose(),
        Command::Relay(a) => a.verbose(),
        #[cfg(unix)]
        Command::Agent(a) => a.verbose(),
        Command::Bench(commands::bench::BenchCmd::Server(a)) => a.verbose(),
        _ => false,
    };
    #[cfg(unix)]
    let agent = matches!(cli.command, Command::Agent(_));
    #[cfg(not(unix))]
    let agent = false;
    let level = match (cli.quiet, verbose) {
        (true, _) => "error",
        (false, true) => "info",
        // The agent's audit lines are on unless asked to be quiet.
        (false, false) if agent => log::AGENT_DEFAULT,
        (false, false) => "warn",
    };
    log::init(cli.log_format, level);
    // The environment is read here, once; every command gets what it needs from this.
    let config = Config::from_env(cli.config_dir);
    let config = &config;
    let result = match cli.command {
        Command::Addr(c) => addr::run(config, c),
        Command::Service(c) => service::run(config, c),
        Command::Vm(c) => vm::run(config, c),
        Command::Listen(c) => listen::run(config, c),
        Command::Connect(c) => connect::run(config, c),
        Command::Relay(c) => commands::relay::run(config, c),
        #[cfg(unix)]
        Command::Agent(c) => agent::run(config, c),
        Command::Exec(c) => exec::run_exec(config, c),
        Command::Shell(c) => exec::run_shell(config, c),
        Command::Cp(c) => cp::run(config, c),
        Command::Key(c) => commands::key::run(config, c),
        #[cfg(unix)]
        Command::Demo(c) => demo::run(config, c),
        #[cfg(windows)]
        Command::Agent(_) => platform::refuse(
            "agent",
            "the agent serves exec, shell and cp inside Linux guests (PTYs, Unix processes); \
             run it in the VM and use `hvsock exec`, `shell` or `cp` from here",
        ),
        #[cfg(windows)]
        Command::Demo(_) => platform::refuse(
            "demo",
            "it runs an agent in a local partition, and both are Linux features",
        ),
        Command::Bench(c) => commands::bench::run(config, c),
        Command::Stats(c) => commands::stats::run(config, c),
        Command::Completions(c) => commands::completions::run(c),
        Command::Man(c) => commands::completions::run_man(c),
    };
    match result {
        Ok(code) => code,
        #[cfg(windows)]
        Err(e) if e.is::<platform::UnixOnly>() => {
            eprintln!("hvsock: {e}");
            ExitCode::from(platform::EXIT_UNIX_ONLY)
        }
        Err(e) => {
            // One line, whatever the error's text.
            let msg = messages::one_line(&hints::full(e.as_ref()));
            eprintln!("hvsock: {msg}");
            ExitCode::from(1)
        }
    }
}
