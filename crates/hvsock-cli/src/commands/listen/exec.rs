//! `hvsock listen --exec` (Unix): each connection's socket becomes a command's stdin
//! and stdout.

use super::{PEER_ENV, accept};
use crate::backoff::Backoff;
use crate::config::Config;
use crate::messages::describe_vm;
use hvsock::{ConnectionGuard, HvAddr, HvListener, HvStream};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};

/// The commands running under --keep-open --exec, at most `max`.
struct Children {
    running: Mutex<usize>,
    ended: Condvar,
    max: usize,
}

impl Children {
    /// Waits until fewer than `max` commands run; logs once when the limit stops
    /// accepting.
    fn wait_for_room(&self) {
        let mut n = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if *n >= self.max {
            eprintln!(
                "hvsock: {n} commands running (--max-children {}); new connections wait until one ends",
                self.max
            );
        }
        while *n >= self.max {
            n = self.ended.wait(n).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn started(&self) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn ended(&self) {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        self.ended.notify_one();
    }
}

/// Starts CMD with the connection as its stdin and stdout (the socket itself, duped).
/// The guard keeps the connection counted against its partition's limit: hold it until
/// the child has exited.
fn spawn_exec(
    config: &Config,
    cmd: &[String],
    stream: HvStream,
    peer: HvAddr,
) -> io::Result<(Child, ConnectionGuard)> {
    let (out, guard) = stream.into_fd_and_guard();
    let inp = out.try_clone().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot pass the connection to {:?}: {e}", cmd[0]),
        )
    })?;
    Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::from(inp))
        .stdout(Stdio::from(out))
        .envs(config.child_env())
        .env(PEER_ENV, peer.vm_id.to_string())
        .spawn()
        .map(|child| (child, guard))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {:?}: {e}", cmd[0])))
}

/// An exit status as a process exit code (128+N for signal N, as shells do).
fn exit_code(st: ExitStatus) -> u8 {
    match (st.code(), st.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(sig)) => (128 + sig) as u8,
        _ => 1,
    }
}

fn describe_status(st: ExitStatus) -> String {
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => st.to_string(),
    }
}

/// Without --keep-open: one connection, one command; its exit status is ours.
pub(super) fn serve_one(
    config: &Config,
    cmd: &[String],
    listener: HvListener,
    verbose: bool,
    log_peer: impl Fn(HvAddr),
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (stream, peer) = accept(&listener, &mut Backoff::new());
    drop(listener);
    log_peer(peer);
    let (mut child, guard) = spawn_exec(config, cmd, stream, peer)?;
    let st = child.wait()?;
    drop(guard);
    if verbose {
        eprintln!("hvsock: {} ended: {}", cmd[0], describe_status(st));
    }
    Ok(ExitCode::from(exit_code(st)))
}

/// With --keep-open: a command per connection, at most `max_children` at once, until
/// killed.
pub(super) fn serve_each(
    config: &Config,
    cmd: &[String],
    max_children: u32,
    listener: &HvListener,
    verbose: bool,
    log_peer: impl Fn(HvAddr),
) -> ! {
    let mut backoff = Backoff::new();
    let children = Arc::new(Children {
        running: Mutex::new(0),
        ended: Condvar::new(),
        max: max_children as usize,
    });
    loop {
        // At the limit, stop accepting: connections wait in the backlog.
        children.wait_for_room();
        let (stream, peer) = accept(listener, &mut backoff);
        log_peer(peer);
        let (mut child, guard) = match spawn_exec(config, cmd, stream, peer) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("hvsock: {e}");
                continue;
            }
        };
        children.started();
        // Reap each child in its own thread; connections are served
        // concurrently. The connection stays counted until its child exits.
        let who = describe_vm(peer.vm_id, &config.dirs);
        let name = cmd[0].clone();
        let children = children.clone();
        std::thread::spawn(move || {
            match child.wait() {
                Ok(st) if verbose => {
                    eprintln!("hvsock: {name} for {who} ended: {}", describe_status(st))
                }
                Ok(_) => {}
                Err(e) => eprintln!("hvsock: waiting for a command: {e}"),
            }
            drop(guard);
            children.ended();
        });
    }
}
