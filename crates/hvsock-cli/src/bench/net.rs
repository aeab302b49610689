//! The sockets the bench speaks: hvsock, Unix and TCP, as targets, dialers and
//! acceptors.

use super::wire::{GREETING, Header, Mode};
use crate::config::Config;
use crate::endpoint::Endpoint;
#[cfg(unix)]
use crate::endpoint::bind_unix;
use hvsock::{Context, HvAddr, HvListener, HvStream};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
#[cfg(unix)]
use std::path::PathBuf;
use std::time::Duration;

/// A connected socket of any kind the bench speaks.
pub(super) enum Sock {
    Hv(HvStream),
    #[cfg(unix)]
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Sock {
    pub(super) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Sock::Hv(s) => s.shutdown(how),
            #[cfg(unix)]
            Sock::Unix(s) => s.shutdown(how),
            Sock::Tcp(s) => s.shutdown(how),
        }
    }

    pub(super) fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Sock::Hv(s) => s.set_read_timeout(d),
            #[cfg(unix)]
            Sock::Unix(s) => s.set_read_timeout(d),
            Sock::Tcp(s) => s.set_read_timeout(d),
        }
    }
}

impl Read for &Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match *self {
            Sock::Hv(s) => (&*s).read(buf),
            #[cfg(unix)]
            Sock::Unix(s) => (&*s).read(buf),
            Sock::Tcp(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match *self {
            Sock::Hv(s) => (&*s).write(buf),
            #[cfg(unix)]
            Sock::Unix(s) => (&*s).write(buf),
            Sock::Tcp(s) => (&*s).write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How a client reaches its server.
#[derive(Clone)]
pub(super) enum Dialer {
    /// The context, the address and how the user wrote it.
    Hv(Context, HvAddr, String),
    #[cfg(unix)]
    Unix(PathBuf),
    /// Host and port.
    Tcp(String, u16),
}

impl Dialer {
    pub(super) fn new(t: &Endpoint, config: &Config) -> io::Result<Dialer> {
        Ok(match t {
            Endpoint::Hv(text) => {
                let ctx = config.context()?;
                Dialer::Hv(ctx, config.resolve(text)?, text.clone())
            }
            #[cfg(unix)]
            Endpoint::Unix(p) => Dialer::Unix(p.clone()),
            Endpoint::Tcp { host, port } => Dialer::Tcp(host.clone(), *port),
        })
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Dialer::Hv(_, _, text) => format!("hvsock:{text}"),
            #[cfg(unix)]
            Dialer::Unix(p) => format!("unix:{}", p.display()),
            Dialer::Tcp(host, port) => Endpoint::Tcp {
                host: host.clone(),
                port: *port,
            }
            .to_string(),
        }
    }

    pub(super) fn connect(&self) -> io::Result<Sock> {
        Ok(match self {
            Dialer::Hv(ctx, addr, _) => Sock::Hv(ctx.connect(*addr)?),
            #[cfg(unix)]
            Dialer::Unix(p) => Sock::Unix(UnixStream::connect(p)?),
            Dialer::Tcp(host, port) => {
                let s = TcpStream::connect((host.as_str(), *port))?;
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
    #[cfg(unix)]
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Acceptor {
    pub(super) fn bind(t: &Endpoint, config: &Config) -> io::Result<Acceptor> {
        Ok(match t {
            // Resolved by `Config::resolve`, whose error stays typed for the hints.
            Endpoint::Hv(text) => {
                let ctx = config.context()?;
                Acceptor::Hv(Box::new(ctx.bind(config.resolve(text)?)?))
            }
            #[cfg(unix)]
            Endpoint::Unix(p) => Acceptor::Unix(bind_unix(p)?),
            Endpoint::Tcp { host, port } => {
                Acceptor::Tcp(TcpListener::bind((host.as_str(), *port))?)
            }
        })
    }

    pub(super) fn accept(&self) -> io::Result<Sock> {
        Ok(match self {
            Acceptor::Hv(l) => Sock::Hv(l.accept()?.0),
            #[cfg(unix)]
            Acceptor::Unix(l) => Sock::Unix(l.accept()?.0),
            Acceptor::Tcp(l) => {
                let s = l.accept()?.0;
                s.set_nodelay(true)?;
                Sock::Tcp(s)
            }
        })
    }
}
