//! Talking to a running guest: hybrid-vsock connects and the harness agent's guest
//! commands.

use crate::{AGENT_PORT, HarnessError, Vm, io_err};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// Output of a guest command run by [`Vm::exec`].
#[derive(Debug, Clone)]
pub struct GuestOutput {
    /// Exit status (128 + signal when killed by one).
    pub status: i32,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

impl GuestOutput {
    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }
    /// Standard output as (lossy) text.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Standard error as (lossy) text.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Mean round trip of `rounds` 64-byte messages echoed by the peer of `s` (a figure for
/// test output; nothing asserts on it).
pub fn echo_rtt(s: &mut (impl Read + Write), rounds: u32) -> io::Result<Duration> {
    let mut buf = [0u8; 64];
    let t = Instant::now();
    for _ in 0..rounds {
        s.write_all(&[7u8; 64])?;
        s.read_exact(&mut buf)?;
    }
    Ok(t.elapsed() / rounds.max(1))
}

/// Connects to guest port `port` through the hybrid vsock socket `hybrid`: sends
/// `CONNECT port\n` and waits (up to `timeout`) for the `OK` line, which is consumed.
/// A closed connection or another answer means no listener (or no guest driver yet).
pub fn hybrid_connect(
    hybrid: &Path,
    port: u32,
    timeout: Duration,
) -> Result<UnixStream, HarnessError> {
    let fail = |reason: String| HarnessError::Connect { port, reason };
    let mut s = UnixStream::connect(hybrid).map_err(|e| fail(format!("connect: {e}")))?;
    s.set_read_timeout(Some(timeout))
        .and_then(|_| s.set_write_timeout(Some(timeout)))
        .map_err(|e| fail(e.to_string()))?;
    s.write_all(format!("CONNECT {port}\n").as_bytes())
        .map_err(|e| fail(format!("send: {e}")))?;
    // Byte by byte, so nothing after the line is consumed.
    let mut line = Vec::new();
    let mut b = [0u8];
    while line.last() != Some(&b'\n') {
        match s.read(&mut b) {
            Ok(0) => return Err(fail("connection closed (no listener?)".into())),
            Ok(_) if line.len() < 64 => line.push(b[0]),
            Ok(_) => return Err(fail("overlong reply".into())),
            Err(e) => return Err(fail(format!("read: {e}"))),
        }
    }
    if !line.starts_with(b"OK ") {
        return Err(fail(format!(
            "reply {:?}",
            String::from_utf8_lossy(&line).trim_end()
        )));
    }
    s.set_read_timeout(None)
        .and_then(|_| s.set_write_timeout(None))
        .map_err(|e| fail(e.to_string()))?;
    Ok(s)
}

impl Vm {
    /// One [`hybrid_connect`] to guest port `port` (10 s bound on the `OK` line).
    pub fn connect(&self, port: u32) -> Result<UnixStream, HarnessError> {
        hybrid_connect(&self.hybrid, port, Duration::from_secs(10))
    }

    /// Waits until a guest program listens on `port`: retries [`Vm::connect`] (and
    /// closes the probe connection) until `OK`, up to `timeout`. Fails early if QEMU
    /// or the backend exits.
    pub fn wait_port(&self, port: u32, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            let t = Instant::now();
            match hybrid_connect(&self.hybrid, port, Duration::from_secs(2)) {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
            if std::env::var_os("HVSOCK_VM_DEBUG").is_some() {
                eprintln!(
                    "hvsock-vm: wait_port {port}: {last} after {:?}",
                    t.elapsed()
                );
            }
            if let Some(status) = self.try_wait_qemu() {
                return Err(HarnessError::Connect {
                    port,
                    reason: format!("QEMU exited ({status})"),
                });
            }
            if let Some(status) = self.try_wait_backend() {
                return Err(HarnessError::Connect {
                    port,
                    reason: format!("vhost-device-vsock exited ({status})"),
                });
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: format!("waiting for guest port {port} (last: {last})"),
                    after: timeout,
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn agent_request(
        &self,
        mode: u8,
        script: &str,
        timeout: Duration,
    ) -> Result<UnixStream, HarnessError> {
        let mut s = self.connect(AGENT_PORT)?;
        let mut req = vec![mode];
        req.extend_from_slice(format!("{}\n", script.len()).as_bytes());
        req.extend_from_slice(script.as_bytes());
        s.set_read_timeout(Some(timeout))
            .and_then(|_| s.write_all(&req))
            .map_err(|e| io_err("send to guest agent".into(), e))?;
        Ok(s)
    }

    /// Runs `script` with `/bin/sh -c` in the guest and waits for it (60 s bound).
    pub fn exec(&self, script: &str) -> Result<GuestOutput, HarnessError> {
        self.exec_timeout(script, Duration::from_secs(60))
    }

    /// [`Vm::exec`] with a bound of `timeout`.
    pub fn exec_timeout(
        &self,
        script: &str,
        timeout: Duration,
    ) -> Result<GuestOutput, HarnessError> {
        let mut s = self.agent_request(b'X', script, timeout)?;
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).map_err(|e| {
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                HarnessError::Timeout {
                    what: format!("guest command {script:?}"),
                    after: timeout,
                }
            } else {
                io_err("read from guest agent".into(), e)
            }
        })?;
        let bad = || HarnessError::Agent(format!("bad reply to {script:?}"));
        let nl = reply.iter().position(|&b| b == b'\n').ok_or_else(bad)?;
        let head = std::str::from_utf8(&reply[..nl]).map_err(|_| bad())?;
        let nums: Vec<usize> = head
            .split(' ')
            .map(|n| n.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let [status, outlen, errlen] = nums[..] else {
            return Err(bad());
        };
        let body = &reply[nl + 1..];
        if body.len() != outlen + errlen {
            return Err(bad());
        }
        Ok(GuestOutput {
            status: status as i32,
            stdout: body[..outlen].to_vec(),
            stderr: body[outlen..].to_vec(),
        })
    }

    /// Kills guest process `pid` (SIGKILL) and waits up to 10 s until it is gone, so that
    /// what it held (a port, a device) is free again.
    pub fn kill(&self, pid: u32) -> Result<(), HarnessError> {
        self.exec(&format!(
            "kill -9 {pid} 2>/dev/null; for i in $(seq 200); do \
             kill -0 {pid} 2>/dev/null || break; sleep 0.05; done"
        ))
        .map(|_| ())
    }

    /// Starts `script` with `/bin/sh -c` in the guest in the background (its output goes
    /// to the console) and returns its guest pid.
    pub fn spawn(&self, script: &str) -> Result<u32, HarnessError> {
        let mut s = self.agent_request(b'S', script, Duration::from_secs(30))?;
        let mut reply = String::new();
        s.read_to_string(&mut reply)
            .map_err(|e| io_err("read from guest agent".into(), e))?;
        reply
            .trim()
            .parse()
            .map_err(|_| HarnessError::Agent(format!("bad spawn reply {reply:?}")))
    }
}
