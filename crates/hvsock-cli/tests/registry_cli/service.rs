//! `hvsock service add|list|show|remove|enable|disable` and their rules.

use super::*;

#[test]
fn service_add_list_show() {
    let e = Env::new();
    let out = e.ok(&["service", "add", "My Echo"]);
    assert!(is_guid_line(&out), "{out:?}");
    let rnd = out.trim().to_string();
    assert_eq!(
        e.ok(&[
            "service",
            "add",
            "VM Session Service",
            "--id",
            "{999E53D4-3D5C-4C3E-8779-BED06EC056E1}"
        ]),
        format!("{VMSS}\n")
    );
    assert_eq!(
        e.ok(&["service", "add", "web", "--vsock-port", "0x1f90"]),
        "00001f90-facb-11e6-bd58-64006a7986d3\n"
    );
    // The file is created with the config dir.
    let text = std::fs::read_to_string(e.services_file()).unwrap();
    assert!(
        text.contains("[[service]]") && text.contains("name = \"web\""),
        "{text}"
    );

    let table = e.ok(&["service", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    for h in ["ID", "PORT", "ENABLED", "NAME"] {
        assert!(lines[0].contains(h), "{table}");
    }
    assert!(
        lines[2].starts_with(VMSS)
            && lines[2].contains("2577290196")
            && lines[2].ends_with("yes      VM Session Service"),
        "{table}"
    );
    assert!(
        lines[3].contains(" 8080 ") && lines[3].ends_with("web"),
        "{table}"
    );

    let list = e.json(&["service", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], rnd);
    assert_eq!(list[0]["name"], "My Echo");
    assert_eq!(list[0]["enabled"], true);
    assert_eq!(list[0]["vsock_port"], Value::Null);
    assert!(list[0]["port"].as_u64().unwrap() >= 1024);
    assert_eq!(list[1]["port"], 0x999e53d4u64);
    assert_eq!(list[2]["vsock_port"], 8080);
    assert_eq!(list[2]["port"], 8080);

    for q in [
        "web",
        "00001F90-FACB-11E6-BD58-64006A7986D3",
        "{00001f90-facb-11e6-bd58-64006a7986d3}",
    ] {
        let s = e.json(&["service", "show", q, "--json"]);
        assert_eq!(s["name"], "web", "{q}");
        assert_eq!(s["vsock_port"], 8080);
    }
    let human = e.ok(&["service", "show", "VM Session Service"]);
    assert!(
        human.contains(VMSS) && human.contains("not a template GUID"),
        "{human}"
    );
    let err = e.fail(&["service", "show", "nope"]);
    assert!(
        err.contains("\"nope\"") && err.contains("hvsock service list"),
        "{err}"
    );
}

#[test]
fn service_rules_and_usage_errors() {
    let e = Env::new();
    e.ok(&["service", "add", "a", "--id", VMSS]);
    let err = e.fail(&["service", "add", "b", "--id", VMSS]);
    assert!(
        err.contains("already registered") && err.contains("\"a\""),
        "{err}"
    );
    let err = e.fail(&["service", "add", "a"]);
    assert!(
        err.contains("already registered") && err.contains(VMSS),
        "{err}"
    );
    let err = e.fail(&[
        "service",
        "add",
        "c",
        "--id",
        "999e53d4-0000-4000-8000-000000000000",
    ]);
    assert!(err.contains("vsock port") && err.contains("\"a\""), "{err}");
    let err = e.fail(&["service", "add", "low", "--vsock-port", "80"]);
    assert!(err.contains("privileged"), "{err}");
    let err = e.fail(&["service", "add", "any", "--vsock-port", "4294967295"]);
    assert!(err.contains("VMADDR_PORT_ANY"), "{err}");
    let err = e.fail(&["service", "add", "", "--vsock-port", "5000"]);
    assert!(err.contains("empty"), "{err}");
    let err = e.fail(&["service", "add", "vsock:1"]);
    assert!(err.contains("vsock:"), "{err}");
    e.usage(&["service", "add", "x", "--id", VMSS, "--vsock-port", "5000"]);
    e.usage(&["service", "add", "x", "--vsock-port", "lots"]);
    e.usage(&["service", "add", "x", "--vsock-port", "4294967296"]);
    e.usage(&["service", "add", "x", "--id", "not-a-guid"]);
    e.usage(&["service", "add"]);
    e.usage(&["service", "export"]);
    e.usage(&["service", "export", "--format", "xml"]);
    e.usage(&["service", "frobnicate"]);
    assert_eq!(e.ids().len(), 1);
}

#[test]
fn service_remove_enable_disable() {
    let e = Env::new();
    let id = e.ok(&["service", "add", "one"]).trim().to_string();
    e.ok(&["service", "add", "two", "--vsock-port", "5000"]);
    e.ok(&["service", "disable", "one"]);
    assert_eq!(
        e.json(&["service", "show", "one", "--json"])["enabled"],
        false
    );
    assert!(
        e.ok(&["service", "list"])
            .lines()
            .nth(1)
            .unwrap()
            .contains(" no ")
    );
    e.ok(&["service", "enable", &id.to_uppercase()]);
    assert_eq!(e.json(&["service", "show", &id, "--json"])["enabled"], true);
    let out = e.ok(&["service", "remove", "two"]);
    assert!(out.contains("removed") && out.contains("two"), "{out}");
    assert_eq!(
        e.ids().into_iter().map(|x| x.1).collect::<Vec<_>>(),
        ["one"]
    );
    e.ok(&["service", "remove", &id]);
    assert!(e.ids().is_empty());
    for sub in ["remove", "enable", "disable"] {
        let err = e.fail(&["service", sub, "one"]);
        assert!(err.contains("no service \"one\""), "{err}");
    }
    // An empty registry lists just the header.
    assert_eq!(e.ok(&["service", "list"]).lines().count(), 1);
    assert_eq!(e.json(&["service", "list", "--json"]), Value::Array(vec![]));
}
