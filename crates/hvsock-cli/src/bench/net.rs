//! The sockets the bench speaks: hvsock, Unix and TCP, as targets, dialers and
//! acceptors.

use super::wire::{GREETING, Header, Mode};
use hvsock::{Context, HvAddr, HvListener, HvStream};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A connected socket of any kind the bench speaks.
pub(super) enum Sock {
    Hv(HvStream),
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Sock {
    pub(super) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Sock::Hv(s) => s.shutdown(how),
            Sock::Unix(s) => s.shutdown(how),
            Sock::Tcp(s) => s.shutdown(how),
        }
    }

    pub(super) fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Sock::Hv(s) => s.set_read_timeout(d),
            Sock::Unix(s) => s.set_read_timeout(d),
            Sock::Tcp(s) => s.set_read_timeout(d),
        }
    }
}

impl Read for &Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match *self {
            Sock::Hv(s) => (&*s).read(buf),
            Sock::Unix(s) => (&*s).read(buf),
            Sock::Tcp(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match *self {
            Sock::Hv(s) => (&*s).write(buf),
            Sock::Unix(s) => (&*s).write(buf),
            Sock::Tcp(s) => (&*s).write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A bench address as written.
#[derive(Debug, Clone)]
pub(super) enum Target {
    Hv(String),
    Unix(PathBuf),
    Tcp(String),
}

impl Target {
    pub(super) fn parse(s: &str) -> Target {
        if let Some(p) = s.strip_prefix("unix:") {
            Target::Unix(PathBuf::from(p))
        } else if let Some(a) = s.strip_prefix("tcp:") {
            Target::Tcp(a.to_string())
        } else {
            Target::Hv(s.strip_prefix("hvsock:").unwrap_or(s).to_string())
        }
    }
}

/// How a client reaches its server.
#[derive(Clone)]
pub(super) enum Dialer {
    /// The context, the address and how the user wrote it.
    Hv(Context, HvAddr, String),
    Unix(PathBuf),
    Tcp(String),
}

impl Dialer {
    pub(super) fn new(t: &Target, ctx: impl FnOnce() -> io::Result<Context>) -> io::Result<Dialer> {
        Ok(match t {
            Target::Hv(text) => {
                let ctx = ctx()?;
                let addr = hvsock::syntax::resolve_addr_in(text, ctx.dirs())
                    .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e.to_string()))?;
                Dialer::Hv(ctx, addr, text.clone())
            }
            Target::Unix(p) => Dialer::Unix(p.clone()),
            Target::Tcp(a) => Dialer::Tcp(a.clone()),
        })
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Dialer::Hv(_, _, text) => format!("hvsock:{text}"),
            Dialer::Unix(p) => format!("unix:{}", p.display()),
            Dialer::Tcp(a) => format!("tcp:{a}"),
        }
    }

    pub(super) fn connect(&self) -> io::Result<Sock> {
        Ok(match self {
            Dialer::Hv(ctx, addr, _) => Sock::Hv(ctx.connect(*addr)?),
            Dialer::Unix(p) => Sock::Unix(UnixStream::connect(p)?),
            Dialer::Tcp(a) => {
                let s = TcpStream::connect(a.as_str())?;
                s.set_nodelay(true)?;
                Sock::Tcp(s)
            }
        })
    }

    /// Connects and reads the greeting; then, except for the connect mode, sends `h`
    /// and returns once the server said yes.
    pub(super) fn open(&self, h: &Header) -> io::Result<Sock> {
        let s = self.connect()?;
        let not_bench = || {
            io::Error::new(
                ErrorKind::ConnectionAborted,
                "the server did not answer as `hvsock bench server` does",
            )
        };
        let eof = |e: io::Error| match e.kind() {
            ErrorKind::UnexpectedEof => not_bench(),
            _ => e,
        };
        let mut greeting = [0u8; 1];
        (&s).read_exact(&mut greeting).map_err(eof)?;
        if greeting[0] != GREETING {
            return Err(not_bench());
        }
        if h.mode == Mode::Connect {
            return Ok(s);
        }
        (&s).write_all(&h.encode())?;
        let mut status = [0u8; 1];
        (&s).read_exact(&mut status).map_err(eof)?;
        if status[0] != 0 {
            let mut len = [0u8; 2];
            (&s).read_exact(&mut len)?;
            let mut msg = vec![0u8; u16::from_le_bytes(len) as usize];
            (&s).read_exact(&mut msg)?;
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("the server refused: {}", String::from_utf8_lossy(&msg)),
            ));
        }
        Ok(s)
    }
}

/// A listening socket of any kind the bench speaks.
pub(super) enum Acceptor {
    Hv(Box<HvListener>),
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Acceptor {
    pub(super) fn bind(t: &Target) -> io::Result<Acceptor> {
        Ok(match t {
            Target::Hv(text) => Acceptor::Hv(Box::new(Context::from_env()?.bind(text.as_str())?)),
            Target::Unix(p) => Acceptor::Unix(bind_unix(p)?),
            Target::Tcp(a) => Acceptor::Tcp(TcpListener::bind(a.as_str())?),
        })
    }

    pub(super) fn accept(&self) -> io::Result<Sock> {
        Ok(match self {
            Acceptor::Hv(l) => Sock::Hv(l.accept()?.0),
            Acceptor::Unix(l) => Sock::Unix(l.accept()?.0),
            Acceptor::Tcp(l) => {
                let s = l.accept()?.0;
                s.set_nodelay(true)?;
                Sock::Tcp(s)
            }
        })
    }
}

/// Binds a Unix socket, replacing a stale socket file (one nobody listens on).
pub(super) fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            use std::os::unix::fs::FileTypeExt;
            let stale = std::fs::symlink_metadata(path)
                .map(|m| m.file_type().is_socket())
                .unwrap_or(false)
                && UnixStream::connect(path).is_err();
            if !stale {
                return Err(io::Error::new(
                    ErrorKind::AddrInUse,
                    format!("{} is in use", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
            UnixListener::bind(path)
        }
        r => r,
    }
}
