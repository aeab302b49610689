//! `hvsock connect --wait`: waits for a listener that is not there yet, fails at once
//! on what waiting cannot fix.

use super::*;
use std::time::{Duration, Instant};

#[test]
fn connect_wait_reaches_a_listener_started_later() {
    let env = Env::new();
    let t = Instant::now();
    let mut c = common::spawn_piped(env.in_a(&["connect", "--wait", "10s", "parent:echo"]));
    let mut stdin = c.stdin.take().unwrap();
    thread::sleep(Duration::from_secs(1));
    assert!(
        c.try_wait().unwrap().is_none(),
        "gave up before the listener came"
    );
    let _bg = env.listening("children:echo", &[], "cat");
    stdin.write_all(b"late hello").unwrap();
    drop(stdin);
    let out = wait_output(c);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, b"late hello");
    assert!(t.elapsed() >= Duration::from_secs(1));
}

#[test]
fn connect_without_wait_fails_at_once() {
    let env = Env::new();
    let t = Instant::now();
    let err = one_error_line(&run(env.in_a(&["connect", "parent:echo"]), b""));
    assert!(err.contains("nothing listens"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn connect_wait_gives_up_after_dur_and_not_on_permanent_errors() {
    let env = Env::new();
    let t = Instant::now();
    let err = one_error_line(&run(
        env.in_a(&["connect", "--wait", "800ms", "parent:echo"]),
        b"",
    ));
    let took = t.elapsed();
    assert!(err.contains("gave up after waiting"), "{err}");
    assert!(err.contains("nothing listens"), "{err}");
    assert!(took >= Duration::from_millis(790), "{took:?}");
    // Unregistered, or an unknown VM: waiting would not change it.
    let t = Instant::now();
    let err = one_error_line(&run(
        env.cmd(&["connect", "--wait", "30s", "a:vsock:6000"]),
        b"",
    ));
    assert!(err.contains("not registered"), "{err}");
    let err = one_error_line(&run(
        env.cmd(&["connect", "--wait", "30s", "nosuchvm:echo"]),
        b"",
    ));
    assert!(err.contains("unknown VM"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // A bad duration is a usage error.
    let out = run(env.cmd(&["connect", "--wait", "soon", "a:echo"]), b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
