//! The integration service against a real Linux guest: `hvsock agent` runs inside a
//! QEMU/TCG VM (HVSOCK_GUEST=1, AF_VSOCK), the host reaches it through the VM's hybrid
//! vsock socket with `hvsock exec` and `hvsock cp` — the same binary, built static.
//!
//! Run alone: `vm/setup.sh && cargo test -p hvsock-vm --test agent_vm`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hvsock_testkit::data::xorshift_words as pseudo_random;
use hvsock_vm::{Vm, VmConfig, build_static_bin};

/// The agent's vsock port (hvsock_agent::VSOCK_PORT).
const AGENT_VSOCK_PORT: u32 = 18518;

/// A host temp dir removed on drop (std only).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "hvagent-vm-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The host side: its own config/runtime dirs, the static `hvsock`.
struct Host {
    bin: PathBuf,
    tmp: TempDir,
}

impl Host {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("HVSOCK_CONFIG_DIR", self.tmp.0.join("c"))
            .env("HVSOCK_RUNTIME_DIR", self.tmp.0.join("r"))
            .env_remove("HVSOCK_PARTITION")
            .env_remove("HVSOCK_GUEST");
        c
    }

    /// Runs with `input` on stdin; a 120 s bound (TCG is slow).
    fn run(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = hvsock_testkit::proc::spawn_piped(self.cmd(args));
        let mut w = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = thread::spawn(move || {
            let _ = w.write_all(&input);
        });
        let pid = child.id();
        let watchdog = thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(120) {
                thread::sleep(Duration::from_millis(100));
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    return;
                }
            }
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_raw(pid as i32).unwrap(),
                rustix::process::Signal::KILL,
            );
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        drop(watchdog);
        out
    }

    /// `exec guest -- sh -c SCRIPT` with nothing on stdin.
    fn guest_sh(&self, script: &str) -> Output {
        self.run(&["exec", "guest", "--", "sh", "-c", script], b"")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, b"");
        hvsock_testkit::proc::assert_success(&out, format_args!("{args:?}"));
        String::from_utf8(out.stdout).unwrap()
    }
}

