//! The agent wire protocol: frame types, the encoder and an incremental decoder.
//!
//! Every frame is `len: u32 BE` (bytes that follow) + `type: u8` + payload. The payload of
//! one frame is at most [`MAX_PAYLOAD`] bytes; every variable-size field has its own limit
//! (see the `MAX_*` constants). The full description is `PROTOCOL.md` in this crate.
//!
//! The decoder never panics on any input, never buffers or allocates more than one
//! frame's worth ([`MAX_FRAME`] bytes plus what the caller already buffered), and reports
//! every malformed case with a typed [`ProtoError`].
//!
//! ```
//! use bytes::BytesMut;
//! use hvsock_agent::proto::{Decoder, Frame, encode};
//!
//! let mut buf = BytesMut::new();
//! encode(&Frame::Hello { version: 1 }, &mut buf).unwrap();
//! encode(&Frame::StdinEof, &mut buf).unwrap();
//! let mut dec = Decoder::new();
//! assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::Hello { version: 1 }));
//! assert_eq!(dec.decode(&mut buf).unwrap(), Some(Frame::StdinEof));
//! assert_eq!(dec.decode(&mut buf).unwrap(), None);
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;

/// The protocol version this build speaks.
pub const VERSION: u16 = 2;
/// The 8-byte magic that starts every `Hello` payload.
pub const MAGIC: [u8; 8] = *b"HVSAGENT";
/// Largest payload of one frame (1 MiB).
pub const MAX_PAYLOAD: usize = 1 << 20;
/// Largest value of the length prefix: the type byte plus [`MAX_PAYLOAD`].
pub const MAX_FRAME: usize = MAX_PAYLOAD + 1;
/// Largest payload the senders in this crate put in one data frame (64 KiB).
pub const DATA_CHUNK: usize = 64 * 1024;
/// Longest path (UTF-8 bytes) in `Exec.cwd`, `CopyTo`, `CopyFrom`, `Dir` and `File`.
pub const MAX_PATH: usize = 4096;
/// Most argv entries of an `Exec`.
pub const MAX_ARGC: usize = 4096;
/// Largest total size of all argv strings of an `Exec` (256 KiB).
pub const MAX_ARGV_BYTES: usize = 256 * 1024;
/// Most environment entries of an `Exec` or `Shell`.
pub const MAX_ENV: usize = 1024;
/// Largest total size of all environment keys and values (256 KiB).
pub const MAX_ENV_BYTES: usize = 256 * 1024;
/// Longest `TERM` value of a `Shell`.
pub const MAX_TERM: usize = 256;
/// Longest message of an `Error` frame.
pub const MAX_MESSAGE: usize = 16 * 1024;
/// The stdin window the agent grants a session: at most this many bytes of `Stdin` are
/// ever buffered in the agent (256 KiB).
pub const STDIN_WINDOW: u32 = 256 * 1024;
/// The window the client grants for each of stdout and stderr (1 MiB; it costs only
/// the client's memory).
pub const OUTPUT_WINDOW: u32 = 1024 * 1024;
/// Most credit one side may hold for one stream (16 MiB): a `Credit` that would take a
/// stream's credit past it is a protocol error, and one `Credit` grants at most this.
pub const MAX_WINDOW: u32 = 16 << 20;

/// A data stream of an exec or shell session, as named by a `Credit` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The process's stdin (`Stdin` frames, credit granted by the agent).
    Stdin,
    /// The process's stdout or PTY output (`Stdout` frames, credit granted by the client).
    Stdout,
    /// The process's stderr (`Stderr` frames, credit granted by the client).
    Stderr,
}

impl Stream {
    /// The wire value (0, 1, 2).
    pub fn to_byte(self) -> u8 {
        match self {
            Stream::Stdin => 0,
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }

    /// The stream of a wire value.
    pub fn from_byte(b: u8) -> Option<Stream> {
        match b {
            0 => Some(Stream::Stdin),
            1 => Some(Stream::Stdout),
            2 => Some(Stream::Stderr),
            _ => None,
        }
    }

    /// "stdin", "stdout" or "stderr".
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdin => "stdin",
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// A terminal window size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowSize {
    /// Rows (lines).
    pub rows: u16,
    /// Columns.
    pub cols: u16,
}

/// What to run: the `Exec` request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecRequest {
    /// Program and arguments; `argv[0]` is looked up in the agent's `PATH`. Not empty.
    pub argv: Vec<String>,
    /// Extra environment variables (`KEY`, `VALUE`) added to the agent's environment.
    pub env: Vec<(String, String)>,
    /// Working directory; `None` keeps the agent's.
    pub cwd: Option<String>,
    /// Run on a pseudo-terminal (stdin/stdout/stderr all on the PTY).
    pub tty: bool,
    /// The PTY's initial window size (ignored without `tty`).
    pub window: WindowSize,
}

