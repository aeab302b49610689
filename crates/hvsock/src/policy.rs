//! The Hyper-V semantics as pure functions: where a connect goes, what a bind listens
//! on, whom a listener accepts, and how a peer is named. No I/O here, so that every
//! rule is unit-tested on its own.

use crate::addr::{HvAddr, ServiceId, VmId};
use crate::config::partitions::{ConnectForm, Partition, PartitionKind, PartitionTable};
use crate::config::registry::Registry;
use crate::error::HvError;
use std::io::{self, ErrorKind};
use std::path::PathBuf;

/// Where a process, and the sockets it makes, live.
///
/// ```
/// use hvsock::{Context, Location, paths::Dirs};
///
/// let ctx = Context::host(Dirs::new("/tmp/c", "/tmp/r"));
/// assert_eq!(ctx.location(), Location::Host);
/// assert_eq!(Context::guest(Dirs::new("/tmp/c", "/tmp/r")).location(), Location::Guest);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// The root partition of this machine (the Hyper-V host). The default.
    Host,
    /// A local partition from the table: a child of the host on the same machine.
    Local(VmId),
    /// Inside a VM guest: PARENT is the host over AF_VSOCK (CID 2).
    Guest,
}

impl Location {
    /// The id this location claims in a local preamble (zero for a root partition).
    pub(crate) fn claim(self) -> VmId {
        match self {
            Location::Local(id) => id,
            Location::Host | Location::Guest => VmId::ZERO,
        }
    }

    /// The folder of the runtime dir holding this location's local listeners.
    pub(crate) fn folder(self) -> Folder {
        match self {
            Location::Local(id) => Folder::Local(id),
            Location::Host | Location::Guest => Folder::Root,
        }
    }
}

/// A folder of the runtime dir: one per partition that has local listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Folder {
    /// The machine's root partition (host, or a guest's own root).
    Root,
    /// A local partition.
    Local(VmId),
}

/// Which peers a local listener socket is for; part of its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Selector {
    Any,
    Children,
    Loopback,
    Parent,
    Id(VmId),
}

/// How a peer relates to the partition that accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relation {
    /// The same partition (loopback).
    SelfPartition,
    /// The acceptor's parent.
    Parent,
    /// A child of the acceptor, by id.
    Child(VmId),
}

impl Relation {
    /// The peer's address as the accepting side reports it.
    pub(crate) fn peer_vm_id(self) -> VmId {
        match self {
            Relation::SelfPartition => VmId::LOOPBACK,
            Relation::Parent => VmId::PARENT,
            Relation::Child(id) => id,
        }
    }

    /// Whether the connection crosses partitions (and so needs registration).
    pub(crate) fn crosses(self) -> bool {
        self != Relation::SelfPartition
    }
}

impl Selector {
    /// Whether a listener with this selector accepts a peer so related, in `loc`.
    pub(crate) fn accepts(self, rel: Relation, loc: Location) -> bool {
        match self {
            Selector::Any => true,
            Selector::Children => matches!(rel, Relation::Child(_)),
            Selector::Loopback => rel == Relation::SelfPartition,
            Selector::Parent => rel == Relation::Parent,
            Selector::Id(x) => match rel {
                Relation::Child(c) => c == x,
                Relation::SelfPartition => loc == Location::Local(x),
                Relation::Parent => false,
            },
        }
    }
}

pub(crate) fn err(kind: ErrorKind, msg: impl Into<String>) -> io::Error {
    io::Error::new(kind, msg.into())
}

/// Names a VM id for messages: its wildcard name, or table name and id.
pub(crate) fn describe_vm(id: VmId, table: &PartitionTable) -> String {
    if let Some(n) = id.wildcard_name() {
        return n.to_ascii_uppercase();
    }
    match table.get(id) {
        Some(p) => format!("{} ({id})", p.name),
        None => id.to_string(),
    }
}

/// Checks that `service` may cross partitions: registered and enabled on the host.
pub(crate) fn check_registered(registry: &Registry, service: ServiceId) -> io::Result<()> {
    match registry.get(service) {
        Some(s) if s.enabled => Ok(()),
        Some(s) => Err(HvError::Disabled {
            service,
            name: s.name.clone(),
        }
        .into()),
        None => Err(HvError::NotRegistered { service }.into()),
    }
}

