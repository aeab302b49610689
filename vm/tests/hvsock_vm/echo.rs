//! Steps: echoes host -> guest (library and CLI), guest -> host to wildcard and VM id, clients ending when the host closes.

use super::*;

/// Host -> guest with the library: `Context::connect((vm_id, S))`, echo, addresses.
pub(super) fn host_to_guest_library_echo(env: &Env) {
    let mut s = env.connect(ECHO);
    assert_eq!(s.peer_addr().unwrap(), HvAddr::new(VM_ID, ECHO));
    echo_check(&mut s, b"hello guest\n");
    let mut big = vec![0u8; 300_000];
    Gen::new(1).fill(&mut big);
    echo_check(&mut s, &big);
    // By name, through the host's registry and partition table.
    let mut t = env
        .host
        .connect(format!("{VM_NAME}:echo"))
        .expect("connect by name");
    assert_eq!(t.peer_addr().unwrap(), HvAddr::new(VM_ID, ECHO));
    echo_check(&mut t, b"by name");
    // Both connections are independent.
    echo_check(&mut s, b"first again");
}

/// Host -> guest with the CLI: `hvsock connect NAME:SERVICE` on stdin/stdout.
pub(super) fn host_to_guest_cli_echo(env: &Env) {
    let mut cli = env.cli();
    // The VM was added `--half-close lost` (the default): stdin's EOF is not sent, so
    // the connection stays open until the guest's `cat` ends, or the idle timeout.
    cli.args([
        "connect",
        &format!("{VM_NAME}:echo"),
        "--idle-timeout",
        "2s",
    ]);
    let mut child = hvsock_testkit::proc::spawn_piped(cli);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    for line in ["line one\n", "line two\n"] {
        stdin.write_all(line.as_bytes()).unwrap();
        assert_eq!(read_line(&mut stdout).unwrap(), line);
    }
    let mut block = vec![0u8; 100_000];
    Gen::new(2).fill(&mut block);
    stdin.write_all(&block).unwrap();
    let mut back = vec![0u8; block.len()];
    stdout.read_exact(&mut back).unwrap();
    assert!(back == block, "CLI echo differs");
    // After stdin's EOF the CLI waits for more of the answer, then exits normally.
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hvsock connect did not exit 2 s after stdin's EOF and the last answer");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let err = hvsock_testkit::proc::read_stderr(&mut child);
    assert!(status.success(), "{status}: {err}");
    assert!(rest.is_empty(), "extra output {rest:?}");
    assert_eq!(err, "");
}

/// Guest -> host: the guest's `hvsock connect parent:S` reaches a host listener bound
/// to the wildcard, then one bound to the VM's id; the peer is the VM's id.
pub(super) fn guest_to_host_wildcard_and_vm_id(env: &Env) {
    for (bind, guest_svc) in [
        (VmId::ZERO, format!("vsock:{}", BACK.port())),
        (VM_ID, BACK.to_string()),
    ] {
        let l = env.host.bind((bind, BACK)).unwrap();
        let msg = format!("hello host, listening on {bind}");
        let (out, (peer, stream_peer, local, got)) = thread::scope(|sc| {
            let server = sc.spawn(|| {
                let (mut s, peer) =
                    accept_within(&l, Duration::from_secs(30)).expect("no guest connection");
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let mut got = vec![0u8; msg.len()];
                s.read_exact(&mut got).unwrap();
                s.write_all(b"ack:").unwrap();
                s.write_all(&got).unwrap();
                (
                    peer,
                    s.peer_addr().unwrap(),
                    s.local_addr().unwrap(),
                    String::from_utf8(got).unwrap(),
                )
            });
            let out = env.guest(&format!(
                "printf %s '{msg}' | hvsock connect parent:{guest_svc}"
            ));
            (out, server.join().unwrap())
        });
        assert!(out.success(), "{out:?}");
        assert_eq!(got, msg);
        assert_eq!(out.stdout_str(), format!("ack:{msg}"));
        assert_eq!(peer, HvAddr::new(VM_ID, BACK), "bound to {bind}");
        assert_eq!(stream_peer.vm_id, VM_ID);
        assert_eq!(local, HvAddr::new(bind, BACK));
    }
}

/// Many guest clients at once (`hvsock connect parent:S`, 16 in parallel, several
/// rounds): each sends, the host answers and closes; every client must print the
/// answer and exit 0, whatever the order of the host's close and the client's
/// half-close at its stdin's EOF.
pub(super) fn guest_clients_end_cleanly_when_the_host_closes(env: &Env) {
    let (clients, rounds) = (PARALLEL, 2);
    let l = env.host.bind((VM_ID, BACK)).unwrap();
    let out = thread::scope(|sc| {
        let server = sc.spawn(|| {
            for _ in 0..clients * rounds {
                let (s, _) = accept_within(&l, Duration::from_secs(60)).expect("no guest");
                sc.spawn(move || {
                    let mut s = s;
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    let mut b = [0u8; 4];
                    s.read_exact(&mut b).unwrap();
                    s.write_all(b"pong").unwrap();
                });
            }
        });
        let out = env.guest(&format!(
            "cd /tmp; for c in $(seq {clients}); do ( for i in $(seq {rounds}); do \
             printf ping | hvsock connect parent:vsock:{} > c.$c.$i 2>&1; \
             echo \" exit=$?\" >> c.$c.$i; done ) & done; wait; \
             for f in c.*; do echo \"$(tr '\\n' ' ' < $f)\"; done; rm -f c.*",
            BACK.port()
        ));
        server.join().unwrap();
        out
    });
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    assert_eq!(lines.len(), clients * rounds, "{text}");
    let bad: Vec<&str> = lines.into_iter().filter(|l| *l != "pong exit=0").collect();
    assert!(
        bad.is_empty(),
        "{} of {} clients failed: {bad:?}",
        bad.len(),
        clients * rounds
    );
}
