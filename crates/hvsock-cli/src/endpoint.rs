//! The endpoints the relay and the bench speak, `tcp:HOST:PORT`, `unix:PATH` and
//! `hvsock:VM:SERVICE`: one syntax, and one way to bind a Unix socket.
//!
//! `unix:PATH` exists on Unix only: std has no Unix sockets on Windows, and there the
//! syntax is refused by name.

use std::fmt;
#[cfg(unix)]
use std::io::{self, ErrorKind};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
#[cfg(unix)]
use std::path::{Path, PathBuf};

/// A relay endpoint as written, before any name lookup.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// `tcp:HOST:PORT` (HOST may be `[v6]`).
    Tcp {
        /// The host part, without brackets.
        host: String,
        /// The port.
        port: u16,
    },
    /// `unix:PATH` (Unix only).
    #[cfg(unix)]
    Unix(PathBuf),
    /// `hvsock:VM:SERVICE`, kept as text and resolved when the relay starts.
    Hv(String),
}

impl Endpoint {
    /// Parses the endpoint syntax (names are looked up later).
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let usage = "expected tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE";
        let Some((kind, rest)) = s.split_once(':') else {
            return Err(format!("{s:?} is not an endpoint: {usage}"));
        };
        match kind.to_ascii_lowercase().as_str() {
            "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| format!("{s:?}: expected tcp:HOST:PORT"))?;
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host);
                if host.is_empty() {
                    return Err(format!("{s:?}: the HOST of tcp:HOST:PORT is empty"));
                }
                if host.contains(':') && !rest.starts_with('[') {
                    return Err(format!(
                        "{s:?}: write an IPv6 host in brackets, e.g. tcp:[::1]:8080"
                    ));
                }
                let port = port.parse::<u16>().map_err(|_| {
                    format!("{s:?}: PORT must be a number from 0 to 65535, not {port:?}")
                })?;
                Ok(Endpoint::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            #[cfg(unix)]
            "unix" if rest.is_empty() => Err(format!("{s:?}: the PATH of unix:PATH is empty")),
            #[cfg(unix)]
            "unix" => Ok(Endpoint::Unix(PathBuf::from(rest))),
            #[cfg(windows)]
            "unix" => Err(format!(
                "{s:?}: unix:PATH endpoints exist on Linux only (Windows has no Unix \
                 sockets here); use tcp:HOST:PORT or hvsock:VM:SERVICE"
            )),
            "hvsock" => {
                hvsock::syntax::parse_addr(rest).map_err(|e| format!("{s:?}: {e}"))?;
                Ok(Endpoint::Hv(rest.to_string()))
            }
            _ => Err(format!("{s:?}: unknown endpoint kind {kind:?}: {usage}")),
        }
    }
}

impl Endpoint {
    /// As [`parse`](Self::parse), but text without a known `KIND:` is a Hyper-V address
    /// (`VM:SERVICE`), kept as written and resolved later (the bench's ADDR).
    pub fn parse_or_hv(s: &str) -> Result<Endpoint, String> {
        let kind = s.split_once(':').map(|(k, _)| k.to_ascii_lowercase());
        match kind.as_deref() {
            Some("tcp" | "unix") => Endpoint::parse(s),
            _ => Ok(Endpoint::Hv(
                s.strip_prefix("hvsock:").unwrap_or(s).to_string(),
            )),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            #[cfg(unix)]
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
            Endpoint::Hv(a) => write!(f, "hvsock:{a}"),
        }
    }
}

/// Binds a Unix socket, replacing a stale socket file (one nobody listens on).
#[cfg(unix)]
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => {
            use std::os::unix::fs::FileTypeExt;
            let is_socket = std::fs::symlink_metadata(path)
                .map(|m| m.file_type().is_socket())
                .unwrap_or(false);
            if !is_socket {
                return Err(io::Error::new(
                    ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            match UnixStream::connect(path) {
                Ok(_) => Err(io::Error::new(
                    ErrorKind::AddrInUse,
                    format!("another process listens on {}", path.display()),
                )),
                Err(_) => {
                    std::fs::remove_file(path)?;
                    UnixListener::bind(path)
                }
            }
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_syntax() {
        let ok = |s: &str| Endpoint::parse(s).unwrap().to_string();
        assert_eq!(ok("tcp:127.0.0.1:80"), "tcp:127.0.0.1:80");
        assert_eq!(ok("TCP:localhost:0"), "tcp:localhost:0");
        assert_eq!(ok("tcp:[::1]:8080"), "tcp:[::1]:8080");
        #[cfg(unix)]
        {
            assert_eq!(ok("unix:/run/x.sock"), "unix:/run/x.sock");
            assert_eq!(ok("unix:rel:ative"), "unix:rel:ative");
        }
        #[cfg(windows)]
        {
            let e = Endpoint::parse("unix:C:\\x.sock").unwrap_err();
            assert!(e.contains("exist on Linux only"), "{e}");
        }
        assert_eq!(ok("hvsock:parent:vsock:22"), "hvsock:parent:vsock:22");
        assert_eq!(ok("hvsock:vm:My Service"), "hvsock:vm:My Service");
        for bad in [
            "",
            "tcp",
            "tcp:",
            "tcp:80",
            "tcp::80",
            "tcp:host:",
            "tcp:host:65536",
            "tcp:host:x",
            "tcp:::1:80",
            "unix:",
            "hvsock:",
            "hvsock:parent",
            "hvsock:parent:",
            "hvsock:parent:vsock:x",
            "udp:1.2.3.4:5",
            "/tmp/sock",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bench_addresses_default_to_hvsock() {
        for (given, shown) in [
            ("parent:bench", "hvsock:parent:bench"),
            ("hvsock:loopback:vsock:5", "hvsock:loopback:vsock:5"),
            #[cfg(unix)]
            ("unix:/tmp/b.sock", "unix:/tmp/b.sock"),
            ("tcp:127.0.0.1:9000", "tcp:127.0.0.1:9000"),
        ] {
            let e = Endpoint::parse_or_hv(given).unwrap();
            assert_eq!(e.to_string(), shown);
        }
        for bad in ["tcp:9000", "unix:"] {
            assert!(Endpoint::parse_or_hv(bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn bind_unix_replaces_only_a_stale_socket() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("s.sock");
        let live = bind_unix(&p).unwrap();
        let e = bind_unix(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse, "{e}");
        drop(live);
        // The file stays behind, nobody listens: replaced.
        assert!(p.exists());
        let _again = bind_unix(&p).unwrap();
        let f = tmp.path().join("plain");
        std::fs::write(&f, b"x").unwrap();
        let e = bind_unix(&f).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists, "{e}");
        assert_eq!(std::fs::read(&f).unwrap(), b"x");
    }
}