/// Where a connect goes, before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// A local listener in `folder`; try the selectors in order (most specific first).
    Local {
        folder: Folder,
        candidates: Vec<Selector>,
    },
    /// A hybrid-vsock VM: its VMM's Unix socket and the guest port, or the service
    /// id where the VMM takes `CONNECT <guid>` for it (see [`hybrid_guid`]).
    Hybrid {
        path: PathBuf,
        port: u32,
        guid: Option<ServiceId>,
    },
    /// A kernel AF_VSOCK peer.
    Vsock { cid: u32, port: u32 },
}

/// A planned connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectPlan {
    pub route: Route,
    /// The peer as the caller names it.
    pub peer: HvAddr,
    /// Whether the host's registry must allow the service (checked by the caller).
    pub crosses: bool,
}

fn invalid_target(v: VmId) -> io::Error {
    err(
        ErrorKind::InvalidInput,
        format!(
            "cannot connect to {}: it names a set of partitions; connect to a partition id, LOOPBACK or PARENT",
            v.wildcard_name().unwrap_or("?").to_ascii_uppercase()
        ),
    )
}

/// Plans a connect from `loc` to `addr`.
pub(crate) fn plan_connect(
    loc: Location,
    addr: HvAddr,
    table: &PartitionTable,
) -> io::Result<ConnectPlan> {
    let HvAddr {
        vm_id: v,
        service_id: s,
    } = addr;
    let to_self = |loc: Location| ConnectPlan {
        route: Route::Local {
            folder: loc.folder(),
            candidates: match loc {
                Location::Local(id) => vec![Selector::Id(id), Selector::Loopback, Selector::Any],
                _ => vec![Selector::Loopback, Selector::Any],
            },
        },
        peer: HvAddr::new(VmId::LOOPBACK, s),
        crosses: false,
    };
    if v == VmId::LOOPBACK || loc == Location::Local(v) {
        return Ok(to_self(loc));
    }
    if v == VmId::PARENT {
        return match loc {
            Location::Host => Err(err(
                ErrorKind::InvalidInput,
                "cannot connect to PARENT: this process is in the root partition (the host), which has no parent; \
                 set HVSOCK_GUEST=1 inside a VM or HVSOCK_PARTITION=NAME in a local partition",
            )),
            Location::Local(id) => Ok(ConnectPlan {
                route: Route::Local {
                    folder: Folder::Root,
                    candidates: vec![Selector::Id(id), Selector::Children, Selector::Any],
                },
                peer: HvAddr::new(VmId::PARENT, s),
                crosses: true,
            }),
            Location::Guest => Ok(ConnectPlan {
                route: Route::Vsock {
                    cid: crate::VSOCK_HOST_CID,
                    port: s.port(),
                },
                peer: HvAddr::new(VmId::PARENT, s),
                crosses: true,
            }),
        };
    }
    if v.is_wildcard() {
        return Err(invalid_target(v));
    }
    let p: &Partition = match (loc, table.get(v)) {
        (Location::Guest, _) => {
            return Err(err(
                ErrorKind::InvalidInput,
                format!("cannot connect to {v}: a guest reaches only PARENT and LOOPBACK"),
            ));
        }
        (_, None) => {
            return Err(HvError::unknown_id(v).into());
        }
        (Location::Local(own), Some(p)) => {
            return Err(HvError::NotAllowed {
                from: describe_vm(own, table),
                to: p.name.clone(),
            }
            .into());
        }
        (Location::Host, Some(p)) => p,
    };
    let route = match &p.kind {
        PartitionKind::Local => Route::Local {
            folder: Folder::Local(v),
            candidates: vec![Selector::Parent, Selector::Any],
        },
        PartitionKind::Hybrid { path } => Route::Hybrid {
            path: path.clone(),
            port: s.port(),
            guid: hybrid_guid(p.connect_form, s),
        },
        PartitionKind::Cid { cid } => Route::Vsock {
            cid: *cid,
            port: s.port(),
        },
    };
    Ok(ConnectPlan {
        route,
        peer: addr,
        crosses: true,
    })
}

/// The service id by which a hybrid VM's VMM names `service`, if it names it by GUID:
/// on a VMM of the GUID form (OpenVMM), a service that is no vsock port template.
/// Template services are their port on every VMM.
pub(crate) fn hybrid_guid(form: ConnectForm, service: ServiceId) -> Option<ServiceId> {
    (form == ConnectForm::Guid && service.vsock_port().is_none()).then_some(service)
}

