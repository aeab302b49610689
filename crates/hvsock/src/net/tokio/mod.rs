//! Async Hyper-V sockets for tokio (feature `tokio`): [`HvStream`] and [`HvListener`]
//! with the std types' semantics, `AsyncRead`/`AsyncWrite`, `split` and `into_split`.
//!
//! ```no_run
//! use hvsock::net::tokio::{HvListener, HvStream};
//! use hvsock::{ServiceId, VmId};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let svc = ServiceId::from_vsock_port(5000);
//! let listener = HvListener::bind((VmId::LOOPBACK, svc))?;
//! tokio::spawn(async move {
//!     let (mut s, _peer) = listener.accept().await?;
//!     let (mut r, mut w) = s.split();
//!     tokio::io::copy(&mut r, &mut w).await?;
//!     Ok::<(), std::io::Error>(())
//! });
//! let mut s = HvStream::connect((VmId::LOOPBACK, svc)).await?;
//! s.write_all(b"ping").await?;
//! s.shutdown().await?;
//! let mut back = Vec::new();
//! s.read_to_end(&mut back).await?;
//! assert_eq!(back, b"ping");
//! # Ok(()) }
//! ```

#[macro_use]
mod io;
mod listener;
mod split;
mod stream;

pub use listener::HvListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::HvStream;
