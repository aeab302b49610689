//! `--wait` on `exec`, `shell` and `cp`: reaching an agent that starts after the
//! command did, and giving up after DUR.

use super::*;

#[test]
fn exec_and_cp_wait_for_an_agent_started_later() {
    let mut env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    let src = env.path("src.txt");
    std::fs::write(&src, b"copied once the agent is up\n").unwrap();
    let dst = env.path("dst.txt");
    let t = Instant::now();
    let exec = spawn_piped(env.cmd(&["exec", "vm1", "--wait", "20s", "--", "echo", "up"]));
    let cp = spawn_piped(env.cmd(&[
        "cp",
        "--wait",
        "20s",
        src.to_str().unwrap(),
        &format!("vm1:{}", dst.display()),
    ]));
    thread::sleep(Duration::from_secs(1));
    env.start_agent(&[]);
    let out = wait_output(exec);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "up\n");
    let out = wait_output(cp);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read(&dst).unwrap(), std::fs::read(&src).unwrap());
    assert!(t.elapsed() >= Duration::from_secs(1));
}

#[test]
fn exec_shell_and_cp_give_up_after_the_wait_with_the_agent_hint() {
    let env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    let dst = env.path("x");
    for args in [
        vec!["exec", "vm1", "--wait", "600ms", "--", "true"],
        vec!["shell", "vm1", "--wait", "600ms"],
        vec![
            "cp",
            "--wait",
            "600ms",
            "vm1:/etc/hostname",
            dst.to_str().unwrap(),
        ],
    ] {
        let t = Instant::now();
        let out = env.run(&args, b"");
        let e = stderr(&out);
        assert_ne!(code(&out), 0, "{args:?}");
        assert!(e.contains("gave up after waiting"), "{args:?}: {e}");
        assert!(e.contains("hvsock agent"), "{args:?}: {e}");
        assert!(t.elapsed() >= Duration::from_millis(590), "{args:?}");
    }
    // Without the service registered, waiting would not help: at once.
    let env = Env::bare();
    let t = Instant::now();
    let out = env.run(&["exec", "vm1", "--wait", "30s", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    assert_stderr_has(&out, "not registered");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}
