//! The service registry: the Linux counterpart of Hyper-V's
//! `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices`.
//!
//! Each entry is a service id (GUID), its `ElementName` (friendly name) and an enabled
//! flag. The registry lives in `services.toml` in the config directory:
//!
//! ```toml
//! [[service]]
//! id = "999e53d4-3d5c-4c3e-8779-bed06ec056e1"
//! name = "VM Session Service"
//! enabled = true
//! ```
//!
//! Rules, checked on every change and on every load:
//!
//! - ids are unique, names are unique (exact match);
//! - a name is not empty nor only spaces, has no control characters and, leading and
//!   trailing spaces aside, is not itself a GUID and does not start with `vsock:` (so
//!   `VM:SERVICE` addresses stay unambiguous);
//! - vsock transports use `Data1` of the service GUID as the vsock port, so no two
//!   services may share `Data1`, and `Data1` may not be below 1024 (privileged vsock
//!   ports) nor `0xffffffff` (`VMADDR_PORT_ANY`).
//!
//! ```
//! use hvsock::paths::Dirs;
//! use hvsock::registry::Registry;
//!
//! let tmp = tempfile::tempdir().unwrap();
//! let dirs = Dirs::new(tmp.path(), tmp.path().join("run"));
//! let id = Registry::update(&dirs, |r| r.add("My Service", None)).unwrap();
//! let reg = Registry::load(&dirs).unwrap();
//! assert_eq!(reg.find("My Service").unwrap().id, id);
//! assert!(reg.is_enabled(id));
//! ```

use crate::addr::ServiceId;
use crate::guid::Guid;
use crate::paths::Dirs;
use crate::store::{self, StoreError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The lowest `Data1` a service may have: vsock ports below 1024 are privileged.
pub const MIN_PORT: u32 = 1024;

/// One registered service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service id (the "port" of a Hyper-V socket).
    pub id: ServiceId,
    /// The friendly name, Hyper-V's `ElementName`.
    pub name: String,
    /// Whether the service is enabled (disabled services are refused by listeners).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl Serialize for ServiceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ServiceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Guid::deserialize(d).map(ServiceId)
    }
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read, parsed or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file parses but breaks a registry rule (e.g. a hand-edited duplicate).
    #[error(
        "invalid registry {}: {message} (the file was left unchanged; fix it by hand)",
        path.display()
    )]
    Invalid {
        /// The registry file.
        path: PathBuf,
        /// Which entry breaks which rule.
        message: String,
    },
    /// The id is already registered.
    #[error("service {id} is already registered (as {existing_name:?})")]
    DuplicateId {
        /// The id.
        id: ServiceId,
        /// The name of the existing entry.
        existing_name: String,
    },
    /// The name is already registered.
    #[error("a service named {name:?} is already registered (id {existing_id})")]
    DuplicateName {
        /// The name.
        name: String,
        /// The id of the existing entry.
        existing_id: ServiceId,
    },
    /// Another service has the same `Data1`, i.e. the same vsock port.
    #[error(
        "service {id} would use vsock port {port} (its Data1, {port:#010x}), which service \
         {existing_id} ({existing_name:?}) already uses; vsock transports tell services \
         apart by Data1 alone, so pick a GUID with other first 8 hex digits"
    )]
    PortClash {
        /// The new id.
        id: ServiceId,
        /// Its Data1.
        port: u32,
        /// The existing entry with that Data1.
        existing_id: ServiceId,
        /// Its name.
        existing_name: String,
    },
    /// `Data1` is below 1024 or `0xffffffff`.
    #[error(
        "service {id} cannot be registered: vsock transports use its Data1 ({port:#010x}) \
         as the vsock port ({port}), and {reason}"
    )]
    BadPort {
        /// The id.
        id: ServiceId,
        /// Its Data1.
        port: u32,
        /// Why this port cannot be used.
        reason: &'static str,
    },
    /// The name breaks a naming rule.
    #[error("invalid service name {name:?}: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// No service has that id or name.
    #[error(
        "no service {0:?} in the registry (see `hvsock service list`, or register it with \
         `hvsock service add`)"
    )]
    NotFound(String),
    /// No random GUID with a usable Data1 was found (practically impossible).
    #[error("could not generate a service id with a free vsock port")]
    NoFreeId,
}

