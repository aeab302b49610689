//! `hvsock vm list` and `show` on Windows: the VMs and containers the Host Compute
//! Service runs ([`hvsock::compute_systems`]), with the VM id a Hyper-V socket uses.

use crate::messages::{print_json, print_list};
use hvsock::compute_systems::{self, ComputeSystem};
use serde_json::{Value, json};
use std::process::ExitCode;

/// One compute system as JSON: {vm_id, hcs_id, name, type, state, owner}.
fn system_json(s: &ComputeSystem) -> Value {
    json!({
        "vm_id": s.vm_id().map(|v| v.to_string()),
        "hcs_id": s.id,
        "name": s.name,
        "type": s.system_type,
        "state": s.state,
        "owner": s.owner,
    })
}

/// What an empty field shows in the table.
fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// One line of `hvsock vm list`.
fn row(s: &ComputeSystem) -> String {
    let vm = s.vm_id().map_or("-".to_string(), |v| v.to_string());
    format!(
        "{vm:<36}  {:<14}  {:<8}  {:<8}  {}\n",
        or_dash(&s.system_type),
        or_dash(&s.state),
        or_dash(&s.owner),
        or_dash(&s.name)
    )
}

/// The systems, or the HCS's own error (`Unsupported` where there is none: it says
/// what it needs).
fn systems() -> Result<Vec<ComputeSystem>, String> {
    compute_systems::enumerate().map_err(|e| format!("listing VMs: {e}"))
}

/// `hvsock vm list [--json]`.
pub(super) fn list(json: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let all = systems()?;
    let header = format!(
        "{:<36}  {:<14}  {:<8}  {:<8}  NAME\n",
        "VMID", "TYPE", "STATE", "OWNER"
    );
    let empty = "the Host Compute Service runs no VMs or containers";
    print_list(json, &all, system_json, header, row, empty);
    Ok(ExitCode::SUCCESS)
}

/// Whether `s` is what `q` names: its VM id, its HCS id or its name (GUIDs in any case).
fn is(s: &ComputeSystem, q: &str) -> bool {
    let guid = q.parse::<hvsock::Guid>().ok();
    s.name == q
        || s.id.eq_ignore_ascii_case(q)
        || guid.is_some_and(|g| s.vm_id().is_some_and(|v| v.0 == g))
}

/// `hvsock vm show ID|NAME [--json]`.
pub(super) fn show(q: &str, json: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let all = systems()?;
    let s = all.iter().find(|s| is(s, q)).ok_or_else(|| {
        format!(
            "no VM or container {q:?} in the Host Compute Service's list (see `hvsock vm list`)"
        )
    })?;
    if json {
        print_json(&system_json(s));
    } else {
        let vm = s.vm_id().map_or("-".to_string(), |v| v.to_string());
        println!("vm id:   {vm}");
        println!("hcs id:  {}", s.id);
        println!("name:    {}", or_dash(&s.name));
        println!("type:    {}", or_dash(&s.system_type));
        println!("state:   {}", or_dash(&s.state));
        println!("owner:   {}", or_dash(&s.owner));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_lookup() {
        let doc = r#"[{"Id":"3d8a5c4e-0a55-4d5f-9f4e-2b9c4e2c7b11","SystemType":"VirtualMachine",
          "Name":"web","Owner":"VMMS","State":"Running"},
          {"Id":"abc123","SystemType":"Container","RuntimeId":"11111111-2222-3333-4444-555555555555"},
          {"Id":"no-guid"}]"#;
        let all = compute_systems::parse(doc).unwrap();
        assert_eq!(
            row(&all[0]),
            "3d8a5c4e-0a55-4d5f-9f4e-2b9c4e2c7b11  VirtualMachine  Running   VMMS      web\n"
        );
        assert!(row(&all[2]).starts_with("-   "), "{}", row(&all[2]));
        assert!(is(&all[0], "web"));
        assert!(is(&all[0], "3D8A5C4E-0A55-4D5F-9F4E-2B9C4E2C7B11"));
        assert!(is(&all[1], "ABC123"));
        assert!(is(&all[1], "11111111-2222-3333-4444-555555555555"));
        assert!(!is(&all[1], "web"));
        let j = system_json(&all[1]);
        assert_eq!(j["vm_id"], "11111111-2222-3333-4444-555555555555");
        assert_eq!(j["hcs_id"], "abc123");
        assert_eq!(system_json(&all[2])["vm_id"], Value::Null);
    }
}
