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

//!
//! ## On Windows
//!
//! tokio has no `AsyncFd` on Windows. Its reactor (mio) waits on sockets through AFD,
//! the driver beneath every WinSock stream provider, and Hyper-V sockets are such a
//! provider: OpenVMM's `pal_async` drives AF_HYPERV sockets through AFD polls the same
//! way, while go-winio uses overlapped I/O (`ConnectEx`, `AcceptEx`) on an IOCP. hvsock
//! takes the readiness route, because it keeps one code path with Unix (wait for
//! readiness, then a non-blocking call) and needs no I/O buffers pinned for the kernel:
//! the socket is registered with tokio as if it were a TCP stream, *only* as a
//! readiness source. hvsock never calls that stream's address methods (they assume IP);
//! addresses are `SOCKADDR_HV`, read by hvsock itself. A listening socket is registered
//! the same way (it turns readable when a connection waits) and accepted with a
//! non-blocking `accept`. Connects run on tokio's blocking pool, as on Unix: Windows
//! enforces the connect timeout (`HVSOCKET_CONNECT_TIMEOUT`) itself.

#[macro_use]
mod io;
mod listener;
mod split;
mod stream;

pub use listener::HvListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::HvStream;
