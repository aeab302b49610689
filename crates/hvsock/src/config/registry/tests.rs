//! Unit tests of the service registry.

use super::*;
use proptest::prelude::*;

fn sid(s: &str) -> ServiceId {
    s.parse().unwrap()
}

const VMSS: &str = "999E53D4-3D5C-4C3E-8779-BED06EC056E1";

#[test]
fn add_find_remove_enable() {
    let mut r = Registry::new();
    let id = r.add("VM Session Service", Some(sid(VMSS))).unwrap();
    assert_eq!(id.to_string(), VMSS.to_lowercase());
    let rnd = r.add("mine", None).unwrap();
    assert_ne!(rnd, id);
    assert_eq!(rnd.0.data3 >> 12, 4, "random ids are v4");
    assert_eq!(r.find("VM Session Service").unwrap().id, id);
    assert_eq!(r.find(&format!("{{{VMSS}}}")).unwrap().id, id);
    assert_eq!(r.find(&VMSS.to_lowercase()).unwrap().id, id);
    assert!(
        r.find("vm session service").is_none(),
        "names match exactly"
    );
    assert_eq!(r.get(rnd).unwrap().name, "mine");
    assert!(r.is_enabled(id));
    r.set_enabled("mine", false).unwrap();
    assert!(!r.is_enabled(rnd));
    r.set_enabled(&rnd.to_string(), true).unwrap();
    assert!(r.is_enabled(rnd));
    assert!(!r.is_enabled(ServiceId::from_vsock_port(4000)));
    assert!(matches!(
        r.set_enabled("nope", true),
        Err(RegistryError::NotFound(_))
    ));
    let gone = r.remove(VMSS).unwrap();
    assert_eq!(gone.name, "VM Session Service");
    assert!(r.get(id).is_none());
    assert!(matches!(r.remove(VMSS), Err(RegistryError::NotFound(_))));
    assert_eq!(r.services().len(), 1);
}

#[test]
fn duplicates_name_the_existing_entry() {
    let mut r = Registry::new();
    r.add("a", Some(sid(VMSS))).unwrap();
    let e = r.add("b", Some(sid(VMSS))).unwrap_err();
    assert!(matches!(e, RegistryError::DuplicateId { .. }));
    assert!(e.to_string().contains("\"a\""), "{e}");
    let e = r.add("a", None).unwrap_err();
    assert!(matches!(e, RegistryError::DuplicateName { .. }));
    assert!(e.to_string().contains(&VMSS.to_lowercase()), "{e}");
    // Same Data1, different GUID.
    let e = r
        .add("c", Some(sid("999e53d4-0000-4000-8000-000000000000")))
        .unwrap_err();
    assert!(matches!(
        e,
        RegistryError::PortClash {
            port: 0x999e53d4,
            ..
        }
    ));
    let s = e.to_string();
    assert!(s.contains("\"a\"") && s.contains("vsock port"), "{s}");
    assert_eq!(r.services().len(), 1);
}

#[test]
fn port_rules() {
    let mut r = Registry::new();
    for p in [0, 1, 80, 1023] {
        let e = r.add("x", Some(ServiceId::from_vsock_port(p))).unwrap_err();
        assert!(matches!(e, RegistryError::BadPort { .. }), "{p}");
        assert!(e.to_string().contains("privileged"), "{e}");
    }
    let e = r
        .add("x", Some(ServiceId::from_vsock_port(u32::MAX)))
        .unwrap_err();
    assert!(e.to_string().contains("VMADDR_PORT_ANY"), "{e}");
    r.add("x", Some(ServiceId::from_vsock_port(1024))).unwrap();
    r.add("y", Some(ServiceId::from_vsock_port(u32::MAX - 1)))
        .unwrap();
}

#[test]
fn name_rules() {
    let mut r = Registry::new();
    for bad in [
        "",
        "a\nb",
        "tab\there",
        "\u{7f}",
        VMSS,
        "vsock:80",
        "VSOCK:x",
    ] {
        let e = r.add(bad, None).unwrap_err();
        assert!(matches!(e, RegistryError::BadName { .. }), "{bad:?}: {e}");
    }
    for good in ["a:b", "名前", "with \"quotes\" and \\", " spaced "] {
        r.add(good, None).unwrap();
    }
    assert_eq!(r.services().len(), 4);
}

