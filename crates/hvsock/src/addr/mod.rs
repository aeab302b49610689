//! Hyper-V socket addresses: VM ids, service ids, `SOCKADDR_HV`.

pub mod guid;
pub mod syntax;

use crate::addr::guid::Guid;
use std::fmt;
use std::str::FromStr;

/// `From<Guid>` and `Display` (the GUID's text) for a newtype over [`Guid`].
macro_rules! guid_newtype {
    ($t:ident) => {
        impl From<Guid> for $t {
            fn from(g: Guid) -> Self {
                $t(g)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

/// `AF_HYPERV`, the Windows address family of Hyper-V sockets.
pub const AF_HYPERV: u16 = 34;
/// `HV_PROTOCOL_RAW`, the only Hyper-V socket protocol.
pub const HV_PROTOCOL_RAW: i32 = 1;
/// Socket option: connect timeout in milliseconds.
pub const HVSOCKET_CONNECT_TIMEOUT: i32 = 1;
/// The largest connect timeout Hyper-V accepts, in milliseconds (5 minutes).
pub const HVSOCKET_CONNECT_TIMEOUT_MAX: u32 = 300_000;
/// Socket option: container pass-through.
pub const HVSOCKET_CONTAINER_PASSTHRU: i32 = 2;
/// Socket option: keep the connection across VM suspend.
pub const HVSOCKET_CONNECTED_SUSPEND: i32 = 4;
/// Socket option: connect to the high virtual trust level.
pub const HVSOCKET_HIGH_VTL: i32 = 8;
/// Size of `SOCKADDR_HV` in bytes.
pub const SOCKADDR_HV_LEN: usize = 36;

/// The id of a partition (VM, container or local partition), or a wildcard.
///
/// ```
/// use hvsock::VmId;
///
/// assert_eq!(VmId::PARENT.to_string(), "a42e7cda-d03f-480c-9cc2-a4de20abb878");
/// assert_eq!(VmId::from_wildcard_name("children"), Some(VmId::CHILDREN));
/// assert_eq!(VmId::PARENT.wildcard_name(), Some("parent"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VmId(pub Guid);

impl VmId {
    /// `HV_GUID_ZERO`: a listener bound to it accepts from all partitions.
    pub const ZERO: VmId = VmId(Guid::ZERO);
    /// `HV_GUID_WILDCARD`, the same GUID as [`VmId::ZERO`].
    pub const WILDCARD: VmId = VmId(Guid::ZERO);
    /// `HV_GUID_BROADCAST`: defined, with no meaning for stream sockets.
    pub const BROADCAST: VmId = VmId(Guid::from_u128(u128::MAX));
    /// `HV_GUID_CHILDREN`: a listener bound to it accepts from child partitions only.
    pub const CHILDREN: VmId = VmId(Guid::parse_const("90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd"));
    /// `HV_GUID_LOOPBACK`: the caller's own partition.
    pub const LOOPBACK: VmId = VmId(Guid::parse_const("e0e16197-dd56-4a10-9195-5ee7a155a838"));
    /// `HV_GUID_PARENT`: the caller's parent partition (a VM's host).
    pub const PARENT: VmId = VmId(Guid::parse_const("a42e7cda-d03f-480c-9cc2-a4de20abb878"));
    /// `HV_GUID_SILOHOST`: the silo (container) host.
    pub const SILOHOST: VmId = VmId(Guid::parse_const("36bd0c5c-7276-4223-88ba-7d03b654c568"));

    /// Every wildcard, with its CLI name (the first name of each GUID is canonical).
    pub const WILDCARDS: [(&'static str, VmId); 8] = [
        ("any", VmId::WILDCARD),
        ("wildcard", VmId::WILDCARD),
        ("zero", VmId::ZERO),
        ("children", VmId::CHILDREN),
        ("loopback", VmId::LOOPBACK),
        ("parent", VmId::PARENT),
        ("broadcast", VmId::BROADCAST),
        ("silohost", VmId::SILOHOST),
    ];

    /// The wildcard with that name (`any`, `wildcard`, `zero`, `children`, `loopback`,
    /// `parent`, `broadcast`, `silohost`; any case).
    pub fn from_wildcard_name(name: &str) -> Option<VmId> {
        let lower = name.to_ascii_lowercase();
        Self::WILDCARDS
            .iter()
            .find(|(n, _)| *n == lower)
            .map(|(_, v)| *v)
    }

    /// The canonical name of this id if it is a wildcard.
    pub fn wildcard_name(self) -> Option<&'static str> {
        Self::WILDCARDS
            .iter()
            .find(|(_, v)| *v == self)
            .map(|(n, _)| *n)
    }

    /// Whether this id is one of the well-known wildcards rather than a partition.
    pub fn is_wildcard(self) -> bool {
        self.wildcard_name().is_some()
    }
}

guid_newtype!(VmId);

impl fmt::Debug for VmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.wildcard_name() {
            Some(n) => write!(f, "VmId({})", n.to_ascii_uppercase()),
            None => write!(f, "VmId({})", self.0),
        }
    }
}

impl FromStr for VmId {
    type Err = crate::addr::guid::GuidParseError;
    /// A GUID or a wildcard name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match VmId::from_wildcard_name(s) {
            Some(v) => Ok(v),
            None => s.parse().map(VmId),
        }
    }
}

