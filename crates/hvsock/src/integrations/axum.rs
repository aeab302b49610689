//! axum (feature `axum`): `axum::serve` on a tokio [`HvListener`], with the caller's
//! [`HvAddr`] for handlers.
//!
//! [`HvListener`] implements axum's [`Listener`], so `axum::serve(listener, app)` serves
//! Hyper-V sockets. With `into_make_service_with_connect_info::<HvAddr>()` a handler
//! takes `ConnectInfo<HvAddr>`: the partition that called (its VM id) and the service,
//! as the transport knows it (a guest's VM id comes from its VMM socket or CID, a local
//! partition's from the kernel-checked handshake), never what the client claims.
//! `ConnectInfo<HvConnectInfo>` gives both ends. Clients: [`crate::hyper`].
//!
//! ```no_run
//! use axum::extract::ConnectInfo;
//! use axum::{Router, routing::get};
//! use hvsock::net::tokio::HvListener;
//! use hvsock::{HvAddr, ServiceId, VmId};
//!
//! # async fn f() -> std::io::Result<()> {
//! async fn whoami(ConnectInfo(peer): ConnectInfo<HvAddr>) -> String {
//!     format!("you are partition {}\n", peer.vm_id)
//! }
//! let app = Router::new().route("/whoami", get(whoami));
//! // Every child partition (VM) may call service 8080.
//! let listener = HvListener::bind((VmId::CHILDREN, ServiceId::from_vsock_port(8080)))?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<HvAddr>()).await
//! # }
//! ```

use crate::addr::HvAddr;
use crate::integrations::{ACCEPT_ERROR_PAUSE, HvConnectInfo, is_connection_error};
use crate::net::tokio::{HvListener, HvStream};
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io;

/// Accepts as [`HvListener::accept`]; errors that concern one connection are retried
/// at once, others after a one-second pause (axum's `Listener` has no error path: this
/// is what its TCP listener does too).
impl Listener for HvListener {
    type Io = HvStream;
    type Addr = HvAddr;

    async fn accept(&mut self) -> (HvStream, HvAddr) {
        loop {
            match HvListener::accept(self).await {
                Ok(conn) => return conn,
                Err(e) if is_connection_error(&e) => {}
                Err(_) => tokio::time::sleep(ACCEPT_ERROR_PAUSE).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<HvAddr> {
        HvListener::local_addr(self)
    }
}

/// `ConnectInfo<HvAddr>`: the peer as the listener named it.
impl Connected<IncomingStream<'_, HvListener>> for HvAddr {
    fn connect_info(stream: IncomingStream<'_, HvListener>) -> HvAddr {
        *stream.remote_addr()
    }
}

/// `ConnectInfo<HvConnectInfo>`: the peer and the listener's own address.
impl Connected<IncomingStream<'_, HvListener>> for HvConnectInfo {
    fn connect_info(stream: IncomingStream<'_, HvListener>) -> HvConnectInfo {
        HvConnectInfo {
            local: stream.io().local_addr().unwrap_or_default(),
            peer: *stream.remote_addr(),
        }
    }
}