/// An interactive login shell on a PTY: the `Shell` request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellRequest {
    /// The client's `TERM` (e.g. `xterm-256color`), if it has one.
    pub term: Option<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Initial window size.
    pub window: WindowSize,
}

/// How a remote process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

impl ExitStatus {
    /// The shell convention: the code itself, or 128 + N for a death by signal N.
    pub fn to_exit_code(self) -> i32 {
        match self {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128 + s,
        }
    }
}

/// The code of an `Error` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    /// A malformed frame (bad length, type, field...).
    pub const PROTOCOL: ErrorCode = ErrorCode(1);
    /// The peer speaks another protocol version.
    pub const VERSION_MISMATCH: ErrorCode = ErrorCode(2);
    /// A well-formed but invalid request (unexpected frame, bad path, limits...).
    pub const BAD_REQUEST: ErrorCode = ErrorCode(3);
    /// An I/O error on the agent side.
    pub const IO: ErrorCode = ErrorCode(4);
    /// A file or directory does not exist.
    pub const NOT_FOUND: ErrorCode = ErrorCode(5);
    /// Permission denied (by the OS or by the agent's copy root).
    pub const PERMISSION_DENIED: ErrorCode = ErrorCode(6);
    /// A file's SHA-256 did not match what the sender computed.
    pub const INTEGRITY: ErrorCode = ErrorCode(7);
    /// The agent has too many connections.
    pub const BUSY: ErrorCode = ErrorCode(8);
    /// The client did not send its request in time.
    pub const TIMEOUT: ErrorCode = ErrorCode(9);
    /// The command was found but cannot be executed (shell convention 126).
    pub const CANNOT_EXECUTE: ErrorCode = ErrorCode(126);
    /// The command was not found (shell convention 127).
    pub const COMMAND_NOT_FOUND: ErrorCode = ErrorCode(127);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            ErrorCode::PROTOCOL => "protocol error",
            ErrorCode::VERSION_MISMATCH => "version mismatch",
            ErrorCode::BAD_REQUEST => "bad request",
            ErrorCode::IO => "I/O error",
            ErrorCode::NOT_FOUND => "not found",
            ErrorCode::PERMISSION_DENIED => "permission denied",
            ErrorCode::INTEGRITY => "integrity check failed",
            ErrorCode::BUSY => "busy",
            ErrorCode::TIMEOUT => "timeout",
            ErrorCode::CANNOT_EXECUTE => "cannot execute",
            ErrorCode::COMMAND_NOT_FOUND => "command not found",
            _ => return write!(f, "error {}", self.0),
        };
        f.write_str(name)
    }
}