/// The registry: every registered service, in registration order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    services: Vec<Service>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default, rename = "service")]
    services: Vec<Service>,
}

/// What [`Registry::import`] did with each entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries added.
    pub added: Vec<Service>,
    /// Entries not added, each with the reason.
    pub skipped: Vec<String>,
}

/// Checks the naming rules for a service name.
pub fn check_name(name: &str) -> Result<(), RegistryError> {
    let bad = |reason| {
        Err(RegistryError::BadName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("a name may not be empty");
    }
    if name.chars().any(char::is_control) {
        return bad("a name may not contain control characters");
    }
    // Addresses trim the SERVICE part before reading it as a GUID or `vsock:PORT`, so
    // the rules apply to the trimmed name (found by fuzzing: " vsock:5" was accepted
    // but `any: vsock:5` means port 5).
    let t = name.trim();
    if t.is_empty() {
        return bad("a name may not be only spaces");
    }
    if t.parse::<Guid>().is_ok() {
        return bad("a name may not be a GUID (it would be read as a service id)");
    }
    if t.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("vsock:")) {
        return bad("a name may not start with `vsock:` (it would be read as a vsock port)");
    }
    Ok(())
}

/// Checks the Data1 rules for a service id on its own.
pub fn check_port(id: ServiceId) -> Result<(), RegistryError> {
    let port = id.port();
    let reason = if port < MIN_PORT {
        "vsock ports below 1024 are privileged (binding them needs CAP_NET_BIND_SERVICE)"
    } else if port == u32::MAX {
        "0xffffffff is VMADDR_PORT_ANY on AF_VSOCK, not a port a service can have"
    } else {
        return Ok(());
    };
    Err(RegistryError::BadPort { id, port, reason })
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Reads the registry of `dirs` (a missing file is an empty registry). No lock is
    /// needed: the file is only ever replaced whole.
    pub fn load(dirs: &Dirs) -> Result<Registry, RegistryError> {
        Registry::load_file(&dirs.services_file())
    }

    /// Reads a registry file (a missing file is an empty registry).
    pub fn load_file(path: &Path) -> Result<Registry, RegistryError> {
        match store::read_optional(path)? {
            None => Ok(Registry::default()),
            Some(text) => Registry::from_toml(path, &text),
        }
    }

    /// Parses the text of a registry file and checks every rule; `path` only names the
    /// file in errors. What [`load_file`](Self::load_file) does after reading the file.
    pub fn from_toml(path: &Path, text: &str) -> Result<Registry, RegistryError> {
        let file: RegistryFile = store::parse_toml(path, text)?;
        let mut reg = Registry::default();
        for (i, s) in file.services.into_iter().enumerate() {
            reg.check_new(s.id, &s.name)
                .map_err(|e| RegistryError::Invalid {
                    path: path.to_path_buf(),
                    message: format!("entry {} ({}): {e}", i + 1, s.id),
                })?;
            reg.services.push(s);
        }
        Ok(reg)
    }

    /// The registry as the text of `services.toml`.
    pub fn to_toml(&self) -> String {
        toml::to_string(&RegistryFile {
            services: self.services.clone(),
        })
        .expect("services always serialize")
    }

    /// Locks the registry of `dirs`, loads it, applies `f` and, if `f` succeeds, saves it
    /// atomically. A file that cannot be read or parsed is left untouched.
    pub fn update<T>(
        dirs: &Dirs,
        f: impl FnOnce(&mut Registry) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        Registry::update_file(&dirs.services_file(), f)
    }

    /// [`update`](Self::update) on an explicit file.
    pub fn update_file<T>(
        path: &Path,
        f: impl FnOnce(&mut Registry) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let _lock = store::lock(path)?;
        let mut reg = Registry::load_file(path)?;
        let out = f(&mut reg)?;
        store::write_atomic(path, reg.to_toml().as_bytes())?;
        Ok(out)
    }

    /// Every service, in registration order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service with this id.
    pub fn get(&self, id: ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The service named by a GUID (any case, braces optional) or its exact name.
    pub fn find(&self, id_or_name: &str) -> Option<&Service> {
        self.position(id_or_name).map(|i| &self.services[i])
    }

    fn position(&self, id_or_name: &str) -> Option<usize> {
        match id_or_name.trim().parse::<Guid>() {
            Ok(g) => self.services.iter().position(|s| s.id.0 == g),
            Err(_) => self.services.iter().position(|s| s.name == id_or_name),
        }
    }

    /// Whether the service is registered and enabled.
    pub fn is_enabled(&self, id: ServiceId) -> bool {
        self.get(id).is_some_and(|s| s.enabled)
    }

    /// Whether `id` and `name` could be added (every rule, against every entry).
    pub fn check_new(&self, id: ServiceId, name: &str) -> Result<(), RegistryError> {
        check_name(name)?;
        if let Some(s) = self.get(id) {
            return Err(RegistryError::DuplicateId {
                id,
                existing_name: s.name.clone(),
            });
        }
        if let Some(s) = self.services.iter().find(|s| s.name == name) {
            return Err(RegistryError::DuplicateName {
                name: name.to_string(),
                existing_id: s.id,
            });
        }
        check_port(id)?;
        if let Some(s) = self.services.iter().find(|s| s.id.port() == id.port()) {
            return Err(RegistryError::PortClash {
                id,
                port: id.port(),
                existing_id: s.id,
                existing_name: s.name.clone(),
            });
        }
        Ok(())
    }

    /// Registers a service, enabled. With `id` `None`, a random v4 GUID whose Data1 is a
    /// usable, unused vsock port.
    pub fn add(&mut self, name: &str, id: Option<ServiceId>) -> Result<ServiceId, RegistryError> {
        let id = match id {
            Some(id) => id,
            None => {
                check_name(name)?;
                self.random_id()?
            }
        };
        self.check_new(id, name)?;
        self.services.push(Service {
            id,
            name: name.to_string(),
            enabled: true,
        });
        Ok(id)
    }

    fn random_id(&self) -> Result<ServiceId, RegistryError> {
        for _ in 0..10_000 {
            let id = ServiceId(Guid::new_v4());
            if check_port(id).is_ok() && !self.services.iter().any(|s| s.id.port() == id.port()) {
                return Ok(id);
            }
        }
        Err(RegistryError::NoFreeId)
    }

    /// Unregisters a service by id or name; returns it.
    pub fn remove(&mut self, id_or_name: &str) -> Result<Service, RegistryError> {
        let i = self
            .position(id_or_name)
            .ok_or_else(|| RegistryError::NotFound(id_or_name.to_string()))?;
        Ok(self.services.remove(i))
    }

    /// Enables or disables a service by id or name.
    pub fn set_enabled(&mut self, id_or_name: &str, enabled: bool) -> Result<(), RegistryError> {
        let i = self
            .position(id_or_name)
            .ok_or_else(|| RegistryError::NotFound(id_or_name.to_string()))?;
        self.services[i].enabled = enabled;
        Ok(())
    }

    /// Adds each `(id, name)` that the rules allow; an entry identical to an existing one,
    /// or breaking a rule, is skipped with the reason. Added services are enabled.
    pub fn import(&mut self, entries: &[(ServiceId, String)]) -> ImportReport {
        let mut report = ImportReport::default();
        for (id, name) in entries {
            if let Some(s) = self.get(*id).filter(|s| &s.name == name) {
                report.skipped.push(format!(
                    "{id} {:?}: already registered{}",
                    s.name,
                    if s.enabled { "" } else { " (disabled)" }
                ));
                continue;
            }
            match self.add(name, Some(*id)) {
                Ok(_) => report
                    .added
                    .push(self.get(*id).expect("just added").clone()),
                Err(e) => report.skipped.push(format!("{id} {name:?}: {e}")),
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sid(s: &str) -> ServiceId {
        s.parse().unwrap()
    }

    const VMSS: &str = "999E53D4-3D5C-4C3E-8779-BED06EC056E1";

    #[test]
    fn add_find_remove_enable() {
        let mut r = Registry::new();
        let id = r.add("VM Session Service", Some(sid(VMSS))).unwrap();
        assert_eq!(id.to_string(), VMSS.to_lowercase());
        let rnd = r.add("mine", None).unwrap();
        assert_ne!(rnd, id);
        assert_eq!(rnd.0.data3 >> 12, 4, "random ids are v4");
        assert_eq!(r.find("VM Session Service").unwrap().id, id);
        assert_eq!(r.find(&format!("{{{VMSS}}}")).unwrap().id, id);
        assert_eq!(r.find(&VMSS.to_lowercase()).unwrap().id, id);
        assert!(
            r.find("vm session service").is_none(),
            "names match exactly"
        );
        assert_eq!(r.get(rnd).unwrap().name, "mine");
        assert!(r.is_enabled(id));
        r.set_enabled("mine", false).unwrap();
        assert!(!r.is_enabled(rnd));
        r.set_enabled(&rnd.to_string(), true).unwrap();
        assert!(r.is_enabled(rnd));
        assert!(!r.is_enabled(ServiceId::from_vsock_port(4000)));
        assert!(matches!(
            r.set_enabled("nope", true),
            Err(RegistryError::NotFound(_))
        ));
        let gone = r.remove(VMSS).unwrap();
        assert_eq!(gone.name, "VM Session Service");
        assert!(r.get(id).is_none());
        assert!(matches!(r.remove(VMSS), Err(RegistryError::NotFound(_))));
        assert_eq!(r.services().len(), 1);
    }

    #[test]
    fn duplicates_name_the_existing_entry() {
        let mut r = Registry::new();
        r.add("a", Some(sid(VMSS))).unwrap();
        let e = r.add("b", Some(sid(VMSS))).unwrap_err();
        assert!(matches!(e, RegistryError::DuplicateId { .. }));
        assert!(e.to_string().contains("\"a\""), "{e}");
        let e = r.add("a", None).unwrap_err();
        assert!(matches!(e, RegistryError::DuplicateName { .. }));
        assert!(e.to_string().contains(&VMSS.to_lowercase()), "{e}");
        // Same Data1, different GUID.
        let e = r
            .add("c", Some(sid("999e53d4-0000-4000-8000-000000000000")))
            .unwrap_err();
        assert!(matches!(
            e,
            RegistryError::PortClash {
                port: 0x999e53d4,
                ..
            }
        ));
        let s = e.to_string();
        assert!(s.contains("\"a\"") && s.contains("vsock port"), "{s}");
        assert_eq!(r.services().len(), 1);
    }

    #[test]
    fn port_rules() {
        let mut r = Registry::new();
        for p in [0, 1, 80, 1023] {
            let e = r.add("x", Some(ServiceId::from_vsock_port(p))).unwrap_err();
            assert!(matches!(e, RegistryError::BadPort { .. }), "{p}");
            assert!(e.to_string().contains("privileged"), "{e}");
        }
        let e = r
            .add("x", Some(ServiceId::from_vsock_port(u32::MAX)))
            .unwrap_err();
        assert!(e.to_string().contains("VMADDR_PORT_ANY"), "{e}");
        r.add("x", Some(ServiceId::from_vsock_port(1024))).unwrap();
        r.add("y", Some(ServiceId::from_vsock_port(u32::MAX - 1)))
            .unwrap();
    }

    #[test]
    fn name_rules() {
        let mut r = Registry::new();
        for bad in [
            "",
            "a\nb",
            "tab\there",
            "\u{7f}",
            VMSS,
            "vsock:80",
            "VSOCK:x",
        ] {
            let e = r.add(bad, None).unwrap_err();
            assert!(matches!(e, RegistryError::BadName { .. }), "{bad:?}: {e}");
        }
        for good in ["a:b", "名前", "with \"quotes\" and \\", " spaced "] {
            r.add(good, None).unwrap();
        }
        assert_eq!(r.services().len(), 4);
    }

    /// Regression (fuzz target `registry_toml`): names that are a GUID or `vsock:PORT`
    /// once trimmed, or only spaces, were accepted, but `any:NAME` does not reach them.
    #[test]
    fn names_that_addresses_would_trim_are_rejected() {
        let mut r = Registry::new();
        for bad in [
            " ",
            "\u{a0}\t ",
            " vsock:5",
            "vsock:5 ",
            " 999e53d4-3d5c-4c3e-8779-bed06ec056e1",
            "{999E53D4-3D5C-4C3E-8779-BED06EC056E1}\u{2003}",
        ] {
            let e = r.add(bad, None).unwrap_err();
            assert!(matches!(e, RegistryError::BadName { .. }), "{bad:?}: {e}");
        }
        let toml =
            "[[service]]\nid = \"5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11\"\nname = \" vsock:5\"\n";
        let e = Registry::from_toml(Path::new("services.toml"), toml).unwrap_err();
        assert!(e.to_string().contains("vsock:"), "{e}");
        // Spaces around other names are fine, and the name stays addressable.
        let id = r.add(" spaced ", None).unwrap();
        let table = crate::partitions::PartitionTable::new();
        let a = crate::syntax::resolve_addr("any: spaced ", &r, &table).unwrap();
        assert_eq!(a.service_id, id);
    }

    #[test]
    fn random_ids_avoid_taken_ports() {
        let mut r = Registry::new();
        for i in 0..200 {
            r.add(&format!("s{i}"), None).unwrap();
        }
        let mut ports: Vec<u32> = r.services().iter().map(|s| s.id.port()).collect();
        ports.sort();
        ports.dedup();
        assert_eq!(ports.len(), 200);
        assert!(ports.iter().all(|&p| (MIN_PORT..u32::MAX).contains(&p)));
    }

    #[test]
    fn toml_format_and_round_trip() {
        let mut r = Registry::new();
        r.add("VM Session Service", Some(sid(VMSS))).unwrap();
        r.add("off", Some(ServiceId::from_vsock_port(5000)))
            .unwrap();
        r.set_enabled("off", false).unwrap();
        let text = r.to_toml();
        assert!(text.contains("[[service]]"), "{text}");
        assert!(
            text.contains("id = \"999e53d4-3d5c-4c3e-8779-bed06ec056e1\""),
            "{text}"
        );
        assert!(text.contains("enabled = false"), "{text}");
        let back = Registry::from_toml(Path::new("x"), &text).unwrap();
        assert_eq!(back, r);
        // `enabled` defaults to true when omitted by hand.
        let hand = "[[service]]\nid = \"{999E53D4-3D5C-4C3E-8779-BED06EC056E1}\"\nname = \"n\"\n";
        let r = Registry::from_toml(Path::new("x"), hand).unwrap();
        assert!(r.is_enabled(sid(VMSS)));
        // Empty file = empty registry.
        assert!(
            Registry::from_toml(Path::new("x"), "")
                .unwrap()
                .services()
                .is_empty()
        );
    }

    #[test]
    fn invalid_file_contents_are_errors() {
        let p = Path::new("/cfg/services.toml");
        let dup = format!(
            "[[service]]\nid = \"{VMSS}\"\nname = \"a\"\n[[service]]\nid = \"{VMSS}\"\nname = \"b\"\n"
        );
        let e = Registry::from_toml(p, &dup).unwrap_err();
        assert!(matches!(e, RegistryError::Invalid { .. }));
        assert!(e.to_string().contains("/cfg/services.toml"), "{e}");
        assert!(e.to_string().contains("entry 2"), "{e}");
        for bad in [
            "[[service]]\nid = \"nope\"\nname = \"a\"\n".to_string(),
            "[[service]]\nname = \"a\"\n".to_string(),
            format!("[[service]]\nid = \"{VMSS}\"\nname = \"a\"\ncolour = 1\n"),
            format!("[[service]]\nid = \"{VMSS}\"\nname = \"a\"\nenabled = \"yes\"\n"),
            "garbage".to_string(),
        ] {
            let e = Registry::from_toml(p, &bad).unwrap_err();
            assert!(
                matches!(e, RegistryError::Store(StoreError::Parse { .. })),
                "{bad}: {e}"
            );
            assert!(e.to_string().contains("/cfg/services.toml"), "{e}");
        }
    }

    #[test]
    fn update_saves_and_failed_update_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Dirs::new(tmp.path().join("cfg"), tmp.path().join("run"));
        assert!(Registry::load(&dirs).unwrap().services().is_empty());
        let id = Registry::update(&dirs, |r| r.add("one", None)).unwrap();
        let before = std::fs::read(dirs.services_file()).unwrap();
        let e = Registry::update(&dirs, |r| r.add("one", None)).unwrap_err();
        assert!(matches!(e, RegistryError::DuplicateName { .. }));
        assert_eq!(std::fs::read(dirs.services_file()).unwrap(), before);
        assert_eq!(Registry::load(&dirs).unwrap().get(id).unwrap().name, "one");
    }

    #[test]
    fn corrupt_file_is_never_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Dirs::new(tmp.path(), tmp.path().join("run"));
        let garbage = b"[[service]\nid = \x00\xff not toml";
        std::fs::write(dirs.services_file(), garbage).unwrap();
        let e = Registry::update(&dirs, |r| r.add("x", None)).unwrap_err();
        let s = e.to_string();
        assert!(s.contains(&*dirs.services_file().to_string_lossy()), "{s}");
        assert_eq!(std::fs::read(dirs.services_file()).unwrap(), garbage);
        let valid_toml_bad_shape = b"service = 3\n";
        std::fs::write(dirs.services_file(), valid_toml_bad_shape).unwrap();
        let e = Registry::update(&dirs, |r| r.add("x", None)).unwrap_err();
        assert!(e.to_string().contains("services.toml"), "{e}");
        assert_eq!(
            std::fs::read(dirs.services_file()).unwrap(),
            valid_toml_bad_shape
        );
        assert!(Registry::load(&dirs).is_err());
    }

    #[test]
    fn import_skips_duplicates_and_rule_breakers() {
        let mut r = Registry::new();
        r.add("VM Session Service", Some(sid(VMSS))).unwrap();
        let rep = r.import(&[
            (sid(VMSS), "VM Session Service".into()),
            (sid(VMSS), "Other name".into()),
            (ServiceId::from_vsock_port(80), "low".into()),
            (ServiceId::from_vsock_port(9000), "ok".into()),
            (ServiceId::from_vsock_port(9001), "ok".into()),
        ]);
        assert_eq!(rep.added.len(), 1);
        assert_eq!(rep.added[0].name, "ok");
        assert_eq!(rep.skipped.len(), 4, "{:?}", rep.skipped);
        assert!(rep.skipped[0].contains("already registered"));
        assert!(rep.skipped[2].contains("privileged"));
    }

    proptest! {
        #[test]
        fn toml_round_trip_any_names(
            names in proptest::collection::hash_set("[^\\p{Cc}]{1,20}", 0..8),
            flags in proptest::collection::vec(any::<bool>(), 8),
        ) {
            let mut r = Registry::new();
            for (i, n) in names.iter().enumerate() {
                if r.add(n, None).is_ok() {
                    r.set_enabled(n, flags[i]).unwrap();
                }
            }
            let back = Registry::from_toml(Path::new("x"), &r.to_toml()).unwrap();
            prop_assert_eq!(back, r);
        }

        #[test]
        fn rules_hold_after_any_sequence(ops in proptest::collection::vec((0u32..3000, 0u8..6), 0..40)) {
            let mut r = Registry::new();
            for (port, name) in ops {
                let _ = r.add(&format!("n{name}"), Some(ServiceId::from_vsock_port(port)));
            }
            let s = r.services();
            for (i, a) in s.iter().enumerate() {
                prop_assert!(a.id.port() >= MIN_PORT);
                for b in &s[i + 1..] {
                    prop_assert!(a.id != b.id && a.name != b.name && a.id.port() != b.id.port());
                }
            }
        }
    }
}
