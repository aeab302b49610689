#![cfg(unix)]
//! The framework integrations over local partitions: a tonic and an axum server each
//! see the caller's partition as the transport names it, whatever the client says.

mod common;
#[path = "../examples/greeter/mod.rs"]
mod greeter;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use common::*;
use greeter::{GreeterClient, GreeterServer};
use http_body_util::{BodyExt, Empty};
use hvsock::integrations::HvConnectInfo;
use hvsock::net::tokio::HvListener;
use hvsock::{Context, HvAddr, ServiceId, VmId};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tonic::transport::{Endpoint, Server};

/// Serves the greeter on `l` in the background.
fn serve_greeter(l: HvListener, name: &str) -> tokio::task::JoinHandle<()> {
    let svc = GreeterServer {
        server_name: name.into(),
    };
    tokio::spawn(async move {
        Server::builder()
            .add_service(svc)
            .serve_with_incoming(hvsock::tonic::incoming(l))
            .await
            .unwrap()
    })
}

/// A greeter client from `ctx` to `to`.
async fn greeter(ctx: Context, to: HvAddr) -> GreeterClient {
    // The URI names another partition on purpose: only the connector decides.
    let channel = Endpoint::from_static("http://bbbbbbbb.invalid")
        .connect_with_connector(hvsock::tonic::connector(to).context(ctx))
        .await
        .unwrap();
    GreeterClient::new(channel)
}

#[tokio::test]
async fn tonic_handler_sees_the_calling_partition() {
    let f = Fixture::new();
    // A service in partition a (a guest's), called from the host.
    let l = HvListener::bind_with(&f.local("a"), HvAddr::new(VmId::ZERO, SVC)).unwrap();
    let in_a = serve_greeter(l, "a");
    let mut c = greeter(f.host(), HvAddr::new(A, SVC)).await;
    let r = c.hello("host").await.unwrap();
    assert_eq!(r.message, "hello host, this is a");
    assert_eq!(r.peer, HvAddr::new(VmId::PARENT, SVC).to_string());
    // A second call on the same channel: same connection, same answer.
    assert_eq!(c.hello("again").await.unwrap().peer, r.peer);

    // A service on the host for every child: each caller is told its own id.
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::CHILDREN, SVC2)).unwrap();
    let on_host = serve_greeter(l, "host");
    for (name, id) in [("a", A), ("b", B)] {
        let mut c = greeter(f.local(name), HvAddr::new(VmId::PARENT, SVC2)).await;
        let r = c.hello(name).await.unwrap();
        assert_eq!(r.peer, HvAddr::new(id, SVC2).to_string(), "caller {name}");
    }
    // Nothing listens on a's SVC2: the channel's connect fails with hvsock's error.
    let e = Endpoint::from_static("http://a")
        .connect_with_connector(hvsock::tonic::connector((A, SVC2)).context(f.host()))
        .await
        .unwrap_err();
    let mut chain = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        chain += &format!(": {c}");
        cause = c.source();
    }
    assert!(chain.contains("nothing listens"), "{chain}");
    in_a.abort();
    on_host.abort();
}

/// GETs `path` from `ctx` through the hyper connector to `to`: the body and the
/// connection info the client saw.
async fn get_from(ctx: Context, to: HvAddr, path: &str) -> (String, HvConnectInfo) {
    let client = Client::builder(TokioExecutor::new())
        .build::<_, Empty<bytes::Bytes>>(hvsock::hyper::connector(to).context(ctx));
    let res = client
        .get(format!("http://aaaaaaaa.invalid{path}").parse().unwrap())
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let info = *res.extensions().get::<HvConnectInfo>().unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (String::from_utf8(body.to_vec()).unwrap(), info)
}

#[tokio::test]
async fn axum_handler_sees_the_calling_partition() {
    let f = Fixture::new();
    // An API on the host for every child partition, peers as `ConnectInfo<HvAddr>`.
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::CHILDREN, SVC)).unwrap();
    assert_eq!(
        axum::serve::Listener::local_addr(&l).unwrap(),
        HvAddr::new(VmId::CHILDREN, SVC)
    );
    let app = Router::new().route(
        "/whoami",
        get(|ConnectInfo(peer): ConnectInfo<HvAddr>| async move { peer.to_string() }),
    );
    let api = tokio::spawn(async move {
        axum::serve(l, app.into_make_service_with_connect_info::<HvAddr>())
            .await
            .unwrap()
    });
    for (name, id) in [("a", A), ("b", B)] {
        let to = HvAddr::new(VmId::PARENT, SVC);
        let (body, info) = get_from(f.local(name), to, "/whoami").await;
        assert_eq!(body, HvAddr::new(id, SVC).to_string(), "caller {name}");
        assert_eq!(info.peer, to);
    }

    // Both ends, as `ConnectInfo<HvConnectInfo>`, on a service of partition b.
    let l = HvListener::bind_with(&f.local("b"), HvAddr::new(VmId::PARENT, SVC2)).unwrap();
    let app = Router::new().route(
        "/ends",
        get(|ConnectInfo(i): ConnectInfo<HvConnectInfo>| async move {
            format!("{} {}", i.local, i.peer)
        }),
    );
    let in_b = tokio::spawn(async move {
        axum::serve(
            l,
            app.into_make_service_with_connect_info::<HvConnectInfo>(),
        )
        .await
        .unwrap()
    });
    let (body, info) = get_from(f.host(), HvAddr::new(B, SVC2), "/ends").await;
    let want = format!(
        "{} {}",
        HvAddr::new(VmId::PARENT, SVC2),
        HvAddr::new(VmId::PARENT, SVC2)
    );
    assert_eq!(body, want);
    assert_eq!(info.peer, HvAddr::new(B, SVC2));
    api.abort();
    in_b.abort();
}

#[tokio::test]
async fn connector_is_a_tower_service_that_dials_its_address() {
    use tower_service::Service;
    let f = Fixture::new();
    let l = HvListener::bind_with(&f.host(), HvAddr::new(VmId::CHILDREN, SVC)).unwrap();
    let mut c = hvsock::hyper::connector((VmId::PARENT, SVC)).context(f.local("a"));
    assert_eq!(c.addr(), HvAddr::new(VmId::PARENT, SVC));
    std::future::poll_fn(|cx| c.poll_ready(cx)).await.unwrap();
    // Whatever the URI says, the connection goes to the connector's address.
    // (The listener answers the handshake in accept: run both at once.)
    let (io, accepted) = tokio::join!(c.call("http://127.0.0.1:1/".parse().unwrap()), l.accept());
    let (io, (_, peer)) = (io.unwrap(), accepted.unwrap());
    assert_eq!(peer, HvAddr::new(A, SVC));
    assert_eq!(
        io.inner().peer_addr().unwrap(),
        HvAddr::new(VmId::PARENT, SVC)
    );
    // A service nobody listens on: the error is the library's.
    let mut c = hvsock::hyper::connector((VmId::PARENT, ServiceId::from_vsock_port(5001)))
        .context(f.local("a"));
    let e = c.call("http://x/".parse().unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
}