/// Which hybrid-vsock VMs a host listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VmSet {
    None,
    /// Every VM of that kind in the table, including ones added after bind.
    All,
    One(VmId),
}

/// A planned bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BindPlan {
    /// The local listener socket, if any.
    pub local: Option<Selector>,
    /// Hybrid VMs served (host only).
    pub hybrid: VmSet,
    /// `--cid` VMs served over an AF_VSOCK listener (host only).
    pub vsock: VmSet,
    /// An AF_VSOCK listener for the parent (guest only).
    pub guest_vsock: bool,
    /// Whether the host's registry must allow the service.
    pub crosses: bool,
}

/// Plans a bind in `loc` to `addr`.
pub(crate) fn plan_bind(
    loc: Location,
    addr: HvAddr,
    table: &PartitionTable,
) -> io::Result<BindPlan> {
    let v = addr.vm_id;
    let none = BindPlan {
        local: None,
        hybrid: VmSet::None,
        vsock: VmSet::None,
        guest_vsock: false,
        crosses: false,
    };
    if v == VmId::BROADCAST || v == VmId::SILOHOST {
        return Err(err(
            ErrorKind::InvalidInput,
            format!(
                "cannot bind to {}: listeners bind a partition id, ANY, CHILDREN, LOOPBACK or PARENT",
                v.wildcard_name().unwrap().to_ascii_uppercase()
            ),
        ));
    }
    let local = |sel| BindPlan {
        local: Some(sel),
        ..none.clone()
    };
    Ok(match loc {
        Location::Host => match v {
            VmId::LOOPBACK => local(Selector::Loopback),
            VmId::PARENT => {
                return Err(err(
                    ErrorKind::InvalidInput,
                    "cannot bind to PARENT: this process is in the root partition (the host), which has no parent",
                ));
            }
            VmId::ZERO | VmId::CHILDREN => BindPlan {
                local: Some(if v == VmId::ZERO {
                    Selector::Any
                } else {
                    Selector::Children
                }),
                hybrid: VmSet::All,
                vsock: VmSet::All,
                guest_vsock: false,
                crosses: true,
            },
            id => match table.get(id).map(|p| &p.kind) {
                None => {
                    return Err(HvError::unknown_id(id).into());
                }
                Some(PartitionKind::Local) => BindPlan {
                    crosses: true,
                    ..local(Selector::Id(id))
                },
                Some(PartitionKind::Hybrid { .. }) => BindPlan {
                    hybrid: VmSet::One(id),
                    crosses: true,
                    ..none
                },
                Some(PartitionKind::Cid { .. }) => BindPlan {
                    vsock: VmSet::One(id),
                    crosses: true,
                    ..none
                },
            },
        },
        Location::Local(own) => match v {
            VmId::LOOPBACK => local(Selector::Loopback),
            VmId::ZERO => local(Selector::Any),
            VmId::CHILDREN => local(Selector::Children),
            VmId::PARENT => local(Selector::Parent),
            id if id == own => local(Selector::Id(own)),
            id => {
                return Err(err(
                    ErrorKind::InvalidInput,
                    format!(
                        "cannot bind to {}: partition {} has no such child",
                        describe_vm(id, table),
                        describe_vm(own, table)
                    ),
                ));
            }
        },
        Location::Guest => match v {
            VmId::LOOPBACK => local(Selector::Loopback),
            VmId::ZERO => BindPlan {
                guest_vsock: true,
                ..local(Selector::Any)
            },
            VmId::CHILDREN => local(Selector::Children),
            VmId::PARENT => BindPlan {
                guest_vsock: true,
                ..none
            },
            id => {
                return Err(err(
                    ErrorKind::InvalidInput,
                    format!(
                        "cannot bind to {id}: inside a guest, bind ANY, PARENT, LOOPBACK or CHILDREN"
                    ),
                ));
            }
        },
    })
}

