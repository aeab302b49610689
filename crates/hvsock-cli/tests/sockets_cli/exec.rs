//! `listen --exec --keep-open`: concurrent children, and what each child inherits.

use super::*;

#[test]
fn keep_open_exec_serves_connections_concurrently() {
    let env = Env::new();
    let mut bg = env.listening(
        "any:echo",
        &["--keep-open"],
        "read line; echo \"$line from $HVSOCK_PEER\"",
    );
    // A first connection stays open, its command waiting for a line ...
    let mut first = common::spawn_piped(env.cmd(&["connect", "loopback:echo"]));
    let mut first_in: ChildStdin = first.stdin.take().unwrap();
    bg.wait_line("connection from LOOPBACK");
    // ... while others are served, from the host and from the partition.
    let others: Vec<_> = (0..6)
        .map(|i| {
            let c = if i % 2 == 0 {
                env.cmd(&["connect", "loopback:echo"])
            } else {
                env.in_a(&["connect", "parent:echo"])
            };
            thread::spawn(move || (i, run(c, format!("hello {i}\n").as_bytes())))
        })
        .collect();
    for h in others {
        let (i, out) = h.join().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let from = if i % 2 == 0 {
            VmId::LOOPBACK.to_string()
        } else {
            env.a.to_string()
        };
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("hello {i} from {from}\n")
        );
    }
    first_in.write_all(b"first\n").unwrap();
    drop(first_in);
    let out = wait_output(first);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("first from {}\n", VmId::LOOPBACK)
    );
    assert!(bg.is_running(), "--keep-open keeps listening");
}

#[test]
fn exec_child_gets_the_socket_itself_and_nothing_else() {
    let env = Env::new();
    let bg = env.listening(
        "any:echo",
        &[],
        "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done",
    );
    let out = run(env.in_a(&["connect", "parent:echo"]), b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let fds: Vec<(u32, String)> = text
        .lines()
        .map(|l| {
            let (n, target) = l.split_once(' ').unwrap();
            (n.parse().unwrap(), target.to_string())
        })
        .collect();
    let target = |n: u32| fds.iter().find(|(f, _)| *f == n).map(|(_, t)| t.clone());
    // stdin and stdout are one socket (no pipes in between).
    let sock = target(0).unwrap();
    assert!(sock.starts_with("socket:"), "{text}");
    assert_eq!(target(1), Some(sock.clone()), "{text}");
    // The listener's own descriptors (epoll set, sockets, lock files) stay behind.
    for (n, t) in &fds {
        if *n > 2 && t != &sock {
            assert!(
                !t.starts_with("socket:") && !t.contains("eventpoll") && !t.ends_with(".lock"),
                "fd {n} -> {t} leaked into the command:\n{text}"
            );
        }
    }
    assert!(bg.finish().0.success());
}
