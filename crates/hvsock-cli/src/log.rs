//! Log lines on stderr: the library's events (`hvsock` with its `tracing` feature:
//! refusals with reason and peer, accepts and closes) and the CLI's, filtered by
//! `HVSOCK_LOG` (`RUST_LOG` syntax: `info`, `hvsock::accept=debug`, ...; without it
//! `warn`, `info` for the long-running commands' `-v`, `error` with `-q`), human or
//! JSON.
//!
//! JSON lines are objects with `timestamp` (RFC 3339), `level`, `target` and `fields`:
//! `message` and the event's fields. Refusals (`target` `hvsock::accept`, level INFO,
//! message `connection refused`): `reason` (a `hvsock stats` reason name),
//! `peer_vm`, `peer_name`, `service`, `service_name`. Accepts (`connection accepted`,
//! DEBUG): `service`, `service_name`, `peer_vm`, `peer_name`; closes (`connection
//! closed`, DEBUG) add `duration_ms`, `bytes_in`, `bytes_out`.

//!
//! `hvsock agent` logs one audit line per session (target `hvsock::audit`, INFO, on by
//! default for the agent; `-q` turns it off): message `session`, fields `peer_vm`,
//! `peer_name`, `user`, `method`, `activity` (`exec: ARGV...`, `shell`, `cp to PATH`,
//! `cp from PATH`, `(nothing ran)`), `exit_code` (absent for copies and refusals),
//! `bytes_in`, `bytes_out`, and `error` when the session failed.

use tracing_subscriber::EnvFilter;

/// The default filter of `hvsock agent` without `-v`: warnings, and the audit lines.
pub const AGENT_DEFAULT: &str = "warn,hvsock::audit=info";

/// Logs the audit line of one agent session (see the module docs for its fields);
/// `error` is how the session failed, if it did.
#[cfg(unix)]
pub fn audit(r: &hvsock_agent::server::AuditRecord, error: Option<&str>) {
    let activity = r.activity.to_string();
    let peer = hvsock_agent::tree::escape(&r.peer_name);
    tracing::info!(
        target: "hvsock::audit",
        peer_vm = %r.peer_id,
        peer_name = %peer,
        user = %hvsock_agent::tree::escape(&r.user),
        method = %r.method,
        activity = %activity,
        exit_code = r.exit_code,
        bytes_in = r.bytes_in,
        bytes_out = r.bytes_out,
        error = error,
        "session"
    );
}

/// The environment variable of the log filter.
pub const LOG_ENV: &str = "HVSOCK_LOG";

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text for people (colours on a terminal).
    Human,
    /// One JSON object a line.
    Json,
}

/// Installs the stderr subscriber, once, at start.
pub fn init(format: LogFormat, default_level: &str) {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(default_level));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => b
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => b.json().with_ansi(false).try_init(),
    };
}
