//! Steps: where hvsock meets its users' tools in a real guest: the `grpc_in_guest`
//! example's server called from the host, and the agent started the systemd way
//! (socket activation over AF_VSOCK, emulated: the guest has no systemd).

use super::*;

/// The `grpc_in_guest` example's default service (`any:vsock:50051`).
pub(super) const GREETER: ServiceId = ServiceId::from_vsock_port(50051);
/// The agent's service (`hvsock_agent::VSOCK_PORT`).
const AGENT_PORT: u32 = 18518;

/// Runs a host command to its end (bounded: TCG is slow); it must succeed. Returns its
/// stdout.
fn host_ok(mut c: Command, what: &str) -> String {
    c.stdin(Stdio::null());
    let out = hvsock_testkit::proc::wait_output(
        hvsock_testkit::proc::spawn_piped(c),
        Duration::from_secs(120),
    );
    hvsock_testkit::proc::assert_success(&out, what);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The example's gRPC server in the guest (AF_VSOCK), its client on the host through
/// the VM's hybrid vsock socket: the greeting names the guest, and tells the host
/// what the guest's transport says the caller is (PARENT).
pub(super) fn grpc_example_server_in_the_guest(env: &Env) {
    let pid = env
        .vm
        .spawn("exec grpc_in_guest serve > /tmp/grpc.log 2>&1")
        .expect("spawn the guest's gRPC server");
    let _server = GuestProc { vm: &env.vm, pid };
    env.vm
        .wait_port(GREETER.port(), Duration::from_secs(60))
        .expect("gRPC server listening in the guest");
    let guest_name = env.guest("cat /proc/sys/kernel/hostname").stdout_str();
    let mut call = Command::new(&env.grpc_example);
    call.args(["call", &format!("{VM_NAME}:vsock:50051"), "world"])
        .env("HVSOCK_CONFIG_DIR", &env.dirs.config)
        .env("HVSOCK_RUNTIME_DIR", &env.dirs.runtime)
        .env_remove("HVSOCK_GUEST")
        .env_remove("HVSOCK_PARTITION");
    let t = Instant::now();
    let out = host_ok(call, "grpc_in_guest call");
    eprintln!(
        "FIGURE grpc_in_guest call (connect + one unary call): {:?}",
        t.elapsed()
    );
    assert_eq!(
        out,
        format!(
            "hello world, this is {}\nyou are {}\n",
            guest_name.trim(),
            HvAddr::new(VmId::PARENT, GREETER)
        )
    );
    // Read after the call, which the server answered: it printed this before serving.
    let log = env.guest("cat /tmp/grpc.log").stdout_str();
    assert_eq!(
        log,
        format!("listening on {}\n", HvAddr::new(VmId::ZERO, GREETER))
    );
}

/// `hvsock agent --systemd` in the guest, given its AF_VSOCK listener the way systemd's
/// `hvsock-agent.socket` does (`vm-guest systemd`: bound and listening before the
/// agent runs, fd 3, `LISTEN_FDS=1`, `LISTEN_PID` = the agent's pid), reached from the
/// host with `hvsock exec`. The agent cannot have bound the port itself: the passed
/// socket holds it.
pub(super) fn agent_socket_activated_in_the_guest(env: &Env) {
    // Key authentication, the agent's default: the host's throw-away key goes into the
    // guest agent's authorized_keys first.
    env.cli_ok(&["key", "generate", "--force"]);
    let key_line = env.cli_ok(&["key", "show"]).trim().to_string();
    assert!(
        key_line.starts_with("hvsock-ed25519 ") && !key_line.contains('\''),
        "{key_line}"
    );
    let pid = env
        .vm
        .spawn(&format!(
            "mkdir -p /tmp/sd-config && echo '{key_line}' > /tmp/sd-config/authorized_keys; \
             export HVSOCK_CONFIG_DIR=/tmp/sd-config HVSOCK_RUNTIME_DIR=/tmp/sd-run; \
             exec {GUEST_HELPER} systemd {AGENT_PORT} hvsock agent --systemd -v \
             > /tmp/sd-agent.log 2>&1"
        ))
        .expect("spawn the socket-activated agent");
    let _agent = GuestProc { vm: &env.vm, pid };
    env.vm
        .wait_port(AGENT_PORT, Duration::from_secs(60))
        .expect("agent listening in the guest");
    // The host's registry gets the agent's service (once per registry).
    env.cli_ok(&["agent", "--install-service"]);
    let mut exec = env.cli();
    exec.args(["exec", VM_NAME, "--", "uname", "-s"]);
    assert_eq!(host_ok(exec, "hvsock exec uname"), "Linux\n");
    // The agent took the variables away from what it runs (and stays up for more).
    let mut exec = env.cli();
    exec.args([
        "exec",
        VM_NAME,
        "--",
        "sh",
        "-c",
        "echo \"${LISTEN_FDS-unset} ${LISTEN_PID-unset} $HVSOCK_GUEST\"",
    ]);
    assert_eq!(host_ok(exec, "hvsock exec sh"), "unset unset 1\n");
    let log = env.guest("cat /tmp/sd-agent.log").stdout_str();
    assert!(log.contains("connection from PARENT"), "{log}");
    assert!(log.contains("auth key,"), "{log}");
    assert!(!log.contains("cannot listen"), "{log}");
}
