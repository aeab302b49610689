//! [`ConnectOptions`]: the socket options of a connect, typed, on every platform.

use crate::context::DEFAULT_CONNECT_TIMEOUT;
use std::io::{self, ErrorKind};
use std::time::Duration;

/// How to connect: the timeout, and the Hyper-V socket options of Windows.
///
/// On Windows each option is the `HV_PROTOCOL_RAW` socket option of its name, set
/// before the connect. On Linux the timeout bounds the whole connect (and sets
/// AF_VSOCK's own connect timeout, whose 2 s default would cut it short); the other
/// three have no meaning there, and asking for one is an `Unsupported` error rather
/// than a silent no-op.
///
/// ```no_run
/// use hvsock::net::ConnectOptions;
/// use hvsock::{HvStream, ServiceId, VmId};
/// use std::time::Duration;
///
/// let opts = ConnectOptions::new().timeout(Duration::from_secs(30));
/// let s = HvStream::connect_with((VmId::PARENT, ServiceId::from_vsock_port(5000)), &opts)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    timeout: Option<Duration>,
    connected_suspend: Option<bool>,
    high_vtl: Option<bool>,
    container_passthru: Option<bool>,
}

impl ConnectOptions {
    /// The defaults: a 2 s timeout, no Windows options.
    pub fn new() -> ConnectOptions {
        ConnectOptions::default()
    }

    /// Gives up after `timeout` (more than zero, at most 300 s:
    /// `HVSOCKET_CONNECT_TIMEOUT_MAX`).
    ///
    /// ```
    /// # use hvsock::net::ConnectOptions; use std::time::Duration;
    /// let o = ConnectOptions::new().timeout(Duration::from_secs(10));
    /// assert_eq!(o.timeout_or_default(), Duration::from_secs(10));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> ConnectOptions {
        self.timeout = Some(timeout);
        self
    }

    /// `HVSOCKET_CONNECTED_SUSPEND` (Windows): the connection survives while the VM is
    /// paused or saved, as WSL's sockets do.
    pub fn connected_suspend(mut self, on: bool) -> ConnectOptions {
        self.connected_suspend = Some(on);
        self
    }

    /// `HVSOCKET_HIGH_VTL` (Windows): connect to the VM's higher virtual trust level.
    pub fn high_vtl(mut self, on: bool) -> ConnectOptions {
        self.high_vtl = Some(on);
        self
    }

    /// `HVSOCKET_CONTAINER_PASSTHRU` (Windows): from a container, reach the container
    /// host's partition instead of the container's own.
    pub fn container_passthru(mut self, on: bool) -> ConnectOptions {
        self.container_passthru = Some(on);
        self
    }

    /// The timeout asked for, or the default (2 s).
    pub fn timeout_or_default(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    /// The Windows-only options that are set, by their Windows names.
    #[cfg_attr(all(windows, not(feature = "inet-standin")), allow(dead_code))]
    fn windows_only(&self) -> impl Iterator<Item = &'static str> {
        [
            ("HVSOCKET_CONNECTED_SUSPEND", self.connected_suspend),
            ("HVSOCKET_HIGH_VTL", self.high_vtl),
            ("HVSOCKET_CONTAINER_PASSTHRU", self.container_passthru),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|_| name))
    }

    /// Where only the timeout has a meaning (Linux transports, the tests' TCP
    /// stand-in): an `Unsupported` error naming the first other option set.
    #[cfg_attr(all(windows, not(feature = "inet-standin")), allow(dead_code))]
    pub(crate) fn check_unix_like(&self) -> io::Result<()> {
        match self.windows_only().next() {
            None => Ok(()),
            Some(name) => Err(unsupported(name)),
        }
    }

    /// Sets the Windows options that were asked for on `sock`, before its connect.
    #[cfg(windows)]
    pub(crate) fn apply(&self, sock: &socket2::Socket) -> io::Result<()> {
        use crate::addr::{
            HVSOCKET_CONNECTED_SUSPEND, HVSOCKET_CONTAINER_PASSTHRU, HVSOCKET_HIGH_VTL,
        };
        for (name, value) in [
            (HVSOCKET_CONNECTED_SUSPEND, self.connected_suspend),
            (HVSOCKET_HIGH_VTL, self.high_vtl),
            (HVSOCKET_CONTAINER_PASSTHRU, self.container_passthru),
        ] {
            if let Some(on) = value {
                crate::sys::set_hv_option(sock, name, u32::from(on))?;
            }
        }
        Ok(())
    }
}

/// The error for a Hyper-V socket option that this platform or transport lacks.
#[cfg_attr(all(windows, not(feature = "inet-standin")), allow(dead_code))]
pub(crate) fn unsupported(name: &str) -> io::Error {
    io::Error::new(
        ErrorKind::Unsupported,
        format!(
            "{name} is a Windows Hyper-V socket option; it has no meaning on this platform or transport"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_timeout_means_something_off_windows() {
        assert!(ConnectOptions::new().check_unix_like().is_ok());
        let timed = ConnectOptions::new().timeout(Duration::from_secs(9));
        assert!(timed.check_unix_like().is_ok());
        assert_eq!(timed.timeout_or_default(), Duration::from_secs(9));
        assert_eq!(
            ConnectOptions::new().timeout_or_default(),
            DEFAULT_CONNECT_TIMEOUT
        );
        for (opts, name) in [
            (
                ConnectOptions::new().connected_suspend(true),
                "HVSOCKET_CONNECTED_SUSPEND",
            ),
            (ConnectOptions::new().high_vtl(false), "HVSOCKET_HIGH_VTL"),
            (
                ConnectOptions::new().container_passthru(true),
                "HVSOCKET_CONTAINER_PASSTHRU",
            ),
        ] {
            let e = opts.check_unix_like().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unsupported);
            assert!(e.to_string().starts_with(name), "{e}");
        }
    }
}