/// Regression (fuzz target `registry_toml`): names that are a GUID or `vsock:PORT`
/// once trimmed, or only spaces, were accepted, but `any:NAME` does not reach them.
#[test]
fn names_that_addresses_would_trim_are_rejected() {
    let mut r = Registry::new();
    for bad in [
        " ",
        "\u{a0}\t ",
        " vsock:5",
        "vsock:5 ",
        " 999e53d4-3d5c-4c3e-8779-bed06ec056e1",
        "{999E53D4-3D5C-4C3E-8779-BED06EC056E1}\u{2003}",
    ] {
        let e = r.add(bad, None).unwrap_err();
        assert!(matches!(e, RegistryError::BadName { .. }), "{bad:?}: {e}");
    }
    let toml = "[[service]]\nid = \"5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11\"\nname = \" vsock:5\"\n";
    let e = Registry::from_toml(Path::new("services.toml"), toml).unwrap_err();
    assert!(e.to_string().contains("vsock:"), "{e}");
    // Spaces around other names are fine, and the name stays addressable.
    let id = r.add(" spaced ", None).unwrap();
    let table = crate::config::partitions::PartitionTable::new();
    let a = crate::addr::syntax::resolve_addr("any: spaced ", &r, &table).unwrap();
    assert_eq!(a.service_id, id);
}

#[test]
fn random_ids_avoid_taken_ports() {
    let mut r = Registry::new();
    for i in 0..200 {
        r.add(&format!("s{i}"), None).unwrap();
    }
    let mut ports: Vec<u32> = r.services().iter().map(|s| s.id.port()).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 200);
    assert!(ports.iter().all(|&p| (MIN_PORT..u32::MAX).contains(&p)));
}

#[test]
fn toml_format_and_round_trip() {
    let mut r = Registry::new();
    r.add("VM Session Service", Some(sid(VMSS))).unwrap();
    r.add("off", Some(ServiceId::from_vsock_port(5000)))
        .unwrap();
    r.set_enabled("off", false).unwrap();
    let text = r.to_toml();
    assert!(text.contains("[[service]]"), "{text}");
    assert!(
        text.contains("id = \"999e53d4-3d5c-4c3e-8779-bed06ec056e1\""),
        "{text}"
    );
    assert!(text.contains("enabled = false"), "{text}");
    let back = Registry::from_toml(Path::new("x"), &text).unwrap();
    assert_eq!(back, r);
    // `enabled` defaults to true when omitted by hand.
    let hand = "[[service]]\nid = \"{999E53D4-3D5C-4C3E-8779-BED06EC056E1}\"\nname = \"n\"\n";
    let r = Registry::from_toml(Path::new("x"), hand).unwrap();
    assert!(r.is_enabled(sid(VMSS)));
    // Empty file = empty registry.
    assert!(
        Registry::from_toml(Path::new("x"), "")
            .unwrap()
            .services()
            .is_empty()
    );
}

#[test]
fn invalid_file_contents_are_errors() {
    let p = Path::new("/cfg/services.toml");
    let dup = format!(
        "[[service]]\nid = \"{VMSS}\"\nname = \"a\"\n[[service]]\nid = \"{VMSS}\"\nname = \"b\"\n"
    );
    let e = Registry::from_toml(p, &dup).unwrap_err();
    assert!(matches!(e, RegistryError::Invalid { .. }));
    assert!(e.to_string().contains("/cfg/services.toml"), "{e}");
    assert!(e.to_string().contains("entry 2"), "{e}");
    for bad in [
        "[[service]]\nid = \"nope\"\nname = \"a\"\n".to_string(),
        "[[service]]\nname = \"a\"\n".to_string(),
        format!("[[service]]\nid = \"{VMSS}\"\nname = \"a\"\ncolour = 1\n"),
        format!("[[service]]\nid = \"{VMSS}\"\nname = \"a\"\nenabled = \"yes\"\n"),
        "garbage".to_string(),
    ] {
        let e = Registry::from_toml(p, &bad).unwrap_err();
        assert!(
            matches!(e, RegistryError::Store(StoreError::Parse { .. })),
            "{bad}: {e}"
        );
        assert!(e.to_string().contains("/cfg/services.toml"), "{e}");
    }
}

// On Windows `Registry::load`/`update` use the Windows registry (tests/windows_registry.rs).
#[cfg(not(windows))]
#[test]
fn update_saves_and_failed_update_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(tmp.path().join("cfg"), tmp.path().join("run"));
    assert!(Registry::load(&dirs).unwrap().services().is_empty());
    let id = Registry::update(&dirs, |r| r.add("one", None)).unwrap();
    let before = std::fs::read(dirs.services_file()).unwrap();
    let e = Registry::update(&dirs, |r| r.add("one", None)).unwrap_err();
    assert!(matches!(e, RegistryError::DuplicateName { .. }));
    assert_eq!(std::fs::read(dirs.services_file()).unwrap(), before);
    assert_eq!(Registry::load(&dirs).unwrap().get(id).unwrap().name, "one");
}