/// One protocol frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// First frame in both directions: magic + protocol version.
    Hello {
        /// The sender's protocol version.
        version: u16,
    },
    /// Request: run a command.
    Exec(ExecRequest),
    /// Request: interactive login shell on a PTY.
    Shell(ShellRequest),
    /// Request: the client sends a file or tree, written at `path` on the agent.
    CopyTo {
        /// Destination path on the agent.
        path: String,
        /// The client may send a directory tree.
        recursive: bool,
    },
    /// Request: the agent sends the file or tree at `path`.
    CopyFrom {
        /// Source path on the agent.
        path: String,
        /// Directories are allowed (sent recursively).
        recursive: bool,
    },
    /// Client → agent: bytes for the process's stdin (or the PTY).
    Stdin(Bytes),
    /// Client → agent: stdin is at its end.
    StdinEof,
    /// Agent → client: bytes the process wrote to stdout (or the PTY).
    Stdout(Bytes),
    /// Agent → client: bytes the process wrote to stderr.
    Stderr(Bytes),
    /// Client → agent: the terminal's new window size.
    Resize(WindowSize),
    /// Client → agent: deliver signal N (1..=64) to the process group.
    Signal(u8),
    /// Agent → client: the process ended; the last frame of an exec.
    Exit(ExitStatus),
    /// Window adjust: the sender may now send `bytes` more bytes of `stream` (the agent
    /// grants stdin credit, the client stdout and stderr credit).
    Credit {
        /// The stream the credit is for.
        stream: Stream,
        /// How many more bytes (1 ..= [`MAX_WINDOW`]).
        bytes: u32,
    },
    /// Copy stream: totals announced before the entries (for progress).
    CopyTotal {
        /// Number of regular files that follow.
        files: u64,
        /// Total bytes of their contents.
        bytes: u64,
    },
    /// Copy stream: a directory (created before its entries).
    Dir {
        /// Relative path; its first component is the tree's root name.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// Copy stream: a regular file; `size` bytes of `Data` and a `FileEnd` follow.
    File {
        /// Relative path; its first component is the tree's root name.
        path: String,
        /// Permission bits.
        mode: u32,
        /// Exact content length.
        size: u64,
    },
    /// Copy stream: file content.
    Data(Bytes),
    /// Copy stream: end of a file with the SHA-256 of its content.
    FileEnd {
        /// SHA-256 of the file's bytes as the sender read them.
        sha256: [u8; 32],
    },
    /// Copy stream: the sender has sent every entry.
    CopyEnd,
    /// Copy stream: the receiver has written, verified and renamed everything.
    CopyDone {
        /// Files written.
        files: u64,
        /// Directories created or updated.
        dirs: u64,
        /// Content bytes written.
        bytes: u64,
    },
    /// An error; the sender closes the connection after it.
    Error {
        /// What kind of error.
        code: ErrorCode,
        /// Human-readable text.
        message: String,
    },
}

/// Frame type bytes.
pub mod ty {
    #![allow(missing_docs)]
    pub const HELLO: u8 = 0x01;
    pub const EXEC: u8 = 0x02;
    pub const SHELL: u8 = 0x03;
    pub const COPY_TO: u8 = 0x04;
    pub const COPY_FROM: u8 = 0x05;
    pub const STDIN: u8 = 0x10;
    pub const STDIN_EOF: u8 = 0x11;
    pub const STDOUT: u8 = 0x12;
    pub const STDERR: u8 = 0x13;
    pub const RESIZE: u8 = 0x14;
    pub const SIGNAL: u8 = 0x15;
    pub const EXIT: u8 = 0x16;
    pub const CREDIT: u8 = 0x17;
    pub const COPY_TOTAL: u8 = 0x20;
    pub const DIR: u8 = 0x21;
    pub const FILE: u8 = 0x22;
    pub const DATA: u8 = 0x23;
    pub const FILE_END: u8 = 0x24;
    pub const COPY_END: u8 = 0x25;
    pub const COPY_DONE: u8 = 0x26;
    pub const ERROR: u8 = 0x7f;
}

impl Frame {
    /// The frame's type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Frame::Hello { .. } => ty::HELLO,
            Frame::Exec(_) => ty::EXEC,
            Frame::Shell(_) => ty::SHELL,
            Frame::CopyTo { .. } => ty::COPY_TO,
            Frame::CopyFrom { .. } => ty::COPY_FROM,
            Frame::Stdin(_) => ty::STDIN,
            Frame::StdinEof => ty::STDIN_EOF,
            Frame::Stdout(_) => ty::STDOUT,
            Frame::Stderr(_) => ty::STDERR,
            Frame::Resize(_) => ty::RESIZE,
            Frame::Signal(_) => ty::SIGNAL,
            Frame::Exit(_) => ty::EXIT,
            Frame::Credit { .. } => ty::CREDIT,
            Frame::CopyTotal { .. } => ty::COPY_TOTAL,
            Frame::Dir { .. } => ty::DIR,
            Frame::File { .. } => ty::FILE,
            Frame::Data(_) => ty::DATA,
            Frame::FileEnd { .. } => ty::FILE_END,
            Frame::CopyEnd => ty::COPY_END,
            Frame::CopyDone { .. } => ty::COPY_DONE,
            Frame::Error { .. } => ty::ERROR,
        }
    }

    /// A short name for messages ("Exec", "Stdout", ...).
    pub fn name(&self) -> &'static str {
        type_name(self.type_byte())
    }

    /// Convenience constructor for an `Error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Frame {
        let mut message = message.into();
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        Frame::Error { code, message }
    }
}

