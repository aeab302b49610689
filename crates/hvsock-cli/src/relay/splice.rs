//! The zero-copy path of the relay (Linux): socket -> pipe -> socket with splice(2).

use super::pump::{Reader, Writer, buffered_copy};
use crate::sys;
use std::fmt;
use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::Interest;

/// The pipe buffer asked for one direction of one connection (zero-copy path).
const PIPE_SIZE: usize = 1024 * 1024;

/// Runs the splice `$op` (given the socket's descriptor) on half `$half` of enum
/// `$kind` each time tokio sees the socket ready for `$interest` (tokio's `async_io`).
macro_rules! splice_when_ready {
    ($kind:ident, $half:expr, $interest:expr, $op:expr) => {{
        let op = $op;
        match $half {
            $kind::Tcp(h) => h.as_ref().async_io($interest, op(h.as_ref().as_fd())).await,
            $kind::Unix(h) => h.as_ref().async_io($interest, op(h.as_ref().as_fd())).await,
            $kind::Hv(h) => h.async_io($interest, op(h.as_fd())).await,
        }
    }};
}

impl Reader {
    /// Splices up to `len` bytes from this socket into the pipe `pipe_w`, waiting
    /// until the socket has data. `Ok(0)` at EOF.
    async fn splice_into(&self, pipe_w: &OwnedFd, len: usize) -> io::Result<usize> {
        splice_when_ready!(Reader, self, Interest::READABLE, |fd| splice_op(
            fd, pipe_w, len, true
        ))
    }
}

impl Writer {
    /// Splices up to `len` bytes from the pipe `pipe_r` into this socket, waiting
    /// until the socket has room.
    async fn splice_from(&self, pipe_r: &OwnedFd, len: usize) -> io::Result<usize> {
        splice_when_ready!(Writer, self, Interest::WRITABLE, |fd| splice_op(
            fd, pipe_r, len, false
        ))
    }
}

/// One non-blocking splice between a socket and a pipe: socket -> pipe when
/// `into_pipe`, else pipe -> socket.
fn splice_op<'a>(
    sock: BorrowedFd<'a>,
    pipe: &'a OwnedFd,
    len: usize,
    into_pipe: bool,
) -> impl FnMut() -> io::Result<usize> + 'a {
    move || {
        if into_pipe {
            sys::splice(&sock, pipe, len)
        } else {
            sys::splice(pipe, &sock, len)
        }
    }
}

/// Whether splice(2) refuses this pair of descriptors (then the buffered copy runs).
fn splice_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::EOPNOTSUPP | libc::ENOSYS)
    )
}

/// The zero-copy path: socket -> pipe -> socket with splice(2), the pipe always
/// drained before it is filled again (so a `WouldBlock` always comes from the socket,
/// never from the pipe). `Ok(None)`: splice is not supported for these sockets and
/// nothing was moved.
async fn splice_copy(from: &Reader, to: &Writer, moved: &AtomicU64) -> io::Result<Option<u64>> {
    let (pipe_r, pipe_w) = sys::pipe()?;
    // A larger pipe means fewer syscalls; the kernel may give less, which is fine.
    let cap = sys::set_pipe_size(&pipe_w, PIPE_SIZE).unwrap_or(64 * 1024);
    let mut total = 0u64;
    loop {
        let n = match from.splice_into(&pipe_w, cap).await {
            Ok(0) => return Ok(Some(total)),
            Ok(n) => n,
            Err(e) if total == 0 && splice_unsupported(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut left = n;
        while left > 0 {
            match to.splice_from(&pipe_r, left).await {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(m) => left -= m,
                Err(e) if total == 0 && splice_unsupported(&e) => {
                    // The bytes already in the pipe must not be lost: hand them over
                    // with a plain write, then go on with the buffered copy.
                    let mut buf = vec![0u8; left];
                    let mut pipe = std::fs::File::from(pipe_r);
                    std::io::Read::read_exact(&mut pipe, &mut buf)?;
                    return Err(io::Error::other(SpliceFallback(buf)));
                }
                Err(e) => return Err(e),
            }
        }
        total += n as u64;
        moved.fetch_add(n as u64, Ordering::Relaxed);
        // The bytes bypassed the hvsock streams' own reads and writes: count them.
        from.count_read(n as u64);
        to.count_written(n as u64);
    }
}

/// Bytes taken into a pipe before the writing socket refused splice(2).
#[derive(Debug)]
struct SpliceFallback(Vec<u8>);

impl fmt::Display for SpliceFallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("splice(2) is not supported for this socket")
    }
}

impl std::error::Error for SpliceFallback {}

/// Everything `from` sends, to `to`: spliced, or by the buffered copy where the kernel
/// refuses splice for one of the sockets (the bytes already taken into the pipe then
/// go first). Returns the bytes moved.
pub(super) async fn copy(from: &mut Reader, to: &mut Writer, moved: &AtomicU64) -> io::Result<u64> {
    match splice_copy(from, to, moved).await {
        Ok(Some(n)) => Ok(n),
        Ok(None) => buffered_copy(from, to, &[], moved).await,
        Err(e) if e.get_ref().is_some_and(|i| i.is::<SpliceFallback>()) => {
            let head = e
                .into_inner()
                .and_then(|i| i.downcast::<SpliceFallback>().ok())
                .map(|b| b.0)
                .unwrap_or_default();
            buffered_copy(from, to, &head, moved).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::pump::forward;
    use tokio::io::AsyncReadExt;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;
    use tokio::net::{TcpStream, UnixStream};

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4096) as u8).collect()
    }

    /// TCP -> Unix through `forward` (the splice path): every byte in order, the
    /// count returned, and the half-close carried to the Unix side.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forward_splices_tcp_to_unix_and_half_closes() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (relay_side, _) = l.accept().await.unwrap();
        let (unix_in, mut unix_out) = UnixStream::pair().unwrap();
        let (r, _w) = relay_side.into_split();
        let (_r2, w) = unix_in.into_split();
        let moved = crate::relay::pump::Moved::default();
        let task = tokio::spawn(forward(
            Reader::Tcp(r),
            Writer::Unix(w),
            true,
            moved.clone(),
        ));
        let data = pattern(5 * 1024 * 1024 + 123);
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            client.write_all(&sent).await.unwrap();
            client.shutdown().await.unwrap();
            client
        });
        let mut got = Vec::new();
        unix_out.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
        assert_eq!(task.await.unwrap().unwrap().0, data.len() as u64);
        assert_eq!(moved.load(Ordering::Relaxed), data.len() as u64);
        drop(writer.await.unwrap());
    }
}
