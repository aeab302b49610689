//! The agent's audit line: one per session, with who (peer, user, method), what ran, its
//! exit code and the bytes, in both log formats.

use super::*;

/// The agent's JSON log lines of target `hvsock::audit`, once there are `n` of them.
fn audit_lines(env: &Env, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let lines: Vec<serde_json::Value> = env
            .agent_log()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["target"] == "hvsock::audit")
            .collect();
        if lines.len() >= n || std::time::Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn every_session_gets_an_audit_line_with_user_command_exit_code_and_bytes() {
    let env = Env::with_agent(&["--log-format", "json"]);
    let out = env.run(&["exec", "vm1", "--", "sh", "-c", "echo hi; exit 3"], b"");
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    // A refused one: a user that does not exist.
    let out = env.run(
        &["exec", "vm1", "--user", "no-such-user-hv", "--", "true"],
        b"",
    );
    assert_eq!(code(&out), 255);
    let lines = audit_lines(&env, 2);
    assert_eq!(lines.len(), 2, "{}", env.agent_log());
    let (ok, refused) = (&lines[0]["fields"], &lines[1]["fields"]);
    assert_eq!(ok["message"], "session");
    let own = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    assert_eq!(ok["user"], own.trim());
    assert_eq!(ok["method"], "key");
    assert_eq!(ok["activity"], "exec: sh -c \"echo hi; exit 3\"");
    assert_eq!(ok["exit_code"], 3);
    // The request and the output went through the connection.
    assert!(ok["bytes_in"].as_u64().unwrap() > 20, "{ok}");
    assert!(ok["bytes_out"].as_u64().unwrap() > 3, "{ok}");
    // The peer is the partition the transport names: the host, as the local partition
    // vm1 sees it.
    assert_eq!(ok["peer_name"], "PARENT", "{ok}");
    assert!(ok.get("error").is_none(), "{ok}");
    // Nothing ran for the refused one, and it says why.
    assert_eq!(refused["activity"], "(nothing ran)");
    // ... and who asked, as they asked.
    assert_eq!(refused["user"], "no-such-user-hv");
    assert_eq!(refused["method"], "key");
    assert!(refused.get("exit_code").is_none(), "{refused}");
    let why = refused["error"].as_str().unwrap();
    assert!(why.contains("no such user: no-such-user-hv"), "{why}");
}

#[test]
fn audit_lines_are_on_by_default_and_off_with_quiet() {
    // Without -v (the test agents run with it): the default filter still has them.
    let mut env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    env.start_agent_with(&["agent"]);
    assert_eq!(code(&env.run(&["exec", "vm1", "--", "true"], b"")), 0);
    let deadline = std::time::Instant::now() + LIMIT;
    while !env.agent_log().contains("hvsock::audit") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = env.agent_log();
    assert!(
        log.contains("hvsock::audit")
            && log.contains("activity=exec: true")
            && log.contains("exit_code=0"),
        "{log}"
    );
    env.agent = None;
    // -q: errors only.
    env.start_agent_with(&["-q", "agent"]);
    assert_eq!(code(&env.run(&["exec", "vm1", "--", "true"], b"")), 0);
    // The session is over when exec returns; give the agent the time the first part
    // needed to log, then check that nothing came.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        !env.agent_log().contains("hvsock::audit"),
        "{}",
        env.agent_log()
    );
}
