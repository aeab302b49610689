//! Step: the CLI over this backend, which loses half-closes (the VM is added with the
//! default `--half-close lost`): what `connect` and `listen` do by default (`auto`: no
//! half-close sent), next to `--half-close always` (what they did before: the backend
//! turns it into a full close). Each case prints a `HALFCLOSE` line with both outputs.

use super::*;
use std::io::BufRead;
use std::sync::mpsc;

/// `hvsock ARGS` on the host with `input` on stdin, killed after `limit`; (stdout,
/// stderr).
fn cli_run(env: &Env, args: &[&str], input: &[u8], limit: Duration) -> (String, String) {
    let mut c = env.cli();
    c.args(args);
    let out = hvsock_testkit::proc::run(c, input, limit);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `echo x | hvsock connect testvm:echo` (the guest's `listen --exec cat`): answered.
fn connect_echo(env: &Env) {
    let name = format!("{VM_NAME}:echo");
    let limit = Duration::from_secs(60);
    let (after, err) = cli_run(
        env,
        &["connect", &name, "--idle-timeout", "3s"],
        b"x\n",
        limit,
    );
    assert_eq!(after, "x\n", "stderr: {err}");
    assert_eq!(err, "");
    let (before, err) = cli_run(
        env,
        &["connect", &name, "--half-close", "always"],
        b"x\n",
        limit,
    );
    assert!(err.contains("cannot carry a half-close"), "{err}");
    eprintln!(
        "HALFCLOSE echo x | connect {name}: before (always) {before:?}, after (auto) {after:?}"
    );
}

/// `hvsock listen </dev/null` on the host while the guest sends a line 2 s after it
/// connected: received.
fn listen_empty_stdin(env: &Env) {
    let mut got = Vec::new();
    for mode in ["auto", "always"] {
        let mut c = env.cli();
        c.args([
            "listen",
            &format!("{VM_NAME}:back"),
            "-v",
            "--half-close",
            mode,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        hvsock_testkit::proc::wait_line(&rx, "listening on", Duration::from_secs(30))
            .expect("host listener up");
        // The guest closes by itself 2 s after its stdin ended (its own idle timeout).
        let out = env.guest(&format!(
            "(sleep 2; echo from-the-guest) | timeout 60 hvsock connect parent:vsock:{} \
             --idle-timeout 2s; echo status=$?",
            BACK.port()
        ));
        let mut stdout = child.stdout.take().unwrap();
        let mut text = String::new();
        let st = hvsock_testkit::proc::wait_limit(&mut child, Duration::from_secs(60));
        stdout.read_to_string(&mut text).unwrap();
        assert!(st.success(), "{st}; guest: {out:?}");
        got.push(text);
    }
    assert_eq!(got[0], "from-the-guest\n");
    eprintln!(
        "HALFCLOSE hvsock listen {VM_NAME}:back </dev/null: before (always) {:?}, after (auto) {:?}",
        got[1], got[0]
    );
}

/// `cat file | hvsock connect testvm:sha` (the guest's `listen --exec sha256sum`): no
/// answer can come over this backend; hvsock says why instead of losing the connection.
fn connect_sha256sum(env: &Env) {
    let name = format!("{VM_NAME}:sha");
    let mut c = env.cli();
    c.args(["connect", &name]);
    let mut child = hvsock_testkit::proc::spawn_piped(c);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"some file\n")
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let said = hvsock_testkit::proc::wait_line(&rx, "its end is not sent", Duration::from_secs(30));
    thread::sleep(Duration::from_millis(500));
    let still_open = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    let said = said.expect("no message about the half-close");
    assert!(said.contains("sha256sum"), "{said}");
    assert!(
        still_open,
        "hvsock connect ended: the guest may still answer"
    );
    let (before, err) = cli_run(
        env,
        &["connect", &name, "--half-close", "always"],
        b"some file\n",
        Duration::from_secs(60),
    );
    assert!(
        !before.contains("  -"),
        "a digest arrived over this backend: {before:?} {err}"
    );
    eprintln!(
        "HALFCLOSE cat file | connect {name}: before (always) {before:?}, after (auto) stderr {said:?}"
    );
}

/// The four cases of the CLI on a VMM that loses half-closes (the fourth, a transport
/// that carries it, is `nested_vm`'s `sha256sum` over kernel vhost-vsock).
pub(super) fn cli_on_a_vmm_that_loses_half_close(env: &Env) {
    let _sha = env.guest_listen(SHA, Some("sha256sum"));
    connect_echo(env);
    listen_empty_stdin(env);
    connect_sha256sum(env);
}
