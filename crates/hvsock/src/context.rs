//! [`Context`]: which partition a socket lives in and where hvsock's files are.

use crate::addr::{ToHvAddr, VmId};
use crate::config::partitions::PartitionKind;
use crate::config::paths::Dirs;
use crate::config::snapshot;
use crate::error::HvError;
use crate::policy::{Location, err};
use std::io::{self, ErrorKind};
use std::time::Duration;

/// Environment variable putting a process in a local partition (name or id).
pub const PARTITION_ENV: &str = "HVSOCK_PARTITION";
/// Environment variable saying the process runs inside a VM guest (`1`).
pub const GUEST_ENV: &str = "HVSOCK_GUEST";
/// Tests only (feature `inet-standin`, Windows): `IP:PORT` of the TCP stand-in for
/// every AF_HYPERV socket of the process ([`Context::inet_standin`]).
#[cfg(all(windows, feature = "inet-standin"))]
#[doc(hidden)]
pub const INET_STANDIN_ENV: &str = "HVSOCK_INET_STANDIN";
/// Default connect timeout, as Linux AF_VSOCK's.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest connect timeout (`HVSOCKET_CONNECT_TIMEOUT_MAX`).
pub const MAX_CONNECT_TIMEOUT: Duration =
    Duration::from_millis(crate::addr::HVSOCKET_CONNECT_TIMEOUT_MAX as u64);
/// Default time a listener gives a local peer to send its preamble.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks a connect timeout: more than zero and at most 300 s.
pub(crate) fn check_connect_timeout(timeout: Duration) -> io::Result<()> {
    if timeout.is_zero() || timeout > MAX_CONNECT_TIMEOUT {
        return Err(err(
            ErrorKind::InvalidInput,
            format!(
                "connect timeout must be more than 0 and at most {} s (HVSOCKET_CONNECT_TIMEOUT_MAX)",
                MAX_CONNECT_TIMEOUT.as_secs()
            ),
        ));
    }
    Ok(())
}

/// Where sockets live: the directories and the partition.
///
/// [`HvStream::connect`](crate::HvStream::connect) and
/// [`HvListener::bind`](crate::HvListener::bind) use [`Context::from_env`]; build a
/// `Context` explicitly to act as several partitions in one process (tests, relays).
///
/// ```no_run
/// use hvsock::{Context, HvAddr, ServiceId, VmId, paths::Dirs};
///
/// let dirs = Dirs::new("/tmp/hv/config", "/tmp/hv/run");
/// let host = Context::host(dirs.clone());
/// let child = Context::local(dirs, "web")?;           // a --local partition
/// let svc = ServiceId::from_vsock_port(5000);
/// let listener = host.bind(HvAddr::new(VmId::CHILDREN, svc))?;
/// let stream = child.connect(HvAddr::new(VmId::PARENT, svc))?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub(crate) dirs: Dirs,
    pub(crate) location: Location,
    /// How sockets are made on Windows (AF_HYPERV; a TCP stand-in in tests).
    #[cfg(windows)]
    pub(crate) family: crate::transport::hyperv::Family,
}

impl Context {
    /// A context from explicit parts.
    pub fn new(dirs: Dirs, location: Location) -> Context {
        Context {
            dirs,
            location,
            #[cfg(windows)]
            family: crate::transport::hyperv::Family::HyperV,
        }
    }

    /// Tests only (feature `inet-standin`, Windows): a host context whose every
    /// AF_HYPERV socket is a TCP socket on `at` instead, so the WinSock code paths run
    /// where Hyper-V sockets do not exist (wine). Connects go to `at`, listeners bind
    /// it, and accepted peers are reported as LOOPBACK.
    #[cfg(all(windows, feature = "inet-standin"))]
    #[doc(hidden)]
    pub fn inet_standin(dirs: Dirs, at: std::net::SocketAddr) -> Context {
        Context {
            family: crate::transport::hyperv::Family::InetStandIn(at),
            ..Context::host(dirs)
        }
    }

    /// The root partition (host) with these directories.
    pub fn host(dirs: Dirs) -> Context {
        Context::new(dirs, Location::Host)
    }

