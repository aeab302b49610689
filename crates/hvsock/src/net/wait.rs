//! [`Dialer`]: a connect that waits for its peer to come up, like go-winio's
//! `HvsockDialer` (deadline, retries, pause between tries).
//!
//! Right after a VM starts, its VMM's socket may not exist yet, the VMM may refuse or
//! close `CONNECT` until the guest's service listens, and AF_VSOCK may time out, be
//! reset or find no device while the guest boots. Those errors mean "not there yet"
//! ([`is_not_there_yet`]) and are tried again, with pauses growing exponentially up to
//! a cap, each drawn at random from its upper half (so many clients started together
//! spread out). Anything else (the service not registered or disabled, a partition
//! that may not be reached or does not exist, a bad address) fails at once: waiting
//! would not change it.

use crate::addr::ToHvAddr;
use crate::context::Context;
use crate::error::{HvError, LastError};
use crate::net::ConnectOptions;
use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

/// Default first pause between attempts.
pub const DEFAULT_RETRY_WAIT: Duration = Duration::from_millis(50);
/// Default longest pause between attempts.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(1);
/// An attempt is not started with less time than this left: it could not succeed.
const MIN_ATTEMPT: Duration = Duration::from_millis(5);

/// Connects, trying again on "not there yet" errors until a deadline.
///
/// ```no_run
/// use hvsock::net::Dialer;
/// use std::time::Duration;
///
/// // Right after starting the VM: wait up to a minute for its agent to listen.
/// let ctx = hvsock::Context::from_env()?;
/// let s = Dialer::new(Duration::from_secs(60)).connect(&ctx, "myvm:vsock:5000")?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// When it gives up, the error is [`HvError::GaveUp`] (kind `TimedOut`): how long it
/// waited, how many attempts, and the last attempt's error. A permanent error is
/// returned as it is, after the first attempt that met it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialer {
    wait: Duration,
    retries: Option<u32>,
    retry_wait: Duration,
    max_retry_wait: Duration,
    options: ConnectOptions,
}

impl Dialer {
    /// Waits at most `wait` in all (attempts and pauses), with no limit on retries.
    pub fn new(wait: Duration) -> Dialer {
        Dialer {
            wait,
            retries: None,
            retry_wait: DEFAULT_RETRY_WAIT,
            max_retry_wait: DEFAULT_MAX_RETRY_WAIT,
            options: ConnectOptions::new(),
        }
    }

    /// Tries again at most `n` times after the first attempt (go-winio's `Retries`).
    pub fn retries(mut self, n: u32) -> Dialer {
        self.retries = Some(n);
        self
    }

    /// The first pause (go-winio's `RetryWait`); each next one doubles, up to
    /// [`max_retry_wait`](Self::max_retry_wait).
    pub fn retry_wait(mut self, wait: Duration) -> Dialer {
        self.retry_wait = wait;
        self
    }

    /// The longest pause between attempts.
    pub fn max_retry_wait(mut self, wait: Duration) -> Dialer {
        self.max_retry_wait = wait;
        self
    }

    /// The options of each attempt; its timeout bounds one attempt (and is cut to the
    /// time left).
    pub fn options(mut self, options: ConnectOptions) -> Dialer {
        self.options = options;
        self
    }

    /// Connects from `ctx` to `addr`, blocking until connected, a permanent error, or
    /// the deadline.
    pub fn connect(&self, ctx: &Context, addr: impl ToHvAddr) -> io::Result<crate::HvStream> {
        let addr = addr.to_hv_addr(ctx.dirs())?;
        let mut attempts = self.attempts();
        loop {
            let opts = self.options.clone().timeout(attempts.attempt_timeout());
            match ctx.connect_with(addr, &opts) {
                Ok(s) => return Ok(s),
                Err(e) => std::thread::sleep(attempts.after_failure(e)?),
            }
        }
    }

