#![cfg(all(windows, feature = "inet-standin"))]
//! The framework integrations on Windows, over the AF_INET stand-in for AF_HYPERV (wine
//! has none): the same tokio types carry a tonic call and an axum request, and the
//! handlers see the peer the listener named. Run with `--features inet-standin`.

#[path = "../examples/greeter/mod.rs"]
mod greeter;

use axum::extract::ConnectInfo;
use axum::routing::get;
use greeter::{GreeterClient, GreeterServer};
use http_body_util::{BodyExt, Empty};
use hvsock::net::tokio::HvListener;
use hvsock::paths::Dirs;
use hvsock::{Context, HvAddr, ServiceId, VmId};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A stand-in context on a free loopback port, and its temp dir.
fn standin() -> (tempfile::TempDir, Context) {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dirs = Dirs::new(tmp.path().join("config"), tmp.path().join("run"));
    (tmp, Context::inet_standin(dirs, port))
}

#[tokio::test]
async fn tonic_and_axum_over_the_standin() {
    let svc = ServiceId::from_vsock_port(50051);
    let (_tmp, ctx) = standin();
    let l = HvListener::bind_with(&ctx, HvAddr::new(VmId::ZERO, svc)).unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(GreeterServer {
                server_name: "win".into(),
            })
            .serve_with_incoming(hvsock::tonic::incoming(l)),
    );
    let channel = tonic::transport::Endpoint::from_static("http://x")
        .connect_with_connector(hvsock::tonic::connector((VmId::LOOPBACK, svc)).context(ctx))
        .await
        .unwrap();
    let r = GreeterClient::new(channel).hello("wine").await.unwrap();
    assert_eq!(r.message, "hello wine, this is win");
    assert_eq!(r.peer, HvAddr::new(VmId::LOOPBACK, svc).to_string());
    server.abort();

    let svc = ServiceId::from_vsock_port(8080);
    let (_tmp, ctx) = standin();
    let l = HvListener::bind_with(&ctx, HvAddr::new(VmId::ZERO, svc)).unwrap();
    let app = axum::Router::new().route(
        "/whoami",
        get(|ConnectInfo(peer): ConnectInfo<HvAddr>| async move { peer.to_string() }),
    );
    let api = tokio::spawn(async move {
        axum::serve(l, app.into_make_service_with_connect_info::<HvAddr>()).await
    });
    let client = Client::builder(TokioExecutor::new()).build::<_, Empty<bytes::Bytes>>(
        hvsock::hyper::connector((VmId::LOOPBACK, svc)).context(ctx),
    );
    let res = client
        .get("http://x/whoami".parse().unwrap())
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        body,
        HvAddr::new(VmId::LOOPBACK, svc).to_string().as_bytes()
    );
    api.abort();
}
