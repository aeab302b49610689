//! tonic (feature `tonic`): gRPC servers on a tokio [`HvListener`] and channels to an
//! [`HvAddr`].
//!
//! Server: [`incoming`] turns a listener into the stream that
//! `tonic::transport::Server::serve_with_incoming` takes. Its connections are
//! [`HvStream`]s, whose [`Connected`] info is an [`HvConnectInfo`]: tonic puts it in
//! every request's extensions, so a handler knows which partition called
//! ([`peer_addr`]), as the transport knows it, not as the client claims.
//!
//! ```no_run
//! use hvsock::net::tokio::HvListener;
//! use hvsock::{ServiceId, VmId};
//! # async fn f(services: tonic::service::Routes) -> Result<(), Box<dyn std::error::Error>> {
//! let listener = HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(50051)))?;
//! tonic::transport::Server::builder()
//!     .add_routes(services) // or .add_service(MyServer::new(...))
//!     .serve_with_incoming(hvsock::tonic::incoming(listener))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Client: [`connector`] (hyper's [`HvConnector`]) for `Endpoint::connect_with_connector`;
//! the endpoint's URI is only the requests' authority, every connection goes to the
//! connector's address.
//!
//! ```no_run
//! use hvsock::{ServiceId, VmId};
//! use tonic::transport::Endpoint;
//! # async fn f(vm: VmId) -> Result<(), Box<dyn std::error::Error>> {
//! let channel = Endpoint::from_static("http://guest")
//!     .connect_with_connector(hvsock::tonic::connector((vm, ServiceId::from_vsock_port(50051))))
//!     .await?;
//! # Ok(()) }
//! ```

use crate::addr::HvAddr;
pub use crate::integrations::hyper::{HvConnector, connector};
use crate::integrations::{ACCEPT_ERROR_PAUSE, HvConnectInfo, is_connection_error};
use crate::net::tokio::{HvListener, HvStream};
use futures_core::Stream;
use std::io;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};
pub use tonic::transport::server::Connected;

/// tonic's connection info of an accepted (or dialed) stream: both its ends.
impl Connected for HvStream {
    type ConnectInfo = HvConnectInfo;

    fn connect_info(&self) -> HvConnectInfo {
        HvConnectInfo::of(self)
    }
}

/// The peer of the connection a request came on: the calling partition and service.
/// `None` if the request did not come through an hvsock server (another transport, a
/// unit test building requests by hand).
///
/// ```
/// let req = tonic::Request::new(());
/// assert_eq!(hvsock::tonic::peer_addr(&req), None);
/// ```
pub fn peer_addr<T>(request: &tonic::Request<T>) -> Option<HvAddr> {
    connect_info(request).map(|i| i.peer)
}

/// Both ends of the connection a request came on (see [`peer_addr`]).
pub fn connect_info<T>(request: &tonic::Request<T>) -> Option<HvConnectInfo> {
    request.extensions().get::<HvConnectInfo>().copied()
}

/// The connections of a listener as a stream, for `Server::serve_with_incoming`.
///
/// ```no_run
/// # fn f() -> std::io::Result<()> {
/// use hvsock::net::tokio::HvListener;
/// use hvsock::{ServiceId, VmId};
/// let incoming = hvsock::tonic::incoming(HvListener::bind((VmId::ZERO, ServiceId::from_vsock_port(50051)))?);
/// assert_eq!(incoming.listener().local_addr()?.service_id, ServiceId::from_vsock_port(50051));
/// # Ok(()) }
/// ```
pub fn incoming(listener: HvListener) -> HvIncoming {
    HvIncoming {
        listener,
        pause: None,
    }
}

/// The stream of [`incoming`]: never ends; yields accept errors, skipping those about
/// one connection, and pauses a second after any other (tonic logs an error and polls
/// again at once: the pause keeps that from spinning).
#[derive(Debug)]
pub struct HvIncoming {
    listener: HvListener,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl HvIncoming {
    /// The listener.
    pub fn listener(&self) -> &HvListener {
        &self.listener
    }

    /// The listener back.
    pub fn into_inner(self) -> HvListener {
        self.listener
    }
}

impl From<HvListener> for HvIncoming {
    fn from(l: HvListener) -> HvIncoming {
        incoming(l)
    }
}

impl Stream for HvIncoming {
    type Item = io::Result<HvStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let me = self.get_mut();
        if let Some(p) = &mut me.pause {
            ready!(p.as_mut().poll(cx));
            me.pause = None;
        }
        loop {
            match ready!(me.listener.poll_accept(cx)) {
                Ok((s, _peer)) => return Poll::Ready(Some(Ok(s))),
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    me.pause = Some(Box::pin(tokio::time::sleep(ACCEPT_ERROR_PAUSE)));
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}
