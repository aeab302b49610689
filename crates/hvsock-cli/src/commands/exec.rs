//! `hvsock exec` and `hvsock shell`: run a command or a login shell in a VM (or local
//! partition) through its `hvsock agent` ("PowerShell Direct" for Linux VMs).

use crate::commands::key::AuthOpts;
use crate::config::Config;
use crate::messages::{AGENT_UNREACHABLE_HINT, one_line, one_line_untrusted};
use crate::options::ConnectOpts;
use clap::Args;
use hvsock::VmId;
use hvsock::net::tokio::HvStream;
use hvsock::partitions::PartitionTable;
use hvsock::paths::Dirs;
use hvsock::syntax::{VmSpec, parse_vm, resolve_vm};
use hvsock_agent::{ExecRequest, SERVICE_ID, ShellRequest, client};
use std::process::ExitCode;

/// Exit code for failures of hvsock itself (connection, protocol), as ssh does.
pub(crate) const EXIT_CONNECTION: i32 = 255;

/// Run a command in a VM or local partition through its `hvsock agent`.
///
/// CMD runs in the VM with the agent's environment plus --env, in --cwd (else the
/// agent's working directory). Without --tty its stdin, stdout and stderr are streamed
/// separately and live: this side's stdin goes to CMD (its end of file too), CMD's
/// stdout and stderr come out on this side's stdout and stderr. SIGINT, SIGTERM, SIGHUP
/// and SIGQUIT sent to hvsock are passed on to CMD.
///
/// With --tty, CMD runs on a pseudo-terminal of this terminal's size (resized with it),
/// this terminal in raw mode (restored at the end): Ctrl-C and other keys reach the
/// remote program, output comes on stdout only.
///
/// VM is a name from the partition table (`hvsock vm list`), a GUID, or a wildcard
/// (`parent` from inside a guest or local partition). The agent's service must be
/// registered on the host (`hvsock agent --install-service`).
///
/// Exit status: CMD's exit status; 128+N if CMD was killed by signal N; 127 if CMD was
/// not found and 126 if it could not be executed (with one `hvsock: ...` line); 255
/// with one `hvsock: ...` line if the agent could not be reached or the connection
/// failed; 141 (silently) if this side's stdout was closed; 2 for usage errors.
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  hvsock exec myvm -- uname -a
  hvsock exec myvm --env LANG=C --cwd /var/log -- grep -r error .
  tar cz src | hvsock exec myvm -- tar xz -C /tmp      # stdin streams to the VM
  hvsock exec myvm -t -- top                          # full-screen program on a PTY
  hvsock exec myvm --wait 60s -- uname                # right after starting the VM
  HVSOCK_PARTITION=a hvsock exec parent -- id          # from a local partition")]
pub struct ExecArgs {
    /// The VM: a partition name, a GUID or a wildcard (e.g. parent).
    vm: String,
    /// Set K=V in CMD's environment (repeatable).
    #[arg(long, short = 'e', value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Run CMD in DIR (a path in the VM).
    #[arg(long, short = 'C', value_name = "DIR")]
    cwd: Option<String>,
    /// Run CMD on a pseudo-terminal (interactive programs).
    #[arg(long, short = 't')]
    tty: bool,
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(flatten)]
    auth: AuthOpts,
    /// The command and its arguments (put `--` before CMD).
    #[arg(
        value_name = "CMD",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
}

/// Open an interactive login shell in a VM or local partition through its `hvsock agent`.
///
/// The agent user's login shell runs on a pseudo-terminal of this terminal's size (resized
/// with it); this terminal is in raw mode while the shell runs (Ctrl-C, Ctrl-Z and every
/// key reach the remote side) and is restored when it ends. TERM is passed on.
///
/// Exit status: the shell's exit status (128+N if killed by signal N); 255 with one
/// `hvsock: ...` line if the agent could not be reached or the connection failed.
#[derive(Args)]
#[command(after_long_help = "\
Examples:
  hvsock shell myvm
  HVSOCK_PARTITION=a hvsock shell parent")]
pub struct ShellArgs {
    /// The VM: a partition name, a GUID or a wildcard (e.g. parent).
    vm: String,
    /// Set K=V in the shell's environment (repeatable).
    #[arg(long, short = 'e', value_name = "K=V", value_parser = parse_env)]
    env: Vec<(String, String)>,
    #[command(flatten)]
    connect: ConnectOpts,
    #[command(flatten)]
    auth: AuthOpts,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{s:?}: expected KEY=VALUE")),
    }
}

