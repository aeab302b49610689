//! Sockets: [`HvStream`](crate::HvStream) and [`HvListener`](crate::HvListener) (std), and
//! their tokio twins in [`tokio`].

pub(crate) mod accept;
pub(crate) mod dial;
pub(crate) mod listener;
pub(crate) mod stream;
#[cfg(feature = "tokio")]
pub mod tokio;
