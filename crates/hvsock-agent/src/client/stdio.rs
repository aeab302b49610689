//! This process's own stdio for the interactive client: stdin read by a detached
//! thread, and output written to a console as valid text.

use crate::proto::DATA_CHUNK;
#[cfg(windows)]
use crate::sys;
use bytes::Bytes;
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

/// Process stdin read by a detached thread (so a blocked read never holds up the
/// runtime), as an [`AsyncRead`]. A raw Windows console (`tty`) is read as typed
/// ([`sys::ConsoleInput`](crate::sys::ConsoleInput)): std's reader would take a Ctrl-Z
/// for the end of input.
///
/// The thread starts at the first read, that is once the session runs: until then the
/// terminal is the authentication's (a password prompt reads it), and nothing typed
/// for the prompt may end up in the session.
pub(super) fn thread_stdin(tty: bool) -> impl AsyncRead + Unpin {
    ChannelReader {
        rx: None,
        tty,
        cur: Bytes::new(),
    }
}

/// Starts the thread that reads stdin into the returned channel.
fn spawn_reader(tty: bool) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    std::thread::spawn(move || {
        #[cfg(windows)]
        if tty && sys::ConsoleInput::available() {
            let mut console = sys::ConsoleInput::default();
            let mut buf = Vec::with_capacity(DATA_CHUNK);
            loop {
                buf.clear();
                match console.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if tx.blocking_send(Bytes::copy_from_slice(&buf)).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let _ = tty;
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; DATA_CHUNK];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

struct ChannelReader {
    /// The reader thread's channel, once started.
    rx: Option<mpsc::Receiver<Bytes>>,
    tty: bool,
    cur: Bytes,
}

impl AsyncRead for ChannelReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let tty = self.tty;
        while self.cur.is_empty() {
            let rx = self.rx.get_or_insert_with(|| spawn_reader(tty));
            match rx.poll_recv(cx) {
                Poll::Ready(Some(b)) => self.cur = b,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = self.cur.len().min(buf.remaining());
        buf.put_slice(&self.cur.split_to(n));
        Poll::Ready(Ok(()))
    }
}

/// Turns a byte stream into UTF-8 text: invalid sequences become U+FFFD, a sequence cut
/// at the end of one chunk is completed by the next.
#[derive(Debug, Default)]
pub(super) struct LossyUtf8 {
    /// The start of a sequence the last chunk ended in (at most 3 bytes).
    pending: Vec<u8>,
}

impl LossyUtf8 {
    /// The text of `input` (after what was pending), holding back an incomplete end.
    pub(super) fn push(&mut self, input: &[u8]) -> String {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(input);
        let mut out = String::with_capacity(buf.len());
        let mut rest = &buf[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    return out;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(good).expect("valid up to here"));
                    match e.error_len() {
                        Some(n) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &bad[n..];
                        }
                        None => {
                            self.pending = bad.to_vec();
                            return out;
                        }
                    }
                }
            }
        }
    }
}

/// The remote's output for a local stdout or stderr. On a Windows console it is made
/// valid UTF-8 first ([`LossyUtf8`]): std writes to a console with `WriteConsoleW` and
/// fails on bytes that are not UTF-8, which would end a shell session at the first
/// stray byte a remote program prints. Elsewhere (Unix, pipes, files) the bytes pass
/// through unchanged: they are the user's data.
pub(super) struct ConsoleText<W> {
    inner: W,
    /// `None`: pass the bytes through.
    text: Option<LossyUtf8>,
    out: Vec<u8>,
    at: usize,
}

impl<W: AsyncWrite + Unpin> ConsoleText<W> {
    /// `inner`, made text if it is a console (`is_terminal`) on Windows.
    pub(super) fn new(inner: W, is_terminal: bool) -> ConsoleText<W> {
        ConsoleText {
            inner,
            text: (cfg!(windows) && is_terminal).then(LossyUtf8::default),
            out: Vec::new(),
            at: 0,
        }
    }

    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while self.at < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.at..]))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.at += n;
        }
        self.out.clear();
        self.at = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for ConsoleText<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        if this.text.is_none() {
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        ready!(this.poll_drain(cx))?;
        let text = this.text.as_mut().expect("checked");
        this.out = text.push(data).into_bytes();
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn lossy_text_completes_split_sequences_and_replaces_bad_ones() {
        let mut t = LossyUtf8::default();
        let e = "é".as_bytes();
        assert_eq!(t.push(&[b'a', e[0]]), "a");
        assert_eq!(t.push(&[e[1], b'b']), "éb");
        assert_eq!(t.push(b"\xff\xfex"), "\u{fffd}\u{fffd}x");
        assert_eq!(t.push(b"\xe2\x82"), "");
        assert_eq!(t.push(b"\xac"), "€");
    }

    #[tokio::test]
    async fn console_text_converts_only_a_windows_console() {
        for console in [false, true] {
            let mut w = ConsoleText::new(Vec::new(), console);
            w.write_all(b"ok \xff").await.unwrap();
            w.flush().await.unwrap();
            let want: &[u8] = if cfg!(windows) && console {
                "ok \u{fffd}".as_bytes()
            } else {
                b"ok \xff"
            };
            assert_eq!(w.inner, want, "console={console}");
        }
    }
}
