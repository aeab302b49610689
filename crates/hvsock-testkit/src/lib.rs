//! Test support shared by hvsock's test crates (library, CLI, agent, VM tests).
//!
//! Deliberately free of any hvsock crate, so that every test crate (hvsock's own
//! integration tests included) can use it as a dev-dependency without type clashes.
//!
//! - [`env`](mod@env): temp config and runtime dirs, an `hvsock` command bound to them.
//! - [`proc`]: child processes bounded in time, their output collected.
//! - [`data`]: deterministic test data, checksums and seeds.
//! - [`fs`]: small file-system listings.
//! - [`users`]: throw-away Unix users (only as root), removed on drop.

pub mod data;
pub mod env;
pub mod fs;
pub mod proc;
#[cfg(unix)]
pub mod users;
