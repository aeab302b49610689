//! A test VMM speaking the Firecracker hybrid-vsock protocol on a Unix socket (or
//! OpenVMM's, which also takes `CONNECT <guid>`), with an in-process "guest" that
//! echoes on chosen ports and services.

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
    /// OpenVMM: `CONNECT <port>` answered `OK <port>`, and `CONNECT <guid>` (a
    /// service in `guest_services`) answered `OK <endpoint guid>`.
    OpenVmm,
}

/// The endpoint id OpenVMM's fake answers a `CONNECT <guid>` with.
pub const ENDPOINT: &str = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

pub struct FakeVmm {
    pub path: PathBuf,
    pub guest_ports: Arc<Mutex<HashSet<u32>>>,
    /// Services the guest listens on by GUID (lowercase text; OpenVMM only).
    pub guest_services: Arc<Mutex<HashSet<String>>>,
    /// Every request line received, without its newline.
    pub requests: Arc<Mutex<Vec<String>>>,
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
        let guest_services = Arc::new(Mutex::new(HashSet::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (gp, st) = (guest_ports.clone(), stop.clone());
        let (gs, rq) = (guest_services.clone(), requests.clone());
        thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let guest = Guest {
                            ports: gp.clone(),
                            services: gs.clone(),
                            requests: rq.clone(),
                        };
                        thread::spawn(move || serve(s, reply, guest));
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
            guest_services,
            requests,
            stop,
        }
    }

    /// What OpenVMM does when the guest connects to a host service that is no vsock
    /// port: connect to `<path>_<guid>`.
    pub fn guest_connect_guid(&self, service: hvsock::ServiceId) -> std::io::Result<UnixStream> {
        UnixStream::connect(self.host_socket_for_guid(service))
    }

    pub fn host_socket_for_guid(&self, service: hvsock::ServiceId) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(format!("_{service}"));
        PathBuf::from(p)
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

/// What the in-process guest listens on, and the VMM's log of requests.
struct Guest {
    ports: Arc<Mutex<HashSet<u32>>>,
    services: Arc<Mutex<HashSet<String>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(s: UnixStream, reply: Reply, guest: Guest) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let asked = line
        .strip_prefix("CONNECT ")
        .map(|p| p.trim_end().to_string());
    guest
        .requests
        .lock()
        .unwrap()
        .push(line.trim_end().to_string());
    let Some(asked) = asked else {
        return; // garbage: just close
    };
    // Only OpenVMM reads a GUID (lowercase or not, as its parser); the others close.
    let by_guid = matches!(reply, Reply::OpenVmm)
        && asked.parse::<hvsock::Guid>().is_ok()
        && guest
            .services
            .lock()
            .unwrap()
            .contains(&asked.to_ascii_lowercase());
    let port = asked.parse::<u32>().ok();
    let listening = by_guid || port.is_some_and(|p| guest.ports.lock().unwrap().contains(&p));
    if !listening {
        return; // no guest listener: close
    }
    let port = port.unwrap_or(0);
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
        Reply::OpenVmm if by_guid => w.write_all(format!("OK {ENDPOINT}\n").as_bytes()).unwrap(),
        Reply::OpenVmm => w.write_all(format!("OK {port}\n").as_bytes()).unwrap(),
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
