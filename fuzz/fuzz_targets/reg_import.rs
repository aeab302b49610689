//! `.reg` import (`hvsock service import`): regedit's UTF-16LE files, ASCII/UTF-8
//! `REGEDIT4` files and their variants, as bytes from anywhere.
//!
//! Properties: never panics; ids found are unique; exporting what was found and parsing
//! that again gives the same services; importing them into a registry never panics.
#![no_main]

use hvsock::regfile::{export_reg, export_reg_text, parse_reg};
use hvsock::registry::{Registry, Service};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_reg(data) {
        Ok(imp) => {
            for (i, (id, _)) in imp.services.iter().enumerate() {
                assert!(imp.services[..i].iter().all(|(x, _)| x != id));
            }
            let services: Vec<Service> = imp
                .services
                .iter()
                .map(|(id, name)| Service {
                    id: *id,
                    name: name.clone(),
                    enabled: true,
                })
                .collect();
            let bytes = export_reg(&services);
            let back = parse_reg(&bytes).unwrap_or_else(|e| {
                panic!(
                    "export does not parse back: {e}\n{}",
                    export_reg_text(&services)
                )
            });
            assert_eq!(back.services, imp.services);
            assert!(back.skipped.is_empty(), "{:?}", back.skipped);
            // The UTF-8 text form parses the same.
            let text = parse_reg(export_reg_text(&services).as_bytes()).unwrap();
            assert_eq!(text.services, imp.services);

            let mut reg = Registry::new();
            let report = reg.import(&imp.services);
            assert_eq!(
                report.added.len() + report.skipped.len(),
                imp.services.len()
            );
            assert_eq!(reg.services(), &report.added[..]);
        }
        Err(e) => {
            assert!(e.line >= 1);
            let _ = e.to_string();
        }
    }
});
