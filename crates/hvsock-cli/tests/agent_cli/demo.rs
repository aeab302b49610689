//! `hvsock demo` end to end.

use super::*;

#[test]
fn demo_runs_end_to_end_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        {
            let mut c = Command::new(BIN);
            c.arg("demo")
                .env("TMPDIR", tmp.path())
                // The demo must not depend on (or touch) any configuration.
                .env("HVSOCK_CONFIG_DIR", tmp.path().join("unused-config"))
                .env("HVSOCK_RUNTIME_DIR", tmp.path().join("unused-run"))
                .env_remove("HVSOCK_PARTITION")
                .env_remove("HVSOCK_GUEST");
            c
        },
        b"",
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for key in [
        "registered the agent service",
        "00004856-facb-11e6-bd58-64006a7986d3",
        "added a local partition        demo-vm",
        "started the agent in demo-vm",
        "$ uname -a",
        "HELLO OVER A HYPER-V SOCKET",
        "stdout: to stdout",
        "stderr: to stderr",
        "-> exit 3",
        "-> exit 127",
        "identical both ways",
        "stopped the agent, removed",
        "hvsock exec myvm -- uname -a",
        "HVSOCK_GUEST=1 hvsock agent",
    ] {
        assert!(text.contains(key), "demo output lacks {key:?}:\n{text}");
    }
    // One hash, shown for the original, in the VM and back.
    let sums: Vec<&str> = text
        .split_whitespace()
        .filter(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    assert_eq!(sums.len(), 3, "{text}");
    assert!(sums.iter().all(|s| *s == sums[0]));
    // Nothing left behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
