//! CLI tests of `hvsock service`, `hvsock vm` and `hvsock addr`, each in its own temp
//! config and runtime directories.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::BIN;
const VMSS: &str = "999e53d4-3d5c-4c3e-8779-bed06ec056e1";

use common::TempEnv as Env;

impl Env {
    fn new() -> Env {
        Env::in_tmp("hvr")
    }

    fn cmd(&self) -> Command {
        Command::from_std(common::hvsock(&self.cfg, &self.run, &[]))
    }

    /// Runs, expects exit 0, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        hvsock_testkit::proc::assert_success(&out, format_args!("{args:?} failed"));
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Runs, expects exit 1 and one `hvsock: ` line on stderr, returns it.
    fn fail(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(err.starts_with("hvsock: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    }

    /// Runs, expects a usage error (exit 2).
    fn usage(&self, args: &[&str]) {
        self.cmd().args(args).assert().code(2);
    }

    fn services_file(&self) -> PathBuf {
        self.cfg.join("services.toml")
    }

    fn ids(&self) -> BTreeSet<(String, String)> {
        self.json(&["service", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_string(),
                    s["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn is_guid_line(s: &str) -> bool {
    let t = s.strip_suffix('\n').unwrap_or("");
    t.len() == 36 && t.parse::<hvsock::Guid>().is_ok() && t == t.to_lowercase()
}

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

#[test]
fn export_then_import_gives_the_same_set() {
    let e = Env::new();
    e.ok(&["service", "add", "VM Session Service", "--id", VMSS]);
    e.ok(&["service", "add", r#"quote " and \ back"#]);
    e.ok(&["service", "add", "Ünïcødé 名前 😀"]);
    e.ok(&["service", "add", "web", "--vsock-port", "8080"]);
    let all = e.ids();

    let reg_file = e.cfg.join("out.reg");
    e.ok(&[
        "service",
        "export",
        "--format",
        "reg",
        "-o",
        reg_file.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&reg_file).unwrap();
    assert_eq!(&bytes[..2], &[0xff, 0xfe], "UTF-16LE BOM");
    let stdout = e
        .cmd()
        .args(["service", "export", "--format", "reg"])
        .output()
        .unwrap();
    assert!(stdout.status.success());
    assert_eq!(stdout.stdout, bytes, "stdout and -o give the same bytes");
    let text: String = char::decode_utf16(
        bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]])),
    )
    .map(Result::unwrap)
    .collect();
    assert!(
        text.starts_with("Windows Registry Editor Version 5.00\r\n\r\n"),
        "{text}"
    );
    assert!(text.contains("GuestCommunicationServices\\999E53D4-3D5C-4C3E-8779-BED06EC056E1]\r\n\"ElementName\"=\"VM Session Service\"\r\n"));
    assert!(
        text.contains(r#""ElementName"="quote \" and \\ back""#),
        "{text}"
    );

    let fresh = Env::new();
    let out = fresh.ok(&["service", "import", reg_file.to_str().unwrap()]);
    assert!(out.contains("4 added, 0 skipped"), "{out}");
    assert_eq!(fresh.ids(), all);
    // Importing again skips everything, without failing.
    let out = fresh.ok(&["service", "import", reg_file.to_str().unwrap()]);
    assert!(
        out.contains("0 added, 4 skipped") && out.contains("already registered"),
        "{out}"
    );
    assert_eq!(fresh.ids(), all);
    // And from stdin.
    let third = Env::new();
    third
        .cmd()
        .args(["service", "import", "-"])
        .write_stdin(bytes.clone())
        .assert()
        .success();
    assert_eq!(third.ids(), all);

    // Disabled services are not exported (comment only).
    e.ok(&["service", "disable", "web"]);
    let reg = e
        .cmd()
        .args(["service", "export", "--format", "reg"])
        .output()
        .unwrap()
        .stdout;
    let fourth = Env::new();
    let p = fourth.cfg.join("x.reg");
    std::fs::create_dir_all(&fourth.cfg).unwrap();
    std::fs::write(&p, reg).unwrap();
    fourth.ok(&["service", "import", p.to_str().unwrap()]);
    assert_eq!(fourth.ids().len(), 3);
    assert!(!fourth.ids().iter().any(|x| x.1 == "web"));

    // PowerShell.
    let ps = e.ok(&["service", "export", "--format", "ps1"]);
    assert!(ps.contains("GuestCommunicationServices"));
    assert_eq!(ps.matches("New-ItemProperty").count(), 3, "{ps}");
    assert!(ps.contains("'999E53D4-3D5C-4C3E-8779-BED06EC056E1'"));
    let ps_file = e.cfg.join("r.ps1");
    e.ok(&[
        "service",
        "export",
        "--format",
        "ps1",
        "--output",
        ps_file.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&ps_file).unwrap(), ps);
    // -o into a missing directory fails cleanly.
    let err = e.fail(&[
        "service",
        "export",
        "--format",
        "reg",
        "-o",
        "/nonexistent-dir-hvsock/x.reg",
    ]);
    assert!(err.contains("/nonexistent-dir-hvsock"), "{err}");
}

fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xff, 0xfe];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

#[test]
fn import_regedit_file_with_unrelated_keys() {
    let e = Env::new();
    let gcs = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices";
    let text = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n\
         [{gcs}]\r\n\r\n\
         [{gcs}\\999E53D4-3D5C-4C3E-8779-BED06EC056E1]\r\n\"ElementName\"=\"VM Session Service\"\r\n\"Other\"=dword:00000001\r\n\r\n\
         [{gcs}\\0000BEEF-FACB-11E6-BD58-64006A7986D3]\r\n\"ElementName\"=\"Beef\"\r\n\r\n\
         [{gcs}\\00000050-FACB-11E6-BD58-64006A7986D3]\r\n\"ElementName\"=\"Low port\"\r\n\r\n\
         [HKEY_CURRENT_USER\\Software\\Unrelated]\r\n\"ElementName\"=\"no\"\r\n\r\n"
    );
    let f = e._tmp.path().join("gcs.reg");
    std::fs::write(&f, utf16le_bom(&text)).unwrap();
    let out = e.json(&["service", "import", f.to_str().unwrap(), "--json"]);
    let added: Vec<&str> = out["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(added, ["VM Session Service", "Beef"]);
    assert_eq!(out["added"][1]["vsock_port"], 0xbeef);
    let skipped: Vec<&str> = out["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped.iter().any(|s| s.contains("\"Other\"")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|s| s.contains("HKEY_CURRENT_USER")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("Low port") && s.contains("privileged")),
        "{skipped:?}"
    );
    assert_eq!(e.ids().len(), 2);

    // REGEDIT4, ASCII, LF.
    let r4 = format!(
        "REGEDIT4\n\n[{gcs}\\00001234-facb-11e6-bd58-64006a7986d3]\n\"ElementName\"=\"old\"\n"
    );
    let f4 = e._tmp.path().join("old.reg");
    std::fs::write(&f4, r4).unwrap();
    let out = e.ok(&["service", "import", f4.to_str().unwrap()]);
    assert!(
        out.contains("added   00001234-facb-11e6-bd58-64006a7986d3 \"old\""),
        "{out}"
    );

    // Not a .reg file: error with line number, nothing imported.
    let bad = e._tmp.path().join("bad.reg");
    std::fs::write(&bad, "REGEDIT4\n[x]\nnonsense\n").unwrap();
    let err = e.fail(&["service", "import", bad.to_str().unwrap()]);
    assert!(err.contains("line 3") && err.contains("bad.reg"), "{err}");
    let err = e.fail(&["service", "import", "/nonexistent/file.reg"]);
    assert!(err.contains("/nonexistent/file.reg"), "{err}");
    assert_eq!(e.ids().len(), 3);
}

#[test]
fn fifty_concurrent_writers() {
    let e = Env::new();
    let children: Vec<_> = (0..50)
        .map(|i| {
            std::process::Command::new(BIN)
                .args(["service", "add", &format!("svc-{i}")])
                .env("HVSOCK_CONFIG_DIR", &e.cfg)
                .env("HVSOCK_RUNTIME_DIR", &e.run)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let printed = common::stdout_lines_of_successes(children);
    let list = e.json(&["service", "list", "--json"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 50);
    let ids: BTreeSet<String> = list
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let names: BTreeSet<&str> = list.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 50);
    assert_eq!(names.len(), 50);
    assert_eq!(ids, printed, "every printed id is stored");
    // No temp files left behind.
    let mut files: Vec<String> = std::fs::read_dir(&e.cfg)
        .unwrap()
        .map(|d| d.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["services.toml", "services.toml.lock"]);
}

fn assert_untouched_after_failure(e: &Env, file: &Path, garbage: &[u8], args: &[&str]) {
    let err = e.fail(args);
    assert!(err.contains(&*file.to_string_lossy()), "{args:?}: {err}");
    assert_eq!(
        std::fs::read(file).unwrap(),
        garbage,
        "{args:?} changed the file"
    );
}

#[test]
fn corrupt_files_are_reported_and_never_overwritten() {
    let e = Env::new();
    std::fs::create_dir_all(&e.cfg).unwrap();
    let garbage: &[u8] = b"[[service]\nid = \"half-written\x00\xff\n";
    let sf = e.services_file();
    std::fs::write(&sf, garbage).unwrap();
    for args in [
        &["service", "add", "x"][..],
        &["service", "list"],
        &["service", "remove", "x"],
        &["service", "disable", "x"],
        &["service", "export", "--format", "reg"],
        &["addr", "encode", "parent:name"],
    ] {
        assert_untouched_after_failure(&e, &sf, garbage, args);
    }
    // Valid TOML breaking a rule (duplicate id) is refused too.
    let dup = format!(
        "[[service]]\nid = \"{VMSS}\"\nname = \"a\"\n\n[[service]]\nid = \"{VMSS}\"\nname = \"b\"\n"
    );
    std::fs::write(&sf, &dup).unwrap();
    assert_untouched_after_failure(&e, &sf, dup.as_bytes(), &["service", "add", "x"]);

    let pf = e.cfg.join("partitions.toml");
    std::fs::write(&pf, garbage).unwrap();
    for args in [
        &["vm", "add", "x", "--local"][..],
        &["vm", "list"],
        &["addr", "encode", "x:vsock:5000"],
    ] {
        assert_untouched_after_failure(&e, &pf, garbage, args);
    }
    // Pure GUID addresses need neither file.
    e.ok(&["addr", "encode", "parent:vsock:5000"]);
}

#[test]
fn vm_add_list_show_remove() {
    let e = Env::new();
    let sock_dir = e._tmp.path().join("vms");
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
fn config_dir_flag_and_help() {
    let e = Env::new();
    let other = e._tmp.path().join("other");
    e.ok(&[
        "--config-dir",
        other.to_str().unwrap(),
        "service",
        "add",
        "x",
    ]);
    e.ok(&[
        "service",
        "add",
        "y",
        "--config-dir",
        other.to_str().unwrap(),
    ]);
    assert!(other.join("services.toml").exists());
    assert!(!e.services_file().exists());
    let help = e.ok(&["service", "add", "--help"]);
    assert!(
        help.contains("Examples:") && help.contains("--vsock-port"),
        "{help}"
    );
    let help = e.ok(&["service", "export", "--help"]);
    assert!(
        help.contains("UTF-16LE") && help.contains("disabled"),
        "{help}"
    );
    let help = e.ok(&["vm", "add", "--help"]);
    assert!(
        help.contains("--hybrid") && help.contains("Examples:"),
        "{help}"
    );
    let help = e.ok(&["addr", "encode", "--help"]);
    assert!(help.contains("vsock:PORT"), "{help}");
}
