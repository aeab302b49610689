//! hyper (feature `hyper`): a client connector that dials a Hyper-V socket address.
//!
//! [`HvConnector`] is a `tower` `Service<Uri>` whose connections are
//! [`TokioIo`]`<`[`HvStream`]`>`: hyper's I/O traits plus hyper-util's
//! [`Connection`], so it plugs into hyper-util's legacy `Client` and tonic's
//! `Endpoint::connect_with_connector`. It always dials its one address: the URI only
//! gives the request its `Host` and path (`http://myvm/...` reads well, but the host
//! part is not looked up).
//!
//! ```no_run
//! use http_body_util::{BodyExt, Empty};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use hvsock::{HvAddr, ServiceId, VmId};
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let api = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(8080));
//! let client = Client::builder(TokioExecutor::new())
//!     .build::<_, Empty<bytes::Bytes>>(hvsock::hyper::connector(api));
//! let res = client.get("http://host/status".parse()?).await?;
//! let body = res.into_body().collect().await?.to_bytes();
//! # Ok(()) }
//! ```
//!
//! The response's extensions carry the connection's [`HvConnectInfo`] (hyper-util adds
//! a connection's extra to every response), as do the [`HvStream`]'s own
//! [`peer_addr`](HvStream::peer_addr) and [`local_addr`](HvStream::local_addr).

use crate::addr::HvAddr;
use crate::context::{Context, DEFAULT_CONNECT_TIMEOUT};
use crate::integrations::HvConnectInfo;
use crate::net::tokio::HvStream;
use http::Uri;
use hyper_util::client::legacy::connect::Connected;
pub use hyper_util::client::legacy::connect::Connection;
pub use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

/// A connector for hyper and tonic clients: every connection it makes goes to one
/// [`HvAddr`], from this process's partition or an explicit [`Context`].
///
/// ```no_run
/// use hvsock::hyper::HvConnector;
/// use hvsock::{Context, HvAddr, ServiceId, VmId};
/// use std::time::Duration;
/// # fn f() -> std::io::Result<()> {
/// let addr = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(8080));
/// let c = HvConnector::new(addr)
///     .context(Context::from_env()?)
///     .timeout(Duration::from_secs(10));
/// assert_eq!(c.addr(), addr);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HvConnector {
    addr: HvAddr,
    /// `None`: [`Context::from_env`] at each connect, as [`HvStream::connect`] does.
    ctx: Option<Context>,
    timeout: Duration,
}

/// A connector to `addr` ([`HvConnector::new`]).
///
/// ```no_run
/// use hvsock::{ServiceId, VmId};
/// let c = hvsock::hyper::connector((VmId::PARENT, ServiceId::from_vsock_port(8080)));
/// ```
pub fn connector(addr: impl Into<HvAddr>) -> HvConnector {
    HvConnector::new(addr)
}

impl HvConnector {
    /// Connects to `addr` from this process's partition ([`Context::from_env`], read
    /// at each connect) with the default 2 s connect timeout.
    pub fn new(addr: impl Into<HvAddr>) -> HvConnector {
        HvConnector {
            addr: addr.into(),
            ctx: None,
            timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Connects from `ctx` instead (e.g. a local partition in a test).
    pub fn context(mut self, ctx: Context) -> HvConnector {
        self.ctx = Some(ctx);
        self
    }

    /// The connect timeout (more than 0, at most 300 s; checked at connect).
    pub fn timeout(mut self, timeout: Duration) -> HvConnector {
        self.timeout = timeout;
        self
    }

    /// The address every connection goes to.
    pub fn addr(&self) -> HvAddr {
        self.addr
    }

    /// Dials one connection (what the `Service` call runs).
    ///
    /// ```no_run
    /// # async fn f() -> std::io::Result<()> {
    /// use hvsock::{ServiceId, VmId};
    /// let io = hvsock::hyper::connector((VmId::PARENT, ServiceId::from_vsock_port(80)))
    ///     .connect()
    ///     .await?;
    /// println!("connected to {}", io.inner().peer_addr()?);
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> io::Result<TokioIo<HvStream>> {
        let ctx = match &self.ctx {
            Some(c) => c.clone(),
            None => Context::from_env()?,
        };
        HvStream::connect_with(&ctx, self.addr, self.timeout)
            .await
            .map(TokioIo::new)
    }
}

impl tower_service::Service<Uri> for HvConnector {
    type Response = TokioIo<HvStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<HvStream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        // Every call dials afresh: nothing to wait for.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let me = self.clone();
        Box::pin(async move { me.connect().await })
    }
}

/// hyper-util's pool asks a connection what it is; an [`HvStream`] is plain (no proxy,
/// no ALPN: HTTP/2 is chosen by the client's settings) and carries its
/// [`HvConnectInfo`] into every response's extensions.
impl Connection for HvStream {
    fn connected(&self) -> Connected {
        Connected::new().extra(HvConnectInfo::of(self))
    }
}
