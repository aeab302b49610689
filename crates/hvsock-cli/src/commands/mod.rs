//! One module per `hvsock` command: its arguments, its help text and a `run` that
//! takes the [`Config`](crate::config::Config) built once in `main`. The agent itself
//! (`agent`) and `demo` (an agent in a local partition) are Unix-only modules; on
//! Windows `main` refuses them by name (`crate::platform`). The agent's clients (`exec`,
//! `shell`, `cp`) run on both.

pub mod addr;
#[cfg(unix)]
pub mod agent;
pub mod bench;
pub mod completions;
pub mod connect;
pub mod cp;
#[cfg(unix)]
pub mod demo;
pub mod exec;
pub mod key;
pub mod listen;
pub mod relay;
pub mod service;
pub mod stats;
pub mod vm;
