//! Real-VM tests of the harness (run alone: `cargo test -p hvsock-vm -- --test-threads=1`).

use hvsock_vm::{Vm, VmConfig};

#[test]
fn boots_and_runs_commands() {
    let vm = Vm::start(VmConfig::default()).expect("start VM");
    eprintln!("boot to ready: {:?} (pvh: {})", vm.boot_time(), vm.pvh());
    let out = vm
        .exec("uname -r; cat /proc/cmdline; echo err >&2; exit 3")
        .expect("exec");
    eprintln!("{out:?}");
    assert_eq!(out.status, 3);
    eprintln!("{}", vm.console_log());
}