/// The id of a service: the port of a Hyper-V socket.
///
/// Linux `hv_sock` maps AF_VSOCK port `p` to the template GUID
/// `pppppppp-facb-11e6-bd58-64006a7986d3`:
///
/// ```
/// use hvsock::ServiceId;
///
/// let s = ServiceId::from_vsock_port(5000);
/// assert_eq!(s.to_string(), "00001388-facb-11e6-bd58-64006a7986d3");
/// assert_eq!(s.vsock_port(), Some(5000));
/// let other: ServiceId = "999e53d4-3d5c-4c3e-8779-bed06ec056e1".parse().unwrap();
/// assert_eq!(other.vsock_port(), None);
/// assert_eq!(other.port(), 0x999e53d4); // what vsock transports use: Data1
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ServiceId(pub Guid);

impl ServiceId {
    /// The vsock template `00000000-facb-11e6-bd58-64006a7986d3` (Data1 = port).
    pub const VSOCK_TEMPLATE: ServiceId =
        ServiceId(Guid::parse_const("00000000-facb-11e6-bd58-64006a7986d3"));

    /// The template GUID for AF_VSOCK port `port`.
    pub const fn from_vsock_port(port: u32) -> ServiceId {
        let mut g = Self::VSOCK_TEMPLATE.0;
        g.data1 = port;
        ServiceId(g)
    }

    /// The AF_VSOCK port if this is a template GUID.
    pub fn vsock_port(self) -> Option<u32> {
        let t = Self::VSOCK_TEMPLATE.0;
        let g = self.0;
        (g.data2 == t.data2 && g.data3 == t.data3 && g.data4 == t.data4).then_some(g.data1)
    }

    /// The port this service uses on vsock transports: its `Data1`.
    ///
    /// Equal to [`vsock_port`](Self::vsock_port) for template GUIDs; for other GUIDs it
    /// lets Linux guests serve them over AF_VSOCK, which `hv_sock` cannot.
    pub const fn port(self) -> u32 {
        self.0.data1
    }
}

guid_newtype!(ServiceId);

impl fmt::Debug for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceId({})", self.0)
    }
}

impl FromStr for ServiceId {
    type Err = crate::addr::guid::GuidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(ServiceId)
    }
}

/// A Hyper-V socket address: a partition and a service.
///
/// ```
/// use hvsock::{HvAddr, ServiceId, VmId};
///
/// let a = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(80));
/// let bytes = a.to_sockaddr_hv();
/// assert_eq!(bytes.len(), 36);
/// assert_eq!(HvAddr::from_sockaddr_hv(&bytes).unwrap(), a);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HvAddr {
    /// The partition.
    pub vm_id: VmId,
    /// The service.
    pub service_id: ServiceId,
}

/// Why bytes are not a `SOCKADDR_HV`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SockaddrError {
    /// Not exactly 36 bytes.
    #[error("SOCKADDR_HV is exactly {SOCKADDR_HV_LEN} bytes, got {0}")]
    Length(usize),
    /// Family is not AF_HYPERV.
    #[error("SOCKADDR_HV family must be AF_HYPERV ({AF_HYPERV}), got {0}")]
    Family(u16),
    /// Reserved field is not zero.
    #[error("SOCKADDR_HV reserved field must be 0, got {0}")]
    Reserved(u16),
}

impl HvAddr {
    /// An address from its parts.
    pub const fn new(vm_id: VmId, service_id: ServiceId) -> HvAddr {
        HvAddr { vm_id, service_id }
    }

    /// Encodes as the 36-byte `SOCKADDR_HV`: family 34, reserved 0, VmId, ServiceId.
    pub fn to_sockaddr_hv(&self) -> [u8; SOCKADDR_HV_LEN] {
        let mut b = [0u8; SOCKADDR_HV_LEN];
        b[0..2].copy_from_slice(&AF_HYPERV.to_le_bytes());
        b[4..20].copy_from_slice(&self.vm_id.0.to_bytes_le());
        b[20..36].copy_from_slice(&self.service_id.0.to_bytes_le());
        b
    }

