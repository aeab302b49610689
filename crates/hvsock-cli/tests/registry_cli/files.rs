//! The registry file under concurrent writers and when corrupt.

use super::*;

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
