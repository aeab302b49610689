//! A one-method gRPC service, `hvsock.example.Greeter`, written out by hand: what
//! `tonic-prost-build` generates from this `.proto`, without needing `protoc` at build
//! time. Shared by the `grpc_in_guest` example and the tests.
//!
//! ```proto
//! syntax = "proto3";
//! package hvsock.example;
//! service Greeter { rpc Hello (HelloRequest) returns (HelloReply); }
//! message HelloRequest { string name = 1; }
//! message HelloReply { string message = 1; string peer = 2; }
//! ```
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codegen::{Body, BoxFuture, Service, StdError, http};

/// The request: who says hello.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// The answer, with the caller's address as the server's transport saw it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    #[prost(string, tag = "1")]
    pub message: String,
    /// `VMID:SERVICEID` of the calling partition (from the connection, not the request).
    #[prost(string, tag = "2")]
    pub peer: String,
}

const HELLO_PATH: &str = "/hvsock.example.Greeter/Hello";

/// The client stub.
pub struct GreeterClient {
    inner: tonic::client::Grpc<tonic::transport::Channel>,
}

impl GreeterClient {
    /// A client on a channel (e.g. one from `hvsock::tonic::connector`).
    pub fn new(channel: tonic::transport::Channel) -> GreeterClient {
        GreeterClient {
            inner: tonic::client::Grpc::new(channel),
        }
    }

    /// Calls `Hello`.
    pub async fn hello(&mut self, name: &str) -> Result<HelloReply, tonic::Status> {
        self.inner
            .ready()
            .await
            .map_err(|e| tonic::Status::unavailable(format!("channel not ready: {e}")))?;
        let request = tonic::Request::new(HelloRequest { name: name.into() });
        let path = http::uri::PathAndQuery::from_static(HELLO_PATH);
        let codec = tonic_prost::ProstCodec::<HelloRequest, HelloReply>::default();
        Ok(self.inner.unary(request, path, codec).await?.into_inner())
    }
}

/// The service: greets, and tells the caller who it is.
#[derive(Clone)]
pub struct GreeterServer {
    /// Who answers (e.g. the guest's host name).
    pub server_name: Arc<str>,
}

impl GreeterServer {
    /// The handler.
    async fn hello(
        &self,
        request: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        // The connection's peer, put there by tonic from hvsock's `Connected` info.
        let peer = hvsock::tonic::peer_addr(&request)
            .ok_or_else(|| tonic::Status::internal("not called over hvsock"))?;
        let name = &request.get_ref().name;
        Ok(tonic::Response::new(HelloReply {
            message: format!("hello {name}, this is {}", self.server_name),
            peer: peer.to_string(),
        }))
    }
}

impl tonic::server::NamedService for GreeterServer {
    const NAME: &'static str = "hvsock.example.Greeter";
}

/// The unary method as tonic's server machinery wants it.
struct HelloMethod(GreeterServer);

impl tonic::server::UnaryService<HelloRequest> for HelloMethod {
    type Response = HelloReply;
    type Future = BoxFuture<tonic::Response<HelloReply>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<HelloRequest>) -> Self::Future {
        let server = self.0.clone();
        Box::pin(async move { server.hello(request).await })
    }
}

impl<B> Service<http::Request<B>> for GreeterServer
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() == HELLO_PATH {
            let method = HelloMethod(self.clone());
            return Box::pin(async move {
                let codec = tonic_prost::ProstCodec::<HelloReply, HelloRequest>::default();
                Ok(tonic::server::Grpc::new(codec).unary(method, req).await)
            });
        }
        Box::pin(async move { Ok(tonic::Status::unimplemented("no such method").into_http()) })
    }
}
