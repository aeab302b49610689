//! The Host Compute Service's list of compute systems (the JSON document
//! `HcsEnumerateComputeSystems` returns), which `hvsock vm list` reads on Windows.
//!
//! Properties: never panics; a document that parses gives systems whose VM id is the
//! `RuntimeId` when there is one, else the `Id` only if that is a GUID; writing the
//! systems back as a document (fields in another order, nulls for empty fields) parses
//! to the same systems.
#![no_main]

use hvsock::config::compute_systems::{ComputeSystem, parse};
use hvsock::{Guid, VmId};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn as_document(systems: &[ComputeSystem]) -> String {
    let text = |v: &str| if v.is_empty() { Value::Null } else { Value::from(v) };
    let all = systems.iter().map(|s| {
        let mut o = Map::new();
        o.insert("State".into(), text(&s.state));
        o.insert("Owner".into(), text(&s.owner));
        o.insert("Name".into(), text(&s.name));
        o.insert("SystemType".into(), text(&s.system_type));
        if let Some(rt) = s.runtime_id {
            o.insert("RuntimeId".into(), Value::from(rt.to_string().to_uppercase()));
        }
        o.insert("Id".into(), Value::from(s.id.as_str()));
        Value::Object(o)
    });
    Value::Array(all.collect()).to_string()
}

fuzz_target!(|data: &[u8]| {
    // The HCS answers in UTF-16, which the Windows side decodes before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(systems) = parse(text) else {
        return;
    };
    for s in &systems {
        match s.runtime_id {
            Some(rt) => assert_eq!(s.vm_id(), Some(rt)),
            None => assert_eq!(s.vm_id(), s.id.parse::<Guid>().ok().map(VmId)),
        }
    }
    let again = parse(&as_document(&systems)).expect("a written document parses");
    assert_eq!(again, systems);
});
