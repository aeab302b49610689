//! `hvsock agent` itself: session limit, `install-service`, `--any` and `--copy-root`.

use super::*;

#[test]
fn agent_answers_busy_beyond_max_concurrent() {
    let env = Env::with_agent(&["--max-concurrent", "1"]);
    let mut first = spawn_with(
        env.cmd(&["exec", "vm1", "--", "sh", "-c", "echo up; cat"]),
        [Stdio::piped(), Stdio::piped(), Stdio::null()],
    );
    let line = read_line(first.stdout.as_mut().unwrap());
    assert_eq!(line, "up\n");
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    assert_stderr_has(&out, "maximum of 1");
    drop(first.stdin.take());
    assert!(wait_limit(&mut first).success());
    // The slot is free again.
    assert_eq!(code(&env.run(&["exec", "vm1", "--", "true"], b"")), 0);
}

#[test]
fn install_service_is_idempotent_and_agent_refuses_the_host() {
    let env = Env::bare();
    let out = env.ok(&["agent", "--install-service"]);
    assert!(
        out.contains("registered") && out.contains("00004856-facb-11e6-bd58-64006a7986d3"),
        "{out}"
    );
    let out = env.ok(&["agent", "--install-service"]);
    assert!(out.starts_with("already registered"), "{out}");
    let list = env.ok(&["service", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "hvsock agent");
    assert_eq!(v[0]["vsock_port"], 18518);
    // On the host, serving "the parent" makes no sense: a clear error.
    let out = env.run(&["agent"], b"");
    assert_eq!(code(&out), 1);
    assert_stderr_has(&out, "HVSOCK_PARTITION");
    let help = env.ok(&["agent", "--help"]);
    assert!(help.contains("dist/systemd/hvsock-agent.service"), "{help}");
}

#[test]
fn agent_any_and_copy_root() {
    let mut env = Env::with_agent(&[]);
    let in_vm1 = |env: &Env, args: &[&str]| {
        let mut c = env.cmd(args);
        c.env("HVSOCK_PARTITION", "vm1");
        run(c, b"")
    };
    // By default only the parent gets in: not even vm1 itself over LOOPBACK.
    let out = in_vm1(&env, &["exec", "loopback", "--", "true"]);
    assert_eq!(code(&out), 255, "{}", stderr(&out));

    // --any binds ZERO; --copy-root confines copies.
    env.agent = None;
    let root = env.path("root");
    std::fs::create_dir(&root).unwrap();
    env.start_agent(&["--any", "--copy-root", root.to_str().unwrap()]);
    let out = in_vm1(&env, &["exec", "loopback", "--", "echo", "hi"]);
    assert_eq!((code(&out), stdout(&out)), (0, "hi\n".to_string()));
    let src = env.path("f.txt");
    std::fs::write(&src, b"confined").unwrap();
    let out = env.run(&["cp", src.to_str().unwrap(), "vm1:rel.txt"], b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read(root.join("rel.txt")).unwrap(), b"confined");
    for outside in ["vm1:../escape.txt", "vm1:/tmp/escape.txt"] {
        let out = env.run(&["cp", src.to_str().unwrap(), outside], b"");
        assert_eq!(code(&out), 1, "{outside}");
        assert!(
            stderr(&out).starts_with("hvsock: agent: "),
            "{}",
            stderr(&out)
        );
    }
    assert!(!env.path("escape.txt").exists());
    // Not a directory: the agent refuses to start, with one line.
    let out = env.run(&["agent", "--any", "--copy-root", "/no/such/dir"], b"");
    assert_eq!(code(&out), 1);
    assert_stderr_has(&out, "--copy-root /no/such/dir");
}

#[test]
fn agent_serves_the_socket_systemd_passed() {
    use std::os::unix::fs::DirBuilderExt;
    let mut env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    // What hvsock-agent.socket would hold, for vm1 (a local partition: a Unix socket).
    let ctx = Context::local(env.dirs(), "vm1").unwrap();
    let path = hvsock::activation::socket_path(&ctx, (VmId::PARENT, SERVICE_ID))
        .unwrap()
        .unwrap();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path.parent().unwrap())
        .unwrap();
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    // systemd's way: the socket at fd 3, LISTEN_PID the agent's own pid.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("exec 3<&0 </dev/null; LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=hvsock-agent.socket exec \"$@\"")
        .arg("sh")
        .arg(BIN)
        .args(["agent", "--systemd", "-v"])
        .env("HVSOCK_CONFIG_DIR", &env.cfg)
        .env("HVSOCK_RUNTIME_DIR", &env.run)
        .env("HVSOCK_PARTITION", "vm1")
        .env_remove("HVSOCK_GUEST")
        .current_dir(env.tmp.path())
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(listener)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (log, rx) = common::collect_lines(child.stderr.take().unwrap());
    let agent = Agent { child, log };
    match rx.recv_timeout(LIMIT) {
        Ok(line) if line.contains("serving") => {}
        other => panic!("agent did not start: {other:?}; log: {}", agent.log()),
    }
    env.agent = Some(agent);
    // Commands run, and do not see systemd's variables (cleared once taken).
    let out = env.run(
        &[
            "exec",
            "vm1",
            "--",
            "sh",
            "-c",
            "echo \"hi ${LISTEN_FDS-unset} ${LISTEN_PID-unset}\"",
        ],
        b"",
    );
    assert_eq!(
        (code(&out), stdout(&out)),
        (0, "hi unset unset\n".to_string()),
        "{}",
        stderr(&out)
    );
    assert!(env.agent_alive());
}
