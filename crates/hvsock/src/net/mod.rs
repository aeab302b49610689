//! Sockets: [`HvStream`] and [`HvListener`] (std), and their tokio twins.

pub(crate) mod core;
pub(crate) mod dial;
pub(crate) mod listener;
pub(crate) mod stream;
#[cfg(feature = "tokio")]
pub mod tokio;
