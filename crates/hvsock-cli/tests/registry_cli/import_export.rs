//! `hvsock service export|import`, including regedit files.

use super::*;

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
    let f = e.tmp.path().join("gcs.reg");
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
    let f4 = e.tmp.path().join("old.reg");
    std::fs::write(&f4, r4).unwrap();
    let out = e.ok(&["service", "import", f4.to_str().unwrap()]);
    assert!(
        out.contains("added   00001234-facb-11e6-bd58-64006a7986d3 \"old\""),
        "{out}"
    );

    // Not a .reg file: error with line number, nothing imported.
    let bad = e.tmp.path().join("bad.reg");
    std::fs::write(&bad, "REGEDIT4\n[x]\nnonsense\n").unwrap();
    let err = e.fail(&["service", "import", bad.to_str().unwrap()]);
    assert!(err.contains("line 3") && err.contains("bad.reg"), "{err}");
    let err = e.fail(&["service", "import", "/nonexistent/file.reg"]);
    assert!(err.contains("/nonexistent/file.reg"), "{err}");
    assert_eq!(e.ids().len(), 3);
}

#[test]
fn a_services_toml_carries_the_registry_to_another_host_disabled_ones_too() {
    let e = Env::new();
    e.ok(&["service", "add", "VM Session Service", "--id", VMSS]);
    e.ok(&["service", "add", "Ünïcødé 名前"]);
    e.ok(&["service", "add", "web", "--vsock-port", "8080"]);
    e.ok(&["service", "disable", "web"]);
    let file = e.cfg.join("carried.toml");
    let out = e.ok(&[
        "service",
        "export",
        "--format",
        "toml",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.is_empty(), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(e.cfg.join("services.toml")).unwrap()
    );

    let fresh = Env::new();
    let out = fresh.ok(&["service", "import", file.to_str().unwrap()]);
    assert!(out.contains("3 added, 0 skipped"), "{out}");
    assert_eq!(fresh.ids(), e.ids());
    let list = fresh.ok(&["service", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let web = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "web")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(web["enabled"], false, "{list}");
    // From stdin too, where nothing says which kind it is: again, all already there.
    let out = fresh
        .cmd()
        .args(["service", "import", "-"])
        .write_stdin(text.as_bytes())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 added, 3 skipped"));
    // Neither a .reg file nor TOML: one line naming the file, exit 1, nothing added.
    let bad = e.cfg.join("bad.txt");
    std::fs::write(&bad, "[[service]]\nid = 12\n").unwrap();
    let out = fresh
        .cmd()
        .args(["service", "import", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.txt: neither a .reg file nor a valid services.toml"),
        "{err}"
    );
    assert_eq!(fresh.ids(), e.ids());
}
