//! A running exec or shell session on the agent: its I/O under credit flow control, and
//! the hang-up when the client goes.
//!
//! Memory per session is bounded whatever the client or the process do: at most
//! [`STDIN_WINDOW`] bytes of stdin wait for the process (the client may not send more
//! than it was granted), and at most [`MAX_OUTPUT_BUFFERED`] bytes of output wait for the
//! connection (the agent reads the process's output only within the client's credit,
//! in chunks of at most [`DATA_CHUNK`]). The frame reader never waits for the process, so
//! `Signal`, `Resize` and the end of the connection are always seen at once.

use super::{AgentError, AgentOptions, Conn};
use crate::flow::{ByteQueue, Credit, Gauge, Ledger};
use crate::framed::FrameError;
use crate::proto::{DATA_CHUNK, ErrorCode, ExitStatus, Frame, MAX_WINDOW, STDIN_WINDOW, Stream};
use crate::sys;
use crate::tree::strip_os;
use bytes::Bytes;
use rustix::process::Signal;
use std::convert::Infallible;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// Terminal end-of-file characters (`StdinEof` on a PTY) that may wait for the process
/// at once; more are dropped. They cost no credit, so they need their own bound.
pub const MAX_PENDING_EOF: u64 = 16;

/// Output frames queued between the process and the connection, per session.
pub const OUTPUT_QUEUE: usize = 2;

/// The most output bytes one session holds in the agent: the queued frames, the one
/// being written to the connection and one waiting in each of the stdout and stderr
/// readers, each at most [`DATA_CHUNK`] (320 KiB).
pub const MAX_OUTPUT_BUFFERED: u64 = ((OUTPUT_QUEUE + 3) * DATA_CHUNK) as u64;

/// Flow-control figures of an agent's exec and shell sessions (for monitoring and
/// tests), shared through [`AgentOptions::stats`].
#[derive(Debug, Default)]
pub struct SessionStats {
    stdin_now: AtomicU64,
    stdin_peak: AtomicU64,
    output_now: AtomicU64,
    output_peak: AtomicU64,
    hangups: AtomicU64,
}

impl SessionStats {
    /// Bytes of stdin received from clients and not yet written to their processes,
    /// summed over the running sessions.
    pub fn stdin_buffered(&self) -> u64 {
        self.stdin_now.load(Ordering::Acquire)
    }

    /// The most stdin bytes one session has held at any time (at most
    /// [`STDIN_WINDOW`] + [`MAX_PENDING_EOF`]).
    pub fn max_stdin_buffered(&self) -> u64 {
        self.stdin_peak.load(Ordering::Acquire)
    }

    /// Bytes of output read from processes and not yet written to their connections,
    /// summed over the running sessions.
    pub fn output_buffered(&self) -> u64 {
        self.output_now.load(Ordering::Acquire)
    }

    /// The most output bytes one session has held at any time (at most
    /// [`MAX_OUTPUT_BUFFERED`]).
    pub fn max_output_buffered(&self) -> u64 {
        self.output_peak.load(Ordering::Acquire)
    }

    /// Sessions ended by a hang-up (the client went away or misbehaved).
    pub fn hangups(&self) -> u64 {
        self.hangups.load(Ordering::Acquire)
    }
}
/// The process's ends of its stdio, as the agent holds them.
pub(super) struct ProcIo {
    /// Its stdin (pipe or PTY master).
    pub(super) stdin: Box<dyn AsyncWrite + Unpin + Send>,
    /// Its stdout (pipe or PTY master).
    pub(super) stdout: Box<dyn AsyncRead + Unpin + Send>,
    /// Its stderr pipe (none on a PTY).
    pub(super) stderr: Option<Box<dyn AsyncRead + Unpin + Send>>,
    /// The PTY master (for window size and the foreground process group).
    pub(super) pty: Option<OwnedFd>,
}

enum InputEnd {
    /// The client closed the connection or sent an error.
    Gone,
    /// The client sent something invalid.
    Bad(ErrorCode, String),
}

/// The flow-control state of one session, shared by its I/O futures.
struct Flow<'a> {
    /// Stdin credit granted to the client against the bytes it sent.
    stdin_ledger: Ledger,
    /// Stdin bytes written to the process (or dropped) and not yet granted back.
    stdin_regrant: Credit,
    /// Output credit the client granted: stdout, stderr.
    out_credit: [Credit; 2],
    stdin_buffered: Gauge<'a>,
    output_buffered: Gauge<'a>,
}

