//! The audit record of a session: one line per connection served, for the agent's log.
//!
//! [`AuditRecord`]'s `Display` is the human line; [`AuditRecord::to_json`] the JSON
//! form (one object per line); the CLI's agent logs each record (`hvsock::audit`). A
//! [`Counted`] stream gives the bytes of the connection; [`Activity::of_request`]
//! what the request ran. Peer-supplied text (argv, paths, names) is escaped in
//! the human line ([`crate::tree::escape`]: no terminal escapes reach a log viewer) and
//! JSON-escaped in the JSON form.

use crate::tree::escape;
use serde::Serialize;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a session ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activity {
    /// A command.
    Exec {
        /// Its argv.
        argv: Vec<String>,
    },
    /// An interactive login shell.
    Shell,
    /// A copy into the agent's side (`CopyTo`) to `path`.
    CopyTo {
        /// The request path.
        path: String,
    },
    /// A copy from the agent's side (`CopyFrom`) of `path`.
    CopyFrom {
        /// The request path.
        path: String,
    },
    /// Nothing ran (refused before the request was served).
    None,
}

impl Activity {
    /// What a request frame asks to run ([`Activity::None`] for any other frame).
    pub fn of_request(request: &crate::proto::Frame) -> Activity {
        use crate::proto::Frame;
        match request {
            Frame::Exec(r) => Activity::Exec {
                argv: r.argv.clone(),
            },
            Frame::Shell(_) => Activity::Shell,
            Frame::CopyTo { path, .. } => Activity::CopyTo { path: path.clone() },
            Frame::CopyFrom { path, .. } => Activity::CopyFrom { path: path.clone() },
            _ => Activity::None,
        }
    }
}

/// The human form: `exec: WORD...`, `shell`, `cp to PATH`, `cp from PATH` or
/// `(nothing ran)`, each word escaped (and quoted where it holds a space).
impl fmt::Display for Activity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activity::Exec { argv } => {
                let words: Vec<String> = argv.iter().map(|a| quote(a)).collect();
                write!(f, "exec: {}", words.join(" "))
            }
            Activity::Shell => f.write_str("shell"),
            Activity::CopyTo { path } => write!(f, "cp to {}", quote(path)),
            Activity::CopyFrom { path } => write!(f, "cp from {}", quote(path)),
            Activity::None => f.write_str("(nothing ran)"),
        }
    }
}

/// One session, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// When the session started, RFC 3339 in UTC (`2026-12-02T05:22:18Z`).
    pub time: String,
    /// The peer's partition id (VM id, CID...: the transport's form).
    pub peer_id: String,
    /// The peer partition's name, as the caller knows it (empty if unknown).
    pub peer_name: String,
    /// The authenticated user the session ran as.
    pub user: String,
    /// How the user was authenticated (`key`, `password`, `none`...).
    pub method: String,
    /// What ran.
    pub activity: Activity,
    /// The exit code (exec and shell; `None` for copies, or a session that ended
    /// without one). A signal is recorded as 128 + its number, like shells do.
    pub exit_code: Option<i32>,
    /// Bytes received from the client: the connection's, frames included (as
    /// [`Counted`] counts them).
    pub bytes_in: u64,
    /// Bytes sent to the client, likewise.
    pub bytes_out: u64,
}

impl AuditRecord {
    /// A record started now.
    pub fn now(peer_id: &str, peer_name: &str, user: &str, method: &str) -> AuditRecord {
        AuditRecord {
            time: rfc3339(SystemTime::now()),
            peer_id: peer_id.to_string(),
            peer_name: peer_name.to_string(),
            user: user.to_string(),
            method: method.to_string(),
            activity: Activity::None,
            exit_code: None,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// The JSON form, one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an audit record always serializes")
    }
}

impl fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} audit peer={}", self.time, escape(&self.peer_id))?;
        if !self.peer_name.is_empty() {
            write!(f, " ({})", escape(&self.peer_name))?;
        }
        write!(
            f,
            " user={} method={} ",
            escape(&self.user),
            escape(&self.method)
        )?;
        write!(f, "{}", self.activity)?;
        match self.exit_code {
            Some(c) => write!(f, " exit={c}")?,
            None => f.write_str(" exit=-")?,
        }
        write!(f, " in={} out={}", self.bytes_in, self.bytes_out)
    }
}

/// A word of the human line: escaped, and in double quotes when it is empty or holds
/// a space or a quote (so the words can be told apart; a backslash in it is always
/// an escape's).
fn quote(s: &str) -> String {
    let e = escape(s);
    if e.is_empty() || e.contains([' ', '"']) {
        format!("\"{}\"", e.replace('"', "\\\""))
    } else {
        e
    }
}

/// `t` as RFC 3339 in UTC, to the second (`1970-01-01T00:00:00Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of `z` days after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Bytes through a connection, counted by [`Counted`]: read from the client (in) and
/// written to it (out), frames included.
#[derive(Debug, Default)]
pub struct ByteCounts {
    read: AtomicU64,
    written: AtomicU64,
}

