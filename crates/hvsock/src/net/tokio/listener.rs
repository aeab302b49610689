//! The tokio [`HvListener`].

use crate::addr::{HvAddr, ToHvAddr};
use crate::context::Context;
use crate::net::accept::Core;
use crate::sys::Epoll;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::stream::*;

/// A listening Hyper-V socket for tokio.
#[derive(Debug)]
pub struct HvListener {
    core: Mutex<Core>,
    io: AsyncFd<Arc<Epoll>>,
    addr: HvAddr,
}

impl HvListener {
    /// Binds in this process's partition. Errors as [`crate::HvListener::bind`].
    pub async fn bind(addr: impl ToHvAddr) -> io::Result<HvListener> {
        Self::bind_with(&Context::from_env()?, addr)
    }

    /// Binds in an explicit [`Context`].
    pub fn bind_with(ctx: &Context, addr: impl ToHvAddr) -> io::Result<HvListener> {
        Self::from_std(ctx.bind(addr)?)
    }

    /// Wraps a std listener.
    pub fn from_std(l: crate::HvListener) -> io::Result<HvListener> {
        let addr = l.local_addr()?;
        let core = l.into_core();
        Ok(HvListener {
            io: crate::sys::async_fd(core.epoll(), Interest::READABLE)?,
            core: Mutex::new(core),
            addr,
        })
    }

    /// Waits for a connection; the peer as this side names it.
    pub async fn accept(&self) -> io::Result<(HvStream, HvAddr)> {
        loop {
            let wake = {
                let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
                let mut events = 1;
                while core.pop_peek().is_none() && events > 0 {
                    events = core.poll(Some(Duration::ZERO))?;
                }
                if let Some((sock, peer, ticket)) = core.pop() {
                    let s = HvStream::from_socket(sock, self.addr, peer, ticket.map(Arc::new))?;
                    return Ok((s, peer));
                }
                core.next_wakeup()
            };
            let readable = self.io.readable();
            match wake {
                Some(t) => {
                    let t = tokio::time::Instant::from_std(t.max(Instant::now()));
                    tokio::select! {
                        r = readable => r?.clear_ready(),
                        _ = tokio::time::sleep_until(t) => {}
                    }
                }
                None => readable.await?.clear_ready(),
            }
        }
    }

    /// The address this listener was bound to.
    pub fn local_addr(&self) -> io::Result<HvAddr> {
        Ok(self.addr)
    }
}
