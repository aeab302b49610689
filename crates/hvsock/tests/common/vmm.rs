//! A test VMM speaking the Firecracker hybrid-vsock protocol on a Unix socket, with an
//! in-process "guest" that echoes on chosen ports.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How the VMM answers a good CONNECT.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    /// Firecracker: `OK <host-side local port>` (e.g. 1073741824).
    Firecracker,
    /// vhost-device-vsock / Cloud Hypervisor: `OK <port>`.
    Port,
    /// Accepts and never answers.
    Silent,
}

pub struct FakeVmm {
    pub path: PathBuf,
    pub guest_ports: Arc<Mutex<HashSet<u32>>>,
    stop: Arc<AtomicBool>,
}

impl FakeVmm {
    /// A VMM for the hybrid VM `name` (`id`), added to `f`'s table, answering `OK <port>`
    /// and with no guest ports open.
    pub fn for_vm(f: &super::common::Fixture, name: &str, id: hvsock::VmId) -> FakeVmm {
        FakeVmm::start(&f.add_hybrid(name, id), Reply::Port, &[])
    }

    pub fn start(path: &Path, reply: Reply, ports: &[u32]) -> FakeVmm {
        let listener = UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let guest_ports = Arc::new(Mutex::new(ports.iter().copied().collect::<HashSet<_>>()));
        let stop = Arc::new(AtomicBool::new(false));
        let (gp, st) = (guest_ports.clone(), stop.clone());
        thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let gp = gp.clone();
                        thread::spawn(move || serve(s, reply, gp));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(2))
                    }
                    Err(_) => return,
                }
            }
        });
        FakeVmm {
            path: path.to_owned(),
            guest_ports,
            stop,
        }
    }

    /// What the VMM does when the guest connects to host port `port`: connect to
    /// `<path>_<port>`.
    pub fn guest_connect(&self, port: u32) -> std::io::Result<UnixStream> {
        let mut p = self.path.as_os_str().to_owned();
        p.push(format!("_{port}"));
        UnixStream::connect(PathBuf::from(p))
    }

    pub fn host_socket_for(&self, port: u32) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(format!("_{port}"));
        PathBuf::from(p)
    }
}

impl Drop for FakeVmm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(s: UnixStream, reply: Reply, ports: Arc<Mutex<HashSet<u32>>>) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let Some(port) = line
        .strip_prefix("CONNECT ")
        .and_then(|p| p.trim_end().parse::<u32>().ok())
    else {
        return; // garbage: just close
    };
    if !ports.lock().unwrap().contains(&port) {
        return; // no guest listener: close
    }
    // Like vhost-device-vsock: whatever the host sends before OK is lost.
    thread::sleep(Duration::from_millis(20));
    s.set_nonblocking(true).unwrap();
    let mut junk = [0u8; 65536];
    while let Ok(n) = (&s).read(&mut junk) {
        if n == 0 {
            break;
        }
    }
    // BufReader may hold bytes read past the line: those are dropped too.
    drop(r);
    s.set_nonblocking(false).unwrap();
    let mut w = &s;
    match reply {
        Reply::Firecracker => w.write_all(b"OK 1073741824\n").unwrap(),
        Reply::Port => w.write_all(format!("OK {port}\n").as_bytes()).unwrap(),
        Reply::Silent => {
            thread::sleep(Duration::from_secs(30));
            return;
        }
    }
    // The guest application: echo until EOF, then close.
    let mut buf = vec![0u8; 65536];
    loop {
        match (&s).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if (&s).write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
}
