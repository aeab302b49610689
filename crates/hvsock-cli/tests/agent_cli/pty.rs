//! PTY sessions (`hvsock shell`, `exec --tty`) driven through a private tmux server.

use super::*;

/// A private tmux server (its own socket) with one session running a command.
struct Tmux {
    sock: PathBuf,
    env: Vec<(String, PathBuf)>,
}

impl Tmux {
    fn start(env: &Env, command: &str) -> Tmux {
        let t = Tmux {
            sock: env.path("tmux.sock"),
            env: vec![
                ("HVSOCK_CONFIG_DIR".into(), env.cfg.clone()),
                ("HVSOCK_RUNTIME_DIR".into(), env.run.clone()),
            ],
        };
        let st = t
            .cmd(&[
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "100",
                "-y",
                "30",
                command,
            ])
            .status()
            .expect("tmux is needed for the PTY tests (scripts/test installs it)");
        assert!(st.success());
        t
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.sock).arg("-f").arg("/dev/null");
        c.args(args)
            .env("SHELL", "/bin/sh")
            .env("TERM", "xterm")
            .env_remove("TMUX")
            .env_remove("HVSOCK_PARTITION")
            .env_remove("HVSOCK_GUEST");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status().unwrap().success());
    }

    /// Types `line` and Enter.
    fn line(&self, line: &str) {
        self.send(&["-l", line]);
        self.send(&["Enter"]);
    }

    fn capture(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-J", "-t", "t", "-S", "-200"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the pane shows `pat`; returns the pane.
    fn expect(&self, pat: &str) -> String {
        let start = Instant::now();
        loop {
            let pane = self.capture();
            if pane.contains(pat) {
                return pane;
            }
            assert!(
                start.elapsed() < LIMIT,
                "pane never showed {pat:?}:\n{pane}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// "ROWS COLS" of the pane, as `stty size` prints it.
    fn size(&self) -> String {
        let out = self
            .cmd(&[
                "display-message",
                "-p",
                "-t",
                "t",
                "#{pane_height} #{pane_width}",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

/// `hvsock shell --user U` against a password agent, on a terminal: the no-echo prompt
/// comes before the session (nothing typed for it reaches the shell), Enter ends it
/// although the terminal is raw by then, and the shell is the user's login shell.
#[test]
fn a_password_prompt_on_the_terminal_then_the_users_shell() {
    let Some((env, tu, password)) =
        super::auth::password_agent("a_password_prompt_on_the_terminal")
    else {
        return;
    };
    let t = Tmux::start(
        &env,
        &format!("{BIN} shell vm1 --user {}; echo RC=$?; sleep 60", tu.name),
    );
    t.expect("password");
    t.line(&password);
    t.line("echo \"[$(id -un)|$0|$HOME]\"; exit 3");
    let pane = t.expect("RC=3");
    assert!(
        pane.contains(&format!("[{}|-bash|/home/{}]", tu.name, tu.name)),
        "{pane}"
    );
    // No echo: the password never showed.
    assert!(!pane.contains(&password), "{pane}");
}

#[test]
fn shell_session_on_a_pty_through_tmux() {
    let env = Env::with_agent(&[]);
    let t = Tmux::start(
        &env,
        &format!("{BIN} shell vm1; echo RC=$?; stty -a; sleep 60"),
    );
    // The remote login shell prints its prompt: from then on our terminal is raw.
    let start = Instant::now();
    while t.capture().trim().is_empty() {
        assert!(start.elapsed() < LIMIT, "no prompt from the remote shell");
        thread::sleep(Duration::from_millis(20));
    }
    // A command and its output; the remote terminal has our window's size.
    t.line("PS1='R$ '; echo $0; stty size; echo A$((40+2))");
    let pane = t.expect("A42");
    let size = t.size();
    assert!(pane.contains(&format!("\n{size}\n")), "{size}:\n{pane}");
    assert!(pane.contains("\n-"), "not a login shell:\n{pane}");

    // A resize reaches the remote terminal (SIGWINCH -> Resize).
    assert!(
        t.cmd(&["resize-window", "-t", "t", "-x", "120", "-y", "40"])
            .status()
            .unwrap()
            .success()
    );
    let size2 = t.size();
    assert_ne!(size, size2);
    let mut seen = false;
    for i in 0..100 {
        t.line(&format!("stty size; echo B$(({i}+1000))"));
        let pane = t.expect(&format!("B{}", i + 1000));
        if pane.contains(&format!("\n{size2}\nB{}", i + 1000)) {
            seen = true;
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    assert!(seen, "the remote terminal never saw {size2}");

    // Ctrl-C interrupts the remote foreground job, the shell stays.
    t.line("sh -c 'echo rea\"\"dy; sleep 100'; echo after-$((1+1))");
    t.expect("ready");
    t.send(&["C-c"]);
    t.line("echo alive-$((3+4))");
    let pane = t.expect("alive-7");
    assert!(!pane.contains("after-2"), "{pane}");

    // The exit code comes back and the terminal is cooked again.
    t.line("exit 3");
    let pane = t.expect("RC=3");
    let pane = if pane.contains("icanon") {
        pane
    } else {
        t.expect("icanon")
    };
    let after = &pane[pane.find("RC=3").unwrap()..];
    let words: Vec<&str> = after.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig"] {
        assert!(
            words.contains(&flag) && !words.contains(&format!("-{flag}").as_str()),
            "terminal not restored ({flag}):\n{after}"
        );
    }
}

#[test]
fn exec_tty_runs_on_a_pty_of_the_window_size() {
    let env = Env::with_agent(&[]);
    let t = Tmux::start(
        &env,
        &format!(
            "{BIN} exec --tty vm1 -- sh -c 'tty; stty size; read x; echo got-$x; exit 4'; \
             echo RC=$?; sleep 60"
        ),
    );
    let pane = t.expect("/dev/pts/");
    let size = t.size();
    let pane = if pane.contains(&size) {
        pane
    } else {
        t.expect(&size)
    };
    assert!(pane.contains(&size), "{pane}");
    t.line("hello");
    t.expect("got-hello");
    t.expect("RC=4");
}