/// How a local peer claiming `claim` relates to a listener in `loc`, or why it is
/// rejected (it is not this partition, its parent or a child in the table).
pub(crate) fn relation(loc: Location, claim: VmId, table: &PartitionTable) -> Option<Relation> {
    match loc {
        Location::Local(own) if claim == own => Some(Relation::SelfPartition),
        Location::Local(_) if claim == VmId::ZERO => Some(Relation::Parent),
        Location::Local(_) => None,
        Location::Host | Location::Guest if claim == VmId::ZERO => Some(Relation::SelfPartition),
        Location::Host => match table.get(claim) {
            Some(p) if p.kind == PartitionKind::Local => Some(Relation::Child(claim)),
            _ => None,
        },
        Location::Guest => None,
    }
}

#[cfg(all(test, unix))] // the routes name Unix socket paths
mod tests {
    use super::*;
    use crate::Guid;

    fn table() -> (PartitionTable, VmId, VmId, VmId) {
        let dir = tempfile::tempdir().unwrap();
        let dirs = crate::config::paths::Dirs::new(dir.path(), dir.path());
        let (a, b, h) = (
            VmId(Guid::from_u128(0xa)),
            VmId(Guid::from_u128(0xb)),
            VmId(Guid::from_u128(0xc)),
        );
        PartitionTable::update(&dirs, |t| {
            t.add("a", Some(a), PartitionKind::Local)?;
            t.add("b", Some(b), PartitionKind::Local)?;
            t.add(
                "vm",
                Some(h),
                PartitionKind::Hybrid {
                    path: "/tmp/vm.sock".into(),
                },
            )
        })
        .unwrap();
        (PartitionTable::load(&dirs).unwrap(), a, b, h)
    }

    const S: ServiceId = ServiceId::from_vsock_port(5000);

