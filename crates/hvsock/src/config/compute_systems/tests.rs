//! Unit tests of the HCS document parser, on documents written from the HCS schema
//! reference (`Properties`: Id, SystemType, Name, Owner, RuntimeId, State, ...).

use super::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn vm(s: &str) -> VmId {
    VmId(s.parse().unwrap())
}

/// A VM made in Hyper-V Manager: Id and RuntimeId are both the VM's GUID.
const HYPERV_VM: &str = r#"[
  {
    "Id": "1F0C1E39-8B2D-4C5A-9E0B-6C7D8E9FA0B1",
    "SystemType": "VirtualMachine",
    "Name": "Ubuntu 24.04",
    "Owner": "VMMS",
    "RuntimeId": "1f0c1e39-8b2d-4c5a-9e0b-6c7d8e9fa0b1",
    "RuntimeOsType": "Linux",
    "State": "Running",
    "Stopped": false,
    "ExitType": "None",
    "Statistics": {"Timestamp": "2026-12-01T22:00:00Z", "Uptime100ns": 123456789},
    "TerminateOnLastHandleClosed": false
  }
]"#;

/// The WSL 2 utility VM: its HCS Id is not the partition id that hvsock needs.
const WSL_VM: &str = r#"[{"Id":"8E4A2B61-35C8-4F0D-A1B2-C3D4E5F60718","SystemType":"VirtualMachine",
  "Name":"8E4A2B61-35C8-4F0D-A1B2-C3D4E5F60718","Owner":"WSL",
  "RuntimeId":"{5C1D7E2A-9B3F-4E60-8A71-B2C3D4E5F607}","State":"Running","RuntimeOsType":"Linux"}]"#;

/// A Hyper-V isolated container (Id is Docker's hash, RuntimeId its utility VM) and a
/// process-isolated one (no RuntimeId), plus a stopped VM written with nulls.
const CONTAINERS: &str = r#"[
  {"Id":"4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c","SystemType":"Container",
   "Name":"4f1c2d3e4f5a","Owner":"docker","RuntimeId":"0d2e3f40-5162-4738-89ab-cdef01234567",
   "State":"Running","HostingSystemId":""},
  {"Id":"abc123","SystemType":"Container","Owner":"containerd-shim-runhcs-v1.exe","State":"Running"},
  {"Id":"6b9f3a27-1c4d-4e8f-a0b2-3c4d5e6f7a8b","SystemType":"VirtualMachine","Name":null,
   "Owner":null,"RuntimeId":null,"State":"Stopped"}
]"#;

#[test]
fn a_hyper_v_vm() {
    let s = parse(HYPERV_VM).unwrap();
    assert_eq!(s.len(), 1);
    let v = &s[0];
    assert_eq!(v.id, "1F0C1E39-8B2D-4C5A-9E0B-6C7D8E9FA0B1");
    assert_eq!(v.name, "Ubuntu 24.04");
    assert_eq!(v.owner, "VMMS");
    assert_eq!(v.state, "Running");
    assert!(v.is_virtual_machine());
    assert_eq!(v.vm_id(), Some(vm("1f0c1e39-8b2d-4c5a-9e0b-6c7d8e9fa0b1")));
}

#[test]
fn the_wsl_utility_vm_is_addressed_by_its_runtime_id() {
    let s = parse(WSL_VM).unwrap();
    assert_eq!(s[0].owner, "WSL");
    let rt = vm("5c1d7e2a-9b3f-4e60-8a71-b2c3d4e5f607");
    assert_eq!(s[0].runtime_id, Some(rt));
    assert_eq!(s[0].vm_id(), Some(rt), "RuntimeId, not Id");
}

#[test]
fn containers_and_nulls() {
    let s = parse(CONTAINERS).unwrap();
    assert_eq!(s.len(), 3);
    assert!(!s[0].is_virtual_machine());
    assert_eq!(
        s[0].vm_id(),
        Some(vm("0d2e3f40-5162-4738-89ab-cdef01234567"))
    );
    // No RuntimeId and an Id that is no GUID: no VM id at all.
    assert_eq!(s[1].name, "");
    assert_eq!(s[1].vm_id(), None);
    // Nulls are absent; with no RuntimeId a GUID Id is the fallback.
    assert_eq!((s[2].name.as_str(), s[2].owner.as_str()), ("", ""));
    assert_eq!(s[2].runtime_id, None);
    assert_eq!(
        s[2].vm_id(),
        Some(vm("6b9f3a27-1c4d-4e8f-a0b2-3c4d5e6f7a8b"))
    );
    assert_eq!(s[2].state, "Stopped");
}

