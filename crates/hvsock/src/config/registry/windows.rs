//! The service registry on Windows: Hyper-V's own
//! `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices`.
//!
//! On Windows [`Registry::load`] and [`Registry::update`] read and write this key
//! instead of `services.toml` (on Linux nothing changes). A service is a subkey named
//! by its GUID with a string value `ElementName`, the friendly name:
//!
//! - **Reading**: every subkey whose name is a GUID, bare or in braces, in any case
//!   (`999e53d4-...`, `{999E53D4-...}`), is a service; other subkeys are skipped.
//!   A key without an `ElementName` (or with one that is not a string) is listed with
//!   an empty name: it can be found and removed by its id, not by name. The keys are
//!   listed in the registry's order (alphabetical), not in the order they were added.
//!   What Windows has is listed as it is: other programs register keys that break
//!   hvsock's own naming and vsock-port rules, and those rules are checked only for
//!   what hvsock adds. Two keys spelling one GUID differently are one service (the
//!   first one's name wins; renaming or removing it changes or deletes both).
//! - **Writing** ([`Registry::update`]): load, run the caller's change on the loaded
//!   registry, then write only the difference: a new service is a new key named by
//!   the bare lowercase GUID (what the Hyper-V guide's
//!   `New-Item -Name ((New-Guid).Guid)` creates) with its `ElementName`; a removed
//!   service's key is deleted with everything under it; a changed name is rewritten.
//!   New keys are written first, and if writing one fails, every key this update
//!   created is deleted again, so no service is left half-written (renames, flags and
//!   deletions come after the new keys and are not undone). Writing under
//!   `HKLM` needs administrator rights: without them the update fails with
//!   [`RegistryError::AdminRequired`] before anything is written.
//! - **Enabled / disabled**: Hyper-V has no per-service switch; a registered service is
//!   reachable. hvsock stores its own `REG_DWORD` value `HvsockDisabled` = 1 under the
//!   service's key (absent, or 0, means enabled; any other value or type counts as
//!   disabled, so a damaged flag fails closed). hvsock's own listeners and connects
//!   honour it. **Windows itself does not**: other programs can still listen on and
//!   connect to a service hvsock calls disabled. Exports (`.reg`, `.ps1`) leave
//!   disabled services out, as on Linux.
//!
//! No lock is held between the load and the writes (Windows has none for this key and
//! regedit or PowerShell take none): two updates at the same moment can each succeed
//! on what it loaded.
//!
//! Tests never touch Hyper-V's key: the environment variable
//! [`TEST_KEY_ENV`] (`HVSOCK_WINDOWS_REGISTRY_KEY`), **meant for tests only**, names a
//! key under `HKEY_CURRENT_USER` to use instead (e.g. `Software\hvsock-tests\<GUID>`),
//! and [`ServicesKey::current_user`] does the same for a test in-process.

use super::{Registry, RegistryError, Service};
use crate::addr::ServiceId;
use std::collections::HashMap;

/// The services key under `HKEY_LOCAL_MACHINE`.
pub const GCS_SUBKEY: &str =
    "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices";
/// For tests only: a key under `HKEY_CURRENT_USER` that [`Registry::load`] and
/// [`Registry::update`] use instead of Hyper-V's key when this variable is set.
pub const TEST_KEY_ENV: &str = "HVSOCK_WINDOWS_REGISTRY_KEY";
/// The string value holding a service's friendly name.
pub const ELEMENT_NAME: &str = "ElementName";
/// hvsock's own `REG_DWORD` value under a service key: 1 = disabled in hvsock.
pub const DISABLED_VALUE: &str = "HvsockDisabled";

/// The service id a key name spells: a GUID, bare or in braces, any case, nothing
/// around it. `None` for every other name.
pub fn service_id_of_key(name: &str) -> Option<ServiceId> {
    name.parse().ok().map(ServiceId)
}

/// The key name hvsock gives a new service: the bare lowercase GUID.
pub fn key_name(id: ServiceId) -> String {
    id.to_string()
}

/// One service key as read: its name, the value of `ElementName` (if a string) and
/// whether the service is disabled in hvsock.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawKey {
    key: String,
    name: Option<String>,
    disabled: bool,
}

