//! # hvsock-agent: the hvsock integration service
//!
//! "PowerShell Direct for Linux": run commands, interactive shells and file copies in a
//! VM (or a local partition) over a Hyper-V socket, with no network.
//!
//! This crate is the transport-independent core: the wire protocol ([`proto`], described
//! in `PROTOCOL.md`), the agent ([`server`]) and the client ([`client`]), all generic
//! over tokio `AsyncRead + AsyncWrite` streams. The `hvsock` CLI wires them to hvsock
//! sockets (`hvsock agent`, `exec`, `shell`, `cp`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use hvsock_agent::{client, proto::ExecRequest, server};
//! let (a, b) = tokio::net::UnixStream::pair()?;
//! tokio::spawn(async move { server::serve_connection(a, &server::AgentOptions::default()).await });
//! let req = ExecRequest { argv: vec!["uname".into(), "-a".into()], ..Default::default() };
//! let code = client::exec(b, req, tokio::io::empty(), tokio::io::stdout(), tokio::io::stderr()).await?;
//! assert_eq!(code, 0);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod client;
pub mod framed;
pub mod proto;
pub mod server;
pub mod sys;
pub mod tree;

pub use client::ClientError;
pub use proto::{ExecRequest, ExitStatus, ShellRequest, WindowSize};
pub use server::{Agent, AgentError, AgentOptions, serve_connection};
pub use tree::{CopySummary, Progress};
