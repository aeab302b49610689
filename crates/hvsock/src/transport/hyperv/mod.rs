//! The Hyper-V transport of Windows: the kernel's own AF_HYPERV sockets.
//!
//! On a Windows host hvsock adds no routing and no partition table: Windows resolves
//! the wildcards (ZERO, CHILDREN, LOOPBACK, PARENT), enforces that a service crossing
//! partitions is registered, and reports the peer's VM id on `accept`. hvsock keeps its
//! one addressing model, its names (services from the registry, VMs from the Host
//! Compute Service) and its typed errors ([`errors`]), and honours its own
//! enable/disable flag on the services it connects to and listens on.
//!
//! Tests run the same code over an AF_INET stand-in on loopback (feature
//! `inet-standin`, never in a release build), because wine has no AF_HYPERV: see
//! [`Family`].

// Pure, so built and tested everywhere; only Windows calls it.
#[cfg(windows)]
pub(crate) mod accept;
#[cfg(windows)]
pub(crate) mod dial;
#[cfg_attr(unix, allow(dead_code))]
pub(crate) mod errors;

/// How the Windows side makes its sockets.
#[cfg(windows)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `socket(AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW)`: the real thing.
    HyperV,
    /// Tests only: TCP on this loopback address stands in for every AF_HYPERV
    /// endpoint (one service per stand-in), so the WinSock, listener and tokio code
    /// paths run under wine. The peer of an accepted connection is reported as
    /// LOOPBACK.
    #[cfg(feature = "inet-standin")]
    InetStandIn(std::net::SocketAddr),
}

#[cfg(windows)]
impl Family {
    /// A new stream socket of this family.
    pub(crate) fn socket(self) -> std::io::Result<socket2::Socket> {
        match self {
            Family::HyperV => crate::sys::hyperv_socket().map_err(errors::socket_error),
            #[cfg(feature = "inet-standin")]
            Family::InetStandIn(at) => socket2::Socket::new(
                socket2::Domain::for_address(at),
                socket2::Type::STREAM,
                None,
            ),
        }
    }

    /// Where `addr` is, for this family.
    pub(crate) fn sockaddr(self, addr: &crate::HvAddr) -> socket2::SockAddr {
        match self {
            Family::HyperV => crate::sys::sockaddr_hv(addr),
            #[cfg(feature = "inet-standin")]
            Family::InetStandIn(at) => at.into(),
        }
    }

    /// The address a peer came from, as `accept` reported it.
    pub(crate) fn peer(self, from: &socket2::SockAddr, service: crate::ServiceId) -> crate::HvAddr {
        match self {
            Family::HyperV => crate::sys::hv_addr_of(from)
                .unwrap_or(crate::HvAddr::new(crate::VmId::ZERO, service)),
            #[cfg(feature = "inet-standin")]
            Family::InetStandIn(_) => crate::HvAddr::new(crate::VmId::LOOPBACK, service),
        }
    }
}

/// On Windows every process is in the root partition (or a VM of its own Windows):
/// local partitions and guest mode are Linux features.
#[cfg(windows)]
pub(crate) fn check_root(ctx: &crate::Context) -> std::io::Result<()> {
    match ctx.location {
        crate::Location::Host => Ok(()),
        other => Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "{other:?}: local partitions and guest mode exist on Linux only; on Windows the kernel's Hyper-V sockets are used"
            ),
        )),
    }
}

/// hvsock's own switch: a service disabled in the registry (`hvsock service disable`)
/// is refused by hvsock's connects and listeners. Windows itself has no such switch,
/// so other programs still reach it. A registry that cannot be read decides nothing.
#[cfg(windows)]
pub(crate) fn check_enabled(
    ctx: &crate::Context,
    service: crate::ServiceId,
) -> std::io::Result<()> {
    let Ok(reg) = crate::config::registry::Registry::load(&ctx.dirs) else {
        return Ok(());
    };
    match reg.get(service) {
        Some(s) if !s.enabled => Err(crate::HvError::Disabled {
            service,
            name: s.name.clone(),
        }
        .into()),
        _ => Ok(()),
    }
}
