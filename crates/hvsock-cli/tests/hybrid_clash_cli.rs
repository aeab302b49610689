//! Hybrid paths that clash: `vm add` refuses a VM whose socket is another VM's
//! `PATH_SUFFIX` (in both orders), and `listen` never takes over another VM's socket
//! when a table edited by hand has such a pair.
// Linux only: these run the Unix transports, `--exec`, the agent or the file registry.
#![cfg(unix)]

mod common;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::spawn_with;

const LIMIT: Duration = Duration::from_secs(20);

struct Env {
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            tmp: common::temp_dirs("hvh").0,
        }
    }

    fn cfg(&self) -> PathBuf {
        self.tmp.path().join("c")
    }

    /// The VMMs' socket directory.
    fn x(&self) -> PathBuf {
        let x = self.tmp.path().join("x");
        std::fs::create_dir_all(&x).unwrap();
        x
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = common::hvsock(self.cfg(), self.tmp.path().join("r"), args);
        c.current_dir(self.tmp.path());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        common::run(self.cmd(args), b"", LIMIT)
    }
}

fn err_line(out: &Output) -> String {
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    e
}

/// Regression (security review): `vm add six --hybrid X/v.sock_5000` was accepted
/// while VM one had `X/v.sock`.
#[test]
fn vm_add_refuses_a_path_that_is_another_vms_port_socket_in_both_orders() {
    for (first, second, why) in [
        ("x/v.sock", "x/./v.sock_5000", "it is that VM's PATH_5000"),
        (
            "x/v.sock_5000",
            "x//v.sock",
            "that VM's socket is this path's PATH_5000",
        ),
    ] {
        let env = Env::new();
        env.x();
        let out = env.run(&["vm", "add", "one", "--hybrid", first]);
        assert!(out.status.success(), "{out:?}");
        let out = env.run(&["vm", "add", "six", "--hybrid", second]);
        let e = err_line(&out);
        assert!(e.contains("clashes with VM \"one\""), "{e}");
        assert!(e.contains(why), "{e}");
        let list = env.run(&["vm", "list"]);
        let list = String::from_utf8_lossy(&list.stdout);
        assert!(!list.contains("six"), "{list}");
        // Unrelated names next to it are fine.
        let out = env.run(&["vm", "add", "seven", "--hybrid", "x/w.sock_5000"]);
        assert!(out.status.success(), "{out:?}");
    }
}

/// partitions.toml edited by hand: one at X/v.sock, six at X/v.sock_5000 with its
/// VMM listening there.
fn hand_edited(env: &Env) -> (PathBuf, UnixListener) {
    let x = env.x();
    let six = x.join("v.sock_5000");
    std::fs::create_dir_all(env.cfg()).unwrap();
    let out = env.run(&["service", "add", "echo", "--vsock-port", "5000"]);
    assert!(out.status.success(), "{out:?}");
    std::fs::write(
        env.cfg().join("partitions.toml"),
        format!(
            "[[partition]]\nid = \"0c7f1d1e-8f0e-4b4c-b0a5-6a1d9f0e7c22\"\nname = \"one\"\nkind = \"hybrid\"\npath = \"{}\"\n\
             [[partition]]\nid = \"5e0b8f7a-4c2e-4d8e-9a57-2f6c8c1e0b11\"\nname = \"six\"\nkind = \"hybrid\"\npath = \"{}\"\n",
            x.join("v.sock").display(),
            six.display()
        ),
    )
    .unwrap();
    let vmm = UnixListener::bind(&six).unwrap();
    (six, vmm)
}

fn assert_vmm_untouched(six: &Path, ino: u64, vmm: &UnixListener) {
    assert_eq!(
        std::fs::metadata(six).unwrap().ino(),
        ino,
        "six's socket replaced"
    );
    let _c = UnixStream::connect(six).unwrap();
    vmm.set_nonblocking(false).unwrap();
    vmm.accept().expect("six's VMM still gets its connections");
}

#[test]
fn listen_refuses_to_take_over_another_vms_socket() {
    let env = Env::new();
    let (six, vmm) = hand_edited(&env);
    let ino = std::fs::metadata(&six).unwrap().ino();
    let out = env.run(&["listen", "one:echo"]);
    let e = err_line(&out);
    assert!(e.contains("is the hybrid socket of VM \"six\""), "{e}");
    assert!(e.contains("partitions.toml"), "{e}");
    assert_vmm_untouched(&six, ino, &vmm);

    // A wildcard listener warns, skips one, and serves six at six's own PATH_5000.
    let mut l = spawn_with(
        env.cmd(&["listen", "any:echo", "-k", "-v", "-e", "cat"]),
        [Stdio::null(), Stdio::piped(), Stdio::piped()],
    );
    let served = six.with_file_name("v.sock_5000_5000");
    let deadline = Instant::now() + LIMIT;
    while !served.exists() {
        assert!(Instant::now() < deadline, "six is not served");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_vmm_untouched(&six, ino, &vmm);
    let _ = l.kill();
    let out = common::wait_output(l, LIMIT);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("warning: the hybrid socket of VM \"six\"") && e.contains("skip VM \"one\""),
        "{e}"
    );
}
