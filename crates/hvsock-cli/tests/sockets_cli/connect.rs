//! `hvsock connect` errors: nothing listening, unregistered or disabled services.

use super::*;

#[test]
fn connect_to_nothing_fails_at_once_with_one_line() {
    let env = Env::new();
    // A long timeout: refusal must not wait for it (the run is killed after LIMIT).
    let out = run(
        env.cmd(&["connect", "loopback:vsock:7777", "--timeout", "5m"]),
        b"",
    );
    let err = one_error_line(&out);
    assert!(err.contains("nothing listens"), "{err}");
    let out = run(
        env.in_a(&["connect", "parent:echo", "--timeout", "60s"]),
        b"",
    );
    let err = one_error_line(&out);
    assert!(err.contains("nothing listens"), "{err}");
    // Unknown names.
    let err = one_error_line(&run(env.cmd(&["connect", "nosuchvm:echo"]), b""));
    assert!(err.contains("unknown VM \"nosuchvm\""), "{err}");
    let err = one_error_line(&run(env.cmd(&["connect", "a:nosuch"]), b""));
    assert!(err.contains("unknown service \"nosuch\""), "{err}");
    // A wildcard is no target.
    let err = one_error_line(&run(env.cmd(&["connect", "any:echo"]), b""));
    assert!(err.contains("cannot connect to"), "{err}");
}

#[test]
fn unregistered_or_disabled_service_is_permission_denied() {
    let env = Env::new();
    let unreg = ServiceId::from_vsock_port(6000);
    let err = one_error_line(&run(env.cmd(&["connect", "a:vsock:6000"]), b""));
    assert!(err.contains("not registered"), "{err}");
    assert!(
        err.contains(&format!("hvsock service add NAME --id {unreg}")),
        "{err}"
    );
    let err = one_error_line(&run(env.cmd(&["listen", "any:vsock:6000"]), b""));
    assert!(err.contains("not registered"), "{err}");
    assert!(err.contains("hvsock service add"), "{err}");
    // Loopback needs no registration.
    let listen = env.cmd(&["listen", "loopback:vsock:6000", "-v", "-e", "cat"]);
    let (_bg, _) = Bg::start(listen, None, "listening on");
    let out = run(env.cmd(&["connect", "loopback:vsock:6000"]), b"ok");
    assert_eq!(out.stdout, b"ok", "{}", stderr(&out));
    // A disabled service.
    env.ok(&["service", "disable", "echo"]);
    let err = one_error_line(&run(env.cmd(&["listen", "children:echo"]), b""));
    assert!(
        err.contains("disabled") && err.contains("hvsock service enable"),
        "{err}"
    );
}
