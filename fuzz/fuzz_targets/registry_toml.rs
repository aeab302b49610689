//! The service registry file (`services.toml`), which a user or another tool may have
//! edited by hand.
//!
//! Properties: never panics; a file that loads obeys every registry rule, every name in
//! it is addressable as `any:NAME`, what `to_toml` writes for it loads back equal, and
//! the line-by-line fast path gives what the general TOML parser gives.
#![no_main]

mod common;

use hvsock::partitions::PartitionTable;
use hvsock::registry::{self, Registry};
use hvsock::syntax;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    // The loader rejects non-UTF-8 files before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/services.toml");
    let loaded = Registry::from_toml(path, text);
    // The line-by-line fast path and the general TOML parser agree on every text.
    match (&loaded, Registry::from_toml_general(path, text)) {
        (Ok(a), Ok(b)) => assert_eq!(*a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("fast path {a:?}, general parser {b:?}"),
    }
    match loaded {
        Ok(reg) => {
            let services = reg.services();
            for (i, s) in services.iter().enumerate() {
                registry::check_name(&s.name).unwrap();
                registry::check_port(s.id).unwrap();
                for t in &services[..i] {
                    assert_ne!(s.id, t.id);
                    assert_ne!(s.name, t.name);
                    assert_ne!(s.id.port(), t.id.port());
                }
                assert_eq!(reg.get(s.id), Some(s));
                assert_eq!(reg.find(&s.id.to_string()), Some(s));
                assert_eq!(reg.is_enabled(s.id), s.enabled);
                // Every registered name is addressable: `any:NAME` resolves to its id.
                assert_eq!(reg.find(&s.name), Some(s));
                let a =
                    syntax::resolve_addr(&format!("any:{}", s.name), &reg, &PartitionTable::new())
                        .unwrap_or_else(|e| panic!("service {:?} is not addressable: {e}", s.name));
                assert_eq!(a.service_id, s.id, "{:?}", s.name);
            }
            common::loads_back(&reg, reg.to_toml(), |t| Registry::from_toml(path, t));
        }
        Err(e) => common::names_file(&e, "services.toml"),
    }
});
