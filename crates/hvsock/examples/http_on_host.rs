//! An HTTP API on the host, called from guests (feature `axum`).
//!
//! On the host (the API answers every child partition: VMs and local partitions):
//!
//! ```text
//! cargo run --example http_on_host --features axum -- serve        # children:vsock:8080
//! ```
//!
//! In a guest (or a local partition: `HVSOCK_PARTITION=web`):
//!
//! ```text
//! cargo run --example http_on_host --features axum -- call parent:vsock:8080 /whoami
//! {"peer":"<this guest's VM id>:00001f90-facb-11e6-bd58-64006a7986d3","vm":"myvm"}
//! ```
//!
//! `/whoami` answers with the caller's address as the host's transport knows it (and
//! its name in the host's partition table); `/echo` (POST) returns the body.
//!
//! `tests/examples.rs` runs both roles of this binary over local partitions.

use axum::extract::{ConnectInfo, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, Full};
use hvsock::net::tokio::HvListener;
use hvsock::partitions::PartitionTable;
use hvsock::{Context, HvAddr, ToHvAddr};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::error::Error;

const USAGE: &str =
    "usage: http_on_host serve [ADDR]                  (default children:vsock:8080)
       http_on_host call ADDR PATH [BODY]  (e.g. parent:vsock:8080 /whoami; a BODY POSTs)";

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = async {
        let ctx = Context::from_env()?;
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["serve"] => serve(ctx, "children:vsock:8080").await,
            ["serve", addr] => serve(ctx, addr).await,
            ["call", addr, path] => call(&ctx, addr, path, None).await,
            ["call", addr, path, body] => call(&ctx, addr, path, Some(body)).await,
            _ => Err(USAGE.into()),
        }
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = e.to_string();
            let mut cause = e.source();
            while let Some(c) = cause {
                msg += &format!(": {c}");
                cause = c.source();
            }
            eprintln!("http_on_host: {msg}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The API's routes; `ctx` names callers through its partition table.
pub fn app(ctx: Context) -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/echo", post(|body: String| async move { body }))
        .with_state(ctx)
}

/// The caller's address (the transport's, not anything the request says) and name.
async fn whoami(
    State(ctx): State<Context>,
    ConnectInfo(peer): ConnectInfo<HvAddr>,
) -> Json<serde_json::Value> {
    let name = PartitionTable::load(ctx.dirs()).ok().and_then(|t| {
        t.partitions()
            .iter()
            .find(|p| p.id == peer.vm_id)
            .map(|p| p.name.clone())
    });
    Json(serde_json::json!({ "peer": peer, "vm": name }))
}

async fn serve(ctx: Context, addr: &str) -> Result<(), BoxError> {
    let listener = HvListener::bind_with(&ctx, addr)?;
    println!("listening on {}", listener.local_addr()?);
    let app = app(ctx).into_make_service_with_connect_info::<HvAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}

async fn call(ctx: &Context, addr: &str, path: &str, body: Option<&str>) -> Result<(), BoxError> {
    let addr = addr.to_hv_addr(ctx.dirs())?;
    let client = Client::builder(TokioExecutor::new())
        .build::<_, Full<bytes::Bytes>>(hvsock::hyper::connector(addr).context(ctx.clone()));
    // The URI's host is the Host header only; the connector dials `addr`.
    let uri: http::Uri = format!("http://hvsock{path}").parse()?;
    let req = match body {
        Some(b) => http::Request::post(uri).body(Full::from(b.to_string()))?,
        None => http::Request::get(uri).body(Full::default())?,
    };
    let res = client.request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    println!("{}", String::from_utf8_lossy(&body));
    if !status.is_success() {
        return Err(format!("{status}").into());
    }
    Ok(())
}
