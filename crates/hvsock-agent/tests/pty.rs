//! PTY sessions driven by the test: window size, resize, Ctrl-C, login shell, raw mode.
// The agent (the server these tests drive) is Unix-only.
#![cfg(unix)]

mod common;

use common::*;
use hvsock_agent::client::{self, Control, Session};
use hvsock_agent::proto::{ExecRequest, ExitStatus, ShellRequest, WindowSize};
use hvsock_agent::{AgentOptions, ClientError};
use std::os::fd::AsFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

struct Tty {
    input: DuplexStream,
    output: DuplexStream,
    ctl: mpsc::Sender<Control>,
    seen: Vec<u8>,
    session: JoinHandle<Result<ExitStatus, ClientError>>,
}

impl Tty {
    /// `argv` on a PTY of `rows` x `cols` ([`tty_req`]).
    async fn exec(agent: &TestAgent, argv: &[&str], rows: u16, cols: u16) -> Tty {
        Tty::start(agent, tty_req(argv, rows, cols)).await
    }

    async fn start(agent: &TestAgent, session: Session) -> Tty {
        let (input, in_r) = tokio::io::duplex(4096);
        let (out_w, output) = tokio::io::duplex(4096);
        let (ctl, ctl_rx) = mpsc::channel(8);
        let stream = agent.connect().await;
        let session = tokio::spawn(async move {
            client::run_session(stream, session, in_r, out_w, tokio::io::sink(), ctl_rx).await
        });
        Tty {
            input,
            output,
            ctl,
            seen: Vec::new(),
            session,
        }
    }

    /// Reads output until `pat` appears after everything consumed so far; returns the
    /// text up to and including it.
    async fn expect(&mut self, pat: &str) -> String {
        expect_text(&mut self.output, &mut self.seen, pat, "output ended").await
    }

    async fn send(&mut self, s: &str) {
        self.input.write_all(s.as_bytes()).await.unwrap();
    }

    async fn finish(self) -> ExitStatus {
        let Tty {
            output, session, ..
        } = self;
        // Keep draining output so the session can end.
        let drain = tokio::spawn(async move {
            let mut o = output;
            let mut v = Vec::new();
            let _ = o.read_to_end(&mut v).await;
        });
        let st = session.await.unwrap().unwrap();
        drain.await.unwrap();
        st
    }
}