#[test]
fn an_empty_list() {
    assert_eq!(parse("[]").unwrap(), vec![]);
    assert_eq!(parse(" \r\n[ ]\r\n").unwrap(), vec![]);
}

#[test]
fn malformed_documents_are_clear_errors() {
    for bad in [
        "",
        "{}",
        "null",
        "[1]",
        "[{}]",
        r#"[{"Id":5}]"#,
        r#"[{"Id":"x","Name":["a"]}]"#,
        r#"[{"Id":"x"}"#,
        r#"[{"Id":"x"}] trailing"#,
    ] {
        let e = parse(bad).unwrap_err();
        assert!(matches!(e, ComputeSystemsError::Json(_)), "{bad:?}: {e:?}");
        assert!(
            e.to_string()
                .starts_with("malformed Host Compute Service document"),
            "{e}"
        );
    }
    let e = parse(r#"[{"Id":"a"},{"Id":"vm2","RuntimeId":"not-a-guid"}]"#).unwrap_err();
    assert!(
        matches!(&e, ComputeSystemsError::BadRuntimeId { index: 1, id, value } if id == "vm2" && value == "not-a-guid"),
        "{e:?}"
    );
    assert!(e.to_string().contains("\"not-a-guid\""), "{e}");
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![Just("Id"), Just("RuntimeId"), Just("Name"), Just("State")]
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Id".to_string()),
                    Just("RuntimeId".to_string()),
                    Just("Name".to_string()),
                    Just("Owner".to_string()),
                    "[A-Za-z]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn guid() -> impl Strategy<Value = Guid> {
    any::<u128>().prop_map(Guid::from_u128)
}

fn system() -> impl Strategy<Value = ComputeSystem> {
    (
        prop_oneof![
            guid().prop_map(|g| g.to_string()),
            "[a-f0-9]{1,64}",
            ".{0,20}"
        ],
        prop::option::of(guid().prop_map(VmId)),
        ".{0,20}",
        prop_oneof![
            Just("VirtualMachine".to_string()),
            Just("Container".to_string()),
            "[A-Za-z]{0,10}"
        ],
        prop_oneof![
            Just("Running".to_string()),
            Just("Stopped".to_string()),
            "[A-Za-z]{0,10}"
        ],
        ".{0,12}",
    )
        .prop_map(
            |(id, runtime_id, name, system_type, state, owner)| ComputeSystem {
                id,
                runtime_id,
                name,
                system_type,
                state,
                owner,
            },
        )
}

/// `s` as HCS writes it: empty fields left out or null (by `style`), the RuntimeId
/// in one of the spellings of a GUID, and fields the parser does not read.
fn as_hcs(s: &ComputeSystem, style: u8) -> Value {
    let text = |v: &str| match (v.is_empty(), style & 1) {
        (false, _) => Some(Value::from(v)),
        (true, 0) => None,
        (true, _) => Some(Value::Null),
    };
    let mut o = serde_json::Map::new();
    o.insert("Id".into(), Value::from(s.id.as_str()));
    for (k, v) in [
        ("Name", &s.name),
        ("SystemType", &s.system_type),
        ("State", &s.state),
        ("Owner", &s.owner),
    ] {
        if let Some(v) = text(v) {
            o.insert(k.into(), v);
        }
    }
    if let Some(rt) = s.runtime_id {
        let t = rt.to_string();
        let t = match (style >> 1) & 3 {
            0 => t,
            1 => t.to_uppercase(),
            _ => format!("{{{t}}}"),
        };
        o.insert("RuntimeId".into(), Value::from(t));
    }
    o.insert("Stopped".into(), json!(s.state == "Stopped"));
    o.insert(
        "Statistics".into(),
        json!({"Uptime100ns": 5, "Nested": [1, {"x": null}]}),
    );
    Value::Object(o)
}

proptest! {
    #[test]
    fn never_panics_on_any_text(text in ".{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_any_json(v in any_json()) {
        let _ = parse(&v.to_string());
    }

    #[test]
    fn documents_round_trip(systems in prop::collection::vec(system(), 0..8), style: u8, pretty: bool) {
        let doc = Value::Array(systems.iter().map(|s| as_hcs(s, style)).collect());
        let text = if pretty {
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            doc.to_string()
        };
        prop_assert_eq!(parse(&text).unwrap(), systems);
    }
}
