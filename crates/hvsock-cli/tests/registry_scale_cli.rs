//! `hvsock service import` of a `.reg` file with 100,000 services, then `service list`
//! and a name lookup against the result. Before the registry's hash indexes this was
//! quadratic (330k entries: 300 s to import, 158 s to list); it now runs in seconds in a
//! debug build. Nothing here is timed: the limits are hang guards.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

mod common;
use std::fmt::Write;
use std::time::Duration;

const N: u32 = 100_000;
const LIMIT: Duration = Duration::from_secs(300);

#[test]
fn import_and_list_100k_services() {
    let tmp = tempfile::tempdir().unwrap();
    let key = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Virtualization\GuestCommunicationServices";
    let mut reg = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
    for i in 0..N {
        write!(
            reg,
            "[{key}\\{{{:08X}-1234-4567-89AB-{i:012X}}}]\r\n\"ElementName\"=\"service number {i}\"\r\n\r\n",
            0x10000 + i
        )
        .unwrap();
    }
    let file = tmp.path().join("big.reg");
    std::fs::write(&file, reg).unwrap();
    let cmd = |args: &[&str]| {
        let c = common::hvsock(tmp.path().join("c"), tmp.path().join("r"), args);
        let out = common::run(c, b"", LIMIT);
        hvsock_testkit::proc::assert_success(&out, format_args!("{args:?}"));
        String::from_utf8(out.stdout).unwrap()
    };
    let out = cmd(&["service", "import", file.to_str().unwrap()]);
    assert!(
        out.ends_with(&format!("{N} added, 0 skipped\n")),
        "{}",
        &out[out.len() - 200..]
    );
    let list = cmd(&["service", "list"]);
    let rows: Vec<&str> = list
        .lines()
        .filter(|l| l.contains("service number"))
        .collect();
    assert_eq!(rows.len(), N as usize);
    assert!(
        rows[N as usize - 1].contains(&format!("service number {}", N - 1)),
        "{}",
        rows[N as usize - 1]
    );
    // The last one is found by name (the lookup a connect does).
    let show = cmd(&["service", "show", &format!("service number {}", N - 1)]);
    let want = format!("{:08x}-1234-4567-89ab-{:012x}", 0x10000 + N - 1, N - 1);
    assert!(show.contains(&want), "{show}");
}
