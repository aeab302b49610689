//! `VM:SERVICE` address text (CLI arguments, configuration files), parsed and resolved
//! against a small registry and partition table built in memory.
//!
//! Properties: never panics; errors render; a resolved address prints as
//! `VMID:SERVICEID`, which resolves to the same address with no registry or table.
#![no_main]

use hvsock::partitions::{PartitionKind, PartitionTable};
use hvsock::registry::Registry;
use hvsock::syntax::{self, ServiceSpec, VmSpec};
use hvsock::{HvAddr, ServiceId, VmId};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn fixtures() -> &'static (Registry, PartitionTable) {
    static F: OnceLock<(Registry, PartitionTable)> = OnceLock::new();
    F.get_or_init(|| {
        let mut r = Registry::new();
        let vmss: ServiceId = "999e53d4-3d5c-4c3e-8779-bed06ec056e1".parse().unwrap();
        r.add("VM Session Service", Some(vmss)).unwrap();
        r.add("with:colon", Some(ServiceId::from_vsock_port(2000)))
            .unwrap();
        r.add("echo", Some(ServiceId::from_vsock_port(7000)))
            .unwrap();
        r.add(" spaced ", Some(ServiceId::from_vsock_port(7001)))
            .unwrap();
        r.add("naïve ünïcode", Some(ServiceId::from_vsock_port(7002)))
            .unwrap();
        r.set_enabled("echo", false).unwrap();
        let mut t = PartitionTable::new();
        t.add("fc1", None, PartitionKind::Cid { cid: 3 }).unwrap();
        t.add(
            "hy",
            Some("0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22".parse().unwrap()),
            PartitionKind::Hybrid {
                path: PathBuf::from("/nonexistent-hvsock-fuzz/v.sock"),
            },
        )
        .unwrap();
        t.add("local one", None, PartitionKind::Local).unwrap();
        (r, t)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (reg, table) = fixtures();

    // The pieces on their own.
    if let Some(p) = syntax::parse_port(s) {
        assert_eq!(syntax::parse_port(&p.to_string()), Some(p));
        assert_eq!(syntax::parse_port(&format!("{p:#x}")), Some(p));
    }
    if let VmSpec::Id(v) = syntax::parse_vm(s) {
        assert_eq!(s.trim().parse::<VmId>(), Ok(v));
    }
    if let Ok(ServiceSpec::Id(id)) = syntax::parse_service(s) {
        assert_eq!(
            syntax::resolve_service(&ServiceSpec::Id(id), &Registry::new()).unwrap(),
            id
        );
    }

    let parsed = syntax::parse_addr(s);
    let resolved = syntax::resolve_addr(s, reg, table);
    match &parsed {
        Ok(spec) => {
            assert!(s.contains(':'));
            assert_eq!(spec.needs_table(), matches!(spec.vm, VmSpec::Name(_)));
            assert_eq!(
                spec.needs_registry(),
                matches!(spec.service, ServiceSpec::Name(_))
            );
            let again = spec.resolve(reg, table);
            assert_eq!(again.as_ref().ok(), resolved.as_ref().ok());
            if let (VmSpec::Name(n), Ok(a)) = (&spec.vm, &resolved) {
                assert_eq!(table.find(n).map(|p| p.id), Some(a.vm_id));
            }
            if let (ServiceSpec::Name(n), Ok(a)) = (&spec.service, &resolved) {
                assert_eq!(reg.find(n).map(|r| r.id), Some(a.service_id));
            }
        }
        Err(e) => {
            assert!(resolved.is_err());
            let _ = e.to_string();
        }
    }
    match resolved {
        Ok(a) => {
            let text = a.to_string();
            let back = syntax::resolve_addr(&text, &Registry::new(), &PartitionTable::new());
            assert_eq!(back.ok(), Some(a), "{s:?} -> {text:?}");
            assert_eq!(HvAddr::from_sockaddr_hv(&a.to_sockaddr_hv()), Ok(a));
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty());
        }
    }
});