/// SHA-256 with the host's `sha256sum`.
fn sha256(data: &[u8]) -> String {
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(data).unwrap();
    let out = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn exec_and_cp_against_the_agent_in_a_real_guest() {
    let bin = build_static_bin("hvsock-cli", "hvsock").expect("static hvsock");
    let host = Host {
        bin: bin.clone(),
        tmp: TempDir::new(),
    };
    // Key authentication, the agent's default: the host's throw-away key goes into the
    // guest's authorized_keys before the agent starts.
    host.ok(&["key", "generate"]);
    let key_line = host.ok(&["key", "show"]).trim().to_string();
    assert!(
        key_line.starts_with("hvsock-ed25519 ") && !key_line.contains('\''),
        "{key_line}"
    );
    let vm = Vm::start(VmConfig {
        guest_binaries: vec![(bin.clone(), "/bin/hvsock".into())],
        env: vec![
            ("HVSOCK_GUEST".into(), "1".into()),
            ("HVSOCK_CONFIG_DIR".into(), "/tmp/hvsock-config".into()),
            ("HVSOCK_RUNTIME_DIR".into(), "/tmp/hvsock-run".into()),
        ],
        // The harness's /init mounts no devpts; a distribution's guest has it.
        guest_init: format!(
            "mkdir -p /dev/pts && mount -t devpts devpts /dev/pts; \
             mkdir -p /tmp/hvsock-config && echo '{key_line}' > /tmp/hvsock-config/authorized_keys; \
             mkdir -p /tmp/work && cd /tmp/work && \
             hvsock agent -v > /tmp/agent.log 2>&1 &"
        ),
        ..VmConfig::default()
    })
    .expect("start VM");
    vm.wait_port(AGENT_VSOCK_PORT, Duration::from_secs(60))
        .expect("agent listening in the guest");

    host.ok(&["agent", "--install-service"]);
    host.ok(&[
        "vm",
        "add",
        "guest",
        "--hybrid",
        vm.hybrid_path().to_str().unwrap(),
    ]);

    // Exit codes and separate streams.
    let out = host.run(&["exec", "guest", "--", "uname", "-s"], b"");
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "Linux\n".into()),
        "{}",
        text(&out.stderr)
    );
    let out = host.guest_sh("echo out; echo err >&2; exit 3");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        (text(&out.stdout), text(&out.stderr)),
        ("out\n".into(), "err\n".into())
    );
    let out = host.guest_sh("kill -TERM $$");
    assert_eq!(out.status.code(), Some(143));
    let out = host.run(&["exec", "guest", "--", "no-such-command"], b"");
    assert_eq!(out.status.code(), Some(127));
    assert!(
        text(&out.stderr).contains("command not found"),
        "{}",
        text(&out.stderr)
    );

    // env and cwd.
    let out = host.run(
        &[
            "exec",
            "guest",
            "--env",
            "K=v w",
            "--cwd",
            "/proc",
            "--",
            "sh",
            "-c",
            "echo \"$K|$HVSOCK_GUEST|$(pwd)\"",
        ],
        b"",
    );
    assert_eq!(text(&out.stdout), "v w|1|/proc\n", "{}", text(&out.stderr));

    // stdin streaming: 4 MiB through sha256sum in the guest.
    let data = pseudo_random(4 << 20, 11);
    let out = host.run(&["exec", "guest", "--", "sha256sum"], &data);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).split_whitespace().next().unwrap(),
        sha256(&data)
    );

    // cp both ways, 8 MiB, hashes compared on both sides.
    let src = host.tmp.0.join("payload.bin");
    let payload = pseudo_random(8 << 20, 5);
    std::fs::write(&src, &payload).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o640)).unwrap();
    let t = Instant::now();
    host.ok(&["cp", src.to_str().unwrap(), "guest:/tmp/work/"]);
    let up = t.elapsed();
    let out = host.guest_sh("sha256sum payload.bin; stat -c %a payload.bin");
    let s = text(&out.stdout);
    assert_eq!(
        s.split_whitespace().collect::<Vec<_>>(),
        [sha256(&payload).as_str(), "payload.bin", "640"]
    );
    let back = host.tmp.0.join("back.bin");
    let t = Instant::now();
    host.ok(&["cp", "guest:payload.bin", back.to_str().unwrap()]);
    let down = t.elapsed();
    assert_eq!(sha256(&std::fs::read(&back).unwrap()), sha256(&payload));
    assert_eq!(
        std::fs::metadata(&back).unwrap().permissions().mode() & 0o777,
        0o640
    );
    eprintln!("cp 8 MiB to the TCG guest: {up:?}, back: {down:?}");

    // A tree with -r, modes kept, back again.
    let tree = host.tmp.0.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("sub/run.sh"), b"#!/bin/sh\necho ran\n").unwrap();
    std::fs::set_permissions(
        tree.join("sub/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(tree.join("sub"), std::fs::Permissions::from_mode(0o750)).unwrap();
    host.ok(&["cp", "-r", tree.to_str().unwrap(), "guest:/tmp/work/tree"]);
    let out = host.guest_sh("stat -c %a tree/sub; tree/sub/run.sh");
    assert_eq!(text(&out.stdout), "750\nran\n", "{}", text(&out.stderr));
    let back_tree = host.tmp.0.join("tree-back");
    host.ok(&[
        "cp",
        "-r",
        "guest:/tmp/work/tree",
        back_tree.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(back_tree.join("sub/run.sh")).unwrap(),
        b"#!/bin/sh\necho ran\n"
    );
    assert_eq!(
        std::fs::metadata(back_tree.join("sub"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o750
    );

    // A PTY in the guest (--tty; this side is not a terminal, so no raw mode).
    let out = host.run(
        &["exec", "-t", "guest", "--", "sh", "-c", "tty; exit 5"],
        b"",
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("/dev/pts/"),
        "{}",
        text(&out.stdout)
    );

    // Per-user sessions: a user of the guest's own (its password and group entries,
    // its home), the host's key authorized for it in the system-wide file (`user=`,
    // read at each connection).
    let made = vm
        .exec(&format!(
            "echo 'builder:x:1000:1000:builder:/home/builder:/bin/sh' >> /etc/passwd && \
             echo 'builder:x:1000:' >> /etc/group && \
             mkdir -p /home/builder && chown 1000:1000 /home/builder && \
             mkdir -m 700 /tmp/root-only && \
             echo 'user=builder {key_line}' >> /tmp/hvsock-config/authorized_keys"
        ))
        .unwrap();
    assert!(made.success(), "{}", made.stderr_str());
    let out = host.run(
        &[
            "exec",
            "guest",
            "--user",
            "builder",
            "--",
            "sh",
            "-c",
            "id -u; id -g; echo \"$HOME|$USER|$(pwd)\"",
        ],
        b"",
    );
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (
            Some(0),
            "1000\n1000\n/home/builder|builder|/home/builder\n".into()
        ),
        "{}",
        text(&out.stderr)
    );
    // cp as the user: its file, and its permission errors.
    host.ok(&[
        "cp",
        "--user",
        "builder",
        src.to_str().unwrap(),
        "guest:/home/builder/mine.bin",
    ]);
    let out = host.guest_sh("stat -c %u:%g /home/builder/mine.bin");
    assert_eq!(text(&out.stdout), "1000:1000\n", "{}", text(&out.stderr));
    let out = host.run(
        &[
            "cp",
            "--user",
            "builder",
            src.to_str().unwrap(),
            "guest:/tmp/root-only/",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("ermission denied"),
        "{}",
        text(&out.stderr)
    );
    // A user the key is not authorized for.
    let out = host.run(&["exec", "guest", "--user", "nobody", "--", "true"], b"");
    assert_eq!(out.status.code(), Some(255));

    // The agent is still up and logged one line per connection.
    let log = vm.exec("cat /tmp/agent.log").unwrap().stdout_str();
    // Each session's audit line names its user.
    assert!(
        log.lines()
            .any(|l| l.contains("hvsock::audit") && l.contains("user=builder")),
        "{log}"
    );
    assert!(log.contains("serving \"hvsock agent\""), "{log}");
    // ... with key authentication: every exec and cp above signed its challenge.
    assert!(log.contains("auth key,"), "{log}");
    assert!(log.contains("connection from PARENT"), "{log}");
}
