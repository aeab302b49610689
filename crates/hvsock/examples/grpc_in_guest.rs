//! A gRPC service in a guest, called from the host (feature `tonic`).
//!
//! In the guest (or a local partition: `HVSOCK_PARTITION=web`):
//!
//! ```text
//! cargo run --example grpc_in_guest --features tonic -- serve             # any:vsock:50051
//! ```
//!
//! On the host, with the VM in the partition table (`hvsock vm add myvm ...`):
//!
//! ```text
//! cargo run --example grpc_in_guest --features tonic -- call myvm:vsock:50051 world
//! hello world, this is <guest host name>
//! you are a42e7cda-d03f-480c-9cc2-a4de20abb878:0000c383-facb-11e6-bd58-64006a7986d3
//! ```
//!
//! (From inside a guest, `a42e7cda-...` is `parent`: the host, as the guest names it.)
//!
//! `tests/examples.rs` runs both roles of this binary over local partitions (and the
//! real-VM test `hvsock_vm` runs the gRPC server in a QEMU guest).

#[path = "greeter/mod.rs"]
mod greeter;

use greeter::{GreeterClient, GreeterServer};
use hvsock::net::tokio::HvListener;
use hvsock::{Context, ToHvAddr};
use std::error::Error;
use tonic::transport::{Endpoint, Server};

const USAGE: &str = "usage: grpc_in_guest serve [ADDR]      (default any:vsock:50051)
       grpc_in_guest call ADDR [NAME]  (e.g. myvm:vsock:50051)";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = async {
        let ctx = Context::from_env()?;
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["serve"] => serve(&ctx, "any:vsock:50051").await,
            ["serve", addr] => serve(&ctx, addr).await,
            ["call", addr] => call(&ctx, addr, "host").await,
            ["call", addr, name] => call(&ctx, addr, name).await,
            _ => Err(USAGE.into()),
        }
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // tonic's errors say what failed in their sources ("transport error": why).
            let mut msg = e.to_string();
            let mut cause = e.source();
            while let Some(c) = cause {
                msg += &format!(": {c}");
                cause = c.source();
            }
            eprintln!("grpc_in_guest: {msg}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(ctx: &Context, addr: &str) -> Result<(), Box<dyn Error + Send + Sync>> {
    let listener = HvListener::bind_with(ctx, addr)?;
    let server_name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "a gRPC service over hvsock".into());
    // Scripts (and the VM test) wait for this line before calling.
    println!("listening on {}", listener.local_addr()?);
    Server::builder()
        .add_service(GreeterServer {
            server_name: server_name.into(),
        })
        .serve_with_incoming(hvsock::tonic::incoming(listener))
        .await?;
    Ok(())
}

async fn call(ctx: &Context, addr: &str, name: &str) -> Result<(), Box<dyn Error + Send + Sync>> {
    let addr = addr.to_hv_addr(ctx.dirs())?;
    // The URI is the requests' authority only: the connector decides where they go.
    let channel = Endpoint::from_static("http://hvsock")
        .connect_with_connector(hvsock::tonic::connector(addr).context(ctx.clone()))
        .await?;
    let reply = GreeterClient::new(channel).hello(name).await?;
    println!("{}\nyou are {}", reply.message, reply.peer);
    Ok(())
}