/// The registry read from the keys, and the names of the keys of each service.
fn assemble(raw: Vec<RawKey>) -> (Registry, HashMap<ServiceId, Vec<String>>) {
    let mut reg = Registry::new();
    let mut keys: HashMap<ServiceId, Vec<String>> = HashMap::new();
    for k in raw {
        let Some(id) = service_id_of_key(&k.key) else {
            continue;
        };
        let names = keys.entry(id).or_default();
        if names.is_empty() {
            reg.push(Service {
                id,
                name: k.name.unwrap_or_default(),
                enabled: !k.disabled,
            });
        }
        names.push(k.key);
    }
    (reg, keys)
}

/// One write the registry needs to go from what was loaded to what the caller made.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// A new key for this service.
    Create(Service),
    /// Rewrite `ElementName` in these keys.
    Rename(Vec<String>, String),
    /// Set or clear `HvsockDisabled` in these keys.
    Enable(Vec<String>, bool),
    /// Delete these keys.
    Delete(Vec<String>),
}

/// The changes from `old` (with its keys) to `new`: creations first (they can be undone),
/// then renames and flags, deletions last.
fn plan(old: &Registry, keys: &HashMap<ServiceId, Vec<String>>, new: &Registry) -> Vec<Change> {
    let mut creates = Vec::new();
    let mut edits = Vec::new();
    let mut deletes = Vec::new();
    let keys_of = |id| keys.get(&id).cloned().unwrap_or_default();
    for s in new.services() {
        match old.get(s.id) {
            None => creates.push(Change::Create(s.clone())),
            Some(o) => {
                if o.name != s.name {
                    edits.push(Change::Rename(keys_of(s.id), s.name.clone()));
                }
                if o.enabled != s.enabled {
                    edits.push(Change::Enable(keys_of(s.id), s.enabled));
                }
            }
        }
    }
    for o in old.services() {
        if new.get(o.id).is_none() {
            deletes.push(Change::Delete(keys_of(o.id)));
        }
    }
    creates.into_iter().chain(edits).chain(deletes).collect()
}

#[cfg(windows)]
pub use imp::{Fault, ServicesKey};

#[cfg(windows)]
mod imp {
    use super::*;
    use crate::sys::registry::{Access, Hive, Key, win32_error};
    use std::io;
    use windows_sys::Win32::Foundation::ERROR_ACCESS_DENIED;

