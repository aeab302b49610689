//! The client side of the bench: rounds of streams running a mode and what they
//! measured.

use super::net::{Dialer, Sock};
use super::report::{Latency, Report};
use super::server::drain;
use super::wire::{Direction, Header, Mode, READ_BUF, WARMUP};
use super::{DEFAULT_ROUNDS, WorkArgs};
use crate::sys;
use std::io::{self, ErrorKind, IsTerminal, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Counters the progress line reads while a run goes on.
#[derive(Default)]
pub(super) struct Progress {
    pub(super) bytes: AtomicU64,
    pub(super) ops: AtomicU64,
}

/// What one stream measured.
#[derive(Default)]
pub(super) struct StreamResult {
    pub(super) sent: u64,
    pub(super) received: u64,
    pub(super) ops: u64,
    pub(super) elapsed: Duration,
    pub(super) samples: Vec<u32>,
    pub(super) verified: u64,
    pub(super) mismatches: u64,
}

/// When a stream stops: after `count` operations, or at the deadline.
#[derive(Clone, Copy)]
pub(super) enum Until {
    Count(u64),
    Deadline(Instant),
}

impl Until {
    pub(super) fn done(&self, ops: u64) -> bool {
        match self {
            Until::Count(n) => ops >= *n,
            Until::Deadline(t) => Instant::now() >= *t,
        }
    }
}

impl WorkArgs {
    /// The message size, or the mode's default.
    pub(super) fn msg_size(&self) -> u32 {
        self.size.unwrap_or(match self.mode {
            Mode::Latency => 64,
            _ => 64 * 1024,
        })
    }

    /// How many rounds the run is cut into.
    pub(super) fn rounds(&self) -> u32 {
        self.rounds
            .unwrap_or(if self.baseline { DEFAULT_ROUNDS } else { 1 })
    }

    /// The workload of one round.
    pub(super) fn round(&self) -> WorkArgs {
        let n = self.rounds() as u64;
        WorkArgs {
            duration: self.duration / n as u32,
            count: self.count.map(|c| c.div_ceil(n)),
            ..self.clone()
        }
    }
}

/// What a run measured, before it is summed up.
#[derive(Default)]
pub(super) struct Raw {
    pub(super) all: StreamResult,
    pub(super) cpu: Duration,
}

impl Raw {
    pub(super) fn add(&mut self, r: StreamResult) {
        self.all.sent += r.sent;
        self.all.received += r.received;
        self.all.ops += r.ops;
        self.all.elapsed += r.elapsed;
        self.all.samples.extend(r.samples);
        self.all.verified += r.verified;
        self.all.mismatches += r.mismatches;
    }

    pub(super) fn report(self, dialer: &Dialer, w: &WorkArgs) -> Report {
        let all = self.all;
        let secs = all.elapsed.as_secs_f64().max(1e-9);
        Report {
            target: dialer.describe(),
            mode: w.mode,
            direction: w.direction,
            msg_size: w.msg_size(),
            parallel: w.parallel,
            rounds: w.rounds(),
            elapsed_s: secs,
            bytes_sent: all.sent,
            bytes_received: all.received,
            mb_per_s: (all.sent + all.received) as f64 / secs / 1e6,
            ops: all.ops,
            ops_per_s: all.ops as f64 / secs,
            latency_us: Latency::of(all.samples),
            verified_bytes: (w.mode == Mode::Stress).then_some(all.verified),
            checksum_errors: (w.mode == Mode::Stress).then_some(all.mismatches),
            cpu_s: self.cpu.as_secs_f64(),
        }
    }
}

/// Runs one round of `w` against `dialer` with `parallel` streams, adding to `raw`.
pub(super) fn run_round(dialer: &Dialer, w: &WorkArgs, raw: &mut Raw) -> io::Result<()> {
    let size = w.msg_size();
    let header = |seed| Header {
        mode: w.mode,
        direction: w.direction,
        size,
        seed,
    };
    let progress = Arc::new(Progress::default());
    let done = Arc::new(AtomicBool::new(false));
    let show = io::stderr().is_terminal();
    let cpu0 = sys::process_cpu_time();
    let barrier = Barrier::new(w.parallel as usize);
    let start = Instant::now();
    let results: Vec<io::Result<StreamResult>> = thread::scope(|sc| {
        if show {
            let (p, d) = (progress.clone(), done.clone());
            sc.spawn(move || progress_line(&p, &d, start));
        }
        let handles: Vec<_> = (0..w.parallel)
            .map(|i| {
                let (barrier, progress) = (&barrier, &*progress);
                sc.spawn(move || {
                    let seed = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i as u64 + 1);
                    stream(dialer, header(seed), w, barrier, progress)
                })
            })
            .collect();
        let r = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a bench thread panicked")))
            })
            .collect();
        done.store(true, Ordering::Release);
        r
    });
    if show {
        eprint!("\r\x1b[K");
    }
    raw.cpu += sys::process_cpu_time().saturating_sub(cpu0);
    // The streams ran side by side: the round took as long as the longest.
    let mut round = Raw::default();
    for r in results {
        let r = r?;
        let longest = round.all.elapsed.max(r.elapsed);
        round.add(r);
        round.all.elapsed = longest;
    }
    raw.add(round.all);
    Ok(())
}