/// The name of a frame type byte, or `"unknown"`.
pub fn type_name(t: u8) -> &'static str {
    match t {
        ty::HELLO => "Hello",
        ty::EXEC => "Exec",
        ty::SHELL => "Shell",
        ty::COPY_TO => "CopyTo",
        ty::COPY_FROM => "CopyFrom",
        ty::STDIN => "Stdin",
        ty::STDIN_EOF => "StdinEof",
        ty::STDOUT => "Stdout",
        ty::STDERR => "Stderr",
        ty::RESIZE => "Resize",
        ty::SIGNAL => "Signal",
        ty::EXIT => "Exit",
        ty::CREDIT => "Credit",
        ty::COPY_TOTAL => "CopyTotal",
        ty::DIR => "Dir",
        ty::FILE => "File",
        ty::DATA => "Data",
        ty::FILE_END => "FileEnd",
        ty::COPY_END => "CopyEnd",
        ty::COPY_DONE => "CopyDone",
        ty::ERROR => "Error",
        _ => "unknown",
    }
}

/// A malformed frame, or a frame that would break a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The length prefix is 0 (no type byte).
    #[error("empty frame (length 0)")]
    EmptyFrame,
    /// The length prefix is over [`MAX_FRAME`].
    #[error("frame of {len} bytes is over the limit of {max} bytes")]
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The type byte is not a known frame type.
    #[error("unknown frame type 0x{0:02x}")]
    UnknownType(u8),
    /// The payload ended inside a field.
    #[error("{frame} frame truncated in field '{field}'")]
    Truncated {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
    },
    /// The payload has bytes after the last field.
    #[error("{frame} frame has {extra} trailing bytes")]
    TrailingBytes {
        /// Frame type name.
        frame: &'static str,
        /// How many.
        extra: usize,
    },
    /// A string field is not UTF-8.
    #[error("{frame} frame: field '{field}' is not valid UTF-8")]
    BadUtf8 {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
    },
    /// A field is longer than its limit.
    #[error("{frame} frame: field '{field}' is {len} bytes, over the limit of {max}")]
    FieldTooLong {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
        /// Its size.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A list has more entries than its limit.
    #[error("{frame} frame: {count} entries in '{field}', over the limit of {max}")]
    TooMany {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
        /// The announced count.
        count: u64,
        /// The limit.
        max: usize,
    },
    /// A field has a value outside its range.
    #[error("{frame} frame: field '{field}' has invalid value {value}")]
    BadValue {
        /// Frame type name.
        frame: &'static str,
        /// Field name.
        field: &'static str,
        /// The value.
        value: u64,
    },
    /// The `Hello` frame does not start with [`MAGIC`]: the peer is not an hvsock agent
    /// or client.
    #[error("bad magic in Hello frame: the peer is not an hvsock agent/client")]
    BadMagic,
}

// ---------------------------------------------------------------------------------------
// Encoder

