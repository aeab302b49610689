//! `--config-dir` and help.

use super::*;

#[test]
fn config_dir_flag_and_help() {
    let e = Env::new();
    let other = e.tmp.path().join("other");
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
