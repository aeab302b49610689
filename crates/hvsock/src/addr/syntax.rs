//! The `VM:SERVICE` address syntax of the CLI and configuration files.
//!
//! The text is split at the first `:`.
//!
//! - VM: a GUID (any case, braces optional), a wildcard name (`any`, `wildcard`,
//!   `zero`, `children`, `loopback`, `parent`, `broadcast`, `silohost`, any case), or the
//!   name or id of a partition in the [partition table](crate::config::partitions).
//! - SERVICE: a GUID, `vsock:PORT` (decimal or `0x` hex) for the vsock template GUID, or
//!   the `ElementName` of a service in the [registry](crate::config::registry). A service name
//!   may itself contain `:`.
//!
//! [`parse_addr`] does the syntax alone; [`AddrSpec::resolve`] looks names up, and
//! [`resolve_addr_in`] loads the registry and table only when a name needs them.
//!
//! ```
//! use hvsock::partitions::PartitionTable;
//! use hvsock::registry::Registry;
//! use hvsock::syntax::resolve_addr;
//! use hvsock::{ServiceId, VmId};
//!
//! let mut reg = Registry::new();
//! reg.add("echo", Some(ServiceId::from_vsock_port(7000))).unwrap();
//! let table = PartitionTable::new();
//! let a = resolve_addr("parent:echo", &reg, &table).unwrap();
//! assert_eq!(a.vm_id, VmId::PARENT);
//! assert_eq!(a.service_id, ServiceId::from_vsock_port(7000));
//! let b = resolve_addr("any:vsock:0x1b58", &reg, &table).unwrap();
//! assert_eq!(b.service_id, ServiceId::from_vsock_port(7000));
//! ```

use crate::addr::guid::Guid;
use crate::addr::{HvAddr, ServiceId, VmId};
use crate::config::partitions::{PartitionError, PartitionTable};
use crate::config::paths::Dirs;
use crate::config::registry::{Registry, RegistryError};

/// Why an address cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum AddrSyntaxError {
    /// No `:` in the text.
    #[error(
        "{0:?} is not an address: expected VM:SERVICE, e.g. parent:vsock:5000, \
         any:\"My Service\" or myvm:999e53d4-3d5c-4c3e-8779-bed06ec056e1"
    )]
    MissingColon(String),
    /// Nothing before the `:`.
    #[error("{0:?}: the VM part (before the first ':') is empty")]
    EmptyVm(String),
    /// Nothing after the `:`.
    #[error("{0:?}: the SERVICE part (after the first ':') is empty")]
    EmptyService(String),
    /// `vsock:` followed by something that is not a port number.
    #[error(
        "{0:?} is not a vsock port: expected vsock:PORT with PORT a number from 0 to 4294967295 (decimal or 0x hex)"
    )]
    BadVsockPort(String),
    /// The VM part names no partition. (What to run about it is the business of the
    /// tool that shows the message.)
    #[error(
        "unknown VM {name:?}{hint}: not a GUID, a wildcard (any, children, loopback, parent, \
         broadcast, silohost) or a VM in the partition table"
    )]
    UnknownVm {
        /// The name as given.
        name: String,
        /// Extra detail (why it is not a GUID), may be empty.
        hint: String,
    },
    /// The service part names no registered service. (What to run about it is the
    /// business of the tool that shows the message.)
    #[error("unknown service {name:?}{hint}: not a GUID, vsock:PORT or a registered name")]
    UnknownService {
        /// The name as given.
        name: String,
        /// Extra detail (why it is not a GUID), may be empty.
        hint: String,
    },
    /// Windows: the VM part names none of the compute systems the Host Compute
    /// Service lists (or the HCS could not be asked).
    #[error(
        "unknown VM {name:?}: not a GUID, a wildcard (any, children, loopback, parent, \
         broadcast, silohost) or a compute system Windows lists{detail}"
    )]
    UnknownComputeSystem {
        /// The name as given.
        name: String,
        /// Why (the HCS's error, or which systems have the name), may be empty.
        detail: String,
    },
    /// The registry could not be loaded.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The partition table could not be loaded.
    #[error(transparent)]
    Partitions(#[from] PartitionError),
}

/// The VM part of an address, before lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmSpec {
    /// A GUID or wildcard: needs no lookup.
    Id(VmId),
    /// A partition name, to look up in the partition table.
    Name(String),
}

