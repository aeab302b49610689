//! The data path of the relay: one direction of one connection, socket to socket.
//!
//! [`forward`] moves the bytes and then passes the half-close on. On Linux it splices
//! through a pipe between the two sockets (no byte enters user space; [`super::splice`])
//! and falls back to a buffered copy for sockets the kernel cannot splice; Windows has
//! no splice, so there it is the buffered copy.

use hvsock::net::tokio as hvtokio;
use std::io::{self, ErrorKind};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, tcp};
#[cfg(unix)]
use tokio::net::{UnixStream, unix};

/// A connected socket of any endpoint kind.
pub(crate) enum Conn {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    Hv(hvtokio::HvStream),
}

/// The receiving half of a [`Conn`].
pub(crate) enum Reader {
    Tcp(tcp::OwnedReadHalf),
    #[cfg(unix)]
    Unix(unix::OwnedReadHalf),
    Hv(hvtokio::OwnedReadHalf),
}

/// The sending half of a [`Conn`].
pub(crate) enum Writer {
    Tcp(tcp::OwnedWriteHalf),
    #[cfg(unix)]
    Unix(unix::OwnedWriteHalf),
    Hv(hvtokio::OwnedWriteHalf),
}

impl Conn {
    pub(crate) fn into_split(self) -> (Reader, Writer) {
        match self {
            Conn::Tcp(s) => {
                let (r, w) = s.into_split();
                (Reader::Tcp(r), Writer::Tcp(w))
            }
            #[cfg(unix)]
            Conn::Unix(s) => {
                let (r, w) = s.into_split();
                (Reader::Unix(r), Writer::Unix(w))
            }
            Conn::Hv(s) => {
                let (r, w) = s.into_split();
                (Reader::Hv(r), Writer::Hv(w))
            }
        }
    }
}

impl Reader {
    pub(super) fn as_async(&mut self) -> &mut (dyn AsyncRead + Unpin + Send) {
        match self {
            Reader::Tcp(r) => r,
            #[cfg(unix)]
            Reader::Unix(r) => r,
            Reader::Hv(r) => r,
        }
    }
}

impl Writer {
    pub(super) fn as_async(&mut self) -> &mut (dyn AsyncWrite + Unpin + Send) {
        match self {
            Writer::Tcp(w) => w,
            #[cfg(unix)]
            Writer::Unix(w) => w,
            Writer::Hv(w) => w,
        }
    }
}

/// The buffer of one direction of one connection (buffered copy).
const BUF_SIZE: usize = 256 * 1024;

/// Moves one direction of a connection: everything `from` sends goes to `to`, then
/// `to` is shut down for writing (the half-close carried through). Returns the bytes
/// moved.
///
/// This is the data path: on Linux splice(2) through a pipe (the bytes never enter
/// user space), or, where the kernel refuses splice for a socket, a buffered copy; on
/// Windows the buffered copy.
pub(crate) async fn forward(mut from: Reader, mut to: Writer) -> io::Result<u64> {
    #[cfg(unix)]
    let total = super::splice::copy(&mut from, &mut to).await?;
    #[cfg(windows)]
    let total = buffered_copy(&mut from, &mut to, &[]).await?;
    match to.as_async().shutdown().await {
        // The peer is gone altogether: nothing to shut down.
        Err(e) if e.kind() == ErrorKind::NotConnected => {}
        r => r?,
    }
    Ok(total)
}

/// The fallback: a buffered copy, after writing `head` (bytes already read).
pub(super) async fn buffered_copy(
    from: &mut Reader,
    to: &mut Writer,
    head: &[u8],
) -> io::Result<u64> {
    let w = to.as_async();
    w.write_all(head).await?;
    let mut r = BufReader::with_capacity(BUF_SIZE, from.as_async());
    Ok(head.len() as u64 + tokio::io::copy_buf(&mut r, w).await?)
}
