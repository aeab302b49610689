//! Service registry (temporary minimal version; replaced by the full one).
#![allow(missing_docs)]
use crate::paths::Dirs;
use crate::{Guid, ServiceId};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub enabled: bool,
}
impl serde::Serialize for ServiceId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}
impl<'de> serde::Deserialize<'de> for ServiceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Guid::deserialize(d).map(ServiceId)
    }
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RegistryError(pub String);

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Registry {
    #[serde(default)]
    service: Vec<Service>,
}
impl Registry {
    pub fn load(dirs: &Dirs) -> Result<Registry, RegistryError> {
        Self::load_file(&dirs.services_file())
    }
    pub fn load_file(path: &Path) -> Result<Registry, RegistryError> {
        match std::fs::read_to_string(path) {
            Ok(s) => toml::from_str(&s).map_err(|e| RegistryError(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
            Err(e) => Err(RegistryError(format!("{}: {e}", path.display()))),
        }
    }
    pub fn services(&self) -> &[Service] {
        &self.service
    }
    pub fn get(&self, id: ServiceId) -> Option<&Service> {
        self.service.iter().find(|s| s.id == id)
    }
    pub fn find(&self, q: &str) -> Option<&Service> {
        match q.parse::<ServiceId>() {
            Ok(id) => self.get(id),
            Err(_) => self.service.iter().find(|s| s.name == q),
        }
    }
    pub fn is_enabled(&self, id: ServiceId) -> bool {
        self.get(id).is_some_and(|s| s.enabled)
    }
    pub fn update<T>(dirs: &Dirs, f: impl FnOnce(&mut Registry) -> Result<T, RegistryError>) -> Result<T, RegistryError> {
        let mut r = Self::load(dirs)?;
        let t = f(&mut r)?;
        std::fs::create_dir_all(&dirs.config).map_err(|e| RegistryError(e.to_string()))?;
        let tmp = dirs.services_file().with_extension("tmp");
        std::fs::write(&tmp, toml::to_string(&r).unwrap()).map_err(|e| RegistryError(e.to_string()))?;
        std::fs::rename(&tmp, dirs.services_file()).map_err(|e| RegistryError(e.to_string()))?;
        Ok(t)
    }
    pub fn add(&mut self, name: &str, id: Option<ServiceId>) -> Result<ServiceId, RegistryError> {
        let id = id.unwrap_or_else(|| ServiceId(Guid::new_v4()));
        self.service.push(Service { id, name: name.into(), enabled: true });
        Ok(id)
    }
    pub fn remove(&mut self, q: &str) -> Result<Service, RegistryError> {
        let id = self.find(q).ok_or_else(|| RegistryError("no such service".into()))?.id;
        let i = self.service.iter().position(|s| s.id == id).unwrap();
        Ok(self.service.remove(i))
    }
    pub fn set_enabled(&mut self, q: &str, enabled: bool) -> Result<(), RegistryError> {
        let id = self.find(q).ok_or_else(|| RegistryError("no such service".into()))?.id;
        self.service.iter_mut().find(|s| s.id == id).unwrap().enabled = enabled;
        Ok(())
    }
}
