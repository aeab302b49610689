//! The hybrid transport's accepting side: a host listener serves a hybrid VM's
//! guest-initiated connections on the VMM's `PATH_PORT` Unix socket (and, on OpenVMM,
//! `PATH_<guid>` for a service that is no vsock port); the socket it arrived on says
//! which VM it is (never the bytes).

use crate::addr::VmId;
use crate::config::partitions::{PartitionKind, PartitionTable};
use crate::net::accept::{BACKLOG, Core, Source};
use crate::policy::{err, hybrid_guid};
use crate::transport::local::rundir;
use std::fmt::Display;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

/// The socket a VMM connects to for the guest's connections to `port`: `BASE_PORT`
/// (or `BASE_<guid>` for OpenVMM's services by GUID).
pub(crate) fn hybrid_path(base: &Path, port: impl Display) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(format!("_{port}"));
    PathBuf::from(s)
}

impl Core {
    /// For a wildcard host listener: serves the hybrid VMs added to `table` since the
    /// last look, drops removed ones, and retries VMs another listener held.
    pub(crate) fn refresh_hybrid(&mut self, table: &PartitionTable) -> io::Result<()> {
        let gone: Vec<VmId> = self
            .hybrid_held
            .keys()
            .filter(|vm| {
                !matches!(
                    table.get(**vm).map(|p| &p.kind),
                    Some(PartitionKind::Hybrid { .. })
                )
            })
            .copied()
            .collect();
        for vm in gone {
            for t in self.hybrid_held.remove(&vm).unwrap_or_default() {
                self.remove(t);
            }
        }
        let want: Vec<VmId> = table
            .partitions()
            .iter()
            .filter(|p| matches!(p.kind, PartitionKind::Hybrid { .. }))
            .map(|p| p.id)
            .filter(|id| !self.hybrid_held.contains_key(id))
            .collect();
        for vm in want {
            self.claim_hybrid(vm, table, false)?;
        }
        Ok(())
    }

    pub(crate) fn claim_hybrid(
        &mut self,
        vm: VmId,
        table: &PartitionTable,
        strict: bool,
    ) -> io::Result<()> {
        let Some((p, PartitionKind::Hybrid { path: base })) = table.get(vm).map(|p| (p, &p.kind))
        else {
            return Ok(());
        };
        let service = self.addr.service_id;
        let mut paths = vec![hybrid_path(base, service.port())];
        // OpenVMM connects a guest's connection to a service that is no vsock port to
        // `PATH_<guid>`; `PATH_<Data1>` stays for the guests that use the port.
        if let Some(guid) = hybrid_guid(p.connect_form, service) {
            paths.push(hybrid_path(base, guid));
        }
        let mut held = Vec::new();
        let r = paths.iter().try_for_each(|path| {
            self.claim_hybrid_path(vm, &p.name, path, table, strict, &mut held)
        });
        if r.is_err() || held.len() < paths.len() {
            // All of a VM's sockets or none: a wildcard listener tries the rest again on
            // the next refresh.
            for t in held {
                self.remove(t);
            }
            return r;
        }
        self.hybrid_held.insert(vm, held);
        Ok(())
    }

    /// Claims one of `vm`'s sockets; its token goes to `held`. Not strict: a socket
    /// another listener serves (or whose folder is missing) is skipped.
    fn claim_hybrid_path(
        &mut self,
        vm: VmId,
        name: &str,
        path: &Path,
        table: &PartitionTable,
        strict: bool,
        held: &mut Vec<u64>,
    ) -> io::Result<()> {
        // Claiming replaces the file: never take over another VM's socket, which would
        // make that VM's connections arrive as this one (a table edited by hand).
        if let Some(owner) = table.hybrid_socket_owner(path, vm) {
            return if strict {
                Err(err(
                    ErrorKind::AddrInUse,
                    format!(
                        "{}: is the hybrid socket of VM {:?} ({}); refusing to listen there for VM {name:?} ({vm}); fix partitions.toml (a hybrid path may not be another VM's path followed by _PORT)",
                        path.display(),
                        owner.name,
                        owner.id
                    ),
                ))
            } else {
                Ok(())
            };
        }
        match rundir::claim(path, BACKLOG) {
            Ok(c) => {
                held.push(self.add(Source::Hybrid { vm, sock: c })?);
                Ok(())
            }
            Err(e) if strict && rundir::is_in_use(&e) => Err(err(
                ErrorKind::AddrInUse,
                format!(
                    "{}: another listener serves this VM and port",
                    path.display()
                ),
            )),
            Err(e) if strict => Err(e),
            // A wildcard listener skips VMs another listener serves (or whose socket
            // folder is not there yet) and tries again on the next refresh.
            Err(_) => Ok(()),
        }
    }
}
