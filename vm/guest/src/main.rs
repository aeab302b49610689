//! `vm-guest`: the harness's helper program inside the test VM (built static).
//!
//! ```text
//! vm-guest agent PORT [HELLO]    serve the harness's command protocol on vsock PORT; once
//!                                listening, say "READY PORT" to host (CID 2) port HELLO
//! vm-guest echo PORT             echo every connection on vsock PORT (half-close at EOF)
//! vm-guest sink PORT             per connection: read a line "N", then N pattern bytes
//!                                (checked), reply "ok N\n" or "bad AT\n"
//! vm-guest send CID PORT TEXT    connect, send TEXT + "\n", half-close, print the reply
//! vm-guest source CID PORT BYTES connect, send BYTES pattern bytes, half-close, print the reply
//! vm-guest gen SEED BYTES        write a framed stream to stdout: "SEED BYTES\n", then BYTES
//!                                bytes of the generator seeded with SEED
//! vm-guest check                 read a framed stream from stdin, compare it with the
//!                                generator, print "ok BYTES CHECKSUM\n" or "bad AT\n"
//! vm-guest systemd PORT CMD ARG.. socket activation as systemd does it (the guest has no
//!                                systemd): bind and listen on vsock PORT, make it fd 3,
//!                                set LISTEN_FDS=1, LISTEN_PID=this pid and
//!                                LISTEN_FDNAMES, and exec CMD (same pid)
//! ```
//!
//! The generator (xorshift64, 8 little-endian bytes per step) and the checksum are
//! `stream::Gen` and `stream::Sum`; the host tests carry the same two definitions.
//!
//! Agent protocol (one request per connection): the host sends a mode byte (`X` run and
//! capture, `S` start in the background), the script length in decimal, `\n`, then the
//! script for `/bin/sh -c`. `X` replies `STATUS OUTLEN ERRLEN\n`, stdout, stderr; `S`
//! replies `PID\n` (its output goes to the console).

mod stream;
#[allow(unsafe_code)]
mod sys;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::Instant;

use sys::{Listener, Stream};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["agent", port] => parse(port).and_then(|p| agent(p, None)),
        ["agent", port, hello] => parse(port).and_then(|p| agent(p, Some(parse(hello)?))),
        ["echo", port] => parse(port).and_then(echo),
        ["sink", port] => parse(port).and_then(sink),
        ["send", cid, port, text] => parse(cid)
            .and_then(|c| Ok((c, parse(port)?)))
            .and_then(|(c, p)| send(c, p, text)),
        ["source", cid, port, bytes] => parse(cid)
            .and_then(|c| Ok((c, parse(port)?, parse(bytes)?)))
            .and_then(|(c, p, n)| source(c, p, n)),
        ["gen", seed, bytes] => parse(seed)
            .and_then(|s| Ok((s, parse(bytes)?)))
            .and_then(|(s, n)| stream::gen_stdout(s, n)),
        ["check"] => stream::check_stdin(),
        ["systemd", port, cmd, rest @ ..] => parse(port).and_then(|p| systemd(p, cmd, rest)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: vm-guest agent PORT [HELLO] | echo PORT | sink PORT | send CID PORT TEXT \
             | source CID PORT BYTES | gen SEED BYTES | check | systemd PORT CMD [ARG...]",
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vm-guest: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse<T: std::str::FromStr>(s: &str) -> io::Result<T> {
    s.parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("bad number {s:?}")))
}

/// What a `.socket` unit with `ListenStream=vsock::PORT` and `Accept=no` does before it
/// starts its service: the socket is bound and listening before `cmd` runs, passed as
/// fd 3, and the variables name this process, which `exec` keeps.
fn systemd(port: u32, cmd: &str, args: &[&str]) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    Listener::bind(port)?.into_fd3()?;
    let err = Command::new(cmd)
        .args(args)
        .env("LISTEN_FDS", "1")
        .env("LISTEN_PID", std::process::id().to_string())
        .env("LISTEN_FDNAMES", "hvsock-agent.socket")
        .exec();
    Err(io::Error::new(err.kind(), format!("exec {cmd}: {err}")))
}

fn agent(port: u32, hello: Option<u32>) -> io::Result<()> {
    let listener = Listener::bind(port)?;
    println!("vm-guest: agent listening on vsock port {port}");
    if let Some(hello) = hello {
        // The host waits for this before it connects: a host CONNECT racing with the
        // guest driver's start-up can wedge vhost-device-vsock 0.3.0.
        let stream = Stream::connect(2, hello)?;
        (&stream).write_all(format!("READY {port}\n").as_bytes())?;
    }
    serve(&listener, "agent request", agent_request)
}