// On Windows `Registry::load`/`update` use the Windows registry (tests/windows_registry.rs).
#[cfg(not(windows))]
#[test]
fn corrupt_file_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(tmp.path(), tmp.path().join("run"));
    let garbage = b"[[service]\nid = \x00\xff not toml";
    std::fs::write(dirs.services_file(), garbage).unwrap();
    let e = Registry::update(&dirs, |r| r.add("x", None)).unwrap_err();
    let s = e.to_string();
    assert!(s.contains(&*dirs.services_file().to_string_lossy()), "{s}");
    assert_eq!(std::fs::read(dirs.services_file()).unwrap(), garbage);
    let valid_toml_bad_shape = b"service = 3\n";
    std::fs::write(dirs.services_file(), valid_toml_bad_shape).unwrap();
    let e = Registry::update(&dirs, |r| r.add("x", None)).unwrap_err();
    assert!(e.to_string().contains("services.toml"), "{e}");
    assert_eq!(
        std::fs::read(dirs.services_file()).unwrap(),
        valid_toml_bad_shape
    );
    assert!(Registry::load(&dirs).is_err());
}

#[test]
fn import_skips_duplicates_and_rule_breakers() {
    let mut r = Registry::new();
    r.add("VM Session Service", Some(sid(VMSS))).unwrap();
    let rep = r.import(&[
        (sid(VMSS), "VM Session Service".into()),
        (sid(VMSS), "Other name".into()),
        (ServiceId::from_vsock_port(80), "low".into()),
        (ServiceId::from_vsock_port(9000), "ok".into()),
        (ServiceId::from_vsock_port(9001), "ok".into()),
    ]);
    assert_eq!(rep.added.len(), 1);
    assert_eq!(rep.added[0].name, "ok");
    assert_eq!(rep.skipped.len(), 4, "{:?}", rep.skipped);
    assert!(rep.skipped[0].contains("already registered"));
    assert!(rep.skipped[2].contains("privileged"));
}

proptest! {
    #[test]
    fn toml_round_trip_any_names(
        names in proptest::collection::hash_set("[^\\p{Cc}]{1,20}", 0..8),
        flags in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let mut r = Registry::new();
        for (i, n) in names.iter().enumerate() {
            if r.add(n, None).is_ok() {
                r.set_enabled(n, flags[i]).unwrap();
            }
        }
        let back = Registry::from_toml(Path::new("x"), &r.to_toml()).unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn rules_hold_after_any_sequence(ops in proptest::collection::vec((0u32..3000, 0u8..6), 0..40)) {
        let mut r = Registry::new();
        for (port, name) in ops {
            let _ = r.add(&format!("n{name}"), Some(ServiceId::from_vsock_port(port)));
        }
        let s = r.services();
        for (i, a) in s.iter().enumerate() {
            prop_assert!(a.id.port() >= MIN_PORT);
            for b in &s[i + 1..] {
                prop_assert!(a.id != b.id && a.name != b.name && a.id.port() != b.id.port());
            }
        }
    }
}

/// The line-by-line reader of canonical files and the general TOML parser agree: on
/// what `to_toml` writes (the fast path must take it), and on any edit of it (the fast
/// path may decline, but what it accepts must equal the general parser's result).
mod fast_path {
    use super::*;

    fn names() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{1,12}",
            "[ -~]{1,12}",
            "\\PC{1,8}",
            Just("we\"ird \\ name".to_string()),
            Just("tab\there".to_string()),
        ]
    }

    fn same(text: &str) -> Result<(), TestCaseError> {
        let p = Path::new("services.toml");
        // The raw entries first (before the registry's rules), then the checked result.
        let raw = store::parse_toml::<RegistryFile>(p, text).map(|f| f.services);
        match (canonical::parse(text), &raw) {
            (Some(fast), Ok(g)) => prop_assert_eq!(&fast, g),
            (Some(fast), Err(e)) => {
                return Err(TestCaseError::fail(format!(
                    "fast path took {fast:?}, general parser refused: {e}\n{text}"
                )));
            }
            (None, _) => {}
        }
        let general = Registry::from_toml_general(p, text);
        let both = Registry::from_toml(p, text);
        match (both, general) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => return Err(TestCaseError::fail(format!("{a:?} vs {b:?}\n{text}"))),
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn written_files_take_the_fast_path_with_the_same_result(
            entries in proptest::collection::vec((names(), any::<u32>(), any::<bool>()), 0..12)
        ) {
            let mut r = Registry::new();
            for (name, port, on) in entries {
                let port = port.clamp(MIN_PORT, u32::MAX - 1);
                if r.add(&name, Some(ServiceId::from_vsock_port(port))).is_ok() && !on {
                    r.set_enabled(&name, false).unwrap();
                }
            }
            let text = r.to_toml();
            let plain = r.services().iter().all(|s| !s.name.contains(['"', '\\']) && !s.name.chars().any(char::is_control));
            // (An empty registry is written `service = []`: the general parser's.)
            if plain && !r.services().is_empty() {
                prop_assert!(canonical::parse(&text).is_some(), "declined:\n{}", text);
            }
            same(&text)?;
            prop_assert_eq!(Registry::from_toml(Path::new("s"), &text).unwrap(), r);
        }

        #[test]
        fn edited_files_give_what_the_general_parser_gives(
            entries in proptest::collection::vec((names(), 1024u32..70000), 1..6),
            edits in proptest::collection::vec((0usize..40, 0u8..8, "[ -~]{0,6}"), 0..4)
        ) {
            let mut r = Registry::new();
            for (name, port) in entries {
                let _ = r.add(&name, Some(ServiceId::from_vsock_port(port)));
            }
            let mut lines: Vec<String> = r.to_toml().split('\n').map(String::from).collect();
            for (at, op, junk) in edits {
                let i = at % lines.len().max(1);
                match op {
                    0 => { lines.remove(i.min(lines.len().saturating_sub(1))); }
                    1 => { let l = lines[i.min(lines.len() - 1)].clone(); lines.insert(i, l); }
                    2 => lines.insert(i, junk),
                    3 => lines.insert(i, "[[service]]".into()),
                    4 => lines.insert(i, format!("enabled = {junk}")),
                    5 => lines.insert(i, format!("name = \"{junk}\"")),
                    6 => lines.insert(i, format!("id = \"{junk}\"")),
                    _ => { let j = i.min(lines.len() - 1); lines[j].push_str(&junk); }
                }
                if lines.is_empty() { lines.push(String::new()); }
            }
            same(&lines.join("\n"))?;
        }
    }

    #[test]
    fn shapes_the_fast_path_declines() {
        for text in [
            "# comment\n",
            "[[service]]\nid = \"999e53d4-3d5c-4c3e-8779-bed06ec056e1\"\n",
            "[[service]]\nid=\"999e53d4-3d5c-4c3e-8779-bed06ec056e1\"\nname = \"a\"\n",
            "[[service]]\nid = \"999e53d4-3d5c-4c3e-8779-bed06ec056e1\"\nname = \"a\\u0041\"\n",
            "[[service]]\r\nid = \"999e53d4-3d5c-4c3e-8779-bed06ec056e1\"\r\nname = \"a\"\r\n",
            "name = \"a\"\n",
            "[[service]]\nid = \"{999e53d4-3d5c-4c3e-8779-bed06ec056e1}\"\nname = \"a\"\n",
        ] {
            assert!(canonical::parse(text).is_none(), "{text:?}");
        }
        let ok = "\n[[service]]\nid = \"999e53d4-3d5c-4c3e-8779-bed06ec056e1\"\nname = \"a b\"\n\n";
        assert_eq!(canonical::parse(ok).unwrap()[0].name, "a b");
    }
}

