//! Command-line surface: usage errors, help text, `--config-dir`.

use super::*;

#[test]
fn bad_syntax_is_a_usage_error() {
    let env = Env::new();
    let usage = |args: &[&str], needle: &str| {
        let out = run(env.cmd(args), b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    };
    let to = "hvsock:loopback:echo";
    usage(
        &["relay", "udp:1.2.3.4:5", to],
        "tcp:HOST:PORT, unix:PATH or hvsock:VM:SERVICE",
    );
    usage(&["relay", "/tmp/x.sock", to], "not an endpoint");
    usage(&["relay", "tcp:127.0.0.1", to], "tcp:HOST:PORT");
    usage(
        &["relay", "tcp:127.0.0.1:70000", to],
        "PORT must be a number",
    );
    usage(&["relay", "tcp::80", to], "HOST");
    usage(&["relay", "unix:", to], "PATH");
    usage(&["relay", "tcp:127.0.0.1:0", "hvsock:parent"], "VM:SERVICE");
    usage(&["relay", "tcp:127.0.0.1:0"], "TO");
    usage(
        &["connect", "loopback:echo", "--timeout", "5x"],
        "not a duration",
    );
    usage(
        &["connect", "loopback:echo", "--timeout", "301s"],
        "at most 300s",
    );
    usage(
        &["connect", "loopback:echo", "--timeout", "0ms"],
        "more than 0",
    );
    usage(&["listen"], "ADDR");
    usage(&["listen", "loopback:echo", "--exec"], "CMD");
    // Address text that parses as a command line but not as an address: exit 1.
    let err = one_error_line(&run(env.cmd(&["connect", "nocolon"]), b""));
    assert!(err.contains("VM:SERVICE"), "{err}");
    // Names in an hvsock endpoint are looked up when the relay starts.
    let err = one_error_line(&run(
        env.cmd(&["relay", "tcp:127.0.0.1:0", "hvsock:a:nosuch"]),
        b"",
    ));
    assert!(err.contains("unknown service"), "{err}");
}

#[test]
fn help_teaches_with_examples() {
    let env = Env::new();
    for (cmd, needle) in [
        ("listen", "--keep-open --exec cat"),
        ("connect", "hvsock connect parent:vsock:5000"),
        (
            "relay",
            "hvsock relay tcp:127.0.0.1:2222 hvsock:myvm:vsock:22",
        ),
    ] {
        let help = env.ok(&[cmd, "--help"]);
        assert!(help.contains("Examples:"), "{cmd}: {help}");
        assert!(help.contains(needle), "{cmd}: {help}");
        assert!(help.contains("VM:SERVICE"), "{cmd}: {help}");
    }
}

/// `--config-dir` is the config of every step (names, the partition, the listener) and
/// the `HVSOCK_CONFIG_DIR` of an `--exec` command, whatever the environment says.
#[test]
fn the_config_dir_flag_wins_over_the_environment_everywhere() {
    let env = Env::new();
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let cfg = env.cfg.to_str().unwrap().to_string();
    let with_flag = |args: &[&str]| {
        let mut c = env.cmd(&[&["--config-dir", cfg.as_str()][..], args].concat());
        c.env("HVSOCK_CONFIG_DIR", &elsewhere);
        c
    };
    let listen = with_flag(&listen_sh(
        "any:echo",
        &[],
        "printf %s \"$HVSOCK_CONFIG_DIR\"",
    ));
    let (bg, _) = Bg::start(listen, None, "listening on");
    let mut connect = with_flag(&["connect", "parent:echo"]);
    connect.env("HVSOCK_PARTITION", "a");
    let out = run(connect, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), cfg);
    let (st, _) = bg.finish();
    assert!(st.success(), "{st:?}");
    // Without the flag the environment's (empty) config dir is used: no partition a.
    let mut connect = env.cmd(&["connect", "parent:echo"]);
    connect
        .env("HVSOCK_CONFIG_DIR", &elsewhere)
        .env("HVSOCK_PARTITION", "a");
    let err = one_error_line(&run(connect, b""));
    assert!(err.contains("echo") || err.contains("\"a\""), "{err}");
}
