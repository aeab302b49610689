//! Unit tests of the partition table.

use super::*;
use proptest::prelude::*;

fn hybrid(p: &str) -> PartitionKind {
    PartitionKind::Hybrid { path: p.into() }
}

#[test]
fn add_find_remove() {
    let mut t = PartitionTable::new();
    let a = t.add("fc1", None, hybrid("/run/fc1/v.sock")).unwrap();
    let vid: VmId = "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22".parse().unwrap();
    let b = t
        .add("q", Some(vid), PartitionKind::Cid { cid: 3 })
        .unwrap();
    assert_eq!(b, vid);
    let c = t.add("loc", None, PartitionKind::Local).unwrap();
    assert_eq!(t.partitions().len(), 3);
    assert_eq!(t.find("fc1").unwrap().id, a);
    assert_eq!(
        t.find("{0C7F1D1E-8F0E-4B4C-B0A5-6A1D9F0E7C22}").unwrap().id,
        b
    );
    assert!(t.find("FC1").is_none());
    assert_eq!(t.get(c).unwrap().kind, PartitionKind::Local);
    assert_eq!(t.by_cid(3).unwrap().id, b);
    assert!(t.by_cid(4).is_none());
    assert_eq!(
        t.by_hybrid_path(Path::new("/run/fc1/v.sock")).unwrap().id,
        a
    );
    assert_eq!(
        t.by_hybrid_path(Path::new("/run/fc1/./v.sock")).unwrap().id,
        a
    );
    assert!(t.by_hybrid_path(Path::new("/run/fc1/w.sock")).is_none());
    assert_eq!(t.remove("q").unwrap().id, b);
    assert!(matches!(t.remove("q"), Err(PartitionError::NotFound(_))));
    assert!(matches!(
        t.set_uid("q", Some(1)),
        Err(PartitionError::NotFound(_))
    ));
    assert_eq!(t.remove(&a.to_string()).unwrap().name, "fc1");
    assert_eq!(t.partitions().len(), 1);
}

#[test]
fn uniqueness() {
    let mut t = PartitionTable::new();
    let a = t.add("a", None, PartitionKind::Cid { cid: 7 }).unwrap();
    t.add("h", None, hybrid("/x/y.sock")).unwrap();
    let e = t.add("b", Some(a), PartitionKind::Local).unwrap_err();
    assert!(matches!(e, PartitionError::DuplicateId { .. }));
    assert!(e.to_string().contains("\"a\""));
    let e = t.add("a", None, PartitionKind::Local).unwrap_err();
    assert!(matches!(e, PartitionError::DuplicateName { .. }));
    let e = t.add("c", None, PartitionKind::Cid { cid: 7 }).unwrap_err();
    assert!(matches!(e, PartitionError::DuplicateCid { cid: 7, .. }));
    assert!(e.to_string().contains("\"a\""), "{e}");
    let e = t.add("d", None, hybrid("/x/./y.sock")).unwrap_err();
    assert!(matches!(e, PartitionError::DuplicatePath { .. }), "{e}");
    assert!(e.to_string().contains("\"h\""), "{e}");
    // Many local partitions are fine.
    t.add("l1", None, PartitionKind::Local).unwrap();
    t.add("l2", None, PartitionKind::Local).unwrap();
}

#[test]
fn id_name_and_cid_rules() {
    let mut t = PartitionTable::new();
    for (_, w) in VmId::WILDCARDS {
        let e = t.add("x", Some(w), PartitionKind::Local).unwrap_err();
        assert!(matches!(e, PartitionError::WildcardId { .. }), "{e}");
    }
    for bad in [
        "",
        "any",
        "Wildcard",
        "ZERO",
        "children",
        "loopback",
        "Parent",
        "broadcast",
        "silohost",
        "a:b",
        "a\tb",
        "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22",
    ] {
        let e = t.add(bad, None, PartitionKind::Local).unwrap_err();
        assert!(matches!(e, PartitionError::BadName { .. }), "{bad:?}: {e}");
    }
    for cid in [0, 1, 2, u32::MAX] {
        let e = t.add("c", None, PartitionKind::Cid { cid }).unwrap_err();
        assert!(matches!(e, PartitionError::ReservedCid(_)), "{e}");
    }
    t.add("c", None, PartitionKind::Cid { cid: u32::MAX - 1 })
        .unwrap();
    t.add("parents", None, PartitionKind::Local).unwrap();
    assert!(t.add("h", None, hybrid("")).is_err());
    assert!(t.add("h", None, hybrid("/")).is_err());
    assert!(t.add("h", None, hybrid("/a/..")).is_err());
}

