//! Sockets: [`HvStream`](crate::HvStream) and [`HvListener`](crate::HvListener) (std), and
//! their tokio twins in [`tokio`].

#[cfg(unix)]
pub(crate) mod accept;
#[cfg(unix)]
pub(crate) mod dial;
pub(crate) mod listener;
pub mod options;
pub(crate) mod stream;
pub mod wait;

// On Windows the kernel's AF_HYPERV is the one transport: its dial and accept stand
// where the Unix accept loop and route planning are.
#[cfg(windows)]
pub(crate) use crate::transport::hyperv::{accept, dial};

pub use options::ConnectOptions;
pub use wait::{Dialer, is_not_there_yet};
#[cfg(feature = "tokio")]
pub mod tokio;
