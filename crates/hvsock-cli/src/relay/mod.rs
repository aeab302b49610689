//! The relay's engine: bind FROM, accept clients, connect each to TO and run both
//! directions of every connection at once (see [`pump`]; Linux splices, `splice`).

mod pair;
mod pump;
#[cfg(unix)]
mod splice;

use crate::backoff::Backoff;
use crate::config::Config;
use crate::endpoint::Endpoint;
#[cfg(unix)]
use crate::endpoint::bind_unix;
use crate::messages::{describe_vm, warn_hybrid_clashes};
use hvsock::net::tokio as hvtokio;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr};
use pair::{PairEnd, run_pair};
use pump::Conn;
use std::io::{self, ErrorKind};
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use tokio::net::{UnixListener, UnixStream};

/// A bound FROM endpoint.
enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(UnixListener, PathBuf),
    Hv(Box<hvtokio::HvListener>, Dirs),
}

impl Listener {
    async fn bind(ep: &Endpoint, config: &Config) -> io::Result<Listener> {
        match ep {
            Endpoint::Tcp { host, port } => Ok(Listener::Tcp(
                TcpListener::bind((host.as_str(), *port)).await?,
            )),
            #[cfg(unix)]
            Endpoint::Unix(path) => {
                let l = bind_unix(path)?;
                l.set_nonblocking(true)?;
                Ok(Listener::Unix(UnixListener::from_std(l)?, path.clone()))
            }
            Endpoint::Hv(text) => {
                let ctx = config.context()?;
                let addr = config.resolve(text)?;
                warn_hybrid_clashes(ctx.dirs());
                Ok(Listener::Hv(
                    Box::new(hvtokio::HvListener::bind_with(&ctx, addr)?),
                    ctx.dirs().clone(),
                ))
            }
        }
    }

    /// What this listener is bound to, as an endpoint (with the real TCP port).
    fn describe(&self, ep: &Endpoint) -> String {
        match self {
            Listener::Tcp(l) => match l.local_addr() {
                Ok(a) => format!("tcp:{a}"),
                Err(_) => ep.to_string(),
            },
            _ => ep.to_string(),
        }
    }

    /// Accepts a client; describes it for logs.
    async fn accept(&self) -> io::Result<(Conn, String)> {
        match self {
            Listener::Tcp(l) => {
                let (s, a) = l.accept().await?;
                let _ = s.set_nodelay(true);
                Ok((Conn::Tcp(s), format!("tcp:{a}")))
            }
            #[cfg(unix)]
            Listener::Unix(l, path) => {
                let (s, _) = l.accept().await?;
                Ok((
                    Conn::Unix(s),
                    format!("a client of unix:{}", path.display()),
                ))
            }
            Listener::Hv(l, dirs) => {
                let (s, peer) = l.accept().await?;
                Ok((Conn::Hv(s), describe_vm(peer.vm_id, dirs)))
            }
        }
    }
}

/// A resolved TO endpoint.
enum Target {
    Tcp(String, u16),
    #[cfg(unix)]
    Unix(PathBuf),
    Hv(Context, HvAddr),
}

impl Target {
    fn resolve(ep: &Endpoint, config: &Config) -> io::Result<Target> {
        Ok(match ep {
            Endpoint::Tcp { host, port } => Target::Tcp(host.clone(), *port),
            #[cfg(unix)]
            Endpoint::Unix(p) => Target::Unix(p.clone()),
            Endpoint::Hv(text) => {
                let ctx = config.context()?;
                Target::Hv(ctx, config.resolve(text)?)
            }
        })
    }

    async fn connect(&self, timeout: Duration) -> io::Result<Conn> {
        let timed_out = || io::Error::new(ErrorKind::TimedOut, "timed out");
        match self {
            Target::Tcp(host, port) => {
                let s = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), *port)))
                    .await
                    .map_err(|_| timed_out())??;
                let _ = s.set_nodelay(true);
                Ok(Conn::Tcp(s))
            }
            #[cfg(unix)]
            Target::Unix(p) => Ok(Conn::Unix(
                tokio::time::timeout(timeout, UnixStream::connect(p))
                    .await
                    .map_err(|_| timed_out())??,
            )),
            Target::Hv(ctx, addr) => Ok(Conn::Hv(
                hvtokio::HvStream::connect_with(ctx, *addr, timeout).await?,
            )),
        }
    }
}