    /// The tokio twin of [`connect`](Self::connect): pauses with `tokio::time::sleep`
    /// and runs each (short) attempt on the blocking pool, as
    /// [`tokio::HvStream::connect_with`](crate::net::tokio::HvStream::connect_with)
    /// does; dropping the future stops the waiting.
    #[cfg(feature = "tokio")]
    pub async fn connect_async(
        &self,
        ctx: &Context,
        addr: impl ToHvAddr,
    ) -> io::Result<crate::net::tokio::HvStream> {
        let addr = addr.to_hv_addr(ctx.dirs())?;
        let mut attempts = self.attempts();
        loop {
            let opts = self.options.clone().timeout(attempts.attempt_timeout());
            let ctx = ctx.clone();
            let r = ::tokio::task::spawn_blocking(move || ctx.connect_with(addr, &opts))
                .await
                .map_err(io::Error::other)?;
            match r {
                Ok(s) => return crate::net::tokio::HvStream::from_std(s),
                Err(e) => ::tokio::time::sleep(attempts.after_failure(e)?).await,
            }
        }
    }

    fn attempts(&self) -> Attempts<'_> {
        let start = Instant::now();
        Attempts {
            dialer: self,
            start,
            deadline: start + self.wait,
            done: 0,
        }
    }
}

/// The state of one wait: what the next attempt may take, what follows a failure.
/// Shared by the blocking and the tokio loop.
struct Attempts<'a> {
    dialer: &'a Dialer,
    start: Instant,
    deadline: Instant,
    done: u32,
}

impl Attempts<'_> {
    /// The next attempt's timeout: the options' (2 s by default), cut to the time left.
    fn attempt_timeout(&self) -> Duration {
        let left = self.deadline.saturating_duration_since(Instant::now());
        self.dialer
            .options
            .timeout_or_default()
            .min(left)
            .max(MIN_ATTEMPT)
    }

    /// After a failed attempt: the pause before the next one, or the error to return
    /// (`e` itself when permanent, [`HvError::GaveUp`] when the time or retries are up).
    fn after_failure(&mut self, e: io::Error) -> io::Result<Duration> {
        self.done += 1;
        if !is_not_there_yet(&e) {
            return Err(e);
        }
        let now = Instant::now();
        let left = self.deadline.saturating_duration_since(now);
        let retries_left = self.dialer.retries.is_none_or(|n| self.done <= n);
        if left <= MIN_ATTEMPT || !retries_left {
            return Err(HvError::GaveUp {
                waited: now - self.start,
                attempts: self.done,
                last: LastError::new(e),
            }
            .into());
        }
        let pause = backoff(
            self.done - 1,
            self.dialer.retry_wait,
            self.dialer.max_retry_wait,
            jitter(),
        );
        // Leave time for one more attempt rather than sleep past the deadline.
        Ok(pause.min(left - MIN_ATTEMPT))
    }
}

/// The pause after failed attempt `n` (0 for the first): `first * 2^n`, capped at
/// `cap`, then scaled into its upper half by `jitter` (0 ≤ jitter < 1): between half
/// and all of it.
pub(crate) fn backoff(n: u32, first: Duration, cap: Duration, jitter: f64) -> Duration {
    let full = first.saturating_mul(1u32 << n.min(20)).min(cap);
    full / 2 + full.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
}

/// A random number in [0, 1).
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        // 53 random bits: the precision of an f64 in [0, 1).
        Ok(()) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

