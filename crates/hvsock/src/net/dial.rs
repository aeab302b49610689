//! The connecting side: plans a connect ([`crate::policy::plan_connect`]) and runs the
//! plan over its transport (`crate::transport::*::dial`), blocking, under one deadline
//! (the steps are in `crate::transport::deadline`).

use crate::addr::HvAddr;
use crate::config::partitions::HalfClose;
use crate::config::snapshot;
use crate::context::{Context, check_connect_timeout};
use crate::net::stream::HvStream;
use crate::policy::{self, Route};
use crate::transport::local::wire::Preamble;
use crate::transport::{hybrid, local, vsock};
use std::io;
use std::time::{Duration, Instant};

pub(crate) fn connect(ctx: &Context, addr: HvAddr, timeout: Duration) -> io::Result<HvStream> {
    check_connect_timeout(timeout)?;
    let deadline = Instant::now() + timeout;
    let table = snapshot::table(&ctx.dirs)?;
    let plan = policy::plan_connect(ctx.location, addr, &table)?;
    // The host enforces registration on what it dials; what others dial into the host
    // is enforced by the host's listener.
    if plan.crosses && ctx.location == crate::Location::Host {
        policy::check_registered(&*snapshot::registry(&ctx.dirs)?, addr.service_id)?;
    }
    let what = || format!("connect to {}", policy::describe_vm(addr.vm_id, &table));
    let sock = match &plan.route {
        Route::Local { folder, candidates } => {
            let preamble = Preamble {
                caller: ctx.location.claim(),
                service: addr.service_id,
            };
            local::dial::dial_local(ctx, *folder, candidates, preamble, deadline, &what)?
        }
        Route::Hybrid { path, port, guid } => {
            hybrid::dial::dial_hybrid(path, *port, *guid, deadline, &what)?
        }
        Route::Vsock { cid, port } => vsock::dial::dial_vsock(*cid, *port, deadline, &what)?,
    };
    // What the route carries, from the table the plan came from (never from the peer).
    let half_close = match &plan.route {
        Route::Hybrid { path, .. } => table
            .by_hybrid_path(path)
            .map_or(HalfClose::Lost, |p| p.half_close()),
        Route::Local { .. } | Route::Vsock { .. } => HalfClose::Carried,
    };
    Ok(HvStream::from_parts(
        sock,
        HvAddr::new(ctx.own_id(), addr.service_id),
        plan.peer,
        None,
        half_close,
        crate::stats::Meter::open(
            crate::stats::region(&ctx.dirs),
            addr.service_id,
            plan.peer.vm_id,
            false,
        ),
    ))
}