/// Runs `w` against `dialer` alone, all its rounds.
#[cfg(test)]
pub(super) fn run_workload(dialer: &Dialer, w: &WorkArgs) -> io::Result<Report> {
    let mut raw = Raw::default();
    let round = w.round();
    for _ in 0..w.rounds() {
        run_round(dialer, &round, &mut raw)?;
    }
    Ok(raw.report(dialer, w))
}

pub(super) fn progress_line(p: &Progress, done: &AtomicBool, start: Instant) {
    let (mut last_b, mut last_o, mut last_t) = (0u64, 0u64, start);
    loop {
        // Every 250 ms, and never keeping the run waiting more than 25 ms at its end.
        for _ in 0..10 {
            if done.load(Ordering::Acquire) {
                return;
            }
            thread::sleep(Duration::from_millis(25));
        }
        let now = Instant::now();
        let (b, o) = (
            p.bytes.load(Ordering::Relaxed),
            p.ops.load(Ordering::Relaxed),
        );
        let dt = (now - last_t).as_secs_f64().max(1e-9);
        eprint!(
            "\r\x1b[K{:6.1}s  {:10.1} MB/s  {:10.0} ops/s",
            (now - start).as_secs_f64(),
            (b - last_b) as f64 / dt / 1e6,
            (o - last_o) as f64 / dt
        );
        let _ = io::stderr().flush();
        (last_b, last_o, last_t) = (b, o, now);
    }
}

/// One stream of the workload.
pub(super) fn stream(
    d: &Dialer,
    h: Header,
    w: &WorkArgs,
    barrier: &Barrier,
    p: &Progress,
) -> io::Result<StreamResult> {
    let until = |start: Instant| match w.count {
        Some(n) => Until::Count(n),
        None => Until::Deadline(start + w.duration),
    };
    match w.mode {
        Mode::Throughput => {
            let s = d.open(&h);
            barrier.wait();
            throughput(&s?, h, until(Instant::now()), p)
        }
        Mode::Latency => {
            let s = d.open(&h);
            barrier.wait();
            latency(&s?, h, until, p)
        }
        Mode::Connect => {
            barrier.wait();
            let start = Instant::now();
            let until = until(start);
            let mut r = StreamResult::default();
            while !until.done(r.ops) {
                let t = Instant::now();
                drop(d.open(&h)?);
                r.samples
                    .push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
                r.ops += 1;
                p.ops.fetch_add(1, Ordering::Relaxed);
            }
            r.elapsed = start.elapsed();
            Ok(r)
        }
        Mode::Stress => {
            barrier.wait();
            let start = Instant::now();
            let until = until(start);
            let mut r = StreamResult::default();
            let mut rng = Rng(h.seed);
            while !until.done(r.ops) {
                let seed = rng.next();
                let len = h.size as u64 * (1 + rng.next() % 16);
                let s = d.open(&Header { seed, ..h })?;
                let (ok, n) = stress_one(&s, seed, len, h.size, p)?;
                r.sent += n;
                r.received += n;
                if ok {
                    r.verified += n;
                } else {
                    r.mismatches += 1;
                }
                r.ops += 1;
                p.ops.fetch_add(1, Ordering::Relaxed);
            }
            r.elapsed = start.elapsed();
            Ok(r)
        }
    }
}