/// The service part of an address, before lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceSpec {
    /// A GUID or `vsock:PORT`: needs no lookup.
    Id(ServiceId),
    /// An `ElementName`, to look up in the registry.
    Name(String),
}

/// A parsed, not yet resolved `VM:SERVICE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrSpec {
    /// The VM part.
    pub vm: VmSpec,
    /// The service part.
    pub service: ServiceSpec,
}

/// A `u32` in decimal or `0x` hex.
pub fn parse_port(s: &str) -> Option<u32> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) if !h.is_empty() && !h.starts_with('+') => u32::from_str_radix(h, 16).ok(),
        Some(_) => None,
        None if !s.starts_with('+') => s.parse().ok(),
        None => None,
    }
}

/// Parses the VM part alone.
pub fn parse_vm(s: &str) -> VmSpec {
    let t = s.trim();
    match t.parse::<VmId>() {
        Ok(id) => VmSpec::Id(id),
        Err(_) => VmSpec::Name(s.to_string()),
    }
}

/// Parses the service part alone.
pub fn parse_service(s: &str) -> Result<ServiceSpec, AddrSyntaxError> {
    let t = s.trim();
    if let Ok(g) = t.parse::<Guid>() {
        return Ok(ServiceSpec::Id(ServiceId(g)));
    }
    if t.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("vsock:")) {
        return parse_port(&t[6..])
            .map(|p| ServiceSpec::Id(ServiceId::from_vsock_port(p)))
            .ok_or_else(|| AddrSyntaxError::BadVsockPort(s.to_string()));
    }
    Ok(ServiceSpec::Name(s.to_string()))
}

/// Parses `VM:SERVICE` without looking anything up.
pub fn parse_addr(s: &str) -> Result<AddrSpec, AddrSyntaxError> {
    let (vm, svc) = s
        .split_once(':')
        .ok_or_else(|| AddrSyntaxError::MissingColon(s.to_string()))?;
    if vm.trim().is_empty() {
        return Err(AddrSyntaxError::EmptyVm(s.to_string()));
    }
    if svc.trim().is_empty() {
        return Err(AddrSyntaxError::EmptyService(s.to_string()));
    }
    Ok(AddrSpec {
        vm: parse_vm(vm),
        service: parse_service(svc)?,
    })
}

/// Why a string that looks like an attempt at a GUID is not one.
fn guid_hint(s: &str) -> String {
    let t = s.trim();
    let looks = t.len() >= 8
        && t.contains('-')
        && t.chars()
            .all(|c| c.is_ascii_hexdigit() || "-{}".contains(c));
    match t.parse::<Guid>() {
        Err(e) if looks => format!(" (not a valid GUID: {e})"),
        _ => String::new(),
    }
}

/// Resolves the VM part against the partition table.
pub fn resolve_vm(spec: &VmSpec, table: &PartitionTable) -> Result<VmId, AddrSyntaxError> {
    match spec {
        VmSpec::Id(id) => Ok(*id),
        VmSpec::Name(n) => table
            .find(n)
            .map(|p| p.id)
            .ok_or_else(|| AddrSyntaxError::UnknownVm {
                name: n.clone(),
                hint: guid_hint(n),
            }),
    }
}

/// Resolves the service part against the registry.
pub fn resolve_service(
    spec: &ServiceSpec,
    registry: &Registry,
) -> Result<ServiceId, AddrSyntaxError> {
    match spec {
        ServiceSpec::Id(id) => Ok(*id),
        ServiceSpec::Name(n) => {
            registry
                .find(n)
                .map(|s| s.id)
                .ok_or_else(|| AddrSyntaxError::UnknownService {
                    name: n.clone(),
                    hint: guid_hint(n),
                })
        }
    }
}

