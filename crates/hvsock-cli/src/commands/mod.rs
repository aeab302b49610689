//! One module per `hvsock` command: its arguments, its help text and a `run` that
//! takes the [`Config`](crate::config::Config) built once in `main`. The agent and its
//! clients (`agent`, `exec`, `shell`, `cp`, `demo`) are Unix-only modules; on Windows
//! `main` refuses them by name (`crate::platform`).

pub mod addr;
#[cfg(unix)]
pub mod agent;
pub mod bench;
pub mod connect;
#[cfg(unix)]
pub mod cp;
#[cfg(unix)]
pub mod demo;
#[cfg(unix)]
pub mod exec;
pub mod listen;
pub mod relay;
pub mod service;
pub mod vm;