/// Resolves VM (name, GUID or wildcard), loading the table only for a name.
pub(crate) fn resolve(vm: &str, dirs: &Dirs) -> Result<VmId, String> {
    let spec = parse_vm(vm);
    let table = match &spec {
        VmSpec::Name(_) => PartitionTable::load(dirs).map_err(|e| crate::hints::full(&e))?,
        VmSpec::Id(_) => PartitionTable::new(),
    };
    resolve_vm(&spec, &table).map_err(|e| crate::hints::full(&e))
}

/// Connects to the agent of `vm`, with a hint on the usual mistakes; the connection
/// carries the credentials of `auth`.
pub(crate) async fn connect_agent(
    config: &Config,
    vm: &str,
    opts: ConnectOpts,
    auth: &AuthOpts,
) -> Result<client::Connection<HvStream>, String> {
    let ctx = config.context().map_err(|e| crate::hints::full(&e))?;
    let id = resolve(vm, ctx.dirs())?;
    let credentials = auth.client_auth(ctx.dirs(), id)?;
    let connected = match opts.wait.dialer(opts.timeout) {
        Some(d) => d.connect_async(&ctx, (id, SERVICE_ID)).await,
        None => HvStream::connect_with(&ctx, (id, SERVICE_ID), opts.timeout).await,
    };
    let stream = connected.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::NotFound
            | std::io::ErrorKind::TimedOut => AGENT_UNREACHABLE_HINT,
            _ => "",
        };
        // A listener's refusal text is escaped by the library already.
        format!(
            "cannot reach the agent in {vm}: {}{hint}",
            crate::hints::full(&e)
        )
    })?;
    Ok(client::Connection::new(stream, credentials))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("hvsock: cannot start the async runtime: {e}");
            std::process::exit(EXIT_CONNECTION)
        })
}

/// Runs a session and exits the process with its code (stdin is read by a detached
/// thread that may stay blocked: exiting is the way to end it).
fn finish(result: Result<i32, String>) -> ! {
    match result {
        Ok(code) => std::process::exit(code),
        Err(msg) => {
            eprintln!("hvsock: {}", one_line(&msg));
            std::process::exit(EXIT_CONNECTION)
        }
    }
}

fn session_error(e: hvsock_agent::ClientError) -> ! {
    if let hvsock_agent::ClientError::Io(io) = &e
        && io.kind() == std::io::ErrorKind::BrokenPipe
    {
        // Our stdout or stderr was closed (`hvsock exec vm -- yes | head -1`): end
        // quietly, as a process killed by SIGPIPE would (the remote command is killed
        // when the connection closes).
        std::process::exit(crate::sys::BROKEN_PIPE_EXIT)
    }
    // The error may quote the agent's own message: escaped.
    eprintln!("hvsock: {}", one_line_untrusted(&e));
    std::process::exit(e.exit_code())
}

/// Connects to the agent of `vm`, runs the session `run` opens on the connection and
/// exits with its code.
fn run_session<F, Fut>(
    config: &Config,
    vm: &str,
    connect: ConnectOpts,
    auth: &AuthOpts,
    run: F,
) -> !
where
    F: FnOnce(client::Connection<HvStream>) -> Fut,
    Fut: std::future::Future<Output = Result<i32, hvsock_agent::ClientError>>,
{
    let rt = runtime();
    let result = rt.block_on(async {
        let stream = connect_agent(config, vm, connect, auth).await?;
        match run(stream).await {
            Ok(code) => Ok(code),
            Err(e) => session_error(e),
        }
    });
    finish(result)
}

/// Runs `hvsock exec` and exits with the command's status.
pub fn run_exec(config: &Config, args: ExecArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let req = ExecRequest {
        argv: args.command,
        env: args.env,
        cwd: args.cwd,
        tty: args.tty,
        ..ExecRequest::default()
    };
    run_session(config, &args.vm, args.connect, &args.auth, |s| {
        client::exec_stdio(s, req)
    })
}

/// Runs `hvsock shell` and exits with the shell's status.
pub fn run_shell(config: &Config, args: ShellArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let req = ShellRequest {
        env: args.env,
        ..ShellRequest::default()
    };
    run_session(config, &args.vm, args.connect, &args.auth, |s| {
        client::shell(s, req)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_pairs() {
        assert_eq!(parse_env("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert_eq!(parse_env("A=").unwrap(), ("A".into(), "".into()));
        assert!(parse_env("=x").is_err());
        assert!(parse_env("novalue").is_err());
    }
}
