#![cfg(unix)]
//! The examples, run as their users run them: the built `grpc_in_guest` and
//! `http_on_host` binaries, a server and its clients each in its own process and
//! partition (local partitions standing in for VMs), in a throw-away config/runtime pair.
//! What they print is checked: the peer's address each server reports is the one the
//! transport gave it, whatever the client claims.
//!
//! The binaries are the ones cargo builds next to this test (`target/debug/examples/`):
//! `cargo test -p hvsock` and `--all-targets` build them; `cargo test --test examples`
//! alone does not, and the test then fails saying so.

mod common;

use common::*;
use hvsock::registry::Registry;
use hvsock::{HvAddr, ServiceId, VmId};
use hvsock_testkit::proc::{assert_success, limited, read_line, spawn_piped};
use std::path::PathBuf;
use std::process::{Child, Command};

/// The examples' default services: the gRPC greeter and the HTTP API.
const GRPC: ServiceId = ServiceId::from_vsock_port(50051);
const HTTP: ServiceId = ServiceId::from_vsock_port(8080);

/// The built example `name` (`cargo build --examples` puts it at
/// `target/<profile>/examples/NAME`), or a failure that says how to build it.
fn example(name: &str) -> PathBuf {
    // The test binary is target/<profile>/deps/examples-HASH; examples are in
    // target/<profile>/examples/.
    let me = std::env::current_exe().unwrap();
    let dir = me
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples");
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "example binary {} not found: build the examples first \
         (`cargo build -p hvsock --examples`, as scripts/test does; `cargo test` \
         builds them too but leaves them only under hashed names)",
        bin.display()
    );
    bin
}

/// A fixture whose registry also has the examples' services.
fn fixture() -> Fixture {
    let f = Fixture::new();
    Registry::update(&f.dirs, |r| {
        r.add("greeter", Some(GRPC))?;
        r.add("api", Some(HTTP))
    })
    .unwrap();
    f
}

/// Example `name` with `args`, in `f`'s dirs, in partition `partition` (`None`: the host).
fn cmd(f: &Fixture, name: &str, partition: Option<&str>, args: &[&str]) -> Command {
    let mut c =
        hvsock_testkit::env::hvsock_command(example(name), &f.dirs.config, &f.dirs.runtime, args);
    if let Some(p) = partition {
        c.env("HVSOCK_PARTITION", p);
    }
    c
}

/// A server process, killed when dropped (servers never end on their own).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a server and waits for its `listening on ADDR` line; returns it with ADDR.
fn serve(c: Command) -> (Server, String) {
    let mut child = spawn_piped(c);
    let line = read_line(child.stdout.take().unwrap());
    let mut server = Server(child);
    let Some(addr) = line.trim().strip_prefix("listening on ") else {
        let err = hvsock_testkit::proc::read_stderr(&mut server.0);
        panic!("server printed {line:?}, not \"listening on ADDR\": {err}");
    };
    let addr = addr.to_string();
    (server, addr)
}

/// Runs a client to its end; returns its stdout (it must succeed).
fn call(c: Command, what: &str) -> String {
    let out = limited::run(c, b"");
    assert_success(&out, what);
    String::from_utf8(out.stdout).unwrap()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn grpc_in_guest_server_in_a_partition_called_from_the_host() {
    let f = fixture();
    let (_server, addr) = serve(cmd(&f, "grpc_in_guest", Some("a"), &["serve"]));
    assert_eq!(addr, HvAddr::new(VmId::ZERO, GRPC).to_string());
    // The host names the partition as its table does; the greeting names the host as
    // partition a sees it: its parent.
    let out = call(
        cmd(
            &f,
            "grpc_in_guest",
            None,
            &["call", "a:vsock:50051", "world"],
        ),
        "call from the host",
    );
    assert_eq!(
        out,
        format!(
            "hello world, this is {}\nyou are {}\n",
            hostname(),
            HvAddr::new(VmId::PARENT, GRPC)
        )
    );
}

#[test]
fn grpc_in_guest_server_on_the_host_tells_each_caller_its_id() {
    let f = fixture();
    let (_server, addr) = serve(cmd(
        &f,
        "grpc_in_guest",
        None,
        &["serve", "children:vsock:50051"],
    ));
    assert_eq!(addr, HvAddr::new(VmId::CHILDREN, GRPC).to_string());
    for (name, id) in [("a", A), ("b", B)] {
        let out = call(
            cmd(
                &f,
                "grpc_in_guest",
                Some(name),
                &["call", "parent:vsock:50051"],
            ),
            &format!("call from {name}"),
        );
        assert_eq!(
            out,
            format!(
                "hello host, this is {}\nyou are {}\n",
                hostname(),
                HvAddr::new(id, GRPC)
            ),
            "caller {name}"
        );
    }
    // Nothing serves partition a's port 50051: the client fails and says why.
    let out = limited::run(
        cmd(&f, "grpc_in_guest", None, &["call", "a:vsock:50051"]),
        b"",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing listens"), "{err}");
}

#[test]
fn http_on_host_answers_each_guest_with_its_own_id() {
    let f = fixture();
    let (_server, addr) = serve(cmd(&f, "http_on_host", None, &["serve"]));
    assert_eq!(addr, HvAddr::new(VmId::CHILDREN, HTTP).to_string());
    for (name, id) in [("a", A), ("b", B)] {
        let out = call(
            cmd(
                &f,
                "http_on_host",
                Some(name),
                &["call", "parent:vsock:8080", "/whoami"],
            ),
            &format!("whoami from {name}"),
        );
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({ "peer": HvAddr::new(id, HTTP).to_string(), "vm": name }),
            "{out}"
        );
    }
    let out = call(
        cmd(
            &f,
            "http_on_host",
            Some("a"),
            &["call", "parent:vsock:8080", "/echo", "ping over hvsock"],
        ),
        "POST /echo",
    );
    assert_eq!(out, "ping over hvsock\n");
    // A path the API does not have: the body is printed, the status makes it fail.
    let out = limited::run(
        cmd(
            &f,
            "http_on_host",
            Some("a"),
            &["call", "parent:vsock:8080", "/nope"],
        ),
        b"",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("404"), "{err}");
}

#[test]
fn http_on_host_server_in_a_partition_called_from_the_host() {
    let f = fixture();
    let (_server, _) = serve(cmd(
        &f,
        "http_on_host",
        Some("a"),
        &["serve", "any:vsock:8080"],
    ));
    let out = call(
        cmd(
            &f,
            "http_on_host",
            None,
            &["call", "a:vsock:8080", "/whoami"],
        ),
        "whoami from the host",
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // The host is a's parent; a's table (the same file) names no partition PARENT.
    assert_eq!(
        v,
        serde_json::json!({ "peer": HvAddr::new(VmId::PARENT, HTTP).to_string(), "vm": null }),
        "{out}"
    );
}
