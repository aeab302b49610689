//! Frame types, requests, error codes and the protocol limits.

use bytes::Bytes;
use std::fmt;

/// The protocol version this build speaks.
pub const VERSION: u16 = 3;
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
/// Longest user name in `Auth` and `AuthOk` (bytes).
pub const MAX_USER: usize = 256;
/// Longest password in `Auth` (bytes).
pub const MAX_PASSWORD: usize = 1024;
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

/// Authentication methods, as the bits of `Challenge.methods` and the `Auth.method` byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Methods(pub u8);

impl Methods {
    /// A key pair (ed25519 signature over the connection's transcript).
    pub const KEY: Methods = Methods(1);
    /// A password, checked by the agent (PAM).
    pub const PASSWORD: Methods = Methods(2);
    /// No authentication (`hvsock agent --auth none`).
    pub const NONE: Methods = Methods(4);
    /// Every defined bit.
    pub const ALL: Methods = Methods(7);

    /// Whether every method of `other` is in `self`.
    pub fn contains(self, other: Methods) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }

    /// The union.
    pub fn with(self, other: Methods) -> Methods {
        Methods(self.0 | other.0)
    }

    /// "key", "password", "none" or a comma-separated list of them.
    pub fn names(self) -> String {
        let mut v = Vec::new();
        for (m, n) in [
            (Self::KEY, "key"),
            (Self::PASSWORD, "password"),
            (Self::NONE, "none"),
        ] {
            if self.contains(m) {
                v.push(n);
            }
        }
        v.join(",")
    }
}

/// The agent's `Challenge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The methods the agent accepts (not empty, only defined bits).
    pub methods: Methods,
    /// 32 random bytes, new for each connection.
    pub agent_nonce: [u8; 32],
    /// The agent's ed25519 public key (its host key).
    pub agent_key: [u8; 32],
    /// The agent's signature of the agent transcript (see `crate::auth`).
    pub agent_sig: [u8; 64],
}

/// The proof in an `Auth` frame.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Method 1: the client's public key and its signature of the user transcript.
    Key {
        /// ed25519 public key.
        public_key: [u8; 32],
        /// Signature.
        signature: [u8; 64],
    },
    /// Method 2: the user's password.
    Password(String),
    /// Method 4: nothing.
    None,
}

impl Credential {
    /// The method this credential is for.
    pub fn method(&self) -> Methods {
        match self {
            Credential::Key { .. } => Methods::KEY,
            Credential::Password(_) => Methods::PASSWORD,
            Credential::None => Methods::NONE,
        }
    }
}

// A password never goes into a log line or a panic message.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Key { public_key, .. } => f
                .debug_struct("Key")
                .field("public_key", public_key)
                .finish_non_exhaustive(),
            Credential::Password(_) => f.write_str("Password(<redacted>)"),
            Credential::None => f.write_str("None"),
        }
    }
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
    /// Authentication failed (unknown key, bad signature, wrong password, locked out,
    /// a user this agent cannot serve).
    pub const AUTH_FAILED: ErrorCode = ErrorCode(10);
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
            ErrorCode::AUTH_FAILED => "authentication failed",
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
    /// Client → agent, right after its `Hello`: the client's nonce.
    AuthHello {
        /// 32 random bytes, new for each connection.
        client_nonce: [u8; 32],
    },
    /// Agent → client, after its `Hello`: the methods it accepts and its signed key.
    Challenge(Challenge),
    /// Client → agent: who to run as and the proof.
    Auth {
        /// The user to serve; empty for the agent's own user.
        user: String,
        /// The credential.
        credential: Credential,
    },
    /// Agent → client: authenticated; the request may follow.
    AuthOk {
        /// The user the session runs as.
        user: String,
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
    pub const AUTH_HELLO: u8 = 0x30;
    pub const CHALLENGE: u8 = 0x31;
    pub const AUTH: u8 = 0x32;
    pub const AUTH_OK: u8 = 0x33;
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
            Frame::AuthHello { .. } => ty::AUTH_HELLO,
            Frame::Challenge(_) => ty::CHALLENGE,
            Frame::Auth { .. } => ty::AUTH,
            Frame::AuthOk { .. } => ty::AUTH_OK,
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
        ty::AUTH_HELLO => "AuthHello",
        ty::CHALLENGE => "Challenge",
        ty::AUTH => "Auth",
        ty::AUTH_OK => "AuthOk",
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
