//! The incremental decoder.

use super::ProtoError;
use super::types::*;
use super::validate::{
    check_credit, check_env_key, check_methods, check_signal, check_user, no_nul,
};
use bytes::{Buf, Bytes, BytesMut};

/// Incremental frame decoder over a growing buffer.
///
/// Feed received bytes at the end of a [`BytesMut`] and call [`Decoder::decode`] until
/// it returns `Ok(None)` (needs more bytes). A decoded frame's bytes are removed from
/// the buffer. After an error the connection should be closed: the stream cannot be
/// resynchronised.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    _priv: (),
}

impl Decoder {
    /// A new decoder.
    pub fn new() -> Decoder {
        Decoder { _priv: () }
    }

    /// Decodes one frame from the front of `buf`, if it is all there.
    ///
    /// Over-limit lengths are rejected from the 4-byte prefix alone, before any of the
    /// frame is buffered.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtoError> {
        match frame_len(buf)? {
            None => Ok(None),
            Some(len) => {
                if buf.len() < 4 + len {
                    buf.reserve(4 + len - buf.len());
                    return Ok(None);
                }
                buf.advance(4);
                let body = buf.split_to(len).freeze();
                decode_body(body).map(Some)
            }
        }
    }
}

/// Reads the length prefix at the front of `data`: `Ok(None)` if fewer than 4 bytes.
fn frame_len(data: &[u8]) -> Result<Option<usize>, ProtoError> {
    if data.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    if len == 0 {
        return Err(ProtoError::EmptyFrame);
    }
    if len > MAX_FRAME {
        return Err(ProtoError::FrameTooLarge {
            len: len as u64,
            max: MAX_FRAME,
        });
    }
    Ok(Some(len))
}

/// Decodes one frame from the front of `data` (for fuzzing and one-shot use).
///
/// Returns the frame and the number of bytes it took, or `Ok(None)` if `data` holds
/// only part of a frame.
pub fn decode_slice(data: &[u8]) -> Result<Option<(Frame, usize)>, ProtoError> {
    match frame_len(data)? {
        None => Ok(None),
        Some(len) if data.len() < 4 + len => Ok(None),
        Some(len) => {
            let body = Bytes::copy_from_slice(&data[4..4 + len]);
            decode_body(body).map(|f| Some((f, 4 + len)))
        }
    }
}

