//! Argument parsers and option groups that several commands share.

use clap::Args;
use std::time::Duration;

/// The longest connect timeout (HVSOCKET_CONNECT_TIMEOUT_MAX).
pub const MAX_TIMEOUT: Duration = hvsock::context::MAX_CONNECT_TIMEOUT;

/// The connect option of the commands that reach an agent (`exec`, `shell`, `cp`).
#[derive(Args, Clone, Copy, Debug)]
pub struct ConnectOpts {
    /// Connect timeout (e.g. 500ms, 5s; at most 300s).
    #[arg(long, value_name = "DUR", default_value = "2s", value_parser = parse_connect_timeout)]
    pub timeout: Duration,
    #[command(flatten)]
    pub wait: WaitOpt,
}

/// `--wait DUR`: keep trying while the peer is not there yet (`connect`, `exec`,
/// `shell`, `cp`).
#[derive(Args, Clone, Copy, Debug, Default)]
pub struct WaitOpt {
    /// Wait up to DUR for the VM and its service to come up (e.g. 60s right after
    /// starting a VM): while nothing listens yet, the VMM's socket is missing or the
    /// guest is still booting, try again with growing pauses; errors that waiting
    /// cannot fix (not registered, disabled, unknown VM) fail at once. Each attempt
    /// still gives up after --timeout.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub wait: Option<Duration>,
}

impl WaitOpt {
    /// The dialer for `--wait`, each attempt bounded by `timeout`; `None` without it.
    pub fn dialer(&self, timeout: Duration) -> Option<hvsock::net::Dialer> {
        self.wait.map(|w| {
            hvsock::net::Dialer::new(w).options(hvsock::net::ConnectOptions::new().timeout(timeout))
        })
    }

    /// Connects from `ctx` to `addr`: once within `timeout`, or waiting with `--wait`.
    pub fn connect(
        &self,
        ctx: &hvsock::Context,
        addr: hvsock::HvAddr,
        timeout: Duration,
    ) -> std::io::Result<hvsock::HvStream> {
        match self.dialer(timeout) {
            Some(d) => d.connect(ctx, addr),
            None => ctx.connect_timeout(addr, timeout),
        }
    }
}

/// Parses a duration: `500ms`, `2s`, `1.5m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit_secs) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let well_formed = !num.is_empty()
        && num.chars().all(|c| c.is_ascii_digit() || c == '.')
        && num.chars().filter(|&c| c == '.').count() <= 1
        && num != ".";
    let value: f64 = match num.parse() {
        Ok(v) if well_formed => v,
        _ => {
            return Err(format!(
                "{s:?} is not a duration: expected a number with ms, s or m, e.g. 500ms, 2s, 1m"
            ));
        }
    };
    let secs = value * unit_secs;
    if secs <= 0.0 {
        return Err(format!("{s:?}: the duration must be more than 0"));
    }
    if secs > 1e9 {
        return Err(format!("{s:?}: too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A connect timeout: a duration of at most 300 s.
pub fn parse_connect_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d > MAX_TIMEOUT {
        return Err(format!(
            "{s:?}: a connect timeout is at most {}s (HVSOCKET_CONNECT_TIMEOUT_MAX)",
            MAX_TIMEOUT.as_secs()
        ));
    }
    Ok(d)
}

/// An idle timeout: a duration above zero (the agent's and `cp`'s).
pub fn parse_idle_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("{s:?}: an idle timeout must be above zero"));
    }
    Ok(d)
}

/// When `connect` and `listen` send a half-close at stdin's end.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HalfCloseMode {
    /// When the connection's transport carries it (`hvsock vm show` says for a VM).
    Auto,
    /// Always (over a VMM that loses it, the VMM closes the whole connection).
    Always,
    /// Never: stdin's end is not sent; the peer's bytes are copied until it closes.
    Never,
}

impl HalfCloseMode {
    /// Whether to send the half-close on a stream whose transport carries (or not) it.
    pub fn sends(self, carried: hvsock::partitions::HalfClose) -> bool {
        match self {
            HalfCloseMode::Auto => carried.is_carried(),
            HalfCloseMode::Always => true,
            HalfCloseMode::Never => false,
        }
    }
}

/// What `connect` and `listen` do when stdin ends (`--half-close`, `--idle-timeout`).
#[derive(Args, Clone, Copy, Debug)]
pub struct StdinEndOpts {
    /// At stdin's end, shut down sending (a half-close: the peer reads EOF and can still
    /// answer): auto = where the transport carries it (not over a hybrid VM recorded
    /// `--half-close lost`: its VMM would close the whole connection); never = keep the
    /// connection open and print what the peer sends until it closes.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub half_close: HalfCloseMode,
    /// After stdin's end, close the connection once the peer has sent nothing for DUR
    /// (like socat -t, ncat -q): 500ms, 2s, 1m.
    #[arg(long, value_name = "DUR", value_parser = parse_idle_timeout)]
    pub idle_timeout: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("2s"), Duration::from_secs(2));
        assert_eq!(ok("1m"), Duration::from_secs(60));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("3"), Duration::from_secs(3));
        for bad in [
            "", "s", "ms", "-1s", "0", "0ms", "1h", "abc", "1..2s", ".s", "1 s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_connect_timeout("300s").unwrap(), MAX_TIMEOUT);
        assert_eq!(parse_connect_timeout("5m").unwrap(), MAX_TIMEOUT);
        let e = parse_connect_timeout("301s").unwrap_err();
        assert!(e.contains("300s"), "{e}");
        assert!(parse_idle_timeout("30s").is_ok());
    }

    #[test]
    fn wait_makes_a_dialer_whose_attempts_keep_the_timeout() {
        assert!(WaitOpt::default().dialer(Duration::from_secs(2)).is_none());
        let w = WaitOpt {
            wait: Some(Duration::from_secs(60)),
        };
        let want = hvsock::net::Dialer::new(Duration::from_secs(60))
            .options(hvsock::net::ConnectOptions::new().timeout(Duration::from_secs(5)));
        assert_eq!(w.dialer(Duration::from_secs(5)), Some(want));
    }

    #[test]
    fn half_close_modes() {
        use hvsock::partitions::HalfClose::{Carried, Lost};
        assert!(HalfCloseMode::Auto.sends(Carried) && !HalfCloseMode::Auto.sends(Lost));
        assert!(HalfCloseMode::Always.sends(Lost) && HalfCloseMode::Always.sends(Carried));
        assert!(!HalfCloseMode::Never.sends(Carried) && !HalfCloseMode::Never.sends(Lost));
    }
}