/// Resolves a VM name among compute systems (Windows: what the Host Compute Service
/// lists). Names are compared ignoring case, as Hyper-V Manager does; a name two
/// systems share is an error rather than a guess.
pub fn resolve_compute_system(
    name: &str,
    systems: &[crate::config::compute_systems::ComputeSystem],
) -> Result<VmId, AddrSyntaxError> {
    let found: Vec<_> = systems
        .iter()
        .filter(|s| s.name.to_lowercase() == name.to_lowercase())
        .collect();
    let unknown = |detail: String| AddrSyntaxError::UnknownComputeSystem {
        name: name.to_string(),
        detail,
    };
    match found.as_slice() {
        [one] => one.vm_id().ok_or_else(|| {
            unknown(format!(
                " ({:?} has no Hyper-V VM id: is it running?)",
                one.name
            ))
        }),
        [] => Err(unknown(String::new())),
        many => Err(unknown(format!(
            " ({} compute systems have this name: give the VM's GUID)",
            many.len()
        ))),
    }
}

impl AddrSpec {
    /// Whether resolving needs the partition table.
    pub fn needs_table(&self) -> bool {
        matches!(self.vm, VmSpec::Name(_))
    }

    /// Whether resolving needs the service registry.
    pub fn needs_registry(&self) -> bool {
        matches!(self.service, ServiceSpec::Name(_))
    }

    /// Looks up names.
    pub fn resolve(
        &self,
        registry: &Registry,
        table: &PartitionTable,
    ) -> Result<HvAddr, AddrSyntaxError> {
        Ok(HvAddr::new(
            resolve_vm(&self.vm, table)?,
            resolve_service(&self.service, registry)?,
        ))
    }

    /// Looks up names, loading the registry and table of `dirs` only if a name needs
    /// them (so pure GUID addresses work with no config at all).
    ///
    /// On Windows a VM name is looked up among the compute systems of the Host
    /// Compute Service (there is no partition table).
    pub fn resolve_in(&self, dirs: &Dirs) -> Result<HvAddr, AddrSyntaxError> {
        #[cfg(windows)]
        if let VmSpec::Name(name) = &self.vm {
            let systems = crate::config::compute_systems::enumerate().map_err(|e| {
                AddrSyntaxError::UnknownComputeSystem {
                    name: name.clone(),
                    detail: format!(" ({e}; give the VM's GUID instead)"),
                }
            })?;
            let vm = resolve_compute_system(name, &systems)?;
            let registry = if self.needs_registry() {
                Registry::load(dirs)?
            } else {
                Registry::new()
            };
            return Ok(HvAddr::new(vm, resolve_service(&self.service, &registry)?));
        }
        let table = if self.needs_table() {
            PartitionTable::load(dirs)?
        } else {
            PartitionTable::new()
        };
        let registry = if self.needs_registry() {
            Registry::load(dirs)?
        } else {
            Registry::new()
        };
        self.resolve(&registry, &table)
    }
}

/// Parses and resolves `VM:SERVICE` (see the [module docs](self)).
pub fn resolve_addr(
    s: &str,
    registry: &Registry,
    table: &PartitionTable,
) -> Result<HvAddr, AddrSyntaxError> {
    parse_addr(s)?.resolve(registry, table)
}