    /// Decodes a `SOCKADDR_HV`; any length but 36, family but 34 or non-zero reserved
    /// field is an error.
    pub fn from_sockaddr_hv(b: &[u8]) -> Result<HvAddr, SockaddrError> {
        let b: &[u8; SOCKADDR_HV_LEN] = b.try_into().map_err(|_| SockaddrError::Length(b.len()))?;
        let family = u16::from_le_bytes([b[0], b[1]]);
        if family != AF_HYPERV {
            return Err(SockaddrError::Family(family));
        }
        let reserved = u16::from_le_bytes([b[2], b[3]]);
        if reserved != 0 {
            return Err(SockaddrError::Reserved(reserved));
        }
        let guid = |r: std::ops::Range<usize>| Guid::from_bytes_le(b[r].try_into().unwrap());
        Ok(HvAddr {
            vm_id: VmId(guid(4..20)),
            service_id: ServiceId(guid(20..36)),
        })
    }
}

impl fmt::Display for HvAddr {
    /// `VMID:SERVICEID`, both as lowercase GUIDs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.vm_id, self.service_id)
    }
}

impl fmt::Debug for HvAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HvAddr({:?}, {})", self.vm_id, self.service_id)
    }
}

/// Serializes as the [`Display`](fmt::Display) text, `VMID:SERVICEID` (as [`VmId`] and
/// [`ServiceId`] serialize as their GUIDs).
///
/// ```
/// use hvsock::{HvAddr, ServiceId, VmId};
/// let a = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(80));
/// let json = serde_json::to_string(&a).unwrap();
/// assert_eq!(json, r#""a42e7cda-d03f-480c-9cc2-a4de20abb878:00000050-facb-11e6-bd58-64006a7986d3""#);
/// assert_eq!(serde_json::from_str::<HvAddr>(&json).unwrap(), a);
/// // Deserializing also takes the lookup-free forms of the address syntax.
/// assert_eq!(serde_json::from_str::<HvAddr>(r#""parent:vsock:80""#).unwrap(), a);
/// ```
impl serde::Serialize for HvAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Takes `VM:SERVICE` text whose parts need no lookup: VM a GUID or a wildcard name
/// (`parent`, `any`, ...), SERVICE a GUID or `vsock:PORT`. Partition and service names
/// are refused, with the reason: they mean something only against a registry and
/// table (resolve them with [`syntax`]).
impl<'de> serde::Deserialize<'de> for HvAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let spec = syntax::parse_addr(&s).map_err(D::Error::custom)?;
        let vm_id = match spec.vm {
            syntax::VmSpec::Id(v) => v,
            syntax::VmSpec::Name(n) => {
                let why = n.trim().parse::<Guid>().err();
                return Err(D::Error::custom(format_args!(
                    "{s:?}: the VM part {n:?} is not a GUID ({}) nor a wildcard name (any, \
                     children, loopback, parent, broadcast, silohost); a serialized address \
                     names no partition by name",
                    why.map_or_else(String::new, |e| e.to_string())
                )));
            }
        };
        let service_id = match spec.service {
            syntax::ServiceSpec::Id(v) => v,
            syntax::ServiceSpec::Name(n) => {
                let why = n.trim().parse::<Guid>().err();
                return Err(D::Error::custom(format_args!(
                    "{s:?}: the service part {n:?} is not a GUID ({}) nor vsock:PORT; a \
                     serialized address names no service by name",
                    why.map_or_else(String::new, |e| e.to_string())
                )));
            }
        };
        Ok(HvAddr { vm_id, service_id })
    }
}

impl From<(VmId, ServiceId)> for HvAddr {
    fn from((vm_id, service_id): (VmId, ServiceId)) -> Self {
        HvAddr { vm_id, service_id }
    }
}

/// Anything that names a Hyper-V socket address: an [`HvAddr`], a `(VmId, ServiceId)`
/// pair, or `VM:SERVICE` text resolved with the registry and partition table (see
/// [`syntax`](mod@crate::addr::syntax)).
///
/// ```no_run
/// use hvsock::HvStream;
/// // A VM from `hvsock vm add` and a service from `hvsock service add`.
/// let s = HvStream::connect("myvm:My Service")?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait ToHvAddr {
    /// The address, resolving names in `dirs`' registry and table where needed.
    fn to_hv_addr(&self, dirs: &crate::config::paths::Dirs) -> std::io::Result<HvAddr>;
}

impl ToHvAddr for HvAddr {
    fn to_hv_addr(&self, _: &crate::config::paths::Dirs) -> std::io::Result<HvAddr> {
        Ok(*self)
    }
}

impl ToHvAddr for (VmId, ServiceId) {
    fn to_hv_addr(&self, _: &crate::config::paths::Dirs) -> std::io::Result<HvAddr> {
        Ok(HvAddr::from(*self))
    }
}