impl ByteCounts {
    /// Bytes read from the stream so far.
    pub fn bytes_in(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Bytes written to the stream so far.
    pub fn bytes_out(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

/// A stream that counts the bytes read from and written to it, for the audit record
/// of the session it carries (wrap the accepted stream before serving it).
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    counts: Arc<ByteCounts>,
}

impl<S> Counted<S> {
    /// Wraps `inner`; the counts stay readable after the stream is gone.
    pub fn new(inner: S) -> (Counted<S>, Arc<ByteCounts>) {
        let counts = Arc::new(ByteCounts::default());
        (
            Counted {
                inner,
                counts: counts.clone(),
            },
            counts,
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before) as u64;
        self.counts.read.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = &r {
            self.counts.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn record() -> AuditRecord {
        AuditRecord {
            time: "2026-12-02T05:22:18Z".into(),
            peer_id: "4f2a-vm".into(),
            peer_name: "build vm".into(),
            user: "builder".into(),
            method: "key".into(),
            activity: Activity::Exec {
                argv: vec!["sh".into(), "-c".into(), "echo \"hi\"".into()],
            },
            exit_code: Some(0),
            bytes_in: 3,
            bytes_out: 12,
        }
    }

    #[test]
    fn human_line() {
        assert_eq!(
            record().to_string(),
            "2026-12-02T05:22:18Z audit peer=4f2a-vm (build vm) user=builder method=key \
             exec: sh -c \"echo \\\"hi\\\"\" exit=0 in=3 out=12"
        );
        let mut r = record();
        r.peer_name.clear();
        r.activity = Activity::CopyTo {
            path: "/tmp/a b".into(),
        };
        r.exit_code = None;
        assert_eq!(
            r.to_string(),
            "2026-12-02T05:22:18Z audit peer=4f2a-vm user=builder method=key \
             cp to \"/tmp/a b\" exit=- in=3 out=12"
        );
        r.activity = Activity::Shell;
        assert!(r.to_string().contains(" shell exit=-"));
    }

    #[test]
    fn terminal_escapes_do_not_reach_the_log() {
        let mut r = record();
        r.activity = Activity::CopyFrom {
            path: "x\x1b]0;owned\x07".into(),
        };
        r.user = "a\nb".into();
        let line = r.to_string();
        assert!(!line.contains('\x1b') && !line.contains('\n'), "{line}");
        assert!(line.contains("cp from x\\u{1b}]0;owned\\u{7}"), "{line}");
    }

    #[test]
    fn json_form() {
        let v: serde_json::Value = serde_json::from_str(&record().to_json()).unwrap();
        assert_eq!(v["time"], "2026-12-02T05:22:18Z");
        assert_eq!(v["peer_name"], "build vm");
        assert_eq!(v["user"], "builder");
        assert_eq!(v["activity"]["kind"], "exec");
        assert_eq!(v["activity"]["argv"][2], "echo \"hi\"");
        assert_eq!(v["exit_code"], 0);
        assert_eq!(
            (v["bytes_in"].as_u64(), v["bytes_out"].as_u64()),
            (Some(3), Some(12))
        );
        let mut r = record();
        r.activity = Activity::Shell;
        r.exit_code = None;
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["activity"]["kind"], "shell");
        assert!(v["exit_code"].is_null());
        assert!(!r.to_json().contains('\n'));
    }

    #[test]
    fn activity_of_requests() {
        use crate::proto::{ExecRequest, Frame};
        let exec = Frame::Exec(ExecRequest {
            argv: vec!["id".into(), "-un".into()],
            ..Default::default()
        });
        assert_eq!(
            Activity::of_request(&exec),
            Activity::Exec {
                argv: vec!["id".into(), "-un".into()]
            }
        );
        let cp = Frame::CopyFrom {
            path: "/var/log".into(),
            recursive: true,
        };
        assert_eq!(
            Activity::of_request(&cp),
            Activity::CopyFrom {
                path: "/var/log".into()
            }
        );
        assert_eq!(Activity::of_request(&Frame::StdinEof), Activity::None);
    }

    #[tokio::test]
    async fn counted_streams_count_both_ways() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (a, mut b) = tokio::io::duplex(64);
        let (mut a, counts) = Counted::new(a);
        a.write_all(b"hello").await.unwrap();
        b.write_all(b"abc").await.unwrap();
        drop(b.shutdown().await);
        let mut got = Vec::new();
        a.read_to_end(&mut got).await.unwrap();
        let mut five = [0u8; 5];
        b.read_exact(&mut five).await.unwrap();
        assert_eq!((got.as_slice(), &five), (&b"abc"[..], b"hello"));
        assert_eq!((counts.bytes_in(), counts.bytes_out()), (3, 5));
    }

    #[test]
    fn rfc3339_dates() {
        let at = |s: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(4_102_444_800), "2100-01-01T00:00:00Z");
        let now = AuditRecord::now("1", "", "u", "none").time;
        assert!(now.len() == 20 && now.ends_with('Z') && now.as_bytes()[10] == b'T');
    }
}
