//! `hvsock vm`: the partition table (the host's list of VMs).

use crate::config::Config;
use crate::messages::{print_json, print_list};
use clap::{ArgGroup, Subcommand};
use hvsock::VmId;
use hvsock::partitions::{Partition, PartitionError, PartitionKind, PartitionTable};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum VmCmd {
    /// Add a VM (partition) to the table; prints its id alone.
    ///
    /// KIND is one of --hybrid PATH (the hybrid-vsock Unix socket of a Firecracker,
    /// Cloud Hypervisor, vhost-device-vsock or OpenVMM VM; host listeners create
    /// PATH_PORT next to it, so no VM's PATH may be another's PATH_SUFFIX), --cid N (a kernel
    /// vhost-vsock VM; CIDs start at 3) or --local (a local partition: processes or
    /// containers on this machine). The id is a random GUID unless --id gives it. Names
    /// may not contain ':' nor be a wildcard name (any, children, loopback, parent, ...).
    #[command(
        group(ArgGroup::new("kind").required(true).args(["hybrid", "cid", "local"])),
        after_long_help = "\
Examples:
  hvsock vm add fc1 --hybrid /run/firecracker/fc1/v.sock
  hvsock vm add qemu1 --cid 3
  hvsock vm add sandbox --local --id 0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22
  hvsock addr encode qemu1:vsock:5000   # names work wherever an address is taken"
    )]
    Add {
        /// A unique name.
        name: String,
        /// Use this GUID as the VM id.
        #[arg(long, value_name = "GUID")]
        id: Option<hvsock::Guid>,
        /// The VM's hybrid-vsock Unix socket (stored as an absolute path).
        #[arg(long, value_name = "PATH")]
        hybrid: Option<PathBuf>,
        /// The VM's vsock context id (3 or more).
        #[arg(long, value_name = "N")]
        cid: Option<u32>,
        /// A local partition on this machine.
        #[arg(long)]
        local: bool,
        /// With --local: only processes of this user (or root) may act as the
        /// partition (checked with the kernel's peer credentials).
        #[arg(long, value_name = "UID", requires = "local")]
        uid: Option<u32>,
    },
    /// List the VMs in the table (ID, KIND, TARGET, NAME).
    #[command(after_long_help = "\
Examples:
  hvsock vm list
  hvsock vm list --json | jq -r '.[] | select(.kind == \"cid\") | .cid'")]
    List {
        /// JSON array of {id, name, kind, path | cid}.
        #[arg(long)]
        json: bool,
    },
    /// Show one VM, by id or name.
    Show {
        /// The VM's GUID or name.
        #[arg(value_name = "ID|NAME")]
        vm: String,
        /// JSON object {id, name, kind, path | cid}.
        #[arg(long)]
        json: bool,
    },
    /// Remove a VM from the table, by id or name.
    Remove {
        /// The VM's GUID or name.
        #[arg(value_name = "ID|NAME")]
        vm: String,
    },
}

pub fn partition_json(p: &Partition) -> Value {
    let mut v = json!({
        "id": p.id.to_string(),
        "name": p.name,
        "kind": p.kind.as_str(),
    });
    match &p.kind {
        PartitionKind::Hybrid { path } => v["path"] = json!(path.to_string_lossy()),
        PartitionKind::Cid { cid } => v["cid"] = json!(cid),
        PartitionKind::Local => {}
    }
    if let Some(uid) = p.uid {
        v["uid"] = json!(uid);
    }
    v
}

/// One line of `hvsock vm list`.
fn row(p: &Partition) -> String {
    format!(
        "{:<36}  {:<6}  {:<24}  {}\n",
        p.id.to_string(),
        p.kind.as_str(),
        target(p),
        p.name
    )
}

fn target(p: &Partition) -> String {
    match &p.kind {
        PartitionKind::Hybrid { path } => path.display().to_string(),
        PartitionKind::Cid { cid } => cid.to_string(),
        PartitionKind::Local => "-".into(),
    }
}

/// Runs `hvsock vm`.
pub fn run(config: &Config, cmd: VmCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dirs = &config.dirs;
    match cmd {
        VmCmd::Add {
            name,
            id,
            hybrid,
            cid,
            local,
            uid,
        } => {
            let kind = match (hybrid, cid, local) {
                (Some(path), None, false) => PartitionKind::Hybrid { path },
                (None, Some(cid), false) => PartitionKind::Cid { cid },
                (None, None, true) => PartitionKind::Local,
                _ => return Err("give exactly one of --hybrid PATH, --cid N, --local".into()),
            };
            let id = PartitionTable::update(dirs, |t| {
                let id = t.add(&name, id.map(VmId), kind)?;
                if uid.is_some() {
                    t.set_uid(&id.to_string(), uid)?;
                }
                Ok(id)
            })?;
            println!("{id}");
        }
        VmCmd::List { json } => {
            let t = PartitionTable::load(dirs)?;
            let header = format!("{:<36}  {:<6}  {:<24}  NAME\n", "ID", "KIND", "TARGET");
            let empty = "no VMs in the partition table (add one with `hvsock vm add`)";
            print_list(json, t.partitions(), partition_json, header, row, empty);
        }
        VmCmd::Show { vm, json } => {
            let t = PartitionTable::load(dirs)?;
            let p = t
                .find(&vm)
                .ok_or_else(|| PartitionError::NotFound(vm.clone()))?;
            if json {
                print_json(&partition_json(p));
            } else {
                println!("id:     {}", p.id);
                println!("name:   {}", p.name);
                println!("kind:   {}", p.kind.as_str());
                match &p.kind {
                    PartitionKind::Hybrid { path } => println!("path:   {}", path.display()),
                    PartitionKind::Cid { cid } => println!("cid:    {cid}"),
                    PartitionKind::Local => {}
                }
                if let Some(uid) = p.uid {
                    println!("uid:    {uid}");
                }
            }
        }
        VmCmd::Remove { vm } => {
            let p = PartitionTable::update(dirs, |t| t.remove(&vm))?;
            println!("removed {} {:?}", p.id, p.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