/// Regression (fuzz target `partitions_toml`): names that are a wildcard or a GUID
/// once trimmed, or only spaces, were accepted, but `NAME:SERVICE` does not reach
/// them (` parent:x` is the parent partition).
#[test]
fn names_that_addresses_would_trim_are_rejected() {
    let mut t = PartitionTable::new();
    for bad in [
        " ",
        "\u{a0}",
        " parent",
        "ANY ",
        " 0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22",
        "{0C7F1D1E-8F0E-4B4C-B0A5-6A1D9F0E7C22} ",
    ] {
        let e = t.add(bad, None, PartitionKind::Local).unwrap_err();
        assert!(matches!(e, PartitionError::BadName { .. }), "{bad:?}: {e}");
    }
    let toml = "[[partition]]\nid = \"5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11\"\nname = \" parent\"\nkind = \"local\"\n";
    let e = PartitionTable::from_toml(Path::new("partitions.toml"), toml).unwrap_err();
    assert!(e.to_string().contains("wildcard"), "{e}");
    // Spaces around other names are fine, and the name stays addressable.
    let id = t.add(" box ", None, PartitionKind::Local).unwrap();
    let reg = crate::config::registry::Registry::new();
    let a = crate::addr::syntax::resolve_addr(" box :vsock:5", &reg, &t).unwrap();
    assert_eq!(a.vm_id, id);
}

#[test]
fn hybrid_paths_are_stored_absolute() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = PartitionTable::new();
    // Existing parent: canonicalized (through the symlink).
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, tmp.path().join("link")).unwrap();
    t.add(
        "a",
        None,
        hybrid(tmp.path().join("link/v.sock").to_str().unwrap()),
    )
    .unwrap();
    let want = real.canonicalize().unwrap().join("v.sock");
    assert_eq!(
        t.find("a").unwrap().kind,
        PartitionKind::Hybrid { path: want.clone() }
    );
    assert_eq!(
        t.by_hybrid_path(&tmp.path().join("link/v.sock"))
            .unwrap()
            .name,
        "a"
    );
    // Relative: against the current directory.
    t.add("b", None, hybrid("no-such-dir-xyz/v.sock")).unwrap();
    let PartitionKind::Hybrid { path } = &t.find("b").unwrap().kind else {
        panic!()
    };
    assert!(path.is_absolute());
    assert!(path.ends_with("no-such-dir-xyz/v.sock"));
}

#[test]
fn toml_format_and_round_trip() {
    let mut t = PartitionTable::new();
    t.add("fc1", None, hybrid("/run/fc1/v.sock")).unwrap();
    t.add("q", None, PartitionKind::Cid { cid: 3 }).unwrap();
    t.add("loc", None, PartitionKind::Local).unwrap();
    let text = t.to_toml();
    assert!(text.contains("[[partition]]"), "{text}");
    assert!(text.contains("kind = \"hybrid\""), "{text}");
    assert!(text.contains("path = \"/run/fc1/v.sock\""), "{text}");
    assert!(text.contains("cid = 3"), "{text}");
    assert!(text.contains("kind = \"local\""), "{text}");
    let back = PartitionTable::from_toml(Path::new("p"), &text).unwrap();
    assert_eq!(back, t);
    let json = serde_json::to_value(&t.partitions()[1]).unwrap();
    assert_eq!(json["kind"], "cid");
    assert_eq!(json["cid"], 3);
    let k = serde_json::to_value(PartitionKind::Hybrid { path: "/a".into() }).unwrap();
    assert_eq!(k, serde_json::json!({"kind": "hybrid", "path": "/a"}));
}