    #[test]
    fn connect_rows() {
        let (t, a, b, h) = table();
        let at = |v| HvAddr::new(v, S);
        // LOOPBACK -> the caller itself.
        let p = plan_connect(Location::Local(a), at(VmId::LOOPBACK), &t).unwrap();
        assert_eq!(p.peer.vm_id, VmId::LOOPBACK);
        assert!(!p.crosses);
        assert_eq!(
            p.route,
            Route::Local {
                folder: Folder::Local(a),
                candidates: vec![Selector::Id(a), Selector::Loopback, Selector::Any]
            }
        );
        // PARENT -> the host from a local partition, vsock CID 2 from a guest, error on the host.
        let p = plan_connect(Location::Local(a), at(VmId::PARENT), &t).unwrap();
        assert!(matches!(
            p.route,
            Route::Local {
                folder: Folder::Root,
                ..
            }
        ));
        assert_eq!(p.peer.vm_id, VmId::PARENT);
        let p = plan_connect(Location::Guest, at(VmId::PARENT), &t).unwrap();
        assert_eq!(p.route, Route::Vsock { cid: 2, port: 5000 });
        let e = plan_connect(Location::Host, at(VmId::PARENT), &t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        // A child id -> allowed from its parent only.
        let p = plan_connect(Location::Host, at(a), &t).unwrap();
        assert!(matches!(p.route, Route::Local { folder: Folder::Local(x), .. } if x == a));
        let p = plan_connect(Location::Host, at(h), &t).unwrap();
        assert_eq!(
            p.route,
            Route::Hybrid {
                path: "/tmp/vm.sock".into(),
                port: 5000,
                guid: None,
            }
        );
        let e = plan_connect(Location::Local(a), at(b), &t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        let e = plan_connect(Location::Host, at(VmId(Guid::from_u128(99))), &t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        // Own id is loopback.
        let p = plan_connect(Location::Local(a), at(a), &t).unwrap();
        assert_eq!(p.peer.vm_id, VmId::LOOPBACK);
        // Sets of partitions are not connect targets.
        for v in [VmId::ZERO, VmId::CHILDREN, VmId::BROADCAST, VmId::SILOHOST] {
            for loc in [Location::Host, Location::Local(a), Location::Guest] {
                let e = plan_connect(loc, at(v), &t).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::InvalidInput, "{v:?} from {loc:?}");
            }
        }
    }

    #[test]
    fn a_guid_form_vmm_gets_non_template_services_by_guid() {
        let (mut t, _, _, h) = table();
        let other = ServiceId(Guid::from_u128(0x12345678_9abc_4def_8123_456789abcdef));
        let route = |t: &PartitionTable, s| plan_connect(Location::Host, HvAddr::new(h, s), t);
        let hybrid = |port, guid| Route::Hybrid {
            path: "/tmp/vm.sock".into(),
            port,
            guid,
        };
        // A port-form VMM: the Data1 of any service, as before.
        assert_eq!(route(&t, other).unwrap().route, hybrid(0x12345678, None));
        t.set_connect_form("vm", ConnectForm::Guid).unwrap();
        assert_eq!(
            route(&t, other).unwrap().route,
            hybrid(0x12345678, Some(other))
        );
        // Template services stay ports on every VMM.
        assert_eq!(route(&t, S).unwrap().route, hybrid(5000, None));
    }

    #[test]
    fn bind_rows() {
        let (t, a, b, h) = table();
        let at = |v| HvAddr::new(v, S);
        let p = plan_bind(Location::Host, at(VmId::ZERO), &t).unwrap();
        assert_eq!(
            (p.local, p.hybrid, p.crosses),
            (Some(Selector::Any), VmSet::All, true)
        );
        let p = plan_bind(Location::Host, at(VmId::CHILDREN), &t).unwrap();
        assert_eq!(p.local, Some(Selector::Children));
        let p = plan_bind(Location::Host, at(VmId::LOOPBACK), &t).unwrap();
        assert_eq!(
            (p.local, p.hybrid, p.crosses),
            (Some(Selector::Loopback), VmSet::None, false)
        );
        let p = plan_bind(Location::Host, at(h), &t).unwrap();
        assert_eq!((p.local, p.hybrid), (None, VmSet::One(h)));
        let p = plan_bind(Location::Host, at(a), &t).unwrap();
        assert_eq!(p.local, Some(Selector::Id(a)));
        assert_eq!(
            plan_bind(Location::Host, at(VmId::PARENT), &t)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            plan_bind(Location::Host, at(VmId(Guid::from_u128(99))), &t)
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        let p = plan_bind(Location::Local(a), at(VmId::PARENT), &t).unwrap();
        assert_eq!(p.local, Some(Selector::Parent));
        assert_eq!(
            plan_bind(Location::Local(a), at(b), &t).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let p = plan_bind(Location::Guest, at(VmId::PARENT), &t).unwrap();
        assert!(p.guest_vsock && p.local.is_none());
        for v in [VmId::BROADCAST, VmId::SILOHOST] {
            assert_eq!(
                plan_bind(Location::Host, at(v), &t).unwrap_err().kind(),
                ErrorKind::InvalidInput
            );
        }
    }

    #[test]
    fn acceptance_rows() {
        let (t, a, b, _) = table();
        let host = Location::Host;
        let ra = relation(host, a, &t).unwrap();
        assert_eq!(ra, Relation::Child(a));
        assert_eq!(
            relation(host, VmId::ZERO, &t),
            Some(Relation::SelfPartition)
        );
        assert_eq!(relation(host, VmId(Guid::from_u128(99)), &t), None);
        assert_eq!(
            relation(Location::Local(a), VmId::ZERO, &t),
            Some(Relation::Parent)
        );
        assert_eq!(
            relation(Location::Local(a), b, &t),
            None,
            "siblings never meet"
        );
        // ZERO: anyone; CHILDREN: children; LOOPBACK: itself; PARENT: the parent; id: that one.
        assert!(Selector::Any.accepts(Relation::SelfPartition, host));
        assert!(Selector::Children.accepts(ra, host));
        assert!(!Selector::Children.accepts(Relation::SelfPartition, host));
        assert!(Selector::Loopback.accepts(Relation::SelfPartition, host));
        assert!(!Selector::Loopback.accepts(ra, host));
        assert!(Selector::Parent.accepts(Relation::Parent, Location::Local(a)));
        assert!(!Selector::Parent.accepts(Relation::SelfPartition, Location::Local(a)));
        assert!(Selector::Id(a).accepts(ra, host));
        assert!(!Selector::Id(b).accepts(ra, host));
        assert!(Selector::Id(a).accepts(Relation::SelfPartition, Location::Local(a)));
        // Peers as the acceptor names them.
        assert_eq!(ra.peer_vm_id(), a);
        assert_eq!(Relation::Parent.peer_vm_id(), VmId::PARENT);
        assert_eq!(Relation::SelfPartition.peer_vm_id(), VmId::LOOPBACK);
    }
}