    /// Inside a VM guest: PARENT is the host over AF_VSOCK.
    pub fn guest(dirs: Dirs) -> Context {
        Context::new(dirs, Location::Guest)
    }

    /// A `--local` partition of the table, by name or id.
    pub fn local(dirs: Dirs, name_or_id: &str) -> io::Result<Context> {
        let table = snapshot::table(&dirs)?;
        let p = table
            .find(name_or_id)
            .ok_or_else(|| HvError::UnknownPartition {
                shown: format!("{name_or_id:?}"),
            })?;
        if p.kind != PartitionKind::Local {
            return Err(err(
                ErrorKind::InvalidInput,
                format!(
                    "partition {:?} is a VM, not a --local partition: a process can only live in a local partition",
                    p.name
                ),
            ));
        }
        Ok(Context::new(dirs, Location::Local(p.id)))
    }

    /// The context of this process: `HVSOCK_CONFIG_DIR`/`HVSOCK_RUNTIME_DIR` (or the
    /// defaults), `HVSOCK_PARTITION` (a local partition), `HVSOCK_GUEST=1` or
    /// `guest = true` in `hvsock.toml` (a VM guest), else the host.
    ///
    /// Guest mode is never guessed from `/dev/vsock`: a machine that is itself a VM
    /// would then reach its own hypervisor's host.
    pub fn from_env() -> io::Result<Context> {
        let partition = std::env::var(PARTITION_ENV).ok();
        let guest = std::env::var(GUEST_ENV).ok();
        Context::from_parts(Dirs::from_env(), partition.as_deref(), guest.as_deref())
    }

    /// Tests only (feature `inet-standin`, Windows): `HVSOCK_INET_STANDIN`, when set,
    /// turns a host context into [`Context::inet_standin`]. Read by
    /// [`from_parts`](Self::from_parts) (and so [`from_env`](Self::from_env)), so that a
    /// program building its context from its own captured environment (the `hvsock`
    /// CLI) gets the stand-in too: it is "every AF_HYPERV socket of the process".
    #[cfg(all(windows, feature = "inet-standin"))]
    fn standin_from_env(ctx: Context) -> io::Result<Context> {
        let Some(at) = std::env::var(INET_STANDIN_ENV)
            .ok()
            .filter(|s| !s.is_empty())
        else {
            return Ok(ctx);
        };
        let at = at.parse().map_err(|e| {
            err(
                ErrorKind::InvalidInput,
                format!("{INET_STANDIN_ENV}={at:?}: {e}"),
            )
        })?;
        Ok(Context::inet_standin(ctx.dirs, at))
    }

    /// The context [`Context::from_env`] builds, from facts the caller read itself:
    /// `dirs`, and the values of `HVSOCK_PARTITION` (`partition`: a local partition
    /// when non-empty) and `HVSOCK_GUEST` (`guest`: `1`/`true`/`yes` or
    /// `0`/`false`/`no`; unset or empty defers to `guest` in `hvsock.toml`).
    ///
    /// A partition together with guest mode, or another `guest` value, is an
    /// `InvalidInput` error.
    pub fn from_parts(
        dirs: Dirs,
        partition: Option<&str>,
        guest: Option<&str>,
    ) -> io::Result<Context> {
        let partition = partition.filter(|s| !s.is_empty());
        let guest = match guest {
            None | Some("") => snapshot::settings(&dirs)?.guest,
            Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => {
                return Err(err(
                    ErrorKind::InvalidInput,
                    format!("{GUEST_ENV}={other:?}: expected 1 or 0"),
                ));
            }
        };
        match (partition, guest) {
            (Some(_), true) => Err(err(
                ErrorKind::InvalidInput,
                format!("{PARTITION_ENV} and guest mode exclude each other"),
            )),
            (Some(p), false) => Context::local(dirs, p),
            (None, true) => Ok(Context::guest(dirs)),
            #[cfg(all(windows, feature = "inet-standin"))]
            (None, false) => Context::standin_from_env(Context::host(dirs)),
            #[cfg(not(all(windows, feature = "inet-standin")))]
            (None, false) => Ok(Context::host(dirs)),
        }
    }