#[test]
fn not_found_describes_without_naming_a_command() {
    let e = Registry::new().remove("nosuch").unwrap_err();
    assert_eq!(e.to_string(), "no service \"nosuch\" in the registry");
}

#[test]
fn no_message_names_a_command() {
    let id = ServiceId::from_vsock_port(6000);
    let mut every: Vec<RegistryError> = crate::error::store_errors()
        .into_iter()
        .map(RegistryError::Store)
        .collect();
    every.extend([
        RegistryError::Invalid {
            path: PathBuf::from("/etc/hvsock/services.toml"),
            message: "m".into(),
        },
        RegistryError::DuplicateId {
            id,
            existing_name: "a".into(),
        },
        RegistryError::DuplicateName {
            name: "a".into(),
            existing_id: id,
        },
        RegistryError::PortClash {
            id,
            port: 6000,
            existing_id: id,
            existing_name: "a".into(),
        },
        RegistryError::BadPort {
            id,
            port: 1,
            reason: "it is below 1024",
        },
        RegistryError::BadName {
            name: "".into(),
            reason: "empty",
        },
        RegistryError::NotFound("nosuch".into()),
        RegistryError::NoFreeId,
        RegistryError::AdminRequired {
            key: windows::GCS_SUBKEY.into(),
        },
        RegistryError::Windows {
            key: windows::GCS_SUBKEY.into(),
            source: std::io::Error::other("x"),
        },
    ]);
    for e in &every {
        // Exhaustive: a new variant fails to compile here until it is added above.
        match e {
            RegistryError::Store(_)
            | RegistryError::Invalid { .. }
            | RegistryError::DuplicateId { .. }
            | RegistryError::DuplicateName { .. }
            | RegistryError::PortClash { .. }
            | RegistryError::BadPort { .. }
            | RegistryError::BadName { .. }
            | RegistryError::NotFound(_)
            | RegistryError::NoFreeId
            | RegistryError::AdminRequired { .. }
            | RegistryError::Windows { .. } => {}
        }
        assert!(!crate::error::names_a_command(&e.to_string()), "{e}");
    }
}
