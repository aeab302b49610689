//! `hvsock cp`: large files both ways, errors, directory trees, interrupted copies.

use super::*;

#[test]
fn cp_100_mib_both_ways_with_hashes() {
    let env = Env::with_agent(&[]);
    let src = env.path("big.bin");
    std::fs::write(&src, pseudo_random(100 << 20, 42)).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o640)).unwrap();
    let want = sha256_file(&src);
    let vm_dir = env.path("vm");
    std::fs::create_dir(&vm_dir).unwrap();

    let t = Instant::now();
    let out = env.run(
        &[
            "cp",
            src.to_str().unwrap(),
            &format!("vm1:{}/", vm_dir.display()),
        ],
        b"",
    );
    let up = t.elapsed();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // No terminal: no progress bar, nothing on stderr.
    assert_eq!(stderr(&out), "");
    let remote = vm_dir.join("big.bin");
    assert_eq!(sha256_file(&remote), want);
    assert_eq!(mode(&remote), 0o640);

    let back = env.path("back.bin");
    let t = Instant::now();
    let out = env.run(
        &[
            "cp",
            &format!("vm1:{}", remote.display()),
            back.to_str().unwrap(),
        ],
        b"",
    );
    let down = t.elapsed();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(sha256_file(&back), want);
    assert_eq!(mode(&back), 0o640);
    eprintln!("cp 100 MiB: up {up:?}, down {down:?} (debug build)");

    // A local name with ':' is written ./a:b.
    let colon = env.path("a:b");
    std::fs::write(&colon, b"colon").unwrap();
    let out = env
        .cmd(&["cp", "./a:b", &format!("vm1:{}/", vm_dir.display())])
        .current_dir(env.tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(vm_dir.join("a:b")).unwrap(), b"colon");
}

