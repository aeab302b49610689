//! The service registry on Windows, against the real Win32 registry (run under wine
//! here): add, list, show, remove, enable and disable; `.reg`, `.ps1` and TOML round
//! trips; names beyond ASCII; keys written by other tools in other spellings; the
//! not-elevated path and the rollback of a half-written key; and the Host Compute
//! Service's absence.
//!
//! Every test works in its own key, `HKCU\Software\hvsock-tests\<random GUID>`, and
//! deletes it at the end; keys are written by hand with Windows' own `reg.exe`.
#![cfg(windows)]

use hvsock::registry::windows::{DISABLED_VALUE, ELEMENT_NAME, Fault, ServicesKey, TEST_KEY_ENV};
use hvsock::registry::{Registry, RegistryError, Service};
use hvsock::{Guid, ServiceId, regfile};
use std::process::Command;

const VMSS: &str = "999E53D4-3D5C-4C3E-8779-BED06EC056E1";

fn sid(s: &str) -> ServiceId {
    s.parse().unwrap()
}

/// The test's own key under HKCU, deleted when dropped.
struct TestKey {
    path: String,
}

impl TestKey {
    fn new() -> TestKey {
        TestKey {
            path: format!("Software\\hvsock-tests\\{}", Guid::new_v4()),
        }
    }

    fn key(&self) -> ServicesKey {
        ServicesKey::current_user(&self.path)
    }

    fn full(&self) -> String {
        format!("HKCU\\{}", self.path)
    }

    fn load(&self) -> Registry {
        self.key().load().unwrap()
    }

