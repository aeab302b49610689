//! `hvsock exec`: exit codes, stdio, signals, killed clients.

use super::*;

#[test]
fn exec_exit_codes() {
    let env = Env::with_agent(&[]);
    let ex = |argv: &[&str]| {
        let mut args = vec!["exec", "vm1", "--"];
        args.extend_from_slice(argv);
        env.run(&args, b"")
    };
    assert_eq!(code(&ex(&["true"])), 0);
    assert_eq!(code(&ex(&["sh", "-c", "exit 3"])), 3);
    // Death by signal N is 128 + N.
    assert_eq!(code(&ex(&["sh", "-c", "kill -TERM $$"])), 143);
    assert_eq!(code(&ex(&["sh", "-c", "kill -KILL $$"])), 137);
    // Unknown command: 127 and one line saying so.
    let out = ex(&["no-such-command-hv"]);
    assert_eq!(code(&out), 127, "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.starts_with("hvsock: ") && e.contains("no-such-command-hv: command not found"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    // Not executable: 126.
    let script = env.path("noexec.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(code(&ex(&[script.to_str().unwrap()])), 126);
    // Without `--` too (CMD's options are its own).
    let out = env.run(&["exec", "vm1", "ls", "-d", "/"], b"");
    assert_eq!((code(&out), stdout(&out)), (0, "/\n".to_string()));
}

#[test]
fn exec_connection_errors_exit_255_with_one_line() {
    let env = Env::bare();
    // Registered, but no agent runs in vm1.
    env.ok(&["agent", "--install-service"]);
    let out = env.run(&["exec", "vm1", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    let e = stderr(&out);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("hvsock: cannot reach the agent in vm1") && e.contains("hvsock agent"),
        "{e}"
    );
    // An unknown VM.
    let out = env.run(&["exec", "nosuchvm", "--", "true"], b"");
    assert_eq!(code(&out), 255);
    assert_stderr_has(&out, "unknown VM \"nosuchvm\"");
    // Usage errors are clap's 2.
    let out = env.run(&["exec", "vm1"], b"");
    assert_eq!(code(&out), 2);
    // The help documents the exit codes.
    let help = env.ok(&["exec", "--help"]);
    for s in ["128+N", "127", "126", "255"] {
        assert!(help.contains(s), "exec --help lacks {s}");
    }
}

#[test]
fn exec_separates_stdout_and_stderr_and_passes_env_and_cwd() {
    let env = Env::with_agent(&[]);
    let out = env.run(
        &[
            "exec",
            "vm1",
            "--",
            "sh",
            "-c",
            "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 5",
        ],
        b"",
    );
    assert_eq!(code(&out), 5);
    assert_eq!(stdout(&out), "out1\nout2\n");
    assert_eq!(stderr(&out), "err1\nerr2\n");

    let dir = env.path("work dir");
    std::fs::create_dir(&dir).unwrap();
    let out = env.run(
        &[
            "exec",
            "vm1",
            "--env",
            "GREETING=hello world",
            "-e",
            "EMPTY=",
            "--cwd",
            dir.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s\\n' \"$GREETING\" \"${EMPTY-unset}\" \"$(pwd)\"",
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("hello world||{}\n", dir.canonicalize().unwrap().display())
    );
    // A missing cwd is an error of the request, not of the connection.
    let out = env.run(&["exec", "vm1", "--cwd", "/no/such/dir", "--", "true"], b"");
    assert_ne!(code(&out), 0);
    assert_stderr_has(&out, "/no/such/dir");
}

#[test]
fn exec_streams_large_stdin_and_live_lines() {
    let env = Env::with_agent(&[]);
    // 20 MiB through `sha256sum` in the VM.
    let data = pseudo_random(20 << 20, 7);
    let out = env.run(&["exec", "vm1", "--", "sha256sum"], &data);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out).split_whitespace().next().unwrap(),
        sha256_hex(&data)
    );
    // Live: each line comes back before stdin ends; EOF ends `cat`.
    let mut child = spawn_piped(env.cmd(&["exec", "vm1", "--", "cat"]));
    let mut w = child.stdin.take().unwrap();
    let mut r = BufReader::new(child.stdout.take().unwrap());
    for i in 0..3 {
        writeln!(w, "line {i}").unwrap();
        w.flush().unwrap();
        let mut got = String::new();
        r.read_line(&mut got).unwrap();
        assert_eq!(got, format!("line {i}\n"));
    }
    drop(w);
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
    assert!(wait_limit(&mut child).success());
}

#[test]
fn exec_ends_quietly_when_its_stdout_closes() {
    let env = Env::with_agent(&[]);
    // `hvsock exec vm1 -- yes | head -1`: the reader goes away, so does `yes`.
    let mut child = spawn_with(
        env.cmd(&["exec", "vm1", "--", "yes"]),
        [Stdio::null(), Stdio::piped(), Stdio::piped()],
    );
    let line = read_line(child.stdout.take().unwrap());
    assert_eq!(line, "y\n");
    let err = read_stderr(&mut child);
    assert_eq!(wait_limit(&mut child).code(), Some(141));
    assert_eq!(err, "");
    // The agent saw the client go and ended `yes` (whether it noticed by reading or by
    // writing to the closed connection).
    let start = Instant::now();
    while !env.agent_log().contains("client disconnected") {
        assert!(
            start.elapsed() < LIMIT,
            "the agent did not end the request; its log:\n{}",
            env.agent_log()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn exec_forwards_signals_to_the_remote_command() {
    let env = Env::with_agent(&[]);
    let script = "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done";
    let mut child = spawn_piped(env.cmd(&["exec", "vm1", "--", "sh", "-c", script]));
    let mut r = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    );
    let mut rest = String::new();
    r.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(wait_limit(&mut child).code(), Some(7));
}

/// `head -c 100M /dev/zero | hvsock exec vm1 -- sleep 40`: `sleep` writes its pid to
/// `pidfile` and never reads. Returns the client and the remote pid.
fn exec_with_flooded_stdin(env: &Env, pidfile: &Path) -> (Child, i32) {
    let script = format!("echo $$ > {}; exec sleep 40", pidfile.display());
    let mut child = spawn_with(
        env.cmd(&["exec", "vm1", "--", "sh", "-c", &script]),
        [Stdio::piped(), Stdio::null(), Stdio::piped()],
    );
    let mut stdin = child.stdin.take().unwrap();
    thread::spawn(move || {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..100 {
            if stdin.write_all(&zeros).is_err() {
                break;
            }
        }
    });
    wait_for("the remote pid", || {
        std::fs::read_to_string(pidfile).is_ok_and(|s| s.ends_with('\n'))
    });
    let pid = std::fs::read_to_string(pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (child, pid)
}

#[test]
fn exec_with_a_full_stdin_still_forwards_signals() {
    let env = Env::with_agent(&[]);
    for (sig, want) in [
        (libc::SIGTERM, 143),
        (libc::SIGINT, 130),
        (libc::SIGHUP, 129),
    ] {
        let pidfile = env.path(&format!("pid-{sig}"));
        let (mut child, pid) = exec_with_flooded_stdin(&env, &pidfile);
        // Let the flood fill every buffer on the way.
        thread::sleep(Duration::from_millis(300));
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
            rustix::process::Signal::from_named_raw(sig).unwrap(),
        );
        assert_eq!(wait_limit(&mut child).code(), Some(want), "signal {sig}");
        wait_for("the remote sleep to end", || {
            hvsock_testkit::proc::ended(pid)
        });
    }
}

#[test]
fn killed_exec_client_ends_the_remote_command_and_frees_its_slot() {
    let env = Env::with_agent(&["--max-concurrent", "1"]);
    let pidfile = env.path("pid");
    let (mut child, pid) = exec_with_flooded_stdin(&env, &pidfile);
    thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let _ = child.wait();
    wait_for("the remote sleep to end", || {
        hvsock_testkit::proc::ended(pid)
    });
    // The only slot is free again.
    let out = env.run(&["exec", "vm1", "--", "echo", "next"], b"");
    assert_eq!(
        (code(&out), stdout(&out)),
        (0, "next\n".to_string()),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stopping_the_agent_ends_its_sessions_background_jobs_too() {
    let mut env = Env::with_agent(&[]);
    let job = env.path("job");
    // A job in its own process group that ignores SIGHUP, and the command itself.
    let script = format!(
        "perl -e '$SIG{{HUP}} = \"IGNORE\"; setpgrp(0, 0); exec \"sleep\", 85' & \
         echo $! > {}; echo $$; sleep 100",
        job.display()
    );
    let mut child = spawn_with(
        env.cmd(&["exec", "vm1", "--", "sh", "-c", &script]),
        [Stdio::piped(), Stdio::piped(), Stdio::null()],
    );
    let line = read_line(child.stdout.take().unwrap());
    let sh: i32 = line.trim().parse().unwrap();
    wait_for("the job's pid", || {
        std::fs::read_to_string(&job).is_ok_and(|s| s.ends_with('\n'))
    });
    let job: i32 = std::fs::read_to_string(&job)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for("the job to exec sleep", || {
        std::fs::read_to_string(format!("/proc/{job}/comm")).is_ok_and(|c| c == "sleep\n")
    });
    // SIGTERM to the agent (its Drop), which ends every session it serves.
    drop(env.agent.take());
    for pid in [sh, job] {
        wait_for("the session's processes to end", || {
            hvsock_testkit::proc::ended(pid)
        });
    }
    assert_eq!(wait_limit(&mut child).code(), Some(255));
}