#[test]
fn invalid_files() {
    let p = Path::new("/cfg/partitions.toml");
    let id = "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22";
    for (text, want) in [
        (format!("[[partition]]\nid = \"{id}\"\nname = \"a\"\nkind = \"cid\"\n"), "needs `cid`"),
        (format!("[[partition]]\nid = \"{id}\"\nname = \"a\"\nkind = \"vm\"\n"), "unknown kind"),
        (format!("[[partition]]\nid = \"{id}\"\nname = \"a\"\nkind = \"local\"\ncid = 4\n"), "neither"),
        (format!("[[partition]]\nid = \"{id}\"\nname = \"a\"\nkind = \"cid\"\ncid = -1\n"), "partitions.toml"),
        (format!("[[partition]]\nid = \"{id}\"\nname = \"a\"\nkind = \"hybrid\"\npath = \"rel\"\n"), "absolute"),
        (format!("[[partition]]\nid = \"{id}\"\nname = \"a\"\nkind = \"local\"\n[[partition]]\nid = \"{id}\"\nname = \"b\"\nkind = \"local\"\n"), "entry 2"),
        ("[[partition]]\nname = \"a\"\nkind = \"cid\"\ncid = 1\n".to_string(), "id"),
        ("[[partition]]\nid = \"00000000-0000-0000-0000-000000000000\"\nname = \"a\"\nkind = \"local\"\n".to_string(), "wildcard"),
    ] {
        let e = PartitionTable::from_toml(p, &text).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
        assert!(e.contains("/cfg/partitions.toml"), "{e}");
    }
}

#[test]
fn corrupt_file_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(tmp.path(), tmp.path().join("run"));
    std::fs::write(dirs.partitions_file(), "[[partition]]\nid = 3\n").unwrap();
    let e = PartitionTable::update(&dirs, |t| t.add("x", None, PartitionKind::Local)).unwrap_err();
    assert!(e.to_string().contains("partitions.toml"), "{e}");
    assert_eq!(
        std::fs::read_to_string(dirs.partitions_file()).unwrap(),
        "[[partition]]\nid = 3\n"
    );
}

#[test]
fn update_persists() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(tmp.path().join("new"), tmp.path().join("run"));
    let id = PartitionTable::update(&dirs, |t| t.add("x", None, PartitionKind::Local)).unwrap();
    let e = PartitionTable::update(&dirs, |t| t.add("x", None, PartitionKind::Local));
    assert!(e.is_err());
    let t = PartitionTable::load(&dirs).unwrap();
    assert_eq!(t.partitions().len(), 1);
    assert_eq!(t.get(id).unwrap().name, "x");
    PartitionTable::update(&dirs, |t| t.remove("x")).unwrap();
    assert!(PartitionTable::load(&dirs).unwrap().partitions().is_empty());
}

proptest! {
    #[test]
    fn rules_hold_after_any_sequence(
        ops in proptest::collection::vec((0u8..3, 0u32..8, 0u8..5), 0..40)
    ) {
        let mut t = PartitionTable::new();
        for (kind, v, name) in ops {
            let kind = match kind {
                0 => PartitionKind::Cid { cid: v },
                1 => hybrid(&format!("/s/{v}.sock")),
                _ => PartitionKind::Local,
            };
            let added = t.add(&format!("vm{name}"), None, kind.clone());
            if let (Ok(id), PartitionKind::Hybrid { .. }) = (added, &kind)
                && v % 2 == 0
            {
                t.set_half_close(&id.to_string(), HalfClose::Carried).unwrap();
            }
        }
        let back = PartitionTable::from_toml(Path::new("p"), &t.to_toml()).unwrap();
        prop_assert_eq!(&back, &t);
        let ps = t.partitions();
        for (i, a) in ps.iter().enumerate() {
            if let PartitionKind::Cid { cid } = a.kind { prop_assert!(cid >= 3); }
            // Only hybrid VMs record it; every other kind carries a half-close.
            let hybrid = matches!(a.kind, PartitionKind::Hybrid { .. });
            prop_assert_eq!(a.half_close.is_some(), hybrid);
            prop_assert!(hybrid || a.half_close() == HalfClose::Carried);
            for b in &ps[i + 1..] {
                prop_assert!(a.id != b.id && a.name != b.name);
                prop_assert!(a.kind != b.kind || a.kind == PartitionKind::Local);
            }
        }
    }
}