/// Whether a connect error means the peer is not there *yet*, so that trying again
/// later may succeed: nothing listens (or the listener is at a limit), the VMM's
/// socket is missing or refuses, the VMM closed the connection before `OK`, the VM is
/// not running or not reachable, the attempt timed out or was reset, AF_VSOCK has no
/// device yet. Not: the service not registered, disabled or not allowed, an unknown
/// partition, a bad address or option, Hyper-V sockets missing on this system.
///
/// ```
/// use hvsock::net::is_not_there_yet;
/// use hvsock::{HvError, ServiceId};
/// use std::io;
///
/// assert!(is_not_there_yet(&io::ErrorKind::ConnectionRefused.into()));
/// let e: io::Error = HvError::NotRegistered { service: ServiceId::from_vsock_port(5000) }.into();
/// assert!(!is_not_there_yet(&e));
/// ```
pub fn is_not_there_yet(e: &io::Error) -> bool {
    use crate::transport::local::wire::Status;
    if let Some(hv) = HvError::of(e) {
        return match hv {
            HvError::NothingListens { .. }
            | HvError::Busy { .. }
            | HvError::TimedOut { .. }
            | HvError::Unreachable { .. } => true,
            // "No listener here accepts this caller": one may come.
            HvError::Refused { status, .. } => *status == Status::Refused,
            HvError::NotRegistered { .. }
            | HvError::Disabled { .. }
            | HvError::UnknownPartition { .. }
            | HvError::NotAllowed { .. }
            | HvError::Unavailable { .. }
            | HvError::AccessDenied { .. }
            | HvError::GaveUp { .. } => false,
        };
    }
    // ENODEV: AF_VSOCK with no transport (a guest's driver not loaded yet) or no VM of
    // that CID (vhost-vsock on the host).
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ENODEV) {
        return true;
    }
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotFound
            | ErrorKind::TimedOut
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
            | ErrorKind::NetworkDown
            | ErrorKind::UnexpectedEof
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{ServiceId, VmId};
    use crate::transport::local::wire::Status;
    use proptest::prelude::*;

    fn hv(e: HvError) -> io::Error {
        e.into()
    }

    #[test]
    fn not_there_yet_is_told_from_permanent() {
        let service = ServiceId::from_vsock_port(5000);
        let t = || "connect to \"vm\"".to_string();
        let retry = [
            hv(HvError::NothingListens {
                target: t(),
                on: "port 5000 in the VM".into(),
            }),
            hv(HvError::Busy {
                target: t(),
                message: "busy".into(),
            }),
            hv(HvError::TimedOut {
                what: t(),
                during: "",
            }),
            hv(HvError::Unreachable {
                target: t(),
                vm: VmId::ZERO,
            }),
            hv(HvError::Refused {
                target: t(),
                status: Status::Refused,
                message: "no listener accepts".into(),
            }),
            // The hybrid dial's own words: no VMM socket, the VMM refused CONNECT.
            io::Error::new(
                ErrorKind::ConnectionRefused,
                "no VMM listens on /run/v.sock",
            ),
            io::Error::from(ErrorKind::NotFound),
            io::Error::from(ErrorKind::ConnectionReset),
            io::Error::from(ErrorKind::TimedOut),
            io::Error::from(ErrorKind::UnexpectedEof),
            #[cfg(unix)]
            io::Error::from_raw_os_error(libc::ENODEV),
            #[cfg(unix)]
            io::Error::from_raw_os_error(libc::ENOENT),
            #[cfg(unix)]
            io::Error::from_raw_os_error(libc::ECONNREFUSED),
            #[cfg(unix)]
            io::Error::from_raw_os_error(libc::ETIMEDOUT),
        ];
        for e in &retry {
            assert!(is_not_there_yet(e), "{e:?}");
        }
        let permanent = [
            hv(HvError::NotRegistered { service }),
            hv(HvError::Disabled {
                service,
                name: "echo".into(),
            }),
            hv(HvError::UnknownPartition {
                shown: "\"nosuch\"".into(),
            }),
            hv(HvError::NotAllowed {
                from: "a".into(),
                to: "b".into(),
            }),
            hv(HvError::AccessDenied {
                target: t(),
                service,
            }),
            hv(HvError::Unavailable {
                reason: "none".into(),
            }),
            hv(HvError::Refused {
                target: t(),
                status: Status::PermissionDenied,
                message: "not registered".into(),
            }),
            hv(HvError::Refused {
                target: t(),
                status: Status::BadRequest,
                message: "bad".into(),
            }),
            hv(HvError::GaveUp {
                waited: Duration::from_secs(1),
                attempts: 2,
                last: LastError::new(ErrorKind::ConnectionRefused.into()),
            }),
            io::Error::from(ErrorKind::PermissionDenied),
            io::Error::from(ErrorKind::InvalidInput),
            io::Error::from(ErrorKind::InvalidData),
            io::Error::from(ErrorKind::Unsupported),
        ];
        for e in &permanent {
            assert!(!is_not_there_yet(e), "{e:?}");
        }
    }
    #[test]
    fn backoff_doubles_to_the_cap() {
        let ms = Duration::from_millis;
        let full: Vec<_> = (0..8).map(|n| backoff(n, ms(50), ms(1000), 1.0)).collect();
        assert_eq!(
            full,
            [
                ms(50),
                ms(100),
                ms(200),
                ms(400),
                ms(800),
                ms(1000),
                ms(1000),
                ms(1000)
            ]
        );
        assert_eq!(backoff(0, ms(50), ms(1000), 0.0), ms(25));
        assert_eq!(backoff(40, ms(50), ms(1000), 0.0), ms(500));
        assert_eq!(backoff(u32::MAX, Duration::MAX, ms(1000), 1.0), ms(1000));
    }

    #[test]
    fn a_wait_gives_up_with_the_last_error_and_keeps_permanent_ones() {
        let d = Dialer::new(Duration::from_millis(30)).retry_wait(Duration::from_millis(1));
        let mut a = d.attempts();
        assert!(a.attempt_timeout() <= Duration::from_millis(30));
        let refused = || io::Error::new(ErrorKind::ConnectionRefused, "no VMM listens");
        let pause = a.after_failure(refused()).unwrap();
        assert!(pause <= Duration::from_millis(1), "{pause:?}");
        let service = ServiceId::from_vsock_port(1);
        let e = a
            .after_failure(hv(HvError::NotRegistered { service }))
            .unwrap_err();
        assert!(matches!(
            HvError::of(&e),
            Some(HvError::NotRegistered { .. })
        ));
        std::thread::sleep(Duration::from_millis(30));
        let e = a.after_failure(refused()).unwrap_err();
        let Some(HvError::GaveUp {
            attempts,
            last,
            waited,
        }) = HvError::of(&e)
        else {
            panic!("{e:?}");
        };
        assert_eq!(*attempts, 3);
        assert!(*waited >= Duration::from_millis(30));
        assert_eq!(last.error().to_string(), "no VMM listens");

        let d = Dialer::new(Duration::from_secs(60)).retries(2);
        let mut a = d.attempts();
        assert_eq!(a.attempt_timeout(), crate::context::DEFAULT_CONNECT_TIMEOUT);
        assert!(a.after_failure(refused()).is_ok());
        assert!(a.after_failure(refused()).is_ok());
        let e = a.after_failure(refused()).unwrap_err();
        assert!(
            matches!(HvError::of(&e), Some(HvError::GaveUp { attempts: 3, .. })),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn backoff_stays_in_the_upper_half_under_the_cap(
            n in 0u32..64,
            first_ms in 0u64..10_000,
            cap_ms in 0u64..100_000,
            jitter in 0.0f64..1.0,
        ) {
            let first = Duration::from_millis(first_ms);
            let cap = Duration::from_millis(cap_ms);
            let p = backoff(n, first, cap, jitter);
            let full = backoff(n, first, cap, 1.0);
            prop_assert!(p <= full && full <= cap);
            prop_assert!(p >= full / 2);
            // The schedule never shrinks.
            prop_assert!(backoff(n + 1, first, cap, 1.0) >= full);
            prop_assert!(backoff(n + 1, first, cap, 0.0) >= backoff(n, first, cap, 0.0));
        }
    }
}
