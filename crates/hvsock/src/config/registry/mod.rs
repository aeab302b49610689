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
//! On Windows the registry is Hyper-V's own registry key instead of the file (see the
//! module `registry::windows`, built on Windows only); the rules below apply to what
//! hvsock adds there.
//!
//! ```
//! use hvsock::paths::Dirs;
//! use hvsock::registry::Registry;
//!
//! # // On Windows this would change the real registry: the example is for the file.
//! # #[cfg(not(windows))] {
//! let tmp = tempfile::tempdir().unwrap();
//! let dirs = Dirs::new(tmp.path(), tmp.path().join("run"));
//! let id = Registry::update(&dirs, |r| r.add("My Service", None)).unwrap();
//! let reg = Registry::load(&dirs).unwrap();
//! assert_eq!(reg.find("My Service").unwrap().id, id);
//! assert!(reg.is_enabled(id));
//! # }
//! ```

use crate::addr::ServiceId;
use crate::addr::guid::Guid;
use crate::config::document::{self, Document};
use crate::config::paths::Dirs;
use crate::config::store::{self, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod canonical;
#[cfg(any(windows, test))]
pub mod windows;

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
    /// No service has that id or name. (What to run about it, listing or registering
    /// services, is the business of the tool that shows the message.)
    #[error("no service {0:?} in the registry")]
    NotFound(String),
    /// No random GUID with a usable Data1 was found (practically impossible).
    #[error("could not generate a service id with a free vsock port")]
    NoFreeId,
    /// Windows: changing the services key needs administrator rights (the write was
    /// refused with access denied; nothing of the update was kept).
    #[error(
        "changing the Hyper-V socket services under {key} needs administrator rights: \
         run hvsock as administrator (from an elevated prompt)"
    )]
    AdminRequired {
        /// The services key.
        key: String,
    },
    /// Windows: the services key could not be read or written.
    #[error("Windows registry {key}: {source}")]
    Windows {
        /// The services key.
        key: String,
        /// What the registry said.
        #[source]
        source: std::io::Error,
    },
}

/// The registry: every registered service, in registration order.
///
/// Lookups by id, name and vsock port (`Data1`) are hash lookups, so loading, importing
/// and checking a registry of N services costs O(N), not O(N²).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    services: Vec<Service>,
    index: Index,
}

/// Positions in [`Registry::services`] by id, by name and by `Data1`.
#[derive(Debug, Clone, Default)]
struct Index {
    by_id: HashMap<ServiceId, usize>,
    by_name: HashMap<String, usize>,
    by_port: HashMap<u32, usize>,
}

impl Index {
    /// Indexes entry `i`. The first entry with a key keeps it, and an empty name is not
    /// indexed: a checked registry has neither duplicates nor empty names, but one read
    /// from the Windows registry may (see `windows`), and there the first entry wins
    /// and a nameless one is found by id only.
    fn insert(&mut self, i: usize, s: &Service) {
        self.by_id.entry(s.id).or_insert(i);
        if !s.name.is_empty() {
            self.by_name.entry(s.name.clone()).or_insert(i);
        }
        self.by_port.entry(s.id.port()).or_insert(i);
    }
}

impl PartialEq for Registry {
    fn eq(&self, other: &Registry) -> bool {
        self.services == other.services
    }
}

