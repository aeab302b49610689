#![cfg(unix)]
//! Big registries and tables load, import and answer lookups in linear time: 100,000
//! services imported from a `.reg` file, loaded back and looked up; 20,000 partitions.
//! (Sized to run in seconds in a debug build; before the hash indexes, the import
//! alone was quadratic and took minutes. Nothing here is timed.)

use hvsock::partitions::{PartitionKind, PartitionTable};
use hvsock::paths::Dirs;
use hvsock::registry::Registry;
use hvsock::{Guid, ServiceId, VmId, regfile};
use std::fmt::Write;

const SERVICES: u32 = 100_000;
const PARTITIONS: u32 = 20_000;

fn service_id(i: u32) -> ServiceId {
    ServiceId(Guid::from_u128(
        ((0x10000 + i as u128) << 96) | 0x1234_4567_89ab_0000_0000_0000 | i as u128,
    ))
}

fn big_reg() -> Vec<u8> {
    let key = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices";
    let mut text = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
    for i in 0..SERVICES {
        let id = service_id(i).to_string().to_uppercase();
        write!(
            text,
            "[{key}\\{{{id}}}]\r\n\"ElementName\"=\"svc {i}\"\r\n\r\n"
        )
        .unwrap();
    }
    text.into_bytes()
}

#[test]
fn a_registry_of_100k_services_imports_loads_and_looks_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(tmp.path().join("c"), tmp.path().join("r"));
    let parsed = regfile::parse_reg(&big_reg()).unwrap();
    assert_eq!(parsed.services.len(), SERVICES as usize);
    assert!(parsed.skipped.is_empty(), "{:?}", &parsed.skipped[..3]);
    let report = Registry::update(&dirs, |r| Ok(r.import(&parsed.services))).unwrap();
    assert_eq!(report.added.len(), SERVICES as usize);
    // Importing again skips every entry as already registered.
    let again = Registry::update(&dirs, |r| Ok(r.import(&parsed.services[..1000]))).unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.skipped.len(), 1000);

    let reg = Registry::load(&dirs).unwrap();
    assert_eq!(reg.services().len(), SERVICES as usize);
    for i in [0, 1, SERVICES / 2, SERVICES - 1] {
        let id = service_id(i);
        assert_eq!(reg.get(id).unwrap().name, format!("svc {i}"));
        assert_eq!(reg.find(&format!("svc {i}")).unwrap().id, id);
        assert_eq!(reg.find(&id.to_string()).unwrap().id, id);
        assert!(reg.is_enabled(id));
    }
    assert!(reg.find("svc 100000").is_none());
    // Rules still hold against every entry: a clashing Data1 and a taken name.
    let mut reg = reg;
    let clash = ServiceId(Guid::from_u128(service_id(7).0.to_u128() ^ 1));
    assert!(reg.add("new", Some(clash)).is_err());
    assert!(reg.add("svc 99999", None).is_err());
    reg.remove("svc 5").unwrap();
    assert!(reg.find("svc 5").is_none());
    assert_eq!(reg.find("svc 6").unwrap().id, service_id(6));
    assert_eq!(
        reg.get(service_id(SERVICES - 1)).unwrap().name,
        format!("svc {}", SERVICES - 1)
    );
    reg.add("svc 5", Some(service_id(5))).unwrap();
}

#[test]
fn a_table_of_20k_partitions_loads_and_looks_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(tmp.path().join("c"), tmp.path().join("r"));
    let vm = |i: u32| {
        VmId(Guid::from_u128(
            0x5e0b_8f7a_4c2e_4d8e_9a57_0000_0000_0000 | i as u128,
        ))
    };
    PartitionTable::update(&dirs, |t| {
        for i in 0..PARTITIONS {
            let kind = match i % 3 {
                0 => PartitionKind::Local,
                1 => PartitionKind::Cid { cid: 3 + i },
                _ => PartitionKind::Hybrid {
                    path: format!("/nonexistent-hv/vm{i}/v.sock").into(),
                },
            };
            t.add(&format!("vm{i}"), Some(vm(i)), kind)?;
        }
        Ok(())
    })
    .unwrap();
    let t = PartitionTable::load(&dirs).unwrap();
    assert_eq!(t.partitions().len(), PARTITIONS as usize);
    assert!(t.hybrid_clashes().is_empty());
    for i in [0, 1, 2, PARTITIONS - 1] {
        assert_eq!(t.get(vm(i)).unwrap().name, format!("vm{i}"));
        assert_eq!(t.find(&format!("vm{i}")).unwrap().id, vm(i));
    }
    assert_eq!(t.by_cid(3 + 1).unwrap().id, vm(1));
    let p = std::path::Path::new("/nonexistent-hv/vm2/v.sock_5000");
    assert!(t.hybrid_socket_owner(p, vm(2)).is_none());
    let p = std::path::Path::new("/nonexistent-hv/vm2/v.sock");
    assert_eq!(t.hybrid_socket_owner(p, vm(5)).unwrap().id, vm(2));
    assert!(
        t.check_hybrid_path(&p.with_file_name("v.sock_1"), None)
            .is_err()
    );
}