/// Relays one client: connects to TO, then both directions until both are done (or
/// one fails, which closes the whole connection; or one side ended and closed, or the
/// idle timeout: see [`pair`]).
async fn relay_one(id: u64, client: Conn, who: String, to: Arc<RelayTo>) {
    let server = match to.target.connect(to.timeout).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "hvsock: relay #{id} from {who}: connect {}: {}",
                to.text,
                crate::hints::full(&e)
            );
            return;
        }
    };
    if to.verbose {
        eprintln!("hvsock: relay #{id}: {who} -> {}", to.text);
    }
    match run_pair(client, server, to.idle_timeout).await {
        Ok(end) if to.verbose => match end {
            PairEnd::Done(up, down) => {
                eprintln!("hvsock: relay #{id} done: {up} bytes sent, {down} bytes received")
            }
            PairEnd::Closed { which, moved } => eprintln!(
                "hvsock: relay #{id} closed: {which} ended and then closed altogether \
                 ({moved} bytes moved)"
            ),
            PairEnd::Idle { moved } => eprintln!(
                "hvsock: relay #{id} closed: nothing moved for the idle timeout after one \
                 side ended ({moved} bytes moved)"
            ),
        },
        Ok(_) => {}
        Err(e) => eprintln!("hvsock: relay #{id} from {who}: {e}"),
    }
}

/// What every connection needs of TO.
struct RelayTo {
    target: Target,
    text: String,
    timeout: Duration,
    verbose: bool,
    idle_timeout: Option<Duration>,
}

/// Resolves on SIGINT or SIGTERM.
#[cfg(unix)]
async fn stop_signal() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

/// Resolves on Ctrl-C (Windows has no SIGTERM to catch).
#[cfg(windows)]
async fn stop_signal() -> io::Result<()> {
    tokio::signal::ctrl_c().await
}

/// What to relay: FROM, TO and how.
pub struct Relay {
    /// Where to listen.
    pub from: Endpoint,
    /// Where to connect each client.
    pub to: Endpoint,
    /// How long connecting to TO may take.
    pub connect_timeout: Duration,
    /// Log the listening address, every connection and its byte counts to stderr.
    pub verbose: bool,
    /// After one direction of a connection ended, close it when nothing moved this long.
    pub idle_timeout: Option<Duration>,
}

impl Relay {
    /// Relays until SIGINT or SIGTERM; removes a Unix FROM's socket file at the end.
    pub async fn run(self, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
        let target = Target::resolve(&self.to, config)
            .map_err(|e| format!("relay to {}: {}", self.to, crate::hints::full(&e)))?;
        let stop = stop_signal();
        tokio::pin!(stop);
        let listener = Listener::bind(&self.from, config)
            .await
            .map_err(|e| format!("listen on {}: {}", self.from, crate::hints::full(&e)))?;
        if self.verbose {
            eprintln!(
                "hvsock: relay listening on {} -> {}",
                listener.describe(&self.from),
                self.to
            );
        }
        let to = Arc::new(RelayTo {
            target,
            text: self.to.to_string(),
            timeout: self.connect_timeout,
            verbose: self.verbose,
            idle_timeout: self.idle_timeout,
        });
        let mut id = 0u64;
        let mut backoff = Backoff::new();
        loop {
            tokio::select! {
                r = listener.accept() => match r {
                    Ok((client, who)) => {
                        backoff.reset();
                        id += 1;
                        tokio::spawn(relay_one(id, client, who, to.clone()));
                    }
                    Err(e) => {
                        let pause = backoff.next();
                        eprintln!("hvsock: accept on {} failed: {e}; retrying in {pause:?}", self.from);
                        tokio::time::sleep(pause).await;
                    }
                },
                r = &mut stop => {
                    r?;
                    break;
                }
            }
        }
        #[cfg(unix)]
        if let Listener::Unix(_, path) = &listener {
            let _ = std::fs::remove_file(path);
        }
        if self.verbose {
            eprintln!("hvsock: relay stopped");
        }
        Ok(())
    }
}