impl Eq for Registry {}

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
    ///
    /// On Windows this reads Hyper-V's registry key instead and `dirs` is not used
    /// (see the module `registry::windows`, on Windows only); [`load_file`](Self::load_file)
    /// still reads a file.
    pub fn load(dirs: &Dirs) -> Result<Registry, RegistryError> {
        // The one place that picks the store: the Windows registry or the file.
        #[cfg(windows)]
        {
            let _ = dirs;
            windows::ServicesKey::from_env().load()
        }
        #[cfg(not(windows))]
        Registry::load_file(&dirs.services_file())
    }

    /// Reads a registry file (a missing file is an empty registry).
    pub fn load_file(path: &Path) -> Result<Registry, RegistryError> {
        document::load(path)
    }

    /// Parses the text of a registry file and checks every rule; `path` only names the
    /// file in errors. What [`load_file`](Self::load_file) does after reading the file.
    ///
    /// Files in the shape hvsock writes are read line by line, in memory proportional
    /// to the file; any other TOML goes through the general parser (same result).
    pub fn from_toml(path: &Path, text: &str) -> Result<Registry, RegistryError> {
        match canonical::parse(text) {
            Some(services) => Registry::checked(path, services),
            None => Registry::from_toml_general(path, text),
        }
    }

    /// [`from_toml`](Self::from_toml) through the general TOML parser only, never the
    /// line-by-line fast path; both give the same result for every text (for tests and
    /// fuzzing of that).
    pub fn from_toml_general(path: &Path, text: &str) -> Result<Registry, RegistryError> {
        let file: RegistryFile = store::parse_toml(path, text)?;
        Registry::checked(path, file.services)
    }

    /// A registry of `services`, each checked against the rules and those before it.
    fn checked(path: &Path, services: Vec<Service>) -> Result<Registry, RegistryError> {
        let mut reg = Registry::default();
        reg.services.reserve(services.len());
        for (i, s) in services.into_iter().enumerate() {
            reg.check_new(s.id, &s.name)
                .map_err(|e| RegistryError::Invalid {
                    path: path.to_path_buf(),
                    message: format!("entry {} ({}): {e}", i + 1, s.id),
                })?;
            reg.push(s);
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
    ///
    /// On Windows this changes Hyper-V's registry key instead, writing only what `f`
    /// changed, and `dirs` is not used (see the module `registry::windows`, on Windows
    /// only).
    pub fn update<T>(
        dirs: &Dirs,
        f: impl FnOnce(&mut Registry) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        #[cfg(windows)]
        {
            let _ = dirs;
            windows::ServicesKey::from_env().update(f)
        }
        #[cfg(not(windows))]
        Registry::update_file(&dirs.services_file(), f)
    }

    /// [`update`](Self::update) on an explicit file.
    pub fn update_file<T>(
        path: &Path,
        f: impl FnOnce(&mut Registry) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        document::update(path, f)
    }

    /// Every service, in registration order.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service with this id.
    pub fn get(&self, id: ServiceId) -> Option<&Service> {
        self.index.by_id.get(&id).map(|&i| &self.services[i])
    }

    fn push(&mut self, s: Service) {
        self.index.insert(self.services.len(), &s);
        self.services.push(s);
    }

    /// The service named by a GUID (any case, braces optional) or its exact name.
    pub fn find(&self, id_or_name: &str) -> Option<&Service> {
        self.position(id_or_name).map(|i| &self.services[i])
    }

    fn position(&self, id_or_name: &str) -> Option<usize> {
        document::position(
            id_or_name,
            &self.index.by_id,
            &self.index.by_name,
            ServiceId,
        )
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
        if let Some(s) = self.index.by_name.get(name).map(|&i| &self.services[i]) {
            return Err(RegistryError::DuplicateName {
                name: name.to_string(),
                existing_id: s.id,
            });
        }
        check_port(id)?;
        if let Some(s) = self
            .index
            .by_port
            .get(&id.port())
            .map(|&i| &self.services[i])
        {
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
        self.push(Service {
            id,
            name: name.to_string(),
            enabled: true,
        });
        Ok(id)
    }

    fn random_id(&self) -> Result<ServiceId, RegistryError> {
        for _ in 0..10_000 {
            let id = ServiceId(Guid::new_v4());
            if check_port(id).is_ok() && !self.index.by_port.contains_key(&id.port()) {
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
        let s = self.services.remove(i);
        // Positions after `i` moved: rebuild (one removal is O(N) anyway).
        self.index = Index::default();
        for (j, s) in self.services.iter().enumerate() {
            self.index.insert(j, s);
        }
        Ok(s)
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

impl Document for Registry {
    type Error = RegistryError;
    fn parse(path: &Path, text: &str) -> Result<Registry, RegistryError> {
        Registry::from_toml(path, text)
    }
    fn render(&self) -> String {
        self.to_toml()
    }
}

#[cfg(test)]
mod tests;
