//! Credit-based flow control of exec and shell sessions (protocol v2, `Credit` frames).
//!
//! The receiver of a data stream grants the sender credit (`Credit{stream, bytes}`), and
//! grants more as it has consumed what it received; the sender never sends more than it
//! holds. So the bytes buffered for a stream on the receiving side never exceed the
//! window the receiver chose, and no reader of frames ever has to wait for a process or
//! a local terminal: it can always read the next control frame and see the connection
//! end.

// The agent (Unix-only) uses all of it; the client alone (the Windows build) does not use
// the PTY's extra bytes or the gauges.
#![cfg_attr(not(unix), allow(dead_code))]

use bytes::{Bytes, BytesMut};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// A counter of bytes that one task waits on: credit available to a sender, or credit a
/// receiver has yet to grant back. One waiter at a time.
#[derive(Debug, Default)]
pub(crate) struct Credit {
    avail: AtomicU64,
    notify: Notify,
}

impl Credit {
    /// A counter starting at `n`.
    pub(crate) fn new(n: u64) -> Credit {
        Credit {
            avail: AtomicU64::new(n),
            notify: Notify::new(),
        }
    }

    /// Adds `n` and wakes the waiter.
    pub(crate) fn add(&self, n: u64) {
        if n > 0 {
            self.avail.fetch_add(n, Ordering::AcqRel);
            self.notify.notify_one();
        }
    }

    /// Adds `n` unless the total would pass `max`; `false` (nothing added) if it would.
    pub(crate) fn add_at_most(&self, n: u64, max: u64) -> bool {
        let r = self
            .avail
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                a.checked_add(n).filter(|t| *t <= max)
            });
        if r.is_ok() {
            self.notify.notify_one();
        }
        r.is_ok()
    }

    fn try_take(&self, max: u64) -> u64 {
        match self
            .avail
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                (a > 0).then(|| a - a.min(max))
            }) {
            Ok(a) => a.min(max),
            Err(_) => 0,
        }
    }

    /// Waits until the counter is above 0, then takes up to `max` (at least 1).
    /// Cancel-safe: nothing is taken unless it returns.
    pub(crate) async fn take(&self, max: u64) -> u64 {
        loop {
            let n = self.try_take(max);
            if n > 0 {
                return n;
            }
            self.notify.notified().await;
        }
    }

    /// Waits until the counter is above 0, then takes all of it. Cancel-safe.
    pub(crate) async fn take_all(&self) -> u64 {
        self.take(u64::MAX).await
    }
}

/// Bytes received for one stream, waiting for the one task that writes them out.
///
/// Payloads are copied in and coalesced, so what it holds is the bytes themselves
/// (never a queue entry or a pinned receive buffer per frame, whatever the frame
/// sizes): at most the stream's window, plus the few uncredited bytes of
/// [`push_extra`](ByteQueue::push_extra).
#[derive(Debug, Default)]
pub(crate) struct ByteQueue {
    state: Mutex<QueueState>,
    notify: Notify,
}

#[derive(Debug, Default)]
struct QueueState {
    data: BytesMut,
    /// Bytes in `data` that no credit paid for.
    extra: u64,
    /// Such bytes taken by `pop` and not yet released.
    extra_out: u64,
    closed: bool,
}

impl ByteQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `b`; `false` (nothing appended) once the queue is closed.
    pub(crate) fn push(&self, b: &[u8]) -> bool {
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        if !b.is_empty() {
            st.data.extend_from_slice(b);
            self.notify.notify_one();
        }
        true
    }

    /// Appends one byte that no credit paid for, unless `max` of them are already
    /// waiting or being written (or the queue is closed); `false` if it was dropped.
    pub(crate) fn push_extra(&self, b: u8, max: u64) -> bool {
        let mut st = self.lock();
        if st.closed || st.extra + st.extra_out >= max {
            return false;
        }
        st.data.extend_from_slice(&[b]);
        st.extra += 1;
        self.notify.notify_one();
        true
    }

    /// Ends the stream after what it holds.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_one();
    }

    /// Says that the extra bytes of the last [`pop`](ByteQueue::pop) are written.
    pub(crate) fn release_extra(&self, n: u64) {
        let mut st = self.lock();
        st.extra_out = st.extra_out.saturating_sub(n);
    }

    /// Waits for bytes and takes all of them, with how many of them were extra (they
    /// count against `push_extra`'s limit until released); `None` once the queue is
    /// closed and empty. Cancel-safe.
    pub(crate) async fn pop(&self) -> Option<(Bytes, u64)> {
        loop {
            {
                let mut st = self.lock();
                if !st.data.is_empty() {
                    let extra = std::mem::take(&mut st.extra);
                    st.extra_out += extra;
                    return Some((st.data.split().freeze(), extra));
                }
                if st.closed {
                    return None;
                }
            }
            self.notify.notified().await;
        }
    }
}