#[test]
fn cp_errors_are_one_line_and_exit_1() {
    let env = Env::with_agent(&[]);
    let dir = env.path("d");
    std::fs::create_dir(&dir).unwrap();
    for (args, want) in [
        (
            vec!["cp", "vm1:/no/such/file", "x"],
            "No such file or directory",
        ),
        (vec!["cp", dir.to_str().unwrap(), "vm1:/tmp/x"], "use -r"),
        (vec!["cp", "a", "b"], "neither SRC nor DST"),
        (vec!["cp", "vm1:a", "vm1:b"], "both SRC and DST"),
        (vec!["cp", "/no/such/local", "vm1:/tmp/x"], "cannot read"),
    ] {
        let out = env.run(&args, b"");
        assert_eq!(code(&out), 1, "{args:?}");
        let e = stderr(&out);
        assert!(
            e.starts_with("hvsock: ") && e.contains(want),
            "{args:?}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    assert!(!env.path("x").exists());
}

#[test]
fn cp_directory_tree_keeps_modes() {
    let env = Env::with_agent(&[]);
    let tree = env.path("tree");
    std::fs::create_dir_all(tree.join("sub/deeper")).unwrap();
    std::fs::create_dir(tree.join("empty")).unwrap();
    std::fs::write(tree.join("top.txt"), b"top").unwrap();
    std::fs::write(tree.join("sub/run.sh"), b"#!/bin/sh\necho run\n").unwrap();
    std::fs::write(tree.join("sub/deeper/secret"), pseudo_random(300_000, 3)).unwrap();
    let modes = [
        ("top.txt", 0o644),
        ("sub/run.sh", 0o755),
        ("sub/deeper/secret", 0o600),
        ("sub/deeper", 0o700),
        ("sub", 0o751),
        ("empty", 0o750),
    ];
    for (p, m) in modes {
        std::fs::set_permissions(tree.join(p), std::fs::Permissions::from_mode(m)).unwrap();
    }
    let check = |root: &Path| {
        for (p, m) in modes {
            assert_eq!(mode(&root.join(p)), m, "{}", root.join(p).display());
        }
        for f in ["top.txt", "sub/run.sh", "sub/deeper/secret"] {
            assert_eq!(
                sha256_file(&root.join(f)),
                sha256_file(&tree.join(f)),
                "{f}"
            );
        }
    };
    // To the VM, as a new name.
    let remote = env.path("vm-tree");
    let out = env.run(
        &[
            "cp",
            "-r",
            tree.to_str().unwrap(),
            &format!("vm1:{}", remote.display()),
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    check(&remote);
    // Back, into an existing directory.
    let into = env.path("into");
    std::fs::create_dir(&into).unwrap();
    let out = env.run(
        &[
            "cp",
            "-R",
            &format!("vm1:{}", remote.display()),
            into.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    check(&into.join("vm-tree"));
    // Without -r: refused by the agent.
    let out = env.run(
        &[
            "cp",
            &format!("vm1:{}", remote.display()),
            env.path("no").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code(&out), 1);
    assert_stderr_has(&out, "-r");
}

/// Whether process `pid` has a file open in `dir`. A file being received shows up in
/// `/proc/PID/fd` even when it has no name in `dir` (`O_TMPFILE`).
fn has_file_open_in(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .any(|t| t.parent() == Some(dir))
}

/// Starts `hvsock cp`, waits until the receiver (the agent or `hvsock cp`) has a file
/// open in `watch`, then signals `hvsock cp`.
fn interrupt_cp(env: &Env, args: &[&str], watch: &Path, sig: i32) -> Output {
    let child = spawn_with(
        env.cmd(args),
        [Stdio::null(), Stdio::piped(), Stdio::piped()],
    );
    let watch = watch.canonicalize().unwrap();
    let agent = env.agent.as_ref().expect("an agent").child.id();
    wait_for("a file being received at the destination", || {
        [child.id(), agent]
            .into_iter()
            .any(|pid| has_file_open_in(pid, &watch))
    });
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::from_named_raw(sig).unwrap(),
    );
    wait_output(child)
}

#[test]
fn interrupted_copies_leave_nothing_at_the_destination() {
    let env = Env::with_agent(&[]);
    // Big and sparse: fast to make, long enough to copy that we catch it mid-way.
    let src = env.path("huge.bin");
    let f = std::fs::File::create(&src).unwrap();
    f.set_len(2 << 30).unwrap();
    drop(f);

    // Upload, `hvsock cp` killed outright: the agent drops the file it was receiving;
    // an old file at DST is untouched, a new one never appears.
    let agent = env.agent.as_ref().unwrap().child.id();
    let vm_dir = env.path("vm");
    std::fs::create_dir(&vm_dir).unwrap();
    let vm_dir = vm_dir.canonicalize().unwrap();
    let vm_keep = vm_dir.join("keep.bin");
    std::fs::write(&vm_keep, b"old").unwrap();
    for dst in [
        format!("vm1:{}/", vm_dir.display()),
        format!("vm1:{}", vm_keep.display()),
    ] {
        let out = interrupt_cp(
            &env,
            &["cp", src.to_str().unwrap(), &dst],
            &vm_dir,
            libc::SIGKILL,
        );
        assert!(!out.status.success());
        wait_for("the agent to drop the file it was receiving", || {
            !has_file_open_in(agent, &vm_dir)
        });
        assert_eq!(temp_files(&vm_dir), Vec::<String>::new());
        assert_eq!(std::fs::read(&vm_keep).unwrap(), b"old");
        assert!(!vm_dir.join("huge.bin").exists());
    }

    // Download, interrupted by SIGINT / SIGTERM: 128+N, no file, no temp file.
    let local = env.path("local");
    std::fs::create_dir(&local).unwrap();
    let from_vm1 = format!("vm1:{}", src.display());
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let out = interrupt_cp(
            &env,
            &["cp", &from_vm1, local.to_str().unwrap()],
            &local,
            sig,
        );
        assert_eq!(code(&out), 128 + sig, "{}", stderr(&out));
        assert_stderr_has(&out, "interrupted");
        assert_eq!(temp_files(&local), Vec::<String>::new());
        assert!(!local.join("huge.bin").exists());
    }
    // Download, `hvsock cp` killed outright: it cannot clean up, but the file it was
    // receiving had no name (O_TMPFILE, supported by the temp dir's filesystem), so
    // nothing is left; an old file at DST is untouched, a new one never appears.
    let keep = local.join("keep.bin");
    std::fs::write(&keep, b"old").unwrap();
    for dst in [&keep, &local] {
        let out = interrupt_cp(
            &env,
            &["cp", &from_vm1, dst.to_str().unwrap()],
            &local,
            libc::SIGKILL,
        );
        assert_eq!(out.status.signal(), Some(libc::SIGKILL));
        assert_eq!(temp_files(&local), Vec::<String>::new());
        assert_eq!(std::fs::read(&keep).unwrap(), b"old");
        assert!(!local.join("huge.bin").exists());
    }
}
