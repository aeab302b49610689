//! Key authentication through the CLI: `hvsock key`, the agent's `--auth`, and the
//! client's refusals (unknown key, changed agent key, another user).

use super::*;

#[test]
fn key_generate_writes_a_private_file_and_show_prints_its_line() {
    let env = Env::bare();
    let f = env.cfg.join("identity");
    let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let line = env.ok(&["key", "show"]);
    assert!(line.starts_with("hvsock-ed25519 "), "{line}");
    assert_eq!(
        std::fs::read_to_string(env.cfg.join("authorized_keys")).unwrap(),
        line
    );
    // No silent replacement.
    let out = env.run(&["key", "generate"], b"");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(env.ok(&["key", "show"]), line);
    env.ok(&["key", "generate", "--force"]);
    assert_ne!(env.ok(&["key", "show"]), line);
}

#[test]
fn an_unauthorized_key_and_another_user_are_refused() {
    let env = Env::with_agent(&[]);
    assert_eq!(code(&env.run(&["exec", "vm1", "--", "true"], b"")), 0);
    // A user that does not exist: said clearly.
    let out = env.run(
        &["exec", "vm1", "--user", "no-such-user-hv", "--", "true"],
        b"",
    );
    assert_eq!(code(&out), 255);
    assert!(
        stderr(&out).contains("no such user: no-such-user-hv"),
        "{}",
        stderr(&out)
    );
    // Another user than the agent's, with a key authorized for the agent's user only
    // (the authorized_keys line has no user=): refused by a root agent for the key, by
    // another agent because it can serve only itself.
    let out = env.run(&["exec", "vm1", "--user", "nobody", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    let want = if hvsock_testkit::users::is_root() {
        "is not authorized for user nobody"
    } else {
        "can only serve"
    };
    assert!(stderr(&out).contains(want), "{}", stderr(&out));
    // A key that is not in authorized_keys.
    let other = env.path("other-key");
    let gen_env = common::HostEnv::in_tmp("hvk");
    gen_env.ok(&["key", "generate"]);
    std::fs::copy(gen_env.cfg.join("identity"), &other).unwrap();
    let id = other.to_str().unwrap();
    let out = env.run(&["exec", "vm1", "--identity", id, "--", "true"], b"");
    assert_eq!(code(&out), 255);
    let e = stderr(&out);
    assert!(e.contains("is not authorized for user"), "{e}");
    assert!(
        env.agent_log().contains("not authorized"),
        "{}",
        env.agent_log()
    );
}

#[test]
fn a_changed_agent_key_is_refused_loudly() {
    let mut env = Env::with_agent(&[]);
    // First use pins the agent's key.
    assert_eq!(code(&env.run(&["exec", "vm1", "--", "true"], b"")), 0);
    let pins = std::fs::read_to_string(env.cfg.join("agent_keys")).unwrap();
    assert_eq!(pins.lines().count(), 1, "{pins}");
    // The agent gets a new host key.
    env.agent = None;
    std::fs::remove_file(env.cfg.join("host_key")).unwrap();
    env.start_agent(&[]);
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    let e = stderr(&out);
    assert!(
        e.contains("CHANGED") && e.contains("agent_keys line 1"),
        "{e}"
    );
    // --pin off goes through (the signature is still checked).
    let out = env.run(&["exec", "vm1", "--pin", "off", "--", "true"], b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn auth_none_warns_and_needs_no_key() {
    let mut env = Env::bare();
    std::fs::remove_file(env.cfg.join("identity")).unwrap();
    env.ok(&["agent", "--install-service"]);
    // Against the default (key), no key: the advice.
    env.start_agent(&[]);
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    assert!(
        stderr(&out).contains("hvsock key generate"),
        "{}",
        stderr(&out)
    );
    env.agent = None;
    env.start_agent(&["--auth", "none"]);
    assert!(
        env.agent_log().contains("WARNING: --auth none"),
        "{}",
        env.agent_log()
    );
    assert_eq!(code(&env.run(&["exec", "vm1", "--", "true"], b"")), 0);
}

#[test]
fn auth_modes_that_cannot_work_are_refused_at_start() {
    let env = Env::bare();
    // A PAM directory without the agent's service file: no password could ever pass.
    let pam = env.path("pam.d");
    std::fs::create_dir_all(&pam).unwrap();
    let out = env.run(
        &[
            "agent",
            "--any",
            "--auth",
            "password",
            "--pam-config-dir",
            pam.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("no PAM service file \"hvsock\""),
        "{}",
        stderr(&out)
    );
    // none with anything else is a contradiction; unknown names are usage errors.
    for bad in ["key,none", "kerberos"] {
        let out = env.run(&["agent", "--any", "--auth", bad], b"");
        assert_eq!(code(&out), 2, "{bad}: {}", stderr(&out));
    }
}

/// An agent with `--auth password`, checking with a PAM configuration of the test's own
/// (pam_unix), and a throw-away user with a password: the env, the user (removed on
/// drop) and its password. `None` (said why) unless root: creating the user needs it,
/// and pam_unix reads /etc/shadow.
pub(super) fn password_agent(test: &str) -> Option<(Env, hvsock_testkit::users::TestUser, String)> {
    let tu = hvsock_testkit::users::TestUser::create(test)?;
    let password = format!("pw-{}", hvsock_testkit::users::random_suffix());
    tu.set_password(&password);
    let mut env = Env::bare();
    env.ok(&["agent", "--install-service"]);
    let pam = env.path("pam.d");
    std::fs::create_dir_all(&pam).unwrap();
    std::fs::write(
        pam.join("hvsock"),
        "auth required pam_unix.so\naccount required pam_unix.so\n",
    )
    .unwrap();
    env.start_agent(&[
        "--auth",
        "password",
        "--pam-config-dir",
        pam.to_str().unwrap(),
    ]);
    Some((env, tu, password))
}

/// The right password runs the command as that user, in its home; a wrong one is
/// refused.
#[test]
fn password_authentication_through_pam_runs_as_the_user() {
    let Some((env, tu, password)) = password_agent("password_authentication_through_pam") else {
        return;
    };
    let user = tu.name.as_str();
    let argv = [
        "exec",
        "vm1",
        "--user",
        user,
        "--password-stdin",
        "--",
        "sh",
        "-c",
        "id -un; pwd",
    ];
    let out = env.run(&argv, format!("{password}\n").as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text, format!("{user}\n/home/{user}\n"));
    // A wrong password.
    let out = env.run(&argv, b"not-the-password\n");
    assert_eq!(code(&out), 255);
    assert!(
        stderr(&out).contains(&format!("password not accepted for user {user}")),
        "{}",
        stderr(&out)
    );
}

/// `--max-auth-failures`, `--auth-lockout`, `--auth-failure-delay`: after N failures
/// from a partition even the right key is refused, for the lockout's time.
#[test]
fn too_many_failures_lock_the_partition_out() {
    let env = Env::with_agent(&[
        "--max-auth-failures",
        "2",
        "--auth-lockout",
        "10m",
        "--auth-failure-delay",
        "10ms",
    ]);
    let other = env.path("other-key");
    let gen_env = common::HostEnv::in_tmp("hvk");
    gen_env.ok(&["key", "generate"]);
    std::fs::copy(gen_env.cfg.join("identity"), &other).unwrap();
    let id = other.to_str().unwrap();
    for _ in 0..2 {
        let out = env.run(&["exec", "vm1", "--identity", id, "--", "true"], b"");
        assert!(
            stderr(&out).contains("is not authorized"),
            "{}",
            stderr(&out)
        );
    }
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    assert!(
        stderr(&out).contains("too many failed authentications"),
        "{}",
        stderr(&out)
    );
}
