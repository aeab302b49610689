//! # hvsock-agent: the hvsock integration service
//!
//! "PowerShell Direct for Linux": run commands, interactive shells and file copies in a
//! VM (or a local partition) over a Hyper-V socket, with no network.
//!
//! This crate is the transport-independent core: the wire protocol ([`proto`], described
//! in `PROTOCOL.md`), the agent (`server`, Unix only: it runs in Linux guests) and the
//! client ([`client`], Unix and Windows), all generic over tokio `AsyncRead +
//! AsyncWrite` streams. The `hvsock` CLI wires them to hvsock sockets (`hvsock agent`,
//! `exec`, `shell`, `cp`).
//!
//! ```no_run
//! # #[cfg(unix)]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use hvsock_agent::auth::{AuthorizedKey, KeyPair};
//! use hvsock_agent::{client, proto::ExecRequest, server};
//! let key = KeyPair::generate("me@host")?;
//! let mut opts = server::AgentOptions::default();
//! opts.auth.keys = server::KeySource::Keys(vec![AuthorizedKey { key: key.public(), users: None, line: 1 }]);
//! let (a, b) = tokio::net::UnixStream::pair()?;
//! tokio::spawn(async move { server::serve_connection(a, &opts).await });
//! let req = ExecRequest { argv: vec!["uname".into(), "-a".into()], ..Default::default() };
//! let conn = client::Connection::new(b, client::ClientAuth::with_key(key));
//! let code = client::exec(conn, req, tokio::io::empty(), tokio::io::stdout(), tokio::io::stderr()).await?;
//! assert_eq!(code, 0);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod auth;
pub mod client;
mod flow;
pub mod framed;
mod fsat;
mod pending;
pub mod proto;
mod receive;
#[cfg(unix)]
pub mod server;
#[allow(unsafe_code)]
pub mod sys;
pub mod tree;

/// The agent's service id: the vsock template GUID of port 18518
/// (`00004856-facb-11e6-bd58-64006a7986d3`), so the same agent answers on Linux
/// `hv_sock` guests of a real Hyper-V host, on vsock and hybrid-vsock VMs and in local
/// partitions. Register it on the host as [`SERVICE_NAME`] (`hvsock agent
/// --install-service`).
///
/// ```
/// assert_eq!(hvsock_agent::SERVICE_ID.to_string(), "00004856-facb-11e6-bd58-64006a7986d3");
/// assert_eq!(hvsock_agent::SERVICE_ID.vsock_port(), Some(hvsock_agent::VSOCK_PORT));
/// ```
pub const SERVICE_ID: hvsock::ServiceId = hvsock::ServiceId::from_vsock_port(VSOCK_PORT);

/// The agent's vsock port (`0x4856`, "HV"): Data1 of [`SERVICE_ID`].
pub const VSOCK_PORT: u32 = 18518;

/// The agent service's friendly name (Hyper-V's `ElementName`) in the registry.
pub const SERVICE_NAME: &str = "hvsock agent";

pub use client::ClientError;
pub use proto::{ExecRequest, ExitStatus, ShellRequest, WindowSize};
#[cfg(unix)]
pub use server::{Agent, AgentError, AgentOptions, serve_connection, serve_connection_from};
pub use tree::{CopySummary, Progress};