/// Parses and resolves `VM:SERVICE`, loading the registry and partition table of `dirs`
/// only when a name needs them.
pub fn resolve_addr_in(s: &str, dirs: &Dirs) -> Result<HvAddr, AddrSyntaxError> {
    parse_addr(s)?.resolve_in(dirs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn vm_names_resolve_among_compute_systems() {
        let doc = r#"[
          {"Id":"1F0C1E39-8B2D-4C5A-9E0B-6C7D8E9FA0B1","SystemType":"VirtualMachine",
           "Name":"Ubuntu 24.04","RuntimeId":"1f0c1e39-8b2d-4c5a-9e0b-6c7d8e9fa0b1","State":"Running"},
          {"Id":"twin-1","Name":"twin","SystemType":"VirtualMachine","RuntimeId":"0d2e3f40-5162-4738-89ab-cdef01234567"},
          {"Id":"twin-2","Name":"Twin","SystemType":"VirtualMachine","RuntimeId":"0d2e3f40-5162-4738-89ab-cdef01234568"},
          {"Id":"abc123","Name":"stopped","SystemType":"Container"}
        ]"#;
        let systems = crate::config::compute_systems::parse(doc).unwrap();
        let id = resolve_compute_system("ubuntu 24.04", &systems).unwrap();
        assert_eq!(id.to_string(), "1f0c1e39-8b2d-4c5a-9e0b-6c7d8e9fa0b1");
        let shown = |n: &str| resolve_compute_system(n, &systems).unwrap_err().to_string();
        assert!(
            shown("twin").contains("2 compute systems have this name"),
            "{}",
            shown("twin")
        );
        assert!(
            shown("stopped").contains("has no Hyper-V VM id"),
            "{}",
            shown("stopped")
        );
        assert!(
            shown("nosuch").starts_with("unknown VM \"nosuch\": not a GUID"),
            "{}",
            shown("nosuch")
        );
        assert!(
            shown("nosuch").ends_with("a compute system Windows lists"),
            "{}",
            shown("nosuch")
        );
    }

    use super::*;
    use crate::config::partitions::PartitionKind;
    use proptest::prelude::*;

    const VMSS: &str = "999e53d4-3d5c-4c3e-8779-bed06ec056e1";

    fn fixtures() -> (Registry, PartitionTable, VmId) {
        let mut r = Registry::new();
        r.add("VM Session Service", Some(VMSS.parse().unwrap()))
            .unwrap();
        r.add("with:colon", Some(ServiceId::from_vsock_port(2000)))
            .unwrap();
        let mut t = PartitionTable::new();
        let id = t.add("fc1", None, PartitionKind::Cid { cid: 3 }).unwrap();
        (r, t, id)
    }

    #[test]
    fn every_form() {
        let (r, t, fc1) = fixtures();
        let vmss: ServiceId = VMSS.parse().unwrap();
        let cases: Vec<(&str, VmId, ServiceId)> = vec![
            ("parent:VM Session Service", VmId::PARENT, vmss),
            (
                "ANY:vsock:5000",
                VmId::ZERO,
                ServiceId::from_vsock_port(5000),
            ),
            (
                "wildcard:vsock:0x1388",
                VmId::ZERO,
                ServiceId::from_vsock_port(5000),
            ),
            (
                "zero:VSOCK:0X1388",
                VmId::ZERO,
                ServiceId::from_vsock_port(5000),
            ),
            (
                "children:vsock:4294967295",
                VmId::CHILDREN,
                ServiceId::from_vsock_port(u32::MAX),
            ),
            (
                "loopback:{999E53D4-3D5C-4C3E-8779-BED06EC056E1}",
                VmId::LOOPBACK,
                vmss,
            ),
            (
                "broadcast:with:colon",
                VmId::BROADCAST,
                ServiceId::from_vsock_port(2000),
            ),
            (
                "silohost:vsock:0",
                VmId::SILOHOST,
                ServiceId::from_vsock_port(0),
            ),
            ("fc1:VM Session Service", fc1, vmss),
        ];
        for (s, vm, svc) in cases {
            let a = resolve_addr(s, &r, &t).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(a, HvAddr::new(vm, svc), "{s}");
        }
        let by_id = format!("{fc1}:{VMSS}");
        assert_eq!(
            resolve_addr(&by_id, &r, &t).unwrap(),
            HvAddr::new(fc1, vmss)
        );
        // A GUID not in the table or registry is still an address.
        let raw = "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22:00000001-0000-0000-0000-000000000000";
        let a = resolve_addr(raw, &Registry::new(), &PartitionTable::new()).unwrap();
        assert_eq!(a.to_string(), raw);
    }

    #[test]
    fn errors() {
        let (r, t, _) = fixtures();
        let e = |s: &str| resolve_addr(s, &r, &t).unwrap_err();
        assert!(matches!(e("parent"), AddrSyntaxError::MissingColon(_)));
        assert!(e("parent").to_string().contains("VM:SERVICE"));
        assert!(matches!(e(":vsock:1"), AddrSyntaxError::EmptyVm(_)));
        assert!(matches!(e("parent:"), AddrSyntaxError::EmptyService(_)));
        for bad in [
            "parent:vsock:",
            "parent:vsock:x",
            "parent:vsock:-1",
            "parent:vsock:4294967296",
            "parent:vsock:0x",
        ] {
            assert!(matches!(e(bad), AddrSyntaxError::BadVsockPort(_)), "{bad}");
        }
        assert_eq!(
            e("nosuch:vsock:1").to_string(),
            "unknown VM \"nosuch\": not a GUID, a wildcard (any, children, loopback, parent, \
             broadcast, silohost) or a VM in the partition table"
        );
        assert_eq!(
            e("parent:nosuch").to_string(),
            "unknown service \"nosuch\": not a GUID, vsock:PORT or a registered name"
        );
        let u = e("parent:999e53d4-3d5c-4c3e-8779-bed06ec056e").to_string();
        assert!(u.contains("not a valid GUID"), "{u}");
        assert!(!e("parent:vm session service").to_string().contains("GUID:"));
    }

    #[test]
    fn no_message_names_a_command() {
        let (r, t, _) = fixtures();
        let mut every: Vec<AddrSyntaxError> = [
            "parent",
            ":vsock:1",
            "parent:",
            "parent:vsock:x",
            "nosuch:vsock:1",
            "999e53d4-3d5c-4c3e-8779-bed06ec056e:vsock:1",
            "parent:nosuch",
            "parent:999e53d4-3d5c-4c3e-8779-bed06ec056e",
        ]
        .iter()
        .map(|s| resolve_addr(s, &r, &t).unwrap_err())
        .collect();
        every.push(RegistryError::NotFound("x".into()).into());
        every.push(PartitionError::NotFound("x".into()).into());
        every.push(AddrSyntaxError::UnknownComputeSystem {
            name: "x".into(),
            detail: " (2 compute systems have this name: give the VM's GUID)".into(),
        });
        for e in &every {
            // Exhaustive: a new variant fails to compile here until it is added above.
            match e {
                AddrSyntaxError::MissingColon(_)
                | AddrSyntaxError::EmptyVm(_)
                | AddrSyntaxError::EmptyService(_)
                | AddrSyntaxError::BadVsockPort(_)
                | AddrSyntaxError::UnknownVm { .. }
                | AddrSyntaxError::UnknownService { .. }
                | AddrSyntaxError::UnknownComputeSystem { .. }
                | AddrSyntaxError::Registry(_)
                | AddrSyntaxError::Partitions(_) => {}
            }
            assert!(!crate::error::names_a_command(&e.to_string()), "{e}");
        }
    }

    #[test]
    fn only_names_need_lookups() {
        let s = parse_addr("parent:vsock:1").unwrap();
        assert!(!s.needs_table() && !s.needs_registry());
        let s = parse_addr("x:y").unwrap();
        assert!(s.needs_table() && s.needs_registry());
        // With a corrupt registry, pure GUID addresses still resolve.
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Dirs::new(tmp.path(), tmp.path());
        std::fs::write(dirs.services_file(), "garbage").unwrap();
        std::fs::write(dirs.partitions_file(), "garbage").unwrap();
        assert!(resolve_addr_in("parent:vsock:1", &dirs).is_ok());
        // (On Windows the registry is the Windows registry, not services.toml.)
        #[cfg(not(windows))]
        {
            let e = resolve_addr_in("parent:name", &dirs)
                .unwrap_err()
                .to_string();
            assert!(e.contains("services.toml"), "{e}");
        }
        let e = resolve_addr_in("vm:vsock:1", &dirs)
            .unwrap_err()
            .to_string();
        // Linux names VMs in partitions.toml; Windows asks the Host Compute Service,
        // which wine (like an old Windows) does not have.
        #[cfg(not(windows))]
        assert!(e.contains("partitions.toml"), "{e}");
        #[cfg(windows)]
        assert!(
            e.starts_with("unknown VM \"vm\"")
                && e.contains("Host Compute Service is not available"),
            "{e}"
        );
    }

    proptest! {
        #[test]
        fn guid_addresses_round_trip(v in any::<u128>(), s in any::<u128>()) {
            let a = HvAddr::new(VmId(Guid::from_u128(v)), ServiceId(Guid::from_u128(s)));
            let back = resolve_addr(&a.to_string(), &Registry::new(), &PartitionTable::new()).unwrap();
            prop_assert_eq!(back, a);
        }

        #[test]
        fn vsock_ports(p in any::<u32>(), hex in any::<bool>()) {
            let s = if hex { format!("parent:vsock:{p:#x}") } else { format!("parent:vsock:{p}") };
            let a = resolve_addr(&s, &Registry::new(), &PartitionTable::new()).unwrap();
            prop_assert_eq!(a.service_id.vsock_port(), Some(p));
        }

        #[test]
        fn never_panics(s in ".{0,60}") {
            let (r, t, _) = fixtures();
            let _ = resolve_addr(&s, &r, &t);
        }
    }
}
