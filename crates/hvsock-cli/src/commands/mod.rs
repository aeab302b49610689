//! One module per `hvsock` command: its arguments, its help text and a `run` that
//! takes the [`Config`](crate::config::Config) built once in `main`.

pub mod addr;
pub mod agent;
pub mod bench;
pub mod connect;
pub mod cp;
pub mod demo;
pub mod exec;
pub mod listen;
pub mod relay;
pub mod service;
pub mod vm;