pub(super) fn throughput(
    s: &Sock,
    h: Header,
    until: Until,
    p: &Progress,
) -> io::Result<StreamResult> {
    let start = Instant::now();
    let send = |s: &Sock| -> io::Result<(u64, u64)> {
        let buf = vec![0u8; h.size as usize];
        let mut msgs = 0u64;
        while !until.done(msgs) {
            (&*s).write_all(&buf)?;
            msgs += 1;
            p.bytes.fetch_add(h.size as u64, Ordering::Relaxed);
            p.ops.fetch_add(1, Ordering::Relaxed);
        }
        Ok((msgs * h.size as u64, msgs))
    };
    // Receives until the amount or time is reached; returns the bytes and when.
    let receive = |s: &Sock| -> io::Result<(u64, Duration)> {
        let want = match until {
            Until::Count(n) => n.saturating_mul(h.size as u64),
            Until::Deadline(_) => u64::MAX,
        };
        let mut buf = vec![0u8; READ_BUF.max(h.size as usize)];
        let mut got = 0u64;
        loop {
            let n = (&*s).read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server stopped sending early",
                ));
            }
            got += n as u64;
            p.bytes.fetch_add(n as u64, Ordering::Relaxed);
            if got >= want || matches!(until, Until::Deadline(t) if Instant::now() >= t) {
                return Ok((got, start.elapsed()));
            }
        }
    };
    let mut r = StreamResult::default();
    match h.direction {
        Direction::Send => {
            let (sent, msgs) = send(s)?;
            s.shutdown(Shutdown::Write)?;
            let mut n = [0u8; 8];
            (&*s).read_exact(&mut n)?;
            r.elapsed = start.elapsed();
            let got = u64::from_le_bytes(n);
            if got != sent {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    format!("sent {sent} bytes but the server received {got}"),
                ));
            }
            (r.sent, r.ops) = (sent, msgs);
        }
        Direction::Receive => {
            (r.received, r.elapsed) = receive(s)?;
            s.shutdown(Shutdown::Write)?;
            drain(s)?;
        }
        Direction::Both => {
            let (sent, received) = thread::scope(|sc| {
                let tx = sc.spawn(|| send(s));
                let rx = receive(s);
                let tx = tx.join().unwrap_or_else(|_| Err(io::Error::other("panic")));
                (tx, rx)
            });
            let (sent, msgs) = sent?;
            (r.received, r.elapsed) = received?;
            r.elapsed = r.elapsed.max(start.elapsed());
            // Only now: the server stops sending when it sees our EOF.
            s.shutdown(Shutdown::Write)?;
            drain(s)?;
            (r.sent, r.ops) = (sent, msgs);
        }
    }
    Ok(r)
}

pub(super) fn latency(
    s: &Sock,
    h: Header,
    until: impl Fn(Instant) -> Until,
    p: &Progress,
) -> io::Result<StreamResult> {
    let mut buf = vec![0x5au8; h.size as usize];
    let ping = |buf: &mut [u8]| -> io::Result<()> {
        (&*s).write_all(buf)?;
        (&*s).read_exact(buf)
    };
    for _ in 0..WARMUP {
        ping(&mut buf)?;
    }
    let start = Instant::now();
    let until = until(start);
    let mut r = StreamResult::default();
    while !until.done(r.ops) {
        let t = Instant::now();
        ping(&mut buf)?;
        r.samples
            .push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
        r.ops += 1;
        p.ops.fetch_add(1, Ordering::Relaxed);
        p.bytes.fetch_add(2 * h.size as u64, Ordering::Relaxed);
    }
    r.elapsed = start.elapsed();
    s.shutdown(Shutdown::Write)?;
    r.sent = r.ops * h.size as u64;
    r.received = r.sent;
    Ok(r)
}

/// xorshift64*: the pattern and chunk sizes of the stress test.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0 | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(super) fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

/// FNV-1a over a stream of chunks.
pub(super) struct Fnv(pub(super) u64);

impl Fnv {
    pub(super) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub(super) fn update(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ x as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// One stress connection: sends `len` pattern bytes in random chunks up to `max`
/// while reading the echo; returns whether length and checksum matched, and `len`.
pub(super) fn stress_one(
    s: &Sock,
    seed: u64,
    len: u64,
    max: u32,
    p: &Progress,
) -> io::Result<(bool, u64)> {
    thread::scope(|sc| {
        let tx = sc.spawn(move || -> io::Result<u64> {
            let mut pattern = Rng(seed);
            let mut sizes = Rng(!seed);
            let mut sum = Fnv::new();
            let mut buf = vec![0u8; max as usize];
            let mut left = len;
            while left > 0 {
                let n = (1 + sizes.next() % max as u64).min(left) as usize;
                pattern.fill(&mut buf[..n]);
                sum.update(&buf[..n]);
                (&*s).write_all(&buf[..n])?;
                left -= n as u64;
            }
            s.shutdown(Shutdown::Write)?;
            Ok(sum.0)
        });
        let mut sum = Fnv::new();
        let mut got = 0u64;
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let n = (&*s).read(&mut buf)?;
            if n == 0 {
                break;
            }
            sum.update(&buf[..n]);
            got += n as u64;
            p.bytes.fetch_add(2 * n as u64, Ordering::Relaxed);
        }
        let sent = tx
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("panic")))?;
        Ok((got == len && sum.0 == sent, len))
    })
}
