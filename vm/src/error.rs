//! The harness's error type.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A host tool is missing.
    #[error("{what} not found: run vm/setup.sh (or set {var})")]
    MissingTool {
        /// The tool.
        what: String,
        /// The environment variable that overrides its location.
        var: &'static str,
    },
    /// A guest binary is not statically linked.
    #[error("{path}: not a static executable: {why}")]
    NotStatic {
        /// The file.
        path: PathBuf,
        /// Why not.
        why: String,
    },
    /// Building a static guest binary failed.
    #[error("static build of {what} failed:\n{stderr}")]
    Build {
        /// `package/bin`.
        what: String,
        /// Cargo's error output.
        stderr: String,
    },
    /// Building the kernel or initramfs image failed.
    #[error("guest image: {0}")]
    Image(String),
    /// The configuration is invalid.
    #[error("invalid VM configuration: {0}")]
    Config(String),
    /// The VM did not come up (or died); carries the guest console.
    #[error("{what}\n--- guest console ---\n{console}--- end of guest console ---")]
    Boot {
        /// What went wrong.
        what: String,
        /// The guest console log so far.
        console: String,
    },
    /// A wait ran out of time.
    #[error("{what}: timed out after {after:?}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The bound.
        after: Duration,
    },
    /// A hybrid-vsock `CONNECT` was not answered with `OK`.
    #[error("hybrid vsock CONNECT {port}: {reason}")]
    Connect {
        /// The guest port.
        port: u32,
        /// What happened instead.
        reason: String,
    },
    /// The guest agent answered something unexpected.
    #[error("guest agent: {0}")]
    Agent(String),
}

pub(crate) fn io_err(context: String, source: io::Error) -> HarnessError {
    HarnessError::Io { context, source }
}