impl ToHvAddr for str {
    fn to_hv_addr(&self, dirs: &crate::config::paths::Dirs) -> std::io::Result<HvAddr> {
        crate::addr::syntax::resolve_addr_in(self, dirs).map_err(|e| {
            let kind = match e {
                crate::addr::syntax::AddrSyntaxError::UnknownVm { .. } => {
                    std::io::ErrorKind::NotFound
                }
                _ => std::io::ErrorKind::InvalidInput,
            };
            std::io::Error::new(kind, e.to_string())
        })
    }
}

impl ToHvAddr for String {
    fn to_hv_addr(&self, dirs: &crate::config::paths::Dirs) -> std::io::Result<HvAddr> {
        self.as_str().to_hv_addr(dirs)
    }
}

impl<T: ToHvAddr + ?Sized> ToHvAddr for &T {
    fn to_hv_addr(&self, dirs: &crate::config::paths::Dirs) -> std::io::Result<HvAddr> {
        (**self).to_hv_addr(dirs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wildcard_constants_match_hvsocket_h() {
        assert_eq!(VmId::ZERO.0.to_u128(), 0);
        assert_eq!(VmId::WILDCARD, VmId::ZERO);
        for (id, text) in [
            (VmId::BROADCAST, "ffffffff-ffff-ffff-ffff-ffffffffffff"),
            (VmId::CHILDREN, "90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd"),
            (VmId::LOOPBACK, "e0e16197-dd56-4a10-9195-5ee7a155a838"),
            (VmId::PARENT, "a42e7cda-d03f-480c-9cc2-a4de20abb878"),
            (VmId::SILOHOST, "36bd0c5c-7276-4223-88ba-7d03b654c568"),
        ] {
            assert_eq!(id.to_string(), text);
        }
        for (name, id) in VmId::WILDCARDS {
            assert_eq!(VmId::from_wildcard_name(name), Some(id));
            assert_eq!(name.to_uppercase().parse::<VmId>().unwrap(), id);
            assert!(id.is_wildcard());
        }
        assert_eq!(VmId::ZERO.wildcard_name(), Some("any"));
        assert!(!VmId(Guid::from_u128(7)).is_wildcard());
    }

    #[test]
    fn template() {
        assert_eq!(
            ServiceId::from_vsock_port(0xdeadbeef).to_string(),
            "deadbeef-facb-11e6-bd58-64006a7986d3"
        );
        assert_eq!(ServiceId::VSOCK_TEMPLATE.vsock_port(), Some(0));
        let mut g = ServiceId::from_vsock_port(5).0;
        g.data4[7] ^= 1;
        assert_eq!(ServiceId(g).vsock_port(), None);
        assert_eq!(ServiceId(g).port(), 5);
    }

    #[test]
    fn sockaddr_known_bytes() {
        let a = HvAddr::new(VmId::PARENT, ServiceId::from_vsock_port(0x1234));
        let b = a.to_sockaddr_hv();
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(
            hex,
            concat!(
                "22000000",
                "da7c2ea43fd00c489cc2a4de20abb878",
                "34120000cbfae611bd5864006a7986d3"
            )
        );
    }

    #[test]
    fn sockaddr_errors() {
        let good = HvAddr::default().to_sockaddr_hv();
        assert_eq!(
            HvAddr::from_sockaddr_hv(&good[..35]),
            Err(SockaddrError::Length(35))
        );
        assert_eq!(HvAddr::from_sockaddr_hv(&[]), Err(SockaddrError::Length(0)));
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(
            HvAddr::from_sockaddr_hv(&long),
            Err(SockaddrError::Length(37))
        );
        let mut fam = good;
        fam[0] = 40;
        assert_eq!(
            HvAddr::from_sockaddr_hv(&fam),
            Err(SockaddrError::Family(40))
        );
        let mut res = good;
        res[3] = 1;
        assert_eq!(
            HvAddr::from_sockaddr_hv(&res),
            Err(SockaddrError::Reserved(256))
        );
    }

    proptest! {
        #[test]
        fn sockaddr_round_trip(v in any::<u128>(), s in any::<u128>()) {
            let a = HvAddr::new(VmId(Guid::from_u128(v)), ServiceId(Guid::from_u128(s)));
            prop_assert_eq!(HvAddr::from_sockaddr_hv(&a.to_sockaddr_hv()).unwrap(), a);
        }

        #[test]
        fn sockaddr_decode_total(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            // Never panics; succeeds exactly on well-formed input, and re-encodes to itself.
            match HvAddr::from_sockaddr_hv(&b) {
                Ok(a) => prop_assert_eq!(&a.to_sockaddr_hv()[..], &b[..]),
                Err(_) => prop_assert!(b.len() != 36 || b[0..2] != [34, 0] || b[2..4] != [0, 0]),
            }
        }

        #[test]
        fn template_round_trip(p in any::<u32>()) {
            let s = ServiceId::from_vsock_port(p);
            prop_assert_eq!(s.vsock_port(), Some(p));
            prop_assert_eq!(s.port(), p);
        }
    }
}
