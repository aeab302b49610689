//! `hvsock listen` with `--exec` and stdio: exchanges and half-close.

use super::*;

#[test]
fn exec_cat_between_partition_and_host() {
    let env = Env::new();
    // Partition a -> host: the host's command sees a's id in HVSOCK_PEER.
    let mut bg = env.listening("any:echo", &[], "echo \"peer=$HVSOCK_PEER\"; exec cat");
    let data = pattern(1, 300_000);
    let out = run(env.in_a(&["connect", "parent:echo"]), &data);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = format!("peer={}\n", env.a);
    assert_eq!(&out.stdout[..head.len()], head.as_bytes());
    assert!(out.stdout[head.len()..] == data[..], "echo differs");
    assert!(bg.wait_line("connection from").contains("a ("));
    let (st, stdout) = bg.finish();
    assert!(st.success(), "listen exits with the command's status");
    assert!(stdout.is_empty(), "listen printed {stdout:?}");

    // Host -> partition a: the partition's command sees the host as PARENT.
    let listen = env.in_a(&[
        "listen",
        "parent:echo",
        "-v",
        "-e",
        "sh",
        "-c",
        "echo \"peer=$HVSOCK_PEER\"; exec cat",
    ]);
    let (bg, _) = Bg::start(listen, None, "listening on");
    let out = run(env.cmd(&["connect", "a:echo"]), b"down\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("peer={}\ndown\n", VmId::PARENT)
    );
    assert!(bg.finish().0.success());
}

#[test]
fn half_close_lets_the_peer_answer_after_eof() {
    let env = Env::new();
    let bg = env.listening("loopback:echo", &[], "cat; echo done");
    let data = pattern(2, 1 << 20);
    let out = run(env.cmd(&["connect", "loopback:echo"]), &data);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut want = data.clone();
    want.extend_from_slice(b"done\n");
    assert!(out.stdout == want, "got {} bytes", out.stdout.len());
    // The exit status of the command is listen's.
    drop(bg);
    let bg = env.listening("loopback:echo", &[], "cat >/dev/null; exit 3");
    assert!(
        run(env.cmd(&["connect", "loopback:echo"]), b"x")
            .status
            .success()
    );
    assert_eq!(bg.finish().0.code(), Some(3));
}

#[test]
fn stdio_listen_and_connect_exchange_both_ways() {
    let env = Env::new();
    // Both sides send and end their stdin: each gets the other's bytes, both exit 0.
    let listen = env.in_a(&["listen", "parent:echo", "-v"]);
    let (bg, _) = Bg::start(listen, Some(b"pong".to_vec()), "listening on");
    let out = run(env.cmd(&["connect", "a:echo"]), b"ping");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"pong");
    let (st, stdout) = bg.finish();
    assert!(st.success());
    assert_eq!(stdout, b"ping");

    // --keep-open without --exec: connections one after another; stdin (empty here)
    // half-closes each at once.
    let listen = env.cmd(&["listen", "loopback:echo", "-k", "-v"]);
    let (mut bg, _) = Bg::start(listen, None, "listening on");
    for i in 0..3 {
        let msg = format!("message {i}\n");
        let out = run(env.cmd(&["connect", "loopback:echo"]), msg.as_bytes());
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        bg.wait_line("connection closed");
    }
    assert!(bg.is_running());
    let _ = bg.child.kill();
    let (_, stdout) = bg.finish();
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        "message 0\nmessage 1\nmessage 2\n"
    );
}