fn tty_req(argv: &[&str], rows: u16, cols: u16) -> Session {
    Session::Exec(ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        tty: true,
        window: WindowSize { rows, cols },
        ..Default::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stty_size_sees_window_and_resize() {
    let agent = start_agent(AgentOptions::default());
    // Initial size, and stdout/stderr both on the terminal.
    let mut t = Tty::exec(&agent, &["sh", "-c", "stty size; tty; echo e >&2"], 31, 101).await;
    t.expect("31 101\r\n").await;
    t.expect("/dev/pts/").await;
    t.expect("e\r\n").await;
    assert_eq!(t.finish().await, ExitStatus::Code(0));

    // A resize while it runs is seen by the next `stty size`.
    let mut t = Tty::exec(&agent, &["sh"], 24, 80).await;
    t.send("stty size; echo A$((40+2))\n").await;
    t.expect("24 80\r\nA42").await;
    t.ctl
        .send(Control::Resize(WindowSize {
            rows: 50,
            cols: 132,
        }))
        .await
        .unwrap();
    // The resize and the next line travel on separate local channels: repeat the
    // query until it reflects the new size (normally the first answer does).
    let mut ok = false;
    for i in 0..50 {
        t.send(&format!("stty size; echo B$(({i}+1000))\n")).await;
        let out = t.expect(&format!("B{}", i + 1000)).await;
        if out.contains("50 132\r\n") {
            ok = true;
            break;
        }
    }
    assert!(ok, "resize never seen");
    t.send("exit 5\n").await;
    assert_eq!(t.finish().await, ExitStatus::Code(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_byte_interrupts_sleep() {
    let agent = start_agent(AgentOptions::default());
    let mut t = Tty::exec(&agent, &["sh", "-c", "echo ready; exec sleep 100"], 24, 80).await;
    t.expect("ready\r\n").await;
    // The terminal's line discipline turns ^C into SIGINT for the foreground group.
    // A ^C typed in the instant between `echo` and `exec` can be swallowed by the shell
    // (as on any terminal), so type it again until `sleep` is gone.
    let Tty {
        mut input,
        output,
        mut session,
        ..
    } = t;
    let drain = tokio::spawn(async move {
        let mut o = output;
        let mut v = Vec::new();
        let _ = o.read_to_end(&mut v).await;
    });
    let st = loop {
        input.write_all(b"\x03").await.unwrap();
        if let Ok(r) =
            tokio::time::timeout(std::time::Duration::from_millis(300), &mut session).await
        {
            break r.unwrap().unwrap();
        }
    };
    drain.await.unwrap();
    assert_eq!(st, ExitStatus::Signal(libc::SIGINT));
    assert_eq!(st.to_exit_code(), 130);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_interactive_shell_keeps_shell() {
    let agent = start_agent(AgentOptions::default());
    let mut t = Tty::exec(&agent, &["bash", "--norc", "--noprofile", "-i"], 24, 80).await;
    t.send("PS1=P$((1+1))-; echo sh-up\n").await;
    t.expect("P2-").await;
    // The job announces itself once it is the terminal's foreground process group.
    t.send("bash -c 'echo rea\"\"dy; sleep 100'; echo after-sleep-$((1+1))\n")
        .await;
    t.expect("ready\r\n").await;
    t.send("\x03").await;
    t.send("echo alive-$((3+4))\n").await;
    let out = t.expect("alive-7").await;
    assert!(out.contains("^C"), "{out}");
    // The interrupted job's list was abandoned, the shell survived.
    assert!(!out.contains("after-sleep-2"), "{out}");
    t.send("exit\n").await;
    assert_eq!(t.finish().await, ExitStatus::Code(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_shell_session() {
    let agent = start_agent(AgentOptions::default());
    let mut t = Tty::start(
        &agent,
        Session::Shell(ShellRequest {
            term: Some("xterm-hvsock-test".into()),
            env: vec![("HVSOCK_SHELL_T".into(), "yes".into())],
            window: WindowSize {
                rows: 40,
                cols: 120,
            },
        }),
    )
    .await;
    t.send("echo \"[$TERM|$HVSOCK_SHELL_T|$(stty size)|$((6*7))]\"; echo \"login:$0\"\n")
        .await;
    t.expect("[xterm-hvsock-test|yes|40 120|42]").await;
    // argv[0] starts with '-': a login shell.
    t.expect("login:-").await;
    t.send("exit 7\n").await;
    assert_eq!(t.finish().await, ExitStatus::Code(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_eof_on_tty_ends_cat() {
    let agent = start_agent(AgentOptions::default());
    let mut t = Tty::exec(&agent, &["cat"], 24, 80).await;
    t.send("line one\n").await;
    t.expect("line one\r\nline one\r\n").await; // echo + cat's output
    let Tty {
        input,
        output,
        session,
        ..
    } = t;
    drop(input); // StdinEof → ^D on the terminal
    let mut o = output;
    let mut v = Vec::new();
    o.read_to_end(&mut v).await.unwrap();
    assert_eq!(session.await.unwrap().unwrap(), ExitStatus::Code(0));
}

#[test]
fn raw_mode_is_restored() {
    let (master, slave) = hvsock_agent::sys::open_pty(WindowSize { rows: 10, cols: 20 }).unwrap();
    assert!(hvsock_agent::sys::is_terminal(slave.as_fd()));
    assert_eq!(
        hvsock_agent::sys::window_size(slave.as_fd()),
        Some(WindowSize { rows: 10, cols: 20 })
    );
    assert!(!hvsock_agent::sys::is_raw(slave.as_fd()).unwrap());
    {
        let _g = hvsock_agent::sys::RawMode::enter(slave.as_fd()).unwrap();
        assert!(hvsock_agent::sys::is_raw(slave.as_fd()).unwrap());
    }
    assert!(!hvsock_agent::sys::is_raw(slave.as_fd()).unwrap());
    hvsock_agent::sys::set_window_size(master.as_fd(), WindowSize { rows: 5, cols: 6 }).unwrap();
    assert_eq!(
        hvsock_agent::sys::window_size(slave.as_fd()),
        Some(WindowSize { rows: 5, cols: 6 })
    );
}