/// Appends the encoding of `frame` to `out`.
///
/// Fails (writing nothing) if the frame breaks a limit: the peer would reject it.
pub fn encode(frame: &Frame, out: &mut BytesMut) -> Result<(), ProtoError> {
    validate(frame)?;
    let start = out.len();
    out.put_u32(0);
    out.put_u8(frame.type_byte());
    match frame {
        Frame::Hello { version } => {
            out.put_slice(&MAGIC);
            out.put_u16(*version);
        }
        Frame::Exec(r) => {
            out.put_u8(r.tty as u8);
            put_window(out, r.window);
            out.put_u32(r.argv.len() as u32);
            for a in &r.argv {
                put_str(out, a);
            }
            put_env(out, &r.env);
            match &r.cwd {
                None => out.put_u8(0),
                Some(c) => {
                    out.put_u8(1);
                    put_str(out, c);
                }
            }
        }
        Frame::Shell(r) => {
            put_window(out, r.window);
            match &r.term {
                None => out.put_u8(0),
                Some(t) => {
                    out.put_u8(1);
                    put_str(out, t);
                }
            }
            put_env(out, &r.env);
        }
        Frame::CopyTo { path, recursive } | Frame::CopyFrom { path, recursive } => {
            out.put_u8(*recursive as u8);
            put_str(out, path);
        }
        Frame::Stdin(b) | Frame::Stdout(b) | Frame::Stderr(b) | Frame::Data(b) => {
            out.put_slice(b);
        }
        Frame::StdinEof | Frame::CopyEnd => {}
        Frame::Resize(w) => put_window(out, *w),
        Frame::Signal(s) => out.put_u8(*s),
        Frame::Exit(st) => match st {
            ExitStatus::Code(c) => {
                out.put_u8(0);
                out.put_i32(*c);
            }
            ExitStatus::Signal(s) => {
                out.put_u8(1);
                out.put_i32(*s);
            }
        },
        Frame::Credit { stream, bytes } => {
            out.put_u8(stream.to_byte());
            out.put_u32(*bytes);
        }
        Frame::CopyTotal { files, bytes } => {
            out.put_u64(*files);
            out.put_u64(*bytes);
        }
        Frame::Dir { path, mode } => {
            out.put_u32(*mode);
            put_str(out, path);
        }
        Frame::File { path, mode, size } => {
            out.put_u32(*mode);
            out.put_u64(*size);
            put_str(out, path);
        }
        Frame::FileEnd { sha256 } => out.put_slice(sha256),
        Frame::CopyDone { files, dirs, bytes } => {
            out.put_u64(*files);
            out.put_u64(*dirs);
            out.put_u64(*bytes);
        }
        Frame::Error { code, message } => {
            out.put_u16(code.0);
            put_str(out, message);
        }
    }
    let len = out.len() - start - 4;
    debug_assert!(len <= MAX_FRAME);
    out[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Encodes one frame into a fresh buffer.
pub fn encode_to_vec(frame: &Frame) -> Result<Vec<u8>, ProtoError> {
    let mut b = BytesMut::new();
    encode(frame, &mut b)?;
    Ok(b.to_vec())
}

fn put_str(out: &mut BytesMut, s: &str) {
    out.put_u32(s.len() as u32);
    out.put_slice(s.as_bytes());
}

fn put_window(out: &mut BytesMut, w: WindowSize) {
    out.put_u16(w.rows);
    out.put_u16(w.cols);
}

fn put_env(out: &mut BytesMut, env: &[(String, String)]) {
    out.put_u32(env.len() as u32);
    for (k, v) in env {
        put_str(out, k);
        put_str(out, v);
    }
}

/// Checks every limit of `frame` (the same checks the decoder makes).
pub fn validate(frame: &Frame) -> Result<(), ProtoError> {
    let name = frame.name();
    let too_long = |field, len: usize, max| {
        if len > max {
            Err(ProtoError::FieldTooLong {
                frame: name,
                field,
                len: len as u64,
                max,
            })
        } else {
            Ok(())
        }
    };
    let check_env = |env: &[(String, String)]| -> Result<(), ProtoError> {
        if env.len() > MAX_ENV {
            return Err(ProtoError::TooMany {
                frame: name,
                field: "env",
                count: env.len() as u64,
                max: MAX_ENV,
            });
        }
        let total: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
        too_long("env", total, MAX_ENV_BYTES)?;
        for (k, _) in env {
            check_env_key(name, k)?;
        }
        Ok(())
    };
    match frame {
        Frame::Exec(r) => {
            if r.argv.is_empty() {
                return Err(ProtoError::BadValue {
                    frame: name,
                    field: "argc",
                    value: 0,
                });
            }
            if r.argv.len() > MAX_ARGC {
                return Err(ProtoError::TooMany {
                    frame: name,
                    field: "argv",
                    count: r.argv.len() as u64,
                    max: MAX_ARGC,
                });
            }
            too_long("argv", r.argv.iter().map(|a| a.len()).sum(), MAX_ARGV_BYTES)?;
            for a in &r.argv {
                no_nul(name, "argv", a)?;
            }
            check_env(&r.env)?;
            if let Some(c) = &r.cwd {
                too_long("cwd", c.len(), MAX_PATH)?;
                no_nul(name, "cwd", c)?;
            }
        }
        Frame::Shell(r) => {
            if let Some(t) = &r.term {
                too_long("term", t.len(), MAX_TERM)?;
                no_nul(name, "term", t)?;
            }
            check_env(&r.env)?;
        }
        Frame::CopyTo { path, .. } | Frame::CopyFrom { path, .. } => {
            too_long("path", path.len(), MAX_PATH)?;
            no_nul(name, "path", path)?;
        }
        Frame::Dir { path, .. } | Frame::File { path, .. } => {
            too_long("path", path.len(), MAX_PATH)?;
            no_nul(name, "path", path)?;
        }
        Frame::Stdin(b) | Frame::Stdout(b) | Frame::Stderr(b) | Frame::Data(b) => {
            too_long("data", b.len(), MAX_PAYLOAD)?;
        }
        Frame::Signal(s) => check_signal(*s)?,
        Frame::Credit { bytes, .. } => check_credit(*bytes)?,
        Frame::Error { message, .. } => too_long("message", message.len(), MAX_MESSAGE)?,
        _ => {}
    }
    Ok(())
}

fn no_nul(frame: &'static str, field: &'static str, s: &str) -> Result<(), ProtoError> {
    if s.as_bytes().contains(&0) {
        Err(ProtoError::BadValue {
            frame,
            field,
            value: 0,
        })
    } else {
        Ok(())
    }
}

fn check_env_key(frame: &'static str, k: &str) -> Result<(), ProtoError> {
    if k.is_empty() || k.contains('=') || k.as_bytes().contains(&0) {
        return Err(ProtoError::BadValue {
            frame,
            field: "env key",
            value: k.len() as u64,
        });
    }
    Ok(())
}

fn check_signal(s: u8) -> Result<(), ProtoError> {
    if s == 0 || s > 64 {
        Err(ProtoError::BadValue {
            frame: "Signal",
            field: "signo",
            value: s as u64,
        })
    } else {
        Ok(())
    }
}

fn check_credit(bytes: u32) -> Result<(), ProtoError> {
    if bytes == 0 || bytes > MAX_WINDOW {
        Err(ProtoError::BadValue {
            frame: "Credit",
            field: "bytes",
            value: bytes as u64,
        })
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Decoder

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
    fn u8(&mut self, field: &'static str) -> Result<u8, ProtoError> {
        self.need(1, field)?;
        Ok(self.buf.get_u8())
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, ProtoError> {
        self.need(2, field)?;
        Ok(self.buf.get_u16())
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, ProtoError> {
        self.need(4, field)?;
        Ok(self.buf.get_u32())
    }
    fn i32(&mut self, field: &'static str) -> Result<i32, ProtoError> {
        self.need(4, field)?;
        Ok(self.buf.get_i32())
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, ProtoError> {
        self.need(8, field)?;
        Ok(self.buf.get_u64())
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
        let len = self.u32(field)? as usize;
        if len > max {
            return Err(ProtoError::FieldTooLong {
                frame: self.frame,
                field,
                len: len as u64,
                max,
            });
        }
        self.need(len, field)?;
        let bytes = self.buf.split_to(len);
        String::from_utf8(bytes.to_vec()).map_err(|_| ProtoError::BadUtf8 {
            frame: self.frame,
            field,
        })
    }
    fn count(&mut self, field: &'static str, max: usize) -> Result<usize, ProtoError> {
        let n = self.u32(field)? as usize;
        if n > max {
            return Err(ProtoError::TooMany {
                frame: self.frame,
                field,
                count: n as u64,
                max,
            });
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
        let p = self.str("path", MAX_PATH)?;
        no_nul(self.frame, "path", &p)?;
        Ok(p)
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
                let a = r.str("argv", MAX_ARGV_BYTES)?;
                no_nul(frame, "argv", &a)?;
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
            let cwd = if r.bool("cwd present")? {
                let c = r.str("cwd", MAX_PATH)?;
                no_nul(frame, "cwd", &c)?;
                Some(c)
            } else {
                None
            };
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
            let term = if r.bool("term present")? {
                let t = r.str("term", MAX_TERM)?;
                no_nul(frame, "term", &t)?;
                Some(t)
            } else {
                None
            };
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
        ty::FILE_END => {
            r.need(32, "sha256")?;
            let mut sha256 = [0u8; 32];
            r.buf.copy_to_slice(&mut sha256);
            Frame::FileEnd { sha256 }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_bytes_are_stable() {
        let v = encode_to_vec(&Frame::Hello { version: 1 }).unwrap();
        assert_eq!(
            v,
            [
                0, 0, 0, 11, 1, b'H', b'V', b'S', b'A', b'G', b'E', b'N', b'T', 0, 1
            ]
        );
    }

    #[test]
    fn over_limit_length_rejected_from_prefix() {
        let mut b = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            Decoder::new().decode(&mut b),
            Err(ProtoError::FrameTooLarge { .. })
        ));
        assert_eq!(decode_slice(&[0, 0, 0, 0]), Err(ProtoError::EmptyFrame));
    }

    #[test]
    fn typed_errors() {
        assert_eq!(
            decode_slice(&[0, 0, 0, 1, 0x99]),
            Err(ProtoError::UnknownType(0x99))
        );
        assert!(matches!(
            decode_slice(&[0, 0, 0, 3, ty::HELLO, b'H', b'V']),
            Err(ProtoError::Truncated { .. })
        ));
        assert_eq!(
            decode_slice(&[
                0, 0, 0, 11, 1, b'X', b'V', b'S', b'A', b'G', b'E', b'N', b'T', 0, 1
            ]),
            Err(ProtoError::BadMagic)
        );
        assert!(matches!(
            decode_slice(&[0, 0, 0, 2, ty::STDIN_EOF, 0]),
            Err(ProtoError::TrailingBytes { extra: 1, .. })
        ));
        // CopyTo with a non-UTF-8 path.
        assert!(matches!(
            decode_slice(&[0, 0, 0, 8, ty::COPY_TO, 0, 0, 0, 0, 2, 0xff, 0xfe]),
            Err(ProtoError::BadUtf8 { field: "path", .. })
        ));
        // CopyTo with a path over MAX_PATH.
        let mut f = vec![0, 0, 0, 6, ty::COPY_TO, 0];
        f.extend_from_slice(&((MAX_PATH as u32 + 1).to_be_bytes()));
        assert!(matches!(
            decode_slice(&f),
            Err(ProtoError::FieldTooLong { field: "path", .. })
        ));
        // Exec with too many argv entries.
        let mut f = vec![0, 0, 0, 10, ty::EXEC, 0, 0, 24, 0, 80];
        f.extend_from_slice(&(u32::MAX).to_be_bytes());
        assert!(matches!(
            decode_slice(&f),
            Err(ProtoError::TooMany { field: "argv", .. })
        ));
        assert!(matches!(
            decode_slice(&[0, 0, 0, 2, ty::SIGNAL, 0]),
            Err(ProtoError::BadValue { .. })
        ));
        // Credit: an unknown stream, no bytes, more than the maximum window.
        assert!(matches!(
            decode_slice(&[0, 0, 0, 6, ty::CREDIT, 3, 0, 0, 0, 1]),
            Err(ProtoError::BadValue {
                field: "stream",
                ..
            })
        ));
        assert!(matches!(
            decode_slice(&[0, 0, 0, 6, ty::CREDIT, 0, 0, 0, 0, 0]),
            Err(ProtoError::BadValue { field: "bytes", .. })
        ));
        assert!(matches!(
            decode_slice(&[0, 0, 0, 6, ty::CREDIT, 1, 0x01, 0, 0, 1]),
            Err(ProtoError::BadValue { field: "bytes", .. })
        ));
        assert_eq!(
            decode_slice(&[0, 0, 0, 6, ty::CREDIT, 2, 0x01, 0, 0, 0]),
            Ok(Some((
                Frame::Credit {
                    stream: Stream::Stderr,
                    bytes: MAX_WINDOW
                },
                10
            )))
        );
    }

    #[test]
    fn encode_rejects_over_limit() {
        let big = Frame::Exec(ExecRequest {
            argv: vec!["x".repeat(MAX_ARGV_BYTES + 1)],
            ..Default::default()
        });
        let mut b = BytesMut::new();
        assert!(matches!(
            encode(&big, &mut b),
            Err(ProtoError::FieldTooLong { .. })
        ));
        assert!(b.is_empty());
        assert!(encode(&Frame::Data(Bytes::from(vec![0; MAX_PAYLOAD])), &mut b).is_ok());
        assert!(encode(&Frame::Data(Bytes::from(vec![0; MAX_PAYLOAD + 1])), &mut b).is_err());
    }
}