    /// A failure to simulate, **for tests only** (see [`ServicesKey::with_fault`]).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum Fault {
        /// Opening the key for writing is refused with `ERROR_ACCESS_DENIED`, the
        /// answer Windows gives a process without administrator rights for Hyper-V's
        /// key (there the refusal comes at this first step, before any write).
        NotElevated,
        /// Writing the `ElementName` of the `nth` new key of an update (from 1) fails
        /// after the key was created.
        ValueWriteFails {
            /// Which new key fails.
            nth: usize,
        },
    }

    /// The key that holds the services, and how to read and change them.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ServicesKey {
        hive: Hive,
        path: String,
        fault: Option<Fault>,
    }

    impl ServicesKey {
        /// Hyper-V's key, `HKLM\SOFTWARE\...\GuestCommunicationServices`.
        pub fn system() -> ServicesKey {
            ServicesKey {
                hive: Hive::LocalMachine,
                path: GCS_SUBKEY.to_string(),
                fault: None,
            }
        }

        /// **For tests**: the key `path` under `HKEY_CURRENT_USER` (created on the
        /// first update), e.g. `Software\hvsock-tests\<GUID>`.
        pub fn current_user(path: &str) -> ServicesKey {
            ServicesKey {
                hive: Hive::CurrentUser,
                path: path.trim_matches('\\').to_string(),
                fault: None,
            }
        }

        /// The key [`Registry::load`] and [`Registry::update`] use: the one named by
        /// [`TEST_KEY_ENV`] under `HKEY_CURRENT_USER` if that is set (tests only),
        /// else [`system`](Self::system).
        pub fn from_env() -> ServicesKey {
            match std::env::var(TEST_KEY_ENV) {
                Ok(p) if !p.trim_matches('\\').is_empty() => ServicesKey::current_user(&p),
                _ => ServicesKey::system(),
            }
        }

        /// **For tests**: this key with a simulated failure on updates.
        pub fn with_fault(mut self, fault: Fault) -> ServicesKey {
            self.fault = Some(fault);
            self
        }

        /// The key's full name, `HKEY_LOCAL_MACHINE\SOFTWARE\...`.
        pub fn full_name(&self) -> String {
            format!("{}\\{}", self.hive.name(), self.path)
        }

        fn error(&self, e: io::Error) -> RegistryError {
            if e.kind() == io::ErrorKind::PermissionDenied {
                RegistryError::AdminRequired {
                    key: self.full_name(),
                }
            } else {
                RegistryError::Windows {
                    key: self.full_name(),
                    source: e,
                }
            }
        }

        /// Every service under the key (a missing key is an empty registry).
        pub fn load(&self) -> Result<Registry, RegistryError> {
            match Key::open(self.hive, &self.path, Access::Read) {
                Ok(root) => Ok(read_services(&root).map_err(|e| self.error(e))?.0),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Registry::new()),
                Err(e) => Err(self.error(e)),
            }
        }

        /// Loads the services, applies `f` and, if it succeeds, writes the difference
        /// (see the module docs). The key is created if missing.
        pub fn update<T>(
            &self,
            f: impl FnOnce(&mut Registry) -> Result<T, RegistryError>,
        ) -> Result<T, RegistryError> {
            let opened = if self.fault == Some(Fault::NotElevated) {
                Err(win32_error(
                    ERROR_ACCESS_DENIED,
                    &format!("opening {} for writing (simulated)", self.full_name()),
                ))
            } else {
                Key::create(self.hive, &self.path, Access::ReadWrite)
            };
            let (root, _) = opened.map_err(|e| self.error(e))?;
            let (old, keys) = read_services(&root).map_err(|e| self.error(e))?;
            let mut new = old.clone();
            let out = f(&mut new)?;
            // Creations come first: when one fails, deleting the keys created before
            // it leaves the registry as it was. Renames, flags and deletions follow.
            let mut created: Vec<String> = Vec::new();
            for change in plan(&old, &keys, &new) {
                let new_key = match &change {
                    Change::Create(s) => Some(key_name(s.id)),
                    _ => None,
                };
                if let Err(e) = self.apply(&root, change, created.len() + 1) {
                    if new_key.is_some() {
                        for k in &created {
                            let _ = root.delete_tree(k);
                        }
                    }
                    return Err(self.error(e));
                }
                created.extend(new_key);
            }
            Ok(out)
        }

        /// Makes one change; `nth` counts the new keys of this update (from 1).
        fn apply(&self, root: &Key, change: Change, nth: usize) -> io::Result<()> {
            match change {
                Change::Create(s) => self.create(root, &s, nth),
                Change::Rename(keys, name) => {
                    for k in keys {
                        root.open_sub(&k, Access::ReadWrite)?
                            .set_string(ELEMENT_NAME, &name)?;
                    }
                    Ok(())
                }
                Change::Enable(keys, enabled) => {
                    for k in keys {
                        set_enabled(&root.open_sub(&k, Access::ReadWrite)?, enabled)?;
                    }
                    Ok(())
                }
                Change::Delete(keys) => {
                    for k in keys {
                        root.delete_tree(&k)?;
                    }
                    Ok(())
                }
            }
        }

        /// Creates the key of `s` with its values; deletes the key again if a value
        /// cannot be written.
        fn create(&self, root: &Key, s: &Service, nth: usize) -> io::Result<()> {
            let name = key_name(s.id);
            let (key, created) = root.create_sub(&name, Access::ReadWrite)?;
            if !created {
                // Not there when loaded: another program added it meanwhile.
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} was created by someone else during this update; run it again",
                        key.path()
                    ),
                ));
            }
            let written = if self.fault == Some(Fault::ValueWriteFails { nth }) {
                Err(io::Error::other(format!(
                    "writing {}\\{ELEMENT_NAME}: simulated failure",
                    key.path()
                )))
            } else {
                key.set_string(ELEMENT_NAME, &s.name)
                    .and_then(|()| set_enabled(&key, s.enabled))
            };
            drop(key);
            if let Err(e) = written {
                return Err(match root.delete_tree(&name) {
                    Ok(_) => e,
                    Err(undo) => io::Error::new(
                        e.kind(),
                        format!("{e}; deleting the half-written key failed too: {undo}"),
                    ),
                });
            }
            Ok(())
        }
    }

    fn set_enabled(key: &Key, enabled: bool) -> io::Result<()> {
        if enabled {
            key.delete_value(DISABLED_VALUE).map(|_| ())
        } else {
            key.set_dword(DISABLED_VALUE, 1)
        }
    }

    /// The services under `root`, with the names of their keys.
    fn read_services(root: &Key) -> io::Result<(Registry, HashMap<ServiceId, Vec<String>>)> {
        let mut raw = Vec::new();
        for key in root.subkey_names()? {
            if service_id_of_key(&key).is_none() {
                continue;
            }
            let k = match root.open_sub(&key, Access::Read) {
                Ok(k) => k,
                // Deleted since it was listed.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let name = match k.get_string(ELEMENT_NAME) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => None,
                Err(e) => return Err(e),
            };
            let disabled = match k.get_dword(DISABLED_VALUE) {
                Ok(v) => v.is_some_and(|v| v != 0),
                Err(e) if e.kind() == io::ErrorKind::InvalidData => true,
                Err(e) => return Err(e),
            };
            raw.push(RawKey {
                key,
                name,
                disabled,
            });
        }
        Ok(assemble(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(s: &str) -> ServiceId {
        s.parse().unwrap()
    }

    fn raw(key: &str, name: Option<&str>, disabled: bool) -> RawKey {
        RawKey {
            key: key.into(),
            name: name.map(Into::into),
            disabled,
        }
    }

    const A: &str = "999e53d4-3d5c-4c3e-8779-bed06ec056e1";
    const B: &str = "0000138a-facb-11e6-bd58-64006a7986d3";

    #[test]
    fn key_names_are_guids_in_any_spelling() {
        for k in [
            A,
            &A.to_uppercase(),
            &format!("{{{A}}}"),
            &format!("{{{}}}", A.to_uppercase()),
        ] {
            assert_eq!(service_id_of_key(k), Some(sid(A)), "{k}");
        }
        for k in [
            "",
            "VM Session",
            &format!(" {A}"),
            &format!("{A} "),
            &A[1..],
            &format!("{{{A}"),
        ] {
            assert_eq!(service_id_of_key(k), None, "{k:?}");
        }
        assert_eq!(key_name(sid(&A.to_uppercase())), A);
    }

    #[test]
    fn assemble_skips_other_keys_and_merges_spellings() {
        let (reg, keys) = assemble(vec![
            raw("Settings", Some("not a service"), false),
            raw(
                &format!("{{{}}}", A.to_uppercase()),
                Some("VM Session Service"),
                false,
            ),
            raw(B, None, true),
            raw(A, Some("second spelling"), true),
        ]);
        assert_eq!(reg.services().len(), 2);
        let a = reg.get(sid(A)).unwrap();
        assert_eq!((a.name.as_str(), a.enabled), ("VM Session Service", true));
        let b = reg.get(sid(B)).unwrap();
        assert_eq!((b.name.as_str(), b.enabled), ("", false));
        assert_eq!(keys[&sid(A)].len(), 2);
        // An entry with no name is found by id, never by the empty name.
        assert!(reg.find("").is_none());
        assert_eq!(reg.find(B).unwrap().id, sid(B));
    }

    #[test]
    fn assemble_keeps_entries_that_break_hvsock_rules() {
        // Port 22 (Data1 < 1024), a GUID-looking name and a duplicate name: written by
        // other tools, listed as they are.
        let (reg, _) = assemble(vec![
            raw("00000016-facb-11e6-bd58-64006a7986d3", Some("ssh"), false),
            raw(A, Some(B), false),
            raw(B, Some("ssh"), false),
        ]);
        assert_eq!(reg.services().len(), 3);
        assert_eq!(
            reg.find("ssh").unwrap().id.port(),
            22,
            "the first name wins"
        );
        // hvsock's own additions are still checked against everything there.
        let mut r = reg.clone();
        assert!(matches!(
            r.add("ssh", None),
            Err(RegistryError::DuplicateName { .. })
        ));
    }

    #[test]
    fn plan_writes_only_the_difference() {
        let (old, keys) = assemble(vec![
            raw(&A.to_uppercase(), Some("a"), false),
            raw(B, Some("b"), false),
        ]);
        assert!(plan(&old, &keys, &old).is_empty());
        let mut new = old.clone();
        let c = new.add("c", None).unwrap();
        new.remove("b").unwrap();
        new.set_enabled("a", false).unwrap();
        let changes = plan(&old, &keys, &new);
        assert_eq!(
            changes,
            vec![
                Change::Create(new.get(c).unwrap().clone()),
                Change::Enable(vec![A.to_uppercase()], false),
                Change::Delete(vec![B.to_string()]),
            ]
        );
        // A rename (no Registry method does one, but a closure may rebuild an entry).
        let mut renamed = Registry::new();
        renamed.add("a2", Some(sid(A))).unwrap();
        renamed.add("b", Some(sid(B))).unwrap();
        assert_eq!(
            plan(&old, &keys, &renamed),
            vec![Change::Rename(vec![A.to_uppercase()], "a2".into())]
        );
    }
}