/// Accepts forever, handling each connection on its own thread with `handle`; its
/// error is logged as `vm-guest: WHAT: ERROR`.
fn serve(
    listener: &Listener,
    what: &'static str,
    handle: fn(&Stream) -> io::Result<()>,
) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept()?;
        thread::spawn(move || {
            if let Err(e) = handle(&stream) {
                eprintln!("vm-guest: {what}: {e}");
            }
        });
    }
}

fn agent_request(stream: &Stream) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    // A readiness probe connects and closes without a request: EOF here is normal.
    if reader.read_until(b'\n', &mut head)? == 0 {
        return Ok(());
    }
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad request header");
    let (&mode, len) = head.split_first().ok_or_else(bad)?;
    let len: usize = std::str::from_utf8(len)
        .map_err(|_| bad())?
        .trim_end()
        .parse()
        .map_err(|_| bad())?;
    let mut script = vec![0; len];
    reader.read_exact(&mut script)?;
    let script = String::from_utf8(script).map_err(|_| bad())?;
    let mut out = stream;
    match mode {
        b'X' => {
            let output = Command::new("/bin/sh")
                .arg("-c")
                .arg(&script)
                .stdin(Stdio::null())
                .output()?;
            let status = output.status.code().unwrap_or_else(|| {
                use std::os::unix::process::ExitStatusExt;
                128 + output.status.signal().unwrap_or(0)
            });
            let mut reply =
                format!("{status} {} {}\n", output.stdout.len(), output.stderr.len()).into_bytes();
            reply.extend_from_slice(&output.stdout);
            reply.extend_from_slice(&output.stderr);
            out.write_all(&reply)
        }
        b'S' => {
            let mut child = Command::new("/bin/sh")
                .arg("-c")
                .arg(&script)
                .stdin(Stdio::null())
                .spawn()?;
            let pid = child.id();
            thread::spawn(move || child.wait());
            out.write_all(format!("{pid}\n").as_bytes())
        }
        _ => Err(bad()),
    }
}

fn echo(port: u32) -> io::Result<()> {
    let listener = Listener::bind(port)?;
    println!("vm-guest: echo listening on vsock port {port}");
    serve(&listener, "echo", |stream| {
        copy(stream).and_then(|_| stream.shutdown_write())
    })
}

fn sink(port: u32) -> io::Result<()> {
    let listener = Listener::bind(port)?;
    println!("vm-guest: sink listening on vsock port {port}");
    serve(&listener, "sink", sink_one)
}

fn sink_one(stream: &Stream) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let size: u64 = parse(line.trim())?;
    let expect: Vec<u8> = (0..64 * 1024 + 251).map(|i| (i % 251) as u8).collect();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let start = Instant::now();
    while total < size {
        let want = buf.len().min((size - total) as usize);
        let n = reader.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        let off = (total % 251) as usize;
        if buf[..n] != expect[off..off + n] {
            return (&*stream).write_all(format!("bad {total}\n").as_bytes());
        }
        total += n as u64;
    }
    eprintln!("vm-guest: sink got {total} bytes in {:?}", start.elapsed());
    (&*stream).write_all(format!("ok {total}\n").as_bytes())
}

/// Echoes until EOF with a 64 KiB buffer (io::copy's 8 KiB is slow under TCG).
fn copy(stream: &Stream) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = (&*stream).read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        (&*stream).write_all(&buf[..n])?;
    }
}

fn finish(stream: &Stream) -> io::Result<()> {
    stream.shutdown_write()?;
    let mut reply = Vec::new();
    (&*stream).read_to_end(&mut reply)?;
    io::stdout().write_all(&reply)
}

fn send(cid: u32, port: u32, text: &str) -> io::Result<()> {
    let stream = Stream::connect(cid, port)?;
    (&stream).write_all(format!("{text}\n").as_bytes())?;
    finish(&stream)
}

fn source(cid: u32, port: u32, bytes: u64) -> io::Result<()> {
    let stream = Stream::connect(cid, port)?;
    let start = Instant::now();
    let mut left = bytes;
    let chunk = pattern_chunk();
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        (&stream).write_all(&chunk[..n])?;
        left -= n as u64;
    }
    eprintln!("vm-guest: sent {bytes} bytes in {:?}", start.elapsed());
    finish(&stream)
}

/// 64 KiB of the repeating byte pattern `i % 251` (the host checks it).
fn pattern_chunk() -> Vec<u8> {
    // 65536 is not a multiple of 251, so chunks are cut on pattern boundaries instead.
    (0..251 * 261).map(|i| (i % 251) as u8).collect()
}
