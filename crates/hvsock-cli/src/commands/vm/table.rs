//! The partition table's subcommands (Linux).

use super::VmCmd;
use crate::config::Config;
use crate::messages::{print_json, print_list};
use hvsock::VmId;
use hvsock::partitions::{Partition, PartitionError, PartitionKind, PartitionTable};
use serde_json::{Value, json};
use std::process::ExitCode;

/// One VM as JSON: {id, name, kind, path and connect_form | cid, uid, half_close}.
pub fn partition_json(p: &Partition) -> Value {
    let mut v = json!({
        "id": p.id.to_string(),
        "name": p.name,
        "kind": p.kind.as_str(),
        "half_close": p.half_close().as_str(),
    });
    match &p.kind {
        PartitionKind::Hybrid { path } => {
            v["path"] = json!(path.to_string_lossy());
            v["connect_form"] = json!(p.connect_form.as_str());
        }
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
        "{:<36}  {:<6}  {:<24}  {:<10}  {}\n",
        p.id.to_string(),
        p.kind.as_str(),
        target(p),
        p.half_close().as_str(),
        p.name
    )
}

fn target(p: &Partition) -> String {
    match &p.kind {
        PartitionKind::Hybrid { path } if p.connect_form.is_port() => path.display().to_string(),
        PartitionKind::Hybrid { path } => {
            format!("{} ({} form)", path.display(), p.connect_form)
        }
        PartitionKind::Cid { cid } => cid.to_string(),
        PartitionKind::Local => "-".into(),
    }
}

/// Runs `hvsock vm` on the partition table.
pub(super) fn run(config: &Config, cmd: VmCmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dirs = &config.dirs;
    match cmd {
        VmCmd::Add {
            name,
            id,
            hybrid,
            cid,
            local,
            uid,
            connect_form,
            half_close,
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
                if let Some(form) = connect_form {
                    t.set_connect_form(&id.to_string(), form)?;
                }
                if let Some(h) = half_close {
                    t.set_half_close(&id.to_string(), h)?;
                }
                Ok(id)
            })?;
            println!("{id}");
        }
        VmCmd::List { json } => {
            let t = PartitionTable::load(dirs)?;
            let header = format!(
                "{:<36}  {:<6}  {:<24}  {:<10}  NAME\n",
                "ID", "KIND", "TARGET", "HALF-CLOSE"
            );
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
                    PartitionKind::Hybrid { path } => {
                        println!("path:   {}", path.display());
                        println!("connect: {} form", p.connect_form);
                    }
                    PartitionKind::Cid { cid } => println!("cid:    {cid}"),
                    PartitionKind::Local => {}
                }
                if let Some(uid) = p.uid {
                    println!("uid:    {uid}");
                }
                println!("half-close: {}", p.half_close());
            }
        }
        VmCmd::Remove { vm } => {
            let p = PartitionTable::update(dirs, |t| t.remove(&vm))?;
            println!("removed {} {:?}", p.id, p.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
