//! `hvsock vm`: the partition table (the host's list of VMs; Linux, `table`). On
//! Windows the partition table has no meaning (Windows routes Hyper-V sockets to its
//! VMs itself): `list` and `show` read the Host Compute Service's VMs instead (`hcs`),
//! and `add` and `remove` are refused by name.

#[cfg(windows)]
mod hcs;
#[cfg(unix)]
mod table;

use crate::config::Config;
use clap::{ArgGroup, Subcommand};
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
    ///
    /// --half-close says whether a hybrid VM's VMM carries a half-close (a host
    /// `shutdown(SHUT_WR)`, which `hvsock connect` sends at stdin's end, reaching the
    /// guest as an EOF it can still answer after). Firecracker and vhost-device-vsock turn
    /// it into a full close (`lost`, the default); Cloud Hypervisor with its fix (#8300,
    /// PR #8372) carries it. `connect`, `listen` and `relay` send no half-close to a VM
    /// that loses it (see their --half-close). Kernel vsock and local partitions always
    /// carry it.
    #[command(
        group(ArgGroup::new("kind").required(true).args(["hybrid", "cid", "local"])),
        after_long_help = "\
Examples:
  hvsock vm add fc1 --hybrid /run/firecracker/fc1/v.sock
  hvsock vm add ovmm1 --hybrid /run/openvmm/v.sock --connect-form guid
  hvsock vm add ch1 --hybrid /run/ch1/vsock.sock --half-close carried   # Cloud Hypervisor
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
        /// With --hybrid: how its VMM takes a service that is no vsock port template:
        /// `port` (by the GUID's first field: Firecracker, Cloud Hypervisor,
        /// vhost-device-vsock; the default) or `guid` (OpenVMM: `CONNECT <guid>`, and
        /// host listeners also create PATH_GUID for its guests).
        #[arg(long, value_name = "port|guid", requires = "hybrid", value_parser = parse_connect_form)]
        connect_form: Option<hvsock::partitions::ConnectForm>,
        /// With --hybrid: whether the VMM carries a half-close [default: lost].
        #[arg(long, value_name = "carried|lost")]
        half_close: Option<hvsock::partitions::HalfClose>,
    },
    /// List the VMs in the table (ID, KIND, TARGET, NAME). On Windows: the VMs and
    /// containers of the Host Compute Service (VMID, TYPE, STATE, OWNER, NAME).
    #[command(after_long_help = "\
Examples:
  hvsock vm list
  hvsock vm list --json | jq -r '.[] | select(.kind == \"cid\") | .cid'")]
    List {
        /// JSON array of {id, name, kind, path | cid, half_close}.
        #[arg(long)]
        json: bool,
    },
    /// Show one VM, by id or name (on Windows: from the Host Compute Service).
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

fn parse_connect_form(s: &str) -> Result<hvsock::partitions::ConnectForm, String> {
    s.parse()
}

/// Runs `hvsock vm` on Windows: `list` and `show` from the Host Compute Service.
#[cfg(windows)]
pub fn run(_config: &Config, cmd: VmCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let name = match cmd {
        VmCmd::List { json } => return hcs::list(json),
        VmCmd::Show { vm, json } => return hcs::show(&vm, json),
        VmCmd::Add { .. } => "add",
        VmCmd::Remove { .. } => "remove",
    };
    Err(crate::platform::UnixOnly::new(
        format!("hvsock vm {name}"),
        "the partition table holds Linux's hybrid-vsock, vsock and local partitions; \
         Windows knows its VMs itself (`hvsock vm list` shows them)",
    )
    .into())
}

/// Runs `hvsock vm`: the partition table.
#[cfg(unix)]
pub fn run(config: &Config, cmd: VmCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    table::run(config, cmd)
}
