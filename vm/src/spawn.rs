//! Spawning children that die with the test process.
//!
//! Every child gets `PR_SET_PDEATHSIG(SIGKILL)`. That signal fires when the *thread*
//! that forked the child exits, so all children are forked by one long-lived spawner
//! thread: they are killed when the process dies (even by SIGKILL), never earlier.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};
use std::thread;

type Job = (Command, Sender<io::Result<Child>>);

static SPAWNER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

/// Spawns `cmd` from the spawner thread with `PR_SET_PDEATHSIG(SIGKILL)` set.
pub(crate) fn spawn(cmd: Command) -> io::Result<Child> {
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        thread::Builder::new()
            .name("hvsock-vm-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(spawn_here(&mut cmd));
                }
            })
            .expect("spawn the hvsock-vm spawner thread");
        Mutex::new(tx)
    });
    let (tx, rx) = channel();
    sender
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, tx))
        .map_err(|_| io::Error::other("spawner thread gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("spawner thread gone"))?
}

fn spawn_here(cmd: &mut Command) -> io::Result<Child> {
    crate::sys::die_with_parent(cmd);
    cmd.spawn()
}