/// The receiving side's account of one stream: what it granted against what it got.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    granted: AtomicU64,
    received: AtomicU64,
}

impl Ledger {
    /// Records credit about to be sent to the peer (call before sending it).
    pub(crate) fn grant(&self, n: u64) {
        self.granted.fetch_add(n, Ordering::AcqRel);
    }

    /// Records `n` bytes received; `false` if that is more than was granted (a protocol
    /// error of the peer).
    pub(crate) fn receive(&self, n: u64) -> bool {
        let got = self.received.fetch_add(n, Ordering::AcqRel) + n;
        got <= self.granted.load(Ordering::Acquire)
    }
}

/// A gauge of bytes buffered by one session, feeding an agent-wide "now" sum and
/// "most ever by one session" peak.
#[derive(Debug)]
pub(crate) struct Gauge<'a> {
    mine: AtomicU64,
    now: &'a AtomicU64,
    peak: &'a AtomicU64,
}

impl<'a> Gauge<'a> {
    pub(crate) fn new(now: &'a AtomicU64, peak: &'a AtomicU64) -> Gauge<'a> {
        Gauge {
            mine: AtomicU64::new(0),
            now,
            peak,
        }
    }

    pub(crate) fn add(&self, n: u64) {
        let v = self.mine.fetch_add(n, Ordering::AcqRel) + n;
        self.now.fetch_add(n, Ordering::AcqRel);
        self.peak.fetch_max(v, Ordering::AcqRel);
    }

    pub(crate) fn sub(&self, n: u64) {
        self.mine.fetch_sub(n, Ordering::AcqRel);
        self.now.fetch_sub(n, Ordering::AcqRel);
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        let left = self.mine.swap(0, Ordering::AcqRel);
        self.now.fetch_sub(left, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn credit_take_and_limits() {
        let c = Credit::new(10);
        assert_eq!(c.take(4).await, 4);
        assert_eq!(c.take_all().await, 6);
        assert!(c.add_at_most(5, 8));
        assert!(!c.add_at_most(5, 8));
        assert_eq!(c.take_all().await, 5);
        // A waiter is woken by a later add.
        let c = std::sync::Arc::new(Credit::new(0));
        let c2 = c.clone();
        let t = tokio::spawn(async move { c2.take(100).await });
        tokio::task::yield_now().await;
        c.add(7);
        assert_eq!(t.await.unwrap(), 7);
    }

    #[tokio::test]
    async fn byte_queue_coalesces_and_bounds_extras() {
        let q = ByteQueue::default();
        assert!(q.push(b"ab"));
        assert!(q.push(b""));
        assert!(q.push_extra(4, 2));
        assert!(q.push_extra(4, 2));
        assert!(!q.push_extra(4, 2));
        assert!(q.push(b"c"));
        assert_eq!(q.pop().await, Some((Bytes::from_static(b"ab\x04\x04c"), 2)));
        // Still being written: no more room.
        assert!(!q.push_extra(4, 2));
        q.release_extra(2);
        assert!(q.push_extra(4, 2));
        assert_eq!(q.pop().await, Some((Bytes::from_static(b"\x04"), 1)));
        q.push(b"d");
        q.close();
        assert!(!q.push(b"e"));
        assert_eq!(q.pop().await, Some((Bytes::from_static(b"d"), 0)));
        assert_eq!(q.pop().await, None);
    }

    #[test]
    fn ledger_catches_overrun() {
        let l = Ledger::default();
        l.grant(10);
        assert!(l.receive(6));
        assert!(l.receive(4));
        assert!(!l.receive(1));
    }

    #[test]
    fn gauge_tracks_now_and_peak() {
        let (now, peak) = (AtomicU64::new(0), AtomicU64::new(0));
        {
            let g = Gauge::new(&now, &peak);
            g.add(5);
            g.add(3);
            g.sub(6);
            assert_eq!(now.load(Ordering::Relaxed), 2);
        }
        assert_eq!(now.load(Ordering::Relaxed), 0);
        assert_eq!(peak.load(Ordering::Relaxed), 8);
    }
}
