//! `hvsock vm` and `hvsock addr`.

use super::*;

#[test]
fn vm_add_list_show_remove() {
    let e = Env::new();
    let sock_dir = e.tmp.path().join("vms");
    std::fs::create_dir(&sock_dir).unwrap();
    let hy = e.ok(&[
        "vm",
        "add",
        "fc1",
        "--hybrid",
        sock_dir.join("v.sock").to_str().unwrap(),
    ]);
    assert!(is_guid_line(&hy), "{hy}");
    let cid = e.ok(&["vm", "add", "qemu1", "--cid", "3"]);
    assert!(is_guid_line(&cid));
    let local_id = "0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22";
    assert_eq!(
        e.ok(&[
            "vm",
            "add",
            "box",
            "--local",
            "--id",
            &local_id.to_uppercase()
        ]),
        format!("{local_id}\n")
    );
    // Relative hybrid paths are stored absolute.
    e.cmd()
        .current_dir(&sock_dir)
        .args(["vm", "add", "rel", "--hybrid", "r.sock"])
        .assert()
        .success();

    let list = e.json(&["vm", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[0]["name"], "fc1");
    assert_eq!(list[0]["kind"], "hybrid");
    let canon = sock_dir.canonicalize().unwrap();
    assert_eq!(list[0]["path"], canon.join("v.sock").to_str().unwrap());
    assert_eq!(list[0]["id"], hy.trim());
    assert_eq!(list[1]["kind"], "cid");
    assert_eq!(list[1]["cid"], 3);
    assert!(list[1].get("path").is_none());
    assert_eq!(list[2]["kind"], "local");
    assert_eq!(list[3]["path"], canon.join("r.sock").to_str().unwrap());

    let table = e.ok(&["vm", "list"]);
    assert!(table.lines().next().unwrap().contains("KIND"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("cid") && l.ends_with("qemu1")),
        "{table}"
    );
    let s = e.json(&["vm", "show", "qemu1", "--json"]);
    assert_eq!(s["id"], cid.trim());
    let s = e.json(&[
        "vm",
        "show",
        &format!("{{{}}}", local_id.to_uppercase()),
        "--json",
    ]);
    assert_eq!(s["name"], "box");
    assert!(e.ok(&["vm", "show", "fc1"]).contains("v.sock"));

    // Rules.
    for (args, want) in [
        (&["vm", "add", "qemu1", "--local"][..], "already"),
        (&["vm", "add", "q2", "--cid", "3"], "qemu1"),
        (&["vm", "add", "q3", "--cid", "2"], "reserved"),
        (&["vm", "add", "Parent", "--local"], "wildcard"),
        (&["vm", "add", "a:b", "--local"], "':'"),
        (
            &[
                "vm",
                "add",
                "w",
                "--local",
                "--id",
                "a42e7cda-d03f-480c-9cc2-a4de20abb878",
            ],
            "wildcard",
        ),
        (
            &["vm", "add", "dup", "--local", "--id", local_id],
            "\"box\"",
        ),
        (
            &[
                "vm",
                "add",
                "fc2",
                "--hybrid",
                sock_dir.join("./v.sock").to_str().unwrap(),
            ],
            "fc1",
        ),
    ] {
        let err = e.fail(args);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    e.usage(&["vm", "add", "x"]);
    e.usage(&["vm", "add", "x", "--local", "--cid", "4"]);
    e.usage(&["vm", "add", "x", "--cid", "-1"]);

    let out = e.ok(&["vm", "remove", "qemu1"]);
    assert!(out.contains("removed"), "{out}");
    e.ok(&["vm", "remove", local_id]);
    let err = e.fail(&["vm", "remove", "qemu1"]);
    assert!(err.contains("hvsock vm list"), "{err}");
    let err = e.fail(&["vm", "show", "nope"]);
    assert!(err.contains("\"nope\""), "{err}");
    assert_eq!(
        e.json(&["vm", "list", "--json"]).as_array().unwrap().len(),
        2
    );
    // The freed cid can be reused.
    e.ok(&["vm", "add", "qemu2", "--cid", "3"]);
}

#[test]
fn addr_encode_decode() {
    let e = Env::new();
    let parent_5000 = "22000000da7c2ea43fd00c489cc2a4de20abb87888130000cbfae611bd5864006a7986d3";
    assert_eq!(
        e.ok(&["addr", "encode", "parent:vsock:5000"]),
        format!("{parent_5000}\n")
    );
    assert_eq!(
        e.ok(&["addr", "encode", "PARENT:vsock:0x1388"]),
        format!("{parent_5000}\n")
    );
    assert_eq!(
        e.ok(&[
            "addr",
            "encode",
            "a42e7cda-d03f-480c-9cc2-a4de20abb878:00001388-FACB-11E6-BD58-64006A7986D3"
        ]),
        format!("{parent_5000}\n")
    );
    assert!(!e.cfg.exists(), "pure GUID addresses need no config");
    assert_eq!(
        e.ok(&["addr", "decode", parent_5000]),
        "a42e7cda-d03f-480c-9cc2-a4de20abb878:00001388-facb-11e6-bd58-64006a7986d3\n"
    );
    assert_eq!(
        e.ok(&[
            "addr",
            "decode",
            &format!("0x{}", parent_5000.to_uppercase())
        ]),
        "a42e7cda-d03f-480c-9cc2-a4de20abb878:00001388-facb-11e6-bd58-64006a7986d3\n"
    );

    // Names from the registry and table.
    e.ok(&["service", "add", "VM Session Service", "--id", VMSS]);
    e.ok(&["service", "add", "a:b", "--vsock-port", "7000"]);
    let vm = e.ok(&["vm", "add", "fc1", "--cid", "5"]).trim().to_string();
    let hex = e.ok(&["addr", "encode", "fc1:VM Session Service"]);
    assert_eq!(
        e.ok(&["addr", "decode", hex.trim()]),
        format!("{vm}:{VMSS}\n")
    );
    let hex = e.ok(&["addr", "encode", "any:a:b"]);
    assert_eq!(
        e.ok(&["addr", "decode", hex.trim()]),
        "00000000-0000-0000-0000-000000000000:00001b58-facb-11e6-bd58-64006a7986d3\n"
    );

    for (args, want) in [
        (&["addr", "encode", "parent"][..], "VM:SERVICE"),
        (&["addr", "encode", "nosuch:vsock:1"], "hvsock vm list"),
        (&["addr", "encode", "parent:nosuch"], "hvsock service add"),
        (&["addr", "encode", "parent:vsock:x"], "vsock port"),
        (&["addr", "decode", "zz"], "not hex"),
        (&["addr", "decode", "123"], "odd"),
        (&["addr", "decode", "2200"], "36 bytes, got 2"),
        (
            &["addr", "decode", &parent_5000.replacen("22", "28", 1)],
            "family",
        ),
        (
            &[
                "addr",
                "decode",
                &parent_5000.replacen("22000000", "22000100", 1),
            ],
            "reserved",
        ),
    ] {
        let err = e.fail(args);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn vm_add_connect_form_is_stored_listed_and_shown() {
    let e = Env::new();
    let dir = e.tmp.path().join("vms");
    std::fs::create_dir(&dir).unwrap();
    let path = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let ovmm = path("o.sock");
    e.ok(&[
        "vm",
        "add",
        "ovmm",
        "--hybrid",
        &ovmm,
        "--connect-form",
        "guid",
    ]);
    e.ok(&["vm", "add", "fc", "--hybrid", &path("f.sock")]);
    e.ok(&["vm", "add", "q", "--cid", "3"]);
    let list = e.json(&["vm", "list", "--json"]);
    assert_eq!(list[0]["connect_form"], "guid");
    assert_eq!(list[1]["connect_form"], "port");
    assert!(list[2].get("connect_form").is_none());
    let show = e.ok(&["vm", "show", "ovmm"]);
    assert!(show.contains("connect: guid"), "{show}");
    assert!(e.ok(&["vm", "list"]).contains("(guid form)"));
    assert_eq!(
        e.json(&["vm", "show", "fc", "--json"])["connect_form"],
        "port"
    );
    // Stored only when not the default, so older hvsock reads the other VMs' entries.
    let toml = std::fs::read_to_string(e.cfg.join("partitions.toml")).unwrap();
    assert_eq!(toml.matches("connect_form").count(), 1, "{toml}");
    // Only with --hybrid, and only port or guid.
    let err = e.fail(&["vm", "add", "x", "--cid", "4", "--connect-form", "guid"]);
    assert!(err.contains("not a hybrid VM"), "{err}");
    assert!(e.fail(&["vm", "show", "x"]).contains("\"x\""));
    e.usage(&[
        "vm",
        "add",
        "x",
        "--hybrid",
        &path("x.sock"),
        "--connect-form",
        "uuid",
    ]);
}

/// `vm add --half-close`: stored for hybrid VMs (default `lost`), shown by `list` and
/// `show` (and their JSON), refused for other kinds; cid and local VMs carry it.
#[test]
fn vm_half_close_is_recorded_and_shown() {
    let e = Env::new();
    let dir = e.tmp.path().join("vms");
    std::fs::create_dir(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    e.ok(&["vm", "add", "fc", "--hybrid", &p("fc.sock")]);
    e.ok(&[
        "vm",
        "add",
        "ch",
        "--hybrid",
        &p("ch.sock"),
        "--half-close",
        "carried",
    ]);
    e.ok(&["vm", "add", "q", "--cid", "4"]);
    let list = e.json(&["vm", "list", "--json"]);
    let hc: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["half_close"].clone())
        .collect();
    assert_eq!(hc, ["lost", "carried", "carried"]);
    let table = e.ok(&["vm", "list"]);
    assert!(
        table.lines().next().unwrap().contains("HALF-CLOSE"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains(" lost ") && l.ends_with("fc")),
        "{table}"
    );
    assert!(e.ok(&["vm", "show", "fc"]).contains("half-close: lost"));
    assert_eq!(
        e.json(&["vm", "show", "ch", "--json"])["half_close"],
        "carried"
    );
    // Only a hybrid VMM can lose it: refused, and nothing is added.
    let err = e.fail(&["vm", "add", "q2", "--cid", "5", "--half-close", "lost"]);
    assert!(err.contains("not a --hybrid VM"), "{err}");
    assert_eq!(
        e.json(&["vm", "list", "--json"]).as_array().unwrap().len(),
        3
    );
    let out = e
        .cmd()
        .args([
            "vm",
            "add",
            "x",
            "--hybrid",
            &p("x.sock"),
            "--half-close",
            "maybe",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("carried"));
}
