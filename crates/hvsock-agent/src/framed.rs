//! Reading and writing frames on async byte streams.

use crate::proto::{self, Decoder, Frame, ProtoError};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// An error reading or writing frames.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream failed.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent a malformed frame.
    #[error("malformed frame: {0}")]
    Proto(#[from] ProtoError),
    /// The stream ended in the middle of a frame.
    #[error("connection closed in the middle of a frame")]
    TruncatedStream,
}

/// Reads frames from an [`AsyncRead`].
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    buf: BytesMut,
    decoder: Decoder,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: BytesMut::with_capacity(128 * 1024),
            decoder: Decoder::new(),
        }
    }

    /// The next frame; `Ok(None)` on a clean end of stream between frames.
    ///
    /// Cancel-safe: a cancelled call loses no bytes.
    pub async fn read_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        loop {
            if let Some(f) = self.decoder.decode(&mut self.buf)? {
                return Ok(Some(f));
            }
            if self.buf.capacity() - self.buf.len() < 16 * 1024 {
                self.buf.reserve(64 * 1024);
            }
            let n = self.inner.read_buf(&mut self.buf).await?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::TruncatedStream)
                };
            }
        }
    }
}

// Only the agent (Unix) relays a connection to a copy running as a user.
#[cfg(unix)]
impl<R> FrameReader<R> {
    /// Takes the bytes read from the stream past the last frame returned (the agent
    /// relays them, then the rest of the stream, to a copy running as a user).
    pub(crate) fn take_buffered(&mut self) -> BytesMut {
        self.buf.split()
    }

    /// The stream (reads from it bypass the frames already buffered).
    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

#[cfg(unix)]
impl<W> FrameWriter<W> {
    /// The stream.
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

/// Writes frames to an [`AsyncWrite`].
#[derive(Debug)]
pub struct FrameWriter<W> {
    inner: W,
    buf: BytesMut,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// Wraps a writer.
    pub fn new(inner: W) -> Self {
        FrameWriter {
            inner,
            buf: BytesMut::with_capacity(128 * 1024),
        }
    }

    /// Encodes and writes one frame (not flushed past the stream's own buffering).
    pub async fn write_frame(&mut self, frame: &Frame) -> Result<(), FrameError> {
        self.buf.clear();
        proto::encode(frame, &mut self.buf)?;
        self.inner.write_all(&self.buf).await?;
        Ok(())
    }

    /// Writes raw bytes (used by tests to send malformed input).
    pub async fn write_raw(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        self.inner.write_all(bytes).await?;
        Ok(())
    }

    /// Flushes the stream.
    pub async fn flush(&mut self) -> Result<(), FrameError> {
        self.inner.flush().await?;
        Ok(())
    }

    /// Flushes and shuts down the write direction.
    pub async fn shutdown(&mut self) -> Result<(), FrameError> {
        self.inner.shutdown().await?;
        Ok(())
    }
}
