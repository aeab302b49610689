//! The client side of exec and shell sessions, under credit flow control.
//!
//! Four parts run side by side: local stdin is read only as far as the agent's stdin
//! credit allows; frames to the agent go out control first (`Signal`, `Resize`), then
//! credit grants, then stdin; frames from the agent are read at all times (output is
//! queued, at most the granted window, for a separate writer to the local stdout and
//! stderr, so a slow local terminal never hides `Exit` or `Error`); and that writer
//! grants the agent more credit as it has written.

use super::{ClientError, Connection, Control, Session, handshake, send_request};
use crate::flow::{ByteQueue, Credit, Ledger};
use crate::framed::FrameError;
use crate::proto::{DATA_CHUNK, ExitStatus, Frame, MAX_WINDOW, OUTPUT_WINDOW, Stream};
use bytes::Bytes;
use std::convert::Infallible;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// The general session: exec or shell, with window-size and signal events from
/// `control`. Output of a PTY session arrives on `stdout` only. Returns the remote
/// exit status.
///
/// The client holds at most [`OUTPUT_WINDOW`] bytes of each of stdout and stderr that
/// it has not yet written locally, and reads `stdin` only as far as the agent has
/// granted credit.
pub async fn run_session<S, I, O, E>(
    conn: Connection<S>,
    session: Session,
    mut stdin: I,
    mut stdout: O,
    mut stderr: E,
    mut control: mpsc::Receiver<Control>,
) -> Result<ExitStatus, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
    E: AsyncWrite + Unpin,
{
    let (mut reader, mut writer) = handshake(conn).await?;
    let request = match session {
        Session::Exec(r) => Frame::Exec(r),
        Session::Shell(r) => Frame::Shell(r),
    };
    send_request(&mut reader, &mut writer, &request).await?;

    let stdin_credit = Credit::new(0);
    let out_ledger = [Ledger::default(), Ledger::default()];
    let out_regrant = [
        Credit::new(OUTPUT_WINDOW as u64),
        Credit::new(OUTPUT_WINDOW as u64),
    ];
    let (stdin_credit, out_ledger, out_regrant) = (&stdin_credit, &out_ledger, &out_regrant);

    // Local stdin, read within the agent's credit; `None` is its end.
    let (in_tx, mut in_rx) = mpsc::channel::<Option<Bytes>>(1);
    let read_stdin = async move {
        let mut buf = vec![0u8; DATA_CHUNK];
        loop {
            let n = stdin_credit.take(DATA_CHUNK as u64).await as usize;
            match stdin.read(&mut buf[..n]).await {
                Ok(0) | Err(_) => break,
                Ok(k) => {
                    stdin_credit.add((n - k) as u64);
                    let b = Bytes::copy_from_slice(&buf[..k]);
                    if in_tx.send(Some(b)).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = in_tx.send(None).await;
        std::future::pending::<Infallible>().await
    };

    // Frames to the agent: control events first, then credit, then stdin (StdinEof
    // after the last of it).
    let write_agent = async {
        let (mut control_open, mut stdin_open) = (true, true);
        loop {
            let f = tokio::select! {
                biased;
                c = control.recv(), if control_open => match c {
                    Some(Control::Resize(w)) => Frame::Resize(w),
                    Some(Control::Signal(s)) => Frame::Signal(s),
                    None => {
                        control_open = false;
                        continue;
                    }
                },
                n = out_regrant[0].take_all() => credit_frame(Stream::Stdout, n, out_regrant, out_ledger),
                n = out_regrant[1].take_all() => credit_frame(Stream::Stderr, n, out_regrant, out_ledger),
                d = in_rx.recv(), if stdin_open => match d {
                    Some(Some(b)) => Frame::Stdin(b),
                    Some(None) => {
                        stdin_open = false;
                        Frame::StdinEof
                    }
                    None => {
                        stdin_open = false;
                        continue;
                    }
                },
            };
            if let Err(e) = writer.write_frame(&f).await {
                return e;
            }
            if let Err(e) = writer.flush().await {
                return e;
            }
        }
    };

    // Output for the local stdout/stderr; never more than the granted windows.
    let out_q = &[ByteQueue::default(), ByteQueue::default()];
    let write_local = async {
        let mut open = [true, true];
        while open[0] || open[1] {
            tokio::select! {
                o = out_q[0].pop(), if open[0] => match o {
                    Some((b, _)) => deliver(&mut stdout, &b, &out_regrant[0]).await?,
                    None => open[0] = false,
                },
                e = out_q[1].pop(), if open[1] => match e {
                    Some((b, _)) => deliver(&mut stderr, &b, &out_regrant[1]).await?,
                    None => open[1] = false,
                },
            }
        }
        Ok::<_, std::io::Error>(())
    };

    // Frames from the agent, read at all times.
    let reader = &mut reader;
    let read_agent = async move {
        loop {
            let (s, b) = match reader.read_frame().await? {
                Some(Frame::Stdout(b)) => (Stream::Stdout, b),
                Some(Frame::Stderr(b)) => (Stream::Stderr, b),
                Some(Frame::Credit {
                    stream: Stream::Stdin,
                    bytes,
                }) => {
                    if !stdin_credit.add_at_most(bytes as u64, MAX_WINDOW as u64) {
                        return Err(ClientError::Protocol(format!(
                            "the agent granted stdin credit over the maximum window of \
                             {MAX_WINDOW} bytes"
                        )));
                    }
                    continue;
                }
                Some(Frame::Exit(st)) => return Ok(st),
                Some(Frame::Error { code, message }) => {
                    return Err(ClientError::Remote { code, message });
                }
                Some(other) => {
                    return Err(ClientError::Protocol(format!(
                        "unexpected {} frame from the agent",
                        other.name()
                    )));
                }
                None => return Err(ClientError::Closed("without an exit status")),
            };
            let i = (s == Stream::Stderr) as usize;
            if !out_ledger[i].receive(b.len() as u64) {
                return Err(ClientError::Protocol(format!(
                    "the agent sent {} bytes of {} beyond the credit granted",
                    b.len(),
                    s.name()
                )));
            }
            out_q[i].push(&b);
        }
    };

    tokio::pin!(write_agent, read_stdin, read_agent, write_local);
    let mut write_err: Option<FrameError> = None;
    let mut local_done = false;
    let result = loop {
        tokio::select! {
            r = &mut read_agent => {
                out_q[0].close();
                out_q[1].close();
                break r;
            }
            l = &mut write_local, if !local_done => {
                local_done = true;
                if let Err(e) = l {
                    return Err(ClientError::Io(e));
                }
            }
            e = &mut write_agent, if write_err.is_none() => write_err = Some(e),
            _ = &mut read_stdin => unreachable!(),
        }
    };
    // What the agent sent before its exit status (or its error) is still owed to the
    // local side; after a broken or hostile connection it is dropped.
    if !local_done && matches!(result, Ok(_) | Err(ClientError::Remote { .. })) {
        let flushed = write_local.await;
        if result.is_ok() {
            flushed?;
        }
    }
    match (result, write_err) {
        (Err(ClientError::Closed(_)), Some(w)) => Err(ClientError::Frame(w)),
        (r, _) => r,
    }
}

/// A `Credit` frame for `n` bytes of `stream` (at most [`MAX_WINDOW`]; the rest is put
/// back for the next frame), recorded in the stream's ledger.
fn credit_frame(stream: Stream, n: u64, regrant: &[Credit; 2], ledger: &[Ledger; 2]) -> Frame {
    let i = (stream == Stream::Stderr) as usize;
    let bytes = n.min(MAX_WINDOW as u64);
    regrant[i].add(n - bytes);
    ledger[i].grant(bytes);
    Frame::Credit {
        stream,
        bytes: bytes as u32,
    }
}

/// Writes one chunk of the agent's output to the local `out` and, once it is out,
/// grants its bytes back to the agent (through `regrant`).
async fn deliver<W: AsyncWrite + Unpin>(
    out: &mut W,
    b: &[u8],
    regrant: &Credit,
) -> std::io::Result<()> {
    out.write_all(b).await?;
    out.flush().await?;
    regrant.add(b.len() as u64);
    Ok(())
}