/// Kills what is left of a session if the session's future is dropped (agent shutdown)
/// before it ended normally or by a hang-up.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0 > 0 {
            let _ = sys::kill_group(self.0, libc::SIGKILL);
            sys::signal_session(self.0, Signal::KILL);
        }
    }
}

/// Reads into `buf`; once `exited` turns true, only for what is left of `budget` (time
/// spent reading after the process exited), returning `None` when it runs out.
async fn read_budgeted(
    r: &mut (dyn AsyncRead + Unpin + Send),
    buf: &mut [u8],
    exited: &mut watch::Receiver<bool>,
    budget: &mut Duration,
) -> Option<std::io::Result<usize>> {
    let read = r.read(buf);
    tokio::pin!(read);
    if !*exited.borrow() {
        tokio::select! {
            res = &mut read => return Some(res),
            _ = exited.wait_for(|e| *e) => {}
        }
    }
    let start = tokio::time::Instant::now();
    let res = tokio::time::timeout(*budget, &mut read).await;
    *budget = budget.saturating_sub(start.elapsed());
    res.ok()
}

/// Process output to the client: reads only as much as the client has granted.
/// After the process exits it goes on until end of file, or until it has spent the
/// drain timeout reading (time waiting for the client's credit does not count).
async fn pump(
    mut r: Box<dyn AsyncRead + Unpin + Send>,
    stream: Stream,
    flow: &Flow<'_>,
    tx: mpsc::Sender<Frame>,
    mut exited: watch::Receiver<bool>,
    mut budget: Duration,
) {
    let credit = &flow.out_credit[(stream == Stream::Stderr) as usize];
    let mut buf = vec![0u8; DATA_CHUNK];
    loop {
        let n = credit.take(DATA_CHUNK as u64).await as usize;
        match read_budgeted(r.as_mut(), &mut buf[..n], &mut exited, &mut budget).await {
            Some(Ok(k)) if k > 0 => {
                credit.add((n - k) as u64);
                flow.output_buffered.add(k as u64);
                let b = Bytes::copy_from_slice(&buf[..k]);
                let f = match stream {
                    Stream::Stderr => Frame::Stderr(b),
                    _ => Frame::Stdout(b),
                };
                if tx.send(f).await.is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

/// A process's exit status as a shell reports it: its code, or 128 + the signal that
/// killed it.
fn shell_code(s: &std::process::ExitStatus) -> i32 {
    match (s.code(), s.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 255,
    }
}

/// Runs the process's I/O until it exits, then sends `Exit`; hangs up the session if
/// the client goes away or misbehaves. Returns the exit code sent in `Exit` (a signal
/// as 128 + its number).
pub(super) async fn supervise<R, W>(
    c: &mut Conn<R, W>,
    mut child: tokio::process::Child,
    io: ProcIo,
    opts: &AgentOptions,
) -> Result<Option<i32>, AgentError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // The child called setsid: its pid is its process group and session id.
    let pgid = child.id().map(|p| p as i32).unwrap_or(0);
    let mut guard = KillOnDrop(pgid);
    let ProcIo {
        stdin,
        stdout,
        stderr,
        pty,
    } = io;
    let is_tty = pty.is_some();
    let stats = &opts.stats;
    let flow = Flow {
        stdin_ledger: Ledger::default(),
        stdin_regrant: Credit::new(STDIN_WINDOW as u64),
        out_credit: [Credit::new(0), Credit::new(0)],
        stdin_buffered: Gauge::new(&stats.stdin_now, &stats.stdin_peak),
        output_buffered: Gauge::new(&stats.output_now, &stats.output_peak),
    };
    let flow = &flow;
    let (out_tx, mut out_rx) = mpsc::channel::<Frame>(OUTPUT_QUEUE);
    // Stdin for the process: at most STDIN_WINDOW bytes (the ledger refuses more) and
    // MAX_PENDING_EOF terminal end-of-file characters.
    let stdin_q = &ByteQueue::default();
    let (exited_tx, exited_rx) = watch::channel(false);
    let writer = &mut c.writer;
    let reader = &mut c.reader;

    // Frames to the client: stdin credit first, then output and finally Exit.
    let write_out = async move {
        loop {
            tokio::select! {
                biased;
                n = flow.stdin_regrant.take_all() => {
                    let n = n.min(MAX_WINDOW as u64);
                    flow.stdin_ledger.grant(n);
                    writer
                        .write_frame(&Frame::Credit { stream: Stream::Stdin, bytes: n as u32 })
                        .await?;
                }
                f = out_rx.recv() => {
                    let Some(f) = f else { break };
                    writer.write_frame(&f).await?;
                    match &f {
                        Frame::Stdout(b) | Frame::Stderr(b) => {
                            flow.output_buffered.sub(b.len() as u64);
                        }
                        _ => break,
                    }
                }
            }
        }
        writer.flush().await?;
        Ok::<_, FrameError>(())
    };

    // Frames from the client: never waits for the process.
    let pty_ref = pty.as_ref();
    let signal_target = move || -> i32 {
        pty_ref
            .and_then(|fd| sys::foreground_group(fd.as_fd()))
            .unwrap_or(pgid)
    };
    let read_in = async move {
        loop {
            match reader.read_frame().await {
                Ok(Some(Frame::Stdin(b))) => {
                    let n = b.len() as u64;
                    if !flow.stdin_ledger.receive(n) {
                        return InputEnd::Bad(
                            ErrorCode::PROTOCOL,
                            format!("{n} bytes of Stdin beyond the credit the agent granted"),
                        );
                    }
                    if stdin_q.push(&b) {
                        flow.stdin_buffered.add(n);
                    } else {
                        // After StdinEof on pipes: dropped, and the credit returned.
                        flow.stdin_regrant.add(n);
                    }
                }
                Ok(Some(Frame::StdinEof)) if is_tty => {
                    // End of input on a terminal: the VEOF character (Ctrl-D), after
                    // the bytes before it.
                    if stdin_q.push_extra(0x04, MAX_PENDING_EOF) {
                        flow.stdin_buffered.add(1);
                    }
                }
                Ok(Some(Frame::StdinEof)) => stdin_q.close(),
                Ok(Some(Frame::Resize(w))) => {
                    if let Some(fd) = pty_ref {
                        let _ = sys::set_window_size(fd.as_fd(), w);
                    }
                }
                Ok(Some(Frame::Signal(s))) => {
                    if pgid > 0 {
                        let _ = sys::kill_group(signal_target(), s as i32);
                    }
                }
                Ok(Some(Frame::Credit { stream, bytes })) if stream != Stream::Stdin => {
                    let i = (stream == Stream::Stderr) as usize;
                    if !flow.out_credit[i].add_at_most(bytes as u64, MAX_WINDOW as u64) {
                        return InputEnd::Bad(
                            ErrorCode::PROTOCOL,
                            format!(
                                "{} credit over the maximum window of {MAX_WINDOW} bytes",
                                stream.name()
                            ),
                        );
                    }
                }
                Ok(None) | Ok(Some(Frame::Error { .. })) => return InputEnd::Gone,
                Ok(Some(other)) => {
                    return InputEnd::Bad(
                        ErrorCode::BAD_REQUEST,
                        format!("unexpected {} frame while a process runs", other.name()),
                    );
                }
                Err(FrameError::Proto(p)) => {
                    return InputEnd::Bad(ErrorCode::PROTOCOL, format!("malformed frame: {p}"));
                }
                Err(_) => return InputEnd::Gone,
            }
        }
    };

    // Client stdin to the process; each byte written (or dropped once the process's
    // stdin is closed) is granted back to the client.
    let feed_stdin = async move {
        let mut stdin = Some(stdin);
        while let Some((b, extra)) = stdin_q.pop().await {
            // In chunks, each granted back once written: the client can send the next
            // bytes while the process reads these.
            let mut credited = b.len() as u64 - extra;
            for chunk in b.chunks(DATA_CHUNK) {
                if let Some(w) = stdin.as_mut()
                    && w.write_all(chunk).await.is_err()
                {
                    stdin = None;
                }
                let n = chunk.len() as u64;
                flow.stdin_buffered.sub(n);
                flow.stdin_regrant.add(n.min(credited));
                credited -= n.min(credited);
            }
            stdin_q.release_extra(extra);
        }
        // StdinEof on pipes: the process's stdin is closed.
        drop(stdin);
        std::future::pending::<Infallible>().await
    };

    // Process output to the client, then the exit status.
    let drain = opts.drain_timeout;
    let child_ref = &mut child;
    let work = async move {
        let outputs = async {
            let a = pump(
                stdout,
                Stream::Stdout,
                flow,
                out_tx.clone(),
                exited_rx.clone(),
                drain,
            );
            match stderr {
                Some(e) => {
                    let b = pump(e, Stream::Stderr, flow, out_tx.clone(), exited_rx, drain);
                    tokio::join!(a, b);
                }
                None => a.await,
            }
        };
        let waited = async {
            let s = child_ref.wait().await;
            let _ = exited_tx.send(true);
            s
        };
        let (status, ()) = tokio::join!(waited, outputs);
        let frame = match &status {
            Ok(s) => Frame::Exit(match (s.code(), s.signal()) {
                (Some(code), _) => ExitStatus::Code(code),
                (None, Some(sig)) => ExitStatus::Signal(sig),
                _ => ExitStatus::Code(255),
            }),
            Err(e) => Frame::error(
                ErrorCode::IO,
                format!("waiting for the process: {}", strip_os(e)),
            ),
        };
        let _ = out_tx.send(frame).await;
        status
    };

    // The exit code sent in `Exit`, for the caller's audit record.
    let mut exit_code = None;
    let outcome = {
        tokio::pin!(write_out, read_in, feed_stdin, work);
        let mut wait_err = None;
        let mut working = true;
        loop {
            tokio::select! {
                biased;
                w = &mut write_out => break match w {
                    Ok(()) => Outcome::Done(wait_err.take()),
                    Err(e) => Outcome::Ended(InputEnd::Gone, Some(e)),
                },
                st = &mut work, if working => {
                    working = false;
                    match st {
                        Ok(s) => exit_code = Some(shell_code(&s)),
                        Err(e) => wait_err = Some(e),
                    }
                }
                end = &mut read_in => break Outcome::Ended(end, None),
                _ = &mut feed_stdin => unreachable!("feed_stdin never completes"),
            }
        }
    };
    match outcome {
        Outcome::Done(None) => {
            guard.0 = 0;
            let _ = c.writer.shutdown().await;
            Ok(exit_code)
        }
        Outcome::Done(Some(e)) => Err(AgentError::Request {
            code: ErrorCode::IO,
            message: format!("waiting for the process: {}", strip_os(&e)),
        }),
        Outcome::Ended(end, write_err) => {
            // The client is gone or misbehaved: hang up the whole session.
            drop(pty);
            stats.hangups.fetch_add(1, Ordering::AcqRel);
            hang_up(&mut child, pgid, is_tty, opts.hangup_grace).await;
            guard.0 = 0;
            match end {
                InputEnd::Bad(code, msg) => {
                    // Bounded: a client that sends garbage may not read either.
                    match tokio::time::timeout(Duration::from_secs(5), c.fail(code, msg.clone()))
                        .await
                    {
                        Ok(e) => Err(e),
                        Err(_) => Err(AgentError::Request { code, message: msg }),
                    }
                }
                // Whether the reader saw the end first or the writer a broken pipe is a
                // race; both mean the client went away.
                InputEnd::Gone => match write_err {
                    Some(FrameError::Io(e)) if is_disconnect(e.kind()) => {
                        Err(AgentError::ClientGone)
                    }
                    Some(e) => Err(AgentError::Frame(e)),
                    None => Err(AgentError::ClientGone),
                },
            }
        }
    }
}

/// Ends a session whose client went away, as a terminal hang-up does: the process group
/// of a piped command is killed at once; on a PTY (already closed by the caller) every
/// process of the session gets SIGHUP (and SIGCONT, for stopped jobs). Whatever is
/// left of the session after `grace` is killed with SIGKILL. Returns once the session
/// has no live process (or after a last SIGKILL round).
async fn hang_up(child: &mut tokio::process::Child, sid: i32, is_tty: bool, grace: Duration) {
    if sid <= 0 {
        let _ = child.kill().await;
        return;
    }
    if !is_tty {
        let _ = sys::kill_group(sid, libc::SIGKILL);
    }
    sys::signal_session(sid, Signal::HUP);
    sys::signal_session(sid, Signal::CONT);
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        // Reap the leader as soon as it ends: a zombie is no live process.
        let _ = child.try_wait();
        if sys::session_processes(sid).is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            // Repeat: a process may fork while it is being killed.
            for _ in 0..10 {
                if sys::signal_session(sid, Signal::KILL) == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = child.kill().await;
}

/// Errors of a write to a peer that has gone.
fn is_disconnect(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        kind,
        BrokenPipe | ConnectionReset | ConnectionAborted | NotConnected
    )
}

enum Outcome {
    /// `Exit` (or the wait error) was sent.
    Done(Option<std::io::Error>),
    Ended(InputEnd, Option<FrameError>),
}