    /// Runs `reg.exe` with `args`; its success and output.
    fn reg(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("reg")
            .args(args)
            .output()
            .expect("reg.exe runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }

    /// `reg add` of string value `ElementName` under the subkey `sub`.
    fn add_by_hand(&self, sub: &str, name: Option<&str>) {
        let key = format!("{}\\{sub}", self.full());
        let mut args = vec!["add", &key, "/f"];
        if let Some(n) = name {
            args.extend(["/v", ELEMENT_NAME, "/t", "REG_SZ", "/d", n]);
        }
        let (ok, out) = self.reg(&args);
        assert!(ok, "reg add {key}: {out}");
    }

    /// The subkey names `reg query` lists under the test key.
    fn subkeys(&self) -> Vec<String> {
        let (ok, out) = self.reg(&["query", &self.full()]);
        assert!(ok, "{out}");
        let prefix = format!("{}\\", self.full().replace("HKCU", "HKEY_CURRENT_USER"));
        out.lines()
            .filter_map(|l| l.trim().strip_prefix(&prefix))
            .map(str::to_string)
            .collect()
    }

    fn exists(&self, sub: &str) -> bool {
        self.reg(&["query", &format!("{}\\{sub}", self.full())]).0
    }
}

impl Drop for TestKey {
    fn drop(&mut self) {
        let _ = self.reg(&["delete", &self.full(), "/f"]);
    }
}

fn names(reg: &Registry) -> Vec<(ServiceId, String, bool)> {
    let mut v: Vec<_> = reg
        .services()
        .iter()
        .map(|s| (s.id, s.name.clone(), s.enabled))
        .collect();
    v.sort();
    v
}

#[test]
fn add_list_show_remove() {
    let t = TestKey::new();
    assert!(
        t.load().services().is_empty(),
        "a missing key is an empty registry"
    );
    let alpha = t.key().update(|r| r.add("alpha", None)).unwrap();
    t.key()
        .update(|r| r.add("VM Session Service", Some(sid(VMSS))))
        .unwrap();
    let reg = t.load();
    assert_eq!(reg.services().len(), 2);
    // Found by name, and by id in any spelling.
    assert_eq!(reg.find("alpha").unwrap().id, alpha);
    for q in [VMSS.to_string(), VMSS.to_lowercase(), format!("{{{VMSS}}}")] {
        assert_eq!(reg.find(&q).unwrap().name, "VM Session Service", "{q}");
    }
    // New keys are bare lowercase GUIDs, as `New-Item -Name ((New-Guid).Guid)` makes.
    let mut keys = t.subkeys();
    keys.sort();
    let mut want = vec![alpha.to_string(), VMSS.to_lowercase()];
    want.sort();
    assert_eq!(keys, want);
    let gone = t.key().update(|r| r.remove("alpha")).unwrap();
    assert_eq!(gone.id, alpha);
    assert!(!t.exists(&alpha.to_string()), "the key is deleted");
    assert_eq!(
        names(&t.load()),
        vec![(sid(VMSS), "VM Session Service".into(), true)]
    );
    let e = t.key().update(|r| r.remove("alpha")).unwrap_err();
    assert!(matches!(e, RegistryError::NotFound(_)), "{e}");
}

#[test]
fn enable_and_disable_use_hvsocks_own_value() {
    let t = TestKey::new();
    let id = t.key().update(|r| r.add("echo", None)).unwrap();
    t.key().update(|r| r.set_enabled("echo", false)).unwrap();
    assert!(!t.load().is_enabled(id));
    let key = format!("{}\\{id}", t.full());
    let (ok, out) = t.reg(&["query", &key, "/v", DISABLED_VALUE]);
    assert!(
        ok && out.contains("REG_DWORD") && out.contains("0x1"),
        "{out}"
    );
    // The name is untouched.
    let (_, out) = t.reg(&["query", &key, "/v", ELEMENT_NAME]);
    assert!(out.contains("REG_SZ") && out.contains("echo"), "{out}");
    t.key()
        .update(|r| r.set_enabled(&id.to_string(), true))
        .unwrap();
    assert!(t.load().is_enabled(id));
    assert!(
        !t.reg(&["query", &key, "/v", DISABLED_VALUE]).0,
        "the flag is gone"
    );
    // Written by hand: 0 is enabled, anything else (or another type) disabled.
    let (ok, out) = t.reg(&[
        "add",
        &key,
        "/v",
        DISABLED_VALUE,
        "/t",
        "REG_DWORD",
        "/d",
        "0",
        "/f",
    ]);
    assert!(ok, "{out}");
    assert!(t.load().is_enabled(id));
    let (ok, out) = t.reg(&[
        "add",
        &key,
        "/v",
        DISABLED_VALUE,
        "/t",
        "REG_SZ",
        "/d",
        "no",
        "/f",
    ]);
    assert!(ok, "{out}");
    assert!(!t.load().is_enabled(id), "a damaged flag fails closed");
}

#[test]
fn names_beyond_ascii_survive() {
    let t = TestKey::new();
    let names_in = ["Службa ✓", "名前 😀 \"quoted\" back\\slash", "Ünïcödé"];
    for n in names_in {
        t.key().update(|r| r.add(n, None)).unwrap();
    }
    let reg = t.load();
    for n in names_in {
        assert_eq!(reg.find(n).unwrap().name, n);
    }
    // And through a `.reg` export and its parser.
    let back = regfile::parse_reg(&regfile::export_reg(reg.services())).unwrap();
    let mut got: Vec<_> = back.services.iter().map(|(_, n)| n.as_str()).collect();
    got.sort();
    let mut want = names_in.to_vec();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn keys_written_by_hand_in_other_spellings_are_read() {
    let t = TestKey::new();
    let braced = "5B2C1A3E-7D4F-4E6A-9C8B-1F2E3D4C5B6A";
    let upper = "0000138A-FACB-11E6-BD58-64006A7986D3";
    let nameless = "7a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
    t.add_by_hand(&format!("{{{braced}}}"), Some("braced"));
    t.add_by_hand(upper, Some("upper"));
    t.add_by_hand(nameless, None);
    t.add_by_hand("Settings", Some("not a service"));
    t.add_by_hand(&format!("{{{VMSS}"), Some("half a brace"));
    let reg = t.load();
    assert_eq!(
        names(&reg),
        {
            let mut v = vec![
                (sid(braced), "braced".to_string(), true),
                (sid(upper), "upper".to_string(), true),
                (sid(nameless), String::new(), true),
            ];
            v.sort();
            v
        },
        "GUID keys in any spelling; others skipped; no ElementName: empty name"
    );
    assert_eq!(reg.find(&braced.to_lowercase()).unwrap().name, "braced");
    assert_eq!(reg.find("upper").unwrap().id, sid(upper));
    assert!(reg.find(nameless).is_some() && reg.find("").is_none());
    // Changing them writes into the keys as spelled, and deletes them as spelled.
    t.key().update(|r| r.set_enabled("braced", false)).unwrap();
    assert!(!t.load().is_enabled(sid(braced)));
    t.key().update(|r| r.remove(upper)).unwrap();
    t.key().update(|r| r.remove(nameless)).unwrap();
    assert!(!t.exists(upper) && !t.exists(nameless));
    assert!(t.exists(&format!("{{{braced}}}")) && t.exists("Settings"));
    assert!(
        t.subkeys().iter().all(|k| k != &braced.to_lowercase()),
        "no second key made"
    );
}

fn sample() -> Vec<Service> {
    vec![
        Service {
            id: sid(VMSS),
            name: "VM Session Service".into(),
            enabled: true,
        },
        Service {
            id: ServiceId::from_vsock_port(8080),
            name: "web ✓".into(),
            enabled: true,
        },
        Service {
            id: ServiceId::from_vsock_port(0x2000),
            name: "off".into(),
            enabled: false,
        },
    ]
}

/// A test key holding `sample()`, added as the CLI adds (then one disabled).
fn with_sample() -> TestKey {
    let t = TestKey::new();
    t.key()
        .update(|r| {
            for s in sample() {
                r.add(&s.name, Some(s.id))?;
                r.set_enabled(&s.name, s.enabled)?;
            }
            Ok(())
        })
        .unwrap();
    t
}

/// `services` in the order a file registry keeps them, for exports to compare.
fn sorted(mut services: Vec<Service>) -> Vec<Service> {
    services.sort_by_key(|s| s.id);
    services
}

#[test]
fn reg_export_and_import_round_trip() {
    let t = with_sample();
    let loaded = sorted(t.load().services().to_vec());
    assert_eq!(loaded, sorted(sample()));
    // The export of what Windows holds is byte for byte the export of the same services.
    let bytes = regfile::export_reg(&loaded);
    assert_eq!(bytes, regfile::export_reg(&sorted(sample())));
    // regedit's own import of that file (pointed at another test key) ...
    let other = TestKey::new();
    let text = regfile::export_reg_text(&loaded).replace(
        regfile::GCS_KEY,
        &format!("HKEY_CURRENT_USER\\{}", other.path),
    );
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services.reg");
    std::fs::write(&file, utf16).unwrap();
    let (ok, out) = other.reg(&["import", file.to_str().unwrap()]);
    assert!(ok, "reg import: {out}");
    // ... gives the enabled services, under uppercase key names, which hvsock reads.
    let imported = sorted(other.load().services().to_vec());
    let enabled: Vec<Service> = sorted(sample()).into_iter().filter(|s| s.enabled).collect();
    assert_eq!(imported, enabled);
    assert!(other.subkeys().contains(&VMSS.to_string()));
    // hvsock's own import of the parsed file into a third key gives the same.
    let third = TestKey::new();
    let parsed = regfile::parse_reg(&bytes).unwrap();
    let report = third
        .key()
        .update(|r| Ok(r.import(&parsed.services)))
        .unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(sorted(third.load().services().to_vec()), enabled);
}

#[test]
fn ps1_and_toml_exports_match_the_file_registrys() {
    let t = with_sample();
    let loaded = sorted(t.load().services().to_vec());
    let ps1 = regfile::export_ps1(&loaded);
    assert_eq!(ps1, regfile::export_ps1(&sorted(sample())));
    assert!(
        ps1.contains("[char]0x2713") && ps1.contains("# disabled in hvsock"),
        "{ps1}"
    );
    // TOML: what the Windows registry holds, written as services.toml and read back.
    let mut file_reg = Registry::new();
    for s in &loaded {
        file_reg.add(&s.name, Some(s.id)).unwrap();
        file_reg.set_enabled(&s.name, s.enabled).unwrap();
    }
    let toml = file_reg.to_toml();
    let back = Registry::from_toml(std::path::Path::new("services.toml"), &toml).unwrap();
    assert_eq!(back.services(), &loaded[..]);
    // And into another Windows key through import (which adds enabled).
    let other = TestKey::new();
    let entries: Vec<_> = back
        .services()
        .iter()
        .map(|s| (s.id, s.name.clone()))
        .collect();
    other.key().update(|r| Ok(r.import(&entries))).unwrap();
    let got = names(&other.load());
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(_, _, enabled)| *enabled));
}

#[test]
fn hvsocks_rules_still_apply_to_what_it_adds() {
    let t = TestKey::new();
    t.key().update(|r| r.add("one", None)).unwrap();
    let e = t.key().update(|r| r.add("one", None)).unwrap_err();
    assert!(matches!(e, RegistryError::DuplicateName { .. }), "{e}");
    let e = t
        .key()
        .update(|r| r.add("ssh", Some(ServiceId::from_vsock_port(22))))
        .unwrap_err();
    assert!(matches!(e, RegistryError::BadPort { .. }), "{e}");
    // A failing closure writes nothing, even what it added before failing.
    let e = t
        .key()
        .update(|r| {
            r.add("two", None)?;
            r.remove("nosuch")
        })
        .unwrap_err();
    assert!(matches!(e, RegistryError::NotFound(_)), "{e}");
    assert_eq!(t.load().services().len(), 1);
    assert_eq!(t.subkeys().len(), 1);
}

#[test]
fn without_administrator_rights_nothing_is_written() {
    let t = TestKey::new();
    let id = t.key().update(|r| r.add("kept", None)).unwrap();
    let before = names(&t.load());
    let denied = t.key().with_fault(Fault::NotElevated);
    let e = denied.update(|r| r.add("new", None)).unwrap_err();
    assert!(
        matches!(&e, RegistryError::AdminRequired { key } if key.contains(&t.path)),
        "{e:?}"
    );
    assert!(e.to_string().contains("administrator"), "{e}");
    let e = denied.update(|r| r.remove("kept")).unwrap_err();
    assert!(matches!(e, RegistryError::AdminRequired { .. }), "{e:?}");
    let e = denied.update(|r| r.set_enabled("kept", false)).unwrap_err();
    assert!(matches!(e, RegistryError::AdminRequired { .. }), "{e:?}");
    assert_eq!(names(&t.load()), before);
    assert_eq!(t.subkeys(), vec![id.to_string()]);
    // Reading needs no rights.
    assert_eq!(denied.load().unwrap().services().len(), 1);
}

#[test]
fn a_half_written_update_is_rolled_back() {
    let t = TestKey::new();
    t.key().update(|r| r.add("kept", None)).unwrap();
    // The 1st, then the 3rd new key fails: the keys created before it go too.
    for nth in [1, 3] {
        let failing = t.key().with_fault(Fault::ValueWriteFails { nth });
        let mut new_ids = Vec::new();
        let e = failing
            .update(|r| {
                for n in ["a", "b", "c"] {
                    new_ids.push(r.add(n, None)?);
                }
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(e, RegistryError::Windows { .. }), "{e:?}");
        assert!(e.to_string().contains("simulated"), "{e}");
        assert_eq!(t.load().services().len(), 1);
        assert_eq!(t.subkeys().len(), 1);
        for id in new_ids {
            assert!(!t.exists(&id.to_string()), "{id} left behind ({nth})");
        }
    }
}

#[test]
fn registry_load_and_update_use_the_test_key_from_the_environment() {
    let dirs = hvsock::paths::Dirs::new("C:\\nonexistent-hvsock-cfg", "C:\\nonexistent-hvsock-run");
    if std::env::var_os(TEST_KEY_ENV).is_some() {
        // The child: Registry::load/update, as the CLI calls them, go to that key.
        let id = Registry::update(&dirs, |r| r.add("from the child", None)).unwrap();
        assert_eq!(
            Registry::load(&dirs)
                .unwrap()
                .find("from the child")
                .unwrap()
                .id,
            id
        );
        return;
    }
    let t = TestKey::new();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "registry_load_and_update_use_the_test_key_from_the_environment",
            "--test-threads=1",
        ])
        .env(TEST_KEY_ENV, &t.path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
    assert_eq!(
        t.load().find("from the child").unwrap().name,
        "from the child"
    );
}

#[test]
fn vm_listing_without_the_host_compute_service_is_unsupported() {
    let dll = std::path::Path::new("C:\\windows\\system32\\computecore.dll");
    match hvsock::config::compute_systems::enumerate() {
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            let s = e.to_string();
            assert!(s.contains("Host Compute Service is not available"), "{s}");
            assert!(s.contains("Windows 10 1809"), "{s}");
        }
        // A real Hyper-V host answers (or refuses a non-administrator).
        other => assert!(dll.exists(), "no computecore.dll, yet {other:?}"),
    }
    if !dll.exists() {
        assert!(hvsock::config::compute_systems::enumerate().is_err());
    }
}