/// Decodes every complete frame in `data`, stopping at the first error (fuzz entry).
pub fn decode_all(mut data: &[u8]) -> (Vec<Frame>, Option<ProtoError>) {
    let mut frames = Vec::new();
    loop {
        match decode_slice(data) {
            Ok(Some((f, n))) => {
                frames.push(f);
                data = &data[n..];
            }
            Ok(None) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}

struct Reader {
    buf: Bytes,
    frame: &'static str,
}

impl Reader {
    fn need(&self, n: usize, field: &'static str) -> Result<(), ProtoError> {
        if self.buf.remaining() < n {
            Err(ProtoError::Truncated {
                frame: self.frame,
                field,
            })
        } else {
            Ok(())
        }
    }
    /// A fixed-size big-endian integer of `size_of::<T>()` bytes.
    fn int<T>(&mut self, field: &'static str, get: fn(&mut Bytes) -> T) -> Result<T, ProtoError> {
        self.need(std::mem::size_of::<T>(), field)?;
        Ok(get(&mut self.buf))
    }
    /// A fixed-size byte array.
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ProtoError> {
        self.need(N, field)?;
        let mut a = [0u8; N];
        self.buf.copy_to_slice(&mut a);
        Ok(a)
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, ProtoError> {
        self.int(field, Bytes::get_u8)
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, ProtoError> {
        self.int(field, Bytes::get_u16)
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, ProtoError> {
        self.int(field, Bytes::get_u32)
    }
    fn i32(&mut self, field: &'static str) -> Result<i32, ProtoError> {
        self.int(field, Bytes::get_i32)
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, ProtoError> {
        self.int(field, Bytes::get_u64)
    }
    fn bool(&mut self, field: &'static str) -> Result<bool, ProtoError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(ProtoError::BadValue {
                frame: self.frame,
                field,
                value: v as u64,
            }),
        }
    }
    fn str(&mut self, field: &'static str, max: usize) -> Result<String, ProtoError> {
        let len = self.bounded(field, max, |frame, len| ProtoError::FieldTooLong {
            frame,
            field,
            len,
            max,
        })?;
        self.need(len, field)?;
        let bytes = self.buf.split_to(len);
        String::from_utf8(bytes.to_vec()).map_err(|_| ProtoError::BadUtf8 {
            frame: self.frame,
            field,
        })
    }
    fn count(&mut self, field: &'static str, max: usize) -> Result<usize, ProtoError> {
        self.bounded(field, max, |frame, count| ProtoError::TooMany {
            frame,
            field,
            count,
            max,
        })
    }
    /// A `u32` length or count of at most `max`; else the error `too_big(frame, value)`.
    fn bounded(
        &mut self,
        field: &'static str,
        max: usize,
        too_big: impl FnOnce(&'static str, u64) -> ProtoError,
    ) -> Result<usize, ProtoError> {
        let n = self.u32(field)? as usize;
        if n > max {
            return Err(too_big(self.frame, n as u64));
        }
        Ok(n)
    }
    fn window(&mut self) -> Result<WindowSize, ProtoError> {
        Ok(WindowSize {
            rows: self.u16("rows")?,
            cols: self.u16("cols")?,
        })
    }
    fn env(&mut self) -> Result<Vec<(String, String)>, ProtoError> {
        let n = self.count("env", MAX_ENV)?;
        let mut env = Vec::new();
        let mut total = 0usize;
        for _ in 0..n {
            let k = self.str("env key", MAX_ENV_BYTES)?;
            check_env_key(self.frame, &k)?;
            let v = self.str("env value", MAX_ENV_BYTES)?;
            total += k.len() + v.len();
            if total > MAX_ENV_BYTES {
                return Err(ProtoError::FieldTooLong {
                    frame: self.frame,
                    field: "env",
                    len: total as u64,
                    max: MAX_ENV_BYTES,
                });
            }
            env.push((k, v));
        }
        Ok(env)
    }
    fn path(&mut self) -> Result<String, ProtoError> {
        self.text("path", MAX_PATH)
    }
    /// A string of at most `max` bytes without NUL.
    fn text(&mut self, field: &'static str, max: usize) -> Result<String, ProtoError> {
        let t = self.str(field, max)?;
        no_nul(self.frame, field, &t)?;
        Ok(t)
    }
    /// The `present` flag, then (when it is set) a [`text`](Self::text) `field`.
    fn opt_text(
        &mut self,
        present: &'static str,
        field: &'static str,
        max: usize,
    ) -> Result<Option<String>, ProtoError> {
        match self.bool(present)? {
            true => self.text(field, max).map(Some),
            false => Ok(None),
        }
    }
    fn rest(&mut self) -> Bytes {
        self.buf.split_off(0)
    }
    fn finish(self) -> Result<(), ProtoError> {
        if self.buf.has_remaining() {
            Err(ProtoError::TrailingBytes {
                frame: self.frame,
                extra: self.buf.remaining(),
            })
        } else {
            Ok(())
        }
    }
}

fn decode_body(mut body: Bytes) -> Result<Frame, ProtoError> {
    let t = body.get_u8();
    let frame = type_name(t);
    if frame == "unknown" {
        return Err(ProtoError::UnknownType(t));
    }
    let mut r = Reader { buf: body, frame };
    let f = match t {
        ty::HELLO => {
            r.need(MAGIC.len(), "magic")?;
            if r.buf[..MAGIC.len()] != MAGIC {
                return Err(ProtoError::BadMagic);
            }
            r.buf.advance(MAGIC.len());
            Frame::Hello {
                version: r.u16("version")?,
            }
        }
        ty::AUTH_HELLO => Frame::AuthHello {
            client_nonce: r.array("client_nonce")?,
        },
        ty::CHALLENGE => {
            let m = r.u8("methods")?;
            check_methods(m)?;
            Frame::Challenge(Challenge {
                methods: Methods(m),
                agent_nonce: r.array("agent_nonce")?,
                agent_key: r.array("agent_key")?,
                agent_sig: r.array("agent_sig")?,
            })
        }
        ty::AUTH => {
            let user = r.str("user", MAX_USER)?;
            check_user(frame, &user)?;
            let credential = match r.u8("method")? {
                1 => Credential::Key {
                    public_key: r.array("public_key")?,
                    signature: r.array("signature")?,
                },
                2 => Credential::Password(r.text("password", MAX_PASSWORD)?),
                4 => Credential::None,
                m => {
                    return Err(ProtoError::BadValue {
                        frame,
                        field: "method",
                        value: m as u64,
                    });
                }
            };
            Frame::Auth { user, credential }
        }
        ty::AUTH_OK => {
            let user = r.str("user", MAX_USER)?;
            check_user(frame, &user)?;
            Frame::AuthOk { user }
        }
        ty::EXEC => {
            let tty = r.bool("tty")?;
            let window = r.window()?;
            let argc = r.count("argv", MAX_ARGC)?;
            if argc == 0 {
                return Err(ProtoError::BadValue {
                    frame,
                    field: "argc",
                    value: 0,
                });
            }
            let mut argv = Vec::new();
            let mut total = 0usize;
            for _ in 0..argc {
                let a = r.text("argv", MAX_ARGV_BYTES)?;
                total += a.len();
                if total > MAX_ARGV_BYTES {
                    return Err(ProtoError::FieldTooLong {
                        frame,
                        field: "argv",
                        len: total as u64,
                        max: MAX_ARGV_BYTES,
                    });
                }
                argv.push(a);
            }
            let env = r.env()?;
            let cwd = r.opt_text("cwd present", "cwd", MAX_PATH)?;
            Frame::Exec(ExecRequest {
                argv,
                env,
                cwd,
                tty,
                window,
            })
        }
        ty::SHELL => {
            let window = r.window()?;
            let term = r.opt_text("term present", "term", MAX_TERM)?;
            let env = r.env()?;
            Frame::Shell(ShellRequest { term, env, window })
        }
        ty::COPY_TO | ty::COPY_FROM => {
            let recursive = r.bool("recursive")?;
            let path = r.path()?;
            if t == ty::COPY_TO {
                Frame::CopyTo { path, recursive }
            } else {
                Frame::CopyFrom { path, recursive }
            }
        }
        ty::STDIN => Frame::Stdin(r.rest()),
        ty::STDOUT => Frame::Stdout(r.rest()),
        ty::STDERR => Frame::Stderr(r.rest()),
        ty::DATA => Frame::Data(r.rest()),
        ty::STDIN_EOF => Frame::StdinEof,
        ty::COPY_END => Frame::CopyEnd,
        ty::RESIZE => Frame::Resize(r.window()?),
        ty::SIGNAL => {
            let s = r.u8("signo")?;
            check_signal(s)?;
            Frame::Signal(s)
        }
        ty::EXIT => {
            let kind = r.u8("kind")?;
            let v = r.i32("value")?;
            match kind {
                0 => Frame::Exit(ExitStatus::Code(v)),
                1 if (1..=64).contains(&v) => Frame::Exit(ExitStatus::Signal(v)),
                1 => {
                    return Err(ProtoError::BadValue {
                        frame,
                        field: "signal",
                        value: v as u32 as u64,
                    });
                }
                k => {
                    return Err(ProtoError::BadValue {
                        frame,
                        field: "kind",
                        value: k as u64,
                    });
                }
            }
        }
        ty::CREDIT => {
            let b = r.u8("stream")?;
            let stream = Stream::from_byte(b).ok_or(ProtoError::BadValue {
                frame,
                field: "stream",
                value: b as u64,
            })?;
            let bytes = r.u32("bytes")?;
            check_credit(bytes)?;
            Frame::Credit { stream, bytes }
        }
        ty::COPY_TOTAL => Frame::CopyTotal {
            files: r.u64("files")?,
            bytes: r.u64("bytes")?,
        },
        ty::DIR => {
            let mode = r.u32("mode")?;
            Frame::Dir {
                mode,
                path: r.path()?,
            }
        }
        ty::FILE => {
            let mode = r.u32("mode")?;
            let size = r.u64("size")?;
            Frame::File {
                mode,
                size,
                path: r.path()?,
            }
        }
        ty::FILE_END => Frame::FileEnd {
            sha256: r.array("sha256")?,
        },
        ty::COPY_DONE => Frame::CopyDone {
            files: r.u64("files")?,
            dirs: r.u64("dirs")?,
            bytes: r.u64("bytes")?,
        },
        ty::ERROR => {
            let code = ErrorCode(r.u16("code")?);
            Frame::Error {
                code,
                message: r.str("message", MAX_MESSAGE)?,
            }
        }
        _ => return Err(ProtoError::UnknownType(t)),
    };
    r.finish()?;
    Ok(f)
}
