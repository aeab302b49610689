//! The VMs, containers and utility VMs a Windows host runs, as the Host Compute Service
//! (HCS) lists them: the JSON document `HcsEnumerateComputeSystems` returns, an array
//! of the schema's `Properties` objects (`Id`, `SystemType`, `Name`, `Owner`,
//! `RuntimeId`, `State`, and many more that are not needed here and are ignored).
//!
//! [`parse`] is pure and builds everywhere (tests and the `hcs_document` fuzz target
//! run it on Linux); on Windows, `enumerate` asks the HCS itself.
//!
//! ```
//! use hvsock::config::compute_systems::parse;
//!
//! let doc = r#"[{"Id":"3d8a5c4e-0a55-4d5f-9f4e-2b9c4e2c7b11","SystemType":"VirtualMachine",
//!   "Name":"web","Owner":"VMMS","RuntimeId":"3d8a5c4e-0a55-4d5f-9f4e-2b9c4e2c7b11",
//!   "State":"Running","RuntimeOsType":"Linux"}]"#;
//! let systems = parse(doc).unwrap();
//! assert_eq!(systems[0].name, "web");
//! assert_eq!(systems[0].vm_id().unwrap().to_string(), "3d8a5c4e-0a55-4d5f-9f4e-2b9c4e2c7b11");
//! ```

use crate::addr::VmId;
use crate::addr::guid::Guid;
use serde::Deserialize;

/// One compute system: a VM, a container or a utility VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeSystem {
    /// The HCS id (`Id`): any string the creator chose (a GUID for Hyper-V VMs, a
    /// container's hash for Docker, a GUID-like string for WSL).
    pub id: String,
    /// The partition's Hyper-V VM id (`RuntimeId`), when the HCS gives one.
    pub runtime_id: Option<VmId>,
    /// The name (`Name`; empty if the HCS gives none).
    pub name: String,
    /// `SystemType`: `VirtualMachine` or `Container` (others kept as given; empty if none).
    pub system_type: String,
    /// `State`: `Created`, `Running`, `Paused`, `Stopped`, `SavedAsTemplate`, `Unknown`
    /// (others kept as given; empty if none).
    pub state: String,
    /// `Owner`: who created it (`VMMS` for Hyper-V Manager's VMs, `WSL`, `docker`, ...;
    /// empty if none).
    pub owner: String,
}

impl ComputeSystem {
    /// The VM id a Hyper-V socket to this system uses: `RuntimeId` if present, else
    /// `Id` if that is a GUID.
    ///
    /// `RuntimeId` is the id of the partition that runs the system, which is what
    /// `SOCKADDR_HV.VmId` names (hcsshim dials its utility VMs by `RuntimeId`, and WSL's
    /// `wslinfo --vm-id` prints it). `Id` is only the HCS's handle: for Hyper-V
    /// Manager's VMs it is the same GUID as the VM id, but for containers and WSL it is
    /// a name or another GUID. So `Id` is the fallback for documents (older hosts,
    /// systems not running) without `RuntimeId`.
    pub fn vm_id(&self) -> Option<VmId> {
        self.runtime_id
            .or_else(|| self.id.parse::<Guid>().ok().map(VmId))
    }

    /// Whether it is a virtual machine (a VM or a utility VM), not a container.
    pub fn is_virtual_machine(&self) -> bool {
        self.system_type == "VirtualMachine"
    }
}

/// Why an HCS document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ComputeSystemsError {
    /// Not JSON, not an array of objects, or a field of the wrong type.
    #[error("malformed Host Compute Service document: {0}")]
    Json(#[from] serde_json::Error),
    /// A `RuntimeId` that is not a GUID.
    #[error(
        "malformed Host Compute Service document: compute system {index} ({id:?}) has \
         RuntimeId {value:?}, which is not a GUID"
    )]
    BadRuntimeId {
        /// Its position in the array, from 0.
        index: usize,
        /// Its `Id`.
        id: String,
        /// The `RuntimeId` text.
        value: String,
    },
}

/// The fields read from each `Properties` object; every other field is ignored.
/// `null` counts as absent, as HCS writes optional fields either way.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Raw {
    id: String,
    #[serde(default)]
    runtime_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    system_type: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    owner: Option<String>,
}

/// Reads the document `HcsEnumerateComputeSystems` returns: a JSON array of compute
/// system properties. Unknown fields are ignored; a missing `Id`, a field of the wrong
/// type or a `RuntimeId` that is not a GUID is an error.
pub fn parse(doc: &str) -> Result<Vec<ComputeSystem>, ComputeSystemsError> {
    let raw: Vec<Raw> = serde_json::from_str(doc)?;
    raw.into_iter()
        .enumerate()
        .map(|(index, r)| {
            let runtime_id = match r.runtime_id {
                None => None,
                Some(v) => match v.parse::<Guid>() {
                    Ok(g) => Some(VmId(g)),
                    Err(_) => {
                        return Err(ComputeSystemsError::BadRuntimeId {
                            index,
                            id: r.id,
                            value: v,
                        });
                    }
                },
            };
            Ok(ComputeSystem {
                id: r.id,
                runtime_id,
                name: r.name.unwrap_or_default(),
                system_type: r.system_type.unwrap_or_default(),
                state: r.state.unwrap_or_default(),
                owner: r.owner.unwrap_or_default(),
            })
        })
        .collect()
}

/// Every compute system the Host Compute Service of this host knows (Windows only).
///
/// An error of kind `Unsupported` when the HCS is not there (`computecore.dll`
/// missing: it needs Windows 10 1809 / Server 2019 or later with Hyper-V; also under
/// wine); `InvalidData` if its answer cannot be read.
#[cfg(windows)]
pub fn enumerate() -> std::io::Result<Vec<ComputeSystem>> {
    let doc = crate::sys::hcs::enumerate_compute_systems()?;
    parse(&doc).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests;