/// Regression (security review): `vm add six --hybrid X/v.sock_5000` was accepted next
/// to VM `one` at `X/v.sock`, so one's host listener for port 5000 took over six's
/// VMM socket. Both orders are refused, compared normalized.
#[test]
fn hybrid_paths_that_are_another_vms_port_socket_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let x = tmp.path().canonicalize().unwrap();
    std::os::unix::fs::symlink(&x, x.join("link")).unwrap();
    let base = x.join("v.sock");
    let port = x.join("v.sock_5000");
    for (first, second) in [(&base, &port), (&port, &base)] {
        let mut t = PartitionTable::new();
        let one = t
            .add(
                "one",
                None,
                PartitionKind::Hybrid {
                    path: first.clone(),
                },
            )
            .unwrap();
        // The same path spelled through a symlinked directory and with `.`.
        let spelled = x.join("link/.").join(second.file_name().unwrap());
        let e = t
            .add("six", None, PartitionKind::Hybrid { path: spelled })
            .unwrap_err();
        assert!(matches!(e, PartitionError::PathClash { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("\"one\"") && msg.contains(&one.to_string()),
            "{msg}"
        );
        assert!(msg.contains("PATH_5000"), "{msg}");
        assert_eq!(t.partitions().len(), 1);
    }
    // Any suffix counts, ports or not; other names and subdirectories do not clash.
    let mut t = PartitionTable::new();
    t.add("one", None, PartitionKind::Hybrid { path: base.clone() })
        .unwrap();
    let e = t.add("b", None, hybrid(x.join("v.sock_x").to_str().unwrap()));
    assert!(matches!(e, Err(PartitionError::PathClash { .. })), "{e:?}");
    for ok in ["v.sockx", "v.soc", "w.sock_5000", "v.sock_d/w.sock"] {
        t.add(ok, None, hybrid(x.join(ok).to_str().unwrap()))
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    assert!(t.hybrid_clashes().is_empty());
}

#[test]
fn a_hand_edited_table_with_clashing_paths_loads_and_names_the_clash() {
    let text = "[[partition]]\nid = \"5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11\"\nname = \"six\"\nkind = \"hybrid\"\npath = \"/x/v.sock_5000\"\n\
        [[partition]]\nid = \"0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22\"\nname = \"one\"\nkind = \"hybrid\"\npath = \"/x/v.sock\"\n\
        [[partition]]\nid = \"1c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22\"\nname = \"other\"\nkind = \"hybrid\"\npath = \"/x/w.sock\"\n";
    let t = PartitionTable::from_toml(Path::new("p"), text).unwrap();
    let c = t.hybrid_clashes();
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(
        (c[0].base.name.as_str(), c[0].port_socket.name.as_str()),
        ("one", "six")
    );
    assert_eq!(c[0].suffix, "5000");
    assert!(c[0].to_string().contains("skip VM \"one\""), "{}", c[0]);
    let one = t.find("one").unwrap().id;
    let six = t.find("six").unwrap().id;
    assert_eq!(
        t.hybrid_socket_owner(Path::new("/x/v.sock_5000"), one)
            .map(|p| p.id),
        Some(six)
    );
    assert!(
        t.hybrid_socket_owner(Path::new("/x/v.sock_5000"), six)
            .is_none()
    );
    assert!(
        t.hybrid_socket_owner(Path::new("/x/v.sock_5001"), one)
            .is_none()
    );
}

proptest! {
    /// Whatever is added, no hybrid socket of the table is another's `PATH_SUFFIX`.
    #[test]
    fn no_table_built_by_add_has_clashing_hybrid_paths(
        names in proptest::collection::vec("[ab](_[0-9ab]{1,2}){0,2}", 0..24)
    ) {
        let mut t = PartitionTable::new();
        for (i, n) in names.iter().enumerate() {
            let _ = t.add(&format!("vm{i}"), None, hybrid(&format!("/nonexistent-dir-hv/{n}")));
        }
        prop_assert!(t.hybrid_clashes().is_empty(), "{:?}", t.hybrid_clashes());
        let paths: Vec<String> = t.partitions().iter().map(|p| match &p.kind {
            PartitionKind::Hybrid { path } => path.to_string_lossy().into_owned(),
            _ => unreachable!(),
        }).collect();
        for a in &paths {
            for b in &paths {
                prop_assert!(a == b || !a.starts_with(&format!("{b}_")), "{a} vs {b}");
            }
        }
    }
}

#[test]
fn not_found_describes_without_naming_a_command() {
    let e = PartitionTable::new().remove("nosuch").unwrap_err();
    assert_eq!(e.to_string(), "no VM \"nosuch\" in the partition table");
}

#[test]
fn no_message_names_a_command() {
    let id: VmId = "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22".parse().unwrap();
    let path = PathBuf::from("/run/fc1/v.sock");
    let mut every: Vec<PartitionError> = crate::error::store_errors()
        .into_iter()
        .map(PartitionError::Store)
        .collect();
    every.extend([
        PartitionError::Invalid {
            path: path.clone(),
            message: "m".into(),
        },
        PartitionError::DuplicateId {
            id,
            existing_name: "a".into(),
        },
        PartitionError::DuplicateName {
            name: "a".into(),
            existing_id: id,
        },
        PartitionError::DuplicateCid {
            cid: 3,
            existing_name: "a".into(),
            existing_id: id,
        },
        PartitionError::DuplicatePath {
            path: path.clone(),
            existing_name: "a".into(),
            existing_id: id,
        },
        PartitionError::PathClash {
            path: path.clone(),
            existing_name: "a".into(),
            existing_id: id,
            existing_path: path.clone(),
            reason: "r".into(),
        },
        PartitionError::WildcardId {
            id: VmId::PARENT,
            name: "parent",
        },
        PartitionError::BadName {
            name: "a b".into(),
            reason: "r".into(),
        },
        PartitionError::ReservedCid(2),
        PartitionError::BadPath {
            path,
            reason: "r".into(),
        },
        PartitionError::NotFound("nosuch".into()),
        PartitionError::NotLocal("fc1".into()),
        PartitionError::NotHybrid("q".into()),
        PartitionError::ConnectFormNotHybrid("q".into()),
    ]);
    for e in &every {
        // Exhaustive: a new variant fails to compile here until it is added above.
        match e {
            PartitionError::Store(_)
            | PartitionError::Invalid { .. }
            | PartitionError::DuplicateId { .. }
            | PartitionError::DuplicateName { .. }
            | PartitionError::DuplicateCid { .. }
            | PartitionError::DuplicatePath { .. }
            | PartitionError::PathClash { .. }
            | PartitionError::WildcardId { .. }
            | PartitionError::BadName { .. }
            | PartitionError::ReservedCid(_)
            | PartitionError::BadPath { .. }
            | PartitionError::NotFound(_)
            | PartitionError::NotLocal(_)
            | PartitionError::NotHybrid(_)
            | PartitionError::ConnectFormNotHybrid(_) => {}
        }
        assert!(!crate::error::names_a_command(&e.to_string()), "{e}");
    }
}

#[test]
fn connect_form_is_stored_for_hybrid_vms_only_and_old_tables_load() {
    let path = Path::new("/t/partitions.toml");
    let old = "[[partition]]\nid = \"5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11\"\nname = \"fc1\"\nkind = \"hybrid\"\npath = \"/run/fc1/v.sock\"\n";
    let t = PartitionTable::from_toml(path, old).unwrap();
    assert_eq!(t.find("fc1").unwrap().connect_form, ConnectForm::Port);
    // The default is left out: a table that never used the field is written unchanged.
    assert!(!t.to_toml().contains("connect_form"), "{}", t.to_toml());
    let guid = format!("{old}connect_form = \"guid\"\n");
    let mut t = PartitionTable::from_toml(path, &guid).unwrap();
    assert_eq!(t.find("fc1").unwrap().connect_form, ConnectForm::Guid);
    assert!(t.to_toml().contains("connect_form = \"guid\""));
    assert_eq!(PartitionTable::from_toml(path, &t.to_toml()).unwrap(), t);
    let bad = format!("{old}connect_form = \"uuid\"\n");
    assert!(PartitionTable::from_toml(path, &bad).is_err());
    let cid = "[[partition]]\nid = \"0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22\"\nname = \"q\"\nkind = \"cid\"\ncid = 3\nconnect_form = \"guid\"\n";
    let e = PartitionTable::from_toml(path, cid).unwrap_err();
    assert!(e.to_string().contains("only for kind \"hybrid\""), "{e}");
    t.add("q", None, PartitionKind::Cid { cid: 3 }).unwrap();
    assert!(matches!(
        t.set_connect_form("q", ConnectForm::Guid),
        Err(PartitionError::ConnectFormNotHybrid(_))
    ));
    t.set_connect_form("q", ConnectForm::Port).unwrap();
    t.set_connect_form("fc1", ConnectForm::Port).unwrap();
    assert_eq!(t.find("fc1").unwrap().connect_form, ConnectForm::Port);
    assert!(matches!(
        t.set_connect_form("nosuch", ConnectForm::Guid),
        Err(PartitionError::NotFound(_))
    ));
}

/// Tables written before `half_close` existed still load: a hybrid VM is then `lost`
/// (the safe default), kernel vsock and local partitions carry it; what is stored
/// comes back, and `half_close` on another kind is refused.
#[test]
fn half_close_defaults_round_trips_and_is_for_hybrid_only() {
    let old = r#"
[[partition]]
id = "5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11"
name = "fc1"
kind = "hybrid"
path = "/run/fc1/v.sock"

[[partition]]
id = "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22"
name = "q"
kind = "cid"
cid = 3

[[partition]]
id = "1c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22"
name = "l"
kind = "local"
"#;
    let mut t = PartitionTable::from_toml(Path::new("p"), old).unwrap();
    let hc = |t: &PartitionTable, n: &str| t.find(n).unwrap().half_close();
    assert_eq!(hc(&t, "fc1"), HalfClose::Lost);
    assert_eq!(hc(&t, "q"), HalfClose::Carried);
    assert_eq!(hc(&t, "l"), HalfClose::Carried);
    assert!(
        t.to_toml().contains("half_close = \"lost\""),
        "{}",
        t.to_toml()
    );
    t.set_half_close("fc1", HalfClose::Carried).unwrap();
    let back = PartitionTable::from_toml(Path::new("p"), &t.to_toml()).unwrap();
    assert_eq!(hc(&back, "fc1"), HalfClose::Carried);
    assert!(matches!(
        t.set_half_close("q", HalfClose::Lost),
        Err(PartitionError::NotHybrid(n)) if n == "q"
    ));
    let bad = old.replace("cid = 3", "cid = 3\nhalf_close = \"carried\"");
    let e = PartitionTable::from_toml(Path::new("p"), &bad).unwrap_err();
    assert!(
        e.to_string().contains("`half_close` is only for kind"),
        "{e}"
    );
    let bad = old.replace("v.sock\"", "v.sock\"\nhalf_close = \"maybe\"");
    assert!(PartitionTable::from_toml(Path::new("p"), &bad).is_err());
    // A new hybrid VM records the default explicitly.
    let mut t = PartitionTable::new();
    t.add("h", None, hybrid("/x/h.sock")).unwrap();
    assert_eq!(t.find("h").unwrap().half_close, Some(HalfClose::Lost));
}
