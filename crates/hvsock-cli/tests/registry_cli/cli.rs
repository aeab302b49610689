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

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    let e = Env::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = e.ok(&["completions", shell]);
        for sub in [
            "connect",
            "listen",
            "relay",
            "service",
            "exec",
            "cp",
            "completions",
        ] {
            assert!(script.contains(sub), "{shell} script lacks {sub}");
        }
        // The hidden man page generator is not offered.
        assert!(!script.contains("generate-man"), "{shell}");
    }
    // The shells' own syntax, so a script is not just a list of words.
    assert!(e.ok(&["completions", "bash"]).contains("complete -F"));
    assert!(e.ok(&["completions", "zsh"]).starts_with("#compdef hvsock"));
    assert!(
        e.ok(&["completions", "fish"])
            .contains("complete -c hvsock")
    );
}

#[test]
fn completions_refuse_an_unknown_shell() {
    let e = Env::new();
    let out = e.cmd().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("invalid value 'tcsh'") && err.contains("bash") && err.contains("zsh"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn man_writes_a_page_per_command() {
    let e = Env::new();
    let dir = e.tmp.path().join("man");
    e.ok(&["man", "--out-dir", dir.to_str().unwrap()]);
    for page in [
        "hvsock.1",
        "hvsock-connect.1",
        "hvsock-listen.1",
        "hvsock-service-add.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(
            text.starts_with(".ie \\n(.g .ds Aq"),
            "{page}: {}",
            &text[..80.min(text.len())]
        );
        assert!(text.contains(".SH NAME"), "{page}");
    }
    let listen = std::fs::read_to_string(dir.join("hvsock-listen.1")).unwrap();
    assert!(listen.contains("keep\\-open"), "{listen}");
    assert!(!dir.join("hvsock-help.1").exists());
    // One page on stdout: the same text as the file.
    let page = e.ok(&["man", "service", "add"]);
    assert_eq!(
        page,
        std::fs::read_to_string(dir.join("hvsock-service-add.1")).unwrap()
    );
    assert!(e.fail(&["man", "nosuch"]).contains("no command `nosuch`"));
}
