//! `hvsock bench server`: serves every mode of the bench protocol.

use super::net::{Acceptor, Sock};
use super::wire::{Direction, GREETING, HEADER_LEN, HEADER_TIMEOUT, Header, Mode, READ_BUF};
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Serves connections from `acceptor` forever. Connections are handed to a pool of
/// threads that grows when none is idle, so a short connection costs a wake-up, not
/// a thread start.
pub(super) fn serve(acceptor: Acceptor, verbose: bool) -> io::Result<()> {
    let (tx, rx): (Sender<Sock>, Receiver<Sock>) = channel();
    let rx = Arc::new(Mutex::new(rx));
    let idle = Arc::new(AtomicUsize::new(0));
    let mut pause = Duration::from_millis(10);
    loop {
        let s = match acceptor.accept() {
            Ok(s) => {
                pause = Duration::from_millis(10);
                // One byte into a fresh socket's empty buffer: never blocks.
                if (&s).write_all(&[GREETING]).is_err() {
                    continue;
                }
                s
            }
            Err(e) => {
                // Out of descriptors or an aborted connection: never give up serving.
                eprintln!("hvsock: bench: accept failed: {e}; retrying in {pause:?}");
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        if idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            if tx.send(s).is_err() {
                return Err(io::Error::other("bench workers are gone"));
            }
            continue;
        }
        let (rx, idle) = (rx.clone(), idle.clone());
        thread::Builder::new()
            .name("bench-conn".into())
            .spawn(move || {
                let mut job = Some(s);
                while let Some(s) = job.take() {
                    if let Err(e) = handle(&s)
                        && (e.kind() == ErrorKind::InvalidData || verbose)
                    {
                        eprintln!("hvsock: bench: {e}");
                    }
                    drop(s);
                    idle.fetch_add(1, Ordering::AcqRel);
                    job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv().ok();
                }
            })?;
    }
}

/// Serves one connection: header, status, then the mode.
pub(super) fn handle(s: &Sock) -> io::Result<()> {
    let mut b = [0u8; HEADER_LEN];
    s.set_read_timeout(Some(HEADER_TIMEOUT))?;
    match (&*s).read_exact(&mut b) {
        Ok(()) => {}
        // A connect-mode client, or one that connected and left (a health check).
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            refuse(s, "no bench header within 10 s");
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "bad request: no header within 10 s",
            ));
        }
        Err(e) => return Err(e),
    }
    s.set_read_timeout(None)?;
    let h = match Header::decode(&b) {
        Ok(h) => h,
        Err(msg) => {
            refuse(s, &msg);
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("bad request: {msg}"),
            ));
        }
    };
    (&*s).write_all(&[0])?;
    match h.mode {
        // A header with mode connect is accepted too: nothing follows.
        Mode::Connect => Ok(()),
        Mode::Throughput if h.direction == Direction::Send => {
            let n = drain(s)?;
            (&*s).write_all(&n.to_le_bytes())
        }
        Mode::Throughput => {
            // Write until the client shuts down writing (whatever it sends meanwhile
            // is read and dropped).
            let stop = AtomicBool::new(false);
            thread::scope(|sc| {
                sc.spawn(|| {
                    let _ = drain(s);
                    stop.store(true, Ordering::Release);
                });
                let buf = vec![0u8; h.size as usize];
                while !stop.load(Ordering::Acquire) {
                    if (&*s).write_all(&buf).is_err() {
                        break;
                    }
                }
                let _ = s.shutdown(Shutdown::Write);
            });
            Ok(())
        }
        Mode::Latency => {
            let mut buf = vec![0u8; h.size as usize];
            loop {
                match (&*s).read_exact(&mut buf) {
                    Ok(()) => (&*s).write_all(&buf)?,
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        }
        Mode::Stress => {
            let mut buf = vec![0u8; READ_BUF];
            loop {
                let n = (&*s).read(&mut buf)?;
                if n == 0 {
                    return s.shutdown(Shutdown::Write);
                }
                (&*s).write_all(&buf[..n])?;
            }
        }
    }
}

/// Reads to EOF; returns the bytes read.
pub(super) fn drain(s: &Sock) -> io::Result<u64> {
    let mut buf = vec![0u8; READ_BUF];
    let mut total = 0u64;
    loop {
        match (&*s).read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Answers an error status with `msg`.
pub(super) fn refuse(s: &Sock, msg: &str) {
    let m = &msg.as_bytes()[..msg.len().min(1024)];
    let mut v = vec![1u8];
    v.extend_from_slice(&(m.len() as u16).to_le_bytes());
    v.extend_from_slice(m);
    let _ = (&*s).write_all(&v);
}
