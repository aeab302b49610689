//! The partition table file (`partitions.toml`), which a user or another tool may have
//! edited by hand.
//!
//! Properties: never panics; a file that loads obeys every table rule (a connect form
//! only on hybrid VMs), every name in it is addressable as `NAME:SERVICE`, only hybrid
//! VMs record a half-close, every hybrid clash it reports is one, and what `to_toml`
//! writes for it loads back equal.
#![no_main]

mod common;

use hvsock::ServiceId;
use hvsock::partitions::{self, ConnectForm, PartitionKind, PartitionTable};
use hvsock::registry::Registry;
use hvsock::syntax;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // The loader rejects non-UTF-8 files before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/partitions.toml");
    match PartitionTable::from_toml(path, text) {
        Ok(table) => {
            let all = table.partitions();
            for (i, p) in all.iter().enumerate() {
                partitions::check_name(&p.name).unwrap();
                assert!(!p.id.is_wildcard());
                match &p.kind {
                    PartitionKind::Cid { cid } => {
                        assert!(*cid >= 3 && *cid != u32::MAX);
                        assert_eq!(table.by_cid(*cid), Some(p));
                    }
                    PartitionKind::Hybrid { path } => assert!(path.is_absolute()),
                    PartitionKind::Local => {}
                }
                // Only a hybrid VM's VMM has a connect form other than the default.
                assert!(
                    p.connect_form == ConnectForm::Port
                        || matches!(p.kind, PartitionKind::Hybrid { .. })
                );
                // Only hybrid VMs record a half-close (a default if the file has none).
                let hybrid = matches!(p.kind, PartitionKind::Hybrid { .. });
                assert_eq!(p.half_close.is_some(), hybrid);
                assert!(hybrid || p.half_close().is_carried());
                for q in &all[..i] {
                    assert_ne!(p.id, q.id);
                    assert_ne!(p.name, q.name);
                    if !matches!(p.kind, PartitionKind::Local) {
                        assert_ne!(p.kind, q.kind);
                    }
                }
                assert_eq!(table.get(p.id), Some(p));
                assert_eq!(table.find(&p.id.to_string()), Some(p));
                assert_eq!(table.find(&p.name), Some(p));
                // Every name is addressable: `NAME:vsock:5000` resolves to its id.
                let a = syntax::resolve_addr(
                    &format!("{}:vsock:5000", p.name),
                    &Registry::new(),
                    &table,
                )
                .unwrap_or_else(|e| panic!("VM {:?} is not addressable: {e}", p.name));
                assert_eq!(a.vm_id, p.id, "{:?}", p.name);
                assert_eq!(a.service_id, ServiceId::from_vsock_port(5000));
            }
            // A hand-edited table may hold clashing hybrid paths: each clash named is
            // one, and a listener for the clash's base would be refused its port socket.
            for c in table.hybrid_clashes() {
                let (PartitionKind::Hybrid { path: b }, PartitionKind::Hybrid { path: s }) =
                    (&c.base.kind, &c.port_socket.kind)
                else {
                    panic!("a clash of non-hybrid VMs: {c:?}");
                };
                let mut want = b.as_os_str().to_owned();
                want.push(format!("_{}", c.suffix));
                assert_eq!(want, s.as_os_str(), "{c}");
                assert!(!c.to_string().is_empty());
            }
            common::loads_back(&table, table.to_toml(), |t| PartitionTable::from_toml(path, t));
        }
        Err(e) => common::names_file(&e, "partitions.toml"),
    }
});
