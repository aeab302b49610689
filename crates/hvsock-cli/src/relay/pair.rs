//! One relayed connection: both directions at once, and when the pair is torn down.
//!
//! A direction ends at its sender's EOF; its half-close is passed on where the
//! receiving transport carries it. A VMM that loses half-closes (Firecracker,
//! vhost-device-vsock) turns a passed-on half-close into a full close, and one that is
//! never passed on means the peer never learns the stream ended: without care such a
//! pair stays open for ever (a relay in a guest kept about 4 fds per finished
//! connection and ran out after about 250). So once one direction has ended, the pair
//! is closed when the side that ended has closed altogether (nothing can reach it any
//! more; what it sent has been passed on), or when `--idle-timeout` passes with nothing
//! moved.

use super::pump::{Conn, Moved, Reader, forward};
use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// How often a half-finished pair looks for its ended side's hang-up and its idle time.
const WATCH: Duration = Duration::from_millis(100);

/// How a pair ended.
#[derive(Debug)]
pub(super) enum PairEnd {
    /// Both directions finished: bytes client -> TO and TO -> client.
    Done(u64, u64),
    /// The side that finished first closed altogether; the other was closed.
    Closed { which: &'static str, moved: u64 },
    /// Nothing moved for the idle timeout after one direction ended.
    Idle { moved: u64 },
}

type Direction = JoinHandle<io::Result<(u64, Reader, super::pump::Writer)>>;

/// Whether to pass a half-close on to `to` when `from` ends: where `to` carries it, or
/// where `from`'s full close could not be told from a half-close (TCP), so that a
/// closed client still closes a lossy VMM's connection as before.
fn passes_half_close(from: &Conn, to: &Conn) -> bool {
    to.carries_half_close() || !from.shows_full_close()
}

/// Relays `client` and `server` until both directions end, a side that ended hangs
/// up, one direction fails (the whole pair closes), or `idle` passes with nothing moved
/// after one direction ended.
pub(super) async fn run_pair(
    client: Conn,
    server: Conn,
    idle: Option<Duration>,
) -> io::Result<PairEnd> {
    let up_hc = passes_half_close(&client, &server);
    let down_hc = passes_half_close(&server, &client);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let moved = Moved::default();
    // One task per direction, so both can run on both cores at once.
    let mut up: Direction = tokio::spawn(forward(cr, sw, up_hc, moved.clone()));
    let mut down: Direction = tokio::spawn(forward(sr, cw, down_hc, moved.clone()));
    let joined = |r: Result<io::Result<_>, tokio::task::JoinError>| r.map_err(io::Error::other)?;
    let (first, mut other, up_first) = tokio::select! {
        r = &mut up => (joined(r), down, true),
        r = &mut down => (joined(r), up, false),
    };
    let (n_first, ended, _kept) = match first {
        Ok(x) => x,
        Err(e) => {
            // One direction failed: the whole connection closes.
            other.abort();
            let _ = other.await;
            return Err(e);
        }
    };
    let which = if up_first { "the client" } else { "TO" };
    // Bytes client -> TO first, whichever direction ended first.
    let done = |n_other| {
        if up_first {
            PairEnd::Done(n_first, n_other)
        } else {
            PairEnd::Done(n_other, n_first)
        }
    };
    let mut tick = tokio::time::interval(WATCH);
    let mut last = moved.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    let end = loop {
        tokio::select! {
            // The other direction's end first: a pair whose both directions ended is done.
            biased;
            r = &mut other => {
                let (n_other, _, _) = joined(r)?;
                break done(n_other);
            }
            _ = tick.tick() => {
                let now = moved.load(Ordering::Relaxed);
                let end = if ended.hung_up() {
                    PairEnd::Closed { which, moved: now }
                } else if now != last {
                    last = now;
                    quiet_since = Instant::now();
                    continue;
                } else if idle.is_some_and(|d| quiet_since.elapsed() >= d) {
                    PairEnd::Idle { moved: now }
                } else {
                    continue;
                };
                // The other direction may be finishing at this moment (its sender's EOF
                // passed on is what let the ended side close): one more tick for it to
                // end on its own, so such a pair is reported as done.
                if let Ok(r) = tokio::time::timeout(WATCH, &mut other).await {
                    let (n_other, _, _) = joined(r)?;
                    break done(n_other);
                }
                // Closes the other direction's halves before this returns.
                other.abort();
                let _ = (&mut other).await;
                break end;
            }
        }
    };
    Ok(end)
}