    /// The directories.
    pub fn dirs(&self) -> &Dirs {
        &self.dirs
    }

    /// The partition.
    pub fn location(&self) -> Location {
        self.location
    }

    /// This partition's own id: a local partition's id; zero for a root partition.
    pub fn own_id(&self) -> VmId {
        self.location.claim()
    }

    /// Connects with the default timeout (2 s). See [`HvStream::connect`](crate::HvStream::connect).
    pub fn connect(&self, addr: impl ToHvAddr) -> io::Result<crate::HvStream> {
        crate::net::dial::connect(self, addr.to_hv_addr(&self.dirs)?, DEFAULT_CONNECT_TIMEOUT)
    }

    /// Connects, giving up after `timeout` (at most 300 s).
    pub fn connect_timeout(
        &self,
        addr: impl ToHvAddr,
        timeout: Duration,
    ) -> io::Result<crate::HvStream> {
        crate::net::dial::connect(self, addr.to_hv_addr(&self.dirs)?, timeout)
    }

    /// Connects with explicit [`ConnectOptions`](crate::net::ConnectOptions).
    ///
    /// ```no_run
    /// use hvsock::net::ConnectOptions;
    /// use hvsock::{Context, ServiceId, VmId};
    /// use std::time::Duration;
    /// let ctx = Context::from_env()?;
    /// let opts = ConnectOptions::new().timeout(Duration::from_secs(30));
    /// let s = ctx.connect_with((VmId::PARENT, ServiceId::from_vsock_port(5000)), &opts)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect_with(
        &self,
        addr: impl ToHvAddr,
        opts: &crate::net::ConnectOptions,
    ) -> io::Result<crate::HvStream> {
        let addr = addr.to_hv_addr(&self.dirs)?;
        #[cfg(unix)]
        {
            opts.check_unix_like()?;
            crate::net::dial::connect(self, addr, opts.timeout_or_default())
        }
        #[cfg(windows)]
        {
            crate::net::dial::connect_with(self, addr, opts)
        }
    }

    /// Binds a listener. See [`HvListener::bind`](crate::HvListener::bind).
    pub fn bind(&self, addr: impl ToHvAddr) -> io::Result<crate::HvListener> {
        crate::net::listener::HvListener::bind_in(self, addr.to_hv_addr(&self.dirs)?)
    }

    #[cfg(unix)]
    pub(crate) fn handshake_timeout(&self) -> Duration {
        snapshot::settings(&self.dirs)
            .ok()
            .and_then(|s| s.handshake_timeout_ms)
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_HANDSHAKE_TIMEOUT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parts_reads_the_partition_the_guest_flag_and_the_settings() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Dirs::new(tmp.path().join("c"), tmp.path().join("r"));
        let shown = |p, g| match Context::from_parts(dirs.clone(), p, g) {
            Ok(c) => format!("{:?}", c.location()),
            Err(e) => format!("{:?}: {e}", e.kind()),
        };
        let guest = "HVSOCK_GUEST=\"2\": expected 1 or 0";
        let both = "HVSOCK_PARTITION and guest mode exclude each other";
        for (partition, flag, want) in [
            (None, None, "Host".to_string()),
            (Some(""), Some(""), "Host".to_string()),
            (None, Some("no"), "Host".to_string()),
            (None, Some("true"), "Guest".to_string()),
            (None, Some("2"), format!("InvalidInput: {guest}")),
            (Some("box"), Some("1"), format!("InvalidInput: {both}")),
        ] {
            assert_eq!(shown(partition, flag), want, "{partition:?} {flag:?}");
        }
        // Not in the (empty) partition table.
        assert!(Context::from_parts(dirs.clone(), Some("box"), None).is_err());
        std::fs::create_dir_all(&dirs.config).unwrap();
        std::fs::write(dirs.settings_file(), "guest = true\n").unwrap();
        assert_eq!(shown(None, None), "Guest");
        assert_eq!(shown(None, Some("0")), "Host");
    }
}
